"""`tracer scan --from-snapshot PATH`: the citers of one or every catalog dataset from an OpenAlex
snapshot (a local folder or s3://openalex/data), on DuckDB or Spark, into the store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from tracer.affiliations.classify import Classifier
from tracer.catalog import Dataset, load_catalog
from tracer.cli.common import settings_from, stderr_console, stdout_console
from tracer.errors import UsageError
from tracer.http import HttpClient
from tracer.render.terminal import print_report, terminal_report
from tracer.scan import Scanner, ScanOptions
from tracer.snapshot import ENGINES, engine_session, find_citers
from tracer.snapshot.origins import KIND, catalog_origins
from tracer.snapshot.s2_citations import find_shards, read_s2_citations, s2_origins
from tracer.sources.base import Source
from tracer.sources.semanticscholar import SemanticScholarSource
from tracer.sources.snapshot import S2_FILES, S2CitationsSource, SnapshotSource, s2_candidates
from tracer.sources.snapshot import SOURCE as SNAPSHOT
from tracer.store import Store
from tracer.store.snapshot_queries import repoint_merged, stored_works

F = TypeVar("F", bound=Callable[..., Any])


def snapshot_options(func: F) -> F:
    """The options `tracer scan` takes for a snapshot run (all of them named snapshot_*)."""
    options = [
        click.option(
            "--all",
            "snapshot_all",
            is_flag=True,
            help="Every catalog dataset (with --from-snapshot).",
        ),
        click.option(
            "--from-snapshot",
            "snapshot_path",
            metavar="PATH",
            help="Read citers from an OpenAlex snapshot: a local folder or s3://openalex/data.",
        ),
        click.option(
            "--engine",
            "snapshot_engine",
            type=click.Choice(ENGINES),
            default="duckdb",
            show_default=True,
            help="Snapshot engine: DuckDB on this machine, or Spark (needs Java 17).",
        ),
        click.option(
            "--master", "snapshot_master", metavar="URL", help="Spark master (default local[*])."
        ),
        click.option(
            "--memory-limit", "snapshot_memory", metavar="SIZE", help="Engine memory, e.g. 4GB."
        ),
        click.option(
            "--s2-citations",
            "snapshot_s2",
            metavar="PATH",
            help="Citation contexts from S2's Datasets API `citations` files (a folder or a "
            "glob), read with the same engine, instead of the S2 API.",
        ),
        click.option(
            "--spill-dir",
            "snapshot_spill",
            type=click.Path(file_okay=False),
            help="Folder for the engine's temporary files.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def scan_from_snapshot(
    ctx: click.Context,
    name: str | None,
    *,
    full: bool,
    since: int | None,
    db_path: str | None,
    catalog_path: str | None,
    as_json: bool,
    quiet: bool,
    snapshot_all: bool,
    snapshot_path: str | None,
    snapshot_engine: str,
    snapshot_master: str | None,
    snapshot_memory: str | None,
    snapshot_spill: str | None,
    snapshot_s2: str | None = None,
) -> None:
    if snapshot_s2 and not snapshot_path:
        raise UsageError(
            "--s2-citations needs --from-snapshot PATH.",
            hint="tracer scan --all --from-snapshot DIR --s2-citations S2DIR",
        )
    if not snapshot_path:
        raise UsageError(
            "--all needs --from-snapshot PATH.", hint="tracer scan --all --from-snapshot DIR"
        )
    if bool(name) == snapshot_all:
        raise UsageError("Give either a dataset NAME or --all, not both or neither.")
    settings = settings_from(ctx, db_path=db_path, catalog_path=catalog_path)
    catalog = load_catalog(settings.catalog_path)
    datasets = catalog.datasets if snapshot_all else [catalog.get(name or "")]
    err = stderr_console(quiet)
    origins, dois = catalog_origins(catalog, datasets)
    shards = find_shards(snapshot_s2) if snapshot_s2 else None  # bad paths fail before the pass
    with Store(settings.database) as store:
        after, known = (None, None) if full else last_read(store, datasets, snapshot_path)
        if known is not None and all(
            set(ids) <= set(known.get(k, [])) for k, ids in origins.items()
        ):
            # The last run resolved the DOIs already: reuse its ids, skip pass 0.
            origins, dois = {k: known.get(k, []) for k in origins}, {}
        # One Spark session for both readers: starting Spark costs seconds to a minute.
        with engine_session(
            snapshot_engine,
            snapshot_path,
            master=snapshot_master,
            memory_limit=snapshot_memory,
            spill_dir=snapshot_spill,
        ) as session:
            with _progress(err, enabled=not quiet) as report:
                result = find_citers(
                    snapshot_path,
                    origins,
                    dois=dois,
                    engine=snapshot_engine,
                    since=after,
                    memory_limit=snapshot_memory,
                    spill_dir=snapshot_spill,
                    master=snapshot_master,
                    progress=report,
                    spark=session,
                )
            repointed = repoint_merged(store, result.merged)
            contexts = None
            if shards is not None:
                cited = s2_origins(catalog, datasets, store.origin_ids)
                if not cited:
                    err.print(
                        "No origin paper of these datasets has an S2 CorpusId (s2_corpus_id in the "
                        "catalog): the S2 citations files cannot add contexts.",
                        markup=False,
                    )
                with _progress(err, enabled=not quiet) as report:
                    contexts = read_s2_citations(
                        shards,
                        cited,
                        engine=snapshot_engine,
                        skip=() if full else last_s2_shards(store, datasets, shards.root),
                        memory_limit=snapshot_memory,
                        spill_dir=snapshot_spill,
                        master=snapshot_master,
                        progress=report,
                        spark=session,
                    )
                candidates = s2_candidates(
                    result,
                    {d.key: stored_works(store, d.key) for d in datasets},
                    {d.key: [d.key, *d.derivatives] for d in datasets},
                )
        classifier = Classifier.load(settings)
        with HttpClient(settings) as http:
            sources: list[Source] = [SnapshotSource(http, result)]
            if contexts is not None:
                sources.append(S2CitationsSource(http, contexts, candidates))
            elif settings.s2_api_key:
                sources.append(SemanticScholarSource(http))  # contexts for what was found
            scanner = Scanner(store, catalog, http, classifier, sources=sources)
            options = ScanOptions(mentions=False, since=since, full=full)
            runs = [scanner.scan(dataset, options, kind=KIND) for dataset in datasets]
        if as_json:
            payload = {
                "snapshot": result.read.to_dict(),
                "repointed": [vars(r) for r in repointed],
                "s2_citations": None if contexts is None else {
                    **contexts.read.to_dict(), "files": len(contexts.read.files)
                },
                "runs": [
                    {
                        "dataset": r.dataset,
                        "run_id": r.run_id,
                        "status": r.status,
                        "found": r.stats.get(f"{SNAPSHOT}_citations", 0),
                        "s2_contexts": r.stats.get(f"{S2_FILES}_citations", 0),
                        "new_papers": r.new_papers,
                        "failures": r.failures,
                    }
                    for r in runs
                ],
            }
            click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        elif len(datasets) == 1:
            print_report(terminal_report(store, datasets[0]), stdout_console())
        else:
            out = stdout_console()
            for r in runs:
                found = r.stats.get(f"{SNAPSHOT}_citations", 0)
                out.print(f"{r.dataset}: {found} citing works, {r.new_papers} new", markup=False)
    read = result.read
    err.print(
        f"Snapshot {read.root} ({read.format}, release {read.release or 'unknown'}): "
        f"{len(read.files)} files in {len(read.partitions)} partitions read"
        + (f" (after {read.since})" if read.since else "")
        + f", {len(result.citers)} citing works.",
        markup=False,
    )
    if repointed:
        err.print(
            f"{len(repointed)} stored papers re-pointed to the OpenAlex ids their works were "
            f"merged into ({sum(1 for r in repointed if r.merged_from)} merged with a stored "
            "paper).",
            markup=False,
        )
    if contexts is not None:
        s2 = contexts.read
        err.print(
            f"S2 citations files {s2.root} (release {s2.release or 'unknown'}): "
            f"{len(s2.files)} shards read"
            + (f" ({s2.skipped} read before)" if s2.skipped else "")
            + f", {s2.rows} rows citing an origin paper.",
            markup=False,
        )


def last_s2_shards(store: Store, datasets: list[Dataset], root: str) -> set[str]:
    """The S2 citations shards (name:size) the last snapshot run of every one of these datasets
    read from `root`: a later run reads only the others."""
    done: set[str] | None = None
    for dataset in datasets:
        read: set[str] = set()
        for r in store.runs(dataset.key):
            info = ((r["stats"].get("sources") or {}).get(S2_FILES) or {}).get("s2_citations")
            if r["kind"] == KIND and r["status"] == "ok" and info and info.get("root") == root:
                read |= set(info.get("files") or [])
        done = read if done is None else done & read
    return done or set()


def last_read(
    store: Store, datasets: list[Dataset], root: str
) -> tuple[str | None, dict[str, list[str]] | None]:
    """The partition the last snapshot runs of these datasets read up to (the oldest of them,
    so that none misses a partition), and the target ids they used; (None, None) if any has none."""
    newest: list[str] = []
    targets: dict[str, list[str]] = {}
    for dataset in datasets:
        done = [
            r
            for r in store.runs(dataset.key)
            if r["kind"] == KIND
            and r["status"] == "ok"
            and ((r["stats"].get("sources") or {}).get(SNAPSHOT) or {}).get("snapshot", {}).get(
                "root"
            )
            == root.rstrip("/")
        ]
        if not done:
            return None, None
        info = (done[-1]["stats"].get("sources") or {}).get(SNAPSHOT) or {}
        part = (info.get("snapshot") or {}).get("newest_partition")
        if not part:
            return None, None
        newest.append(part)
        targets.update(info.get("targets") or {})
    return (min(newest) if newest else None), (targets or None)


@contextmanager
def _progress(console: Console, enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    if not (enabled and console.is_terminal):
        yield lambda stage, done, total: None
        return
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("Snapshot {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
    ) as bar:

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield report
