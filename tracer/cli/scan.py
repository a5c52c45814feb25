"""`tracer scan`: crawl the sources for a dataset, classify, judge, store, print the report."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from tracer.affiliations.bootstrap import ensure_reference_data
from tracer.catalog import load_catalog
from tracer.cli import cli
from tracer.cli.common import (
    catalog_option,
    db_option,
    json_option,
    quiet_option,
    settings_from,
    stderr_console,
    stdout_console,
)
from tracer.cli.progress import RichProgress, say_blind_spots, scan_summary
from tracer.cli.snapshot import scan_from_snapshot, snapshot_options
from tracer.errors import PartialFailure
from tracer.render.terminal import print_report, terminal_report
from tracer.report import build_report
from tracer.scan import ScanOptions, run_scan
from tracer.store import Store
from tracer.store.cron_queries import standing


@cli.command("scan")
@click.argument("name", required=False)
@click.option("--no-mentions", is_flag=True, help="Skip the full-text mention searches.")
@click.option("--since", type=click.IntRange(1900, 2100), help="Keep papers from this year on.")
@click.option("--full", is_flag=True, help="Ignore stored state: fetch every list again.")
@db_option
@catalog_option
@json_option
@quiet_option
@snapshot_options
@click.pass_context
def scan_command(
    ctx: click.Context,
    /,
    name: str | None,
    no_mentions: bool,
    since: int | None,
    full: bool,
    db_path: str | None,
    catalog_path: str | None,
    as_json: bool,
    quiet: bool,
    **snapshot: Any,
) -> None:
    """Find the papers that cite or mention dataset NAME, judge their use, store them, and
    print the report.

    A second scan fetches only what changed since the last one; --full fetches everything.

    \b
    Examples:
      tracer scan brainwash
      tracer scan duke-mtmc --since 2019 --json > duke.json
      S2_API_KEY=... OPENALEX_API_KEY=... tracer scan ms-celeb-1m --quiet
      tracer scan --all --from-snapshot ~/openalex/data --memory-limit 4GB
    """
    if snapshot["snapshot_path"] or snapshot["snapshot_all"] or snapshot["snapshot_s2"]:
        scan_from_snapshot(
            ctx, name, full=full, since=since, db_path=db_path, catalog_path=catalog_path,
            as_json=as_json, quiet=quiet, **snapshot,
        )  # fmt: skip
        return
    if name is None:
        raise click.UsageError("Missing argument 'NAME'.")
    settings = settings_from(ctx, db_path=db_path, catalog_path=catalog_path)
    catalog = load_catalog(settings.catalog_path)
    dataset = catalog.get(name)
    err = stderr_console(quiet)
    say_blind_spots(err, settings)
    options = ScanOptions(mentions=not no_mentions, since=since, full=full)
    started = time.monotonic()
    with RichProgress(err, enabled=not quiet) as progress:
        for note in ensure_reference_data(settings, progress):
            err.print(f"Note: {note}", markup=False)
        result = run_scan(settings, catalog, dataset, options, progress)
    with Store(settings.database) as store:
        # The terminal shows a few dozen papers: it never holds the others (issue 19).
        report = build_report(store, dataset) if as_json else terminal_report(store, dataset)
        flagged = len(standing(store, [dataset.key])[dataset.key]["flagged"])
    if as_json:
        payload = {"run": result.to_dict(), "report": report.to_dict()}
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        print_report(report, stdout_console())
    err.print(
        scan_summary(result, flagged, time.monotonic() - started), markup=False, soft_wrap=True
    )
    if result.failures:
        raise PartialFailure(
            f"The scan of {dataset.key} finished without: " + "; ".join(result.failures) + ".",
            hint="Run the scan again later; what was stored is kept.",
        )
