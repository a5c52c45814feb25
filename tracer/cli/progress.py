"""Progress for long work, drawn on stderr; silent with --quiet or when stderr is not a terminal.

One rich Progress serves the whole run, with a row per stage, so the columns line up and a
finished stage shows a tick rather than a frozen spinner. A retry wait shows on the row of the
stage that waits ("S2: 429, waiting 8 s, attempt 2 of 6") for as long as the wait lasts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from tracer.cli.text import one_line
from tracer.config import Settings
from tracer.scan import ScanResult


class _StateColumn(ProgressColumn):
    """A spinner while a stage runs, a tick when it is done, a dash when it stopped short."""

    def __init__(self) -> None:
        super().__init__()
        self._spinner = SpinnerColumn()

    def render(self, task: Task) -> Text:
        state = task.fields.get("state", "running")
        if state == "done":
            return Text("✓", style="green")
        if state == "stopped":
            return Text("–", style="yellow")
        spun = self._spinner.render(task)
        return spun if isinstance(spun, Text) else Text("…")


class _NoteColumn(ProgressColumn):
    """What the stage is waiting for, shown until the wait is over."""

    def render(self, task: Task) -> Text:
        note = task.fields.get("note") or ""
        until = float(task.fields.get("note_until") or 0.0)
        if not note or time.monotonic() > until:
            return Text("")
        return Text(note, style="yellow")


class RichProgress:
    """The run's one progress display. Use as a context manager around the run (or call
    close()): the display starts with the first stage and ends when the run does."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self.console = console
        self.enabled = enabled and console.is_terminal
        self.quiet = not enabled
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def display(self) -> Progress | None:
        """The run's one rich Progress, once a stage has started (None when silent)."""
        return self._progress

    def _display(self) -> Progress:
        if self._progress is None:
            self._progress = Progress(
                _StateColumn(),
                TextColumn("{task.description}"),
                BarColumn(bar_width=30),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                _NoteColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
        return self._progress

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        progress = self._display()
        task = progress.add_task(name, total=total, state="running", note="", note_until=0.0)
        self._trim(progress)
        previous, self._task = self._task, task
        try:
            yield
        finally:
            current = next(t for t in progress.tasks if t.id == task)
            if total is None:
                # A counter with no known end is done when its stage is.
                progress.update(task, total=current.completed, state="done", note="")
            elif current.completed >= total:
                progress.update(task, state="done", note="")
            else:
                progress.update(task, state="stopped", note="")
            progress.stop_task(task)
            self._task = previous

    def _trim(self, progress: Progress) -> None:
        """A refresh of many datasets runs many stages: the oldest finished rows make way, so
        the display never grows taller than the terminal."""
        limit = max(self.console.height - 2, 4)
        shown = [t for t in progress.tasks if t.visible]
        for old in shown[: max(len(shown) - limit, 0)]:
            if old.fields.get("state") != "running":
                progress.update(old.id, visible=False)

    def advance(self, count: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=count, note="")

    def waiting(self, label: str, sentence: str, seconds: float) -> None:
        """A source waits before a retry: say so on the stage's row while the wait lasts
        (on its own line on stderr when there is no live display)."""
        said = sentence if sentence.startswith(label) else f"{label}: {sentence}"
        text = one_line(said, limit=160)
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, note=text, note_until=time.monotonic() + max(seconds, 0.0) + 0.5
            )
        elif not self.quiet:
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def close(self) -> None:
        """End the display: every row stays on screen as it last was."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None


def blind_spots(settings: Settings) -> list[str]:
    """What a run with these settings will not see, said before it asks anything."""
    notes = []
    if not settings.s2_api_key:
        notes.append(
            "No Semantic Scholar key (S2_API_KEY): the shared pool answers slowly and often "
            "with 429; expect waits."
        )
    if not settings.openalex_api_key:
        notes.append(
            "No OpenAlex key (OPENALEX_API_KEY): about 100 list calls a day, so a long citation "
            "list is read over several runs (papers are still looked up one by one, for free)."
        )
    has_gazetteer = (
        settings.ror_dump is not None
        or settings.ror_index.exists()
        or any(settings.ror_dump_dir.glob("*.zip"))
    )
    if not has_gazetteer:
        notes.append(
            "No ROR gazetteer: institutions come only from OpenAlex and the watchlist "
            "(run `tracer data update`)."
        )
    return notes


def say_blind_spots(console: Console, settings: Settings) -> None:
    for note in blind_spots(settings):
        console.print(f"Note: {note}", markup=False, highlight=False, soft_wrap=True)


def budget_text(budget: dict[str, dict[str, object]]) -> str:
    """What the sources said is left of today's budget: "; openalex budget left 9874 of 10000"."""
    parts = []
    for source, values in sorted(budget.items()):
        left, limit = values.get("remaining"), values.get("limit")
        if left is not None:
            parts.append(f"{source} budget left {left}" + (f" of {limit}" if limit else ""))
    return "".join(f"; {p}" for p in parts)


def scan_summary(result: ScanResult, flagged: int, seconds: float) -> str:
    """The closing line of a scan: papers new and in all, levels, flagged, requests, time."""
    levels = dict(result.stats.get("levels") or {})
    total = sum(levels.values())
    parts = ", ".join(f"{levels[k]} {k}" for k in ("used", "cited", "mentioned") if levels.get(k))
    others = total - sum(levels.get(k, 0) for k in ("used", "cited", "mentioned"))
    if others:
        parts += (", " if parts else "") + f"{others} other"
    requests = ", ".join(
        f"{source} {sum(per.values())}" for source, per in sorted(result.requests.items())
    )
    return (
        f"{result.dataset}: {result.new_papers} new "
        f"{'paper' if result.new_papers == 1 else 'papers'}, {total} in all"
        + (f" ({parts})" if parts else "")
        + f"; {flagged} flagged {'institution' if flagged == 1 else 'institutions'}"
        + f"; Requests: {requests or 'none'} (total {result.total_requests})"
        + budget_text(result.stats.get("budget") or {})
        + f"; {seconds:.0f} s; run {result.status}."
    )
