"""The fast paths of the report files write what the slow ones wrote: the streamed CSV is the
DictWriter's text, the page's escaping is markupsafe's, and a refresh's files are the files
`tracer report` renders one at a time."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from markupsafe import Markup, escape

from tests.report_corpus import DATASET, FORMULA_TITLE, SCRIPT_TITLE, build_store
from tracer.render.formats import REPORT_FORMATS, SUFFIXES, render_report, write_reports
from tracer.render.html import _e, html_chunks, render_html
from tracer.render.tables import (
    article_csv_chunks,
    article_rows,
    article_tuple,
    csv_fields,
    safe_cell,
)
from tracer.report import Report, build_report
from tracer.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = build_store(tmp_path / "t.db")
    yield s
    s.close()


@pytest.fixture
def report(store: Store) -> Report:
    return build_report(store, DATASET)


def dictwriter_csv(report: Report) -> str:
    """The articles CSV as it was written before: csv.DictWriter over article_rows."""
    rows = article_rows(report)
    out = io.StringIO()
    fields = list(rows[0].keys()) if rows else []
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_cell(row.get(k)) for k in fields})
    return "\ufeff" + out.getvalue()


@pytest.mark.parametrize(
    "value",
    [SCRIPT_TITLE, FORMULA_TITLE, "O'Brien & \"Sons\" <b>", "plain", "", None, 7, 0.5,
     "¦|∑ 中文", Markup("<em>kept</em>")],
)
def test_page_escape_is_markupsafes(value: object) -> None:
    assert _e(value) == str(escape(value))


def test_streamed_csv_is_the_dictwriters_text_with_formulas_neutralised(report: Report) -> None:
    text = "".join(article_csv_chunks(report))
    assert text == dictwriter_csv(report)
    titles = [row["title"] for row in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))]
    assert "'" + FORMULA_TITLE in titles and SCRIPT_TITLE in titles


@pytest.mark.parametrize(
    "title",
    ['a "quoted", title', "line\rbreak", "line\nbreak", "=1+2", "-minus", "tab\tstart",
     "comma, only", '"', "", None, "中文 ¦|∑"],
)
def test_csv_fields_are_the_csv_writers_row(report: Report, title: str | None) -> None:
    paper = report.papers[0]
    paper.title, paper.venue, paper.score = title, title, 1.5e-07
    out = io.StringIO()
    cells = [safe_cell(v) for v in article_tuple(paper, ["us-entity-list", "other"])]
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    assert ",".join(csv_fields(paper, ["us-entity-list", "other"])) + "\r\n" == out.getvalue()


def test_streamed_csv_of_no_papers_is_an_empty_header(store: Store) -> None:
    empty = build_report(store, DATASET, years=(1900, 1901))
    assert empty.papers == []
    assert "".join(article_csv_chunks(empty)) == dictwriter_csv(empty) == "\ufeff\r\n"


def test_page_in_pieces_is_the_page_and_escapes_api_text(report: Report) -> None:
    page = render_html(report)
    assert "".join(html_chunks(report)) == page
    assert "<script>alert(1)</script>" not in page
    assert "Counting heads &lt;script&gt;alert(1)&lt;/script&gt; in crowds" in page
    assert page.count('<tr data-paper="') == len(report.papers)


def test_refresh_files_are_the_reports_rendered_one_at_a_time(
    store: Store, report: Report, tmp_path: Path
) -> None:
    written = write_reports(store, DATASET, tmp_path / "out", REPORT_FORMATS)
    assert len(written) == len(REPORT_FORMATS)
    for fmt in REPORT_FORMATS:
        path = tmp_path / "out" / f"{DATASET.key}{SUFFIXES[fmt]}"
        assert path.read_bytes().decode("utf-8") == render_report(report, fmt), fmt


@pytest.mark.parametrize(
    "text", ["a*b_[c](d)<e>|#!\\x`y{}", "plain", "ü*中", FORMULA_TITLE, SCRIPT_TITLE, "line\nbreak"]
)
def test_markdown_escape_is_a_backslash_before_each_special_character(text: str) -> None:
    from tracer.render.markdown import md
    from tracer.render.text import clean

    assert md(text) == re.sub(r"([\\`*_{}\[\]<>|#!])", r"\\\1", clean(text))


@pytest.mark.parametrize(
    "values", [[], [None, ""], ["a"], ["a|b"], ["a", "b"], ["a|", "|b", None, "", 3, 0, False], ["||", "x"]]
)
def test_multi_valued_cells_keep_every_value_and_no_stray_separator(values: list[object]) -> None:
    from tracer.render.tables import SEP, joined

    kept = [str(v) for v in values if v is not None and v != ""]
    cell = joined(values)
    assert cell == SEP.join(v.replace(SEP, "\u00a6") for v in kept)
    assert (cell.split(SEP) if cell else []) == [v.replace(SEP, "\u00a6") for v in kept]


def test_building_and_writing_a_report_leave_the_garbage_collector_as_they_found_it(
    store: Store, tmp_path: Path
) -> None:
    import gc

    assert gc.isenabled()
    write_reports(store, DATASET, tmp_path / "out", REPORT_FORMATS)
    assert gc.isenabled()
    gc.disable()
    try:
        build_report(store, DATASET)
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


@pytest.mark.parametrize("link", [
    "https://doi.org/10.1109/cvpr.2016.255",
    "https://doi.org/10.1000/a%3Cb%3E%26c",  # quoted: unquoted in the text, then escaped
    "https://arxiv.org/abs/1901.00002",
    "https://www.semanticscholar.org/paper/37ac5be428ef8ce049219ddd1f90ebbfb1c7e416",
    "https://openalex.org/W8000000002",
    "https://openalex.org/W1?a=1&b='2'",
    "https://example.org/elsewhere/x",
    "http://example.org",
    "https://",
    "javascript:alert(1)",
    "",
])
def test_a_table_link_is_the_one_the_page_wrote(link: str) -> None:
    from tracer.render.html import _anchor, http_url, link_label

    url = http_url(link)
    expected = (f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(link_label(link))}</a>'
                if url else "")
    assert _anchor(link) == expected
