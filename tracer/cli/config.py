"""`tracer config set|show|get|unset|path`: the settings in effect and the config file (which
may hold API keys)."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from tracer.cli import cli
from tracer.cli.common import (
    catalog_option,
    db_option,
    json_option,
    quiet_option,
    stderr_console,
)
from tracer.config import (
    SECRET_KEYS,
    Effective,
    default_config_path,
    effective_settings,
    env_var,
    known_setting,
    unset_config_value,
    write_config_value,
)


def _mask(name: str, value: object) -> str:
    """Keys are shown as their last four characters at most, so a screenshot leaks nothing."""
    text = str(value)
    if name not in SECRET_KEYS:
        return text
    return "****" + text[-4:] if len(text) >= 12 else "****"


@cli.group("config")
def config_group() -> None:
    """Settings: the config file ($TRACER_CONFIG or the user config folder) and what is in
    effect.

    The file is created readable by its owner only (mode 0600), because it may hold API keys.
    Environment variables override it, and command-line flags override both.

    \b
    Examples:
      tracer config set s2_api_key YOUR-KEY
      tracer config set contact_email you@example.org
      tracer config show
      tracer config get http_timeout
      tracer config unset s2_api_key
      tracer config path
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


def _shown(entry: Effective) -> str:
    if entry.value is None:
        return "(not set)"
    return _mask(entry.name, entry.value)


def _origin(entry: Effective) -> str:
    return entry.source if not entry.where else f"{entry.source} {entry.where}"


def _entry_json(entry: Effective) -> dict[str, Any]:
    value = None if entry.value is None else _mask(entry.name, entry.value)
    return {"value": value, "source": entry.source, "where": entry.where or None}


@config_group.command("show")
@db_option
@catalog_option
@json_option
@click.pass_context
def config_show_command(
    ctx: click.Context, db_path: str | None, catalog_path: str | None, as_json: bool
) -> None:
    """Print every setting as it is in effect, and where it came from: a flag, the
    environment, the config file, or the default. API keys are masked.

    \b
    Examples:
      tracer config show
      S2_API_KEY=... tracer config show --json
      tracer config show --db other.db
    """
    path = default_config_path()
    entries = _effective(ctx, db_path=db_path, catalog_path=catalog_path)
    if as_json:
        payload = {
            "path": str(path),
            "exists": path.exists(),
            "settings": {e.name: _entry_json(e) for e in entries},
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"# {path}" + ("" if path.exists() else " (not created yet)"))
    shown = [f"{e.name} = {_shown(e)}" for e in entries]
    column = max(len(line) for line in shown) + 2
    for entry, line in zip(entries, shown, strict=True):
        click.echo(f"{line:<{column}}# {_origin(entry)}")


@config_group.command("get")
@click.argument("name")
@json_option
@click.pass_context
def config_get_command(ctx: click.Context, name: str, as_json: bool) -> None:
    """Print the value of setting NAME in effect (API keys masked), and on stderr where it
    came from.

    \b
    Examples:
      tracer config get http_timeout
      tracer config get s2_api_key --json
    """
    known_setting(name)
    entry = next(e for e in _effective(ctx) if e.name == name)
    if as_json:
        click.echo(json.dumps({"name": name, **_entry_json(entry)}, indent=2))
        return
    click.echo("" if entry.value is None else _mask(name, entry.value))
    stderr_console().print(f"# {_origin(entry)}", markup=False, highlight=False)


@config_group.command("unset")
@click.argument("name")
@quiet_option
def config_unset_command(name: str, quiet: bool) -> None:
    """Remove setting NAME from the config file; its default (or the environment) applies.

    \b
    Examples:
      tracer config unset s2_api_key
    """
    path = default_config_path()
    removed = unset_config_value(name, path)
    err = stderr_console(quiet)
    if removed:
        err.print(f"Removed {name} from {path}.", markup=False, highlight=False)
    else:
        err.print(f"{path} does not set {name}; nothing changed.", markup=False, highlight=False)
    var = env_var(name)
    if os.environ.get(var):
        err.print(f"{name} is still set by ${var} in the environment.", markup=False)


@config_group.command("path")
def config_path_command() -> None:
    """Print the config file's path (set $TRACER_CONFIG to use another).

    \b
    Examples:
      tracer config path
      $EDITOR "$(tracer config path)"
    """
    click.echo(str(default_config_path()))


def _effective(ctx: click.Context, **flags: Any) -> list[Effective]:
    root = ctx.find_root()
    merged = dict(root.obj or {})
    merged.update({k: v for k, v in flags.items() if v is not None})
    return effective_settings(**merged)
