"""Flat outputs of the report: CSV and JSON exports, the Markdown report, BibTeX.

CSV cells are spreadsheet-safe: a text cell that a spreadsheet would read as a formula (starting
with = + - @, a tab or a carriage return) gets a leading apostrophe, so `=HYPERLINK(...)` in a
title stays text. Files are UTF-8 with a byte-order mark so that spreadsheets pick UTF-8.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import yaml

from tracer.errors import UsageError
from tracer.render.text import clean
from tracer.report import (
    COUNTING_RULES,
    AffiliationRow,
    PaperRow,
    Report,
    country_name,
    listed_then,
)

FLAG_CODES_FILE = Path(__file__).parent / "flag_codes.yaml"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WHAT = ("articles", "authors", "institutions", "countries")
FORMATS = ("csv", "json", "bibtex", "parquet", "xlsx")
EXPORT_SUFFIXES = {
    ".csv": "csv",
    ".json": "json",
    ".bib": "bibtex",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
}


@functools.cache
def flag_codes() -> dict[str, str]:
    """Watchlist id -> short code (flag_codes.yaml)."""
    data = yaml.safe_load(FLAG_CODES_FILE.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


def safe_cell(value: Any) -> Any:
    """A CSV cell no spreadsheet evaluates: text that starts like a formula gets an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


SEP = "|"  # the one separator of every multi-valued cell in the CSV exports
_SEP_STANDIN = "\u00a6"  # a "|" inside a value becomes "¦", so splitting on SEP is exact


def joined(values: Iterable[Any]) -> str:
    """Values of a multi-valued cell, joined by SEP (a SEP inside a value becomes "¦")."""
    return SEP.join(str(v).replace(SEP, _SEP_STANDIN) for v in values if v not in (None, ""))


def evidence_text(paper: PaperRow) -> str:
    """The paper's evidence on one line, for a terminal or Markdown."""
    return " | ".join(
        f"[{e.get('kind') or '?'}, {e.get('source') or '?'}] {e.get('text') or ''}".strip()
        for e in paper.evidence
    )


def _evidence_items(paper: PaperRow) -> list[str]:
    return [
        f"[{e.get('kind') or '?'}, {e.get('source') or '?'}] {e.get('text') or ''}".strip()
        for e in paper.evidence
    ]


def _ids(paper: PaperRow, kind: str) -> str:
    return joined(paper.ids.get(kind, []))


def flag_column(list_id: str) -> str:
    """The boolean column of a watchlist: `flag_us_entity_list` for `us-entity-list`."""
    return "flag_" + re.sub(r"[^a-z0-9]+", "_", list_id.lower()).strip("_")


def known_lists(report: Report) -> list[str]:
    """Watchlists with a column in every export: the ones the project knows, then any other
    list an institution of this report is on."""
    return list(dict.fromkeys([*flag_codes(), *(f.list for f in report.flag_lists)]))


def _affiliation(name: str | None, aff: AffiliationRow | None) -> str:
    who = name or "?"
    if aff is None:
        return f"{who} (no affiliation)"
    where = aff.institution_name or aff.raw or "?"
    return f"{who} ({where}, {aff.country})" if aff.country else f"{who} ({where})"


def article_rows(report: Report) -> list[dict[str, Any]]:
    lists = known_lists(report)
    rows = []
    for p in report.papers:
        pairs: list[tuple[str | None, AffiliationRow | None]] = []
        for author in p.authors:
            pairs += [(author.name, aff) for aff in author.affiliations] or [(author.name, None)]
        row: dict[str, Any] = {
            "paper_id": p.paper_id,
            "key": p.key,
            "doi": _ids(p, "doi"),
            "arxiv": _ids(p, "arxiv"),
            "s2": _ids(p, "s2"),
            "corpus_id": _ids(p, "corpus"),
            "openalex": _ids(p, "openalex"),
            "title": p.title,
            "year": p.year,
            "publication_date": p.publication_date,
            "venue": p.venue,
            "usage_level": p.level,
            "usage_score": p.score,
            "evidence": joined(_evidence_items(p)),
            "via_derivative": p.via_derivative,
            "authors": joined(a.name for a in p.authors),
            "affiliations": joined(_affiliation(name, aff) for name, aff in pairs),
            "countries": joined(p.countries),
            "institutions": joined(p.institutions),
            "institution_ids": joined(
                dict.fromkeys(
                    a.institution_id for au in p.authors for a in au.affiliations if a.institution_id
                )
            ),
            "sectors": joined(p.sectors),
            "flags": joined(p.flags),
        }
        for name in lists:
            row[flag_column(name)] = name in p.flag_lists
        row.update(
            {
                "has_affiliation": p.has_affiliation,
                "after_withdrawal": p.after_withdrawal,
                "missing": p.missing,
                "links": joined(p.links),
            }
        )
        rows.append(row)
    return rows


def author_rows(report: Report) -> list[dict[str, Any]]:
    rows = []
    for p in report.papers:
        for author in p.authors:
            affs: list[AffiliationRow | None] = list(author.affiliations) or [None]
            for aff in affs:
                rows.append(
                    {
                        "paper_id": p.paper_id,
                        "key": p.key,
                        "title": p.title,
                        "year": p.year,
                        "position": author.position,
                        "author": author.name,
                        "author_id": author.author_id,
                        "raw_affiliation": aff.raw if aff else None,
                        "institution_id": aff.institution_id if aff else None,
                        "institution": aff.institution_name if aff else None,
                        "country": aff.country if aff else None,
                        "sector": aff.sector if aff else None,
                        "flags": joined(f.label for f in aff.flags) if aff else "",
                        "method": aff.method if aff else None,
                    }
                )
    return rows


def institution_rows(report: Report) -> list[dict[str, Any]]:
    lists = known_lists(report)
    return [
        {
            "institution_id": r.key,
            "institution": r.name,
            "parent": r.parent_name,
            "country": r.country,
            "sector": r.sector,
            "url": r.url,
            "flags": joined(f.label for f in r.flags),
            **{flag_column(n): any(f.list == n for f in r.flags) for n in lists},
            "papers_whole": r.papers,
            "papers_fractional": r.fractional,
            "paper_ids": joined(r.paper_ids),
        }
        for r in report.institutions
    ]


def country_rows(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "country": r.key,
            "name": r.label,
            "papers_whole": r.papers,
            "papers_fractional": r.fractional,
        }
        for r in report.countries
    ]


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    out = io.StringIO()
    fields = list(columns or (rows[0].keys() if rows else []))
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_cell(row.get(k)) for k in fields})
    return "\ufeff" + out.getvalue()


def json_chunks(data: Any) -> Iterator[str]:
    """JSON text in pieces. Dataclasses (the report model) are turned into objects one at a
    time as the encoder reaches them: the same text as json.dumps(asdict(...)), without a
    second copy of the whole report in memory."""
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False, default=_plain)
    yield from encoder.iterencode(data)
    yield "\n"


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(data: Any) -> str:
    return "".join(json_chunks(data))


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


def export(report: Report, what: str, fmt: str) -> str | bytes:
    """One export: articles, authors, institutions or countries as CSV, JSON, Parquet or Excel
    (bytes for the last two), or the articles as BibTeX."""
    from tracer.render.sheets import to_parquet, to_xlsx

    if what not in WHAT:
        raise UsageError(f"Cannot export {what!r}.", hint="Use one of: " + ", ".join(WHAT) + ".")
    if fmt not in FORMATS:
        raise UsageError(
            f"Unknown export format {fmt!r}.", hint="Use one of: " + ", ".join(FORMATS) + "."
        )
    if fmt == "bibtex":
        if what != "articles":
            raise UsageError("BibTeX is for articles only.", hint="Use --format csv or json.")
        return to_bibtex(report)
    if what == "articles" and fmt == "json":
        return to_json([p for p in report.to_dict()["papers"]])
    rows = {
        "articles": article_rows,
        "authors": author_rows,
        "institutions": institution_rows,
        "countries": country_rows,
    }[what](report)
    if fmt == "json":
        return to_json(rows)
    if fmt == "parquet":
        return to_parquet(rows)
    if fmt == "xlsx":
        return to_xlsx(rows, what)
    return to_csv(rows)


# -- Markdown ----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#!])")


def md(text: Any) -> str:
    """Markdown-escape a value so that API text never becomes markup, links or HTML."""
    if text is None:
        return ""
    # One line: CR, LF and every other control character would end a table row or forge one.
    return _MD_SPECIAL.sub(r"\\\1", clean(str(text)))


def _md_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return lines + [""]


def to_markdown(report: Report) -> str:
    h = report.header
    run = h.last_run
    out = [f"# {md(h.name)} ({md(h.dataset)})", "", f"**{md(report.headline)}**", ""]
    out += [f"- Origin papers: {md('; '.join(h.origin_papers))}"]
    out += [f"- Status: {md(h.status or 'available')}; licence: {md(h.licence or 'unknown')}"]
    out += [
        f"- Last scan: {md(run.finished_at or run.started_at) + ' (' + md(run.status) + ')' if run else 'never'}"
    ]
    out += [f"- Sources: {md(', '.join(h.sources) or 'none')}", ""]
    out += ["## Flagged institutions", ""]
    if not report.flagged:
        out += ["None of the institutions found is on a watchlist.", ""]
    for inst in report.flagged:
        flags = "; ".join(
            f"{f.label}{' (' + f.category + ')' if f.category else ''}"
            f"{' from ' + f.start if f.start else ''}{' to ' + f.end if f.end else ''}"
            for f in inst.flags
        )
        out += [f"### {md(inst.name)} ({md(inst.country or '?')}, {md(inst.sector)})", ""]
        out += [f"Flags: {md(flags)}", ""]
        for pid in inst.paper_ids:
            p = report.paper(pid)
            then = listed_then(inst.flags, p)
            listed = f", listed then: {then}" if then else ""
            out += [
                f"- {md(p.title)} ({p.year or '?'}, {md(p.level)}{listed}): {md(evidence_text(p))}"
            ]
        out += [""]
    out += _findings_md(report)
    out += ["## Papers by usage level", ""]
    out += _md_table(["level", "papers"], [(r.label, r.papers) for r in report.by_level])
    out += [f"Total: {report.total_papers}", ""]
    out += ["## Papers by country", ""]
    out += _md_table(
        ["country", "code", "papers (whole)", "papers (fractional)"],
        [(r.label, r.key, r.papers, f"{r.fractional:.2f}") for r in report.countries],
    )
    out += ["## Papers by sector", ""]
    out += _md_table(
        ["sector", "papers (whole)", "papers (fractional)"],
        [(r.label, r.papers, f"{r.fractional:.2f}") for r in report.sectors],
    )
    out += ["## Top institutions", ""]
    out += _md_table(
        ["institution", "country", "sector", "flags", "papers (whole)", "papers (fractional)"],
        [
            (
                r.name,
                r.country or "",
                r.sector,
                "; ".join(f.label for f in r.flags),
                r.papers,
                f"{r.fractional:.2f}",
            )
            for r in report.institutions[:25]
        ],
    )
    out += ["## Papers per year", ""]
    out += _md_table(["year", "papers"], [(y.year or "unknown", y.papers) for y in report.years])
    out += ["## Papers", ""]
    out += [md(report.score_note), ""]
    out += _md_table(
        ["title", "year", "usage", "score", "authors", "countries", "institutions", "flags", "link"],
        [
            (
                p.title,
                p.year or "",
                p.level,
                f"{p.score:.2f}" if p.score is not None else "",
                ", ".join(a.name or "?" for a in p.authors),
                "; ".join(p.countries),
                "; ".join(p.institutions),
                "; ".join(p.flags),
                p.links[0] if p.links else "",
            )
            for p in report.papers
        ],
    )
    out += _missing_md(report)
    out += ["## Counting rules", "", md(COUNTING_RULES), ""]
    return "\n".join(out)


def _papers(count: int) -> str:
    return f"{count} paper" if count == 1 else f"{count} papers"


def _findings_md(report: Report) -> list[str]:
    w, lic = report.withdrawal, report.licence
    out = ["## Use after withdrawal", ""]
    if w.withdrawn_on:
        out += [
            f"Withdrawn {md(w.withdrawn_on)}: {_papers(w.papers)} published after it. {md(w.rule)}",
            "",
        ]
        out += [
            f"- {md(report.paper(i).title)} ({md(report.paper(i).publication_date or report.paper(i).year)}, {md(report.paper(i).level)})"
            for i in w.paper_ids
        ]
        out += [""]
    else:
        out += ["The catalog does not record a withdrawal of this dataset.", ""]
    out += ["## Licence against user", ""]
    if lic.applies:
        out += [
            f"Licence: {md(lic.licence or lic.licence_terms)}; {_papers(lic.papers)} by commercial or military users.",
            "",
        ]
        out += [
            f"- {md(r.name)} ({md(r.sector)}, {md(r.country or '?')}): {_papers(r.papers)}"
            for r in lic.institutions
        ]
        out += [""]
    else:
        out += [
            f"Licence terms: {md(lic.licence_terms or 'unknown')}; not restricted to non-commercial or research use.",
            "",
        ]
    return out


def _missing_md(report: Report) -> list[str]:
    miss = report.missing
    out = ["## What is missing", ""]
    out += [f"- {md(note)}" for note in miss.notes]
    out += [f"- Papers without any affiliation: {len(miss.papers_without_affiliation)}"]
    out += [
        f"- Affiliation strings not resolved to an institution: {miss.unresolved_affiliations} ({miss.country_only_affiliations} with a country only)"
    ]
    out += [f"- Capped or incomplete lists: {len(miss.capped)}"]
    out += [
        f"  - {md(c.source)} {md(c.route)} {md(c.target)}: {c.fetched} of {c.total if c.total is not None else '?'} {md(c.note or '')}"
        for c in miss.capped
    ]
    out += [f"- Runs that failed or were partial: {len(miss.failed_runs)}"]
    out += [f"  - run {r.id} {md(r.status)}: {md(r.error or '')}" for r in miss.failed_runs]
    out += [
        f"- Papers no longer found by the sources (kept, marked missing): {len(miss.papers_marked_missing)}"
    ]
    out += [f"- Papers not yet judged: {len(miss.papers_not_judged)}"]
    out += [
        f"- Papers whose author list the source cut short: {len(miss.papers_authors_truncated)}",
        "",
    ]
    return out


__all__ = ["country_name", "export", "to_csv", "to_json", "to_markdown", "to_bibtex"]
