"""The `tracer` command line: parse, call the core, print, exit with the right code.

Each command lives in its own module below and registers itself on `cli`; this module holds the
group, the shared options and the one place where errors become messages and exit codes.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType


def _is_program() -> bool:
    """Whether this process is the `tracer` program (`tracer ...` or `python -m tracer`)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None:
        return bool(spec.name == "tracer.__main__")
    return os.path.basename(getattr(main, "__file__", "") or "") in {"tracer", "tracer.exe"}


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if _is_program():
    # Loading the commands takes about half a second: a SIGTERM in it unwinds like Ctrl-C.
    signal.signal(signal.SIGTERM, _stop)

try:
    import importlib

    import click

    from tracer import __version__
    from tracer.cli.common import run_main
except KeyboardInterrupt:  # Ctrl-C while the program starts: nothing was done yet
    if not _is_program():
        raise
    sys.stderr.write("Interrupted.\n")
    os._exit(130)

# Modules that define commands; each adds its commands to `cli` when imported.
COMMAND_MODULES = [
    "datasets",
    "scan",
    "classify",
    "data",
    "report",
    "cache",
    "config",
    "refresh",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="tracer")
def cli() -> None:
    """Trace where a research dataset goes: the papers that cite or mention it, their authors'
    institutions, countries and sectors, and the military, defence-linked or sanctioned
    organisations among them.

    \b
    Examples:
      tracer datasets                 list the datasets in the catalog
      tracer scan brainwash           crawl, classify and print the report
      tracer export brainwash -o brainwash.csv
    """


try:
    for _name in COMMAND_MODULES:
        importlib.import_module(f"tracer.cli.{_name}")
except KeyboardInterrupt:
    if not _is_program():
        raise
    sys.stderr.write("Interrupted.\n")
    os._exit(130)


def main(args: list[str] | None = None) -> None:
    run_main(cli, args)
