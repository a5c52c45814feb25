"""The OpenAlex snapshot as a source: the citers one pass over the snapshot found for every
selected dataset (`tracer.snapshot.find_citers`), handed to the scanner like any list.

It makes no request: the one pass runs before the scans, and each dataset's scan reads its share.
The snapshot's records are whole (authorships, institutions, abstracts), so nothing is looked up
again; it has no citation contexts, so usage is judged from titles and abstracts, unless
Semantic Scholar runs beside it or S2's citations files add contexts (`S2CitationsSource`). A run that read only newer partitions is a filtered read: it
adds what changed and never marks anything missing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tracer.http import HttpClient
from tracer.http.policy import SourcePolicy
from tracer.records import Work
from tracer.snapshot.query import Citer, SnapshotResult
from tracer.snapshot.s2_citations import (
    Candidate,
    CitationRow,
    S2Citations,
    candidate_of_record,
    candidate_of_stored,
    index_of,
    join,
)
from tracer.sources.base import Found, ListRead, Origin, Passage, Source, Target

SOURCE = "openalex-snapshot"


class SnapshotSource(Source):
    name = SOURCE
    label = "OpenAlex snapshot"
    policy = SourcePolicy(name=SOURCE, label="OpenAlex snapshot")
    authors_rank = 2  # the same records as OpenAlex's API gives

    def __init__(self, http: HttpClient, result: SnapshotResult) -> None:
        super().__init__(http)
        self.result = result
        self.by_label: dict[str, list[Citer]] = result.by_label()

    def notes(self) -> list[str]:
        read = self.result.read
        return [
            f"Citers read from the OpenAlex snapshot ({read.format}, release "
            f"{read.release or 'unknown'}, {len(read.files)} files"
            + (f", partitions after {read.since}" if read.since else "")
            + "); the snapshot has no citation contexts."
        ]

    def run_info(self) -> dict[str, Any]:
        """Which snapshot and partitions were read, and the ids looked for: the next run reads
        only newer partitions and reuses the ids."""
        return {"snapshot": self.result.read.to_dict(), "targets": self.result.read.targets}

    def resolve(self, origins: list[Origin]) -> None:
        """The W ids the pass looked for (every version, merged ids included) per catalog key."""
        for origin in origins:
            ids = sorted(self.result.read.targets.get(origin.dataset, []))
            if ids:
                origin.ids[self.name] = ids
                found = len(self.by_label.get(origin.dataset, []))
                origin.counts[self.name] = dict.fromkeys(ids, found)

    def counts(self, ids: list[str]) -> dict[str, int | None]:
        return {}  # the snapshot has no count of its own apart from a pass over it

    def targets(self, origins: list[Origin]) -> list[Target]:
        return _targets(self.name, origins)

    def read(self, target: Target, *, since: int | date | None, fresh: bool) -> ListRead:
        label = target.origins[0].dataset
        citers = self.by_label.get(label, [])
        partition = self.result.read.since
        read = ListRead(
            [Found(c.work(), is_record=True) for c in citers],
            {"partitions_after": partition} if partition else {},
        )
        read.total = len(citers)
        snap = self.result.read
        read.note = "; ".join(
            [f"OpenAlex snapshot ({snap.format}, release {snap.release or 'unknown'})"]
            + ([f"partitions after {snap.since}"] if snap.since else [])
            + [f"{len(snap.partitions)} partitions, {len(snap.files)} files read"]
        )
        return read


# -- contexts from S2's Datasets API citations files ------------------------------------------

S2_FILES = "s2-citations"


class S2CitationsSource(Source):
    """Citation contexts and intents from S2's `citations` files (`--s2-citations`), for the
    papers the snapshot found (or the store holds): the same passages an S2 API scan stores,
    judged the same way. It makes no request."""

    name = S2_FILES
    label = "S2 citations files"
    policy = SourcePolicy(name=S2_FILES, label="S2 citations files")

    def __init__(
        self, http: HttpClient, contexts: S2Citations, candidates: dict[str, list[Candidate]]
    ) -> None:
        super().__init__(http)
        self.contexts = contexts
        self.index = {label: index_of(c) for label, c in candidates.items()}
        self.rows: dict[str, list[CitationRow]] = {}
        for row in contexts.rows:
            for label in contexts.cited.get(row.cited, []):
                self.rows.setdefault(label, []).append(row)

    def _where(self) -> str:
        read = self.contexts.read
        return f"{read.root}, release {read.release or 'unknown'}"

    def notes(self) -> list[str]:
        # Where the contexts came from is said in each list's coverage note and the run's
        # record; saying nothing here lets the scanner note origin papers without a CorpusId.
        return []

    def run_info(self) -> dict[str, Any]:
        return {"s2_citations": self.contexts.read.to_dict()}

    def resolve(self, origins: list[Origin]) -> None:
        by_label: dict[str, list[int]] = {}
        for corpus, labels in self.contexts.cited.items():
            for label in labels:
                by_label.setdefault(label, []).append(corpus)
        for origin in origins:
            ids = [f"CorpusId:{n}" for n in sorted(by_label.get(origin.dataset, []))]
            if ids:
                origin.ids[self.name] = ids
                citing = {r.citing for r in self.rows.get(origin.dataset, [])}
                origin.counts[self.name] = dict.fromkeys(ids, len(citing))

    def counts(self, ids: list[str]) -> dict[str, int | None]:
        return {}  # the files say nothing more without reading them again

    def targets(self, origins: list[Origin]) -> list[Target]:
        return _targets(self.name, origins)

    def read(self, target: Target, *, since: int | date | None, fresh: bool) -> ListRead:
        label = target.origins[0].dataset
        grouped: dict[int, list[CitationRow]] = {}
        for row in self.rows.get(label, []):
            grouped.setdefault(row.citing, []).append(row)
        index = self.index.get(label, {})
        found: list[Found] = []
        joined: dict[str, int] = {}
        added = 0  # citers of the files alone, with a title from the papers files
        for citing, rows in sorted(grouped.items()):
            ext = self.contexts.external.get(citing, {})
            cand, how = join(citing, ext, index)
            if cand is None or how is None:
                titled = self.contexts.titles.get(citing)
                if titled is None:
                    continue  # no title without the papers files: counted, not stored
                work = Work(source=S2_FILES, title=titled[0], year=titled[1],
                            doi=ext.get("doi"), arxiv_id=ext.get("arxiv"), corpus_id=citing)
                added += 1
            else:
                joined[how] = joined.get(how, 0) + 1
                # The paper's ids as S2 knows them join its versions into one paper, as an S2
                # API scan's records do (S2 keeps one record for a preprint and its publication).
                w = cand.work
                work = Work(source=S2_FILES, title=w.title, year=w.year,
                            doi=w.doi or ext.get("doi"), arxiv_id=w.arxiv_id or ext.get("arxiv"),
                            openalex_id=w.openalex_id, corpus_id=citing)
            passages: list[Passage] = []
            for row in rows:
                for p in row.passages():
                    if all(p.text != q.text for q in passages):
                        passages.append(p)
            flags = [r.is_influential for r in rows if r.is_influential is not None]
            found.append(Found(work, passages, is_influential=any(flags) if flags else None))
        read_ = self.contexts.read
        listing = ListRead(found, {"new_shards_only": True} if read_.skipped else {})
        shards = f"{len(read_.files)} shards read" + (
            f", {read_.skipped} read before" if read_.skipped else "")
        listing.total = len(grouped)
        listing.unresolved = len(grouped) - len(found)
        how = ", ".join(f"{n} by {k}" for k, n in sorted(joined.items()))
        listing.note = (
            f"S2 citations files ({self._where()}; {shards}): {len(found) - added} of "
            f"{len(grouped)} citing papers "
            f"joined to papers of the snapshot or the store" + (f" ({how})" if how else "")
            + (f"; {added} not in the snapshot, added with the S2 papers files' titles"
               if added else "")
            + (f"; {listing.unresolved} seen in S2 citations, not in the snapshot: not added, "
               + ("no title for them in the S2 papers files read" if read_.papers_files else
                  "their titles are in S2's papers files (<release>/papers/ beside "
                  "citations/), not given") if listing.unresolved else "")
        )
        return listing


def s2_candidates(
    result: SnapshotResult,
    stored: dict[str, list[tuple[Work, list[tuple[str, str]]]]],
    labels: dict[str, list[str]],
) -> dict[str, list[Candidate]]:
    """Per catalog key: the papers its S2 citation rows may be joined to, namely the citers
    the snapshot found for it and the papers stored for the datasets it belongs to
    (`labels`: dataset key -> its key and its derivatives')."""
    by_label = result.by_label()
    out: dict[str, list[Candidate]] = {}
    for dataset, keys in labels.items():
        kept = [candidate_of_stored(w, ids) for w, ids in stored.get(dataset, [])]
        for key in keys:
            out.setdefault(key, []).extend(
                [candidate_of_record(c.work(), c.record) for c in by_label.get(key, [])] + kept
            )
    return out


def _targets(name: str, origins: list[Origin]) -> list[Target]:
    """One list per catalog key: every id of its origin papers together."""
    groups: dict[str, Target] = {}
    for origin in origins:
        ids = origin.ids.get(name)
        if ids:
            target = groups.setdefault(
                origin.dataset, Target("|".join(ids), ids, [], origin.via_derivative)
            )
            target.origins.append(origin)
    return list(groups.values())
