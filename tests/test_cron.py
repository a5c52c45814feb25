"""What cron sees of `tracer refresh`: one line per record, reports replaced whole, the lock.

Each fault case is recorded in the fault table printed at the end of the run.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import filelock
import pytest

from tests.corpora import ORIGIN_CORPUS_ID, add_brainwash, add_citers, sync_counts, use_catalog
from tests.fakeapi.corpus import openalex_work, s2_paper
from tests.fakeapi.server import FakeApi
from tests.fault_table import record
from tests.helpers import Run, run_cli
from tracer.config import load_settings
from tracer.errors import ExitCode

FORGED = "FAKE: new flagged institution: Evil Corp"
HOSTILE_TITLE = f"Crowds in the wild\n{FORGED}\r\x1b]0;owned\x07\x1b[2J\x85\u2028end"


@pytest.fixture
def world(tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-test-key")
    add_brainwash(fake_api.corpus)
    return tmp_path / "reports"


def origin_of(api: FakeApi) -> str:
    origin = api.corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    return origin


def add_hostile_citer(api: FakeApi) -> None:
    doi = "10.5555/hostile.1"
    pid = api.corpus.add_s2_paper(
        s2_paper(9001, title=HOSTILE_TITLE, year=2021, externalIds={"DOI": doi})
    )
    api.corpus.add_s2_citation(origin_of(api), pid, contexts=["See [3]."], intents=[])
    api.corpus.add_openalex_work(
        openalex_work(9001, doi=doi, title=HOSTILE_TITLE, publication_year=2021)
    )
    sync_counts(api.corpus)


def report_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def outcome(result: Run) -> str:
    line = (result.err.strip().splitlines() or ["-"])[-1]
    return f"exit {result.code}: {line[:40]}"


def test_new_paper_lines_carry_level_year_institution_and_flags(world: Path) -> None:
    result = run_cli("refresh", "brainwash", "--out", str(world), "--quiet")
    assert result.code == 0, result.err
    rows = [line.split("  ") for line in result.out.splitlines()]
    used = [r for r in rows if r[-1] == "Head detection in dense crowds"]
    assert len(used) == 1
    kind, key, level, year, institution, _ = used[0]
    assert (kind, key, level, year) == ("NEW", "brainwash", "used", "2018")
    assert institution.startswith("National University of Defense Technology (CN, military;")
    assert "Entity List" in institution
    assert all(r[0] == "NEW" and r[1] == "brainwash" for r in rows)


def test_a_newline_or_escape_in_a_title_cannot_forge_a_line(
    world: Path, fake_api: FakeApi
) -> None:
    add_hostile_citer(fake_api)
    result = run_cli("refresh", "brainwash", "--out", str(world), "--quiet")
    lines = result.out.splitlines()
    forged = [ln for ln in lines if not ln.startswith("NEW  brainwash  ")]
    record("abuse", "newline and ESC in a title, cron lines", "refresh", outcome(result), result.code)
    assert result.code == 0, result.err
    assert forged == []
    assert not any(ch in result.out for ch in "\x1b\x07\r\x85\u2028")
    hostile = [ln for ln in lines if "Crowds in the wild" in ln]
    assert len(hostile) == 1
    assert hostile[0].endswith(f"Crowds in the wild {FORGED} ]0;owned [2J end")


def test_a_failure_is_one_line_with_its_step_and_source(world: Path, fake_api: FakeApi) -> None:
    assert run_cli("refresh", "brainwash", "--out", str(world), "--quiet").code == 0
    add_citers(fake_api.corpus, origin_of(fake_api), 1)
    fake_api.inject(r"^/graph/v1/paper/.*/citations", times=None, status=503)
    result = run_cli("refresh", "brainwash", "--out", str(world), "--quiet")
    record("faults", "S2 citations 503, cron failure line", "refresh", outcome(result), result.code)
    assert result.code == ExitCode.PARTIAL
    failed = [ln.split("  ") for ln in result.err.splitlines() if ln.startswith("FAILED")]
    assert failed, result.err
    assert all(len("  ".join(f)) < 400 for f in failed)
    assert ["FAILED", "brainwash", "s2"] == failed[0][:3]
    assert failed[0][3].startswith("citations of ")
    assert "Traceback" not in result.err


def test_a_directory_link_in_the_output_folder_is_not_followed(world: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    precious = outside / "brainwash.html"
    precious.write_text("not a report", encoding="utf-8")
    world.mkdir()
    (world / "brainwash").symlink_to(outside, target_is_directory=True)
    result = run_cli("refresh", "brainwash", "--out", str(world), "--quiet")
    record("abuse", "refresh --out, planted dir symlink", "refresh", outcome(result), result.code)
    assert precious.read_text(encoding="utf-8") == "not a report"
    assert sorted(p.name for p in outside.iterdir()) == ["brainwash.html"]
    assert result.code == ExitCode.PARTIAL
    assert "symbolic link" in result.err and "Traceback" not in result.err
    assert "Head detection in dense crowds" in result.out  # what is new is still said


def test_a_full_disk_while_reports_are_written_keeps_the_old_set_whole(
    world: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("refresh", "brainwash", "--out", str(world), "--quiet").code == 0
    folder = world / "brainwash"
    before = report_files(folder)
    add_citers(fake_api.corpus, origin_of(fake_api), 2)
    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] >= 3:  # the disk fills up after two report files
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    result = run_cli("refresh", "brainwash", "--out", str(world), "--quiet")
    monkeypatch.setattr(os, "fsync", real_fsync)
    record("faults", "disk full while writing reports", "refresh", outcome(result), result.code)
    assert result.code == ExitCode.PARTIAL, result.err
    assert "No space left on device" in result.err and "Traceback" not in result.err
    assert report_files(folder) == before  # the old set, whole: no new CSV beside an old HTML
    assert not [p for p in world.iterdir() if p.name.startswith(".")]
    titles = [line.split("  ")[-1] for line in result.out.splitlines()]
    assert {"Citing paper number 1000", "Citing paper number 1001"} <= set(titles)
    again = run_cli("refresh", "brainwash", "--out", str(world), "--quiet", "--full")
    assert again.code == 0, again.err
    assert "Citing paper number 1000" in (folder / "brainwash.csv").read_text(encoding="utf-8")


def test_two_databases_in_one_data_folder_do_not_share_a_lock(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACER_DB", str(tmp_path / "data" / "one.db"))
    held = filelock.FileLock(str(load_settings().lock_path), timeout=0)
    monkeypatch.setenv("TRACER_DB", str(tmp_path / "data" / "two.db"))
    with held:
        result = run_cli("refresh", "brainwash", "--quiet")
    record("faults", "lock: two dbs, one data folder", "refresh", outcome(result), result.code)
    assert result.code == 0, result.err


def test_one_database_from_two_data_folders_shares_its_lock(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "shared.db"
    link = tmp_path / "elsewhere" / "link.db"
    link.parent.mkdir()
    link.symlink_to(db)
    monkeypatch.setenv("TRACER_DB", str(db))
    monkeypatch.setenv("TRACER_DATA_DIR", str(tmp_path / "data-a"))
    held = filelock.FileLock(str(load_settings().lock_path), timeout=0)
    monkeypatch.setenv("TRACER_DATA_DIR", str(tmp_path / "data-b"))
    monkeypatch.setenv("TRACER_DB", str(link))
    with held:
        result = run_cli("refresh", "brainwash", "--quiet")
    record("faults", "lock: one db, two data folders", "refresh", outcome(result), result.code)
    assert result.code == ExitCode.LOCKED, result.err
    assert "lock" in result.err


def test_the_index_is_a_dashboard_of_every_dataset(world: Path, fake_api: FakeApi) -> None:
    add_hostile_citer(fake_api)
    assert run_cli("refresh", "brainwash", "--out", str(world), "--quiet").code == 0
    page = (world / "index.html").read_text(encoding="utf-8")
    assert "<style>" in page and 'name="viewport"' in page
    assert "Brainwash" in page and "National University of Defense Technology" in page
    assert 'href="brainwash/brainwash.html"' in page and 'href="brainwash/brainwash.csv"' in page
    assert ">ok<" in page  # the last run's status
    assert "\x1b" not in page and "<script" not in page
    # A later refresh of another dataset keeps brainwash on the page.
    assert run_cli("refresh", "nowhere", "--out", str(world), "--quiet").code in (0, 3, 5)
    page = (world / "index.html").read_text(encoding="utf-8")
    assert "Brainwash" in page


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium package")
def test_the_dashboard_fits_a_narrow_window(world: Path, tmp_path: Path) -> None:
    """At the narrowest window headless Chromium opens (500 px; it will not go to 390) the page
    is no wider than the window: the table scrolls inside its own box."""
    import re
    import subprocess

    assert run_cli("refresh", "brainwash", "--out", str(world), "--quiet").code == 0
    page = (world / "index.html").read_text(encoding="utf-8")
    probe = (
        '<script>addEventListener("load",()=>{const s=document.querySelector(".scroll");'
        'document.body.dataset.w=[document.documentElement.scrollWidth,innerWidth,'
        's.scrollWidth>s.clientWidth].join(" ")})</script>'
    )
    measured = tmp_path / "probe.html"
    measured.write_text(page.replace("</body>", probe + "</body>"), encoding="utf-8")
    dom = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=390,800",
            "--dump-dom",
            measured.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    ).stdout
    found = re.search(r'data-w="(\d+) (\d+) (\w+)"', dom)
    assert found, dom[-500:]
    scroll_width, viewport, table_scrolls = found.groups()
    assert int(scroll_width) == int(viewport)
    assert table_scrolls == "true"
