"""The OpenAlex snapshot as a source: the citers one pass over the snapshot found for every
selected dataset (`tracer.snapshot.find_citers`), handed to the scanner like any list.

It makes no request: the one pass runs before the scans, and each dataset's scan reads its share.
The snapshot's records are whole (authorships, institutions, abstracts), so nothing is looked up
again; it has no citation contexts, so usage is judged from titles and abstracts, unless
Semantic Scholar runs beside it. A run that read only newer partitions is a filtered read: it
adds what changed and never marks anything missing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tracer.http import HttpClient
from tracer.http.policy import SourcePolicy
from tracer.snapshot.query import Citer, SnapshotResult
from tracer.sources.base import Found, ListRead, Origin, Source, Target

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
        groups: dict[str, Target] = {}
        for origin in origins:
            ids = origin.ids.get(self.name)
            if ids:
                target = groups.setdefault(
                    origin.dataset, Target("|".join(ids), ids, [], origin.via_derivative)
                )
                target.origins.append(origin)
        return list(groups.values())

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
