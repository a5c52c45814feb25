"""The report on a terminal, with rich: tables, bars, a per-year sparkline, a flagged section.

Colour and styles come from the console it is given (the CLI's stdout console honours NO_COLOR
and drops styles when stdout is not a terminal). API text is printed as rich Text, never parsed
as rich markup, so a title with [brackets] prints as written.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from tracer.render.tables import evidence_text
from tracer.report import CountRow, Report, listed_then

SPARKS = "▁▂▃▄▅▆▇█"
BAR_WIDTH = 24
LIST_LIMIT = 10  # papers listed per flagged institution and finding; files list them all
MORE = "see `tracer report NAME -o report.html` or `tracer export NAME`"


def papers(count: int) -> str:
    return f"{count} paper" if count == 1 else f"{count} papers"


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


def _counts(title: str, what: str, rows: list[CountRow], total: int, *, fractional: bool) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column(what)
    table.add_column("papers (whole)", justify="right")
    if fractional:
        table.add_column("papers (fractional)", justify="right")
    table.add_column("", style="cyan", no_wrap=True)
    top = max((r.papers for r in rows), default=0)
    for row in rows:
        label = Text(row.label if row.label == row.key else f"{row.label} ({row.key})")
        cells: list[Text | str] = [label, str(row.papers)]
        if fractional:
            cells.append(f"{row.fractional:.2f}")
        cells.append(bar(row.papers, top))
        table.add_row(*cells)
    table.caption = papers(total)
    return table


def _header(report: Report) -> Panel:
    h = report.header
    lines = Text()
    lines.append(report.headline + "\n", style="bold")
    for origin in h.origin_papers:
        lines.append("Origin paper: ").append(origin + "\n")
    lines.append(f"Status: {h.status or 'available'}    Licence: {h.licence or 'unknown'}")
    lines.append(f" ({h.licence_terms})\n" if h.licence_terms else "\n")
    run = h.last_run
    when = f"{run.finished_at or run.started_at} (run {run.id}, {run.status})" if run else "never"
    lines.append(f"Last scanned: {when}\n")
    lines.append("Sources: " + (", ".join(h.sources) or "none"))
    for cov in h.coverage:
        total = cov.total if cov.total is not None else "?"
        capped = " CAPPED" if cov.capped else ""
        lines.append(f"\n  {cov.source} {cov.route} {cov.target}: {cov.fetched} of {total}{capped}")
    return Panel(lines, title=Text(f"{h.name} ({h.dataset})"), title_align="left")


def _flagged(report: Report) -> Group | Text:
    if not report.flagged:
        return Text("No institution found is on a watchlist.")
    parts: list[Table | Text] = []
    for inst in report.flagged:
        head = Text(f"⚑ {inst.name}", style="bold red")
        head.append(f"  {inst.country or '?'}, {inst.sector}, {papers(inst.papers)}", style="")
        for flag in inst.flags:
            dates = f" {flag.start or '?'}..{flag.end or 'now'}" if flag.start or flag.end else ""
            category = f" ({flag.category})" if flag.category else ""
            head.append(f"\n   {flag.label}{category}{dates}", style="red")
        parts.append(head)
        table = Table(show_header=True, box=None, padding=(0, 1))
        table.add_column("year", justify="right")
        table.add_column("usage")
        table.add_column("listed then")
        table.add_column("title")
        table.add_column("evidence")
        for pid in inst.paper_ids[:LIST_LIMIT]:
            p = report.paper(pid)
            table.add_row(
                str(p.year or "?"),
                p.level,
                listed_then(inst.flags, p),
                Text(p.title or ""),
                Text(evidence_text(p)),
            )
        parts.append(table)
        if len(inst.paper_ids) > LIST_LIMIT:
            parts.append(Text(f"  ... and {len(inst.paper_ids) - LIST_LIMIT} more: {MORE}"))
    return Group(*parts)


def _findings(report: Report) -> Text:
    w, lic, miss = report.withdrawal, report.licence, report.missing
    text = Text()
    if w.withdrawn_on:
        text.append(f"Use after withdrawal ({w.withdrawn_on}): ", style="bold")
        text.append(f"{papers(w.papers)} published after it")
        levels = ", ".join(f"{n} {lv}" for lv, n in w.by_level.items() if n)
        text.append(f" ({levels})\n" if levels else "\n")
        for pid in w.paper_ids[:LIST_LIMIT]:
            p = report.paper(pid)
            text.append(f"  {p.publication_date or p.year}  {p.level:<10} ").append(p.title or "")
            text.append("\n")
        if len(w.paper_ids) > LIST_LIMIT:
            text.append(f"  ... and {len(w.paper_ids) - LIST_LIMIT} more: {MORE}\n")
    else:
        text.append("Use after withdrawal: the catalog records no withdrawal.\n")
    text.append("Licence against user: ", style="bold")
    if lic.applies:
        text.append(
            f"{papers(lic.papers)} by commercial or military users of a "
            f"{lic.licence_terms} dataset\n"
        )
        for inst in lic.institutions:
            text.append(
                f"  {inst.name} ({inst.sector}, {inst.country or '?'}): {papers(inst.papers)}\n"
            )
    else:
        text.append(f"licence terms {lic.licence_terms or 'unknown'}, no restriction to check\n")
    text.append("\nWhat is missing\n", style="bold")
    for note in miss.notes:
        text.append(f"  {note}\n")
    text.append(f"  papers without any affiliation: {len(miss.papers_without_affiliation)}\n")
    text.append(
        f"  affiliation strings not resolved: {miss.unresolved_affiliations}"
        f" ({miss.country_only_affiliations} with a country only)\n"
    )
    text.append(f"  capped or incomplete lists: {len(miss.capped)}\n")
    for cov in miss.capped:
        total = cov.total if cov.total is not None else "?"
        text.append(
            f"    {cov.source} {cov.route} {cov.target}: {cov.fetched} of {total}"
            f"{' - ' + cov.note if cov.note else ''}\n"
        )
    text.append(f"  runs failed or partial: {len(miss.failed_runs)}\n")
    for run in miss.failed_runs:
        text.append(f"    run {run.id} {run.status}: {run.error or ''}\n")
    text.append(
        f"  papers no longer found (kept, marked missing): {len(miss.papers_marked_missing)}\n"
    )
    text.append(f"  papers not yet judged: {len(miss.papers_not_judged)}\n")
    text.append(f"  papers whose author list was cut short: {len(miss.papers_authors_truncated)}")
    return text


def print_report(report: Report, console: Console, *, top: int = 15) -> None:
    console.print(_header(report))
    console.print(
        _counts(
            "Papers by usage level",
            "usage level",
            report.by_level,
            report.total_papers,
            fractional=False,
        )
    )
    console.print(Text("Counting rules: " + report.counting_rules, style="dim"))
    console.print(
        _counts(
            "Papers by country",
            "country",
            report.countries[:top],
            report.total_papers,
            fractional=True,
        )
    )
    console.print(
        _counts("Papers by sector", "sector", report.sectors, report.total_papers, fractional=True)
    )
    table = Table(
        title=f"Top institutions ({min(top, len(report.institutions))} of "
        f"{len(report.institutions)})",
        title_justify="left",
    )
    for name in ("institution", "country", "sector", "flags"):
        table.add_column(name)
    table.add_column("papers (whole)", justify="right")
    table.add_column("papers (fractional)", justify="right")
    for inst in report.institutions[:top]:
        flags = Text("; ".join(f.label for f in inst.flags), style="red")
        table.add_row(
            Text(inst.name),
            inst.country or "?",
            inst.sector,
            flags,
            str(inst.papers),
            f"{inst.fractional:.2f}",
        )
    console.print(table)
    console.print(Panel(_flagged(report), title="Flagged institutions", title_align="left"))
    years = [y for y in report.years if y.year is not None]
    line = Text("Papers per year: ", style="bold")
    if years:
        line.append(f"{years[0].year} ").append(sparkline([y.papers for y in years]), style="cyan")
        line.append(f" {years[-1].year}   ")
        line.append("  ".join(f"{y.year}: {y.papers}" for y in years))
    unknown = sum(y.papers for y in report.years if y.year is None)
    if unknown:
        line.append(f"   unknown year: {unknown}")
    console.print(line)
    console.print(Panel(_findings(report), title="Findings", title_align="left"))
