"""The Markdown report: findings first, then the tables, the papers, what is missing and the
counting rules. Every value from the store is escaped, so API text never becomes markup."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tracer.render.tables import evidence_text
from tracer.render.text import clean
from tracer.report import COUNTING_RULES, Report, listed_then

_MD_SPECIAL = "\\`*_{}[]<>|#!"  # each gets a backslash before it
_MD_ESCAPES = str.maketrans({c: "\\" + c for c in _MD_SPECIAL})


def md(text: Any) -> str:
    """Markdown-escape a value so that API text never becomes markup, links or HTML."""
    if text is None:
        return ""
    # One line: CR, LF and every other control character would end a table row or forge one.
    return clean(str(text)).translate(_MD_ESCAPES)


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
