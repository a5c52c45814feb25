"""`tracer refresh`: the cron job. Check cheaply, fetch what is new, rewrite reports, say what is new."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import click

from tracer.affiliations.bootstrap import ensure_reference_data
from tracer.catalog import Dataset, load_catalog
from tracer.cli import cli
from tracer.cli.common import (
    catalog_option,
    db_option,
    json_option,
    quiet_option,
    settings_from,
    stderr_console,
)
from tracer.cli.cron import facet_lines, failure_line, new_paper_lines
from tracer.cli.dashboard import render_index
from tracer.cli.progress import RichProgress, budget_text, say_blind_spots
from tracer.cli.report_sets import prepare_root, replace_set
from tracer.errors import PartialFailure, TracerError, UsageError
from tracer.refresh import FORMATS, DatasetOutcome, RefreshOptions, RefreshResult, refresh
from tracer.render import write_atomic
from tracer.render.formats import write_reports
from tracer.store import Store
from tracer.store.cron_queries import last_run_id, papers_first_found_after, standing


@cli.command("refresh")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Refresh every dataset in the catalog.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Write reports here, one folder per dataset, with an index.html.",
)
@click.option(
    "--formats",
    default=",".join(FORMATS),
    show_default=True,
    help="Report formats to write into --out (csv, json, html, md, terminal).",
)
@click.option(
    "--mentions-every",
    type=click.FloatRange(min=0),
    default=7.0,
    show_default=True,
    help="Days between full-text mention searches (they are slower and rarely change).",
)
@click.option(
    "--full-every",
    type=click.FloatRange(min=0),
    default=7.0,
    show_default=True,
    help="Days between full reads of a changed citation list; in between only its recent "
    "years are read (papers indexed late are found by the next full read). 0: always in full.",
)
@click.option("--full", is_flag=True, help="Fetch every list again, changed or not.")
@click.option("--log", "log_file", type=click.Path(dir_okay=False), help="Append a log here.")
@db_option
@catalog_option
@json_option
@quiet_option
@click.pass_context
def refresh_command(
    ctx: click.Context,
    names: tuple[str, ...],
    all_: bool,
    out: str | None,
    formats: str,
    mentions_every: float,
    full_every: float,
    full: bool,
    log_file: str | None,
    db_path: str | None,
    catalog_path: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Bring stored datasets up to date, for cron.

    One batched request per source tells which datasets have new citations; only those are
    fetched again. With --quiet nothing is printed when nothing changed, and one line per new
    paper, country, institution or flagged institution when something did. Exit codes: 0 done,
    5 some dataset or source failed (its previous reports are kept), 6 another refresh holds
    the lock.

    \b
    Examples:
      tracer refresh brainwash
      tracer refresh --all --out reports/ --quiet
      tracer refresh duke-mtmc ms-celeb-1m --formats html,csv --out /var/www/reports
    """
    settings = settings_from(ctx, db_path=db_path, catalog_path=catalog_path)
    catalog = load_catalog(settings.catalog_path)
    if all_ and names:
        raise UsageError("Give dataset names or --all, not both.")
    if not all_ and not names:
        raise UsageError(
            "Name the datasets to refresh, or pass --all.", hint="tracer refresh --all"
        )
    datasets: list[Dataset] = catalog.datasets if all_ else [catalog.get(n) for n in names]
    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in wanted if f not in (*FORMATS, "terminal")]
    if bad or not wanted:
        raise UsageError(
            f"Unknown report format {bad[0] if bad else formats!r}.",
            hint="Use a comma-separated list of: csv, json, html, md, terminal.",
        )
    if log_file:
        _log_to(Path(log_file))
    root = prepare_root(Path(out)) if out else None
    options = RefreshOptions(
        out=root,
        formats=wanted,
        mention_interval=timedelta(days=mentions_every),
        full=full,
        full_every=timedelta(days=full_every),
    )
    err = stderr_console(quiet)
    say_blind_spots(err, settings)
    with Store(settings.database) as store:
        before = last_run_id(store)
    unwritten: dict[str, str] = {}

    def render(store: Store, dataset: Dataset, folder: Path, fmts: Sequence[str]) -> list[str]:
        """The dataset's report set, replaced whole; a failure is that dataset's, not the run's."""
        try:
            return replace_set(write_reports, store, dataset, folder.parent, fmts)
        except TracerError as exc:
            unwritten[dataset.key] = exc.message
        except OSError as exc:
            unwritten[dataset.key] = f"Cannot write the reports: {exc.strerror or exc}."
        return []

    started = time.monotonic()
    with RichProgress(err, enabled=not quiet) as progress:
        for note in ensure_reference_data(settings, progress):  # first use, as a scan does
            err.print(f"Note: {note}", markup=False, soft_wrap=True)
        result = refresh(settings, catalog, datasets, options, render=render, progress=progress)
    with Store(settings.database) as store:
        new_ids = {o.key: papers_first_found_after(store, o.key, before) for o in result.outcomes}
        lines = {o.key: _new_lines(store, o, new_ids[o.key]) for o in result.outcomes}
        if root is not None:
            failed = {o.key: bool(o.failures or o.key in unwritten) for o in result.outcomes}
            try:
                _write_index(store, root, catalog.datasets, datasets, new_ids, failed)
            except TracerError as exc:
                unwritten["index.html"] = exc.message
    failures = {
        o.key: [*o.failures, *([f"reports: {unwritten[o.key]}"] if o.key in unwritten else [])]
        for o in result.outcomes
    }
    if "index.html" in unwritten:
        failures.setdefault("index", []).append(f"index.html: {unwritten['index.html']}")
    for key, items in failures.items():
        for failure in items:
            click.echo(failure_line(key, failure), err=True)
    _print(
        result,
        lines,
        as_json=as_json,
        quiet=quiet,
        failures=failures,
        new_counts={k: len(v) for k, v in new_ids.items()},
    )
    count, new = len(result.outcomes), sum(len(v) for v in new_ids.values())
    err.print(
        f"Refreshed {count} {'dataset' if count == 1 else 'datasets'}: "
        f"{sum(o.changed for o in result.outcomes)} changed, "
        f"{new} new {'paper' if new == 1 else 'papers'}, "
        f"{sum(bool(failures[o.key]) for o in result.outcomes)} failed; "
        f"Requests: {_requests(result.requests)} (total {result.total_requests})"
        f"{budget_text(result.budget)}; "
        f"{time.monotonic() - started:.0f} s.",
        markup=False,
        soft_wrap=True,
    )
    logging.getLogger("tracer.refresh").info(
        "refresh done: %s",
        "; ".join(_summary(o, len(new_ids[o.key]), failures[o.key]) for o in result.outcomes),
    )
    failed_keys = [key for key, items in failures.items() if items]
    if failed_keys:
        raise PartialFailure(
            f"Refresh incomplete for {', '.join(failed_keys)}: "
            f"{sum(len(failures[k]) for k in failed_keys)} step(s) failed, one FAILED line each.",
            hint="Their previous reports are kept; the next refresh tries again.",
        )


def _write_index(
    store: Store,
    root: Path,
    catalog: Sequence[Dataset],
    refreshed: Sequence[Dataset],
    new_ids: dict[str, list[int]],
    failed: dict[str, bool],
) -> None:
    """ROOT/index.html: the datasets of this run and every other one with a folder there."""
    shown = {d.key for d in refreshed} | {d.key for d in catalog if (root / d.key).is_dir()}
    listed = [d for d in catalog if d.key in shown]
    page = render_index(
        root,
        listed,
        standing(store, [d.key for d in listed]),
        {k: len(v) for k, v in new_ids.items()},
        failed,
    )
    write_atomic(root / "index.html", page)


def _new_lines(store: Store, outcome: DatasetOutcome, paper_ids: list[int]) -> list[str]:
    return [
        *new_paper_lines(store, outcome.key, paper_ids),
        *facet_lines(outcome.key, "country", outcome.new_countries),
        *facet_lines(outcome.key, "institution", outcome.new_institutions),
        *facet_lines(outcome.key, "flagged", outcome.new_flagged),
    ]


def _requests(requests: dict[str, dict[str, int]]) -> str:
    return (
        ", ".join(f"{source} {sum(per.values())}" for source, per in sorted(requests.items()))
        or "none"
    )


def _summary(outcome: DatasetOutcome, new: int, failures: list[str]) -> str:
    state = "failed" if failures else ("changed" if outcome.changed else "unchanged")
    return f"{outcome.key} {state}, {new} new"


def _print(
    result: RefreshResult,
    lines: dict[str, list[str]],
    *,
    as_json: bool,
    quiet: bool,
    failures: dict[str, list[str]],
    new_counts: dict[str, int],
) -> None:
    if as_json:
        payload = {
            "requests": result.requests,
            "total_requests": result.total_requests,
            "budget": result.budget,
            "datasets": [
                {**vars(o), "failures": failures[o.key], "lines": lines[o.key]}
                for o in result.outcomes
            ],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if not quiet:
        for outcome in result.outcomes:
            state = (
                "failed"
                if failures[outcome.key]
                else (f"updated ({outcome.reason})" if outcome.changed else "unchanged")
            )
            click.echo(f"{outcome.key}: {state}, {new_counts[outcome.key]} new papers")
    for outcome in result.outcomes:
        for line in lines[outcome.key]:
            click.echo(line)
def _log_to(path: Path) -> None:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("tracer")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
