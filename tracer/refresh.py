"""The cron run: check cheaply what changed, fetch only that, rewrite reports, tell what is new.

Change detection costs one batched call per source for every selected dataset together: S2's
citationCount and OpenAlex's cited_by_count of every stored origin paper. A dataset whose counts
did not move, and whose mention searches are not due, costs nothing more. A lock keeps two
runs from overlapping; reports are replaced atomically, so a failed run leaves the last good ones.
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
from tracer.errors import AuthError, LockHeld, SourceError, TracerError
from tracer.http import HttpClient
from tracer.scan import KnownCounts, Progress, Scanner, ScanOptions
from tracer.store import Store

FORMATS = ("csv", "json", "html", "md")


@dataclass
class RefreshOptions:
    out: Path | None = None
    formats: Sequence[str] = FORMATS
    mention_interval: timedelta = timedelta(days=7)
    full: bool = False


@dataclass
class DatasetOutcome:
    key: str
    changed: bool = False
    reason: str = ""
    new_papers: list[str] = field(default_factory=list)  # "title (year)"
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
            return RefreshResult(outcomes, http.request_counts())
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
    known = _check(scanner, store, datasets, outcomes)
    now = datetime.now(UTC)
    for dataset in datasets:
        outcome = outcomes[dataset.key]
        if outcome.failures:
            continue
        mentions_due = _mentions_due(store, dataset.key, now, options.mention_interval)
        if not outcome.reason and mentions_due:
            outcome.reason = "mention searches due"
        if not (outcome.reason or options.full):
            continue
        outcome.changed = True
        before = store.facets(dataset.key)
        scan_options = ScanOptions(mentions=mentions_due or options.full, full=options.full)
        try:
            result = scanner.scan(
                dataset,
                scan_options,
                known=None if options.full or outcome.reason == "never scanned" else known,
                kind="refresh",
            )
        except AuthError:
            raise
        except TracerError as exc:
            outcome.failures.append(exc.message)
            continue
        outcome.failures.extend(result.failures)
        after = store.facets(dataset.key)
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


def _check(
    scanner: Scanner,
    store: Store,
    datasets: Sequence[Dataset],
    outcomes: dict[str, DatasetOutcome],
) -> KnownCounts:
    """One batched count call per source for every origin paper of every dataset."""
    stored: dict[str, list[dict[str, Any]]] = {}
    for dataset in datasets:
        origins = scanner.origins(dataset)
        rows = [row for slot in {o.slot for o in origins} for row in store.origins(slot)]
        if len(rows) < len(origins):
            outcomes[dataset.key].reason = "never scanned"
        stored[dataset.key] = rows
    s2_ids = sorted(
        {r["s2_paper_id"] for rows in stored.values() for r in rows if r["s2_paper_id"]}
    )
    oa_ids = sorted({i for rows in stored.values() for r in rows for i in r["openalex_ids"]})
    known = KnownCounts()
    s2, openalex = scanner.s2, scanner.openalex
    failed: dict[str, str] = {}
    try:
        if s2_ids:
            known.s2 = s2.citation_counts(s2_ids)
    except AuthError:
        raise
    except SourceError as exc:
        failed["s2"] = exc.message
    try:
        if oa_ids and openalex.has_key:
            known.openalex = openalex.cited_by_counts(oa_ids)
    except AuthError:
        raise
    except SourceError as exc:
        failed["openalex"] = exc.message
    for dataset in datasets:
        outcome = outcomes[dataset.key]
        for source, message in failed.items():
            outcome.failures.append(f"{source}: change check: {message}")
        if outcome.failures or outcome.reason:
            continue
        for row in stored[dataset.key]:
            if row["s2_paper_id"] and known.s2.get(row["s2_paper_id"]) != row["s2_citation_count"]:
                outcome.reason = "new citations in Semantic Scholar"
            oa_now = known.openalex_total(list(row["openalex_ids"]))
            if openalex.has_key and oa_now != row["openalex_cited_by_count"]:
                outcome.reason = outcome.reason or "new citations in OpenAlex"
    return known


def _mentions_due(store: Store, dataset: str, now: datetime, interval: timedelta) -> bool:
    last = store.last_mention_search(dataset)
    if last is None:
        return True
    return now - datetime.fromisoformat(last) >= interval


def _label(paper: dict[str, Any]) -> str:
    year = f" ({paper['year']})" if paper.get("year") else ""
    return f"{paper.get('title') or 'untitled'}{year}"
