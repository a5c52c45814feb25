"""Live checks against the real APIs: opt-in with TRACER_LIVE=1 (never in CI, which has no
network). They confirm that the facts the fake server imitates still hold."""

from __future__ import annotations

import os

import pytest

from tracer.config import load_settings
from tracer.http import HttpClient
from tracer.sources.openalex import OpenAlex
from tracer.sources.semanticscholar import SemanticScholar

pytestmark = pytest.mark.skipif(
    os.environ.get("TRACER_LIVE") != "1", reason="live API tests run only with TRACER_LIVE=1"
)


@pytest.fixture
def http(monkeypatch: pytest.MonkeyPatch) -> HttpClient:
    # The suite's isolation drops keys; a live run uses the caller's, if any.
    for var in ("S2_API_KEY", "OPENALEX_API_KEY"):
        if os.environ.get(f"LIVE_{var}"):
            monkeypatch.setenv(var, os.environ[f"LIVE_{var}"])
    return HttpClient(load_settings(), cache=False)


def test_brainwash_origin_paper_in_semantic_scholar(http: HttpClient) -> None:
    work = SemanticScholar(http).paper("CorpusId:206593654")
    assert work is not None and work.arxiv_id == "1506.04878"
    listing = SemanticScholar(http).citations(work.s2_paper_id or "")
    assert listing.items and not listing.capped


def test_brainwash_origin_paper_in_openalex(http: HttpClient) -> None:
    work = OpenAlex(http).work("10.1109/cvpr.2016.255")
    assert work is not None and work.openalex_id and (work.citation_count or 0) > 100


def test_s2_filters_citations_by_year_and_matches_titles(http: HttpClient) -> None:
    s2 = SemanticScholar(http)
    recent = s2.citations("CorpusId:206593654", since=2024)
    assert recent.items and all((c.citing.year or 2024) >= 2024 for c in recent.items)
    match = s2.match_title("End-to-end people detection in crowded scenes", 2016)
    assert match is not None and match.corpus_id == 206593654


def test_openalex_lists_citers_with_their_own_count(http: HttpClient) -> None:
    oa = OpenAlex(http)
    origin = oa.work("10.1109/cvpr.2016.255")
    assert origin is not None and origin.openalex_id
    works = oa.citing_works([origin.openalex_id], since=2025)
    listed = list(works)
    assert works.total is not None and len(listed) <= works.total
    assert all((w.year or 2025) >= 2025 for w in listed)
