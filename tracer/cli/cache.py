"""`tracer cache clear`: the way out of a corrupt or unwanted HTTP response cache."""

from __future__ import annotations

import click

from tracer.cli import cli
from tracer.cli.common import quiet_option, settings_from, stderr_console
from tracer.errors import DataError
from tracer.http import clear_cache


@cli.group("cache")
def cache_group() -> None:
    """The HTTP response cache (API answers kept for a day or a week to save requests).

    \b
    Examples:
      tracer cache clear
    """


@cache_group.command("clear")
@quiet_option
@click.pass_context
def cache_clear_command(ctx: click.Context, quiet: bool) -> None:
    """Delete the HTTP response cache. The database of findings is not touched; the next
    scan asks the sources again.

    \b
    Examples:
      tracer cache clear
    """
    settings = settings_from(ctx)
    try:
        found = clear_cache(settings)
    except OSError as exc:
        raise DataError(
            f"Cannot delete the HTTP cache {settings.http_cache}: {exc.strerror or exc}.",
            hint="Delete the file by hand, or check the permissions of its folder.",
        ) from None
    what = "Deleted" if found else "There was no"
    stderr_console(quiet).print(f"{what} HTTP cache at {settings.http_cache}.")
