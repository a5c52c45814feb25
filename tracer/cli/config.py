"""`tracer config set|show`: settings kept in the config file (which may hold API keys)."""

from __future__ import annotations

import json

import click

from tracer.cli import cli
from tracer.cli.common import json_option, quiet_option, stderr_console
from tracer.config import SECRET_KEYS, default_config_path, read_config_file, write_config_value


def _mask(name: str, value: object) -> str:
    """Keys are shown as their last four characters at most, so a screenshot leaks nothing."""
    text = str(value)
    if name not in SECRET_KEYS:
        return text
    return "****" + text[-4:] if len(text) >= 12 else "****"


@cli.group("config")
def config_group() -> None:
    """Settings kept in the config file ($TRACER_CONFIG or the user config folder).

    The file is created readable by its owner only (mode 0600), because it may hold API keys.
    Environment variables and command-line flags override it.

    \b
    Examples:
      tracer config set s2_api_key YOUR-KEY
      tracer config set contact_email you@example.org
      tracer config show
    """


@config_group.command("set")
@click.argument("name")
@click.argument("value")
@quiet_option
def config_set_command(name: str, value: str, quiet: bool) -> None:
    """Set setting NAME to VALUE in the config file.

    \b
    Examples:
      tracer config set openalex_api_key YOUR-KEY
      tracer config set http_timeout 60
    """
    path = write_config_value(name, value)
    stderr_console(quiet).print(f"Set {name} = {_mask(name, value)} in {path}.")


@config_group.command("show")
@json_option
def config_show_command(as_json: bool) -> None:
    """Print the config file's settings, API keys masked.

    \b
    Examples:
      tracer config show
      tracer config show --json
    """
    path = default_config_path()
    data = {name: _mask(name, value) for name, value in sorted(read_config_file(path).items())}
    if as_json:
        click.echo(json.dumps({"path": str(path), "settings": data}, indent=2))
        return
    click.echo(f"# {path}" + ("" if path.exists() else " (not created yet)"))
    for name, value in data.items():
        click.echo(f"{name} = {value}")
