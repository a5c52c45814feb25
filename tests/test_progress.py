"""Progress on stderr: one display per run, a row per stage, waits shown, a closing summary, and
what the run will not see said before it starts."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console

from tests.corpora import add_brainwash, use_catalog
from tests.fakeapi.server import FakeApi
from tests.helpers import run_cli
from tracer.cli.progress import RichProgress


def terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None)


def test_one_display_for_every_stage_with_aligned_rows_and_nothing_left_spinning() -> None:
    progress = RichProgress(terminal(), enabled=True)
    with progress.stage("Resolving origin papers", total=1):
        progress.advance()
    first = progress.display
    with progress.stage("OpenAlex authorships", total=2):
        progress.advance()  # the stage ends short: a source failed
    with progress.stage("Full-text mentions"):
        progress.advance(3)
    assert progress.display is first is not None
    tasks = first.tasks
    assert [t.fields["state"] for t in tasks] == ["done", "stopped", "done"]
    assert tasks[2].total == 3
    assert all(t.finished_time is not None or t.stop_time is not None for t in tasks)
    record = Console(record=True, width=120, file=io.StringIO(), color_system=None)
    record.print(first.make_tasks_table(tasks))
    rows = record.export_text().splitlines()
    assert rows[0].startswith("✓") and rows[1].startswith("–") and rows[2].startswith("✓")
    assert len({row.index("━") for row in rows}) == 1  # the bars start in one column
    progress.close()
    assert progress.display is None


def test_a_retry_wait_is_shown_on_the_stage_row_while_it_lasts() -> None:
    progress = RichProgress(terminal(), enabled=True)
    with progress.stage("Semantic Scholar citations", total=4):
        progress.waiting("S2", "429, waiting 8 s, attempt 2 of 6", 8.0)
        display = progress.display
        assert display is not None
        record = Console(record=True, width=160, file=io.StringIO(), color_system=None)
        record.print(display.make_tasks_table(display.tasks))
        assert "S2: 429, waiting 8 s, attempt 2 of 6" in record.export_text()
        progress.advance()  # the request came back: the note goes
        record = Console(record=True, width=160, file=io.StringIO(), color_system=None)
        record.print(display.make_tasks_table(display.tasks))
        assert "waiting" not in record.export_text()
    progress.close()


def test_a_wait_without_a_display_is_one_line_and_quiet_silences_it() -> None:
    plain = Console(file=io.StringIO(), force_terminal=False, width=80)
    RichProgress(plain, enabled=True).waiting("OpenAlex", "503, waiting 2 s\nattempt 2", 2)
    assert plain.file.getvalue() == "OpenAlex: 503, waiting 2 s attempt 2\n"  # type: ignore[attr-defined]
    silent = Console(file=io.StringIO(), force_terminal=False, width=80)
    RichProgress(silent, enabled=False).waiting("OpenAlex", "503", 2)
    assert silent.file.getvalue() == ""  # type: ignore[attr-defined]
    named = Console(file=io.StringIO(), force_terminal=False, width=80)
    RichProgress(named, enabled=True).waiting("S2", "S2: HTTP 429, waiting 8 s", 8)
    assert named.file.getvalue() == "S2: HTTP 429, waiting 8 s\n"  # type: ignore[attr-defined]


@pytest.fixture
def world(tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = use_catalog(tmp_path, monkeypatch)
    add_brainwash(fake_api.corpus)
    return db


def test_a_scan_says_what_it_will_not_see_first_and_ends_with_a_summary(world: Path) -> None:
    result = run_cli("scan", "brainwash")
    assert result.code == 0, result.err
    lines = result.err.strip().splitlines()
    assert lines[0].startswith("Note: No Semantic Scholar key (S2_API_KEY)")
    assert any(ln.startswith("Note: No OpenAlex key") for ln in lines[:3])
    assert any(ln.startswith("Note: No ROR gazetteer") for ln in lines[:3])
    conn = sqlite3.connect(world)
    total = conn.execute("SELECT count(*) FROM dataset_papers").fetchone()[0]
    used = conn.execute("SELECT count(*) FROM dataset_papers WHERE level = 'used'").fetchone()[0]
    conn.close()
    summary = lines[-1]
    assert summary.startswith(f"brainwash: {total} new papers, {total} in all ({used} used")
    assert "flagged institution" in summary and "Requests: " in summary
    assert summary.endswith("run ok.")
    again = run_cli("scan", "brainwash", "--quiet")
    assert again.err == ""  # --quiet: nothing on stderr, notes included


def test_refresh_puts_its_request_line_on_stderr(world: Path) -> None:
    result = run_cli("refresh", "brainwash")
    assert result.code == 0, result.err
    assert "Requests:" in result.err and "Requests:" not in result.out
    summary = result.err.strip().splitlines()[-1]
    assert summary.startswith("Refreshed 1 dataset: 1 changed, 4 new papers, 0 failed; Requests: ")


def test_many_stages_never_grow_the_display_past_the_terminal() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100, height=10)
    progress = RichProgress(console, enabled=True)
    for n in range(30):
        with progress.stage(f"stage {n}", total=1):
            progress.advance()
    display = progress.display
    assert display is not None
    visible = [t.description for t in display.tasks if t.visible]
    assert len(visible) == 8 and visible[-1] == "stage 29"
    progress.close()
