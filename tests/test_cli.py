"""The command line as a whole: help everywhere, version, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys

import click

from tests.helpers import run_cli
from tracer import __version__
from tracer.cli import cli
from tracer.errors import ExitCode


def all_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(all_commands(command, f"{prefix}{name} "))
    return found


def test_every_command_has_help_with_an_example() -> None:
    commands = all_commands(cli)
    assert commands
    for name, command in commands:
        assert command.help and len(command.help) > 20, f"`tracer {name}` lacks help"
        if not isinstance(command, click.Group):
            assert "tracer " in command.help, f"`tracer {name}` help has no example"
        result = run_cli(*name.split(), "--help")
        assert result.code == 0 and "Usage:" in result.out


def test_version() -> None:
    result = run_cli("--version")
    assert result.code == 0 and __version__ in result.out


def test_python_dash_m_works() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tracer", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and __version__ in proc.stdout


def test_bad_option_is_a_usage_error() -> None:
    result = run_cli("datasets", "--no-such-option")
    assert result.code == ExitCode.USAGE
    assert "No such option" in result.err and "Traceback" not in result.err


def test_unknown_command_is_a_usage_error() -> None:
    result = run_cli("frobnicate")
    assert result.code == ExitCode.USAGE


def test_no_color_when_not_a_terminal() -> None:
    result = run_cli("datasets")
    assert "\x1b[" not in result.out
