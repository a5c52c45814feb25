"""What every command shares: settings, output consoles, error handling."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

import click
from rich.console import Console

from tracer.config import Settings, load_settings
from tracer.errors import DataError, ExitCode, TracerError

F = TypeVar("F", bound=Callable[..., Any])
_KEY_IN_TEXT = re.compile(r"((?:api_key|x-api-key)[=:]\s*)[^&\s\"']+", re.IGNORECASE)


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


def _terminated(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (a cron timeout, `kill`, a container stop) unwinds like Ctrl-C: the run is
    marked interrupted and what was stored stays; the exit code is 130 for both."""
    raise KeyboardInterrupt


def _redacted(text: str) -> str:
    return _KEY_IN_TEXT.sub(r"\1REDACTED", text)


def run_main(group: click.Group, args: list[str] | None = None) -> None:
    """Run the CLI; turn known errors into messages and exit codes, never a traceback."""
    try:
        previous: Any = signal.signal(signal.SIGTERM, _terminated)
        installed = True
    except ValueError:  # not the main thread (an embedding program): leave signals alone
        installed = False
    try:
        _run(group, args)
    finally:
        if installed:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _run(group: click.Group, args: list[str] | None) -> None:
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
    except sqlite3.DatabaseError as exc:
        fail(
            DataError(
                f"A database operation failed: {exc}.",
                hint="Check that the disk has room and the database file is writable; "
                "stored data is kept up to the last completed step.",
            )
        )
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        fail(TracerError(f"A file operation failed: {exc.strerror or exc}{where}."))
    except Exception as exc:  # a bug of ours: one line, not a traceback, unless asked for
        if os.environ.get("TRACER_DEBUG"):
            raise
        fail(
            TracerError(
                _redacted(f"tracer failed unexpectedly ({type(exc).__name__}: {exc})."),
                hint="Run again with TRACER_DEBUG=1 to see where, and please report it.",
            )
        )
    sys.exit(int(rv) if isinstance(rv, int) else 0)
