"""A new catalog entry from a DOI, an arXiv id or a title: resolve the paper through Semantic
Scholar and OpenAlex, build the entry, and append it to the user's own catalog file.

Nothing here prints or asks: the CLI shows the entry, asks for confirmation and calls `write`.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from tracer.catalog import (
    ARXIV_RE,
    KEY_RE,
    Catalog,
    Dataset,
    OriginPaper,
    is_packaged,
    parse_catalog,
    user_catalog_path,
)
from tracer.config import Settings
from tracer.errors import CatalogError, DataError, NotFoundError, SourceError, UsageError
from tracer.http import HttpClient
from tracer.records import Work
from tracer.sources import normalize_arxiv, normalize_doi
from tracer.sources.openalex import OpenAlex
from tracer.sources.semanticscholar import SemanticScholar
from tracer.sources.titles import same_title

_ARXIV_INPUT = re.compile(
    r"^(?:arxiv:|https?://arxiv\.org/(?:abs|pdf)/)?"
    r"(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?:\.pdf)?$",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
HEADER = """\
# My own datasets for tracer, loaded after the packaged catalog (`tracer datasets add`
# writes here; entries may also be edited by hand, in the packaged catalog's layout).
version: 1
datasets:
"""


class CatalogWriteError(DataError):
    """The catalog file cannot be written."""


@dataclass(frozen=True)
class Reference:
    kind: str  # "doi", "arxiv" or "title"
    value: str


def parse_reference(text: str) -> Reference:
    """What the user typed: a DOI (bare, doi:, URL), an arXiv id (bare, arXiv:, URL), or a title."""
    clean = " ".join(_CONTROL.sub(" ", text).split())
    if not clean:
        raise UsageError("Give a DOI, an arXiv id or a title to add.")
    doi = normalize_doi(clean)
    if doi and " " not in doi and "/" in doi:
        if doi.startswith("10.48550/arxiv."):
            return Reference("arxiv", normalize_arxiv(doi.removeprefix("10.48550/arxiv.")) or "")
        return Reference("doi", doi)
    match = _ARXIV_INPUT.match(clean)
    if match:
        return Reference("arxiv", match.group(1))
    return Reference("title", clean)


@dataclass
class Found:
    """What the sources said about the paper."""

    s2: Work | None = None
    openalex: list[Work] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def resolve(settings: Settings, ref: Reference, year: int | None = None) -> Found:
    """Ask S2 and OpenAlex for the paper; a failing source is noted, not fatal, unless both fail."""
    found = Found()
    failures = 0
    with HttpClient(settings) as http:
        s2, openalex = SemanticScholar(http), OpenAlex(http)
        try:
            if ref.kind == "title":
                found.s2 = s2.match_title(ref.value, year)
            else:
                found.s2 = s2.paper(f"{ref.kind.upper()}:{ref.value}")
        except SourceError as exc:
            failures += 1
            found.notes.append(f"Semantic Scholar could not be asked ({exc.message})")
        title = found.s2.title if found.s2 and found.s2.title else None
        wanted_year = found.s2.year if found.s2 and found.s2.year else year
        try:
            if ref.kind != "title":
                doi = ref.value if ref.kind == "doi" else f"10.48550/arxiv.{ref.value}"
                work = openalex.work(f"doi:{doi}")
                if work is not None:
                    found.openalex.append(work)
                    title = title or work.title
                    wanted_year = wanted_year or work.year
            if title or ref.kind == "title":
                # Other versions (arXiv, proceedings, journal) are separate works in OpenAlex.
                for work in openalex.works_by_title(title or ref.value, wanted_year):
                    if work.openalex_id not in {w.openalex_id for w in found.openalex}:
                        found.openalex.append(work)
        except SourceError as exc:
            failures += 1
            found.notes.append(f"OpenAlex could not be asked ({exc.message})")
    if found.s2 is None and not found.openalex:
        if failures == 2:
            raise SourceError(
                "Neither Semantic Scholar nor OpenAlex could be asked: "
                + "; ".join(found.notes)
                + "."
            )
        what = {"doi": f"DOI {ref.value}", "arxiv": f"arXiv id {ref.value}"}.get(
            ref.kind, f"a paper titled {ref.value!r}" + (f" from {year}" if year else "")
        )
        raise NotFoundError(
            f"Neither Semantic Scholar nor OpenAlex knows {what}.",
            hint="Check the id, or give the exact title (with --year) instead.",
        )
    return found


def origin_papers(found: Found) -> list[OriginPaper]:
    """One origin paper per version: S2's record (which merges versions) with the OpenAlex work
    of the same DOI or arXiv id, then each other OpenAlex version with the same title."""
    papers: list[OriginPaper] = []
    rest = list(found.openalex)
    if found.s2 is not None:
        work = found.s2
        twin = next((w for w in rest if _same_version(w, work)), None)
        if twin is not None:
            rest.remove(twin)
        papers.append(
            OriginPaper(
                title=_text(work.title or (twin.title if twin else "")),
                year=work.year or (twin.year if twin else None),
                venue=_text(work.venue) or None,
                doi=_plain_doi(work.doi) or (_plain_doi(twin.doi) if twin else None),
                arxiv=work.arxiv_id or (twin.arxiv_id if twin else None),
                s2_corpus_id=work.corpus_id,
                openalex=twin.openalex_id if twin else None,
            )
        )
    for work in rest:
        if papers and not same_title(work.title, papers[0].title):
            continue
        papers.append(
            OriginPaper(
                title=_text(work.title),
                year=work.year,
                venue=_text(work.venue) or None,
                doi=_plain_doi(work.doi),
                arxiv=work.arxiv_id,
                openalex=work.openalex_id,
            )
        )
    return [p for p in papers if p.title and (p.arxiv is None or ARXIV_RE.match(p.arxiv))]


def build_entry(
    found: Found,
    *,
    key: str | None = None,
    name: str | None = None,
    aliases: tuple[str, ...] = (),
    fields_of_study: tuple[str, ...] = (),
) -> Dataset:
    papers = origin_papers(found)
    if not papers:
        raise NotFoundError("The sources answered, but with no paper that has a title.")
    first = papers[0]
    name = _text(name) if name else _name_from_title(first.title)
    key = key or _slug(name)
    if not KEY_RE.match(key):
        raise UsageError(
            f"{key!r} cannot be a dataset key: use lowercase letters, digits and hyphens.",
            hint="Pass --key, for example --key my-dataset.",
        )
    fields = fields_of_study or tuple(found.s2.fields_of_study[:3] if found.s2 else ())
    if not fields:
        raise UsageError(
            "The sources give no field of study for this paper, and mention searches need one.",
            hint="Pass --field, for example --field 'Computer Science'.",
        )
    names = tuple(dict.fromkeys(_text(a) for a in aliases if _text(a)))
    creators = tuple(_text(a.name) for a in (found.s2.authors if found.s2 else []) if a.name)
    return Dataset(
        key=key,
        name=name,
        aliases=names,
        mentions=tuple(dict.fromkeys([name, *names])),
        fields_of_study=tuple(_text(f) for f in fields),
        origin_papers=tuple(papers),
        year=first.year,
        creators=creators,
    )


def already_there(catalog: Catalog, entry: Dataset) -> str | None:
    """Why the entry would repeat the catalog (same key or a shared origin id), or None."""
    if any(d.key == entry.key for d in catalog.datasets):
        return f"the key {entry.key!r} is already in the catalog"
    mine = _ids(entry)
    for dataset in catalog.datasets:
        shared = mine & _ids(dataset)
        if shared:
            return f"its origin paper ({sorted(shared)[0]}) is already that of {dataset.key}"
    return None


def target_file(settings: Settings, explicit: str | None) -> Path:
    """--catalog, else $TRACER_CATALOG (settings), else the user's own catalog; never the
    packaged file, which an upgrade replaces."""
    path = Path(explicit).expanduser() if explicit else settings.catalog_path
    if is_packaged(path):
        return user_catalog_path()
    return path


def entry_yaml(entry: Dataset, indent: str = "  ") -> str:
    """The entry in the packaged catalog's layout, as one list item."""
    lines = [f"{indent}- key: {_scalar(entry.key)}", f"{indent}  name: {_scalar(entry.name)}"]
    pad = indent + "  "
    if entry.aliases:
        lines.append(f"{pad}aliases: {_scalar(list(entry.aliases))}")
    lines.append(f"{pad}mentions: {_scalar(list(entry.mentions))}")
    if entry.year:
        lines.append(f"{pad}year: {entry.year}")
    if entry.creators:
        lines.append(f"{pad}creators: {_scalar(list(entry.creators))}")
    lines.append(f"{pad}fields_of_study: {_scalar(list(entry.fields_of_study))}")
    lines.append(f"{pad}origin_papers:")
    for paper in entry.origin_papers:
        lines.append(f"{pad}  - title: {_scalar(paper.title)}")
        for name in ("year", "venue", "doi", "arxiv", "s2_corpus_id", "openalex"):
            value = getattr(paper, name)
            if value is not None:
                lines.append(f"{pad}    {name}: {_scalar(value)}")
    return "\n".join(lines) + "\n"


def write(path: Path, entry: Dataset) -> None:
    """Append the entry to the catalog file (created if absent), checked by reading it back."""
    try:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogWriteError(f"Cannot read the catalog file {path}: {_reason(exc)}.") from None
    before = parse_catalog(old, path).datasets if old.strip() else []
    if not old.strip():
        text = HEADER + entry_yaml(entry)
    else:
        found = re.search(r"^( *)- key:", old, re.MULTILINE)
        indent = found.group(1) if found else "  "
        body = old if before else re.sub(r"^datasets:.*$", "datasets:", old, flags=re.MULTILINE)
        text = body.rstrip("\n") + "\n\n" + entry_yaml(entry, indent)
    try:
        after = parse_catalog(text, path).datasets
    except CatalogError as exc:
        if exc.message.startswith(f"{path}:") and before:
            raise CatalogError(
                f"Cannot append to {path}: with the new entry it would not read back "
                f"({exc.message.removeprefix(str(path) + ':')})",
                hint="Keep the 'datasets' list last in the file, or add the entry by hand.",
            ) from None
        raise
    if [d.key for d in after] != [d.key for d in before] + [entry.key] or _comparable(
        after[-1]
    ) != _comparable(entry):
        raise CatalogError(
            f"Cannot append to {path}: its 'datasets' list is not the last thing in the file.",
            hint="Move the list to the end of the file, or add the entry by hand.",
        )
    _atomic_write(path, text)


def _atomic_write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            if path.exists():
                os.chmod(tmp, path.stat().st_mode & 0o777)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        raise CatalogWriteError(
            f"Cannot write the catalog file {path}: {_reason(exc)}.",
            hint="Choose a writable file with --catalog.",
        ) from None


def _comparable(dataset: Dataset) -> Dataset:
    return replace(dataset, line=0)


def _ids(dataset: Dataset) -> set[str]:
    out: set[str] = set()
    for paper in dataset.origin_papers:
        out.update(i.lower() for i in paper.s2_ids())
        out.update(f"doi:{d.lower()}" for d in paper.dois())
        if paper.openalex:
            out.add(f"openalex:{paper.openalex}")
    return out


def _same_version(work: Work, s2: Work) -> bool:
    return bool(
        (work.doi and s2.doi and work.doi == s2.doi)
        or (work.arxiv_id and s2.arxiv_id and work.arxiv_id == s2.arxiv_id and not s2.doi)
    )


def _plain_doi(doi: str | None) -> str | None:
    """arXiv's DOIs are written as arxiv ids, as in the packaged catalog."""
    return None if not doi or doi.startswith("10.48550/") else doi


def _text(value: str | None) -> str:
    """API text as one clean line: no control characters, single spaces."""
    return " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", value or "")).split())


def _name_from_title(title: str) -> str:
    """'MS-Celeb-1M: A Dataset and Benchmark...' -> 'MS-Celeb-1M'; otherwise the title."""
    head, sep, _ = title.partition(":")
    return head.strip() if sep and 0 < len(head.split()) <= 4 else title


def _slug(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > 40:
            break
        slug = f"{slug}-{word}" if slug else word
    return slug or "dataset"


def _scalar(value: Any) -> str:
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6)
    return dumped.removesuffix("\n...\n").strip()


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)
