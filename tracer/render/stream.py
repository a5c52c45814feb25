"""Every report file of a refresh from one pass over the papers, never holding them all.

The papers are read once, in the report's order (tracer.store.report_queries, a chunk at a
time). As each one is read, the figures are counted (tracer.report's tally and aggregates) and
its parts of each format are written to unnamed temporary files: its CSV row, its item of the
JSON "papers" list, its Markdown and HTML table rows, its items under the flagged institutions
it belongs to and under the withdrawal. What a part needs from the whole report is kept aside
and small: the HTML table's relevance key of each paper (the table is most relevant first),
and each flagged item's date (whether a listing was in force then depends on every listing of
the institution, known at the end). Then each file is written: the parts drawn from the
figures, with the papers' parts copied from the temporary files between them. The text is the
text each renderer writes from the whole report (tests/test_render_fast.py, tests/test_golden.py).
"""

from __future__ import annotations

import codecs
import os
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from markupsafe import Markup

from tracer.catalog import Dataset
from tracer.render import FileSpan, markdown
from tracer.render import html as page
from tracer.render.tables import (
    ARTICLE_COLUMNS,
    PaperJson,
    article_csv_chunks,
    csv_fields,
    flag_codes,
    json_chunks_with,
    json_papers,
    known_lists,
)
from tracer.report import (
    InstitutionRow,
    PaperRow,
    Report,
    SummaryReport,
    Tally,
    aggregate,
    assemble,
    flagged_institutions,
    institution_lists,
    keep,
    listed_on,
    load_papers,
    make_filters,
    relevance,
    summary_of,
)
from tracer.store import Store
from tracer.store.report_queries import report_rows

_READ = 1 << 20
_ROWS = 256  # rows of the page's table read back to a piece


class Spool:
    """Text appended to an unnamed temporary file, then read back whole or by piece."""

    def __init__(self, folder: Path) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile(dir=folder, buffering=_READ)
        self.size = 0
        self._flushed = False  # nothing is added once pieces are read

    def add(self, text: str | bytes) -> tuple[int, int]:
        data = text.encode("utf-8") if isinstance(text, str) else text
        start = self.size
        self.file.write(data)
        self.size += len(data)
        return start, len(data)

    def whole(self) -> Iterator[bytes]:
        """The text as UTF-8, in pieces of about a megabyte."""
        self.file.flush()
        self.file.seek(0)
        while chunk := self.file.read(_READ):
            yield chunk

    def span(self) -> FileSpan:
        """The whole text, for write_atomic to copy from this file (valid until close)."""
        self.file.flush()
        return FileSpan(self.file.fileno(), 0, self.size)

    def text(self) -> Iterator[str]:
        """The text in pieces of about a megabyte."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        for chunk in self.whole():
            yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)

    def piece(self, start: int, size: int) -> str:
        """The text added at `start` (as add() returned it). Read by pread, not mapped: the
        pages of a mapped file would count in the process's resident memory."""
        if not self._flushed:
            self.file.flush()
            self._flushed = True
        return os.pread(self.file.fileno(), size, start).decode("utf-8")

    def close(self) -> None:
        self.file.close()


class _Flagged:
    """A flagged institution's items, in paper order: the paper, its date, and for Markdown
    then HTML where its text is in the spool and where in it its "listed then" part goes."""

    def __init__(self) -> None:
        self.paper_ids: list[int] = []
        self.items: list[tuple[str | None, int | None, int, int, int, int, int, int]] = []


class _Writer:
    """The per-paper parts of each asked-for format, written as the papers pass."""

    def __init__(self, folder: Path, formats: Sequence[str], flagged_keys: set[str],
                 lists: list[str], whole_rows: bool = False) -> None:
        self.formats = set(formats)
        self.flagged_keys = flagged_keys
        self.lists = lists
        self.count = 0
        self.spools: dict[str, Spool] = {}
        for name, fmt in (("csv", "csv"), ("json", "json"), ("md", "md"),
                          ("md_late", "md"), ("html", "html"), ("html_late", "html"),
                          ("flagged", "md"), ("flagged", "html")):
            if fmt in self.formats and name not in self.spools:
                self.spools[name] = Spool(folder)
        self.csv: list[str] = []  # the rows not yet in the spool
        self.csv_cut = len(ARTICLE_COLUMNS) + len(lists)
        self.whole_rows = whole_rows  # `lists` are the file's: no column to put in at the end
        # Each row's length before the place of those columns, and its whole length (in
        # characters, from its start); the batches of 500 rows as written to the spool.
        self.csv_rows = array("q")
        self.csv_batches: list[tuple[int, int]] = []
        self.csv_others: dict[int, set[str]] = {}  # row -> lists the project does not know
        self.html_rows: list[tuple[tuple[Any, ...], int, int]] = []
        self.flagged: dict[str, _Flagged] = {}
        self.json = PaperJson()

    def each(self, papers: Iterable[PaperRow]) -> Iterator[PaperRow]:
        for paper in papers:
            self.add(paper)
            yield paper
        self.finish()

    def add(self, p: PaperRow) -> None:
        spools = self.spools
        first = not self.count
        self.count += 1
        if "csv" in spools:
            self._add_csv(p)
        if "json" in spools:
            spools["json"].add(self.json.item(p, first))
        if "md" in spools:
            spools["md"].add(markdown.paper_line(p) + "\n")
            if p.after_withdrawal:
                spools["md_late"].add(markdown.withdrawal_line(p) + "\n")
        if "html" in spools:
            start, size = spools["html"].add(page.paper_row(p))
            self.html_rows.append((relevance(p), start, size))
            if p.after_withdrawal:
                spools["html_late"].add(page.withdrawal_item(p))
        if "flagged" in spools:
            keys = {
                aff.institution_id or aff.institution_name
                for author in p.authors for aff in author.affiliations
            } & self.flagged_keys
            if keys:
                self._add_flagged(p, keys)

    def _add_csv(self, p: PaperRow) -> None:
        """The paper's CSV row, noting where the flag columns of lists the project does not
        know go (their order is known at the end: by papers): after the cells of `lists`."""
        cells = csv_fields(p, self.lists)
        rows = self.csv
        if self.whole_rows:
            rows.append(",".join(cells) + "\r\n")
        else:
            head = ",".join(cells[: self.csv_cut])
            row = head + "," + ",".join(cells[self.csv_cut :]) + "\r\n"
            rows.append(row)
            self.csv_rows.extend((len(head), len(row)))
            others = [name for name in p.flag_lists if name not in self.lists]
            if others:
                self.csv_others[self.count - 1] = set(others)
        if self.count % 500 == 0:
            self._flush_csv()

    def _flush_csv(self) -> None:
        if self.csv:
            self.csv_batches.append(self.spools["csv"].add("".join(self.csv)))
        self.csv.clear()

    def csv_text(self, lists: list[str]) -> Iterator[str | bytes | FileSpan]:
        """The rows' text with a flag column for each of `lists` after the project's own."""
        extra = lists[len(self.lists) :]
        spool = self.spools["csv"]
        assert not self.whole_rows or lists == self.lists, (lists, self.lists)
        if not extra:
            yield spool.span()
            return
        row = 0
        for start, size in self.csv_batches:
            text = spool.piece(start, size)
            batch, at = [], 0
            while at < len(text):
                cut, end = self.csv_rows[2 * row], self.csv_rows[2 * row + 1]
                mine = self.csv_others.get(row, ())
                flags = ",".join("True" if name in mine else "False" for name in extra)
                batch.append(text[at : at + cut] + "," + flags + text[at + cut : at + end])
                at += end
                row += 1
            yield "".join(batch)

    def _add_flagged(self, p: PaperRow, keys: set[Any]) -> None:
        spool = self.spools["flagged"]
        md_parts = markdown.flagged_line(p) if "md" in self.formats else ("", "")
        html_parts = page.flagged_item(p) if "html" in self.formats else ("", "")
        # Each format's text with where its "listed then" part goes (in characters).
        item = (p.publication_date, p.year, *spool.add(md_parts[0] + md_parts[1]),
                len(md_parts[0]), *spool.add(html_parts[0] + html_parts[1]), len(html_parts[0]))
        for key in keys:
            entry = self.flagged.setdefault(key, _Flagged())
            entry.paper_ids.append(p.paper_id)
            entry.items.append(item)

    def finish(self) -> None:
        if "csv" in self.spools:
            self._flush_csv()
        self.html_rows.sort(key=lambda row: row[0])

    def close(self) -> None:
        for spool in self.spools.values():
            spool.close()

    # What each format reads back.

    def flagged_items(self, inst: InstitutionRow, fmt: str) -> Iterator[str]:
        entry = self.flagged.get(inst.key)
        # Every paper of a flagged institution was written here, in the report's order.
        assert entry is not None and entry.paper_ids == inst.paper_ids, inst.key
        spool = self.spools["flagged"]
        md = fmt == "md"
        listed = markdown.listed_part if md else page.listed_part
        # The part for each date (the institution's listings are the same for every paper).
        parts: dict[tuple[str | None, int | None], str] = {}
        for date, year, *places in entry.items:
            start, size, cut = places[:3] if md else places[3:]
            text = spool.piece(start, size)
            part = parts.get((date, year))
            if part is None:
                part = parts[date, year] = listed(listed_on(inst.flags, date, year))
            yield text[:cut] + part + text[cut:]

    def html_table(self) -> Iterator[Markup]:
        """The table's rows, most relevant first, a few hundred to a piece (the template
        writes each piece as it comes: the same text as a row at a time, for less work)."""
        spool = self.spools["html"]
        piece = spool.piece
        rows = self.html_rows
        for at in range(0, len(rows), _ROWS):
            yield Markup("".join([piece(start, size) for _, start, size in rows[at : at + _ROWS]]))


class _MarkdownParts:
    def __init__(self, writer: _Writer) -> None:
        self.writer = writer

    def table(self) -> Iterator[str]:
        return _lines(self.writer.spools["md"])

    def flagged(self, inst: InstitutionRow) -> Iterator[str]:
        return self.writer.flagged_items(inst, "md")

    def withdrawal(self) -> Iterator[str]:
        return _lines(self.writer.spools["md_late"])


def _lines(spool: Spool) -> Iterator[str]:
    """The spool's lines (each was written with its line break), without their breaks."""
    rest = ""
    for chunk in spool.text():
        lines = (rest + chunk).split("\n")
        rest = lines.pop()
        yield from lines
    assert not rest, "a spooled line without its line break"


class Papers:
    """What one pass over the papers leaves for the files: the report without its papers (its
    figures), the terminal's summary, and each paper's parts of each format (`pieces`)."""

    def __init__(self, writer: _Writer, report: Report, summary: SummaryReport | None) -> None:
        self.writer = writer
        self.report = report
        self.summary = summary

    def pieces(self, fmt: str) -> Iterable[str | bytes | FileSpan]:
        """The file of one format (of those read_papers was given), in pieces."""
        from tracer.render.formats import terminal_text

        report, writer = self.report, self.writer
        if fmt == "terminal":
            summary = self.summary
            assert summary is not None
            return (terminal_text(summary) for _ in (1,))  # rendered as the file is written
        if fmt == "json":
            return json_chunks_with(report, json_papers((writer.spools["json"].span(),),
                                                        writer.count))
        if fmt == "csv":
            return article_csv_chunks(report, writer.csv_text(known_lists(report)))
        if fmt == "md":
            return markdown.markdown_chunks(report, _MarkdownParts(writer))
        return page.html_chunks(
            report,
            rows=lambda r: writer.html_table(),
            flagged=lambda r, inst: (Markup(t) for t in writer.flagged_items(inst, "html")),
            withdrawn=lambda r: (Markup(t) for t in writer.spools["html_late"].text()),
        )

    def close(self) -> None:
        self.writer.close()


def read_papers(store: Store, dataset: Dataset, folder: Path, formats: Sequence[str]) -> Papers:
    """One pass over the dataset's papers, counting the figures and writing each paper's parts
    of each of `formats` to temporary files in `folder`; the caller closes what it returns."""
    from tracer.render.terminal import LIST_LIMIT, PAPERS_LIMIT

    folder.mkdir(parents=True, exist_ok=True)
    filters = make_filters(None, None, None)
    data = report_rows(store, dataset.key)
    flagged_keys = flagged_institutions(data)
    # The CSV's flag columns: every list the project knows, then the other lists of this
    # report's institutions, by papers (known at the end: _Writer.csv_text puts them in).
    lists = list(flag_codes())
    others = institution_lists(data, filters.levels) - set(lists)
    whole_rows = len(others) <= 1  # their order (by papers) does not matter: rows written whole
    if whole_rows:
        lists += sorted(others)
    terminal = "terminal" in formats
    tally = (Tally(top=PAPERS_LIMIT, list_limit=LIST_LIMIT, flagged_keys=flagged_keys)
             if terminal else Tally())
    writer = _Writer(folder, formats, flagged_keys, lists, whole_rows)
    try:
        kept = (p for p in load_papers(data, dataset) if keep(p, filters.levels, filters))
        countries, sectors, institutions = aggregate(tally.count(writer.each(kept)))
        report = assemble(data, dataset, filters, tally, countries, sectors, institutions, [])
        summary = (summary_of(data, dataset, filters, tally, countries, sectors, institutions)
                   if terminal else None)
    except BaseException:
        writer.close()
        raise
    return Papers(writer, report, summary)
