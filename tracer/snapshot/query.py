"""The engine-independent half of a snapshot scan: what to look for, and what came back.

Both engines run the same logical query:
  pass 0 (only when DOIs are given): `id, doi` of every works file -> the W ids of those DOIs;
  pass 1: `id, referenced_works` of every works file of the partitions to read -> (citing id,
          target label, partition, file) for every reference to any target id, all targets at once;
  pass 2: the whole record of each hit, from the files that held hits only, as the API's JSON
          (DuckDB on Parquet reads every column but `referenced_works` here: pass one kept the
          hits' lists, and decoding that column is most of a pass).
A record is in its latest `updated_date` partition only; should an id turn up in two, the newest
partition wins.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tracer.records import Work
from tracer.snapshot.layout import Layout, short_w
from tracer.sources import normalize_doi
from tracer.sources.openalex import parse_work

OPENALEX_URL = "https://openalex.org/"
Progress = Callable[[int, int], None]  # (files done, files in all)

# Fields the API gives as objects or lists: a Parquet file may hold them as JSON strings.
NESTED_FIELDS = (
    "ids",
    "primary_location",
    "best_oa_location",
    "locations",
    "authorships",
    "abstract_inverted_index",
    "open_access",
    "biblio",
    "primary_topic",
    "topics",
    "keywords",
    "concepts",
    "grants",
    "funders",
    "counts_by_year",
    "referenced_works",
    "related_works",
    "indexed_in",
    "sustainable_development_goals",
    "mesh",
    "apc_list",
    "apc_paid",
    "citation_normalized_percentile",
    "cited_by_percentile_year",
    "corresponding_author_ids",
    "corresponding_institution_ids",
)


@dataclass
class CiterQuery:
    """Target ids per label, merged ids applied, in both the short and the URL form."""

    targets: dict[str, set[str]]  # label -> short W ids (as given, plus merged-id relatives)
    merged: dict[str, str] = field(default_factory=dict)  # old W id -> W id it was merged into

    @classmethod
    def build(cls, origins: Mapping[str, Iterable[str]], merged: Mapping[str, str]) -> CiterQuery:
        """Each label's ids plus every id merged into one of them and every id they merged into."""
        into: dict[str, set[str]] = {}
        for old, new in merged.items():
            into.setdefault(new, set()).add(old)
        targets: dict[str, set[str]] = {}
        for label, ids in origins.items():
            todo = [w for w in (short_w(i) for i in ids) if w]
            seen: set[str] = set()
            while todo:
                wid = todo.pop()
                if wid in seen:
                    continue
                seen.add(wid)
                todo.extend(into.get(wid, ()))
                if wid in merged:
                    todo.append(merged[wid])
            targets[label] = seen
        return cls(targets, dict(merged))

    def rows(self) -> list[tuple[str, str]]:
        """(reference as it may appear in a record, label): the join table of pass one."""
        out = []
        for label, ids in sorted(self.targets.items()):
            for wid in sorted(ids):
                out.append((OPENALEX_URL + wid, label))
                out.append((wid, label))
        return out


@dataclass
class Citer:
    """One citing work: its record in the API's schema, what it cites, where it was read."""

    id: str  # short W id
    record: dict[str, Any]
    labels: list[str]  # the target labels it cites
    partition: str
    file: str

    def work(self) -> Work:
        return parse_work(self.record)


@dataclass
class SnapshotRead:
    """What a run read, for coverage: which snapshot, which partitions and files."""

    engine: str
    root: str
    format: str
    manifest: str | None
    release: str | None  # the snapshot's newest partition
    since: str | None  # partitions up to this date were skipped
    newest_partition: str | None  # the newest partition read: pass it as `since` next time
    partitions: list[str]
    files: list[str]
    records: int | None  # works in the files read, where the manifest says
    merged_ids: int  # merged-id pairs known to the run
    targets: dict[str, list[str]]  # label -> W ids looked for (merged ids included)

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "root": self.root,
            "format": self.format,
            "manifest": self.manifest,
            "release": self.release,
            "since": self.since,
            "newest_partition": self.newest_partition,
            "partitions": len(self.partitions),
            "files": len(self.files),
            "records": self.records,
            "merged_ids": self.merged_ids,
        }


@dataclass
class SnapshotResult:
    citers: list[Citer]
    read: SnapshotRead
    merged: dict[str, str]  # old W id -> W id it was merged into (for the store to re-point)
    resolved: dict[str, list[str]] = field(default_factory=dict)  # DOI -> W ids found (pass 0)

    def by_label(self) -> dict[str, list[Citer]]:
        out: dict[str, list[Citer]] = {}
        for citer in self.citers:
            for label in citer.labels:
                out.setdefault(label, []).append(citer)
        return out


def read_info(
    engine: str, layout: Layout, since: str | None, query: CiterQuery, files: list[Any]
) -> SnapshotRead:
    parts = sorted({f.partition for f in files})
    counts = [f.records for f in files]
    return SnapshotRead(
        engine=engine,
        root=layout.root,
        format=layout.format,
        manifest=layout.manifest,
        release=layout.release,
        since=since,
        newest_partition=parts[-1] if parts else since,
        partitions=parts,
        files=[f.url for f in files],
        records=sum(c for c in counts if c is not None) if counts and None not in counts else None,
        merged_ids=len(query.merged),
        targets={k: sorted(v) for k, v in query.targets.items()},
    )


# -- the loader: engine rows -> Citer --------------------------------------------------------


def dedupe_hits(rows: Iterable[tuple[str, str, str, str]]) -> dict[str, tuple[set[str], str, str]]:
    """(citing id, label, partition, file) rows -> {short id: (labels, partition, file)}.

    An id seen in two partitions keeps the newest one's labels only.
    """
    out: dict[str, tuple[set[str], str, str]] = {}
    for cid, label, partition, path in rows:
        wid = short_w(cid)
        if not wid:
            continue
        have = out.get(wid)
        if have is None or partition > have[1]:
            out[wid] = ({label}, partition, path)
        elif partition == have[1]:
            have[0].add(label)
    return out


def load_citers(
    hits: Mapping[str, tuple[set[str], str, str]], records: Iterable[tuple[str, str, str]]
) -> list[Citer]:
    """Join pass two's (id, partition, record JSON) rows to pass one's hits, newest first wins."""
    best: dict[str, tuple[str, dict[str, Any]]] = {}
    for cid, partition, text in records:
        wid = short_w(cid)
        if not wid or wid not in hits or partition != hits[wid][1]:
            continue
        if wid not in best:
            best[wid] = (partition, normalise_record(json.loads(text)))
    out = []
    for wid in sorted(best):
        labels, partition, path = hits[wid]
        out.append(Citer(wid, best[wid][1], sorted(labels), partition, path))
    return out


def normalise_record(record: dict[str, Any]) -> dict[str, Any]:
    """A record in the API's schema, whichever way the file stored its nested fields.

    JSON strings are parsed; a map that an engine wrote as key/value lists becomes an object.
    """
    for name in NESTED_FIELDS:
        value = record.get(name)
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except ValueError:
                continue
        if isinstance(value, dict) and set(value) == {"key", "value"}:
            keys, values = value["key"], value["value"]
            if isinstance(keys, list) and isinstance(values, list):
                value = dict(zip(keys, values, strict=False))
        if isinstance(value, list) and value and all(_is_kv(v) for v in value):
            if name == "abstract_inverted_index":
                value = {v["key"]: v["value"] for v in value}
        record[name] = value
    return record


def _is_kv(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"key", "value"}


def doi_forms(dois: Iterable[str]) -> dict[str, str]:
    """Every spelling of each DOI that a record's `doi` may carry -> the bare lower-case DOI."""
    out: dict[str, str] = {}
    for doi in dois:
        bare = normalize_doi(doi)
        if bare:
            for form in (bare, f"https://doi.org/{bare}"):
                out[form] = bare
    return out
