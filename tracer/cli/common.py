"""What every command shares: settings, output consoles, error handling."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from tracer.config import Settings, load_settings
from tracer.errors import ExitCode, TracerError

F = TypeVar("F", bound=Callable[..., Any])


def _no_color() -> bool:
    return "NO_COLOR" in os.environ


def stdout_console() -> Console:
    """Data goes to stdout; colour only on a terminal and without NO_COLOR."""
    return Console(no_color=_no_color(), highlight=False, soft_wrap=False)


def stderr_console(quiet: bool = False) -> Console:
    """Progress and messages go to stderr, silent with --quiet."""
    return Console(stderr=True, no_color=_no_color(), highlight=False, quiet=quiet)


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    """Settings for this invocation; global flags were stored on the root context."""
    root = ctx.find_root()
    merged = dict(root.obj or {})
    merged.update({k: v for k, v in overrides.items() if v is not None})
    return load_settings(**merged)


def db_option(func: F) -> F:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        help="Database file (default: $TRACER_DB or tracer.db in the user data dir).",
    )(func)


def catalog_option(func: F) -> F:
    return click.option(
        "--catalog",
        "catalog_path",
        type=click.Path(dir_okay=False),
        help="Catalog of datasets (default: $TRACER_CATALOG or the packaged datasets.yaml).",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")(func)


def quiet_option(func: F) -> F:
    return click.option("-q", "--quiet", is_flag=True, help="No progress or messages on stderr.")(
        func
    )


def fail(error: TracerError) -> None:
    """Print one sentence (and a hint) on stderr and exit with the error's code."""
    # Plain echo, not rich: a message must stay one line whatever the terminal width.
    click.echo(f"Error: {error.message}", err=True)
    if error.hint:
        click.echo(f"Hint: {error.hint}", err=True)
    sys.exit(int(error.exit_code))


def run_main(group: click.Group, args: list[str] | None = None) -> None:
    """Run the CLI; turn known errors into messages and exit codes, never a traceback."""
    try:
        rv = group.main(args=args, standalone_mode=False, prog_name="tracer")
    except click.exceptions.Abort:
        stderr_console().print("Interrupted.")
        sys.exit(int(ExitCode.INTERRUPTED))
    except KeyboardInterrupt:
        stderr_console().print("Interrupted.")
        sys.exit(int(ExitCode.INTERRUPTED))
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(int(ExitCode.USAGE))
    except click.ClickException as exc:
        exc.show()
        sys.exit(int(ExitCode.USAGE) if exc.exit_code == 2 else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except TracerError as exc:
        fail(exc)
    except BrokenPipeError:
        # `tracer ... | head`: the reader went away; that is not an error of ours.
        sys.stderr.close()
        sys.exit(int(ExitCode.OK))
    sys.exit(int(rv) if isinstance(rv, int) else 0)
