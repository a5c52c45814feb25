"""Settings in one place: command-line flags, then environment, then the config file, then
defaults.

Environment variables:
  TRACER_DB                database file (default: <data dir>/tracer.db)
  TRACER_DATA_DIR          where the database, HTTP cache and ROR index live
  TRACER_CATALOG           a catalog of one's own instead of the packaged datasets.yaml
  TRACER_CONFIG            config file (default: <user config dir>/config.toml)
  S2_API_KEY               Semantic Scholar API key (sent as x-api-key)
  OPENALEX_API_KEY         OpenAlex API key (sent as api_key)
  TRACER_S2_API_URL        Semantic Scholar Graph API base URL
  TRACER_OPENALEX_API_URL  OpenAlex API base URL
  TRACER_CONTACT_EMAIL     contact address named in the User-Agent
  TRACER_ROR_DUMP          a local ROR dump (zip holding *_schema_v2.json)
  TRACER_ROR_DUMP_URL      where `tracer data update` looks for the newest ROR dump
  TRACER_HTTP_TIMEOUT      seconds before a request is abandoned (default 30)
  TRACER_HTTP_RETRIES      attempts on 429/5xx/dropped connections (default 8)
  TRACER_HTTP_DEADLINE     seconds one request may take in all, however it trickles (default 120)
  TRACER_HTTP_MAX_MB       largest answer read, before and after decompression (default 64)
  TRACER_HTTP_BACKOFF      first wait before a retry, doubled each time (default 2)
  TRACER_HTTP_BACKOFF_CAP  longest wait between two attempts (default 60)
  TRACER_NO_CACHE          set to 1 to bypass the HTTP response cache
  TRACER_RATE_LIMIT        set to 0 only against a local test server: no pacing, no retry waits
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from tracer.errors import ConfigError

S2_API_URL = "https://api.semanticscholar.org/graph/v1"
OPENALEX_API_URL = "https://api.openalex.org"
ROR_DUMP_URL = "https://zenodo.org/api/communities/ror-data/records?q=&sort=newest&size=1"

PACKAGED_CATALOG = Path(__file__).with_name("datasets.yaml")

# Keys that may appear in the config file, and the environment variable that overrides each.
_ENV = {
    "db_path": "TRACER_DB",
    "data_dir": "TRACER_DATA_DIR",
    "catalog_path": "TRACER_CATALOG",
    "s2_api_key": "S2_API_KEY",
    "openalex_api_key": "OPENALEX_API_KEY",
    "s2_api_url": "TRACER_S2_API_URL",
    "openalex_api_url": "TRACER_OPENALEX_API_URL",
    "contact_email": "TRACER_CONTACT_EMAIL",
    "ror_dump": "TRACER_ROR_DUMP",
    "ror_dump_url": "TRACER_ROR_DUMP_URL",
    "http_timeout": "TRACER_HTTP_TIMEOUT",
    "http_retries": "TRACER_HTTP_RETRIES",
    "http_deadline": "TRACER_HTTP_DEADLINE",
    "http_max_mb": "TRACER_HTTP_MAX_MB",
    "http_backoff": "TRACER_HTTP_BACKOFF",
    "http_backoff_cap": "TRACER_HTTP_BACKOFF_CAP",
    "no_cache": "TRACER_NO_CACHE",
    "rate_limit": "TRACER_RATE_LIMIT",
}
SECRET_KEYS = frozenset({"s2_api_key", "openalex_api_key"})
_FLAGS = {"db_path": "--db", "catalog_path": "--catalog"}  # settings whose flag is shorter


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("tracer", appauthor=False))


def default_config_path() -> Path:
    env = os.environ.get("TRACER_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir("tracer", appauthor=False)) / "config.toml"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    db_path: Path | None = None
    catalog_path: Path = PACKAGED_CATALOG
    s2_api_key: str | None = field(default=None, repr=False)
    openalex_api_key: str | None = field(default=None, repr=False)
    s2_api_url: str = S2_API_URL
    openalex_api_url: str = OPENALEX_API_URL
    contact_email: str | None = None
    ror_dump: Path | None = None
    ror_dump_url: str = ROR_DUMP_URL
    http_timeout: float = 30.0
    http_retries: int = 8
    http_deadline: float = 120.0
    http_max_mb: float = 64.0
    http_backoff: float = 2.0
    http_backoff_cap: float = 60.0
    no_cache: bool = False
    rate_limit: bool = True

    @property
    def database(self) -> Path:
        return self.db_path if self.db_path is not None else self.data_dir / "tracer.db"

    @property
    def http_cache(self) -> Path:
        return self.data_dir / "http-cache.sqlite"

    @property
    def ror_index(self) -> Path:
        return self.data_dir / "ror-index.pickle"

    @property
    def ror_dump_dir(self) -> Path:
        return self.data_dir / "ror"

    @property
    def lock_path(self) -> Path:
        """The refresh lock belongs to the database, wherever it is reached from: beside the
        database file, links followed, so two data folders naming one database share it and
        two databases in one folder do not."""
        database = self.database.expanduser().resolve()
        return database.with_name(database.name + ".refresh-lock")

    def user_agent(self) -> str:
        from tracer import __version__

        contact = f"; mailto:{self.contact_email}" if self.contact_email else ""
        return f"tracer/{__version__} (dataset usage tracer{contact})"


def _coerce(name: str, value: Any, origin: str) -> Any:
    """Turn a raw string/TOML value into the field's type, or say which setting is bad."""
    try:
        if name in {"data_dir", "db_path", "catalog_path", "ror_dump"}:
            return Path(str(value)).expanduser()
        if name in {"http_timeout", "http_deadline", "http_max_mb", "http_backoff_cap"}:
            number = float(value)
            if number <= 0:
                raise ValueError
            return number
        if name == "http_backoff":
            number = float(value)
            if number < 0:
                raise ValueError
            return number
        if name == "http_retries":
            count = int(value)
            if count < 0:
                raise ValueError
            return count
        if name in {"no_cache", "rate_limit"}:
            if isinstance(value, bool):
                return value
            return str(value).strip().lower() in {"1", "true", "yes", "on"}
        if name in {"s2_api_url", "openalex_api_url", "ror_dump_url"}:
            text = str(value).strip().rstrip("/")
            if not text.startswith(("http://", "https://")):
                raise ValueError
            return text
        text = str(value).strip()
        return text or None
    except (TypeError, ValueError):
        shown = "(hidden)" if name in SECRET_KEYS else repr(value)
        raise ConfigError(f"Bad value {shown} for {name} in {origin}.") from None


def read_config_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}.", hint="Fix or delete the config file.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror}.") from None
    unknown = sorted(set(data) - set(_ENV))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {unknown[0]!r}.",
            hint="Known settings: " + ", ".join(sorted(_ENV)) + ".",
        )
    return data


@dataclass(frozen=True)
class Effective:
    """One setting as it is in effect, and where it came from."""

    name: str
    value: Any
    source: str  # flag | environment | file | default
    where: str  # the flag, the variable or the file; "" for a default


def _layered(overrides: dict[str, Any]) -> dict[str, Effective]:
    """Defaults < config file < environment < explicit overrides (CLI flags), per setting."""
    values: dict[str, Effective] = {}
    config_path = default_config_path()
    for name, raw in read_config_file(config_path).items():
        values[name] = Effective(
            name, _coerce(name, raw, str(config_path)), "file", str(config_path)
        )
    for name, var in _ENV.items():
        raw = os.environ.get(var)
        if raw is not None and raw != "":
            values[name] = Effective(name, _coerce(name, raw, f"${var}"), "environment", f"${var}")
    for name, raw in overrides.items():
        if raw is not None:
            flag = _FLAGS.get(name, f"--{name.replace('_', '-')}")
            values[name] = Effective(name, _coerce(name, raw, flag), "flag", flag)
    return values


def load_settings(**overrides: Any) -> Settings:
    """Settings from defaults < config file < environment < explicit overrides (CLI flags)."""
    known = {f.name for f in fields(Settings)}
    values = {k: e.value for k, e in _layered(overrides).items() if k in known}
    return replace(Settings(), **values)


def effective_settings(**overrides: Any) -> list[Effective]:
    """Every setting the config file may hold, as in effect now, with where it came from.
    An unset database path is shown as the file it defaults to."""
    layered = _layered(overrides)
    settings = load_settings(**overrides)
    out = []
    for name in sorted(_ENV):
        if name in layered:
            out.append(layered[name])
            continue
        value = settings.database if name == "db_path" else getattr(settings, name, None)
        out.append(Effective(name, value, "default", ""))
    return out


def known_setting(name: str) -> str:
    if name not in _ENV:
        raise ConfigError(
            f"Unknown setting {name!r}.", hint="Known settings: " + ", ".join(sorted(_ENV)) + "."
        )
    return name


def env_var(name: str) -> str:
    return _ENV[known_setting(name)]


def unset_config_value(name: str, path: Path | None = None) -> bool:
    """Remove one setting from the config file; False when the file did not hold it."""
    known_setting(name)
    path = path or default_config_path()
    data = read_config_file(path)
    if name not in data:
        return False
    del data[name]
    _write_config(path, data)
    return True


def write_config_value(name: str, value: str, path: Path | None = None) -> Path:
    """Set one value in the config file, created private (0600) because it may hold keys."""
    known_setting(name)
    _coerce(name, value, "the command line")
    path = path or default_config_path()
    data = read_config_file(path)
    data[name] = value
    _write_config(path, data)
    return path


def _write_config(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{key} = {_toml_string(str(val))}\n" for key, val in sorted(data.items())]
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.writelines(lines)
    os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR)
    os.replace(tmp, path)


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
