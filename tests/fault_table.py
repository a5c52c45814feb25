"""A pytest plugin that collects what the reliability tests tried and prints it as one table.

Tests call `record(...)` once per case (fault, command, outcome, exit code, data lost); at the
end of the session the table goes to the terminal summary, so CI logs show every fault tried and
that nothing stored before a fault was lost. `snapshot(db)` is what "lost" is measured against:
the papers, usage levels and affiliations of a database, without timestamps or run ids.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Outcome:
    group: str  # faults | interrupt | bad-input | secrets
    case: str
    command: str
    outcome: str  # "ok", "partial", "error: ...", ...
    exit_code: int
    lost: int  # rows stored before the case and gone after it
    traceback: bool = False  # a traceback reached the user
    leak: bool = False  # a key reached something written (stderr, a file, the cache, a log)

    @property
    def survived(self) -> bool:
        """No traceback, no leak, nothing lost, and not the tool's own failure (exit 1)."""
        return not (self.traceback or self.leak or self.lost or self.exit_code == 1)


OUTCOMES: list[Outcome] = []


def record(
    group: str,
    case: str,
    command: str,
    outcome: str,
    exit_code: int,
    lost: int = 0,
    *,
    traceback: bool = False,
    leak: bool = False,
) -> None:
    OUTCOMES.append(Outcome(group, case, command, outcome, exit_code, lost, traceback, leak))


@dataclass(frozen=True)
class Snapshot:
    papers: frozenset[tuple[Any, ...]]  # (title, year, doi)
    levels: frozenset[tuple[Any, ...]]  # (dataset, title, level)
    affiliations: frozenset[tuple[Any, ...]]  # (title, position, raw, institution, country)

    def rows(self) -> int:
        return len(self.papers) + len(self.levels) + len(self.affiliations)

    def lost_since(self, before: Snapshot) -> int:
        """Rows `before` held that this snapshot no longer holds (levels may change, so a
        paper's level counts as lost only when the paper is gone from the dataset)."""
        titles = {(d, t) for d, t, _ in self.levels}
        return (
            len(before.papers - self.papers)
            + sum(1 for d, t, _ in before.levels if (d, t) not in titles)
            + len(before.affiliations - self.affiliations)
        )


def snapshot(db: Path) -> Snapshot:
    """What a user would compare between two databases (no timestamps, ids or run numbers)."""
    if not db.exists():
        return Snapshot(frozenset(), frozenset(), frozenset())
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        papers = conn.execute("SELECT lower(title), year, doi FROM papers").fetchall()
        levels = conn.execute(
            "SELECT d.dataset, lower(p.title), d.level FROM dataset_papers d "
            "JOIN papers p ON p.id = d.paper_id"
        ).fetchall()
        affiliations = conn.execute(
            "SELECT lower(p.title), a.position, a.raw, a.institution_name, a.country "
            "FROM affiliations a JOIN papers p ON p.id = a.paper_id"
        ).fetchall()
    finally:
        conn.close()
    return Snapshot(frozenset(papers), frozenset(levels), frozenset(affiliations))


def integrity_ok(db: Path) -> bool:
    from tracer.store import Store

    with Store(db) as store:
        return store.integrity_ok()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not OUTCOMES:
        return
    tr = terminalreporter
    tr.section("reliability: faults tried, outcomes, data lost")
    widths = (10, 34, 9, 44, 5, 4)
    header = ("group", "case", "command", "outcome", "exit", "lost")
    tr.write_line("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for o in OUTCOMES:
        cells = (o.group, o.case, o.command, o.outcome, str(o.exit_code), str(o.lost))
        tr.write_line(
            "  ".join(c[:w].ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
        )
    lost = sum(o.lost for o in OUTCOMES)
    groups = sorted({o.group for o in OUTCOMES})
    tr.write_line(f"{len(OUTCOMES)} cases ({', '.join(groups)}); rows of stored data lost: {lost}")
    tr.write_line("")
    columns = ("class", "tried", "survived", "rows lost", "tracebacks", "leaks")
    tr.write_line("  ".join(c.ljust(10) for c in columns).rstrip())
    for group in groups:
        rows = [o for o in OUTCOMES if o.group == group]
        cells = (
            group,
            len(rows),
            sum(o.survived for o in rows),
            sum(o.lost for o in rows),
            sum(o.traceback for o in rows),
            sum(o.leak for o in rows),
        )
        tr.write_line("  ".join(str(c).ljust(10) for c in cells).rstrip())
