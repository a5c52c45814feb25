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
    """A signal while the commands load: nothing was done yet, end now with 130."""
    sys.stderr.write("Interrupted.\n")
    os._exit(130)


if _is_program():
    # Loading the commands takes about half a second; nothing is done yet, so a signal in
    # it ends the process at once (130), with no traceback of the import under way.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

import importlib  # noqa: E402  (after the handlers: loading these takes a while)

import click  # noqa: E402

from tracer import __version__  # noqa: E402
from tracer.cli.common import run_main  # noqa: E402

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
    "rejudge",
    "explain",
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


for _name in COMMAND_MODULES:
    importlib.import_module(f"tracer.cli.{_name}")


def main(args: list[str] | None = None) -> None:
    run_main(cli, args)
