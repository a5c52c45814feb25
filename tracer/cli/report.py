"""`tracer report`, `tracer export`, `tracer graph`: outputs drawn from the store, no network."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
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
    quiet_option,
    settings_from,
    stdout_console,
)
from tracer.errors import DataError, NotFoundError, UsageError
from tracer.render import write_atomic
from tracer.render.formats import REPORT_FORMATS, render_report, terminal_text
from tracer.render.graph import GRAPH_FORMATS, build_graph, write_graph
from tracer.render.tables import EXPORT_SUFFIXES, FORMATS, WHAT, export
from tracer.render.terminal import print_report, terminal_report
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
    terminal: bool = False,
) -> Report:
    """The stored report of dataset NAME; `terminal`: only what a terminal report without
    --all-papers shows (`terminal_report`: the same text, without every paper held)."""
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
        build = terminal_report if terminal else build_report
        return build(store, dataset, min_usage=min_usage, years=(since, until), country=country)


def output_format(
    output: str, suffixes: dict[str, str], fmt: str | None, command: str
) -> str:
    """The format a -o file is written in, from its extension; an extension the command does
    not write, a --format that disagrees with it, or a folder that does not exist is an error
    (nothing is created: a typo in a path must not make folders)."""
    path = Path(output)
    suffix = path.suffix.lower()
    names = ", ".join(dict.fromkeys(suffixes))
    if suffix not in suffixes:
        what = f"a {suffix} file" if suffix else "a file without an extension"
        raise UsageError(
            f"`tracer {command}` cannot write {what} ({output}); it writes {names}.",
            hint=f"Name the file with one of {names}.",
        )
    if fmt is not None and suffixes[suffix] != fmt:
        raise UsageError(
            f"--format {fmt} and the file name {output} (a {suffixes[suffix]} file) disagree.",
            hint="Pass only one of them, or make them agree.",
        )
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise DataError(f"Cannot write {output}: {folder} is a file, not a folder.")
    if not folder.is_dir():
        raise UsageError(
            f"The folder {folder} does not exist.",
            hint="Create it first; tracer does not create folders for -o.",
        )
    return suffixes[suffix]


def emit(data: str | bytes, output: str | None, quiet: bool) -> None:
    """Write to the file (atomically, then say so on stderr) or to stdout."""
    if output:
        write_atomic(output, data)
        if not quiet:
            click.echo(f"Wrote {output}", err=True)
    elif isinstance(data, bytes):
        raise UsageError(
            "Parquet and Excel files are binary and are not written to stdout.",
            hint="Pass -o FILE.parquet or -o FILE.xlsx.",
        )
    else:
        click.echo(data, nl=not data.endswith("\n"))


def _pager_command() -> list[str] | None:
    """The pager as git picks it: $TRACER_PAGER, else $PAGER, else less; None for none."""
    for name in ("TRACER_PAGER", "PAGER"):
        if name in os.environ:
            value = os.environ[name].strip()
            return shlex.split(value) if value and value != "cat" else None
    return ["less"]


def show_terminal_report(report: Report, *, all_papers: bool, no_pager: bool) -> None:
    """On a terminal, through a pager when the report is longer than the screen (as git does,
    with LESS=FRX unless LESS is set); piped or with --no-pager, straight to stdout."""
    console = stdout_console()
    stdout = sys.stdout
    command = None if no_pager or not stdout.isatty() else _pager_command()
    if command is None and not stdout.isatty():
        # Piped: plain text without the blanks rich pads table rows with.
        click.echo(terminal_text(report, width=console.width, all_papers=all_papers), nl=False)
        return
    if command is None:
        print_report(report, console, all_papers=all_papers)
        return
    size = shutil.get_terminal_size()
    colour = console.color_system is not None and not console.no_color
    text = terminal_text(report, width=console.width, colour=colour, all_papers=all_papers)
    if text.count("\n") < size.lines - 1:
        click.echo(text, nl=False)
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    try:
        pager = subprocess.Popen(command, stdin=subprocess.PIPE, env=env)
    except OSError:
        click.echo(text, nl=False)
        return
    assert pager.stdin is not None
    try:
        pager.stdin.write(text.encode(sys.stdout.encoding or "utf-8", "replace"))
        pager.stdin.close()
    except BrokenPipeError:  # the reader quit the pager before the end
        pass
    pager.wait()


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
    help="Write to this file (atomically) instead of stdout: .txt, .json, .md, .csv or .html.",
)
@click.option(
    "--all-papers", is_flag=True, help="List every paper in the terminal report, not the top 20."
)
@click.option("--no-pager", is_flag=True, help="Never page the terminal report (as git does).")
@json_option
@quiet_option
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
    all_papers: bool,
    no_pager: bool,
    as_json: bool,
    quiet: bool,
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
      tracer report brainwash --all-papers --no-pager
      tracer report brainwash --json | jq .countries

    On a terminal a long report goes through a pager ($TRACER_PAGER, $PAGER or less), never
    when piped. The JSON shape is stable and documented in docs/json-report.md.
    """
    if as_json:
        if fmt not in (None, "json"):
            raise UsageError(f"--json and --format {fmt} disagree.", hint="Pass only one of them.")
        fmt = "json"
    if output:
        fmt = output_format(output, _SUFFIX_FORMATS, fmt, "report")
    fmt = fmt or "terminal"
    report = load_report(
        ctx, name, db_path, catalog_path, **filters, terminal=fmt == "terminal" and not all_papers
    )
    if fmt == "terminal" and not output:
        show_terminal_report(report, all_papers=all_papers, no_pager=no_pager)
        return
    if fmt == "terminal":
        emit(terminal_text(report, all_papers=all_papers), output, quiet)
        return
    emit(render_report(report, fmt), output, quiet)


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
    help="csv, json, bibtex (articles only), parquet or xlsx (these two need -o and the "
    "`export` extra); default: from the -o file's extension, else csv.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to this file (atomically) instead of stdout: .csv, .json, .bib, .parquet, .xlsx.",
)
@quiet_option
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
    quiet: bool,
    db_path: str | None,
    catalog_path: str | None,
    **filters: Any,
) -> None:
    """Export dataset NAME's articles, authors, institutions or countries.

    CSV is UTF-8 and spreadsheet-safe: a cell that would start a formula gets a leading
    apostrophe. Every multi-valued cell is joined by "|"; columns and types are in
    docs/exports.md.

    \b
    Examples:
      tracer export brainwash -o brainwash.csv
      tracer export brainwash --what institutions --format json
      tracer export brainwash --format bibtex -o brainwash.bib
      tracer export brainwash -o brainwash.parquet
    """
    if output:
        fmt = output_format(output, EXPORT_SUFFIXES, fmt, "export")
    report = load_report(ctx, name, db_path, catalog_path, **filters)
    emit(export(report, what, fmt or "csv"), output, quiet)


@cli.command("graph")
@click.argument("name")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write: .graphml or .gexf (both open in Gephi).",
)
@quiet_option
@filter_options
@db_option
@catalog_option
@click.pass_context
def graph_command(
    ctx: click.Context,
    /,
    name: str,
    output: str,
    quiet: bool,
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
    output_format(output, {s: s for s in GRAPH_FORMATS}, None, "graph")
    report = load_report(ctx, name, db_path, catalog_path, **filters)
    graph = build_graph(report)
    write_graph(graph, output)
    if not quiet:
        click.echo(
            f"Wrote {output} ({graph.number_of_nodes()} nodes, "
            f"{graph.number_of_edges()} edges).",
            err=True,
        )
