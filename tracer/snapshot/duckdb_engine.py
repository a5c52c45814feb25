"""The snapshot query on DuckDB: one machine, Parquet or JSON Lines (gzip), local or anonymous S3.

DuckDB facts used (docs 2.0 / 1.5): `read_parquet` and `read_json` take a list of files and
`filename=true`; `read_json(..., columns={...})` parses only the listed keys (pass one's
projection); `read_json_objects` returns each line as JSON text (pass two keeps the record as the
API wrote it); `to_json(row)` writes a Parquet row back as JSON, maps as objects; `memory_limit`,
`temp_directory` (spill) and `threads` are connection settings, passed as a config dict, not SQL.
S3: through DuckDB's `httpfs` extension where it loads, else through s3fs registered with the
connection (tracer/snapshot/s3.py: why, and the TRACER_S3_ENDPOINT / TRACER_S3_VIA settings).
The s3fs route is tested against a local S3 server (moto) holding a snapshot in the real layout;
the httpfs route is not (its download needs DuckDB's servers).
File names and ids always go in as parameters; nothing from a record is spliced into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import duckdb

from tracer.errors import DataError, UsageError
from tracer.snapshot.layout import Layout, SnapshotFile, is_remote, short_w
from tracer.snapshot.query import CiterQuery, doi_forms

StageProgress = Callable[[str, int, int], None]
MEMORY_RE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
MAX_OBJECT = 256 * 1024 * 1024  # a JSON line may be large (thousands of authors)


def connect(
    *, memory_limit: str | None = None, spill_dir: str | None = None, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    config: dict[str, Any] = {"preserve_insertion_order": False}
    if memory_limit:
        if not MEMORY_RE.match(memory_limit.strip()):
            raise UsageError(
                f"The memory limit {memory_limit!r} is not a size.", hint="Use e.g. 4GB or 512MB."
            )
        config["memory_limit"] = memory_limit.strip()
    if spill_dir:
        config["temp_directory"] = spill_dir
    if threads:
        config["threads"] = threads
    try:
        return duckdb.connect(config=config)
    except duckdb.Error as exc:
        raise UsageError(f"DuckDB refused the settings: {exc}.") from None


def enable_remote(con: duckdb.DuckDBPyConnection, root: str) -> str:
    """Let `con` read a remote snapshot: s3:// through httpfs or s3fs (tracer/snapshot/s3.py),
    http(s):// through httpfs only. Returns the route taken."""
    from tracer.snapshot.s3 import enable_s3

    if root.startswith("s3://"):
        return enable_s3(con, root)
    try:
        try:
            con.execute("LOAD httpfs")
        except duckdb.Error:
            con.execute("INSTALL httpfs")
            con.execute("LOAD httpfs")
    except duckdb.Error as exc:
        raise DataError(
            f"DuckDB could not set up HTTP reading: {str(exc).splitlines()[0]}.",
            hint="Download the snapshot first (aws s3 sync s3://openalex/data ... "
            "--no-sign-request) and pass the local folder, or give its s3:// URL.",
        ) from None
    return "httpfs"


def error_text(exc: BaseException) -> str:
    """One line for a DuckDB error. An error raised in a Python filesystem (s3fs) arrives as
    its whole traceback: its last line ("PermissionError: Forbidden") is what it says."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].endswith("Traceback (most recent call last):"):
        said = [line for line in lines if re.match(r"^[A-Za-z_.]*(Error|Exception)\b.*:", line)]
        if said:
            return said[-1]
    return lines[0]


def text_reader(con: duckdb.DuckDBPyConnection) -> Callable[[str], str]:
    def read(url: str) -> str:
        try:
            row = con.execute("SELECT content FROM read_text(?)", [url]).fetchone()
        except duckdb.Error as exc:
            raise DataError(f"{url} could not be read: {error_text(exc)}") from None
        if row is None:
            raise DataError(f"{url} is empty.")
        return str(row[0])

    return read


def merged_ids(con: duckdb.DuckDBPyConnection, layout: Layout) -> dict[str, str]:
    """Remote merged-id files through DuckDB; a glob that matches nothing is skipped."""
    from tracer.snapshot.layout import read_merged_ids, short_w

    if not is_remote(layout.root):
        return read_merged_ids(layout.merged_ids_files)
    out: dict[str, str] = {}
    for pattern in layout.merged_ids_files:
        try:
            rows = con.execute(
                "SELECT id, merge_into_id FROM read_csv(?, header=true, all_varchar=true)",
                [pattern],
            ).fetchall()
        except duckdb.Error:
            continue
        for old, new in rows:
            a, b = short_w(old), short_w(new)
            if a and b:
                out[a] = b
    return out


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, layout: Layout) -> None:
        self.con = con
        self.layout = layout
        self.threads = int(con.execute("SELECT current_setting('threads')").fetchone()[0])  # type: ignore[index]
        self._refs_type: str | None = None

    # -- the passes -----------------------------------------------------------------------------

    def resolve_dois(
        self, files: list[SnapshotFile], dois: list[str], progress: StageProgress
    ) -> dict[str, list[str]]:
        """Pass 0: the W ids whose `doi` is one of `dois` (every spelling, any case)."""
        forms = doi_forms(dois)
        if not forms:
            return {}
        self._table("doi_forms", form=list(forms), doi=list(forms.values()))
        found: dict[str, list[str]] = {}
        for _, batch in self._batches(files, progress, "DOIs"):
            rows = self.con.execute(
                f"SELECT w.id, f.doi FROM {self._source(['id', 'doi'])} w "  # noqa: S608 - fixed text
                "JOIN doi_forms f ON lower(w.doi) = f.form",
                {"files": [f.url for f in batch]},
            ).fetchall()
            for wid, doi in rows:
                found.setdefault(doi, []).append(short_w(wid) or wid)
        return {k: sorted(set(v)) for k, v in found.items()}

    def find_hits(
        self, files: list[SnapshotFile], query: CiterQuery, progress: StageProgress
    ) -> list[tuple[str, str, str, str]]:
        """Pass 1: (citing id, label, partition, file) for every reference to a target.

        The citing rows' reference lists stay in the temp table `hits`, so that pass two need
        not decode `referenced_works` again (nine tenths of a works file's bytes): the lists
        are read once, here, and the join only keeps the few rows that cite a target.
        """
        rows = query.rows()
        self._table("targets", ref=[r for r, _ in rows], label=[label for _, label in rows])
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE hits "
            "(id VARCHAR, label VARCHAR, filename VARCHAR, refs VARCHAR[])"
        )
        partition = {f.url: f.partition for f in files}
        refs = self._refs_expr()
        sql = (
            "INSERT INTO hits SELECT r.id, t.label, r.filename, r.refs FROM ("  # noqa: S608 - fixed text
            "  SELECT id, refs, unnest(refs) AS ref, filename FROM ("
            f"    SELECT id, {refs} AS refs, filename "
            f"    FROM {self._source(['id', 'referenced_works'])})"
            ") r JOIN targets t ON r.ref = t.ref"
        )
        for _, batch in self._batches(files, progress, "citations"):
            self.con.execute(sql, {"files": [f.url for f in batch]})
        found = self.con.execute("SELECT id, label, filename FROM hits").fetchall()
        return [(cid, label, partition.get(path, ""), path) for cid, label, path in found]

    def read_records(
        self, files: list[SnapshotFile], ids: list[str], progress: StageProgress
    ) -> Iterator[tuple[str, str, str]]:
        """Pass 2: (id, partition, record JSON) of the hits, from the files that held them."""
        if not files or not ids:
            return
        partition = {f.url: f.partition for f in files}
        forms = sorted({i for w in ids for i in (w, "https://openalex.org/" + w)})
        self._table("wanted", id=forms)
        if self.layout.format == "jsonl":
            sql = (
                "SELECT json_extract_string(json, '$.id') AS id, filename, json "  # noqa: S608 - fixed text
                "FROM read_json_objects($files, format='newline_delimited', compression='gzip', "
                f"filename=true, hive_partitioning=false, maximum_object_size={MAX_OBJECT}) "
                "WHERE json_extract_string(json, '$.id') IN (SELECT id FROM wanted)"
            )
        else:
            # Every column but the references (pass one kept those of the hits): the scan
            # then costs a tenth of pass one's.
            sql = (
                "SELECT t.id, t.filename, json_merge_patch(to_json(t), "
                "json_object('filename', NULL, 'referenced_works', h.refs)) "
                "FROM (SELECT * EXCLUDE (referenced_works) "
                "FROM read_parquet($files, filename=true, hive_partitioning=false)) t "
                "JOIN (SELECT id, filename, any_value(refs) AS refs FROM hits "
                "WHERE id IN (SELECT id FROM wanted) GROUP BY id, filename) h "
                "ON t.id = h.id AND t.filename = h.filename"
            )
        for _, batch in self._batches(files, progress, "records"):
            for cid, path, text in self.con.execute(
                sql, {"files": [f.url for f in batch]}
            ).fetchall():
                yield cid, partition.get(path, ""), text

    # -- helpers --------------------------------------------------------------------------------

    def _table(self, name: str, **columns: list[str]) -> None:
        """A temp table of VARCHAR columns from equal-length lists, in one statement."""
        cols = ", ".join(f"unnest(${c}) AS {c}" for c in columns)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {cols}", columns)  # noqa: S608 - names from this module

    def _source(self, columns: list[str]) -> str:
        """The table function reading `columns` (projection) of $files, with their file name."""
        if self.layout.format == "jsonl":
            types = ", ".join(
                f"{c}: '{'VARCHAR[]' if c == 'referenced_works' else 'VARCHAR'}'" for c in columns
            )
            return (
                "read_json($files, format='newline_delimited', compression='gzip', "
                f"columns={{{types}}}, filename=true, hive_partitioning=false, "
                f"maximum_object_size={MAX_OBJECT})"
            )
        names = ", ".join(c for c in columns if c in ("id", "doi", "referenced_works"))
        return (
            f"(SELECT {names}, filename "  # noqa: S608 - column names from a fixed list
            "FROM read_parquet($files, filename=true, hive_partitioning=false))"
        )

    def _refs_expr(self) -> str:
        """`referenced_works` as a list, whether the Parquet file keeps it as a list or JSON text."""
        if self.layout.format == "jsonl":
            return "referenced_works"
        if self._refs_type is None:
            first = self.layout.files[0].url
            row = self.con.execute(
                "SELECT column_type FROM (DESCRIBE SELECT referenced_works "
                "FROM read_parquet(?, hive_partitioning=false))",
                [first],
            ).fetchone()
            self._refs_type = str(row[0]) if row else "VARCHAR[]"
        if self._refs_type.upper().startswith(("VARCHAR[]", "STRING[]")):
            return "referenced_works"
        return "from_json(referenced_works, '[\"VARCHAR\"]')"

    def _batches(
        self, files: list[SnapshotFile], progress: StageProgress, stage: str
    ) -> Iterator[tuple[int, list[SnapshotFile]]]:
        """Files in groups of four per thread: DuckDB reads a group in parallel, by row group,
        and a thread that finishes early waits at the group's end only."""
        size = 4 * max(1, self.threads)
        total = len(files)
        progress(stage, 0, total)
        for start in range(0, total, size):
            batch = files[start : start + size]
            yield start, batch
            progress(stage, min(total, start + size), total)
