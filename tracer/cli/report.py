"""`tracer report`, `tracer export`, `tracer graph`: outputs drawn from the store, no network."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from tracer.catalog import load_catalog
from tracer.cli import cli
from tracer.cli.common import (
    catalog_option,
    db_option,
    json_option,
    settings_from,
    stdout_console,
)
from tracer.errors import NotFoundError, UsageError
from tracer.render import write_atomic
from tracer.render.formats import REPORT_FORMATS, render_report
from tracer.render.graph import GRAPH_FORMATS, build_graph, write_graph
from tracer.render.tables import FORMATS, WHAT, export
from tracer.render.terminal import print_report
from tracer.report import LEVELS, Report, build_report
from tracer.store import Store

F = TypeVar("F", bound=Callable[..., Any])
_SUFFIX_FORMATS = {
    ".json": "json",
    ".md": "md",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".txt": "terminal",
}


def filter_options(func: F) -> F:
    """--min-usage, --since, --until, --country: the report's filters."""
    func = click.option(
        "--country",
        metavar="CC",
        help="Only papers with an author in this country (ISO 3166-1 alpha-2, e.g. CN).",
    )(func)
    func = click.option(
        "--until", type=int, metavar="YEAR", help="Only papers published in or before YEAR."
    )(func)
    func = click.option(
        "--since", type=int, metavar="YEAR", help="Only papers published in or after YEAR."
    )(func)
    return click.option(
        "--min-usage",
        type=click.Choice(LEVELS),
        help="Keep papers judged at least this: cited (every judged paper) < mentioned < used. "
        "Default: every paper found, judged or not.",
    )(func)


def load_report(
    ctx: click.Context,
    name: str,
    db_path: str | None,
    catalog_path: str | None,
    *,
    min_usage: str | None = None,
    since: int | None = None,
    until: int | None = None,
    country: str | None = None,
) -> Report:
    settings = settings_from(ctx, db_path=db_path, catalog_path=catalog_path)
    dataset = load_catalog(settings.catalog_path).get(name)
    if not settings.database.exists():
        raise NotFoundError(
            f"There is no database at {settings.database}.",
            hint=f"Run `tracer scan {dataset.key}` first, or pass --db.",
        )
    with Store(settings.database) as store:
        if not store.runs(dataset.key) and not store.dataset_paper_ids(dataset.key):
            raise NotFoundError(
                f"Nothing is stored for {dataset.key} in {settings.database}.",
                hint=f"Run `tracer scan {dataset.key}` first.",
            )
        return build_report(
            store, dataset, min_usage=min_usage, years=(since, until), country=country
        )


def emit(text: str, output: str | None) -> None:
    """Write to the file (atomically) or to stdout."""
    if output:
        write_atomic(output, text)
    else:
        click.echo(text, nl=not text.endswith("\n"))


@cli.command("report")
@click.argument("name")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    help="Output format (default: terminal, or from the -o file's extension).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to this file (atomically) instead of stdout.",
)
@json_option
@filter_options
@db_option
@catalog_option
@click.pass_context
def report_command(
    ctx: click.Context,
    /,
    name: str,
    fmt: str | None,
    output: str | None,
    as_json: bool,
    db_path: str | None,
    catalog_path: str | None,
    **filters: Any,
) -> None:
    """Print the report for dataset NAME from the local database (no network).

    \b
    Examples:
      tracer report brainwash
      tracer report brainwash --min-usage used --since 2019
      tracer report brainwash -o brainwash.html
      tracer report brainwash --json | jq .countries

    The JSON shape is stable and documented in docs/json-report.md.
    """
    if as_json:
        if fmt not in (None, "json"):
            raise UsageError(f"--json and --format {fmt} disagree.", hint="Pass only one of them.")
        fmt = "json"
    if fmt is None:
        fmt = _SUFFIX_FORMATS.get(Path(output).suffix.lower(), "terminal") if output else "terminal"
    report = load_report(ctx, name, db_path, catalog_path, **filters)
    if fmt == "terminal" and not output:
        print_report(report, stdout_console())
        return
    emit(render_report(report, fmt), output)


@cli.command("export")
@click.argument("name")
@click.option(
    "--what",
    type=click.Choice(WHAT),
    default="articles",
    show_default=True,
    help="One row per article, per author and affiliation, per institution or per country.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="csv, json or bibtex (articles only); default: from the -o file's extension, else csv.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to this file (atomically) instead of stdout.",
)
@filter_options
@db_option
@catalog_option
@click.pass_context
def export_command(
    ctx: click.Context,
    /,
    name: str,
    what: str,
    fmt: str | None,
    output: str | None,
    db_path: str | None,
    catalog_path: str | None,
    **filters: Any,
) -> None:
    """Export dataset NAME's articles, authors, institutions or countries.

    CSV is UTF-8 and spreadsheet-safe: a cell that would start a formula gets a leading
    apostrophe.

    \b
    Examples:
      tracer export brainwash -o brainwash.csv
      tracer export brainwash --what institutions --format json
      tracer export brainwash --format bibtex -o brainwash.bib
    """
    if fmt is None:
        suffix = Path(output).suffix.lower() if output else ""
        fmt = {".json": "json", ".bib": "bibtex"}.get(suffix, "csv")
    report = load_report(ctx, name, db_path, catalog_path, **filters)
    emit(export(report, what, fmt), output)


@cli.command("graph")
@click.argument("name")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write: .graphml or .gexf (both open in Gephi).",
)
@filter_options
@db_option
@catalog_option
@click.pass_context
def graph_command(
    ctx: click.Context,
    /,
    name: str,
    output: str,
    db_path: str | None,
    catalog_path: str | None,
    **filters: Any,
) -> None:
    """Write dataset NAME's network of papers, institutions and countries for Gephi.

    \b
    Examples:
      tracer graph brainwash -o brainwash.graphml
      tracer graph brainwash --min-usage used -o used.gexf
    """
    if Path(output).suffix.lower() not in GRAPH_FORMATS:
        raise UsageError(
            f"Cannot write a graph to {output}.", hint="Name the file .graphml or .gexf."
        )
    report = load_report(ctx, name, db_path, catalog_path, **filters)
    graph = build_graph(report)
    write_graph(graph, output)
    click.echo(
        f"Wrote {graph.number_of_nodes()} nodes and {graph.number_of_edges()} edges to {output}.",
        err=True,
    )
