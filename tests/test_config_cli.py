"""`tracer config`: the values in effect and where each came from, keys masked; get, unset, path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tracer.config import Settings
from tracer.errors import ExitCode

KEY = "s2-secret-key-0123456789"


def rows(out: str) -> dict[str, tuple[str, str]]:
    """`name = value  # origin` lines as {name: (value, origin)}."""
    found = {}
    for line in out.splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        name, rest = line.split("=", 1)
        value, _, origin = rest.partition("# ")
        found[name.strip()] = (value.strip(), origin.strip())
    return found


def test_show_gives_each_value_in_effect_and_its_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("config", "set", "contact_email", "me@example.org").code == 0
    assert run_cli("config", "set", "http_timeout", "12").code == 0
    monkeypatch.setenv("S2_API_KEY", KEY)
    monkeypatch.setenv("TRACER_HTTP_TIMEOUT", "45")
    result = run_cli("config", "show", "--db", str(tmp_path / "x.db"))
    assert result.code == 0, result.err
    assert KEY not in result.out and KEY not in result.err
    shown = rows(result.out)
    assert shown["s2_api_key"] == ("****" + KEY[-4:], "environment $S2_API_KEY")
    assert shown["http_timeout"] == ("45.0", "environment $TRACER_HTTP_TIMEOUT")
    assert shown["contact_email"][0] == "me@example.org"
    assert shown["contact_email"][1].startswith("file ")
    assert shown["db_path"] == (str(tmp_path / "x.db"), "flag --db")
    assert shown["http_retries"] == (str(Settings().http_retries), "default")
    assert shown["openalex_api_key"] == ("(not set)", "default")


def test_show_json_has_value_source_and_where(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    result = run_cli("config", "show", "--json")
    assert result.code == 0 and KEY not in result.out
    data = json.loads(result.out)["settings"]
    assert data["openalex_api_key"] == {
        "value": "****" + KEY[-4:],
        "source": "environment",
        "where": "$OPENALEX_API_KEY",
    }
    retries = str(Settings().http_retries)
    assert data["http_retries"] == {"value": retries, "source": "default", "where": None}


def test_get_unset_and_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = run_cli("config", "path")
    assert path.code == 0 and path.out.strip() == str(tmp_path / "config.toml")
    assert run_cli("config", "set", "s2_api_key", KEY).code == 0
    got = run_cli("config", "get", "s2_api_key")
    assert got.code == 0 and got.out.strip() == "****" + KEY[-4:] and KEY not in got.err
    assert "file" in got.err
    as_json = json.loads(run_cli("config", "get", "http_timeout", "--json").out)
    timeout = str(Settings().http_timeout)
    assert as_json == {"name": "http_timeout", "value": timeout, "source": "default", "where": None}
    unset = run_cli("config", "unset", "s2_api_key")
    assert unset.code == 0 and "Removed s2_api_key" in unset.err
    assert KEY not in (tmp_path / "config.toml").read_text(encoding="utf-8")
    assert run_cli("config", "get", "s2_api_key").out.strip() == ""
    again = run_cli("config", "unset", "s2_api_key")
    assert again.code == 0 and "nothing changed" in again.err
    monkeypatch.setenv("S2_API_KEY", KEY)
    still = run_cli("config", "unset", "s2_api_key")
    assert "still set by $S2_API_KEY" in still.err and KEY not in still.err


@pytest.mark.parametrize("command", [["get", "colour"], ["unset", "colour"]])
def test_an_unknown_setting_is_a_usage_error(command: list[str]) -> None:
    result = run_cli("config", *command)
    assert result.code == ExitCode.USAGE
    assert "Unknown setting 'colour'" in result.err and "Traceback" not in result.err
