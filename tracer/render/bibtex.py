"""BibTeX for the articles of a report: @inproceedings for proceedings, @article for
journals, @misc for preprints. Braces and TeX specials in API text cannot break out of a field."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

from tracer.report import Report

_BIB_ESCAPES = {
    "\\": r"\textbackslash{}",
    "^": r"\^{}",
    "~": r"\~{}",
    **{ch: "\\" + ch for ch in "{}%&$#_"},
}


def _bib(text: str) -> str:
    """Escape text for a BibTeX field: braces and TeX specials can't break out of it."""
    return "".join(_BIB_ESCAPES.get(ch, ch) for ch in text.replace("\n", " "))


VENUES_FILE = Path(__file__).parent / "venues.yaml"


@functools.cache
def _venue_rules() -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    data = yaml.safe_load(VENUES_FILE.read_text(encoding="utf-8")) or {}
    return (
        frozenset(w.lower() for w in data.get("words", [])),
        frozenset(str(a) for a in data.get("acronyms", [])),
        tuple(p.lower() for p in data.get("preprints", [])),
    )


def entry_type(venue: str | None) -> str:
    """`inproceedings`, `article` or `misc` (a preprint server, or no venue) for a venue name."""
    if not venue:
        return "misc"
    words, acronyms, preprints = _venue_rules()
    if any(venue.lower().startswith(p) for p in preprints):
        return "misc"
    tokens = re.findall(r"[A-Za-z]+", venue)
    if any(t.lower() in words for t in tokens) or any(t in acronyms for t in tokens):
        return "inproceedings"
    return "article"


def to_bibtex(report: Report) -> str:
    entries = []
    for p in report.papers:
        kind = entry_type(p.venue)
        venue_field = {"inproceedings": "booktitle", "article": "journal"}.get(kind, "howpublished")
        fields = {
            "title": "{" + _bib(p.title or "") + "}",
            "author": " and ".join(_bib(a.name or "") for a in p.authors if a.name),
            "year": str(p.year or ""),
            venue_field: _bib(p.venue or ""),
            "doi": _bib(p.ids.get("doi", [""])[0]),
            "eprint": _bib(p.ids.get("arxiv", [""])[0]),
            "url": p.links[0] if p.links else "",  # quoted by links_for: no braces
            "note": _bib(f"{report.header.name} usage: {p.level}"),
        }
        if fields["eprint"]:
            fields["archiveprefix"] = "arXiv"
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items() if v)
        entries.append(f"@{kind}{{tracer{p.paper_id},\n{body}\n}}")
    return "\n\n".join(entries) + "\n"
