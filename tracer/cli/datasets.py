"""`tracer datasets`: list the catalog."""

from __future__ import annotations

import json

import click
from rich.table import Table

from tracer.catalog import load_catalog
from tracer.cli import cli
from tracer.cli.common import catalog_option, json_option, settings_from, stdout_console


@cli.command("datasets")
@catalog_option
@json_option
@click.pass_context
def datasets_command(ctx: click.Context, catalog_path: str | None, as_json: bool) -> None:
    """List the datasets in the catalog, with their origin papers and status.

    \b
    Examples:
      tracer datasets
      tracer datasets --json | jq '.[].key'
      tracer datasets --catalog my-datasets.yaml
    """
    settings = settings_from(ctx, catalog_path=catalog_path)
    catalog = load_catalog(settings.catalog_path)
    if as_json:
        click.echo(
            json.dumps([d.to_dict() for d in catalog.datasets], indent=2, ensure_ascii=False)
        )
        return
    table = Table(title=f"{len(catalog.datasets)} datasets in {catalog.path}")
    table.add_column("key", style="bold")
    table.add_column("name")
    table.add_column("year", justify="right")
    table.add_column("origin papers (ids)")
    table.add_column("status")
    for dataset in catalog.datasets:
        ids = "\n".join(paper.label() for paper in dataset.origin_papers)
        status = dataset.status.label() if dataset.status else ""
        table.add_row(dataset.key, dataset.name, str(dataset.year or ""), ids, status)
    stdout_console().print(table)
