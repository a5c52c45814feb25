"""The report's reads: every row one dataset's report is drawn from, paper by paper.

`report_rows(store, key)` reads the runs, coverage and sources at once and hands back a
`ReportRows`, whose `papers()` reads the papers in the report's order (year, then id), a chunk
at a time: each chunk's ids, authorships and affiliations in one query each. A report of
50,000 papers never holds every paper's rows; `tracer.report` turns them into the report model
and never touches SQL itself.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from tracer.errors import DataError

if TYPE_CHECKING:
    from tracer.store import Store


# Column orders of the rows below: only the columns a report shows (no abstracts, no
# authorships' source JSON). An affiliation's `flags` stays the stored text; `flag_lists`
# decodes each distinct text once (most affiliations share a few).
PAPER_COLUMNS = (
    "id", "title", "year", "publication_date", "venue", "authors_truncated", "level", "score",
    "judged_evidence", "via_derivative", "missing_since_run",
)


@dataclass(slots=True)  # one per paper read: no __dict__ each
class StoredPaper:
    """A paper's stored row (PAPER_COLUMNS, in that order), its usage evidence decoded."""

    id: int
    title: str | None
    year: int | None
    publication_date: str | None
    venue: str | None
    authors_truncated: int
    level: str | None  # None until judged
    score: float | None
    evidence: Any  # the decoded list of evidence items
    via_derivative: str | None
    missing_since_run: int | None

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> StoredPaper:
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                   _json(row[8], "usage evidence", []), row[9], row[10])


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


CHUNK = 500  # papers read at a time: their ids, and authorships with affiliations, in one query each

Authors = list[tuple[int, Any, Any, Any, list[Any]]]  # (position, name, s2 id, OpenAlex id, affs)
PaperRows = tuple[
    StoredPaper,
    dict[str, list[str]],  # kind -> values, sorted ({} when ids were not asked for)
    Authors,  # by position; each affiliation as `convert` made it of its distinct row
]


def _same(row: tuple[Any, ...]) -> Any:
    return row


# An authorship and one of its affiliations (a.idx NULL: an author without any).
_AUTHOR_COLUMNS = "au.paper_id, au.position, au.name, au.s2_author_id, au.openalex_author_id"
_AUTHOR_COLUMNS_UNNAMED = "au.paper_id, au.position, NULL, NULL, NULL"
_AUTHOR_ROW = _AUTHOR_COLUMNS + ", a.idx, " + ", ".join(f"a.{c}" for c in AFFILIATION_COLUMNS)
_TABLES = itertools.count(1)  # names of the temporary tables of affiliations
_PAPERS = (
    "SELECT p.id, p.title, p.year, p.publication_date, p.venue, p.authors_truncated,"
    " d.level, d.score, d.evidence AS judged_evidence, d.via_derivative,"
    " d.missing_since_run FROM papers p JOIN dataset_papers d ON d.paper_id = p.id"
    " WHERE d.dataset = ?"
)


@dataclass
class ReportRows:
    """One dataset's report rows, read paper by paper (`papers()`, oldest first, as often as
    asked), and what the report needs beside them. Only a chunk of papers' rows is held at a
    time; affiliation rows that recur from paper to paper are one object each (`distinct`:
    the row, or what the first `convert` given to papers() made of it)."""

    store: Store
    dataset: str
    runs: list[dict[str, Any]]  # oldest first; requests and stats decoded
    coverage: list[dict[str, Any]]
    evidence_sources: set[str] = field(default_factory=set)
    flag_lists: dict[str | None, Any] = field(default_factory=dict)  # flags text -> decoded
    distinct: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    reader: Any = None  # the caller's state across papers() calls (tracer.report: its convert)
    _flagged: list[tuple[Any, Any, Any, Any]] | None = None

    def papers(
        self,
        chunk: int | None = None,
        *,
        ids: bool = True,
        only: Collection[int] | None = None,
        convert: Callable[[tuple[Any, ...]], Any] = _same,
    ) -> Iterator[PaperRows]:
        """The papers in the report's order (year, then id), with their ids (unless `ids` is
        false, and then without their authors' names and ids), authorships and affiliations; only those of `only` where it is given.
        `convert` turns each distinct affiliation row (AFFILIATION_COLUMNS) into what the
        caller keeps of it, once per row; one ReportRows is read with one `convert`."""
        conn: sqlite3.Connection = self.store.conn
        chunk = chunk or CHUNK
        if only is not None:
            wanted = sorted(only)
            rows: list[tuple[Any, ...]] = []
            for start in range(0, len(wanted), chunk):
                part = wanted[start : start + chunk]
                marks = ",".join("?" * len(part))
                rows += _tuples(conn, f"{_PAPERS} AND p.id IN ({marks})",  # noqa: S608 - placeholders only
                                (self.dataset, *part)).fetchall()
            rows.sort(key=lambda r: (r[2] is not None, r[2] or 0, r[0]))  # NULL years first
            for start in range(0, len(rows), chunk):
                yield from self._chunk(conn, rows[start : start + chunk], ids, convert)
            return
        yield from self._in_order(conn, chunk, ids, convert)

    def _in_order(self, conn: sqlite3.Connection, chunk: int, with_ids: bool,
                  convert: Callable[[tuple[Any, ...]], Any]) -> Iterator[PaperRows]:
        """Every paper: three cursors in the same order (year, id), walked side by side. Each
        reads its table once, in SQLite's sorter (which spills to disk, not to memory), where
        a chunk's `IN (...)` looked its rows up one by one across the whole file."""
        dataset = (self.dataset,)
        papers = _tuples(conn, _PAPERS + " ORDER BY p.year, p.id", dataset)
        id_rows = _tuples(
            conn,
            "SELECT i.paper_id, i.kind, i.value FROM dataset_papers d"
            " JOIN papers p ON p.id = d.paper_id JOIN paper_ids i ON i.paper_id = d.paper_id"
            " WHERE d.dataset = ? ORDER BY p.year, p.id, i.kind, i.value",
            dataset,
        ) if with_ids else iter(())
        # Each distinct affiliation row of the dataset numbered once, in a temporary table:
        # the authorships' read then gives its number (spared the strings of nine columns per
        # row), and its columns only where it has none (a row written since).
        table = f"report_affiliations_{next(_TABLES)}"
        columns = ", ".join(AFFILIATION_COLUMNS)
        conn.execute(
            f"CREATE TEMP TABLE {table} AS SELECT DISTINCT {columns} FROM dataset_papers d"  # noqa: S608 - constant columns
            " JOIN affiliations a ON a.paper_id = d.paper_id WHERE d.dataset = ?",
            dataset,
        )
        try:
            conn.execute(f"CREATE INDEX temp.{table}_row ON {table} ({columns})")
            numbered = {row[0]: row[1:] for row in _tuples(
                conn, f"SELECT rowid, {columns} FROM temp.{table}", ())}  # noqa: S608 - constant columns
            same = " AND ".join(f"x.{c} IS a.{c}" for c in AFFILIATION_COLUMNS)
            unnumbered = ", ".join(f"CASE WHEN x.rowid IS NULL THEN a.{c} END"
                                   for c in AFFILIATION_COLUMNS)
            author_rows = _tuples(
                conn,
                # Without ids, the names are not asked for either (the figures need neither).
                f"SELECT {_AUTHOR_COLUMNS if with_ids else _AUTHOR_COLUMNS_UNNAMED},"  # noqa: S608 - constant columns
                f" a.idx, x.rowid, {unnumbered}"
                " FROM dataset_papers d JOIN papers p ON p.id = d.paper_id"
                " JOIN authorships au ON au.paper_id = d.paper_id"
                " LEFT JOIN affiliations a ON a.paper_id = au.paper_id AND a.position = au.position"
                f" LEFT JOIN temp.{table} x ON {same}"
                " WHERE d.dataset = ? ORDER BY p.year, p.id, au.position, a.idx",
                dataset,
            )
            yield from self._walk(papers, id_rows, author_rows, numbered, chunk, convert)
        finally:
            try:
                conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
            except sqlite3.Error:  # the store was closed before the papers were all read
                pass

    def _walk(self, papers: sqlite3.Cursor, id_rows: Iterator[tuple[Any, ...]],
              author_rows: Iterator[tuple[Any, ...]], numbered: dict[int, tuple[Any, ...]],
              chunk: int, convert: Callable[[tuple[Any, ...]], Any]) -> Iterator[PaperRows]:
        # The next row of each side cursor, not yet given to its paper.
        next_id = next(id_rows, None)
        next_author = next(author_rows, None)
        distinct = self.distinct
        by_number: dict[int, Any] = {}
        while batch := papers.fetchmany(chunk):
            for row in batch:
                pid = row[0]
                ids: dict[str, list[str]] = {}
                while next_id is not None and next_id[0] == pid:
                    ids.setdefault(next_id[1], []).append(next_id[2])
                    next_id = next(id_rows, None)
                authors: Authors = []
                last_position = None
                affs: list[Any] = []
                while next_author is not None and next_author[0] == pid:
                    author = next_author
                    if author[1] != last_position:
                        affs = []
                        authors.append((author[1], author[2], author[3], author[4], affs))
                        last_position = author[1]
                    if author[5] is not None:  # an affiliation (NULLs: an author without one)
                        number = author[6]
                        found = by_number.get(number) if number is not None else None
                        if found is None:
                            values = numbered[number] if number is not None else author[7:]
                            found = distinct.get(values)
                            if found is None:
                                found = distinct[values] = self._distinct(values, convert)
                            if number is not None:
                                by_number[number] = found
                        affs.append(found)
                    next_author = next(author_rows, None)
                yield StoredPaper.of(row), ids, authors

    def _distinct(self, values: tuple[Any, ...], convert: Callable[[tuple[Any, ...]], Any]) -> Any:
        text = values[6]
        if text not in self.flag_lists:
            self.flag_lists[text] = _json(text, "affiliation flag list", [])
        return convert(values)

    def _chunk(self, conn: sqlite3.Connection, rows: list[tuple[Any, ...]], with_ids: bool,
               convert: Callable[[tuple[Any, ...]], Any]) -> Iterator[PaperRows]:
        pids = tuple(row[0] for row in rows)
        marks = ",".join("?" * len(pids))
        ids: dict[int, dict[str, list[str]]] = defaultdict(dict)
        if with_ids:
            for pid, kind, value in _tuples(
                conn,
                f"SELECT paper_id, kind, value FROM paper_ids WHERE paper_id IN ({marks})"  # noqa: S608 - placeholders only
                " ORDER BY kind, value",
                pids,
            ):
                ids[pid].setdefault(kind, []).append(value)
        # Each authorship with its affiliations, one row per affiliation (one with NULLs for
        # an author without any), in order: an author's rows come one after another.
        authors: dict[int, Authors] = defaultdict(list)
        distinct = self.distinct
        last_pid = last_position = None
        affs: list[Any] = []
        for row in _tuples(
            conn,
            f"SELECT {_AUTHOR_ROW} FROM authorships au"  # noqa: S608 - placeholders only
            " LEFT JOIN affiliations a ON a.paper_id = au.paper_id AND a.position = au.position"
            f" WHERE au.paper_id IN ({marks}) ORDER BY au.paper_id, au.position, a.idx",
            pids,
        ):
            pid, position = row[0], row[1]
            if position != last_position or pid != last_pid:
                affs = []
                authors[pid].append((position, row[2], row[3], row[4], affs))
                last_pid, last_position = pid, position
            if row[5] is None:  # no affiliation
                continue
            values = row[6:]
            found = distinct.get(values)
            if found is None:
                found = distinct[values] = self._distinct(values, convert)
            affs.append(found)
        for row in rows:
            pid = row[0]
            yield StoredPaper.of(row), ids.pop(pid, {}), authors.pop(pid, [])

    def flagged_affiliations(self) -> list[tuple[Any, Any, Any, Any]]:
        """(institution_id, institution_name, decoded flags, the paper's level) of every
        distinct affiliation of the dataset's papers' authorships (those papers() reads) that
        carries a flags text, before any paper is read; read once."""
        if self._flagged is None:
            self._flagged = []
            for inst_id, inst_name, text, level in _tuples(
                self.store.conn,
                "SELECT DISTINCT a.institution_id, a.institution_name, a.flags, d.level"
                " FROM dataset_papers d JOIN papers p ON p.id = d.paper_id"
                " JOIN affiliations a ON a.paper_id = d.paper_id"
                " JOIN authorships au ON au.paper_id = a.paper_id AND au.position = a.position"
                " WHERE d.dataset = ? AND a.flags IS NOT NULL AND a.flags NOT IN ('', '[]')",
                (self.dataset,),
            ):
                if text not in self.flag_lists:
                    self.flag_lists[text] = _json(text, "affiliation flag list", [])
                self._flagged.append((inst_id, inst_name, self.flag_lists[text], level))
        return self._flagged


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
