"""`tracer data update`: fetch the newest ROR dump and build the gazetteer index."""

from __future__ import annotations

import click

from tracer.affiliations.update import update
from tracer.cli import cli
from tracer.cli.common import quiet_option, settings_from, stderr_console, stdout_console


@cli.group("data")
def data_group() -> None:
    """Local reference data: the ROR gazetteer used to resolve affiliations."""


@data_group.command("update")
@quiet_option
@click.pass_context
def update_command(ctx: click.Context, quiet: bool) -> None:
    """Download the newest ROR dump (from ROR's Zenodo community, or $TRACER_ROR_DUMP_URL)
    into the data dir and build the index that `tracer classify` and `tracer scan` load.

    \b
    Examples:
      tracer data update
      TRACER_ROR_DUMP_URL=https://example.org/ror.zip tracer data update
    """
    settings = settings_from(ctx)
    err = stderr_console(quiet)
    shown = {"step": -1}

    def progress(done: int, total: int | None) -> None:
        step = done // (20 << 20)
        if step != shown["step"]:
            shown["step"] = step
            of = f" of {total / 1e6:.0f}" if total else ""
            err.print(f"downloaded {done / 1e6:.0f}{of} MB", markup=False)

    path, gaz = update(settings, progress if err.is_terminal else None)
    stdout_console().print(
        f"ROR dump {path.name}: {len(gaz)} organisations indexed in {settings.ror_index}",
        markup=False,
    )
