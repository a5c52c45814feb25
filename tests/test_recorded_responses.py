"""Recorded real API answers (../shared/data) through the parsers, and the fake held against them.

Skipped where ../shared/data is absent. Nothing here copies the recordings: they are read in place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.fakeapi import FakeApi, s2_paper
from tracer.config import load_settings
from tracer.http import HttpClient
from tracer.sources.openalex import OpenAlex, parse_institution, parse_work
from tracer.sources.semanticscholar import parse_citation, parse_paper, parse_snippet


def recorded(shared: Path, name: str) -> Any:
    path = shared / "semanticscholar" / "json" / name
    if not path.exists():
        pytest.skip(f"{name} is absent")
    return json.loads(path.read_text(encoding="utf-8"))


def openalex_file(shared: Path, name: str) -> Any:
    path = shared / "openalex" / name
    if not path.exists():
        pytest.skip(f"{name} is absent")
    return json.loads(path.read_text(encoding="utf-8"))


def test_full_s2_paper(shared_data: Path) -> None:
    work = parse_paper(recorded(shared_data, "paper_full_fields_TRIMMED.json")["response"])
    assert work.title == "Computing Machinery and Intelligence"
    assert work.doi == "10.1093/mind/lix.236.433"  # recorded upper case, stored lower
    assert work.corpus_id == 14636783 and work.year == 1950
    assert work.publication_date == "1950-10-01"
    assert work.fields_of_study == ["Computer Science", "Sociology"]
    assert [a.name for a in work.authors] == ["A. Turing"]
    assert work.authors[0].raw_affiliations == []  # S2 affiliations are often empty


def test_citation_with_contexts_and_intents(shared_data: Path) -> None:
    row = recorded(shared_data, "citation_object_contexts_intents.json")
    citation = parse_citation(row, "CorpusId:1")
    assert citation is not None
    assert citation.is_influential is True
    assert set(citation.intents) == {"result", "background", "methodology"}
    assert len(citation.contexts) == 4
    assert citation.citing.doi == "10.1109/lra.2022.3229266"
    assert citation.citing.corpus_id == 254723237
    assert citation.citing.venue == "IEEE Robotics and Automation Letters"


def test_citation_pages_and_the_last_one(shared_data: Path) -> None:
    first = recorded(shared_data, "citations_page_offset0.json")["response"]
    last = recorded(shared_data, "citations_page_offset1800_last.json")["response"]
    assert first["next"] == 100 and "next" not in last  # the rule the client pages by
    parsed = [parse_citation(row, "CorpusID:14514057") for row in first["data"] + last["data"]]
    assert len(parsed) == 181 and all(c is not None and c.citing.title for c in parsed)
    # Real pages hold citing papers S2 never resolved: {"paperId": null, "title": ...}.
    # The parser reads them; the listing counts them as unresolved rather than as papers.
    unresolved = [c for c in parsed if c is not None and c.citing.s2_paper_id is None]
    assert len(unresolved) == 4


def cassette_pages(shared: Path) -> list[dict[str, Any]]:
    path = shared / "semanticscholar" / "cassettes" / "test_get_paper_citations.yaml"
    if not path.exists():
        pytest.skip("cassette absent")
    cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
    pages = []
    for interaction in cassette["interactions"]:
        response = interaction["response"]
        pages.append(json.loads(response.get("content") or response.get("body", {}).get("string")))
    return pages


def test_recorded_citation_pages_through_the_client(shared_data: Path, fake_api: FakeApi) -> None:
    """The 19 recorded pages (1,881 rows, 8 without a paperId), served in turn as S2 sent
    them: every resolved paper is listed once, the 8 are counted, none is a paper."""
    from tracer.sources.semanticscholar import SemanticScholar

    pages = cassette_pages(shared_data)
    rows = [row for page in pages for row in page["data"]]
    null = sum(1 for row in rows if row["citingPaper"]["paperId"] is None)
    assert (len(rows), null) == (1881, 8)
    fake_api.corpus.add_s2_paper(s2_paper(0))
    for page in pages:
        fake_api.inject(r"/citations$", "body", times=1, body=page)
    listing = SemanticScholar(HttpClient(load_settings())).citations("CorpusId:100000")
    resolved = {row["citingPaper"]["paperId"] for row in rows} - {None}
    assert {c.citing.s2_paper_id for c in listing.items} == resolved
    assert listing.unresolved == 8 and listing.skipped == 0 and not listing.capped
    assert len(fake_api.requests_to(r"/citations$")) == 19


def test_citation_cassette_pages_parse(shared_data: Path) -> None:
    path = shared_data / "semanticscholar" / "cassettes" / "test_get_paper_citations.yaml"
    if not path.exists():
        pytest.skip("cassette absent")
    cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
    total = 0
    for interaction in cassette["interactions"]:
        response = interaction["response"]
        body = response.get("content") or response.get("body", {}).get("string")
        page = json.loads(body)
        total += sum(parse_citation(row, "x") is not None for row in page["data"])
    assert total > 1000


def test_batch_and_snippets(shared_data: Path) -> None:
    rows = recorded(shared_data, "paper_batch_POST.json")["response"]
    works = [parse_paper(r) for r in rows]
    assert [len(w.authors) for w in works] == [3, 4, 3]
    assert works[0].authors[1].s2_author_id == "2259683"
    data = recorded(shared_data, "snippet_search_SYNTHETIC.json")["response"]["data"]
    snippets = [parse_snippet(row, "turing test") for row in data]
    assert [s.paper.corpus_id for s in snippets if s] == [19170988, 12345678]
    assert snippets[0] is not None and snippets[0].kind == "abstract"
    assert snippets[0].section is None and snippets[0].ref_corpus_ids == []


def test_fake_s2_errors_match_the_recorded_ones(shared_data: Path, fake_api: FakeApi) -> None:
    """The fake answers 400/404 with the body shape and wording S2 gives."""
    fake_api.corpus.add_s2_paper(s2_paper(1, externalIds={"DOI": "10.1093/mind/lix.236.433"}))
    for name, path in (
        ("error_404_paper.json", "/paper/0?fields=title"),
        ("error_400_bad_fields.json", "/paper/10.1093/mind/lix.236.433?fields=unknown"),
    ):
        record = recorded(shared_data, name)
        answer = requests.get(fake_api.s2_url + path, timeout=5)
        assert answer.status_code == record["_source"]["status"]
        assert answer.json() == record["response"]


def test_fake_citation_page_has_the_recorded_shape(shared_data: Path, fake_api: FakeApi) -> None:
    recorded_page = recorded(shared_data, "citations_page_offset0.json")["response"]
    origin = fake_api.corpus.add_s2_paper(s2_paper(0))
    for i in range(1, 151):
        fake_api.corpus.add_s2_citation(origin, fake_api.corpus.add_s2_paper(s2_paper(i)))
    page = requests.get(
        f"{fake_api.s2_url}/paper/{origin}/citations?fields=title&offset=0&limit=100", timeout=5
    ).json()
    assert set(page) == set(recorded_page)
    assert set(page["data"][0]) == set(recorded_page["data"][0]) == {"citingPaper"}
    assert set(page["data"][0]["citingPaper"]) == set(recorded_page["data"][0]["citingPaper"])


def test_openalex_work_singleton(shared_data: Path) -> None:
    work = parse_work(openalex_file(shared_data, "work_W2741809807_singleton.json"))
    assert work.openalex_id == "W2741809807" and work.doi == "10.7717/peerj.4375"
    assert work.year == 2018 and work.venue == "PeerJ"
    assert len(work.authors) == 9 and not work.authors_truncated
    first = work.authors[0]
    assert first.name == "Heather Piwowar" and first.openalex_author_id == "A5048491430"
    assert first.raw_affiliations == ["Impactstory, Sanford, NC, USA"]
    assert first.institutions[0].ror == "05ppvf150" and first.institutions[0].type == "company"
    assert first.countries == ["US"]
    assert work.abstract and len(work.abstract.split()) > 50


def test_openalex_list_page_and_institution(shared_data: Path) -> None:
    page = openalex_file(shared_data, "works_list_cursor_page_DERIVED.json")
    works = [parse_work(row, listed=True) for row in page["results"]]
    assert [w.openalex_id for w in works] == ["W2741809807"]
    assert page["meta"]["next_cursor"] is None  # the last page, by the rule the client pages by
    inst = parse_institution(openalex_file(shared_data, "institution_I27837315_singleton.json"))
    assert inst.openalex_id == "I27837315" and inst.ror == "00jmfr291"
    assert inst.type == "funder" and inst.country_code == "US"
    assert inst.display_name == "University of Michigan"


def test_recorded_work_served_by_the_fake_parses_the_same(
    shared_data: Path, fake_api: FakeApi
) -> None:
    raw = openalex_file(shared_data, "work_W2741809807_singleton.json")
    fake_api.corpus.add_openalex_work(raw)
    over_http = OpenAlex(HttpClient(load_settings())).work("doi:10.7717/peerj.4375")
    assert over_http == parse_work(raw)
