"""SQLite store: one file, versioned schema, idempotent upserts. Knows nothing of HTTP.

Every value from an API is bound as a parameter, never formatted into SQL.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tracer.errors import DataError
from tracer.merge import canonical_ids, id_keys, normalize_title, same_year, title_key
from tracer.records import Author, Work
from tracer.store import classified as _classified
from tracer.store.schema import MIGRATIONS
from tracer.store.works import WORK_COLUMNS as _WORK_COLUMNS
from tracer.store.works import PaperWrites, WorkIndex
from tracer.store.works import chunks as _chunks


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


_DUMPS_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    """JSON for a cell: sorted keys, UTF-8 as it is (orjson: the store writes a lot of it)."""
    try:
        return orjson.dumps(value, option=_DUMPS_OPTIONS).decode()
    except TypeError:  # a lone surrogate, which orjson refuses: the slow encoder escapes it
        return json.dumps(value, ensure_ascii=False, sort_keys=True)


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


# Evidence columns holding JSON lists (judge_inputs parses them).
_JSON_LIST_COLUMNS = ("contexts", "intents", "passages")


# Seconds a run waits for another process's write lock before it gives up.
_LOCK_WAIT = 30.0


def _use_wal(conn: sqlite3.Connection, wait: float) -> None:
    """Switch the database to write-ahead logging. SQLite answers "database is locked" at once,
    without its busy timeout, when another process holds a lock on a database still in rollback
    mode (two first runs on a new database): wait for it here instead."""
    deadline = time.monotonic() + wait
    pause = 0.01
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


class Store:
    """The project's database. Use as a context manager or call close()."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DataError(
                    f"Cannot create the database folder {self.path.parent}: {exc.strerror}."
                ) from None
        try:
            self.conn = sqlite3.connect(str(path), timeout=_LOCK_WAIT, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA foreign_keys = ON")
            _use_wal(self.conn, _LOCK_WAIT)
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise DataError(
                f"The database {self.path} cannot be used: {exc}.",
                hint="Move it aside (or pass --db with another file) and scan again.",
            ) from None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    # -- schema -------------------------------------------------------------------------------

    def _migrate(self) -> None:
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in self.conn.execute("SELECT version FROM schema_migrations")}
        newest = max(v for v, _, _ in MIGRATIONS)
        if done and max(done) > newest:
            raise DataError(
                f"The database {self.path} was written by a newer tracer (schema {max(done)}).",
                hint="Upgrade tracer, or use another --db.",
            )
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            with self.transaction():
                # Another process may have migrated since `done` was read: ask again under
                # the write lock, so that two first runs on a new database do not both migrate.
                again = self.conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE version = ?", (version,)
                ).fetchone()
                if again:
                    continue
                for statement in sql.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, now())
                )

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def integrity_ok(self) -> bool:
        row = self.conn.execute("PRAGMA integrity_check").fetchone()
        fk = self.conn.execute("PRAGMA foreign_key_check").fetchall()
        return bool(row[0] == "ok" and not fk)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- runs ---------------------------------------------------------------------------------

    def start_run(self, dataset: str, kind: str) -> int:
        with self.transaction():
            self._close_abandoned_runs()
            cursor = self.conn.execute(
                "INSERT INTO runs (dataset, kind, started_at, status, pid, host)"
                " VALUES (?, ?, ?, 'running', ?, ?)",
                (dataset, kind, now(), os.getpid(), socket.gethostname()),
            )
        return int(cursor.lastrowid or 0)

    def _close_abandoned_runs(self) -> None:
        """A run still `running` whose process on this host is gone was killed (SIGKILL, power
        loss): say so, rather than leave it running for ever."""
        host = socket.gethostname()
        rows = self.conn.execute(
            "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", (host,)
        ).fetchall()
        for row in rows:
            if row["pid"] is not None and not _alive(row["pid"]):
                self.conn.execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = ?,"
                    " error = 'the process ended without finishing the run' WHERE id = ?",
                    (now(), row["id"]),
                )

    def finish_run(
        self,
        run_id: int,
        status: str,
        *,
        requests: dict[str, dict[str, int]],
        new_papers: int = 0,
        stats: dict[str, Any] | None = None,
        error: str | None = None,
        steps: Sequence[str] = (),
    ) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE runs SET finished_at = ?, status = ?, requests = ?, new_papers = ?, "
                "stats = ?, error = ?, steps = ? WHERE id = ?",
                (
                    now(),
                    status,
                    dumps(requests),
                    new_papers,
                    dumps(stats or {}),
                    error,
                    dumps(list(steps)),
                    run_id,
                ),
            )

    def runs(self, dataset: str | None = None) -> list[dict[str, Any]]:
        if dataset:
            rows = self.conn.execute(
                "SELECT * FROM runs WHERE dataset = ? ORDER BY id", (dataset,)
            ).fetchall()
        else:
            rows = self.conn.execute("SELECT * FROM runs ORDER BY id").fetchall()
        result = []
        for row in rows:
            item = dict(row)
            item["requests"] = loads(item["requests"])
            item["stats"] = loads(item["stats"])
            item["steps"] = loads(item["steps"])
            result.append(item)
        return result

    def last_complete_run(self, dataset: str) -> dict[str, Any] | None:
        done = [r for r in self.runs(dataset) if r["status"] == "ok"]
        return done[-1] if done else None

    # -- origins ------------------------------------------------------------------------------

    def save_origin_ids(
        self, slot: str, idx: int, source: str, ids: Sequence[str], title: str | None
    ) -> None:
        """The ids one source knows an origin paper by (the first: the one lists are read by)."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO origin_ids (slot, idx, source, ids, title, resolved_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (slot, idx, source) DO UPDATE"
                " SET ids = excluded.ids, title = excluded.title,"
                " resolved_at = excluded.resolved_at",
                (slot, idx, source, dumps(list(dict.fromkeys(ids))), title, now()),
            )

    def origin_ids(self, slot: str) -> dict[tuple[int, str], list[str]]:
        """(catalog position, source) -> ids, for one dataset's (or derivative's) origins."""
        rows = self.conn.execute(
            "SELECT idx, source, ids FROM origin_ids WHERE slot = ?", (slot,)
        ).fetchall()
        return {(row["idx"], row["source"]): loads(row["ids"]) for row in rows}

    # -- papers -------------------------------------------------------------------------------

    def find_paper(self, work: Work) -> list[int]:
        """Ids of stored papers that are this work: by any id, else by title and year."""
        keys = id_keys(work)
        found: list[int] = []
        if keys:
            # One query for every id; the papers in the order of the work's ids.
            where = " OR ".join(["(kind = ? AND value = ?)"] * len(keys))
            owner = {
                (row[0], row[1]): row[2]
                for row in self.conn.execute(
                    f"SELECT kind, value, paper_id FROM paper_ids WHERE {where}",  # noqa: S608
                    [part for key in keys for part in key],
                )
            }
            for id_key in keys:
                paper_id = owner.get(id_key)
                if paper_id is not None and paper_id not in found:
                    found.append(paper_id)
        if not found:
            key = title_key(work)
            if key:
                rows = self.conn.execute(
                    "SELECT id, year FROM papers WHERE norm_title = ? ORDER BY id", (key,)
                ).fetchall()
                found = [row["id"] for row in rows if same_year(row["year"], work.year)][:1]
        return found

    def upsert_work(self, work: Work, *, prefer_title: bool = False) -> tuple[int, bool]:
        """Store a work (merging it with what is known), return (paper id, whether it is new).

        `prefer_title`: the work's title replaces the stored one (a source that merges a
        paper's versions into one record has the better title)."""
        return self.upsert_works([work], prefer_title=prefer_title)[0]

    def upsert_works(
        self, works: Sequence[Work], *, prefer_title: bool = False, until_merge: bool = False
    ) -> list[tuple[int, bool]]:
        """`upsert_work` for a page of works, in order, with the same results: the page is
        matched with the store in a few queries (`WorkIndex`), its ids written in one statement.

        `until_merge`: stop before a work (other than the first) that joins stored papers into
        one, and return the results of the works before it, so that the caller can store what
        goes with them before the papers move; call again with the rest."""
        out: list[tuple[int, bool]] = []
        with self.transaction():
            for work in works:
                canonical_ids(work)
            keys_of = [id_keys(work) for work in works]
            index = WorkIndex(self.conn, works, keys_of)
            writes = PaperWrites(self.conn)
            ids: list[tuple[str, str, int]] = []
            stamp = now()  # one time for the page (to the second: a page takes less)
            for i, work in enumerate(works):
                keys = keys_of[i]
                matches = index.find(work, keys)
                if len(matches) > 1:
                    if until_merge and i > 0:
                        break
                    writes.flush()
                    self._write_ids(ids)
                    paper_id = matches[0]
                    for other in matches[1:]:
                        self._merge_papers(paper_id, other)
                    self._fill(paper_id, work, stamp, prefer_title)
                    self._write_ids([(kind, value, paper_id) for kind, value in keys])
                    out.append((paper_id, False))
                    # the papers have moved, and the highest paper id may have gone
                    index = WorkIndex(self.conn, works[i + 1 :], keys_of[i + 1 :])
                    writes = PaperWrites(self.conn)
                    continue
                if matches:
                    paper_id, new = matches[0], False
                    self._fill(paper_id, work, stamp, prefer_title, index, writes)
                else:
                    paper_id, new = self._insert_paper(work, stamp, index, writes), True
                # An id the index knows an owner of is stored, or queued before with its
                # first owner: INSERT OR IGNORE would leave it as it is.
                owners = index.owners
                ids += [(kind, value, paper_id) for kind, value in keys
                        if (kind, value) not in owners]
                index.owned(keys, paper_id)
                out.append((paper_id, new))
            writes.flush()
            self._write_ids(ids)
        return out

    def _write_ids(self, rows: list[tuple[str, str, int]]) -> None:
        # In key order, for the index's sake. A page queues each id once at most (see
        # `upsert_works`), so sorting the whole tuples gives that order.
        rows.sort()
        self.conn.executemany("INSERT OR IGNORE INTO paper_ids VALUES (?, ?, ?)", rows)
        rows.clear()

    def _insert_paper(
        self, work: Work, stamp: str, index: WorkIndex, writes: PaperWrites
    ) -> int:
        norm = normalize_title(work.title)
        fields = sorted(set(work.fields_of_study))
        paper_id = writes.insert([
            work.title,
            norm,
            work.year,
            work.publication_date,
            work.venue,
            work.abstract,
            work.doi,
            work.arxiv_id,
            work.s2_paper_id,
            work.corpus_id,
            work.openalex_id,
            dumps(fields),
            stamp,
            stamp,
        ])
        index.inserted(paper_id, work, norm, fields)
        return paper_id

    def _fill(
        self,
        paper_id: int,
        work: Work,
        stamp: str,
        prefer_title: bool = False,
        index: WorkIndex | None = None,
        writes: PaperWrites | None = None,
    ) -> None:
        """Fill what the stored record lacks; never overwrite a value with a missing one.
        `index`: the page's index, which holds the stored row (and is told of the change);
        `writes`: the page's queued writes, where the change goes (else it is written now)."""
        if index is None:
            stored = self.conn.execute(
                "SELECT * FROM papers WHERE id = ?", (paper_id,)
            ).fetchone()
            row: dict[str, Any] = dict(stored, fields_of_study=loads(stored["fields_of_study"]))
        else:
            row = index.rows[paper_id]
        updates: dict[str, Any] = {}
        for column in _WORK_COLUMNS:
            value = getattr(work, column)
            if value not in (None, "") and row[column] in (None, ""):
                updates[column] = value
        if prefer_title and work.title and row["title"] != work.title:
            updates["title"] = work.title
        if "title" in updates:
            updates["norm_title"] = normalize_title(updates["title"])
        have = row["fields_of_study"]
        fields = sorted(set(have) | set(work.fields_of_study))
        changed = fields != have
        if changed:
            updates["fields_of_study"] = dumps(fields)
        if updates:
            updates["updated_at"] = stamp
            if writes is not None:
                writes.update(paper_id, updates)
            else:
                assignments = ", ".join(f"{column} = ?" for column in updates)
                self.conn.execute(
                    f"UPDATE papers SET {assignments} WHERE id = ?",  # noqa: S608 - column names are ours
                    (*updates.values(), paper_id),
                )
            if index is not None:
                index.filled(paper_id, updates, fields if changed else None)

    def _merge_papers(self, keep: int, drop: int) -> None:
        """Two stored papers turned out to be one work: move everything onto `keep`."""
        self.conn.execute("UPDATE paper_ids SET paper_id = ? WHERE paper_id = ?", (keep, drop))
        self.conn.execute(
            "INSERT OR IGNORE INTO dataset_papers (dataset, paper_id, level, score, evidence,"
            " reasons, via_derivative, first_run, last_seen_run, missing_since_run, judged_with,"
            " signs) SELECT dataset, ?, level, score, evidence, reasons, via_derivative,"
            " first_run, last_seen_run, missing_since_run, judged_with, signs"
            " FROM dataset_papers WHERE paper_id = ?",
            (keep, drop),
        )
        self.conn.execute("DELETE FROM dataset_papers WHERE paper_id = ?", (drop,))
        self.conn.execute(
            "INSERT OR IGNORE INTO evidence (dataset, paper_id, route, source, target,"
            " via_derivative, contexts, intents, is_influential, cites_origin, last_seen_run,"
            " passages) SELECT dataset, ?, route, source, target, via_derivative, contexts,"
            " intents, is_influential, cites_origin, last_seen_run, passages"
            " FROM evidence WHERE paper_id = ?",
            (keep, drop),
        )
        self.conn.execute("DELETE FROM evidence WHERE paper_id = ?", (drop,))
        self.conn.execute(
            "INSERT OR IGNORE INTO paper_lookups SELECT ?, source, looked_up_at"
            " FROM paper_lookups WHERE paper_id = ?",
            (keep, drop),
        )
        self.conn.execute("DELETE FROM paper_lookups WHERE paper_id = ?", (drop,))
        has_authors = self.conn.execute(
            "SELECT 1 FROM authorships WHERE paper_id = ? LIMIT 1", (keep,)
        ).fetchone()
        if not has_authors:
            for table in ("authorships", "affiliations"):
                self.conn.execute(
                    f"UPDATE {table} SET paper_id = ? WHERE paper_id = ?",  # noqa: S608
                    (keep, drop),
                )
        self.conn.execute("DELETE FROM affiliations WHERE paper_id = ?", (drop,))
        self.conn.execute("DELETE FROM authorships WHERE paper_id = ?", (drop,))
        row = self.conn.execute("SELECT * FROM papers WHERE id = ?", (drop,)).fetchone()
        self.conn.execute("DELETE FROM papers WHERE id = ?", (drop,))
        if row is not None:
            dropped = Work(source="merge", **{c: row[c] for c in _WORK_COLUMNS})
            dropped.fields_of_study = loads(row["fields_of_study"])
            self._fill(keep, dropped, now())

    def paper(self, paper_id: int) -> dict[str, Any]:
        row = self.conn.execute("SELECT * FROM papers WHERE id = ?", (paper_id,)).fetchone()
        if row is None:
            raise KeyError(paper_id)
        return dict(row, fields_of_study=loads(row["fields_of_study"]))

    def paper_ids(self, paper_id: int) -> dict[str, list[str]]:
        ids: dict[str, list[str]] = {}
        for row in self.conn.execute(
            "SELECT kind, value FROM paper_ids WHERE paper_id = ? ORDER BY kind, value", (paper_id,)
        ):
            ids.setdefault(row["kind"], []).append(row["value"])
        return ids

    # -- dataset links and evidence -----------------------------------------------------------

    def link(self, dataset: str, paper_id: int, run_id: int, via_derivative: str | None) -> bool:
        """Record that a run found this paper for this dataset; True when it is new to it."""
        return self.link_many(dataset, run_id, [(paper_id, via_derivative)])[0]

    def link_many(
        self, dataset: str, run_id: int, papers: Sequence[tuple[int, str | None]]
    ) -> list[bool]:
        """`link` for many (paper id, via derivative) pairs, in order, in one statement: which
        of them are new to the dataset (first found by this run)."""
        with self.transaction():
            first: dict[int, int] = {}
            wanted = sorted({paper_id for paper_id, _ in papers})
            for part in _chunks(wanted):
                marks = ",".join("?" * len(part))
                sql = f"SELECT paper_id, first_run FROM dataset_papers WHERE dataset = ? AND paper_id IN ({marks})"  # noqa: S608, E501 - placeholders only
                for paper_id, first_run in self.conn.execute(sql, (dataset, *part)):
                    first[paper_id] = first_run
            self.conn.executemany(
                "INSERT INTO dataset_papers (dataset, paper_id, via_derivative, first_run,"
                " last_seen_run) VALUES (?, ?, ?, ?, ?) ON CONFLICT (dataset, paper_id) DO UPDATE"
                " SET last_seen_run = excluded.last_seen_run, missing_since_run = NULL,"
                " via_derivative = CASE WHEN excluded.via_derivative IS NULL THEN NULL"
                " ELSE via_derivative END",
                [(dataset, paper_id, via, run_id, run_id) for paper_id, via in papers],
            )
        return [first.get(paper_id, run_id) == run_id for paper_id, _ in papers]

    def add_evidence(
        self,
        dataset: str,
        paper_id: int,
        run_id: int,
        *,
        route: str,
        source: str,
        target: str,
        contexts: Sequence[str] = (),
        intents: Sequence[str] = (),
        is_influential: bool | None = None,
        cites_origin: bool | None = None,
        via_derivative: str | None = None,
        passages: Sequence[dict[str, Any]] = (),
    ) -> None:
        self.add_evidence_many([
            self.evidence_row(
                dataset, paper_id, run_id, route=route, source=source, target=target,
                contexts=contexts, intents=intents, is_influential=is_influential,
                cites_origin=cites_origin, via_derivative=via_derivative, passages=passages,
            )
        ])

    @staticmethod
    def evidence_row(
        dataset: str,
        paper_id: int,
        run_id: int,
        *,
        route: str,
        source: str,
        target: str,
        contexts: Sequence[str] = (),
        intents: Sequence[str] = (),
        is_influential: bool | None = None,
        cites_origin: bool | None = None,
        via_derivative: str | None = None,
        passages: Sequence[dict[str, Any]] = (),
    ) -> tuple[Any, ...]:
        """One evidence row as `add_evidence_many` writes it."""
        return (
            dataset,
            paper_id,
            route,
            source,
            target,
            via_derivative or "",
            dumps(list(dict.fromkeys(contexts))) if contexts else "[]",  # "[]" as dumps writes it
            dumps(sorted(set(intents))) if intents else "[]",
            None if is_influential is None else int(is_influential),
            None if cites_origin is None else int(cites_origin),
            run_id,
            dumps(list(passages)) if passages else "[]",
        )

    def add_evidence_many(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Evidence rows (`evidence_row`) in order, in one statement."""
        with self.transaction():
            self.conn.executemany(
                "INSERT INTO evidence (dataset, paper_id, route, source, target, via_derivative,"
                " contexts, intents, is_influential, cites_origin, last_seen_run, passages)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (dataset, paper_id, route, source, target, via_derivative) DO UPDATE"
                " SET contexts = excluded.contexts, intents = excluded.intents,"
                " passages = excluded.passages,"
                " is_influential = coalesce(excluded.is_influential, is_influential),"
                " cites_origin = coalesce(excluded.cites_origin, cites_origin),"
                " last_seen_run = excluded.last_seen_run",
                rows,
            )

    def evidence(self, dataset: str, paper_id: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM evidence WHERE dataset = ?"
        params: tuple[Any, ...] = (dataset,)
        if paper_id is not None:
            sql += " AND paper_id = ?"
            params += (paper_id,)
        rows = self.conn.execute(sql + " ORDER BY paper_id, route, source, target", params)
        return [
            dict(
                row,
                contexts=loads(row["contexts"]),
                intents=loads(row["intents"]),
                passages=loads(row["passages"]),
            )
            for row in rows
        ]

    def papers_of(self, dataset: str) -> dict[int, dict[str, Any]]:
        """A dataset's papers (what the judge reads of them), by id, in one query."""
        rows = self.conn.execute(
            "SELECT p.id, p.title, p.abstract, p.authors_source FROM papers p"
            " JOIN dataset_papers d ON d.paper_id = p.id WHERE d.dataset = ? ORDER BY p.id",
            (dataset,),
        )
        return {row["id"]: dict(row) for row in rows}

    def judge_inputs(
        self, dataset: str, chunk: int = 2000, *, as_stored: bool = False
    ) -> Iterator[tuple[int, dict[str, Any], list[Any], tuple[Any, Any, Any]]]:
        """A dataset's papers in id order, each with what the judge reads of it (`papers_of`),
        its evidence rows (`evidence`) and its stored judgement's level, rules version and
        inputs digest (`save_judgements`), read `chunk` papers at a time: never the whole
        dataset's evidence at once, and no query left open while the caller writes.
        `as_stored`: each evidence row as the tuple of its stored values, in the order of
        `evidence_columns`, for `evidence_dict` to decode."""
        ids = self.dataset_paper_ids(dataset)
        for part in _chunks(ids, chunk):
            first, last = part[0], part[-1]
            judged: dict[int, tuple[Any, Any, Any]] = {}
            papers = {}
            cursor = self.conn.cursor()
            cursor.row_factory = None  # plain tuples, not sqlite3.Row
            for row in cursor.execute(
                "SELECT p.id, p.title, p.abstract, p.authors_source, d.level, d.judged_with,"
                " d.judged_inputs FROM papers p"
                " JOIN dataset_papers d ON d.paper_id = p.id WHERE d.dataset = ?"
                " AND p.id BETWEEN ? AND ? ORDER BY p.id",
                (dataset, first, last),
            ):
                papers[row[0]] = {"id": row[0], "title": row[1], "abstract": row[2],
                                  "authors_source": row[3]}
                judged[row[0]] = row[4:]
            evidence: dict[int, list[Any]] = {}
            cursor.execute(
                "SELECT * FROM evidence WHERE dataset = ? AND paper_id BETWEEN ? AND ?"
                " ORDER BY paper_id, route, source, target",
                (dataset, first, last),
            )
            names = tuple(d[0] for d in cursor.description)
            at_paper = names.index("paper_id")
            for values in cursor.fetchall():
                row = values if as_stored else self.evidence_dict(values, names)
                evidence.setdefault(values[at_paper], []).append(row)
            for paper_id, paper in papers.items():
                yield paper_id, paper, evidence.get(paper_id, []), judged[paper_id]

    def evidence_columns(self) -> tuple[str, ...]:
        """The evidence table's columns, in the order `SELECT *` gives them."""
        cursor = self.conn.execute("SELECT * FROM evidence LIMIT 0")
        return tuple(d[0] for d in cursor.description)

    @staticmethod
    def evidence_dict(values: Sequence[Any], names: Sequence[str]) -> dict[str, Any]:
        """One evidence row's stored values (named by `names`, `evidence_columns`' order) as
        the dict `evidence` gives: its JSON lists decoded (the many empty ones without a
        parse)."""
        row = dict(zip(names, values, strict=True))
        for column in _JSON_LIST_COLUMNS:
            text = row[column]
            row[column] = [] if text == "[]" else loads(text)
        return row

    def list_members(self, dataset: str, source: str, route: str, target: str) -> set[int]:
        """The papers one list has found for a dataset, in any run."""
        rows = self.conn.execute(
            "SELECT paper_id FROM evidence WHERE dataset = ? AND source = ? AND route = ?"
            " AND target = ?",
            (dataset, source, route, target),
        )
        return {row[0] for row in rows}

    def dataset_paper_ids(self, dataset: str) -> list[int]:
        rows = self.conn.execute(
            "SELECT paper_id FROM dataset_papers WHERE dataset = ? ORDER BY paper_id", (dataset,)
        )
        return [row[0] for row in rows]

    def dataset_papers_count(self, dataset: str) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM dataset_papers WHERE dataset = ?", (dataset,)
        ).fetchone()
        return int(row[0])

    def save_judgement(
        self,
        dataset: str,
        paper_id: int,
        *,
        level: str,
        score: float,
        evidence: list[dict[str, Any]],
        reasons: list[str],
        signs: list[dict[str, Any]] | None = None,
        version: str | None = None,
    ) -> None:
        self.conn.execute(
            "UPDATE dataset_papers SET level = ?, score = ?, evidence = ?, reasons = ?,"
            " signs = ?, judged_with = ?, judged_inputs = NULL WHERE dataset = ? AND paper_id = ?",
            (
                level,
                round(score, 4),
                dumps(evidence),
                dumps(reasons),
                dumps(signs or []),
                version,
                dataset,
                paper_id,
            ),
        )

    def save_judgements(
        self,
        dataset: str,
        verdicts: Sequence[tuple[int, Any]],
        version: str | None = None,
        inputs: Mapping[int, str] | None = None,
    ) -> None:
        """`save_judgement` for many papers in one statement: (paper id, verdict) pairs, each
        verdict with level, score, evidence, reasons and signs (tracer.usage.Judgement).
        `inputs`: the digest of what each verdict was drawn from, by paper id (else NULL).
        Papers may share one verdict object (a scan's memo): its cells are encoded once."""
        digests = inputs or {}
        cells: dict[int, tuple[Any, ...]] = {}  # by verdict object, each alive for the call
        rows = []
        for paper_id, verdict in verdicts:
            cell = cells.get(id(verdict))
            if cell is None:
                cell = cells[id(verdict)] = (
                    verdict.level,
                    round(verdict.score, 4),
                    dumps([e.to_dict() for e in verdict.evidence]),
                    dumps(verdict.reasons),
                    dumps([s.to_dict() for s in verdict.signs] or []),
                )
            rows.append((*cell, version, digests.get(paper_id), dataset, paper_id))
        self.conn.executemany(
            "UPDATE dataset_papers SET level = ?, score = ?, evidence = ?, reasons = ?,"
            " signs = ?, judged_with = ?, judged_inputs = ? WHERE dataset = ? AND paper_id = ?",
            rows,
        )

    def mark_missing(self, dataset: str, run_id: int) -> int:
        """After a complete run: mark the papers that every list naming them was read again in
        full, unfiltered, in this run, and that none of those lists holds any longer. A paper
        that some list not re-read this run had found stays as it was; nothing is deleted."""
        with self.transaction():
            cursor = self.conn.execute(
                "UPDATE dataset_papers SET missing_since_run = :run"
                " WHERE dataset = :dataset AND missing_since_run IS NULL"
                " AND last_seen_run < :run"
                " AND EXISTS (SELECT 1 FROM evidence e WHERE e.dataset = :dataset"
                "   AND e.paper_id = dataset_papers.paper_id)"
                " AND NOT EXISTS (SELECT 1 FROM evidence e WHERE e.dataset = :dataset"
                "   AND e.paper_id = dataset_papers.paper_id AND (e.last_seen_run = :run"
                "   OR NOT EXISTS (SELECT 1 FROM coverage c WHERE c.dataset = :dataset"
                "     AND c.source = e.source AND c.route = e.route AND c.target = e.target"
                "     AND c.run_id = :run AND c.complete = 1 AND c.filters = '{}')))",
                {"run": run_id, "dataset": dataset},
            )
        return cursor.rowcount

    def set_coverage(
        self,
        dataset: str,
        run_id: int,
        *,
        source: str,
        route: str,
        target: str,
        fetched: int,
        total: int | None,
        capped: bool,
        note: str | None,
        filters: dict[str, Any] | None = None,
        complete: bool = False,
        counts: dict[str, int | None] | None = None,
        unresolved: int = 0,
        skipped: int = 0,
        full_read_at: str | None = None,
    ) -> None:
        """Record one list read: `complete` when it was read to its end; `full_read_at`, when
        it was last read in full without filters (now, when this read was one)."""
        stamp = now()
        if complete and not filters:
            full_read_at = stamp
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO coverage (dataset, source, route, target, fetched, total,"
                " capped, note, run_id, filters, complete, counts, unresolved, skipped, read_at,"
                " full_read_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    dataset,
                    source,
                    route,
                    target,
                    fetched,
                    total,
                    int(capped),
                    note,
                    run_id,
                    dumps(filters or {}),
                    int(complete),
                    dumps(counts or {}),
                    unresolved,
                    skipped,
                    stamp,
                    full_read_at,
                ),
            )

    def list_read(
        self, dataset: str, source: str, route: str, target: str
    ) -> dict[str, Any] | None:
        """The last recorded read of one list, if any."""
        row = self.conn.execute(
            "SELECT * FROM coverage WHERE dataset = ? AND source = ? AND route = ? AND target = ?",
            (dataset, source, route, target),
        ).fetchone()
        if row is None:
            return None
        return dict(row, filters=loads(row["filters"]), counts=loads(row["counts"]))

    def coverage(self, dataset: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT * FROM coverage WHERE dataset = ? ORDER BY source, route, target", (dataset,)
        )
        return [
            dict(row, filters=loads(row["filters"]), counts=loads(row["counts"]))
            for row in rows
        ]

    # -- authorships and affiliations ---------------------------------------------------------

    def papers_to_look_up(self, dataset: str, source: str) -> list[dict[str, Any]]:
        """A dataset's papers that `source` has not looked up yet, with what the store has."""
        rows = self.conn.execute(
            "SELECT p.id, p.doi, p.arxiv_id, p.s2_paper_id, p.corpus_id, p.openalex_id, p.year,"
            " EXISTS (SELECT 1 FROM authorships a WHERE a.paper_id = p.id"
            "   AND (a.raw_affiliations != '[]' OR a.institutions != '[]')) AS has_affiliations"
            " FROM papers p JOIN dataset_papers d ON d.paper_id = p.id"
            " WHERE d.dataset = ? AND NOT EXISTS (SELECT 1 FROM paper_lookups l"
            "   WHERE l.paper_id = p.id AND l.source = ?) ORDER BY p.id",
            (dataset, source),
        )
        return [dict(row) for row in rows]

    def save_authors(
        self, paper_id: int, authors: Sequence[Author], source: str, rank: int = 0
    ) -> None:
        """Replace a paper's authorships with a source's list, unless a source of higher rank
        gave them, or the new list brings no affiliation where the stored one has some."""
        self.save_authors_many([(paper_id, authors)], source, rank)

    def save_authors_many(
        self, items: Sequence[tuple[int, Sequence[Author]]], source: str, rank: int = 0
    ) -> None:
        """`save_authors` for many (paper id, authors) pairs of one source, in order, with what
        is stored read in two queries and the replacements written in four statements.

        What a paper's stored authorships decide is whether they came from this source and
        are the same (then they stay, classified), else whether any has an affiliation; the
        first query says the latter, and only the papers whose authorships came from this
        source have their rows read. Only papers with authorships (or affiliations) have them
        deleted: in a scan most papers are new, or hold another source's authorships."""
        wanted = sorted({paper_id for paper_id, _ in items})
        # paper id -> [authors source, authors rank, stored authorship rows or None (not read:
        # another source's), whether any of them has affiliation strings or institutions]
        known: dict[int, list[Any]] = {}
        authored: set[int] = set()  # papers with stored authorships
        affiliated: set[int] = set()  # papers with stored affiliations
        own: list[int] = []  # papers whose stored authorships came from this source
        with self.transaction():
            for part in _chunks(wanted):
                marks = ",".join("?" * len(part))
                sql = (
                    "SELECT id, authors_source, authors_rank,"  # noqa: S608 - placeholders only
                    " EXISTS (SELECT 1 FROM authorships a WHERE a.paper_id = papers.id),"
                    " EXISTS (SELECT 1 FROM authorships a WHERE a.paper_id = papers.id"
                    "   AND (a.raw_affiliations != '[]' OR a.institutions != '[]')),"
                    " EXISTS (SELECT 1 FROM affiliations f WHERE f.paper_id = papers.id)"
                    f" FROM papers WHERE id IN ({marks})"
                )
                for paper_id, authors_source, authors_rank, has, had, aff in self.conn.execute(
                    sql, part
                ):
                    mine = authors_source == source
                    known[paper_id] = [authors_source, authors_rank, [] if mine else None,
                                       bool(had)]
                    if has:
                        authored.add(paper_id)
                        if mine:
                            own.append(paper_id)
                    if aff:
                        affiliated.add(paper_id)
            cursor = self.conn.cursor()
            cursor.row_factory = None  # plain tuples, as the rows below are built
            for part in _chunks(own):
                marks = ",".join("?" * len(part))
                sql = (
                    "SELECT paper_id, position, name, s2_author_id, openalex_author_id,"  # noqa: S608 - placeholders only
                    " raw_affiliations, institutions, countries FROM authorships"
                    f" WHERE paper_id IN ({marks}) ORDER BY paper_id, position"
                )
                for row in cursor.execute(sql, part):
                    known[row[0]][2].append(row)
            replaced: dict[int, list[tuple[Any, ...]]] = {}
            for paper_id, authors in items:
                authors_source, authors_rank, stored, had = known[paper_id]
                if authors_source is not None and authors_rank > rank:
                    continue
                # An empty list is "[]" without the encoder (most authors of S2 have no
                # affiliation, institution or country).
                rows = [
                    (
                        paper_id,
                        position,
                        author.name,
                        author.s2_author_id,
                        author.openalex_author_id,
                        dumps(author.raw_affiliations) if author.raw_affiliations else "[]",
                        dumps([vars(i) for i in author.institutions])
                        if author.institutions
                        else "[]",
                        dumps(author.countries) if author.countries else "[]",
                    )
                    for position, author in enumerate(authors)
                ]
                if authors_source == source and stored == rows:
                    # Unchanged: keep the classified affiliations rather than drop them until
                    # the classify step runs again (a run stopped in between would show none).
                    continue
                brings = any(a.raw_affiliations or a.institutions for a in authors)
                if had and not brings and authors_rank == rank:
                    continue
                known[paper_id] = [source, rank, rows, brings]
                replaced[paper_id] = rows
            if not replaced:
                return
            self.conn.executemany(
                "DELETE FROM affiliations WHERE paper_id = ?",
                [(paper_id,) for paper_id in replaced if paper_id in affiliated],
            )
            self.conn.executemany(
                "DELETE FROM authorships WHERE paper_id = ?",
                [(paper_id,) for paper_id in replaced if paper_id in authored],
            )
            self.conn.executemany(
                "INSERT INTO authorships (paper_id, position, name, s2_author_id,"
                " openalex_author_id, raw_affiliations, institutions, countries, classified)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                [row for rows in replaced.values() for row in rows],
            )
            self.conn.executemany(
                "UPDATE papers SET authors_source = ?, authors_rank = ? WHERE id = ?",
                [(source, rank, paper_id) for paper_id in replaced],
            )

    def mark_looked_up(self, paper_id: int, source: str, *, truncated: bool | None = None) -> None:
        """`source` has looked this paper up (found or not): it is not asked again."""
        self.mark_looked_up_many([(paper_id, truncated)], source)

    def mark_looked_up_many(
        self, papers: Sequence[tuple[int, bool | None]], source: str
    ) -> None:
        """`mark_looked_up` for many (paper id, truncated or None) pairs, in order."""
        stamp = now()
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO paper_lookups VALUES (?, ?, ?)",
                [(paper_id, source, stamp) for paper_id, _ in papers],
            )
            # Most papers keep the value they have: a row left as it is is not written again.
            self.conn.executemany(
                "UPDATE papers SET authors_truncated = ? WHERE id = ? AND authors_truncated != ?",
                [(int(t), paper_id, int(t)) for paper_id, t in papers if t is not None],
            )

    @staticmethod
    def author_input(raw: str, institutions: str, countries: str) -> dict[str, Any]:
        """The stored JSON of an authorship's classifier input, read."""
        return {
            "raw_affiliations": loads(raw),
            "institutions": loads(institutions),
            "countries": loads(countries),
        }

    def save_affiliations(
        self,
        paper_id: int,
        position: int,
        affiliations: Sequence[dict[str, Any]],
        version: str | None = None,
    ) -> None:
        """One authorship's affiliations, replacing what it had, marked classified."""
        self.save_affiliations_many([(paper_id, position, affiliations)], version)

    def save_affiliations_many(
        self,
        items: Sequence[tuple[int, int, Sequence[dict[str, Any]]]],
        version: str | None = None,
    ) -> None:
        """`save_affiliations` for many authorships at once: (paper id, position, affiliations)
        each, in three statements for the whole batch (one transaction)."""
        self.save_affiliation_rows(
            [(paper_id, position, self.affiliation_rows(affs)) for paper_id, position, affs in items],
            version,
        )

    @staticmethod
    def affiliation_rows(affiliations: Sequence[dict[str, Any]]) -> tuple[tuple[Any, ...], ...]:
        """An authorship's affiliations as the columns after (paper id, position): the same
        for every authorship with the same classifier input, so worked out once for them."""
        return tuple(
            (
                idx,
                aff.get("raw"),
                aff.get("institution_id"),
                aff.get("institution_name"),
                aff.get("parent_id"),
                aff.get("parent_name"),
                aff.get("country"),
                aff.get("sector") or "unknown",
                dumps(aff.get("flags", [])),
                float(aff.get("confidence") or 0.0),
                aff.get("method") or "none",
            )
            for idx, aff in enumerate(affiliations)
        )

    def save_affiliation_rows(
        self,
        items: Sequence[tuple[int, int, Sequence[tuple[Any, ...]]]],
        version: str | None = None,
    ) -> None:
        """(paper id, position, `affiliation_rows`) for many authorships: each one's
        affiliations replaced and marked classified, in three statements."""
        keys = [(paper_id, position) for paper_id, position, _ in items]
        with self.transaction():
            if keys:
                # Only authorships that have affiliations need theirs deleted: in a scan, few
                # do (new authorships come without), and one range query finds them.
                low, high = min(keys)[0], max(keys)[0]
                had = {
                    (row[0], row[1])
                    for row in self.conn.execute(
                        "SELECT DISTINCT paper_id, position FROM affiliations"
                        " WHERE paper_id BETWEEN ? AND ?",
                        (low, high),
                    )
                }
                self.conn.executemany(
                    "DELETE FROM affiliations WHERE paper_id = ? AND position = ?",
                    [key for key in keys if key in had],
                )
            self.conn.executemany(
                "INSERT INTO affiliations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(paper_id, position, *row) for paper_id, position, rows in items for row in rows],
            )
            self.conn.executemany(
                "UPDATE authorships SET classified = 1, classified_with = ?"
                " WHERE paper_id = ? AND position = ?",
                [(version, paper_id, position) for paper_id, position in keys],
            )

    def start_classifying(self) -> None:
        """Begin a classification pass: no input is known yet (`add_classified_inputs`)."""
        _classified.start(self.conn)

    def classify_ranges(self, dataset: str, chunk: int) -> list[tuple[int, int]]:
        """A dataset's paper ids as (first, last) ranges of `chunk` papers each."""
        return [(part[0], part[-1]) for part in _chunks(self.dataset_paper_ids(dataset), chunk)]

    def due_inputs(
        self, dataset: str, version: str | None, low: int, high: int
    ) -> list[tuple[str, str, str]]:
        """The distinct classifier inputs (raw affiliations, institutions, countries, as stored
        JSON text: `author_input` reads them) of the dataset's authorships in papers low..high
        not classified yet, or classified with another version."""
        return _classified.due_inputs(self.conn, dataset, version, low, high)

    def add_classified_inputs(
        self, items: Sequence[tuple[tuple[str, str, str], Sequence[tuple[Any, ...]]]]
    ) -> None:
        """Inputs of this pass with their `affiliation_rows`, for `write_classified`."""
        with self.transaction():
            _classified.add_inputs(self.conn, items)

    def write_classified(
        self, dataset: str, version: str | None, low: int, high: int, new_version: str | None
    ) -> int:
        """The due authorships of papers low..high (as `due_inputs` chose them) whose input
        this pass knows: their affiliations replaced by the input's rows, marked classified
        with `new_version`, in three statements; returns how many authorships."""
        with self.transaction():
            return _classified.write(self.conn, dataset, version, low, high, new_version)

    def judgements_due(self, dataset: str, version: str | None) -> int:
        """Papers of a dataset not judged yet, or judged with other rules."""
        row = self.conn.execute(
            "SELECT count(*) FROM dataset_papers WHERE dataset = ?"
            " AND (level IS NULL OR judged_with IS NOT ?)",
            (dataset, version),
        ).fetchone()
        return int(row[0])

    def classifications_due(self, dataset: str, version: str | None) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM authorships a JOIN dataset_papers d ON d.paper_id = a.paper_id"
            " WHERE d.dataset = ? AND (a.classified = 0 OR a.classified_with IS NOT ?)",
            (dataset, version),
        ).fetchone()
        return int(row[0])

    # -- what a dataset's report rests on, for telling what is new -----------------------------

    def facets(self, dataset: str) -> dict[str, set[str]]:
        """Countries, institutions and flagged institutions among a dataset's papers."""
        rows = self.conn.execute(
            "SELECT DISTINCT a.country, a.institution_id, a.institution_name, a.flags"
            " FROM affiliations a JOIN dataset_papers d ON d.paper_id = a.paper_id"
            " WHERE d.dataset = ?",
            (dataset,),
        ).fetchall()
        facets: dict[str, set[str]] = {"countries": set(), "institutions": set(), "flagged": set()}
        for row in rows:
            if row["country"]:
                facets["countries"].add(row["country"])
            name = row["institution_name"] or row["institution_id"]
            if name:
                facets["institutions"].add(name)
                if loads(row["flags"]):
                    facets["flagged"].add(name)
        return facets

    def last_mention_search(self, dataset: str) -> str | None:
        """When the dataset's full-text mention searches last completed, if ever."""
        row = self.conn.execute(
            "SELECT max(r.started_at) FROM coverage c JOIN runs r ON r.id = c.run_id"
            " WHERE c.dataset = ? AND c.route = 'mentions'",
            (dataset,),
        ).fetchone()
        return str(row[0]) if row and row[0] else None
