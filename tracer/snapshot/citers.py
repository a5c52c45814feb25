"""find_citers: the citers of every target at once, from an OpenAlex snapshot, on DuckDB or Spark."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from tracer.errors import DataError, UsageError
from tracer.snapshot.layout import Layout, SnapshotFile, open_layout
from tracer.snapshot.query import CiterQuery, SnapshotResult, dedupe_hits, load_citers, read_info

ENGINES = ("duckdb", "spark")
StageProgress = Callable[[str, int, int], None]  # (stage, files done, files in the stage)


class Engine(Protocol):
    name: str

    def resolve_dois(
        self, files: list[SnapshotFile], dois: list[str], progress: StageProgress
    ) -> dict[str, list[str]]: ...

    def find_hits(
        self, files: list[SnapshotFile], query: CiterQuery, progress: StageProgress
    ) -> list[tuple[str, str, str, str]]: ...

    def read_records(
        self, files: list[SnapshotFile], ids: list[str], progress: StageProgress
    ) -> Iterable[tuple[str, str, str]]: ...


def find_citers(
    root: str,
    origins: Mapping[str, Iterable[str]],
    *,
    engine: str = "duckdb",
    since: str | None = None,
    memory_limit: str | None = None,
    spill_dir: str | None = None,
    progress: StageProgress | None = None,
    dois: Mapping[str, Iterable[str]] | None = None,
    master: str | None = None,
    fmt: str | None = None,
    threads: int | None = None,
    work_dir: str | None = None,
    spark: Any = None,
) -> SnapshotResult:
    """The works of the snapshot at `root` that cite any target, with their full records.

    `origins`: label -> the W ids it stands for (every version of an origin paper). `dois`:
    label -> DOIs to look up in the snapshot as well (pass 0 over `id, doi`; costs one more
    read, so store the W ids it finds and pass them as `origins` next time). `since`: read only
    partitions after this date (the `newest_partition` of the last run). Merged ids are applied
    to the targets. `progress(stage, done, total)` is called per group of files. `spark`: the
    run's Spark session (`spark_engine.spark_session`), else one is started for this call.
    """
    if engine not in ENGINES:
        raise UsageError(f"Unknown snapshot engine {engine!r}.", hint="Use duckdb or spark.")
    if since is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", since):
        raise UsageError(f"The partition date {since!r} is not YYYY-MM-DD.")
    report = progress or (lambda stage, done, total: None)
    with _engine(
        engine, root, fmt, memory_limit, spill_dir, threads, master, work_dir, spark
    ) as (
        runner,
        layout,
        merged,
    ):
        wanted = {label: list(ids) for label, ids in origins.items()}
        resolved: dict[str, list[str]] = {}
        if dois:
            all_dois = sorted({d for ds in dois.values() for d in ds})
            # Origin papers may sit in any partition, so pass 0 reads them all.
            resolved = runner.resolve_dois(layout.files, all_dois, report)
            for label, ds in dois.items():
                for doi in ds:
                    wanted.setdefault(label, []).extend(_resolved_for(resolved, doi))
        query = CiterQuery.build(wanted, merged)
        files = layout.newer_than(since)
        hits = dedupe_hits(runner.find_hits(files, query, report))
        hit_files = sorted({h[2] for h in hits.values()})
        by_url = {f.url: f for f in files}
        records = runner.read_records(
            [by_url[u] for u in hit_files if u in by_url], sorted(hits), report
        )
        citers = load_citers(hits, records)
        read = read_info(runner.name, layout, since, query, files)
        return SnapshotResult(citers, read, merged, resolved)


def _resolved_for(resolved: Mapping[str, list[str]], doi: str) -> list[str]:
    from tracer.sources import normalize_doi

    bare = normalize_doi(doi)
    return resolved.get(bare or "", [])


def _engine(
    engine: str,
    root: str,
    fmt: str | None,
    memory_limit: str | None,
    spill_dir: str | None,
    threads: int | None,
    master: str | None,
    work_dir: str | None,
    spark: Any = None,
) -> AbstractContextManager[tuple[Engine, Layout, dict[str, str]]]:
    if engine == "duckdb":
        return _duckdb(root, fmt, memory_limit, spill_dir, threads)
    from tracer.snapshot.spark_engine import spark_engine

    return spark_engine(root, fmt, master, work_dir, memory_limit, spill_dir, spark)


@contextmanager
def _duckdb(
    root: str,
    fmt: str | None,
    memory_limit: str | None,
    spill_dir: str | None,
    threads: int | None,
) -> Iterator[tuple[Engine, Layout, dict[str, str]]]:
    """A DuckDB connection over the layout; DuckDB's errors (a corrupt file, a full spill
    folder, an unreachable bucket) become one DataError."""
    import duckdb

    from tracer.snapshot import duckdb_engine as de
    from tracer.snapshot.layout import is_remote

    con = de.connect(memory_limit=memory_limit, spill_dir=spill_dir, threads=threads)
    try:
        if is_remote(root):
            de.enable_remote(con, root)
        layout = open_layout(root, fmt=fmt, reader=de.text_reader(con))
        yield de.DuckDBEngine(con, layout), layout, de.merged_ids(con, layout)
    except duckdb.Error as exc:
        raise DataError(
            f"DuckDB failed while reading the snapshot at {root}: {de.error_text(exc)}.",
            hint="Check the files (a partial download?) and the space in the spill folder.",
        ) from None
    finally:
        con.close()


@contextmanager
def engine_session(
    engine: str,
    root: str,
    *,
    master: str | None = None,
    memory_limit: str | None = None,
    spill_dir: str | None = None,
) -> Iterator[Any]:
    """What one run's readers share: for Spark, one session (pass it as `spark=` to
    `find_citers` and `read_s2_citations`); for DuckDB nothing (each reader has its connection)."""
    if engine != "spark":
        yield None
        return
    from tracer.snapshot.layout import is_remote
    from tracer.snapshot.spark_engine import spark_session

    with spark_session(master, memory_limit, spill_dir, remote=is_remote(root)) as session:
        yield session


__all__ = ["ENGINES", "Engine", "engine_session", "find_citers"]
