"""The cron run: ask the scanner what changed, scan only that, rewrite reports, tell what is new.

Change detection costs one batched call per source for every selected dataset together (the
citation counts of every stored origin paper); the scanner then says, per dataset, whether any
list must be read again or any work an earlier run left undone is still to do. A dataset with
nothing to do, and whose mention searches are not due, costs nothing more. A lock keeps two runs
from overlapping; reports are replaced atomically, so a failed run leaves the last good ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import filelock

from tracer.affiliations.classify import Classifier
from tracer.catalog import Catalog, Dataset
from tracer.config import Settings
from tracer.errors import AuthError, LockHeld, TracerError
from tracer.http import HttpClient
from tracer.scan import Progress, Scanner, ScanOptions
from tracer.store import Store

FORMATS = ("csv", "json", "html", "md")


@dataclass
class RefreshOptions:
    out: Path | None = None
    formats: Sequence[str] = FORMATS
    mention_interval: timedelta = timedelta(days=7)
    full: bool = False
    # A changed list is read in full at least this often; in between, only its recent papers.
    full_every: timedelta = timedelta(days=7)


@dataclass
class DatasetOutcome:
    key: str
    changed: bool = False
    reason: str = ""
    new_papers: list[str] = field(default_factory=list)  # "title (year)"
    new_paper_ids: list[int] = field(default_factory=list)
    new_countries: list[str] = field(default_factory=list)
    new_institutions: list[str] = field(default_factory=list)
    new_flagged: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What a cron mail says about this dataset: one line per new thing, failures first."""
        out = [f"{self.key}: FAILED {f}" for f in self.failures]
        out += [f"{self.key}: new paper: {p}" for p in self.new_papers]
        out += [f"{self.key}: new country: {c}" for c in self.new_countries]
        out += [f"{self.key}: new institution: {i}" for i in self.new_institutions]
        out += [f"{self.key}: new flagged institution: {i}" for i in self.new_flagged]
        return out


@dataclass
class RefreshResult:
    outcomes: list[DatasetOutcome]
    requests: dict[str, dict[str, int]]
    budget: dict[str, dict[str, Any]] = field(default_factory=dict)  # what the sources say is left

    @property
    def failed(self) -> bool:
        return any(o.failures for o in self.outcomes)

    @property
    def changed(self) -> bool:
        return any(o.new_papers or o.failures for o in self.outcomes)

    @property
    def total_requests(self) -> int:
        return sum(sum(per.values()) for per in self.requests.values())


Renderer = Callable[[Store, Dataset, Path, Sequence[str]], list[str]]


def refresh(
    settings: Settings,
    catalog: Catalog,
    datasets: Sequence[Dataset],
    options: RefreshOptions,
    *,
    render: Renderer | None = None,
    progress: Progress | None = None,
) -> RefreshResult:
    """Refresh the given datasets under the lock; raises LockHeld when another run has it."""
    settings.lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(settings.lock_path), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise LockHeld(
            f"Another tracer refresh holds the lock {settings.lock_path}.",
            hint="It will release it when it ends; nothing was done.",
        ) from None
    try:
        with Store(settings.database) as store, HttpClient(settings) as http:
            scanner = Scanner(store, catalog, http, Classifier.load(settings), progress)
            outcomes = _refresh(scanner, store, datasets, options, render)
            return RefreshResult(outcomes, http.request_counts(), http.budget())
    finally:
        lock.release()


def _refresh(
    scanner: Scanner,
    store: Store,
    datasets: Sequence[Dataset],
    options: RefreshOptions,
    render: Renderer | None,
) -> list[DatasetOutcome]:
    outcomes = {d.key: DatasetOutcome(d.key) for d in datasets}
    counts, failed = scanner.counts(datasets)
    now = datetime.now(UTC)
    for dataset in datasets:
        outcome = outcomes[dataset.key]
        mentions_due = options.full or _mentions_due(
            store, dataset.key, now, options.mention_interval
        )
        scan_options = ScanOptions(
            mentions=mentions_due, full=options.full, full_every=options.full_every
        )
        if failed and not options.full:
            # Without a source's counts the scanner cannot tell what changed there.
            outcome.failures += [f"{s}: change check: {m}" for s, m in sorted(failed.items())]
            continue
        reasons = scanner.plan(dataset, scan_options, counts)
        if mentions_due:
            reasons.append("mention searches due")
        if not (reasons or options.full):
            continue
        outcome.changed = True
        outcome.reason = "; ".join(reasons) or "full refresh asked for"
        before = store.facets(dataset.key)
        try:
            result = scanner.scan(dataset, scan_options, counts=counts, kind="refresh")
        except AuthError:
            raise
        except TracerError as exc:
            outcome.failures.append(exc.message)
            continue
        outcome.failures.extend(result.failures)
        after = store.facets(dataset.key)
        outcome.new_paper_ids = list(result.new_paper_ids)
        outcome.new_papers = [_label(store.paper(pid)) for pid in result.new_paper_ids]
        outcome.new_countries = sorted(after["countries"] - before["countries"])
        outcome.new_institutions = sorted(after["institutions"] - before["institutions"])
        outcome.new_flagged = sorted(after["flagged"] - before["flagged"])
    if options.out is not None and render is not None:
        for dataset in datasets:
            outcome = outcomes[dataset.key]
            folder = options.out / dataset.key
            missing = not folder.is_dir() or not any(folder.iterdir())
            # A failed run leaves the last good reports in place.
            if not outcome.failures and (outcome.changed or missing):
                outcome.reports = render(store, dataset, folder, options.formats)
    return [outcomes[d.key] for d in datasets]


def _mentions_due(store: Store, dataset: str, now: datetime, interval: timedelta) -> bool:
    last = store.last_mention_search(dataset)
    if last is None:
        return True
    return now - datetime.fromisoformat(last) >= interval


def _label(paper: dict[str, Any]) -> str:
    year = f" ({paper['year']})" if paper.get("year") else ""
    return f"{paper.get('title') or 'untitled'}{year}"
