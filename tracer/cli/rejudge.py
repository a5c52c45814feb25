"""`tracer rejudge`: classify and judge stored papers again with the current rules, offline."""

from __future__ import annotations

import json

import click

from tracer.affiliations.classify import Classifier
from tracer.catalog import load_catalog
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
from tracer.errors import UsageError
from tracer.http import HttpClient
from tracer.scan import Scanner
from tracer.store import Store


@cli.command("rejudge")
@click.argument("name", required=False)
@click.option("--all", "every", is_flag=True, help="Every dataset in the catalog.")
@db_option
@catalog_option
@json_option
@quiet_option
@click.pass_context
def rejudge_command(
    ctx: click.Context,
    name: str | None,
    every: bool,
    db_path: str | None,
    catalog_path: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Classify every stored affiliation and judge every stored paper of dataset NAME again,
    with the current rules, gazetteer and watchlist. No request is made; nothing but the
    affiliations and the judgements is rewritten.

    \b
    Examples:
      tracer rejudge brainwash
      tracer rejudge --all --quiet
    """
    if bool(name) == every:
        raise UsageError("Name one dataset or give --all.", hint="tracer rejudge brainwash")
    settings = settings_from(ctx, db_path=db_path, catalog_path=catalog_path)
    catalog = load_catalog(settings.catalog_path)
    datasets = catalog.datasets if every else [catalog.get(name or "")]
    err = stderr_console(quiet)
    levels: dict[str, dict[str, int]] = {}
    with Store(settings.database) as store, HttpClient(settings, cache=False) as http:
        scanner = Scanner(
            store, catalog, http, Classifier.load(settings), RichProgress(err, enabled=not quiet)
        )
        for dataset in datasets:
            if store.dataset_paper_ids(dataset.key) or not every:
                levels[dataset.key] = scanner.rejudge(dataset)
    if as_json:
        click.echo(json.dumps(levels, indent=2, sort_keys=True))
        return
    for key, counts in levels.items():
        text = ", ".join(f"{n} {level}" for level, n in sorted(counts.items())) or "no papers"
        click.echo(f"{key}: {text}")
