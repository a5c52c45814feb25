"""API keys never leave the request: not in the database, the cache, logs, exports, messages or
--json output; the config file that holds them is private (0600).

A test sets distinctive keys, runs every command that writes something with DEBUG logging on
(urllib3 logs whole URLs, and the OpenAlex key is a URL parameter), then reads every file under
its folder, byte by byte, and everything printed.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.corpora import add_brainwash, use_catalog
from tests.fakeapi.server import FakeApi
from tests.fault_table import record
from tests.helpers import Run, run_cli
from tracer.errors import ExitCode

S2_KEY = "s2KEY-7f3a9c1e5b2d4086"
OA_KEY = "oaKEY-2d8e4b6a0c9f1735"
KEYS = (S2_KEY, OA_KEY)


@pytest.fixture
def world(tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("S2_API_KEY", S2_KEY)
    monkeypatch.setenv("OPENALEX_API_KEY", OA_KEY)
    fake_api.require_s2_key = S2_KEY
    fake_api.require_openalex_key = OA_KEY
    add_brainwash(fake_api.corpus)
    handler = logging.FileHandler(tmp_path / "debug.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield tmp_path
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


def leaks(folder: Path, *, skip: tuple[Path, ...] = ()) -> list[str]:
    """Files under `folder` that hold a key (as bytes, whatever the file is)."""
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path in skip:
            continue
        data = path.read_bytes()
        for key in KEYS:
            if key.encode() in data or key.encode("utf-16-le") in data:
                found.append(f"{path.relative_to(folder)} holds {key[:5]}...")
    return found


def clean(result: Run, what: str) -> None:
    for key in KEYS:
        assert key not in result.out, f"{what}: key on stdout"
        assert key not in result.err, f"{what}: key on stderr"
    assert "Traceback" not in result.err


def test_keys_stay_out_of_everything_written(world: Path, fake_api: FakeApi) -> None:
    steps: list[tuple[str, ...]] = [
        ("scan", "brainwash"),
        ("scan", "brainwash", "--json", "--full"),
    ]
    out = world / "out"
    out.mkdir(exist_ok=True)  # -o never creates folders
    for fmt, suffix in (
        ("terminal", "txt"),
        ("json", "json"),
        ("md", "md"),
        ("csv", "csv"),
        ("html", "html"),
    ):
        steps.append(("report", "brainwash", "--format", fmt, "-o", str(out / f"r.{suffix}")))
        steps.append(("report", "brainwash", "--format", fmt))
    for what in ("articles", "authors", "institutions", "countries"):
        for fmt in ("csv", "json"):
            steps.append(
                (
                    "export",
                    "brainwash",
                    "--what",
                    what,
                    "--format",
                    fmt,
                    "-o",
                    str(out / f"{what}.{fmt}"),
                )
            )
    steps.append(("export", "brainwash", "--format", "bibtex", "-o", str(out / "a.bib")))
    steps.append(("graph", "brainwash", "-o", str(out / "g.graphml")))
    steps.append(("graph", "brainwash", "-o", str(out / "g.gexf")))
    steps.append(
        (
            "refresh",
            "brainwash",
            "--full",
            "--out",
            str(out / "nightly"),
            "--log",
            str(world / "refresh.log"),
            "--formats",
            "csv,json,html,md,terminal",
        )
    )
    steps.append(("refresh", "brainwash", "--json", "--mentions-every", "0"))
    for step in steps:
        result = run_cli(*step)
        assert result.code == 0, (step, result.err)
        clean(result, " ".join(step))
        assert leaks(world) == [], step  # after each step: WAL files come and go
    # Logging really was on, and it does log the URLs that carry the OpenAlex key.
    assert "api_key=REDACTED" in (world / "debug.log").read_text(encoding="utf-8")
    assert (world / "refresh.log").stat().st_size > 0
    assert any((world / "data").rglob("http-cache*"))  # and the cache was written
    written = sum(1 for p in world.rglob("*") if p.is_file())
    record("secrets", f"{len(steps)} commands, {written} files grepped", "all", "no key found", 0)


def test_refused_key_is_not_repeated(world: Path, fake_api: FakeApi) -> None:
    fake_api.require_s2_key = "a-different-key"
    result = run_cli("scan", "brainwash", "--quiet")
    clean(result, "refused key")
    record("secrets", "key refused (403)", "scan", "message names no key", result.code)
    assert result.code == ExitCode.NETWORK, result.err
    assert "refused the API key" in result.err and "Hint:" in result.err
    assert leaks(world) == []


def test_config_file_is_private_and_show_masks(world: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    result = run_cli("config", "set", "s2_api_key", S2_KEY)
    assert result.code == 0, result.err
    clean(result, "config set")
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert S2_KEY in config.read_text(encoding="utf-8")  # where a key is meant to live
    result = run_cli("config", "set", "contact_email", "me@example.org")
    assert result.code == 0 and stat.S_IMODE(config.stat().st_mode) == 0o600
    shown = run_cli("config", "show")
    clean(shown, "config show")
    assert "s2_api_key = ****" in shown.out and S2_KEY[-4:] in shown.out
    assert "me@example.org" in shown.out
    as_json = run_cli("config", "show", "--json")
    clean(as_json, "config show --json")
    # A bad value for a key is reported without the value.
    bad = run_cli("config", "set", "nonsense_key", S2_KEY)
    clean(bad, "config set (bad name)")
    assert bad.code == ExitCode.USAGE
    assert leaks(world, skip=(config,)) == []
    record("secrets", "config file 0600, show masked", "config", "mode 0600", 0)
