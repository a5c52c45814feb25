"""Matching a page of works with the store in a few queries (the merge's batched path).

`Store.upsert_works` resolves a whole page against what is stored with one query per id kind,
one for the titles and one for the matched papers' rows, then goes through the works in order
with what it read held here, kept up to date with each insert and fill: the same decisions, in
the same order, as one `upsert_work` after another, without a round trip per lookup.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson

from tracer.merge import id_keys, same_year, title_key
from tracer.records import Work

# Values bound in one statement: well under SQLite's limit (32,766 since 3.32).
CHUNK = 900
# The paper columns a work fills in and a merge compares.
WORK_COLUMNS = (
    "title",
    "year",
    "publication_date",
    "venue",
    "abstract",
    "doi",
    "arxiv_id",
    "s2_paper_id",
    "corpus_id",
    "openalex_id",
)
# With the fields of study, the columns that a fill compares with a work.
FILL_COLUMNS = (*WORK_COLUMNS, "fields_of_study")


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """`values` cut into parts of `size`, each bound in one statement."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


class WorkIndex:
    """What the store knows of a page of works: who owns each of their ids, the stored papers
    under each of their title keys, and the stored rows of those papers."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        works: Sequence[Work],
        keys_of: Sequence[list[tuple[str, str]]] | None = None,
    ) -> None:
        """`keys_of`: each work's `id_keys`, where the caller has them."""
        if keys_of is None:
            keys_of = [id_keys(work) for work in works]
        by_kind: dict[str, set[str]] = {}
        titles: set[str] = set()
        for work, keys in zip(works, keys_of, strict=True):
            for kind, value in keys:
                by_kind.setdefault(kind, set()).add(value)
            key = title_key(work)
            if key:
                titles.add(key)
        self.owners: dict[tuple[str, str], int] = {}
        for kind, values in sorted(by_kind.items()):
            for part in chunks(sorted(values)):
                marks = ",".join("?" * len(part))
                for value, paper_id in conn.execute(
                    f"SELECT value, paper_id FROM paper_ids WHERE kind = ? AND value IN ({marks})",  # noqa: S608 - placeholders only
                    (kind, *part),
                ):
                    self.owners[(kind, value)] = paper_id
        # title key -> [(paper id, year)] in id order, as `find_paper`'s query returns them
        self.titles: dict[str, list[tuple[int, int | None]]] = {key: [] for key in titles}
        for part in chunks(sorted(titles)):
            marks = ",".join("?" * len(part))
            for paper_id, year, norm in conn.execute(
                f"SELECT id, year, norm_title FROM papers WHERE norm_title IN ({marks})",  # noqa: S608 - placeholders only
                part,
            ):
                self.titles[norm].append((paper_id, year))
        self.title_of: dict[int, str] = {}  # paper id -> the title key it is listed under
        for norm, found in self.titles.items():
            found.sort()
            for paper_id, _ in found:
                self.title_of[paper_id] = norm
        self.rows: dict[int, dict[str, Any]] = {}
        wanted = sorted(
            set(self.owners.values()) | {pid for found in self.titles.values() for pid, _ in found}
        )
        columns = ", ".join(FILL_COLUMNS)
        for part in chunks(wanted):
            marks = ",".join("?" * len(part))
            for row in conn.execute(
                f"SELECT id, {columns} FROM papers WHERE id IN ({marks})",  # noqa: S608 - our columns
                part,
            ):
                self.rows[row[0]] = self._row(row[1:])

    @staticmethod
    def _row(values: Sequence[Any]) -> dict[str, Any]:
        row = dict(zip(FILL_COLUMNS, values, strict=True))
        row["fields_of_study"] = orjson.loads(row["fields_of_study"])
        return row

    def find(self, work: Work, keys: list[tuple[str, str]] | None = None) -> list[int]:
        """`Store.find_paper`, answered from what was read: by any id, else by title and year.
        `keys`: the work's `id_keys`, where the caller has them."""
        found: list[int] = []
        for id_key in id_keys(work) if keys is None else keys:
            paper_id = self.owners.get(id_key)
            if paper_id is not None and paper_id not in found:
                found.append(paper_id)
        if not found:
            key = title_key(work)
            if key:
                found = [
                    pid for pid, year in self.titles.get(key, []) if same_year(year, work.year)
                ][:1]
        return found

    def inserted(self, paper_id: int, work: Work, norm_title: str, fields: list[str]) -> None:
        """A new paper: its title and row, for the works after it in the page."""
        row = {c: getattr(work, c) for c in FILL_COLUMNS if c != "fields_of_study"}
        row["fields_of_study"] = fields
        self.rows[paper_id] = row
        self._title(paper_id, norm_title, work.year)

    def owned(self, keys: Iterable[tuple[str, str]], paper_id: int) -> None:
        """The ids just given to a paper (INSERT OR IGNORE: an id keeps its first owner)."""
        for key in keys:
            self.owners.setdefault(key, paper_id)

    def filled(self, paper_id: int, updates: dict[str, Any], fields: list[str] | None) -> None:
        """A stored paper filled in: its cached row, and its place under its title key."""
        row = self.rows[paper_id]
        for column, value in updates.items():
            if column in row and column != "fields_of_study":
                row[column] = value
        if fields is not None:
            row["fields_of_study"] = fields
        if "norm_title" in updates or "year" in updates:
            old = self.title_of.pop(paper_id, None)
            if old is not None:
                self.titles[old] = [t for t in self.titles[old] if t[0] != paper_id]
            norm = updates.get("norm_title", old)
            if norm is not None:
                self._title(paper_id, norm, row["year"])

    def _title(self, paper_id: int, norm_title: str, year: int | None) -> None:
        found = self.titles.get(norm_title)
        if found is not None:  # only the page's own title keys are ever looked up
            bisect.insort(found, (paper_id, year))
            self.title_of[paper_id] = norm_title


# The columns of a new paper, in the order `PaperWrites.insert` takes them (after its id).
INSERT_COLUMNS = (
    "title", "norm_title", "year", "publication_date", "venue", "abstract", "doi", "arxiv_id",
    "s2_paper_id", "corpus_id", "openalex_id", "fields_of_study", "created_at", "updated_at",
)


class PaperWrites:
    """A page's new papers and fills, written in a few statements (`flush`) rather than one
    each: before the page's ids (which refer to the papers) and before anything reads the
    table. A new paper gets the id SQLite would give it, one more than the highest stored
    (an INTEGER PRIMARY KEY without AUTOINCREMENT; the write lock is held), so the rows are
    the ones an INSERT and UPDATE per work would leave. Make a new one after papers are
    deleted (a merge), as the highest id may have gone."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        row = conn.execute("SELECT max(id) FROM papers").fetchone()
        self.next_id = int(row[0] or 0) + 1
        self.new: dict[int, list[Any]] = {}  # paper id -> values of INSERT_COLUMNS
        self.updates: dict[int, dict[str, Any]] = {}  # stored paper id -> column -> value

    def insert(self, values: list[Any]) -> int:
        paper_id = self.next_id
        self.next_id += 1
        self.new[paper_id] = values
        return paper_id

    def update(self, paper_id: int, updates: dict[str, Any]) -> None:
        """A fill: applied to the queued row of a new paper, else queued (later values win,
        as a later UPDATE would)."""
        values = self.new.get(paper_id)
        if values is None:
            self.updates.setdefault(paper_id, {}).update(updates)
            return
        for column, value in updates.items():
            values[_INSERT_AT[column]] = value

    def flush(self) -> None:
        if self.new:
            marks = ", ".join("?" * (len(INSERT_COLUMNS) + 1))
            self.conn.executemany(
                f"INSERT INTO papers (id, {', '.join(INSERT_COLUMNS)}) VALUES ({marks})",  # noqa: S608 - our columns
                [(paper_id, *values) for paper_id, values in self.new.items()],
            )
            self.new.clear()
        by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for paper_id, updates in self.updates.items():
            by_columns.setdefault(tuple(updates), []).append((*updates.values(), paper_id))
        for columns, rows in by_columns.items():
            assignments = ", ".join(f"{column} = ?" for column in columns)
            self.conn.executemany(
                f"UPDATE papers SET {assignments} WHERE id = ?",  # noqa: S608 - our columns
                rows,
            )
        self.updates.clear()


_INSERT_AT = {column: i for i, column in enumerate(INSERT_COLUMNS)}
