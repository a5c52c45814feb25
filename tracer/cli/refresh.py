"""`tracer refresh`: the cron job. Check cheaply, fetch what is new, rewrite reports, say what is new."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from html import escape
from pathlib import Path

import click

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
from tracer.cli.progress import RichProgress
from tracer.errors import PartialFailure, UsageError
from tracer.refresh import FORMATS, DatasetOutcome, RefreshOptions, RefreshResult, refresh
from tracer.render import write_atomic
from tracer.render.formats import write_reports


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
    options = RefreshOptions(
        out=Path(out) if out else None,
        formats=wanted,
        mention_interval=timedelta(days=mentions_every),
        full=full,
    )
    err = stderr_console(quiet)
    result = refresh(
        settings,
        catalog,
        datasets,
        options,
        render=write_reports,
        progress=RichProgress(err, enabled=not quiet),
    )
    if options.out is not None:
        write_index(options.out, datasets)
    _print(result, as_json=as_json, quiet=quiet)
    logging.getLogger("tracer.refresh").info(
        "refresh done: %s", "; ".join(_summary(o) for o in result.outcomes)
    )
    failed = [o for o in result.outcomes if o.failures]
    if failed:
        raise PartialFailure(
            "Refresh incomplete for "
            + "; ".join(f"{o.key} ({', '.join(o.failures)})" for o in failed)
            + ".",
            hint="Their previous reports are kept; the next refresh tries again.",
        )


def _summary(outcome: DatasetOutcome) -> str:
    state = "failed" if outcome.failures else ("changed" if outcome.changed else "unchanged")
    return f"{outcome.key} {state}, {len(outcome.new_papers)} new"


def _print(result: RefreshResult, *, as_json: bool, quiet: bool) -> None:
    if as_json:
        payload = {
            "requests": result.requests,
            "total_requests": result.total_requests,
            "datasets": [vars(o) for o in result.outcomes],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    lines = [
        line
        for o in result.outcomes
        for line in o.lines()
        if not line.startswith(f"{o.key}: FAILED")
    ]
    if quiet:
        for line in lines:
            click.echo(line)
        return
    for outcome in result.outcomes:
        state = (
            "failed"
            if outcome.failures
            else (f"updated ({outcome.reason})" if outcome.changed else "unchanged")
        )
        click.echo(f"{outcome.key}: {state}, {len(outcome.new_papers)} new papers")
    for line in lines:
        click.echo(line)
    click.echo(f"Requests: {result.total_requests}")


def write_index(out: Path, datasets: list[Dataset]) -> None:
    """An index page linking every dataset folder's reports (only files that exist)."""
    items = []
    for dataset in datasets:
        folder = out / dataset.key
        files = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        links = " ".join(
            f'<a href="{escape(dataset.key)}/{escape(name)}">{escape(name.rsplit(".", 1)[-1])}</a>'
            for name in files
            if not name.startswith(".")
        )
        items.append(f"<li><b>{escape(dataset.name)}</b> {links}</li>")
    page = (
        "<!doctype html><meta charset=utf-8><title>tracer reports</title>"
        "<h1>Dataset usage reports</h1><ul>" + "".join(items) + "</ul>\n"
    )
    write_atomic(out / "index.html", page)


def _log_to(path: Path) -> None:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("tracer")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
