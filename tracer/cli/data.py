"""`tracer data update` and `tracer data status`: the ROR gazetteer and the official lists."""

from __future__ import annotations

import json

import click

from tracer.affiliations.reference import SOURCES, status, update_lists
from tracer.affiliations.update import update
from tracer.cli import cli
from tracer.cli.common import (
    json_option,
    quiet_option,
    settings_from,
    stderr_console,
    stdout_console,
)
from tracer.errors import PartialFailure, TracerError


@cli.group("data")
def data_group() -> None:
    """Local reference data: the ROR gazetteer and the official lists behind the flags."""


@data_group.command("update")
@click.option("--ror/--no-ror", default=True, help="Fetch the ROR dump (default: yes).")
@click.option("--lists/--no-lists", default=True, help="Fetch the official lists (default: yes).")
@quiet_option
@click.pass_context
def update_command(ctx: click.Context, ror: bool, lists: bool, quiet: bool) -> None:
    """Download the newest ROR dump (from ROR's Zenodo community, or $TRACER_ROR_DUMP_URL) and
    build its index, then the official lists: trade.gov's Consolidated Screening List (Entity
    List, Military End User List, NS-CMIC), the DoD 1260H list, the ASPI China Defence
    Universities Tracker and the FCC Covered List ($TRACER_CSL_URL, $TRACER_1260H_URL,
    $TRACER_ASPI_URL, $TRACER_FCC_URL). Fetched lists are merged into the packaged
    watchlist when classifying; a list that cannot be fetched keeps its last copy.

    \b
    Examples:
      tracer data update
      tracer data update --no-ror
      TRACER_ROR_DUMP_URL=https://example.org/ror.zip tracer data update
    """
    settings = settings_from(ctx)
    err = stderr_console(quiet)
    out = stdout_console()
    shown = {"step": -1}

    def progress(done: int, total: int | None) -> None:
        step = done // (20 << 20)
        if step != shown["step"]:
            shown["step"] = step
            of = f" of {total / 1e6:.0f}" if total else ""
            err.print(f"downloaded {done / 1e6:.0f}{of} MB", markup=False)

    ror_error: TracerError | None = None
    if ror:
        try:
            path, gaz = update(settings, progress if err.is_terminal else None)
        except TracerError as exc:
            if not lists:
                raise
            ror_error = exc  # the lists are still worth fetching; the error is raised after
            err.print(f"ROR dump: not updated: {exc.message}", markup=False)
        else:
            out.print(
                f"ROR dump {path.name}: {len(gaz)} organisations indexed in {settings.ror_index}",
                markup=False,
            )
    if not lists:
        return
    state = update_lists(settings)
    failed = []
    for row in state["lists"]:
        if row.get("error") and row["name"] in {s.name for s in SOURCES}:
            failed.append(f"{row['name']}: {row['error'].rstrip('.')}")
            kept = f" (kept {row['count']} from {row['fetched']})" if row.get("fetched") else ""
            err.print(f"{row['title']}: not updated: {row['error']}{kept}", markup=False)
        else:
            out.print(f"{row['title']}: {row['count']} listings from {row['url']}", markup=False)
    if ror_error is not None:
        raise ror_error
    if failed:
        raise PartialFailure(
            "Some lists could not be fetched: " + "; ".join(failed) + ".",
            hint="Check the network or the list's URL variable, then run it again.",
        )


@data_group.command("status")
@json_option
@click.pass_context
def status_command(ctx: click.Context, as_json: bool) -> None:
    """Show what reference data is loaded, from where and how old.

    \b
    Examples:
      tracer data status
      tracer data status --json | jq '.lists[] | {name, age_days}'
    """
    settings = settings_from(ctx)
    state = status(settings)
    if as_json:
        click.echo(json.dumps(state, indent=2, ensure_ascii=False))
        return
    ror = state["ror"]
    if ror.get("loaded"):
        age = f", {ror['age_days']} days old" if "age_days" in ror else ""
        click.echo(f"ROR gazetteer: {ror['file']}{age}")
    else:
        click.echo("ROR gazetteer: none (run `tracer data update`)")
    packaged = state["packaged_watchlist"]
    newest = f", newest listing {packaged['newest_listing']}" if packaged["newest_listing"] else ""
    click.echo(
        f"Packaged watchlist: {packaged['entries']} entries (embedded: a selection written by"
        f" hand{newest})"
    )
    for row in state["lists"]:
        if row["loaded"]:
            text = (
                f"{row['title']}: {row['count']} listings from {row['url']}, "
                f"fetched {row['fetched']} ({row['age_days']} days old)"
            )
        else:
            text = f"{row['title']}: not fetched (from {row['url']})"
        if row.get("error"):
            text += f"; last update failed: {row['error']}"
        click.echo(text)
