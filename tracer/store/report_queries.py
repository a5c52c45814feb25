"""The report's reads: every row one dataset's report is drawn from, in one pass.

`load_report_data(store, key)` runs each query once (runs and coverage included) and hands back
plain rows; `tracer.report` turns them into the report model and never touches SQL itself.
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


# Column orders of the tuples below (tracer.report unpacks them in this order).
PAPER_COLUMNS = (
    "id", "title", "year", "publication_date", "venue", "authors_truncated", "level", "score",
    "judged_evidence", "via_derivative", "missing_since_run",
)
AUTHOR_COLUMNS = ("position", "name", "s2_author_id", "openalex_author_id")
AFFILIATION_COLUMNS = (
    "raw", "institution_id", "institution_name", "parent_name", "country", "sector", "flags",
    "confidence", "method",
)


@dataclass
class ReportData:
    """What the store holds for one dataset's report, as plain rows."""

    # Only the columns a report shows (no abstracts, no authorships' source JSON), as tuples in
    # the orders above: a report of 50,000 papers holds these rows once, while it builds its
    # own. An affiliation's `flags` stays the stored text; `flag_lists` decodes each distinct
    # text once (most affiliations share a handful of them).
    papers: list[tuple[Any, ...]]  # papers joined with their dataset_papers judgement
    ids: dict[int, dict[str, list[str]]]  # paper id -> kind -> values, sorted
    authors: dict[int, list[tuple[Any, ...]]]  # paper id -> authorships by position
    affiliations: dict[tuple[int, int], list[tuple[Any, ...]]]  # (paper, position) -> rows
    runs: list[dict[str, Any]]  # oldest first; requests and stats decoded
    coverage: list[dict[str, Any]]
    evidence_sources: set[str] = field(default_factory=set)
    flag_lists: dict[str | None, Any] = field(default_factory=dict)  # flags text -> decoded


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


def _tuples(
    conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]
) -> Iterator[tuple[Any, ...]]:
    """Rows as plain tuples (no sqlite3.Row, no dict per row), straight from the cursor."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params)


def load_report_data(store: Store, dataset: str) -> ReportData:
    conn: sqlite3.Connection = store.conn
    ids: dict[int, dict[str, list[str]]] = defaultdict(dict)
    for pid, kind, value in _tuples(
        conn,
        "SELECT i.paper_id, i.kind, i.value FROM paper_ids i JOIN dataset_papers d"
        " ON d.paper_id = i.paper_id WHERE d.dataset = ? ORDER BY i.kind, i.value",
        (dataset,),
    ):
        ids[pid].setdefault(kind, []).append(value)
    affiliations: dict[tuple[int, int], list[tuple[Any, ...]]] = defaultdict(list)
    flag_lists: dict[str | None, Any] = {}  # the same flags text decoded once
    # The same affiliation (string, institution, flags) recurs on many papers: one tuple each.
    distinct: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row in _tuples(
        conn,
        "SELECT a.paper_id, a.position, a.raw, a.institution_id, a.institution_name,"
        " a.parent_name, a.country, a.sector, a.flags, a.confidence, a.method"
        " FROM affiliations a JOIN dataset_papers d ON d.paper_id = a.paper_id"
        " WHERE d.dataset = ? ORDER BY a.paper_id, a.position, a.idx",
        (dataset,),
    ):
        text = row[8]
        if text not in flag_lists:
            flag_lists[text] = _json(text, "affiliation flag list", [])
        values = row[2:]
        affiliations[(row[0], row[1])].append(distinct.setdefault(values, values))
    authors: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in _tuples(
        conn,
        "SELECT a.paper_id, a.position, a.name, a.s2_author_id, a.openalex_author_id"
        " FROM authorships a JOIN dataset_papers d"
        " ON d.paper_id = a.paper_id WHERE d.dataset = ? ORDER BY a.paper_id, a.position",
        (dataset,),
    ):
        authors[row[0]].append(row[1:])
    papers = [
        (*row[:8], _json(row[8], "usage evidence", []), *row[9:])
        for row in _tuples(
            conn,
            "SELECT p.id, p.title, p.year, p.publication_date, p.venue, p.authors_truncated,"
            " d.level, d.score, d.evidence AS judged_evidence, d.via_derivative,"
            " d.missing_since_run FROM papers p JOIN dataset_papers d ON d.paper_id = p.id"
            " WHERE d.dataset = ? ORDER BY p.year, p.id",
            (dataset,),
        )
    ]
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
    return ReportData(
        papers, dict(ids), dict(authors), dict(affiliations), runs, coverage, sources, flag_lists
    )
