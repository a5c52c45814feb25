"""Exit codes and the typed errors the core raises.

The core raises these; the CLI turns them into one sentence on stderr (plus a hint) and the
matching exit code. Nothing below the CLI prints or exits.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, quote_plus


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1  # an unexpected failure of the tool itself
    USAGE = 2  # bad option, bad catalog, bad configuration (click also uses 2)
    NOT_FOUND = 3  # unknown dataset, origin paper not found
    NETWORK = 4  # a source failed, timed out or refused the request
    PARTIAL = 5  # the run finished but some part of it failed
    LOCKED = 6  # another run holds the lock
    DATA = 7  # unreadable or corrupt local data (database, cache, dump)
    INTERRUPTED = 130  # Ctrl-C / SIGTERM


class TracerError(Exception):
    """An error a user can act on: a message, an optional hint, an exit code."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(TracerError):
    exit_code = ExitCode.USAGE


class CatalogError(UsageError):
    """The catalog file is malformed; the message names file and line."""


class ConfigError(UsageError):
    """A setting is missing or has a bad value."""


class NotFoundError(TracerError):
    exit_code = ExitCode.NOT_FOUND


class SourceError(TracerError):
    """A remote source failed: network error, timeout, 4xx/5xx after retries, bad body."""

    exit_code = ExitCode.NETWORK

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        source: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.source = source
        self.status = status


class AuthError(SourceError):
    """The source refused the API key (401/403) or requires one."""


class BudgetExhausted(SourceError):
    """The source will not answer again today (its daily budget is spent, or it asked for a
    wait longer than the client waits): that source's step ends at once, the run goes on."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        source: str = "",
        status: int | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message, hint, source=source, status=status)
        self.retry_at = retry_at  # when it may be tried again (UTC), if the source said


class ResponseTooLarge(SourceError):
    """An answer larger than the size cap (settings.http_max_mb), before or after
    decompression; retrying would only fetch it again."""


class PartialFailure(TracerError):
    exit_code = ExitCode.PARTIAL


class LockHeld(TracerError):
    exit_code = ExitCode.LOCKED


class DataError(TracerError):
    exit_code = ExitCode.DATA


# -- text the tool writes -----------------------------------------------------------------------

REDACTED = "REDACTED"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # C0, DEL, C1 (ESC among them)
_KEY_PARAM = re.compile(r"((?:api_key|x-api-key)=)[^&\s\"']+", re.IGNORECASE)
MIN_SECRET = 4  # shorter "keys" would blank ordinary letters; no real key is that short


def secrets_of(settings: Any) -> list[str]:
    """The configured key values of `settings` (every field named in config.SECRET_KEYS)."""
    from tracer.config import SECRET_KEYS  # config imports this module

    values = (getattr(settings, name, None) for name in sorted(SECRET_KEYS))
    return [v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET]


def redact(text: str, settings: Any = None, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """`text` without any configured key value (as is, or URL-encoded) and without the value
    of any `api_key=` parameter. Call it on whatever the tool writes that came from outside."""
    keys = [*secrets_of(settings), *(s for s in secrets if len(s) >= MIN_SECRET)]
    for key in sorted(set(keys), key=len, reverse=True):
        for form in {key, quote(key, safe=""), quote_plus(key)}:
            text = text.replace(form, REDACTED)
    return _KEY_PARAM.sub(r"\1" + REDACTED, text)


def one_line(text: str) -> str:
    """One line without control characters (newlines, CR, ESC, C1): API text cannot forge a
    line or drive the terminal."""
    return " ".join(_CONTROL.sub(" ", text).split())


def clean_message(text: str, settings: Any = None) -> str:
    """What an error message may say: redacted, on one line."""
    return one_line(redact(text, settings))
