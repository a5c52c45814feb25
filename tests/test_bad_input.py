"""Bad local input: catalogs, databases, caches, output folders, full disks, option values.

Each case must end in one clear sentence on stderr ("Error: ..."), a way out where there is one
("Hint: ..."), the documented exit code, and never a traceback.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpora import add_brainwash, use_catalog
from tests.fakeapi.server import FakeApi
from tests.fault_table import integrity_ok, record, snapshot
from tests.helpers import Run, run_cli
from tracer.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def world(tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-bad-input-key")
    monkeypatch.setenv("TRACER_HTTP_RETRIES", "2")
    add_brainwash(fake_api.corpus)
    return db


@pytest.fixture
def scanned(world: Path) -> Path:
    result = run_cli("scan", "brainwash", "--quiet")
    assert result.code == 0, result.err
    return world


def expect(
    result: Run, code: int, *words: str, case: str, command: str, hint: bool = False
) -> None:
    first = next((line for line in result.err.splitlines() if line.strip()), "")
    record("bad-input", case, command, first[:60] or "(no message)", result.code)
    assert "Traceback" not in result.err and "Traceback" not in result.out, result.err
    assert result.code == code, result.err
    text = result.err.lower()
    for word in words:
        assert word.lower() in text, result.err
    if hint:
        assert "Hint:" in result.err, result.err


# -- catalog ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("version: 1\ndatasets:\n  - key: [unclosed\n", ("datasets.yaml:", "line 3")),
        ("version: 1\ndatasets: 7\n", ("datasets",)),
        ("just a string", ("mapping",)),
        ("version: 1\ndatasets:\n  - key: x\n    name: 5\n", ("datasets.yaml",)),
        ("\x00\x01 binary", ("datasets.yaml",)),
    ],
    ids=["unclosed bracket", "datasets not a list", "not a mapping", "wrong type", "binary"],
)
def test_malformed_catalog(world: Path, tmp_path: Path, text: str, words: tuple[str, ...]) -> None:
    (tmp_path / "datasets.yaml").write_text(text, encoding="utf-8")
    result = run_cli("scan", "brainwash")
    expect(result, ExitCode.USAGE, *words, case="malformed catalog", command="scan")


def test_catalog_missing_or_not_utf8(world: Path, tmp_path: Path) -> None:
    result = run_cli("scan", "brainwash", "--catalog", str(tmp_path / "nope.yaml"))
    expect(result, ExitCode.USAGE, "does not exist", case="catalog missing", command="scan")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("datasets: [caf\xe9]".encode("latin-1"))
    result = run_cli("datasets", "--catalog", str(latin))
    expect(result, ExitCode.USAGE, "latin.yaml", case="catalog not UTF-8", command="datasets")


def test_unknown_dataset(world: Path) -> None:
    result = run_cli("scan", "brainwsh")
    expect(result, ExitCode.NOT_FOUND, "brainwash", case="unknown dataset", command="scan")
    result = run_cli("report", "no-such-thing")
    expect(result, ExitCode.NOT_FOUND, case="unknown dataset", command="report")


# -- database and cache -----------------------------------------------------------------------


def test_corrupt_database(world: Path) -> None:
    world.write_bytes(b"this is not a database, but it is in its place " * 100)
    for command in (["scan", "brainwash"], ["report", "brainwash"]):
        result = run_cli(*command)
        expect(
            result,
            ExitCode.DATA,
            str(world),
            case="corrupt database",
            command=command[0],
            hint=True,
        )
    assert world.read_bytes().startswith(b"this is not a database")  # never overwritten


def test_database_is_a_folder(world: Path) -> None:
    world.mkdir()
    result = run_cli("scan", "brainwash")
    expect(result, ExitCode.DATA, case="database is a folder", command="scan")


def test_database_from_a_newer_tracer(scanned: Path) -> None:
    conn = sqlite3.connect(scanned)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2099-01-01')")
    conn.commit()
    conn.close()
    result = run_cli("report", "brainwash")
    expect(result, ExitCode.DATA, "newer", case="database of a newer tracer", command="report")


def test_corrupt_cache_has_a_way_out(world: Path, isolated_env: Path) -> None:
    cache = isolated_env / "http-cache.sqlite"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(b"\x00garbage, not SQLite\x00" * 500)
    result = run_cli("scan", "brainwash", "--quiet")
    expect(
        result, ExitCode.DATA, "cache clear", case="corrupt HTTP cache", command="scan", hint=True
    )
    cleared = run_cli("cache", "clear")
    assert cleared.code == 0 and "Deleted" in cleared.err
    assert not cache.exists()
    again = run_cli("scan", "brainwash", "--quiet")
    assert again.code == 0, again.err
    assert run_cli("cache", "clear", "--quiet").code == 0
    nothing = run_cli("cache", "clear")
    assert nothing.code == 0 and "no HTTP cache" in nothing.err


def test_unreadable_database(scanned: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    scanned.chmod(0)
    try:
        result = run_cli("report", "brainwash")
        expect(result, ExitCode.DATA, case="unreadable database", command="report")
    finally:
        scanned.chmod(0o600)


def test_corrupt_config_file(world: Path, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("s2_api_key = [unclosed\n", encoding="utf-8")
    result = run_cli("scan", "brainwash")
    expect(result, ExitCode.USAGE, "config.toml", case="corrupt config file", command="scan")
    (tmp_path / "config.toml").write_text('colour = "blue"\n', encoding="utf-8")
    result = run_cli("datasets")
    expect(result, ExitCode.USAGE, "colour", case="unknown config setting", command="datasets")


# -- outputs ----------------------------------------------------------------------------------


def test_output_folder_not_writable(scanned: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    for command in ("report", "export"):
        result = run_cli(command, "brainwash", "-o", str(blocker / "out.csv"))
        expect(result, ExitCode.DATA, "cannot write", case="output under a file", command=command)
    if os.geteuid() == 0:
        return  # root writes into read-only folders; the case above stands in for it
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        for command in ("report", "export"):
            result = run_cli(command, "brainwash", "-o", str(folder / "out.csv"))
            expect(result, ExitCode.DATA, "cannot write", case="read-only folder", command=command)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def _limited(size: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def run_limited(args: list[str], size: int, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run tracer in a subprocess that may not write files bigger than `size` bytes: to a
    writer this looks like a full disk (EFBIG; Python ignores SIGXFSZ)."""
    return subprocess.run(
        [sys.executable, "-m", "tracer", *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: _limited(size),  # noqa: PLW1509 - no threads in the child yet
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )


def test_full_disk_when_writing_a_report(scanned: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    whole = run_cli("report", "brainwash", "--format", "html")
    assert whole.code == 0 and len(whole.out) > 40_000  # so that the limit below cuts it
    # Opening the database maps a 32 KiB -shm file: allow that much, not a whole report.
    done = run_limited(["report", "brainwash", "-o", str(target)], 40_000)
    record("bad-input", "full disk: report -o", "report", done.stderr.strip()[:60], done.returncode)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == ExitCode.DATA, done.stderr
    assert done.stderr.startswith("Error: ")
    assert not target.exists()  # no half-written report
    assert [p.name for p in target.parent.iterdir()] == []  # and no temporary file left


def test_full_disk_on_stdout(scanned: Path) -> None:
    with open("/dev/full", "w") as full:  # every write to it fails with ENOSPC
        done = subprocess.run(
            [sys.executable, "-m", "tracer", "export", "brainwash"],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    record("bad-input", "full disk: stdout", "export", done.stderr.strip()[:60], done.returncode)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == ExitCode.DATA
    assert done.stderr.startswith("Error: Cannot write to standard output"), done.stderr


@pytest.mark.parametrize("cache", ["with cache", "without cache"])
def test_full_disk_during_a_scan(world: Path, monkeypatch: pytest.MonkeyPatch, cache: str) -> None:
    """Neither the HTTP cache nor the database can grow: the scan fails cleanly (it used to
    hang in the cache's lock loop) and what was stored stays."""
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    before = snapshot(world)
    assert world.stat().st_size > 40_000
    if cache == "without cache":
        monkeypatch.setenv("TRACER_NO_CACHE", "1")  # so that the database is what fails
    # Room for the 32 KiB -shm map, not for the write-ahead log of a whole rescan.
    done = run_limited(["scan", "brainwash", "--quiet", "--full"], 40_000)
    record(
        "bad-input",
        f"full disk: scan, {cache}",
        "scan",
        done.stderr.strip()[:60],
        done.returncode,
        snapshot(world).lost_since(before),
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == ExitCode.DATA, done.stderr
    assert done.stderr.startswith("Error: ") and "Hint:" in done.stderr
    assert integrity_ok(world)
    assert snapshot(world).lost_since(before) == 0


# -- option values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["scan", "brainwash", "--since", "abc"],
        ["scan", "brainwash", "--since", "1200"],
        ["scan"],
        ["scan", "brainwash", "--no-such-option"],
        ["report", "brainwash", "--format", "pdf"],
        ["report", "brainwash", "--min-usage", "loved"],
        ["export", "brainwash", "--what", "everything"],
        ["graph", "brainwash", "-o", "graph.png"],
        ["config", "set", "colour", "blue"],
        ["config", "set", "http_timeout", "-3"],
    ],
    ids=lambda a: " ".join(a),
)
def test_bad_option_values(scanned: Path, args: list[str]) -> None:
    result = run_cli(*args)
    expect(result, ExitCode.USAGE, case=f"bad option: {' '.join(args[1:])}", command=args[0])
    assert result.err.strip(), "a usage error says what is wrong"


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("TRACER_HTTP_TIMEOUT", "-1"),
        ("TRACER_HTTP_RETRIES", "many"),
        ("TRACER_S2_API_URL", "ftp:x"),
    ],
)
def test_bad_environment_values(
    world: Path, monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    result = run_cli("scan", "brainwash")
    expect(result, ExitCode.USAGE, var, case=f"bad ${var}", command="scan")
