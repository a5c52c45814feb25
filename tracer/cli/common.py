"""What every command shares: settings, output consoles, error handling."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import sqlite3
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TypeVar

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


def fail(error: TracerError) -> NoReturn:
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


def first_interrupt(signum: int, frame: FrameType | None) -> None:
    """The program's handler for SIGINT and SIGTERM: the first unwinds like Ctrl-C (the run is
    marked interrupted, the exit code is 130); a second, while the first is being handled,
    ends the process at once with the same code."""
    signal.signal(signal.SIGINT, _exit_interrupted)
    signal.signal(signal.SIGTERM, _exit_interrupted)
    raise KeyboardInterrupt


def _exit_interrupted(signum: int, frame: FrameType | None) -> None:
    """A signal while the process is already ending: end now, with the code of an interrupt."""
    os._exit(int(ExitCode.INTERRUPTED))


def _redacted(text: str) -> str:
    return _KEY_IN_TEXT.sub(r"\1REDACTED", text)


_STORE_DIR = str(Path(__file__).resolve().parents[1] / "store")
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


def _from_store(exc: BaseException) -> bool:
    """Whether the exception was raised while the store read the database."""
    frames = traceback.extract_tb(exc.__traceback__)
    return any(str(Path(f.filename).resolve()).startswith(_STORE_DIR) for f in frames)


def _flush_stdout() -> None:
    """What is still buffered for stdout goes out now, while a failure can still be said."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _drop_stdout()
    except OSError as exc:
        _drop_stdout()
        fail(DataError(f"Cannot write to standard output: {exc.strerror or exc}."))


def _drop_stdout() -> None:
    """Point stdout at nothing, so the interpreter's own flush at exit has nothing to fail on."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def run_main(group: click.Group, args: list[str] | None = None) -> None:
    """Run the CLI; turn known errors into messages and exit codes, never a traceback.

    Called with no arguments, as the `tracer` program, it owns the process: a signal that
    comes while the process ends exits 130 like any interrupt, never -2 or -15, and the exit
    skips the interpreter's teardown, where a signal would find the default handlers back."""
    if args is not None:
        _run_embedded(group, args)
        return
    code = int(ExitCode.ERROR)
    try:
        signal.signal(signal.SIGTERM, first_interrupt)
        signal.signal(signal.SIGINT, first_interrupt)
        _run(group, None)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:  # a second signal while the first was being handled
        code = int(ExitCode.INTERRUPTED)
    finally:
        signal.signal(signal.SIGTERM, _exit_interrupted)
        signal.signal(signal.SIGINT, _exit_interrupted)
    try:
        _flush_stdout()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(ExitCode.ERROR)
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(code)


def _run_embedded(group: click.Group, args: list[str]) -> None:
    """Inside another program (the tests): the same handling, signals restored after."""
    try:
        previous: Any = signal.signal(signal.SIGTERM, _terminated)
        installed = True
    except ValueError:  # not the main thread: leave signals alone
        installed = False
    try:
        _run(group, args)
    finally:
        if installed:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _run(group: click.Group, args: list[str] | None) -> None:
    try:
        rv = group.main(args=args, standalone_mode=False, prog_name="tracer")
        _flush_stdout()
    except click.exceptions.Abort:
        _interrupted()
    except KeyboardInterrupt:
        _interrupted()
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
        _drop_stdout()
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
    except json.JSONDecodeError as exc:
        if not _from_store(exc):
            _unexpected(exc)
        fail(
            DataError(
                f"The database holds a value that is not valid JSON ({exc.msg}).",
                hint="The database is damaged: restore it from a backup, or move it aside "
                "(or pass --db with another file) and scan again.",
            )
        )
    except OSError as exc:
        if exc.filename is None and exc.errno in _FULL:
            _drop_stdout()
            fail(DataError(f"Cannot write to standard output: {exc.strerror or exc}."))
        where = f" ({exc.filename})" if exc.filename else ""
        fail(TracerError(f"A file operation failed: {exc.strerror or exc}{where}."))
    except Exception as exc:  # a bug of ours: one line, not a traceback, unless asked for
        if os.environ.get("TRACER_DEBUG"):
            raise
        _unexpected(exc)
    sys.exit(int(rv) if isinstance(rv, int) else 0)


def _interrupted() -> NoReturn:
    try:
        click.echo("Interrupted.", err=True)
    except (OSError, ValueError):
        pass
    sys.exit(int(ExitCode.INTERRUPTED))


def _unexpected(exc: BaseException) -> NoReturn:
    fail(
        TracerError(
            _redacted(f"tracer failed unexpectedly ({type(exc).__name__}: {exc})."),
            hint="Run again with TRACER_DEBUG=1 to see where, and please report it.",
        )
    )
