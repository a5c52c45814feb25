"""Where an OpenAlex snapshot keeps its works: format, manifest, partitions, files, merged ids.

What the OpenAlex docs say ("Snapshot data format", "Download to your machine", 2026): the bucket
`s3://openalex/data/` has one prefix per format, `jsonl/` (gzip JSON Lines, `part_NNNN.gz`) and,
from the June 2026 quarterly release on, `parquet/` (snappy, `part_NNNN.parquet`), each with one
folder per entity and a combined `manifest.json` (Redshift manifest format:
`{"entries": [{"url": ..., "meta": {"content_length": ..., "record_count": ...}}]}`). Records are
partitioned by `updated_date=YYYY-MM-DD`, each record in the partition of its latest change only.
Snapshots before 2026 used a flat `data/works/` layout with `data/works/manifest`; that layout and
the `merged_ids/` folder (`merged_ids/works/YYYY-MM-DD.csv.gz`, columns `merge_date,id,
merge_into_id`) are kept under `legacy-data/`. All three places are looked in.

Not confirmed by the docs, so handled both ways elsewhere: whether the Parquet files keep nested
fields (authorships, locations, ids, the abstract index) as structs/maps or as JSON strings.
Not confirmed either: whether the new manifest's URLs point at the `jsonl/`/`parquet/` prefixes;
a manifest URL is mapped onto the folder it was read from by its path below `works/`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracer.errors import DataError

PARTITION_RE = re.compile(r"updated_date=(\d{4}-\d{2}-\d{2})")
FORMATS = ("parquet", "jsonl")  # Parquet first: columnar, so pass one reads two columns only
SUFFIX = {"parquet": (".parquet",), "jsonl": (".gz", ".jsonl.gz", ".json.gz")}


@dataclass(frozen=True)
class SnapshotFile:
    url: str  # a local path or an s3:// URL
    partition: str  # the updated_date, "YYYY-MM-DD"
    records: int | None = None  # from the manifest, where it says


@dataclass
class Layout:
    """The works of one snapshot in one format."""

    root: str
    format: str  # parquet | jsonl
    works_dir: str
    files: list[SnapshotFile]
    manifest: str | None  # where the file list came from; None when the folders were listed
    merged_ids_files: list[str] = field(default_factory=list)

    @property
    def partitions(self) -> list[str]:
        return sorted({f.partition for f in self.files})

    @property
    def release(self) -> str | None:
        """The snapshot's date as far as its content tells: its newest partition."""
        parts = self.partitions
        return parts[-1] if parts else None

    def newer_than(self, since: str | None) -> list[SnapshotFile]:
        """The files of partitions after `since` (all of them without it)."""
        return [f for f in self.files if since is None or f.partition > since]


def is_remote(root: str) -> bool:
    return root.startswith(("s3://", "http://", "https://"))


def open_layout(root: str, *, fmt: str | None = None, reader: Any = None) -> Layout:
    """Find the works of the snapshot at `root` (a local folder or s3://openalex/data).

    `root` may be the data folder (holding `parquet/` and `jsonl/`, or a legacy `works/`), a
    format folder, or a works folder. `fmt` forces a format; otherwise Parquet when it is there.
    `reader`: reads a remote text file (the DuckDB engine passes one that goes through httpfs).
    """
    root = root.rstrip("/")
    if is_remote(root):
        return _remote_layout(root, fmt, reader)
    base = Path(root)
    if not base.is_dir():
        raise DataError(
            f"The snapshot folder {root} does not exist.",
            hint="Give the folder that holds parquet/ or jsonl/ (or works/), or s3://openalex/data.",
        )
    for candidate_fmt in (fmt,) if fmt else FORMATS:
        assert candidate_fmt is not None
        works = _local_works_dir(base, candidate_fmt)
        if works is None:
            continue
        manifest = _local_manifest(works)
        files = (
            _manifest_files(_read_json(manifest), str(works), candidate_fmt)
            if manifest
            else _listed_files(works, candidate_fmt)
        )
        if files:
            missing = [f.url for f in files if not Path(f.url).is_file()]
            if missing:
                raise DataError(
                    f"{len(missing)} of the {len(files)} works files that {manifest} lists are "
                    f"missing (first: {missing[0]}).",
                    hint="Finish the download (aws s3 sync ... --no-sign-request), or move the "
                    "manifest away to read the files that are there.",
                )
            merged = _local_merged_ids(base, works)
            return Layout(
                root, candidate_fmt, str(works), files, str(manifest) if manifest else None, merged
            )
    raise DataError(
        f"No OpenAlex works files were found under {root}.",
        hint="Expected parquet/works/updated_date=*/part_*.parquet or "
        "jsonl/works/updated_date=*/part_*.gz (or works/updated_date=*/*.gz).",
    )


def _local_works_dir(base: Path, fmt: str) -> Path | None:
    candidates = [base / fmt / "works", base / "works", base]
    if base.name == fmt:
        candidates.insert(0, base / "works")
    for path in candidates:
        if path.is_dir() and any(path.glob("updated_date=*")):
            files = _listed_files(path, fmt)
            if files:
                return path
    return None


def _local_manifest(works: Path) -> Path | None:
    for path in (works.parent / "manifest.json", works / "manifest.json", works / "manifest"):
        if path.is_file():
            return path
    return None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"The snapshot manifest {path} could not be read: {exc}.") from None


def _manifest_files(data: Any, works_dir: str, fmt: str) -> list[SnapshotFile]:
    """The works entries of a manifest, their URLs mapped onto `works_dir`."""
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise DataError("The snapshot manifest has no list of entries.")
    out: list[SnapshotFile] = []
    for entry in entries:
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str) or "/works/" not in url or not url.endswith(SUFFIX[fmt]):
            continue
        match = PARTITION_RE.search(url)
        if not match:
            continue
        tail = url.split("/works/", 1)[1]
        meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
        count = meta.get("record_count")
        out.append(
            SnapshotFile(
                f"{works_dir}/{tail}", match.group(1), count if isinstance(count, int) else None
            )
        )
    return sorted(out, key=lambda f: (f.partition, f.url))


def _listed_files(works: Path, fmt: str) -> list[SnapshotFile]:
    out = []
    for path in sorted(works.glob("updated_date=*/*")):
        match = PARTITION_RE.search(path.parent.name)
        if match and path.is_file() and path.name.endswith(SUFFIX[fmt]):
            out.append(SnapshotFile(str(path), match.group(1)))
    return out


def _local_merged_ids(base: Path, works: Path) -> list[str]:
    roots = {base, works.parent, works.parent.parent, base.parent}
    found: set[str] = set()
    for r in roots:
        for sub in ("merged_ids/works", "legacy-data/merged_ids/works"):
            folder = r / sub
            if folder.is_dir():
                found.update(str(p) for p in folder.glob("*.csv*") if p.is_file())
    return sorted(found)


def _remote_layout(root: str, fmt: str | None, reader: Any) -> Layout:
    """s3://openalex/data: the manifest names every file (no listing needed)."""
    if reader is None:
        raise DataError(f"The snapshot at {root} is remote and no reader was given for it.")
    errors = []
    for candidate_fmt in (fmt,) if fmt else FORMATS:
        assert candidate_fmt is not None
        for manifest, works in (
            (f"{root}/{candidate_fmt}/manifest.json", f"{root}/{candidate_fmt}/works"),
            (f"{root}/works/manifest", f"{root}/works"),
        ):
            if candidate_fmt == "parquet" and manifest.endswith("/works/manifest"):
                continue
            try:
                text = reader(manifest)
            except Exception as exc:  # noqa: BLE001 - any failure means: try the next place
                errors.append(f"{manifest}: {exc}")
                continue
            files = _manifest_files(json.loads(text), works, candidate_fmt)
            if files:
                bucket = root.split("/data", 1)[0]
                merged = [
                    f"{root}/merged_ids/works/*.csv.gz",
                    f"{bucket}/legacy-data/merged_ids/works/*.csv.gz",
                ]
                return Layout(root, candidate_fmt, works, files, manifest, merged)
    raise DataError(
        f"No works manifest could be read under {root}.",
        hint="; ".join(errors)[:300] or "Check the URL (s3://openalex/data).",
    )


def read_merged_ids(paths: list[str]) -> dict[str, str]:
    """Local merged-id files (`merge_date,id,merge_into_id`, gzip CSV) as {old W id: new W id}."""
    merged: dict[str, str] = {}
    for path in paths:
        raw = Path(path).read_bytes()
        text = gzip.decompress(raw).decode("utf-8") if raw[:2] == b"\x1f\x8b" else raw.decode()
        for row in csv.DictReader(io.StringIO(text)):
            old, new = short_w(row.get("id")), short_w(row.get("merge_into_id"))
            if old and new:
                merged[old] = new
    return merged


def short_w(value: str | None) -> str | None:
    """'https://openalex.org/W12' or 'W12' -> 'W12'; None for anything else."""
    if not value:
        return None
    tail = value.strip().rstrip("/").rsplit("/", 1)[-1]
    return tail if re.fullmatch(r"W\d+", tail) else None
