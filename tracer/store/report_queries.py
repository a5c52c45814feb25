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


@dataclass
class ReportData:
    """What the store holds for one dataset's report, as plain rows."""

    # Only the columns a report shows (no abstracts, no authorships' source JSON): a report of
    # 50,000 papers holds these rows once, while it builds its own.
    papers: list[dict[str, Any]]  # papers joined with their dataset_papers judgement
    ids: dict[int, dict[str, list[str]]]  # paper id -> kind -> values, sorted
    authors: dict[int, list[dict[str, Any]]]  # paper id -> authorships by position
    affiliations: dict[tuple[int, int], list[dict[str, Any]]]  # (paper, position) -> rows
    runs: list[dict[str, Any]]  # oldest first; requests and stats decoded
    coverage: list[dict[str, Any]]
    evidence_sources: set[str] = field(default_factory=set)


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


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
    """Rows as plain dicts, built from tuples (cheaper than dict() of sqlite3.Row)."""
    cursor = conn.cursor()
    cursor.row_factory = None
    cursor.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(columns, row, strict=True))


def load_report_data(store: Store, dataset: str) -> ReportData:
    conn: sqlite3.Connection = store.conn
    ids: dict[int, dict[str, list[str]]] = defaultdict(dict)
    for row in conn.execute(
        "SELECT i.paper_id, i.kind, i.value FROM paper_ids i JOIN dataset_papers d"
        " ON d.paper_id = i.paper_id WHERE d.dataset = ? ORDER BY i.kind, i.value",
        (dataset,),
    ):
        ids[row["paper_id"]].setdefault(row["kind"], []).append(row["value"])
    affiliations: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    flag_lists: dict[str | None, Any] = {}  # the same flags text decoded once
    for item in _rows(
        conn,
        "SELECT a.paper_id, a.position, a.raw, a.institution_id, a.institution_name,"
        " a.parent_name, a.country, a.sector, a.flags, a.confidence, a.method"
        " FROM affiliations a JOIN dataset_papers d ON d.paper_id = a.paper_id"
        " WHERE d.dataset = ? ORDER BY a.paper_id, a.position, a.idx",
        (dataset,),
    ):
        text = item.get("flags")
        if text not in flag_lists:
            flag_lists[text] = _json(text, "affiliation flag list", [])
        item["flags"] = flag_lists[text]
        affiliations[(item["paper_id"], item["position"])].append(item)
    authors: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in _rows(
        conn,
        "SELECT a.paper_id, a.position, a.name, a.s2_author_id, a.openalex_author_id"
        " FROM authorships a JOIN dataset_papers d"
        " ON d.paper_id = a.paper_id WHERE d.dataset = ? ORDER BY a.paper_id, a.position",
        (dataset,),
    ):
        authors[item["paper_id"]].append(item)
    papers = []
    for item in _rows(
        conn,
        "SELECT p.id, p.title, p.year, p.publication_date, p.venue, p.authors_truncated,"
        " d.level, d.score, d.evidence AS judged_evidence, d.via_derivative,"
        " d.missing_since_run FROM papers p JOIN dataset_papers d ON d.paper_id = p.id"
        " WHERE d.dataset = ? ORDER BY p.year, p.id",
        (dataset,),
    ):
        item["judged_evidence"] = _json(item.get("judged_evidence"), "usage evidence", [])
        papers.append(item)
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
    return ReportData(papers, dict(ids), dict(authors), dict(affiliations), runs, coverage, sources)
