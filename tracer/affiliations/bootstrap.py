"""First use: a scan that finds no reference data downloads it (the ROR dump and the official
lists), drawing the download on the caller's progress; offline, it goes on with the embedded
watchlist and rules and says so. TRACER_OFFLINE=1 skips the downloads (tests, air-gapped use)."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from typing import Any, Protocol

from tracer.affiliations import reference, update
from tracer.config import Settings
from tracer.errors import DataError, SourceError

OFFLINE_NOTE = (
    "Reference data could not be downloaded ({why}): the scan goes on with the embedded "
    "watchlist and rules{ror}. Run `tracer data update` when online."
)


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> AbstractContextManager[Any]: ...

    def advance(self, count: int = 1) -> None: ...


def missing(settings: Settings) -> tuple[bool, bool]:
    """(no ROR data, no fetched lists) in the settings' data dir."""
    ror = settings.ror_dump is not None or settings.ror_index.exists()
    if not ror and settings.ror_dump_dir.is_dir():
        ror = any(settings.ror_dump_dir.glob("*.zip"))
    lists = bool(reference.read_listings(settings).get("listings"))
    return not ror, not lists


def ensure_reference_data(settings: Settings, progress: Progress | None = None) -> list[str]:
    """Download what is missing; the notes to show at the start of the scan (empty when all
    reference data is there or was just fetched)."""
    no_ror, no_lists = missing(settings)
    if not no_ror and not no_lists:
        return []
    if os.environ.get("TRACER_OFFLINE", "").strip().lower() in {"1", "true", "yes"}:
        return [
            OFFLINE_NOTE.format(
                why="TRACER_OFFLINE is set", ror=" without the ROR gazetteer" if no_ror else ""
            )
        ]
    failures: list[str] = []
    if no_ror:
        try:
            with _stage(progress, "Downloading the ROR dump (first use)"):
                update.update(settings, _bytes(progress))
            no_ror = False
        except (SourceError, DataError, OSError) as exc:
            failures.append(_why(exc))
    if no_lists:
        with _stage(progress, "Downloading the official lists (first use)"):
            state = reference.update_lists(settings, lambda _name, done, total: None)
        errors = [row["error"] for row in state["lists"] if row.get("error")]
        if errors:
            failures.append(errors[0].rstrip("."))
    if not failures:
        return []
    ror = " without the ROR gazetteer" if no_ror else ""
    return [OFFLINE_NOTE.format(why="; ".join(failures), ror=ror)]


def _why(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return str(message).rstrip(".")


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def _stage(progress: Progress | None, name: str) -> AbstractContextManager[Any]:
    return progress.stage(name) if progress is not None else _Nothing()


def _bytes(progress: Progress | None) -> Any:
    shown = {"done": 0}

    def step(done: int, total: int | None) -> None:
        if progress is not None and done > shown["done"]:
            progress.advance(done - shown["done"])
            shown["done"] = done

    return step


__all__ = ["ensure_reference_data", "missing"]
