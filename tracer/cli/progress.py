"""Progress for long work, drawn on stderr; silent with --quiet or when stderr is not a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class RichProgress:
    """One line per stage: a bar where the total is known, a counter where it is not."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self.console = console
        self.enabled = enabled and console.is_terminal
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._progress = progress
        with progress:
            self._task = progress.add_task(name, total=total)
            try:
                yield
            finally:
                if total is None:
                    task = progress.tasks[0]
                    progress.update(self._task, total=task.completed)
                self._progress = None

    def advance(self, count: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, count)
