"""The report on a terminal, with rich, made to read at 80 columns.

Findings first (flagged institutions with their evidence, use after withdrawal, licence against
user), then counts, the papers (most relevant first), coverage and method. Institution names and
flags never wrap: a name too long for its column ends in an ellipsis, flags are short codes with
a legend below the table. Long text (titles, evidence) wraps inside its own column, never back
to column 0. Colour and styles come from the console it is given (the CLI's stdout console
honours NO_COLOR and drops styles when stdout is not a terminal). API text is printed as rich
Text, never parsed as rich markup, so a title with [brackets] prints as written; it reaches
here already stripped of control characters (tracer.render.text).
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from tracer.catalog import Dataset
from tracer.collector import paused
from tracer.render.tables import flag_codes
from tracer.report import (
    CountRow,
    Flag,
    InstitutionRow,
    PaperRow,
    Report,
    SummaryReport,
    build_summary,
    listed_then,
)
from tracer.store import Store

SPARKS = "▁▂▃▄▅▆▇█"
BAR_WIDTH = 16
LIST_LIMIT = 10  # papers listed per flagged institution and finding; files list them all
PAPERS_LIMIT = 20  # papers in the list without --all-papers
TOP = 15
EVIDENCE_CHARS = 150
SECTORS = {"research institute": "research"}  # the one sector name too long for its column
LEVEL_CODES = {"used": "used", "mentioned": "mentioned", "cited": "cited", "not judged": "-"}


def terminal_report(store: Store, dataset: Dataset, **filters: Any) -> SummaryReport:
    """The report `print_report` needs without --all-papers, holding only the papers it shows
    (tracer.report.build_summary; the same figures and text as the whole report's)."""
    return build_summary(store, dataset, top=PAPERS_LIMIT, list_limit=LIST_LIMIT, **filters)


def papers(count: int) -> str:
    return f"{count} paper" if count == 1 else f"{count} papers"


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {many or word + 's'}"


def sparkline(values: list[int]) -> str:
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(len(SPARKS) - 1, round(v / top * (len(SPARKS) - 1)))] for v in values)


def bar(value: float, top: float, width: int = BAR_WIDTH) -> str:
    if top <= 0:
        return ""
    cells = value / top * width
    full = int(cells)
    return "█" * full + ("▌" if cells - full >= 0.5 else "")


def flag_code(list_id: str) -> str:
    """The short code of a watchlist: from flag_codes.yaml, else its id's initials."""
    known = flag_codes().get(list_id)
    if known:
        return known
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", list_id) if p]
    return ("".join(p[0] for p in parts).upper() or "?")[:5]


def codes(flags: list[Flag]) -> str:
    return " ".join(dict.fromkeys(flag_code(f.list) for f in flags))


def sector(name: str) -> str:
    return SECTORS.get(name, name)


def _section(console: Console, title: str) -> None:
    console.print()
    console.print(Text(title, style="bold underline"))


def _commands(report: Report) -> list[str]:
    key = report.header.dataset
    return [
        f"tracer report {key} -o {key}.html",
        f"tracer report {key} --all-papers",
        f"tracer export {key} -o {key}.csv",
    ]


def _header(report: Report, console: Console) -> None:
    h = report.header
    console.print(Text(f"{h.name} ({h.dataset})", style="bold"))
    console.print(Text(report.headline))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    for origin in h.origin_papers:
        grid.add_row("Origin paper", Text(origin))
    licence = (h.licence or "unknown") + (f" ({h.licence_terms})" if h.licence_terms else "")
    grid.add_row("Status", Text(f"{h.status or 'available'}; licence {licence}"))
    run = h.last_run
    when = f"{run.finished_at or run.started_at} (run {run.id}, {run.status})" if run else "never"
    grid.add_row("Scanned", Text(when))
    grid.add_row("Sources", Text(", ".join(h.sources) or "none"))
    for note in report.missing.notes:  # what the last run could not see, before any figure
        grid.add_row(Text("Not seen", style="yellow"), Text(note))
    console.print(grid)


def _paper_grid(with_flags: bool = False, then: bool = False) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True, min_width=4)  # year
    grid.add_column(no_wrap=True, min_width=9)  # level
    if then:
        grid.add_column(no_wrap=True, min_width=4)
    if with_flags:
        grid.add_column(no_wrap=True, style="red")
        grid.add_column(no_wrap=True)  # countries
    grid.add_column(ratio=1, overflow="fold")  # title (and evidence), wraps in its column
    return grid


def _title_cell(paper: PaperRow, evidence: bool) -> Text:
    text = Text(paper.title or "(no title)")
    if paper.after_withdrawal:
        text.append(" [after withdrawal]", style="yellow")
    if paper.missing:
        text.append(" [no longer found]", style="dim")
    if evidence and paper.evidence:
        first = paper.evidence[0]
        said = str(first.get("text") or "")
        if len(said) > EVIDENCE_CHARS:
            said = said[: EVIDENCE_CHARS - 1].rstrip() + "…"
        text.append(f'\n"{said}" ({first.get("kind") or "?"}, {first.get("source") or "?"})',
                    style="dim")
    return text


def _flagged(report: Report, console: Console) -> None:
    flagged_papers = {pid for inst in report.flagged for pid in inst.paper_ids}
    _section(
        console,
        f"Flagged institutions: {len(report.flagged)}, with {papers(len(flagged_papers))}",
    )
    if not report.flagged:
        console.print("No institution found is on a watchlist.")
        return
    for inst in report.flagged:
        console.print()
        line = Text("⚑ ", style="bold red")
        line.append(inst.name, style="bold")
        console.print(line, no_wrap=True, overflow="ellipsis")
        facts = f"{inst.country or '?'}, {sector(inst.sector)}, {papers(inst.papers)}"
        console.print(Padding(Text(facts), (0, 0, 0, 2)))
        for flag in inst.flags:
            dates = f", listed {flag.start or '?'} to {flag.end or 'now'}" if flag.start or flag.end else ""
            category = f" ({flag.category})" if flag.category else ""
            text = Text(f"{flag_code(flag.list)}: ", style="red")
            text.append(f"{flag.label}{category}{dates}")
            console.print(Padding(text, (0, 0, 0, 2)))
        dated = any(f.start for f in inst.flags)
        grid = _paper_grid(then=dated)
        for pid in inst.paper_ids[:LIST_LIMIT]:
            p = report.paper(pid)
            cells: list[str | Text] = [str(p.year or "?"), p.level]
            if dated:
                cells.append(listed_then(inst.flags, p) or "")
            cells.append(_title_cell(p, evidence=True))
            grid.add_row(*cells)
        console.print(Padding(grid, (0, 0, 0, 2)))
        if len(inst.paper_ids) > LIST_LIMIT:
            more = len(inst.paper_ids) - LIST_LIMIT
            console.print(Padding(
                Text(f"... and {plural(more, 'more paper')}: {_commands(report)[0]}"), (0, 0, 0, 2)
            ))
        if dated:
            console.print(Padding(Text(
                "(third column: was a dated listing in force when the paper came out? "
                "yes, no, or ? when the dates are too coarse or not known)", style="dim"), (0, 0, 0, 2)))


def _findings(report: Report, console: Console) -> None:
    w, lic = report.withdrawal, report.licence
    _section(console, "Use after withdrawal")
    if w.withdrawn_on:
        levels = ", ".join(f"{n} {lv}" for lv, n in w.by_level.items() if n)
        console.print(Text(
            f"Withdrawn {w.withdrawn_on}: {papers(w.papers)} published after it"
            + (f" ({levels})." if levels else ".")
        ))
        grid = _paper_grid()
        for pid in w.paper_ids[:LIST_LIMIT]:
            p = report.paper(pid)
            grid.add_row(str(p.year or "?"), p.level, _title_cell(p, evidence=False))
        console.print(Padding(grid, (0, 0, 0, 2)))
        if len(w.paper_ids) > LIST_LIMIT:
            more = len(w.paper_ids) - LIST_LIMIT
            console.print(f"  ... and {plural(more, 'more paper')}: {_commands(report)[0]}")
    else:
        console.print("The catalog records no withdrawal of this dataset.")
    _section(console, "Licence against user")
    if not lic.applies:
        console.print(Text(
            f"Licence terms {lic.licence_terms or 'unknown'}: no restriction to check."
        ))
        return
    console.print(Text(
        f"{papers(lic.papers)} by commercial or military users of a {lic.licence_terms} dataset."
    ))
    _institution_table(console, lic.institutions, title=None)


def _institution_table(
    console: Console, rows: list[InstitutionRow], *, title: str | None
) -> set[str]:
    """Institutions, one line each: the name never wraps (an ellipsis cuts it where the line
    is too short), flags as codes, never cut. Returns the codes shown."""
    flag_cells = [codes(inst.flags) for inst in rows]
    sectors = [sector(inst.sector)[:10] for inst in rows]
    papers_w = max([len("papers")] + [len(str(i.papers)) for i in rows])
    frac_w = max([len("frac.")] + [len(f"{i.fractional:.2f}") for i in rows])
    flags_w = max([len("flags")] + [len(c) for c in flag_cells])
    sector_w = max([len("sector")] + [len(c) for c in sectors])
    rest = 2 + sector_w + flags_w + papers_w + frac_w + 2 * 5  # five gaps of two spaces
    table = Table(title=title, title_justify="left", box=None, padding=(0, 1), pad_edge=False,
                  title_style="bold")
    table.add_column("institution", no_wrap=True, overflow="ellipsis",
                     max_width=max(12, console.width - rest))
    table.add_column("cc", no_wrap=True, min_width=2)
    table.add_column("sector", no_wrap=True, min_width=sector_w)
    table.add_column("flags", no_wrap=True, style="red", min_width=flags_w)
    table.add_column("papers", justify="right", no_wrap=True, min_width=papers_w)
    table.add_column("frac.", justify="right", no_wrap=True, min_width=frac_w)
    used: set[str] = set()
    for inst, flags, sector_name in zip(rows, flag_cells, sectors, strict=True):
        table.add_row(
            Text(inst.name),
            inst.country or "?",
            sector_name,
            flags,
            str(inst.papers),
            f"{inst.fractional:.2f}",
        )
        used.update(flag_code(f.list) for f in inst.flags)
    console.print(table)
    return used


def _legend(report: Report, console: Console, used: set[str]) -> None:
    if not used:
        return
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="red")
    grid.add_column(ratio=1)
    seen = set()
    for row in report.flag_lists:
        code = flag_code(row.list)
        if code in used and code not in seen:
            seen.add(code)
            grid.add_row(code, Text(f"{row.label} ({plural(row.institutions, 'institution')})"))
    console.print(Text("Flags:", style="dim"))
    console.print(Padding(grid, (0, 0, 0, 2)))


def _counts(console: Console, title: str, rows: list[CountRow], *, fractional: bool) -> None:
    table = Table(title=title, title_justify="left", box=None, padding=(0, 1), pad_edge=False,
                  title_style="bold")
    table.add_column("", no_wrap=True, overflow="ellipsis", max_width=34)
    table.add_column("papers", justify="right", no_wrap=True)
    if fractional:
        table.add_column("frac.", justify="right", no_wrap=True)
    table.add_column("", style="cyan", no_wrap=True)
    top = max((r.papers for r in rows), default=0)
    for row in rows:
        label = Text(row.label if row.label == row.key else f"{row.label} ({row.key})")
        cells: list[Text | str] = [label, str(row.papers)]
        if fractional:
            cells.append(f"{row.fractional:.2f}")
        cells.append(bar(row.papers, top))
        table.add_row(*cells)
    console.print()
    console.print(table)


def _papers(report: Report, console: Console, all_papers: bool) -> None:
    if all_papers and isinstance(report, SummaryReport):
        raise ValueError("--all-papers needs the whole report (build_report), not a summary.")
    ranked = report.by_relevance()
    shown = ranked if all_papers else ranked[:PAPERS_LIMIT]
    # A summary holds only the papers it shows; the whole report holds them all.
    total = report.total_papers if isinstance(report, SummaryReport) else len(ranked)
    which = "all" if len(shown) == total else f"the {len(shown)} most relevant of"
    _section(console, f"Papers: {which} {total}")
    table = Table(box=None, padding=(0, 1), pad_edge=False)
    table.add_column("year", justify="right", no_wrap=True)
    table.add_column("usage", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("flags", no_wrap=True, style="red", max_width=10, overflow="ellipsis")
    table.add_column("cc", no_wrap=True, max_width=8, overflow="ellipsis")
    table.add_column("title", ratio=1, overflow="fold")
    for p in shown:
        table.add_row(
            str(p.year or "?"),
            LEVEL_CODES.get(p.level, p.level),
            f"{p.score:.2f}" if p.score is not None else "",
            " ".join(dict.fromkeys(flag_code(code) for code in p.flag_lists)),
            " ".join(p.countries),
            _title_cell(p, evidence=False),
        )
    console.print(table)
    console.print(Text(report.relevance_rule + " " + report.score_note, style="dim"))
    if len(shown) < total:
        console.print(Text(f"Every paper: {_commands(report)[1]}"))


def _years(report: Report, console: Console) -> None:
    years = [y for y in report.years if y.year is not None]
    _section(console, "Papers per year")
    if years:
        line = Text(f"{years[0].year} ")
        line.append(sparkline([y.papers for y in years]), style="cyan")
        line.append(f" {years[-1].year}")
        console.print(line)
        grid = Table.grid(padding=(0, 2))
        per_row = 6
        for _ in range(min(per_row, len(years))):
            grid.add_column(no_wrap=True)
        for start in range(0, len(years), per_row):
            chunk = [f"{y.year}: {y.papers}" for y in years[start : start + per_row]]
            grid.add_row(*chunk, *[""] * (min(per_row, len(years)) - len(chunk)))
        console.print(grid)
    unknown = sum(y.papers for y in report.years if y.year is None)
    if unknown:
        console.print(f"without a year: {papers(unknown)}")


def _coverage_and_missing(report: Report, console: Console) -> None:
    miss = report.missing
    _section(console, "Coverage and what is missing")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(ratio=1)
    grid.add_column(justify="right", no_wrap=True)
    for note in miss.notes:
        grid.add_row(Text(note), "")
    grid.add_row("papers without any affiliation", str(len(miss.papers_without_affiliation)))
    grid.add_row("affiliation strings not resolved", str(miss.unresolved_affiliations))
    grid.add_row("  of which with a country only", str(miss.country_only_affiliations))
    grid.add_row("capped or incomplete lists", str(len(miss.capped)))
    grid.add_row("runs failed or partial", str(len(miss.failed_runs)))
    grid.add_row("papers no longer found (kept)", str(len(miss.papers_marked_missing)))
    grid.add_row("papers not yet judged", str(len(miss.papers_not_judged)))
    grid.add_row("papers whose author list was cut", str(len(miss.papers_authors_truncated)))
    console.print(grid)
    lists = Table(box=None, padding=(0, 1), pad_edge=False, title="Lists read",
                  title_justify="left", title_style="dim")
    lists.add_column("source", no_wrap=True)
    lists.add_column("route", no_wrap=True)
    lists.add_column("target", ratio=1, overflow="fold")
    lists.add_column("fetched", justify="right", no_wrap=True)
    lists.add_column("of", justify="right", no_wrap=True)
    lists.add_column("", no_wrap=True)
    for cov in report.header.coverage:
        lists.add_row(
            cov.source,
            cov.route,
            Text(cov.target + (f" ({cov.note})" if cov.note else "")),
            str(cov.fetched),
            str(cov.total) if cov.total is not None else "?",
            "capped" if cov.capped else "",
        )
    if report.header.coverage:
        console.print(lists)
    for run in miss.failed_runs:
        console.print(Text(f"run {run.id} {run.status}: {run.error or ''}"), overflow="fold")


def print_report(
    report: Report, console: Console, *, top: int = TOP, all_papers: bool = False
) -> None:
    with paused():
        _print_report(report, console, top, all_papers)


def _print_report(report: Report, console: Console, top: int, all_papers: bool) -> None:
    _header(report, console)
    _flagged(report, console)
    _findings(report, console)
    _counts(console, "Papers by usage level", report.by_level, fractional=False)
    console.print(Text(f"total: {papers(report.total_papers)}"))
    _counts(console, "Papers by country", report.countries[:top], fractional=True)
    if len(report.countries) > top:
        console.print(Text(f"... and {plural(len(report.countries) - top, 'more country', 'more countries')}"))
    _counts(console, "Papers by sector", report.sectors, fractional=True)
    console.print()
    used = _institution_table(
        console,
        report.institutions[:top],
        title=f"Top institutions ({min(top, len(report.institutions))} of "
        f"{len(report.institutions)})",
    )
    _legend(report, console, used)
    _years(report, console)
    _papers(report, console, all_papers)
    _coverage_and_missing(report, console)
    _section(console, "Method")
    console.print(Text(report.counting_rules, style="dim"))
    console.print(Text("papers: whole counting; frac.: fractional counting.", style="dim"))
    console.print()
    console.print(Text("More:", style="dim"))
    for command in _commands(report):
        console.print(Text("  " + command), no_wrap=True, overflow="ellipsis")
