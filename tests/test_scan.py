"""`tracer scan` end to end, against the fake Semantic Scholar and OpenAlex server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.corpora import (
    NUDT,
    USED_SENTENCE,
    add_brainwash,
    add_citers,
    add_origin,
    use_catalog,
)
from tests.fakeapi.server import FakeApi
from tests.helpers import run_cli
from tracer.errors import ExitCode


@pytest.fixture
def world(tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A catalog, a database path and OpenAlex/S2 keys pointing at the fake server."""
    db = use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-test-key")
    monkeypatch.setenv("S2_API_KEY", "s2-test-key")
    return db


def papers_by_title(db: Path) -> dict[str, dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute(
        "SELECT p.id, p.title, d.level, d.evidence FROM dataset_papers d "
        "JOIN papers p ON p.id = d.paper_id WHERE d.dataset = 'brainwash'"
    ).fetchall()
    result = {r["title"].lower(): dict(r, evidence=json.loads(r["evidence"])) for r in rows}
    conn.close()
    return result


def affiliations_of(db: Path, paper_id: int) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM affiliations WHERE paper_id = ?", (paper_id,)).fetchall()
    conn.close()
    return [dict(r, flags=json.loads(r["flags"])) for r in rows]


def test_brainwash_like_scan(world: Path, fake_api: FakeApi) -> None:
    expected = add_brainwash(fake_api.corpus)
    result = run_cli("scan", "brainwash")
    assert result.code == 0, result.err
    papers = papers_by_title(world)

    # Two OpenAlex versions and one S2 record are one paper.
    assert sum(1 for t in papers if t == expected.versions.lower()) == 1
    conn = sqlite3.connect(world)
    versions_id = papers[expected.versions.lower()]["id"]
    oa_ids = conn.execute(
        "SELECT count(*) FROM paper_ids WHERE paper_id = ? AND kind = 'openalex'", (versions_id,)
    ).fetchone()[0]
    assert oa_ids == 2

    assert papers[expected.used.lower()]["level"] == "used"
    assert any(USED_SENTENCE[:40] in e["text"] for e in papers[expected.used.lower()]["evidence"])
    assert papers[expected.cited.lower()]["level"] == "cited"
    assert papers[expected.mentioned.lower()]["level"] == "mentioned"
    assert expected.off_topic.lower() not in papers
    assert "coercive persuasion" not in papers
    assert len(papers) == 4

    nudt = affiliations_of(world, papers[expected.used.lower()]["id"])
    assert nudt and nudt[0]["sector"] == "military" and nudt[0]["country"] == "CN"
    assert nudt[0]["raw"] == NUDT
    megvii = affiliations_of(world, papers[expected.cited.lower()]["id"])
    assert any(f["list"] == "us-entity-list" for a in megvii for f in a["flags"])

    run = conn.execute("SELECT status, requests FROM runs ORDER BY id DESC").fetchone()
    assert run[0] == "ok"
    assert json.loads(run[1])["s2"] and json.loads(run[1])["openalex"]
    assert "Requests: openalex" in result.err and ", s2 " in result.err  # the run's cost, told
    assert "Traceback" not in result.err


def test_requests_for_227_citers_are_a_handful(world: Path, fake_api: FakeApi) -> None:
    origin = add_origin(fake_api.corpus, citation_count=0)
    add_citers(fake_api.corpus, origin, 227)
    result = run_cli("scan", "brainwash", "--json", "--quiet")
    assert result.code == 0, result.err
    assert result.err == ""  # --quiet: nothing on stderr
    counted = len(fake_api.requests_to(r"."))
    report = json.loads(result.out)
    stored = sqlite3.connect(world).execute("SELECT requests FROM runs").fetchone()[0]
    per_source = {s: sum(v.values()) for s, v in json.loads(stored).items()}
    assert sum(per_source.values()) == counted  # what the run stored is what the server saw
    # The fewest the APIs allow: the origin's record in each source, one S2 citation page
    # (1,000 a page), one snippet search per mention phrase, three OpenAlex pages (100 a page).
    assert json.loads(stored) == {
        "s2": {"batch": 1, "citations": 1, "snippets": 1},
        "openalex": {"works_by_doi": 1, "citing_works": 3},
    }
    assert report["run"]["requests"] == json.loads(stored)
    assert len(papers_by_title(world)) == 227


def test_second_scan_fetches_only_what_changed(world: Path, fake_api: FakeApi) -> None:
    add_brainwash(fake_api.corpus)
    assert run_cli("scan", "brainwash", "--quiet", "--no-mentions").code == 0
    fake_api.clear_requests()
    assert run_cli("scan", "brainwash", "--quiet", "--no-mentions").code == 0
    paths = [r.path for r in fake_api.requests_to(r".")]
    assert not any("citations" in p or "filter=cites" in p for p in paths), paths


def test_typo_suggests_the_dataset(world: Path) -> None:
    result = run_cli("scan", "brainwsh")
    assert result.code == ExitCode.NOT_FOUND
    assert "brainwash" in result.err and "Traceback" not in result.err


def test_failing_source_keeps_what_was_stored(world: Path, fake_api: FakeApi) -> None:
    add_brainwash(fake_api.corpus)
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    before = papers_by_title(world)
    fake_api.inject(r"/graph/v1/", times=None, status=503)
    result = run_cli("scan", "brainwash", "--quiet", "--full")
    assert result.code in (ExitCode.PARTIAL, ExitCode.NETWORK)
    assert "Semantic Scholar" in result.err or "s2" in result.err
    assert "Traceback" not in result.err
    assert papers_by_title(world).keys() == before.keys()


def test_new_citations_are_found_despite_the_cache(world: Path, fake_api: FakeApi) -> None:
    add_brainwash(fake_api.corpus)
    assert run_cli("scan", "brainwash", "--quiet", "--no-mentions").code == 0
    origin = fake_api.corpus.resolve_s2("CorpusId:206593654")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 2)
    result = run_cli("scan", "brainwash", "--json", "--quiet", "--no-mentions")
    assert result.code == 0, result.err
    assert json.loads(result.out)["run"]["new_papers"] == 2
    titles = papers_by_title(world)
    assert "citing paper number 1000" in titles and "citing paper number 1001" in titles


def test_a_keyless_scan_lists_openalex_citers_within_the_free_budget(
    world: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENALEX_API_KEY")
    add_brainwash(fake_api.corpus)
    result = run_cli("scan", "brainwash", "--json", "--quiet")
    assert result.code == 0, result.err
    payload = json.loads(result.out)
    notes = payload["report"]["missing"]["notes"]
    assert any("No OpenAlex key" in n and "OPENALEX_API_KEY" in n for n in notes)
    filters = [r.param("filter") or "" for r in fake_api.requests_to(r"^/openalex/works$")]
    assert any(f.startswith("cites:") for f in filters)
    assert all(r.param("cursor") is None for r in fake_api.requests_to(r"^/openalex/works$"))
    coverage = {c["source"]: c for c in payload["report"]["header"]["coverage"]}
    assert coverage["openalex"]["complete"]


def test_a_keyless_scan_past_the_budget_says_so_and_looks_papers_up_for_free(
    world: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakeapi.openalex_routes import keyless_budget

    monkeypatch.delenv("OPENALEX_API_KEY")
    add_brainwash(fake_api.corpus)
    keyless_budget(fake_api, calls=0)  # spent: the origins and papers are looked up for free
    result = run_cli("scan", "brainwash", "--json", "--quiet")
    assert result.code == ExitCode.PARTIAL, result.err
    assert "openalex" in result.err.lower()
    payload = json.loads(result.out)
    coverage = {c["source"]: c for c in payload["report"]["header"]["coverage"]}
    assert not coverage["openalex"]["complete"]
    # Every S2 citer still got its OpenAlex authorships, through free single-record look-ups.
    singles = fake_api.requests_to(r"^/openalex/works/doi:")
    assert singles
    papers = payload["report"]["papers"]
    assert all(p["authors"] for p in papers if p["level"] != "mentioned")


def test_a_scan_freezes_what_is_alive_only_while_it_runs() -> None:
    import gc

    from tracer import collector

    seen: list[int] = []

    @collector.frozen()
    def run(fail: bool) -> None:
        seen.append(gc.get_freeze_count())
        if fail:
            raise RuntimeError("the run failed")

    before = gc.get_freeze_count()
    run(False)
    with pytest.raises(RuntimeError):
        run(True)
    assert seen[0] > 0 and seen[1] > 0
    assert gc.get_freeze_count() == before == 0


def test_a_paused_step_gives_the_collector_back_as_it_was() -> None:
    import gc

    from tracer import collector

    @collector.paused()
    def step(fail: bool) -> bool:
        if fail:
            raise RuntimeError("the step failed")
        return gc.isenabled()

    assert gc.isenabled()
    assert step(False) is False
    with pytest.raises(RuntimeError):
        step(True)
    assert gc.isenabled()
    gc.disable()
    try:
        step(False)
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()
