"""Exit codes and the typed errors the core raises.

The core raises these; the CLI turns them into one sentence on stderr (plus a hint) and the
matching exit code. Nothing below the CLI prints or exits.
"""

from __future__ import annotations

import enum


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


class PartialFailure(TracerError):
    exit_code = ExitCode.PARTIAL


class LockHeld(TracerError):
    exit_code = ExitCode.LOCKED


class DataError(TracerError):
    exit_code = ExitCode.DATA
