"""The Markdown report: findings first, then the tables, the papers, what is missing and the
counting rules. Every value from the store is escaped, so API text never becomes markup."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from tracer.render.tables import evidence_text
from tracer.render.text import ACTS_ON, clean
from tracer.report import COUNTING_RULES, InstitutionRow, PaperRow, Report, listed_then

_MD_SPECIAL = "\\`*_{}[]<>|#!"  # each gets a backslash before it
_MD_ESCAPES = str.maketrans({c: "\\" + c for c in _MD_SPECIAL})


# A character that md() changes: a control character (clean) or one that gets a backslash.
_MD_CHANGES = re.compile(
    "[" + ACTS_ON.pattern[1:-1] + "".join("\\" + c for c in _MD_SPECIAL) + "]"
)


def md(text: Any) -> str:
    """Markdown-escape a value so that API text never becomes markup, links or HTML."""
    if text is None:
        return ""
    value = text if type(text) is str else str(text)
    if not _MD_CHANGES.search(value):
        return value  # most cells: nothing to remove, nothing to escape
    # One line: CR, LF and every other control character would end a table row or forge one.
    return clean(value).translate(_MD_ESCAPES)


def _md_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return lines + [""]


PAPER_HEADER = ["title", "year", "usage", "score", "authors", "countries", "institutions",
                "flags", "link"]


def paper_line(p: PaperRow) -> str:
    """The paper's row of the papers table."""
    return "| " + " | ".join(md(c) for c in (
        p.title,
        p.year or "",
        p.level,
        f"{p.score:.2f}" if p.score is not None else "",
        ", ".join(a.name or "?" for a in p.authors),
        "; ".join(p.countries),
        "; ".join(p.institutions),
        "; ".join(p.flags),
        p.links[0] if p.links else "",
    )) + " |"


def flagged_line(p: PaperRow) -> tuple[str, str]:
    """A flagged institution's paper as the text before and after its "listed then" part
    (which depends on the institution's listings: `listed_then`)."""
    return (f"- {md(p.title)} ({p.year or '?'}, {md(p.level)}",
            f"): {md(evidence_text(p))}")


def listed_part(then: str) -> str:
    return f", listed then: {then}" if then else ""


def withdrawal_line(p: PaperRow) -> str:
    return f"- {md(p.title)} ({md(p.publication_date or p.year)}, {md(p.level)})"


class MarkdownPapers(Protocol):
    """Where the per-paper lines of the page come from: the report's papers, or lines written
    while the papers were read (tracer.render.stream)."""

    def table(self) -> Iterable[str]: ...
    def flagged(self, inst: InstitutionRow) -> Iterable[str]: ...
    def withdrawal(self) -> Iterable[str]: ...


class _ReportPapers:
    def __init__(self, report: Report) -> None:
        self.report = report

    def table(self) -> Iterator[str]:
        return (paper_line(p) for p in self.report.papers)

    def flagged(self, inst: InstitutionRow) -> Iterator[str]:
        for pid in inst.paper_ids:
            p = self.report.paper(pid)
            before, after = flagged_line(p)
            yield before + listed_part(listed_then(inst.flags, p)) + after

    def withdrawal(self) -> Iterator[str]:
        return (withdrawal_line(self.report.paper(i)) for i in self.report.withdrawal.paper_ids)


def to_markdown(report: Report) -> str:
    return "\n".join(markdown_lines(report))


def markdown_chunks(report: Report, papers: MarkdownPapers | None = None) -> Iterator[str]:
    """The text of to_markdown in pieces (a few hundred lines each), never held whole."""
    lines = markdown_lines(report, papers)
    yield next(lines)
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) == _LINES:
            yield "\n" + "\n".join(batch)
            batch.clear()
    if batch:
        yield "\n" + "\n".join(batch)


_LINES = 512  # lines to a piece of markdown_chunks


def markdown_lines(report: Report, papers: MarkdownPapers | None = None) -> Iterator[str]:
    """The page's lines (joined by line breaks, the page)."""
    parts = papers or _ReportPapers(report)
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
    yield from out
    for inst in report.flagged:
        flags = "; ".join(
            f"{f.label}{' (' + f.category + ')' if f.category else ''}"
            f"{' from ' + f.start if f.start else ''}{' to ' + f.end if f.end else ''}"
            for f in inst.flags
        )
        yield from [f"### {md(inst.name)} ({md(inst.country or '?')}, {md(inst.sector)})", ""]
        yield from [f"Flags: {md(flags)}", ""]
        yield from parts.flagged(inst)
        yield ""
    yield from _findings_md(report, parts)
    out = ["## Papers by usage level", ""]
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
    out += _md_table(PAPER_HEADER, [])[:2]
    yield from out
    yield from parts.table()
    yield ""
    yield from _missing_md(report)
    yield from ["## Counting rules", "", md(COUNTING_RULES), ""]


def _papers(count: int) -> str:
    return f"{count} paper" if count == 1 else f"{count} papers"


def _findings_md(report: Report, parts: MarkdownPapers) -> Iterator[str]:
    w, lic = report.withdrawal, report.licence
    out = ["## Use after withdrawal", ""]
    if w.withdrawn_on:
        out += [
            f"Withdrawn {md(w.withdrawn_on)}: {_papers(w.papers)} published after it. {md(w.rule)}",
            "",
        ]
        yield from out
        yield from parts.withdrawal()
        out = [""]
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
    yield from out


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
