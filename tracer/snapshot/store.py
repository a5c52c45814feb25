"""Hand what a snapshot run found to the store, as a scan stores OpenAlex citers.

Until the source interface (tracer/sources/base.py) takes the snapshot as a peer source, this
mirrors `Scanner._collect_openalex` citer by citer (upsert_work, link, add_evidence with route
"cites", save_authors(..., "openalex"), mark_enriched) with source "openalex-snapshot", then runs
the Scanner's own classify and judge stages. Nothing is deleted or marked missing: a snapshot run
that reads only newer partitions sees only what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracer.affiliations.classify import Classifier
from tracer.catalog import Catalog, Dataset
from tracer.merge import canonical_ids
from tracer.scan import Progress, Scanner, ScanOptions, SilentProgress, _RunState
from tracer.snapshot.query import SnapshotResult
from tracer.store import Store

SOURCE = "openalex-snapshot"
KIND = "snapshot"


def catalog_origins(
    catalog: Catalog, datasets: Iterable[Dataset]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per catalog key (each dataset and its derivatives): the W ids the catalog gives, and the
    DOIs (the arXiv one included) to resolve in the snapshot for every other version."""
    origins: dict[str, list[str]] = {}
    dois: dict[str, list[str]] = {}
    for dataset in datasets:
        for entry in [dataset, *(catalog.get(k) for k in dataset.derivatives)]:
            for paper in entry.origin_papers:
                ids = origins.setdefault(entry.key, [])
                if paper.openalex and paper.openalex not in ids:
                    ids.append(paper.openalex)
                for doi in paper.dois():
                    if doi not in dois.setdefault(entry.key, []):
                        dois[entry.key].append(doi)
    return origins, dois


@dataclass
class StoredRun:
    dataset: str
    run_id: int
    found: int
    new_papers: int
    stats: dict[str, Any] = field(default_factory=dict)


def store_result(
    store: Store,
    catalog: Catalog,
    result: SnapshotResult,
    datasets: Sequence[Dataset],
    classifier: Classifier,
    progress: Progress | None = None,
    *,
    since_year: int | None = None,
) -> list[StoredRun]:
    """One run per dataset: its citers (and its derivatives', marked so), coverage, then the
    classify and judge stages. `since_year`: keep works of that year on (scan's --since)."""
    by_label = result.by_label()
    read = result.read
    stages = _Stages(store, classifier, progress or SilentProgress())
    out = []
    for dataset in datasets:
        run_id = store.start_run(dataset.key, KIND)
        derived = [n for k in dataset.derivatives for n in catalog.get(k).names]
        options = ScanOptions(mentions=False, since=since_year)
        state = _RunState(dataset, run_id, options, derived)
        try:
            found = 0
            for label, via in [(dataset.key, None), *((k, k) for k in dataset.derivatives)]:
                works = [c.work() for c in by_label.get(label, [])]
                works = [w for w in works if state.keep(w)]
                target = "|".join(read.targets.get(label, []))
                with store.transaction():
                    for work in works:
                        canonical_ids(work)
                        paper_id, _ = store.upsert_work(work)
                        if store.link(dataset.key, paper_id, run_id, via):
                            state.new_ids.add(paper_id)
                        store.add_evidence(
                            dataset.key,
                            paper_id,
                            run_id,
                            route="cites",
                            source=SOURCE,
                            target=target,
                            via_derivative=via,
                        )
                        if work.authors:
                            store.save_authors(paper_id, work.authors, "openalex")
                        store.mark_enriched(paper_id, truncated=work.authors_truncated)
                if target:
                    # The list as the store now holds it: this run's reads and the earlier ones'
                    # (an incremental run reads only what changed).
                    have = {
                        e["paper_id"]
                        for e in store.evidence(dataset.key)
                        if e["source"] == SOURCE and e["target"] == target
                    }
                    store.set_coverage(
                        dataset.key,
                        run_id,
                        source=SOURCE,
                        route="cites",
                        target=target,
                        fetched=len(have),
                        total=len(have),
                        capped=False,
                        note=f"{coverage_note(result)}; {len(works)} read in this run",
                    )
                found += len(works)
            state.stats.update(
                snapshot=read.to_dict(), snapshot_citations=found, snapshot_targets=read.targets
            )
            stages.classify(state)
            stages.judge(state)
        except BaseException as exc:
            store.finish_run(run_id, "failed", requests={}, stats=state.stats, error=str(exc))
            raise
        store.finish_run(run_id, "ok", requests={}, new_papers=state.new_papers, stats=state.stats)
        out.append(StoredRun(dataset.key, run_id, found, state.new_papers, state.stats))
    return out


def coverage_note(result: SnapshotResult) -> str:
    """Where the list came from, for the report's coverage table."""
    read = result.read
    parts = [f"OpenAlex snapshot ({read.format}, release {read.release or 'unknown'})"]
    if read.since:
        parts.append(f"partitions after {read.since}")
    parts.append(f"{len(read.partitions)} partitions, {len(read.files)} files read")
    return "; ".join(parts)


class _Stages:
    """The Scanner's classify and judge stages, without its HTTP clients (none is needed)."""

    def __init__(self, store: Store, classifier: Classifier, progress: Progress) -> None:
        self.store = store
        self.classifier = classifier
        self.progress = progress

    def classify(self, state: _RunState) -> None:
        Scanner._classify(self, state)  # type: ignore[arg-type]

    def judge(self, state: _RunState) -> None:
        Scanner._judge(self, state)  # type: ignore[arg-type]
