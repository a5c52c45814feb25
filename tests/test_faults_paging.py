"""Faults in paging and in rows, met by a scan that follows a good one (as in test_faults.py).

A server that pages in circles (an S2 `next` that creeps or repeats, an OpenAlex cursor handed
back again) must end that step as failed with a sentence, not loop; a row with one field of the
wrong type is skipped and counted, never a crash; a 404 from a list endpoint fails that step
(the run ends partial, exit 5) instead of stopping the scan as "not found". Every case goes into
the fault table. Last, a property test: no JSON value in any field crashes the parsers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.corpora import ORIGIN_CORPUS_ID, W_PROCEEDINGS
from tests.fakeapi import openalex_work, s2_paper
from tests.fakeapi.s2_routes import project
from tests.fakeapi.server import FakeApi
from tests.fault_table import integrity_ok, record, snapshot
from tests.test_faults import check_clean, outcome_of, scan, world  # noqa: F401 - fixture
from tracer.errors import ExitCode
from tracer.sources.openalex import parse_institution, parse_work
from tracer.sources.rows import BadRow
from tracer.sources.semanticscholar import parse_citation, parse_paper, parse_snippet

OK = (ExitCode.OK,)
PARTIAL = (ExitCode.PARTIAL,)
CITATIONS = r"^/graph/v1/paper/[^/]+/citations$"
OA_LIST = r"^/openalex/works$"

Undo = Callable[[], None]


def _citing_rows(n: int) -> list[dict[str, Any]]:
    return [
        {"contexts": [], "intents": [], "citingPaper": project(s2_paper(9000 + i), ["title"])}
        for i in range(n)
    ]


def _origin(api: FakeApi) -> str:
    origin = api.corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    return origin


def _s2_citer(api: FakeApi, n: int, **fields: Any) -> Undo:
    """One more S2 citer whose paper has `fields` (set after the fake has indexed it)."""
    pid = api.corpus.add_s2_paper(s2_paper(n, title=f"Odd citer {n}"))
    api.corpus.s2_papers[pid].update(fields)
    rows = api.corpus.s2_citations[_origin(api)]
    rows.append(dict(rows[0], citing=pid))

    def undo() -> None:
        rows.pop()
        api.corpus.version += 1

    return undo


def _s2_row(api: FakeApi, **fields: Any) -> Undo:
    """One more S2 citation row (to a paper of its own) whose citation fields are `fields`."""
    pid = api.corpus.add_s2_paper(s2_paper(8001, title="Odd citation row"))
    rows = api.corpus.s2_citations[_origin(api)]
    rows.append(dict(rows[0], citing=pid, **fields))

    def undo() -> None:
        rows.pop()
        api.corpus.version += 1

    return undo


def _oa_citer(api: FakeApi, n: int, **fields: Any) -> Undo:
    wid = api.corpus.add_openalex_work(
        openalex_work(n, title=f"Odd work {n}", referenced_works=[W_PROCEEDINGS])
    )
    api.corpus.oa_works[wid].update(fields)

    def undo() -> None:
        api.corpus.oa_cited_by[W_PROCEEDINGS].remove(wid)
        api.corpus.version += 1

    return undo


def _misbehave(api: FakeApi, key: str, value: Any) -> Undo:
    api.corpus.misbehave[key] = value
    return lambda: api.corpus.misbehave.clear()


@dataclass
class Case:
    name: str
    codes: tuple[int, ...]
    says: tuple[str, ...] = ()
    inject: dict[str, Any] = field(default_factory=dict)  # FakeApi.inject(**inject)
    change: Callable[[FakeApi], Undo] | None = None  # a corpus or behaviour change, undone after


CASES = [
    Case(
        "S2 next creeps by one",
        PARTIAL,
        ("moved `next` on by 1",),
        inject={
            "route": CITATIONS,
            "kind": "body",
            "times": None,
            "body": {"offset": 0, "next": 1, "data": _citing_rows(3)},
        },
    ),
    Case(
        "S2 next repeats the offset",
        PARTIAL,
        ("repeated the offset",),
        inject={
            "route": CITATIONS,
            "kind": "body",
            "times": None,
            "body": {"offset": 0, "next": 0, "data": _citing_rows(3)},
        },
    ),
    Case(
        "OA cursor handed back again",
        PARTIAL,
        ("a second time",),
        change=lambda api: _misbehave(api, "openalex_repeat_cursor", True),
    ),
    Case("S2 title is a list", OK, change=lambda api: _s2_citer(api, 8101, title=["a", "b"])),
    Case(
        "S2 externalIds is a string", OK, change=lambda api: _s2_citer(api, 8102, externalIds="x")
    ),
    Case("S2 intents is an int", OK, change=lambda api: _s2_row(api, intents=5)),
    Case("OA doi is a number", OK, change=lambda api: _oa_citer(api, 8201, doi=5)),
    Case("OA id is a number", OK, change=lambda api: _oa_citer(api, 8202, id=12)),
    Case(
        "OA author is a number",
        OK,
        change=lambda api: _oa_citer(api, 8203, authorships=[{"author": 5}]),
    ),
    Case(
        "404 from S2 citations",
        PARTIAL,
        ("could not be read",),
        inject={"route": CITATIONS, "status": 404, "times": None},
    ),
    Case(
        "404 from OA works list",
        PARTIAL,
        ("could not be read",),
        inject={"route": OA_LIST, "status": 404, "times": None},
    ),
    Case(
        "404 from S2 snippet search",
        PARTIAL,
        ("could not be read",),
        inject={"route": r"^/graph/v1/snippet/search$", "status": 404, "times": None},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_scan_survives_paging_and_row_faults(case: Case, world: Path, fake_api: FakeApi) -> None:  # noqa: F811
    from tests.helpers import run_cli

    good = scan()
    assert good.code == 0, good.err
    before = snapshot(world)
    assert run_cli("cache", "clear", "--quiet").code == 0

    undo = case.change(fake_api) if case.change else None
    fault = fake_api.inject(**case.inject) if case.inject else None
    result = scan("--full")
    if fault is not None:
        assert fault.fired > 0, "the fault never struck: the case tests nothing"
    after = snapshot(world)
    lost = after.lost_since(before)
    record("faults", case.name, "scan", outcome_of(result), result.code, lost)

    check_clean(result)
    assert result.code in case.codes, result.err
    assert integrity_ok(world) and lost == 0
    if result.code == 0:
        assert after == before  # the bad row was skipped; the rest is all there
    else:
        assert "error:" in result.err.lower()
        assert any(word.lower() in result.err.lower() for word in case.says), result.err

    fake_api.faults.clear()
    if undo is not None:
        undo()
    again = scan()
    check_clean(again)
    assert again.code == 0, again.err
    assert snapshot(world) == before


# -- no JSON value in any field crashes a parser -----------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)

S2_PAPER = {
    "paperId": "a" * 40,
    "corpusId": 1,
    "externalIds": {"DOI": "10.1/x", "ArXiv": "1506.04878", "CorpusId": 1},
    "url": "https://www.semanticscholar.org/paper/a",
    "title": "A paper",
    "year": 2020,
    "venue": "",
    "publicationVenue": {"name": "Venue"},
    "journal": {"name": "Journal"},
    "publicationDate": "2020-01-02",
    "abstract": "Text.",
    "authors": [{"authorId": "1", "name": "A. One", "affiliations": ["Uni"]}, "B. Two"],
    "fieldsOfStudy": ["Computer Science"],
    "s2FieldsOfStudy": [{"category": "Computer Science", "source": "s2-fos-model"}],
    "citationCount": 3,
}
S2_CITATION = {
    "contexts": ["We use X."],
    "intents": ["methodology"],
    "contextsWithIntent": [{"context": "We use X.", "intents": ["methodology"]}],
    "isInfluential": False,
    "citingPaper": S2_PAPER,
}
S2_SNIPPET = {
    "snippet": {
        "text": "We train on X.",
        "snippetKind": "body",
        "section": "Experiments",
        "annotations": {"refMentions": [{"matchedPaperCorpusId": "12"}]},
    },
    "score": 0.5,
    "paper": {"corpusId": "5", "title": "T", "authors": ["A. One"]},
}
OA_INSTITUTION = {
    "id": "https://openalex.org/I1",
    "ror": "https://ror.org/00f54p054",
    "display_name": "Uni",
    "country_code": "us",
    "type": "education",
    "lineage": ["https://openalex.org/I1"],
}
OA_WORK = {
    "id": "https://openalex.org/W1",
    "doi": "https://doi.org/10.48550/arxiv.1506.04878",
    "title": "A work",
    "display_name": "A work",
    "publication_year": 2020,
    "publication_date": "2020-01-02",
    "ids": {"openalex": "https://openalex.org/W1", "doi": "https://doi.org/10.1/x"},
    "primary_location": {"source": {"display_name": "Journal"}},
    "locations": [{"landing_page_url": "https://arxiv.org/abs/1506.04878", "pdf_url": None}],
    "authorships": [
        {
            "author": {"id": "https://openalex.org/A1", "display_name": "A. One"},
            "raw_author_name": "A. One",
            "institutions": [OA_INSTITUTION],
            "countries": ["US"],
            "raw_affiliation_strings": ["Uni, USA"],
        }
    ],
    "is_authors_truncated": False,
    "cited_by_count": 3,
    "abstract_inverted_index": {"We": [0], "count": [1]},
}

PARSERS: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any]], Any]]] = {
    "s2 paper": (S2_PAPER, parse_paper),
    "s2 citation": (S2_CITATION, lambda row: parse_citation(row, "CorpusId:1")),
    "s2 snippet": (S2_SNIPPET, lambda row: parse_snippet(row, "x")),
    "openalex work": (OA_WORK, lambda row: parse_work(row, listed=True)),
    "openalex institution": (OA_INSTITUTION, parse_institution),
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a record where a value sits: keys of objects, indexes of lists."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield prefix + (key,)
            yield from _paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield prefix + (index,)
            yield from _paths(inner, prefix + (index,))


CASES_BY_PATH = [(name, path) for name, (base, _) in PARSERS.items() for path in _paths(base)]


@settings(max_examples=400, deadline=None)
@given(where=st.sampled_from(CASES_BY_PATH), value=JSON)
def test_no_json_value_in_any_field_crashes_a_parser(
    where: tuple[str, tuple[Any, ...]], value: Any
) -> None:
    parser, path = where
    base, parse = PARSERS[parser]
    row = copy.deepcopy(base)
    holder = row
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    try:
        parse(row)
    except BadRow:
        pass  # rejected: the caller skips and counts it


@pytest.mark.parametrize("parser", list(PARSERS))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_no_mix_of_json_values_in_a_row_crashes_a_parser(parser: str, data: st.DataObject) -> None:
    base, parse = PARSERS[parser]
    row = data.draw(st.fixed_dictionaries({}, optional={key: JSON for key in base}))
    try:
        parse(row)
    except BadRow:
        pass
