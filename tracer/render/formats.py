"""Every report format as text, and the report files `tracer refresh` rewrites."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from tracer.catalog import Dataset
from tracer.collector import paused
from tracer.errors import UsageError
from tracer.render import write_atomic
from tracer.render.html import render_html
from tracer.render.markdown import to_markdown
from tracer.render.stream import read_papers
from tracer.render.tables import article_csv_chunks, to_json
from tracer.render.terminal import print_report
from tracer.report import Report
from tracer.store import Store

REPORT_FORMATS = ("terminal", "json", "md", "csv", "html")
SUFFIXES = {"terminal": ".txt", "json": ".json", "md": ".md", "csv": ".csv", "html": ".html"}


def terminal_text(
    report: Report, width: int = 80, *, colour: bool = False, all_papers: bool = False
) -> str:
    """The terminal report as text: plain for a file, with colour codes for a pager."""
    out = io.StringIO()
    console = Console(
        width=width,
        no_color=not colour,
        force_terminal=colour,
        color_system="auto" if colour else None,
        highlight=False,
        file=out,
    )
    print_report(report, console, all_papers=all_papers)
    # rich pads table rows to the width; a file or a pager needs no trailing blanks.
    return "\n".join(line.rstrip() for line in out.getvalue().split("\n"))


_RENDERERS: dict[str, Callable[[Report], str]] = {
    "terminal": terminal_text,
    "json": to_json,
    "md": to_markdown,
    "csv": lambda report: "".join(article_csv_chunks(report)),  # the articles CSV
    "html": render_html,
}
def _check(fmt: str) -> None:
    if fmt not in _RENDERERS:
        raise UsageError(
            f"Unknown report format {fmt!r}.", hint="Use one of: " + ", ".join(REPORT_FORMATS) + "."
        )


def render_report(report: Report, fmt: str) -> str:
    _check(fmt)
    return _RENDERERS[fmt](report)


def write_reports(
    store: Store, dataset: Dataset, folder: Path, formats: Sequence[str]
) -> list[str]:
    """Write FOLDER/KEY.<suffix> for each format, each file atomically; return the paths.
    One pass over the papers feeds every format (tracer.render.stream.read_papers): the files
    are the text render_report gives for each, and no format holds every paper."""
    for fmt in formats:
        _check(fmt)
    folder = Path(folder)
    with paused():
        papers = read_papers(store, dataset, folder, formats)
        try:
            return [
                str(write_atomic(folder / f"{dataset.key}{SUFFIXES[fmt]}", papers.pieces(fmt)))
                for fmt in formats
            ]
        finally:
            papers.close()
