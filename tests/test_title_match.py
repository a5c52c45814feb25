"""Finding an origin paper by its title: S2 /paper/search/match and OpenAlex title.search, each
checked for the exact title and a year within one, against a fake that answers like the real ones
(S2: its single closest title, however loose, or 404 "Title match not found")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from tests.fakeapi import FakeApi, openalex_work, s2_paper
from tracer.config import load_settings
from tracer.http import HttpClient
from tracer.sources.openalex import OpenAlex
from tracer.sources.semanticscholar import SemanticScholar
from tracer.sources.titles import normalize_title, same_title

LFW = "Labeled Faces in the Wild: A Database for Studying Face Recognition in Unconstrained Environments"


def s2() -> SemanticScholar:
    return SemanticScholar(HttpClient(load_settings()))


def openalex() -> OpenAlex:
    return OpenAlex(HttpClient(load_settings()))


def test_titles_are_compared_without_case_accents_or_punctuation() -> None:
    assert normalize_title("  Émotions: a  DATA-set!? ") == "emotions a data set"
    assert same_title(LFW, LFW.lower().replace(":", " -"))
    assert not same_title(LFW, LFW + " (extended)")
    assert not same_title("", "")


def test_s2_match_takes_the_exact_title_and_gives_its_ids(fake_api: FakeApi) -> None:
    fake_api.corpus.add_s2_paper(
        s2_paper(1, title=LFW, year=2007, corpusId=88166, externalIds={"CorpusId": 88166})
    )
    fake_api.corpus.add_s2_paper(
        s2_paper(2, title="Labeled faces in the wild: a survey", year=2016)
    )
    work = s2().match_title(LFW.upper(), 2008)
    assert work is not None and work.corpus_id == 88166 and work.year == 2007
    request = fake_api.requests_to(r"/paper/search/match$")[0]
    assert request.param("year") == "2007-2009"
    assert ":" not in (request.param("query") or "")
    assert "externalIds" in (request.param("fields") or "")


def test_s2_closest_title_that_is_not_the_same_is_refused(fake_api: FakeApi) -> None:
    # The real service answers with whatever is closest: "... a survey" for the LFW title.
    fake_api.corpus.add_s2_paper(
        s2_paper(2, title="Labeled Faces in the Wild: A Survey of Face Recognition", year=2007)
    )
    assert s2().match_title(LFW, 2007) is None
    assert fake_api.requests_to(r"/paper/search/match$")  # it asked, and judged the answer


def test_s2_same_title_other_year_is_refused(fake_api: FakeApi) -> None:
    fake_api.corpus.add_s2_paper(s2_paper(1, title="Deep Face Recognition", year=2015))
    assert s2().match_title("Deep face recognition", 2015) is not None
    assert s2().match_title("Deep face recognition", 2019) is None
    assert s2().match_title("Deep face recognition") is not None  # no year: title alone


def test_s2_no_match_is_none_from_its_404(fake_api: FakeApi) -> None:
    fake_api.corpus.add_s2_paper(s2_paper(1, title="Deep Face Recognition", year=2015))
    assert s2().match_title("totally garbage nonsense words") is None
    assert s2().match_title("  ::  ") is None  # nothing to ask: no request at all
    answers = fake_api.requests_to(r"/paper/search/match$")
    assert len(answers) == 1


def test_fake_match_answers_in_the_recorded_shape(fake_api: FakeApi, shared_data: Path) -> None:
    recorded = json.loads(
        (shared_data / "semanticscholar/json/search_match_title.json").read_text()
    )["response"]
    title = recorded["data"][0]["title"]
    fake_api.corpus.add_s2_paper(s2_paper(1, title=title))
    fake = requests.get(
        f"{fake_api.s2_url}/paper/search/match",
        params={"query": "mining association rules between", "fields": "title"},
        timeout=5,
    ).json()
    assert set(fake) == set(recorded)
    assert set(fake["data"][0]) == set(recorded["data"][0])
    missing = requests.get(
        f"{fake_api.s2_url}/paper/search/match", params={"query": "zzz qqq"}, timeout=5
    )
    assert missing.status_code == 404 and missing.json() == {"error": "Title match not found"}


def test_openalex_title_search_returns_every_version_with_the_title(fake_api: FakeApi) -> None:
    title = "Deep Learning Face Attributes in the Wild"
    fake_api.corpus.add_openalex_work(
        openalex_work(1, title=title, publication_year=2015, publication_date="2015-12-07")
    )
    fake_api.corpus.add_openalex_work(
        openalex_work(
            2,
            title=title,
            doi="https://doi.org/10.48550/arxiv.1411.7766",
            publication_year=2014,
            publication_date="2014-11-28",
        )
    )
    fake_api.corpus.add_openalex_work(
        openalex_work(3, title="Deep learning of face attributes in the wild, revisited")
    )
    works = openalex().works_by_title(title, 2015)
    assert sorted(w.openalex_id or "" for w in works) == ["W7000001", "W7000002"]
    assert {w.arxiv_id for w in works} == {None, "1411.7766"}
    request = fake_api.requests_to(r"/openalex/works$")[0]
    filter_ = request.param("filter") or ""
    assert filter_.startswith("title.search:deep learning face attributes in the wild,")
    assert "from_publication_date:2014-01-01" in filter_
    assert "to_publication_date:2016-12-31" in filter_


@pytest.mark.parametrize("year", [2010, None])
def test_openalex_title_search_checks_year_and_title(fake_api: FakeApi, year: int | None) -> None:
    fake_api.corpus.add_openalex_work(
        openalex_work(
            1,
            title="The CMU Pose, Illumination, and Expression Database",
            publication_year=2003,
            publication_date="2003-12-01",
        )
    )
    found = openalex().works_by_title("The CMU pose, illumination and expression database", year)
    assert [w.openalex_id for w in found] == ([] if year else ["W7000001"])
    # Upper-case AND/OR/NOT would make the search boolean: the words go lower case.
    openalex().works_by_title("Faces AND Bodies OR NOT")
    last = fake_api.requests_to(r"/openalex/works$")[-1]
    assert "AND" not in (last.param("filter") or "")
