"""Run the CLI in-process the way a user's shell would: exit code, stdout, stderr apart."""

from __future__ import annotations

from dataclasses import dataclass

from click.testing import CliRunner

from tracer.cli import main


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(*args: str, input: str | None = None) -> Run:
    runner = CliRunner()
    with runner.isolation(input=input) as streams:
        stdout, stderr = streams[0], streams[1]
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return Run(code, stdout.getvalue().decode(), stderr.getvalue().decode())
