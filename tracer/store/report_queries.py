"""The report's reads: every row one dataset's report is drawn from, paper by paper.

`report_rows(store, key)` reads the runs, coverage and sources at once and hands back a
`ReportRows`, whose `papers()` reads the papers in the report's order (year, then id), a chunk
at a time: each chunk's ids, authorships and affiliations in one query each. A report of
50,000 papers never holds every paper's rows; `tracer.report` turns them into the report model
and never touches SQL itself.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from tracer.errors import DataError

if TYPE_CHECKING:
    from tracer.store import Store


# Column orders of the tuples below (tracer.report unpacks them in this order): only the columns
# a report shows (no abstracts, no authorships' source JSON). An affiliation's `flags` stays the
# stored text; `flag_lists` decodes each distinct text once (most affiliations share a few).
PAPER_COLUMNS = (
    "id", "title", "year", "publication_date", "venue", "authors_truncated", "level", "score",
    "judged_evidence", "via_derivative", "missing_since_run",
)
AUTHOR_COLUMNS = ("position", "name", "s2_author_id", "openalex_author_id")
AFFILIATION_COLUMNS = (
    "raw", "institution_id", "institution_name", "parent_name", "country", "sector", "flags",
    "confidence", "method",
)


def _json(text: str | None, what: str, default: Any) -> Any:
    if text is None or text == "":
        return default
    try:
        return orjson.loads(text)
    except (ValueError, RecursionError):
        raise DataError(
            f"The database holds an unreadable {what} (not JSON).",
            hint="Run `tracer scan NAME --full` to rewrite it, or restore the database.",
        ) from None


def _tuples(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
    """Rows as plain tuples (no sqlite3.Row, no dict per row), straight from the cursor."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params)


CHUNK = 500  # papers read at a time: their ids, authorships and affiliations in one query each

PaperRows = tuple[
    tuple[Any, ...],  # the paper (PAPER_COLUMNS, its evidence decoded)
    dict[str, list[str]],  # kind -> values, sorted
    list[tuple[Any, ...]],  # authorships by position (AUTHOR_COLUMNS)
    dict[int, list[tuple[Any, ...]]],  # position -> affiliation rows (AFFILIATION_COLUMNS)
]


@dataclass
class ReportRows:
    """One dataset's report rows, read paper by paper (`papers()`, oldest first, as often as
    asked), and what the report needs beside them. Only a chunk of papers' rows is held at a
    time; affiliation rows that recur from paper to paper are one tuple each (`distinct`)."""

    store: Store
    dataset: str
    runs: list[dict[str, Any]]  # oldest first; requests and stats decoded
    coverage: list[dict[str, Any]]
    evidence_sources: set[str] = field(default_factory=set)
    flag_lists: dict[str | None, Any] = field(default_factory=dict)  # flags text -> decoded
    distinct: dict[tuple[Any, ...], tuple[Any, ...]] = field(default_factory=dict)

    def papers(self, chunk: int | None = None) -> Iterator[PaperRows]:
        conn: sqlite3.Connection = self.store.conn
        chunk = chunk or CHUNK
        cursor = _tuples(
            conn,
            "SELECT p.id, p.title, p.year, p.publication_date, p.venue, p.authors_truncated,"
            " d.level, d.score, d.evidence AS judged_evidence, d.via_derivative,"
            " d.missing_since_run FROM papers p JOIN dataset_papers d ON d.paper_id = p.id"
            " WHERE d.dataset = ? ORDER BY p.year, p.id",
            (self.dataset,),
        )
        while True:
            rows = cursor.fetchmany(chunk)
            if not rows:
                return
            yield from self._chunk(conn, rows)

    def _chunk(self, conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> Iterator[PaperRows]:
        pids = [row[0] for row in rows]
        marks = ",".join("?" * len(pids))
        ids: dict[int, dict[str, list[str]]] = defaultdict(dict)
        for pid, kind, value in _tuples(
            conn,
            f"SELECT paper_id, kind, value FROM paper_ids WHERE paper_id IN ({marks})"  # noqa: S608 - placeholders only
            " ORDER BY kind, value",
            tuple(pids),
        ):
            ids[pid].setdefault(kind, []).append(value)
        authors: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in _tuples(
            conn,
            "SELECT paper_id, position, name, s2_author_id, openalex_author_id FROM authorships"  # noqa: S608 - placeholders only
            f" WHERE paper_id IN ({marks}) ORDER BY paper_id, position",
            tuple(pids),
        ):
            authors[row[0]].append(row[1:])
        affiliations: dict[int, dict[int, list[tuple[Any, ...]]]] = defaultdict(dict)
        flag_lists, distinct = self.flag_lists, self.distinct
        for row in _tuples(
            conn,
            "SELECT paper_id, position, raw, institution_id, institution_name, parent_name,"  # noqa: S608 - placeholders only
            " country, sector, flags, confidence, method FROM affiliations"
            f" WHERE paper_id IN ({marks}) ORDER BY paper_id, position, idx",
            tuple(pids),
        ):
            text = row[8]
            if text not in flag_lists:
                flag_lists[text] = _json(text, "affiliation flag list", [])
            values = row[2:]
            affiliations[row[0]].setdefault(row[1], []).append(distinct.setdefault(values, values))
        for row in rows:
            pid = row[0]
            paper = (*row[:8], _json(row[8], "usage evidence", []), *row[9:])
            yield paper, ids.pop(pid, {}), authors.pop(pid, []), affiliations.pop(pid, {})

    def flagged_affiliations(self) -> Iterator[tuple[Any, Any, Any]]:
        """(institution_id, institution_name, decoded flags) of every distinct affiliation of
        the dataset that carries a flags text, before any paper is read."""
        for inst_id, inst_name, text in _tuples(
            self.store.conn,
            "SELECT DISTINCT a.institution_id, a.institution_name, a.flags FROM affiliations a"
            " JOIN dataset_papers d ON d.paper_id = a.paper_id WHERE d.dataset = ?"
            " AND a.flags IS NOT NULL AND a.flags NOT IN ('', '[]')",
            (self.dataset,),
        ):
            if text not in self.flag_lists:
                self.flag_lists[text] = _json(text, "affiliation flag list", [])
            yield inst_id, inst_name, self.flag_lists[text]


def report_rows(store: Store, dataset: str) -> ReportRows:
    """What one dataset's report is drawn from: runs, coverage and sources read now, the papers
    read as they are asked for (ReportRows.papers)."""
    conn: sqlite3.Connection = store.conn
    runs = []
    for row in conn.execute("SELECT * FROM runs WHERE dataset = ? ORDER BY id", (dataset,)):
        item = dict(row)
        item["requests"] = _json(item.get("requests"), "run's request counts", {})
        item["stats"] = _json(item.get("stats"), "run's statistics", {})
        runs.append(item)
    coverage = [
        dict(row, filters=_json(row["filters"], "list read's filters", {}))
        for row in conn.execute(
            "SELECT * FROM coverage WHERE dataset = ? ORDER BY source, route, target", (dataset,)
        )
    ]
    sources = {
        row[0]
        for row in conn.execute("SELECT DISTINCT source FROM evidence WHERE dataset = ?", (dataset,))
    }
    return ReportRows(store, dataset, runs, coverage, sources)
