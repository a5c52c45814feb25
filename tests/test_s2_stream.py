"""The S2 citation list streams: rows reach the scanner page by page, and a failure on a later
page keeps what the earlier pages brought."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.corpora import add_origin, use_catalog
from tests.fakeapi import FakeApi, s2_paper
from tests.fakeapi.common import Recorded, Reply
from tests.helpers import run_cli
from tracer.config import load_settings
from tracer.errors import ExitCode
from tracer.http import HttpClient
from tracer.sources.base import Origin, Target
from tracer.sources.semanticscholar import SemanticScholarSource


def add_s2_only_citers(api: FakeApi, origin: str, count: int) -> None:
    for n in range(1, count + 1):
        citing = api.corpus.add_s2_paper(s2_paper(5000 + n, title=f"S2-only citer {n}"))
        api.corpus.add_s2_citation(origin, citing, contexts=[f"We use it ({n})."])


def test_the_s2_source_hands_over_rows_before_its_last_page_is_asked_for(
    fake_api: FakeApi,
) -> None:
    origin = fake_api.corpus.add_s2_paper(s2_paper(0, title="The origin dataset paper"))
    add_s2_only_citers(fake_api, origin, 2500)
    fake_api.corpus.add_s2_unresolved_citation(origin, "A paper S2 cannot resolve")
    known = Origin("d", 0, paper=None, via_derivative=None, owner="d",  # type: ignore[arg-type]
                   counts={"s2": {"CorpusId:100000": 2501}})
    source = SemanticScholarSource(HttpClient(load_settings()))
    read = source.read(Target("CorpusId:100000", ["CorpusId:100000"], [known]),
                       since=None, fresh=False)
    rows = iter(read)
    first = next(rows)
    assert first.work.title == "S2-only citer 1" and first.contexts == ["We use it (1)."]
    assert len(fake_api.requests_to(r"/citations$")) == 1  # pages 2 and 3 not asked for yet
    assert read.total is None  # what S2 says of the list is known only at its end
    rest = list(rows)
    assert len(fake_api.requests_to(r"/citations$")) == 3
    assert 1 + len(rest) == read.fetched == 2500
    assert read.total == 2501 and not read.capped and read.unresolved == 1 and read.skipped == 0
    assert not read.total_listed


def fail_pages_after_the_first(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> list[Recorded]:
    """S2 citation pages past offset 0 answer 404 (the list is gone mid-read)."""
    failed: list[Recorded] = []
    route = api.route

    def faulty(request: Recorded, fault: Any) -> Reply:
        if request.path.endswith("/citations") and request.param("offset") not in (None, "0"):
            failed.append(request)
            return Reply(404, {"error": "Paper not found"})
        return route(request, fault)

    monkeypatch.setattr(api, "route", faulty)
    return failed


def s2_only_titles(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT p.title FROM dataset_papers d JOIN papers p ON p.id = d.paper_id "
        "WHERE d.dataset = 'brainwash' AND p.title LIKE 'S2-only citer %'"
    ).fetchall()
    conn.close()
    return {r[0] for r in rows}


def test_a_failure_on_a_later_s2_page_keeps_the_earlier_rows_and_says_so(
    tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-test-key")
    monkeypatch.setenv("S2_API_KEY", "s2-test-key")
    origin = add_origin(fake_api.corpus, citation_count=1500)
    add_s2_only_citers(fake_api, origin, 1500)
    failed = fail_pages_after_the_first(fake_api, monkeypatch)

    result = run_cli("scan", "brainwash", "--quiet", "--no-mentions")
    assert failed  # the second page was asked for, and failed
    assert result.code == ExitCode.PARTIAL, result.err
    assert "Semantic Scholar" in result.err and "Traceback" not in result.err
    stored = s2_only_titles(db)
    assert len(stored) == 1000  # the first page's citers, stored before the failure
    assert "S2-only citer 1" in stored and "S2-only citer 1001" not in stored

    monkeypatch.delattr(fake_api, "route")  # the list answers again: the next scan reads it
    assert run_cli("scan", "brainwash", "--quiet", "--no-mentions").code == 0
    assert len(s2_only_titles(db)) == 1500
