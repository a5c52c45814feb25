"""Flat outputs of the report: CSV, JSON, Parquet and Excel exports (BibTeX in bibtex.py,
the Markdown report in markdown.py).

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

import orjson
import yaml

from tracer.errors import UsageError
from tracer.render import FileSpan
from tracer.report import (
    AffiliationRow,
    PaperRow,
    Report,
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
    parts = [v if type(v) is str else str(v) for v in values if v is not None and v != ""]
    text = SEP.join(parts)
    if text.count(SEP) < len(parts):  # no value holds a SEP (nearly always): joined as it is
        return text
    return SEP.join([part.replace(SEP, _SEP_STANDIN) for part in parts])


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


ARTICLE_COLUMNS = (
    "paper_id", "key", "doi", "arxiv", "s2", "corpus_id", "openalex", "title", "year",
    "publication_date", "venue", "usage_level", "usage_score", "evidence", "via_derivative",
    "authors", "affiliations", "countries", "institutions", "institution_ids", "sectors", "flags",
)  # then a flag_<list> column per known list, then ARTICLE_TAIL
ARTICLE_TAIL = ("has_affiliation", "after_withdrawal", "missing", "links")


def article_columns(report: Report) -> list[str]:
    return [*ARTICLE_COLUMNS, *(flag_column(n) for n in known_lists(report)), *ARTICLE_TAIL]


def article_tuples(report: Report) -> Iterator[tuple[Any, ...]]:
    """One tuple per paper, in the order of article_columns(report)."""
    lists = known_lists(report)
    for p in report.papers:
        yield article_tuple(p, lists)


def _strs(values: list[str]) -> str:
    """joined() of values that are all text (ids, the paper's lists, its links): the same
    cell, with joined()'s work only where a value is empty or holds a SEP."""
    text = SEP.join(values)
    if text.count(SEP) >= len(values) or "" in values:
        return joined(values)
    return text


def article_tuple(p: PaperRow, lists: Sequence[str]) -> tuple[Any, ...]:
    """The paper's row of the articles CSV, with a flag column for each of `lists`."""
    names: list[Any] = []
    where: list[str] = []
    institution_ids: dict[str, None] = {}
    has_affiliation = False
    for author in p.authors:
        name = author.name
        names.append(name)
        who = name or "?"
        if not author.affiliations:
            where.append(f"{who} (no affiliation)")
            continue
        has_affiliation = True
        for aff in author.affiliations:
            place = aff.institution_name or aff.raw or "?"
            where.append(f"{who} ({place}, {aff.country})" if aff.country else f"{who} ({place})")
            if aff.institution_id:
                institution_ids[aff.institution_id] = None
    ids = p.ids
    none: list[str] = []
    on = p.flag_lists
    return (
        p.paper_id,
        p.key,
        _strs(ids.get("doi", none)),
        _strs(ids.get("arxiv", none)),
        _strs(ids.get("s2", none)),
        _strs(ids.get("corpus", none)),
        _strs(ids.get("openalex", none)),
        p.title,
        p.year,
        p.publication_date,
        p.venue,
        p.level,
        p.score,
        _strs(_evidence_items(p)) if p.evidence else "",
        p.via_derivative,
        joined(names),
        _strs(where),
        _strs(p.countries),
        _strs(p.institutions),
        _strs(list(institution_ids)),
        _strs(p.sectors),
        _strs(p.flags),
        *((name in on for name in lists) if on else (False for _ in lists)),
        has_affiliation,
        p.after_withdrawal,
        p.missing,
        _strs(p.links),
    )


_CSV_QUOTED = re.compile(r'[,"\r\n]')  # what makes the csv module quote a cell (QUOTE_MINIMAL)


def csv_fields(p: PaperRow, lists: Sequence[str]) -> list[str]:
    """article_tuple's cells as csv.writer writes them in a row (QUOTE_MINIMAL): safe_cell on
    each, then quoted where a comma, a quote or a line break is in it. The row's text is
    the cells joined by commas, then "\r\n" (a row of one empty cell aside: never one here)."""
    quoted = _CSV_QUOTED.search
    texts = [
        ("'" + v if v.startswith(FORMULA_START) else v) if type(v) is str
        else "" if v is None else str(v)
        for v in article_tuple(p, lists)
    ]
    return [v if not quoted(v) else '"' + v.replace('"', '""') + '"' for v in texts]


def article_rows(report: Report) -> list[dict[str, Any]]:
    columns = article_columns(report)
    return [dict(zip(columns, row, strict=True)) for row in article_tuples(report)]


def article_csv_chunks(report: Report, rows: Iterable[Any] | None = None) -> Iterator[Any]:
    """The articles CSV of to_csv(article_rows(report)) in pieces, written from tuples: the
    same cells, the same formula neutralisation (safe_cell), never held whole. `rows`: the
    text of the rows, written while the papers were read (tracer.render.stream)."""
    yield "\ufeff"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    empty = not report.total_papers if rows is not None else not report.papers
    if empty:
        writer.writerow([])  # to_csv of no rows: an empty header line
        yield out.getvalue()
        return
    writer.writerow(article_columns(report))
    if rows is not None:
        yield out.getvalue()
        yield from rows
        return
    yield from csv_rows(report.papers, known_lists(report), out)


def csv_rows(papers: Iterable[PaperRow], lists: Sequence[str],
             out: io.StringIO | None = None) -> Iterator[str]:
    """The CSV text of the papers' rows, 500 rows at a time (after what `out` holds)."""
    lines = [out.getvalue()] if out is not None else []
    for n, p in enumerate(papers, 1):
        lines.append(",".join(csv_fields(p, lists)) + "\r\n")
        if n % 500 == 0:
            yield "".join(lines)
            lines.clear()
    yield "".join(lines)


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


_ORJSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
# Where orjson and the standard encoder may write a float differently (see _encode): checked
# as "0.0000" in text, then this pattern, which starts with a literal and so is searched fast.
_ORJSON_EXPONENT = re.compile(r"e-\d(?!\d)")
_ORJSON_EXPONENT_BYTES = re.compile(rb"e-\d(?!\d)")
_STREAMED = 64  # lists longer than this go out one item at a time


def json_chunks(data: Any) -> Iterator[str]:
    """JSON text in pieces: the text of json.dumps(asdict(data), indent=2, ensure_ascii=False)
    for the report model, encoded by orjson. Dataclasses become objects one at a time as the
    encoder reaches them and long lists go out item by item, so the whole report is never
    held a second time in memory, as a dict tree or as text."""
    yield from _chunks(data, 0)
    yield "\n"


def json_chunks_with(
    data: Any, papers: Iterable[bytes | FileSpan]
) -> Iterator[str | bytes | FileSpan]:
    """json_chunks of a report whose "papers" list is `papers`, its text as UTF-8 (written
    while the papers were read: tracer.render.stream)."""
    yield from _chunks(data, 0, papers)
    yield "\n"


def json_paper(paper: PaperRow, first: bool) -> bytes:
    """A paper as an item of the report's "papers" list (as _chunks writes a long list)."""
    return (b"\n    " if first else b",\n    ") + encode_bytes(paper, 2)


# PaperJson encodes a paper as the one item of {"p": [paper]}: its lines come indented as
# in the report's "papers" list (report > papers > item), between these two.
_ITEM_START = b'{\n  "p": [\n    '
_ITEM_END = b"\n  ]\n}"
_AFFILIATION_DEPTH = b"\n" + b"  " * 6  # {p: [paper]} > authors > author > affiliations > item
_AFFILIATIONS_CLOSE = b"\n" + b"  " * 5 + b"]"  # the end of an author's "affiliations"


class PaperJson:
    """json_paper's bytes, each distinct affiliation encoded once: orjson writes a dataclass
    more slowly than a dict, and a report's affiliations are a few hundred rows shared by
    every author that has them. A paper becomes a dict whose authors' affiliation lists are
    their encoded text (orjson.Fragment, indented to their place; an author's list is encoded
    once for each distinct list of rows); where its text holds what the two encoders write
    apart (see _encode), the paper goes through json_paper whole."""

    def __init__(self) -> None:
        # id(row) -> (row, its text): the row is held, so that its id names no other row.
        self._affiliations: dict[int, tuple[AffiliationRow, bytes]] = {}
        # the ids of an author's rows -> the list's text (its rows are held above)
        self._lists: dict[tuple[int, ...], orjson.Fragment] = {}

    def _affiliation(self, aff: AffiliationRow) -> bytes:
        found = self._affiliations.get(id(aff))
        if found is None:
            try:
                text = orjson.dumps(aff, option=_ORJSON_OPTIONS)
            except TypeError:
                text = b"\x00"  # not JSON: the paper's text fails the check below
            found = self._affiliations[id(aff)] = (aff, text.replace(b"\n", _AFFILIATION_DEPTH))
        return found[1]

    def _list(self, affs: list[AffiliationRow]) -> orjson.Fragment:
        key = tuple(map(id, affs))
        found = self._lists.get(key)
        if found is None:
            texts = [self._affiliation(aff) for aff in affs]
            found = self._lists[key] = orjson.Fragment(
                b"".join((b"[", _AFFILIATION_DEPTH, (b"," + _AFFILIATION_DEPTH).join(texts),
                          _AFFILIATIONS_CLOSE)) if texts else b"[]")
        return found

    def item(self, p: PaperRow, first: bool) -> bytes:
        # The keys in PaperRow's and AuthorRow's field order, as json_paper writes them
        # (tests/test_report_stream.py compares the two on every paper of a report).
        affiliations = self._list
        value = {"p": [{
            "paper_id": p.paper_id, "key": p.key, "title": p.title, "year": p.year,
            "publication_date": p.publication_date, "venue": p.venue, "ids": p.ids,
            "level": p.level, "score": p.score, "evidence": p.evidence,
            "via_derivative": p.via_derivative, "missing": p.missing,
            "after_withdrawal": p.after_withdrawal, "authors_truncated": p.authors_truncated,
            "authors": [
                {"position": a.position, "name": a.name,
                 "affiliations": affiliations(a.affiliations), "author_id": a.author_id}
                for a in p.authors
            ],
            "countries": p.countries, "institutions": p.institutions, "sectors": p.sectors,
            "flags": p.flags, "flag_lists": p.flag_lists, "links": p.links,
        }]}
        try:
            data = orjson.dumps(value, option=_ORJSON_OPTIONS)
        except TypeError:
            data = b""
        if (not data or b"\x00" in data or b"0.0000" in data
                or (b"e-" in data and _ORJSON_EXPONENT_BYTES.search(data))):
            return json_paper(p, first)
        return (b"\n    " if first else b",\n    ") + data[len(_ITEM_START) : -len(_ITEM_END)]


def json_papers(items: Iterable[bytes | FileSpan], count: int) -> Iterator[bytes | FileSpan]:
    """The report's "papers" list from its items' text (json_paper)."""
    if not count:
        yield b"[]"
        return
    yield b"["
    yield from items
    yield b"\n  ]"


def _chunks(value: Any, depth: int, papers: Iterable[Any] | None = None) -> Iterator[Any]:
    if depth == 0 and is_dataclass(value) and not isinstance(value, type):
        value = _plain(value)  # the report itself, opened key by key; orjson encodes the rest
    if isinstance(value, dict) and depth == 0 and value:
        inner = "  " * (depth + 1)
        yield "{"
        for n, (key, item) in enumerate(value.items()):
            yield ("," if n else "") + "\n" + inner + _encode(str(key), depth) + ": "
            if key == "papers" and papers is not None:
                yield from papers
                continue
            yield from _chunks(item, depth + 1)
        yield "\n" + "  " * depth + "}"
    elif isinstance(value, list) and len(value) > _STREAMED:
        inner = "  " * (depth + 1)
        yield "["
        for n, item in enumerate(value):
            yield ("," if n else "") + "\n" + inner
            yield from _chunks(item, depth + 1)
        yield "\n" + "  " * depth + "]"
    else:
        yield _encode(value, depth)


def _encode(value: Any, depth: int) -> str:
    """One value as indented JSON text, its lines indented to `depth`."""
    try:
        text = orjson.dumps(value, default=_plain, option=_ORJSON_OPTIONS).decode()
    except TypeError:  # a lone surrogate or an integer beyond 64 bits
        text = ""
    if not text or "0.0000" in text or ("e-" in text and _ORJSON_EXPONENT.search(text)):
        # orjson writes floats below 1e-4 as 0.00005 or 1.2e-7 where Python writes 5e-05 and
        # 1.2e-07; where such a float may be (or a title says "0.0000"), the stdlib encoder.
        text = json.dumps(value, indent=2, ensure_ascii=False, default=_plain)
    # JSON text holds no raw line break inside a string, so every "\n" is between tokens.
    return text.replace("\n", "\n" + "  " * depth) if depth else text


def encode_bytes(value: Any, depth: int) -> bytes:
    """_encode's text as UTF-8, as orjson writes it (most of a large report goes out so)."""
    try:
        data = orjson.dumps(value, default=_plain, option=_ORJSON_OPTIONS)
    except TypeError:  # a lone surrogate or an integer beyond 64 bits
        data = b""
    if not data or b"0.0000" in data or (b"e-" in data and _ORJSON_EXPONENT_BYTES.search(data)):
        # orjson writes floats below 1e-4 as 0.00005 or 1.2e-7 where Python writes 5e-05 and
        # 1.2e-07; where such a float may be (or a title says "0.0000"), the stdlib encoder.
        text = json.dumps(value, indent=2, ensure_ascii=False, default=_plain)
        data = text.encode("utf-8")
    # JSON text holds no raw line break inside a string, so every "\n" is between tokens.
    return data.replace(b"\n", b"\n" + b"  " * depth) if depth else data


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json(data: Any) -> str:
    return "".join(json_chunks(data))


def export(report: Report, what: str, fmt: str) -> str | bytes:
    """One export: articles, authors, institutions or countries as CSV, JSON, Parquet or Excel
    (bytes for the last two), or the articles as BibTeX."""
    from tracer.render.bibtex import to_bibtex
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
        return to_json(report.papers)  # the papers of the --json shape, encoded as they come
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


__all__ = ["export", "to_csv", "to_json"]
