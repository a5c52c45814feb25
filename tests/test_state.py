"""Findings that stay true across runs: every sequence of scans and refreshes a user may run ends
in the database and report that one clean full scan gives.

Each test runs a sequence against the fake, then compares the JSON report with the one a fresh
database gets from a single `tracer scan brainwash`: the same papers, levels, affiliations and
flags; nothing marked "no longer found"; no capped or incomplete list. `tracer rejudge` and
refresh bring judgements and affiliations made with other rules up to date without a request.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.corpora import ORIGIN_CORPUS_ID, add_brainwash, add_citers, sync_counts, use_catalog
from tests.fakeapi.server import FakeApi
from tests.helpers import run_cli
from tracer.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def world(tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-state-key")
    monkeypatch.setenv("TRACER_HTTP_RETRIES", "2")
    add_brainwash(fake_api.corpus)
    origin = fake_api.corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 18)
    return tmp_path


def use_db(world: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    db = world / f"{name}.db"
    monkeypatch.setenv("TRACER_DB", str(db))
    monkeypatch.setenv("TRACER_DATA_DIR", str(world / f"{name}-data"))
    return db


def report(*extra: str) -> dict[str, Any]:
    run = run_cli("report", "brainwash", "--json", *extra)
    assert run.code == 0, run.err
    return dict(json.loads(run.out))


def findings(data: dict[str, Any]) -> dict[str, Any]:
    """What a reader takes from a report: each paper's level, affiliations and flags."""
    papers = {}
    for paper in data["papers"]:
        affiliations = sorted(
            (
                str(aff.get("institution_id")),
                str(aff.get("country")),
                str(aff.get("sector")),
                tuple(sorted(f["list"] for f in aff.get("flags") or [])),
            )
            for author in paper["authors"]
            for aff in author["affiliations"]
        )
        papers[paper["title"]] = (paper["level"], affiliations)
    return papers


def assert_like_clean(data: dict[str, Any], clean: dict[str, Any]) -> None:
    assert findings(data) == findings(clean)
    assert data["missing"]["papers_marked_missing"] == []
    assert data["missing"]["papers_not_judged"] == []
    assert data["missing"]["capped"] == []


@pytest.fixture
def clean(world: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The report of one full scan into a fresh database (its own cache too)."""
    use_db(world, monkeypatch, "clean")
    run = run_cli("scan", "brainwash", "--quiet")
    assert run.code == 0, run.err
    data = report()
    assert len(data["papers"]) == 22
    assert_like_clean(data, data)
    use_db(world, monkeypatch, "under-test")
    return data


def test_a_second_scan_marks_nothing_missing(world: Path, clean: dict[str, Any]) -> None:
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    second = run_cli("scan", "brainwash", "--quiet")
    assert second.code == 0, second.err
    assert_like_clean(report(), clean)


def test_a_filtered_full_scan_marks_nothing_missing(world: Path, clean: dict[str, Any]) -> None:
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    assert run_cli("scan", "brainwash", "--since", "2021", "--full", "--quiet").code == 0
    assert_like_clean(report(), clean)


def test_a_plain_scan_after_a_filtered_one_completes_the_database(
    world: Path, clean: dict[str, Any]
) -> None:
    first = run_cli("scan", "brainwash", "--since", "2020", "--no-mentions", "--quiet")
    assert first.code == 0, first.err
    assert len(report()["papers"]) < len(clean["papers"])
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    assert_like_clean(report(), clean)


def test_a_refresh_whose_mentions_are_not_due_marks_nothing_missing(
    world: Path, clean: dict[str, Any], fake_api: FakeApi
) -> None:
    out = world / "reports"
    assert run_cli("refresh", "brainwash", "--out", str(out), "--quiet").code == 0
    origin = fake_api.corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 1, start=5000)  # a count moves: the lists are re-read
    again = run_cli("refresh", "brainwash", "--out", str(out), "--quiet")
    assert again.code == 0, again.err
    data = report()
    assert data["missing"]["papers_marked_missing"] == []
    assert "Gaze following in crowds" in findings(data)


@pytest.mark.parametrize(
    "failing",
    [r"^/openalex/works", r"^/graph/v1/paper/batch"],
    ids=["openalex-pages", "s2-origin-resolution"],
)
def test_a_refresh_after_a_failed_step_finishes_the_work(
    failing: str, world: Path, clean: dict[str, Any], fake_api: FakeApi
) -> None:
    out = world / "reports"
    fake_api.inject(failing, "status", status=500, times=None)
    failed = run_cli("refresh", "brainwash", "--out", str(out), "--quiet")
    assert failed.code == ExitCode.PARTIAL, failed.err
    fake_api.faults.clear()
    assert run_cli("refresh", "brainwash", "--out", str(out), "--quiet").code == 0
    assert_like_clean(report(), clean)


@pytest.mark.parametrize("share", [0.2, 0.5, 0.8])
def test_a_refresh_stopped_by_sigterm_is_finished_by_the_next(
    share: float, world: Path, clean: dict[str, Any], fake_api: FakeApi
) -> None:
    out = world / "reports"
    total = len(fake_api.requests)
    fake_api.clear_requests()
    fake_api.inject(r".", "delay", delay=0.1, times=None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tracer", "refresh", "brainwash", "--out", str(out), "--quiet"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(fake_api.requests) < max(1, int(total * share)):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == ExitCode.INTERRUPTED, err
    fake_api.faults.clear()
    for _ in range(2):
        assert run_cli("refresh", "brainwash", "--out", str(out), "--quiet").code == 0
    assert_like_clean(report(), clean)
    html = (out / "brainwash" / "brainwash.html").read_text(encoding="utf-8")
    assert "(no longer found)" not in html


def test_a_paper_gone_from_every_list_is_marked_missing_by_a_full_reread(
    world: Path, clean: dict[str, Any], fake_api: FakeApi
) -> None:
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    corpus = fake_api.corpus
    origin = corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    gone = corpus.resolve_s2("DOI:10.5555/citer.1000")  # "Citing paper number 1000"
    assert origin is not None and gone is not None
    corpus.s2_citations[origin] = [c for c in corpus.s2_citations[origin] if c["citing"] != gone]
    for cited in corpus.oa_cited_by.values():
        cited[:] = [w for w in cited if "citer.1000" not in str(corpus.oa_works[w].get("doi"))]
    sync_counts(corpus)
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    data = report()
    missing = [p["title"] for p in data["papers"] if p["missing"]]
    assert missing == ["Citing paper number 1000"]
    assert data["missing"]["capped"] == []


# -- judgements and affiliations made with other rules -------------------------------------


def write_other_rules(db: Path) -> None:
    """What an older rule set and older reference data left in the database."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE dataset_papers SET level = 'used', judged_with = 'old-rules'")
        conn.execute("UPDATE affiliations SET sector = 'military', flags = '[]'")
        conn.execute("UPDATE authorships SET classified_with = 'old-data'")
    conn.close()


def test_rejudge_gives_the_levels_of_a_fresh_scan_without_a_request(
    world: Path, clean: dict[str, Any], fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = use_db(world, monkeypatch, "rejudged")
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    write_other_rules(db)
    assert findings(report()) != findings(clean)
    fake_api.clear_requests()
    run = run_cli("rejudge", "brainwash")
    assert run.code == 0, run.err
    assert fake_api.requests == []
    assert run.out.startswith("brainwash: ")
    assert findings(report()) == findings(clean)


def test_refresh_rejudges_what_other_rules_judged(
    world: Path, clean: dict[str, Any], fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = use_db(world, monkeypatch, "refreshed")
    out = world / "reports"
    assert run_cli("refresh", "brainwash", "--out", str(out), "--quiet").code == 0
    write_other_rules(db)
    fake_api.clear_requests()
    assert run_cli("refresh", "brainwash", "--out", str(out), "--quiet").code == 0
    assert findings(report()) == findings(clean)
    lists = [
        r for r in fake_api.requests
        if r.path.endswith("/citations") or "cites:" in (r.param("filter") or "")
    ]
    assert lists == []  # no list was read again: only the counts were asked
    assert fake_api.requests  # ... and the counts were


def test_rejudge_needs_a_name_or_all() -> None:
    run = run_cli("rejudge")
    assert run.code == 2
    assert "Name one dataset or give --all" in run.err


def test_the_budget_a_source_reports_is_kept_and_shown(world: Path, fake_api: FakeApi) -> None:
    run = run_cli("scan", "brainwash", "--json")
    assert run.code == 0, run.err
    budget = json.loads(run.out)["run"]["stats"]["budget"]["openalex"]
    assert isinstance(budget["remaining"], int) and budget["remaining"] < budget["limit"]
    assert f"openalex budget left {budget['remaining']} of {budget['limit']}" in run.err
    refresh = run_cli("refresh", "brainwash", "--json")
    assert refresh.code == 0, refresh.err
    assert json.loads(refresh.out)["budget"]["openalex"]["remaining"] <= budget["remaining"]


def test_an_s2_list_shorter_than_its_count_is_not_read_again_and_again(
    world: Path, fake_api: FakeApi
) -> None:
    """S2's citationCount is a figure of the paper, not of the list: a list that ends, uncapped,
    with fewer rows than that is complete as S2 lists it. The report says how many of the count
    were listed; a refresh with no count moved reads nothing again."""
    origin = fake_api.corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    sync_counts(fake_api.corpus)
    listed = fake_api.corpus.s2_papers[origin]["citationCount"]
    fake_api.corpus.s2_papers[origin]["citationCount"] = listed + 5
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    fake_api.clear_requests()
    again = run_cli("refresh", "brainwash", "--quiet")
    assert again.code == 0, again.err
    assert not fake_api.requests_to(r"/citations$")
    data = report()
    (s2,) = [c for c in data["header"]["coverage"] if c["source"] == "s2" and c["route"] == "cites"]
    assert (s2["fetched"], s2["total"], s2["complete"]) == (listed, listed + 5, True)
    # What the list did not show is still said: among the lists not read to their count.
    assert [c["target"] for c in data["missing"]["capped"]] == [s2["target"]]
