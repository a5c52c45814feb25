"""`tracer datasets`: list the catalog; `tracer datasets add`: add a dataset from its paper."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from tracer import catalog_add
from tracer.catalog import Catalog, load_catalog, user_catalog_path
from tracer.cli import cli
from tracer.cli.common import (
    catalog_option,
    json_option,
    settings_from,
    stdout_console,
)
from tracer.config import PACKAGED_CATALOG
from tracer.errors import UsageError


@cli.group("datasets", invoke_without_command=True)
@catalog_option
@json_option
@click.pass_context
def datasets_command(ctx: click.Context, catalog_path: str | None, as_json: bool) -> None:
    """List the datasets in the catalog, with their origin papers and status.

    The packaged catalog is listed with your own entries (those `tracer datasets add` wrote);
    --catalog or $TRACER_CATALOG lists that file alone.

    \b
    Examples:
      tracer datasets
      tracer datasets --json | jq '.[].key'
      tracer datasets --catalog my-datasets.yaml
      tracer datasets add 1805.00123 --key crowdhuman
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_from(ctx, catalog_path=catalog_path)
    catalog = load_catalog(settings.catalog_path)
    if as_json:
        click.echo(
            json.dumps([d.to_dict() for d in catalog.datasets], indent=2, ensure_ascii=False)
        )
        return
    stdout_console().print(_table(catalog))


def _table(catalog: Catalog) -> Table:
    where = str(catalog.path) + (f" and {catalog.user_path}" if catalog.user_path else "")
    table = Table(title=f"{len(catalog.datasets)} datasets in {where}")
    # The key is what one types: never cut, never wrapped; the other columns give way.
    table.add_column("key", style="bold", no_wrap=True, min_width=max(
        (len(d.key) for d in catalog.datasets), default=3
    ))
    table.add_column("name")
    table.add_column("year", justify="right")
    table.add_column("origin papers (ids)")
    table.add_column("status")
    for dataset in catalog.datasets:
        ids = "\n".join(paper.label() for paper in dataset.origin_papers)
        status = dataset.status.label() if dataset.status else ""
        table.add_row(dataset.key, dataset.name, str(dataset.year or ""), ids, status)
    return table


def _can_prompt() -> bool:
    return sys.stdin.isatty()


@datasets_command.command("add")
@click.argument("paper")
@click.option("--key", help="Key of the new dataset (default: from its name).")
@click.option("--name", help="Display name (default: the title's part before a colon).")
@click.option("--alias", "aliases", multiple=True, help="Another name; repeat for more.")
@click.option("--year", type=click.IntRange(1900, 2100), help="The paper's year, for a title.")
@click.option("--field", "fields", multiple=True, help="Field of study (default: from S2).")
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(dir_okay=False),
    help=(
        "Catalog file to add to (default: $TRACER_CATALOG, else your own catalog beside the "
        "config file)."
    ),
)
@click.option("-y", "--yes", is_flag=True, help="Write without asking.")
@click.pass_context
def add_command(
    ctx: click.Context,
    paper: str,
    key: str | None,
    name: str | None,
    aliases: tuple[str, ...],
    year: int | None,
    fields: tuple[str, ...],
    catalog_path: str | None,
    yes: bool,
) -> None:
    """Add a dataset to your own catalog from its origin paper: a DOI, an arXiv id or the
    paper's exact title, looked up in Semantic Scholar and OpenAlex.

    The entry is shown and written after you confirm (--yes writes at once; without a
    terminal, --yes is needed). `tracer scan KEY` then finds it.

    \b
    Examples:
      tracer datasets add "CrowdHuman: A Benchmark for Detecting Human in a Crowd" --year 2018
      tracer datasets add arXiv:1506.04878 --alias "Brainwash crowd" --yes
      tracer datasets add "Deep Face Recognition" --year 2015 --key my-vgg
    """
    settings = settings_from(ctx, catalog_path=catalog_path)
    target = catalog_add.target_file(settings, catalog_path)
    ref = catalog_add.parse_reference(paper)
    found = catalog_add.resolve(settings, ref, year)
    for note in found.notes:
        click.echo(f"Note: {note}.", err=True)
    entry = catalog_add.build_entry(
        found, key=key, name=name, aliases=aliases, fields_of_study=fields
    )
    own = target == user_catalog_path()
    existing = load_catalog(PACKAGED_CATALOG if own else target) if own or target.exists() else None
    click.echo(catalog_add.entry_yaml(entry), nl=False)
    reason = catalog_add.already_there(existing, entry) if existing else None
    if reason:
        raise UsageError(
            f"Not added: {reason}.", hint="Pass --key for another key, or scan the one there."
        )
    if not yes:
        if not _can_prompt():
            raise UsageError(
                f"No terminal to confirm on: nothing was written to {target}.",
                hint="Pass --yes to write the entry.",
            )
        if not click.confirm(f"Add {entry.key} to {target}?", default=True, err=True):
            click.echo("Nothing written.", err=True)
            return
    catalog_add.write(target, entry)
    scan = f"tracer scan {entry.key}" + ("" if own or not catalog_path else f" --catalog {target}")
    click.echo(f"Added {entry.key} to {target}. Scan it with: {scan}", err=True)
