"""Faults from the sources, injected by the fake server, during a scan that follows a good one.

Every case runs a good scan first, then the same scan (--full, so every list is asked for
again) while the server misbehaves. It must end in success with the same data, or in a clear
error with the right exit code; either way the database passes its integrity check, nothing
stored by the good scan is gone, and no traceback reaches the user.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.corpora import ORIGIN_CORPUS_ID, add_brainwash, add_citers, add_origin, use_catalog
from tests.fakeapi.server import FakeApi
from tests.fault_table import integrity_ok, record, snapshot
from tests.helpers import Run, run_cli
from tracer.errors import ExitCode

OK = (ExitCode.OK,)
PARTIAL = (ExitCode.PARTIAL,)
S2 = r"^/graph/v1/"
OA = r"^/openalex/"
EXTRA_CITERS = 150  # OpenAlex then pages (100 a page), so a fault can strike mid-listing


@pytest.fixture
def world(tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-fault-key")
    monkeypatch.setenv("S2_API_KEY", "s2-fault-key")
    monkeypatch.setenv("TRACER_HTTP_RETRIES", "3")
    monkeypatch.setenv("TRACER_HTTP_TIMEOUT", "0.5")
    add_brainwash(fake_api.corpus)
    origin = fake_api.corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    add_citers(fake_api.corpus, origin, EXTRA_CITERS)
    return db


@dataclass
class Case:
    name: str
    route: str
    kind: str = "status"
    codes: tuple[int, ...] = OK
    says: tuple[str, ...] = ()  # words the error message must hold (any of them)
    fault: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("429 burst, Retry-After", S2, fault={"status": 429, "retry_after": 1, "times": 2}),
    Case("429 burst, no Retry-After", S2, fault={"status": 429, "times": 2}),
    Case("403 slow down burst (OA)", OA, fault={"status": 403, "times": 2}),
    Case(
        "429 storm, Retry-After (S2)",
        S2,
        codes=PARTIAL,
        says=("Semantic Scholar", "429"),
        fault={"status": 429, "retry_after": 3, "times": None},
    ),
    Case(
        "429 storm, no Retry-After (OA)",
        OA,
        codes=PARTIAL,
        says=("OpenAlex", "429"),
        fault={"status": 429, "times": None},
    ),
    Case("500 burst", S2, fault={"status": 500, "times": 2}),
    Case("502 burst", OA, fault={"status": 502, "times": 2}),
    Case("503 burst", S2 + "paper/batch", fault={"status": 503, "times": 2}),
    Case(
        "503 outage (OA)",
        OA,
        codes=PARTIAL,
        says=("OpenAlex", "503"),
        fault={"status": 503, "times": None},
    ),
    Case(
        "500 outage (S2 + OA)",
        r".",
        codes=(ExitCode.NETWORK, ExitCode.PARTIAL),
        says=("Could not resolve", "finished without"),
        fault={"status": 500, "times": None},
    ),
    Case("slower than timeout, once", OA + "works", "delay", fault={"delay": 1.0, "times": 1}),
    Case(
        "slower than timeout, always",
        S2 + "paper/[^/]+/citations",
        "delay",
        codes=PARTIAL,
        says=("timed out",),
        fault={"delay": 0.8, "times": None},
    ),
    Case("cut mid-body, once", S2 + "paper/[^/]+/citations", "cut", fault={"times": 1}),
    Case(
        "cut mid-body, always",
        OA + "works",
        "cut",
        codes=PARTIAL,
        says=("connection", "unreadable"),
        fault={"times": None},
    ),
    Case("malformed JSON, once", S2 + "snippet", "malformed", fault={"times": 1}),
    Case("truncated JSON, once", OA + "works", "truncated", fault={"times": 1}),
    Case(
        "truncated JSON, always",
        S2 + "paper/[^/]+/citations",
        "truncated",
        codes=PARTIAL,
        says=("unreadable",),
        fault={"times": None},
    ),
    Case(
        "wrong shape: citations data",
        S2 + "paper/[^/]+/citations",
        "body",
        codes=PARTIAL,
        says=("unexpected shape",),
        fault={"body": {"data": "oops", "next": 5}, "times": None},
    ),
    Case(
        "wrong shape: batch not a list",
        S2 + "paper/batch",
        "body",
        codes=PARTIAL,
        says=("unexpected shape",),
        fault={"body": {"error": None}, "times": None},
    ),
    Case(
        "wrong shape: batch too short",
        S2 + "paper/batch",
        "body",
        codes=OK + PARTIAL,
        fault={"body": [], "times": None},
    ),
    Case(
        "wrong shape: works page",
        OA + "works$",
        "body",
        codes=PARTIAL,
        says=("unexpected shape",),
        fault={"body": {"meta": {"next_cursor": "x"}, "results": {"0": {}}}, "times": None},
    ),
    Case(
        "wrong shape: works nulls",
        OA + "works$",
        "body",
        codes=OK + PARTIAL,
        fault={
            "body": {"meta": None, "results": [None, 3, {"id": None, "authorships": "x"}]},
            "times": None,
        },
    ),
    Case(
        "wrong shape: snippets",
        S2 + "snippet",
        "body",
        codes=OK + PARTIAL,
        fault={"body": {"data": [None, 1, {"paper": None}, {"snippet": "x"}]}, "times": None},
    ),
    Case(
        "wrong shape: JSON null",
        r".",
        "body",
        codes=(ExitCode.NETWORK,),
        says=("null",),
        fault={"body": None, "times": None},
    ),
    Case("null JSON once (POST retried whole)", S2 + "paper/batch", "body", fault={"body": None}),
    Case("listing ends early (cursor)", OA + "works$", "token_null", fault={"times": None}),
]


def scan(*args: str) -> Run:
    return run_cli("scan", "brainwash", "--quiet", *args)


def outcome_of(result: Run) -> str:
    if result.code == 0:
        return "ok, same data"
    first = next((line for line in result.err.splitlines() if line.startswith("Error:")), "")
    return f"exit {result.code}: {first.removeprefix('Error: ')}"


def check_clean(result: Run) -> None:
    assert "Traceback" not in result.err, result.err
    assert "Traceback" not in result.out, result.out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_scan_survives(case: Case, world: Path, fake_api: FakeApi) -> None:
    good = scan()
    assert good.code == 0, good.err
    before = snapshot(world)
    assert len(before.papers) > EXTRA_CITERS

    # A day later: the cache has expired, so the faulty server is really asked.
    assert run_cli("cache", "clear", "--quiet").code == 0
    fault = fake_api.inject(case.route, case.kind, **case.fault)
    result = scan("--full")
    assert fault.fired > 0, "the fault never struck: the case tests nothing"
    after = snapshot(world)
    lost = after.lost_since(before)
    record("faults", case.name, "scan", outcome_of(result), result.code, lost)

    check_clean(result)
    assert result.code in case.codes, result.err
    assert integrity_ok(world)
    assert lost == 0
    if result.code == 0:
        assert after == before  # success means the right data, not merely no error
    else:
        message = result.err.lower()
        assert "error:" in message
        if case.says:
            assert any(word.lower() in message for word in case.says), result.err

    # The source recovers: the next scan completes with everything.
    fake_api.faults.clear()
    again = scan()
    check_clean(again)
    assert again.code == 0, again.err
    assert snapshot(world) == before


def test_listing_cut_short_is_visible_in_coverage(world: Path, fake_api: FakeApi) -> None:
    """OpenAlex ends its cursor early: S2 still finds every paper, and coverage says how many
    OpenAlex listed of how many it counts, so the shortfall is on record."""
    fake_api.inject(OA + "works$", "token_null", times=None)
    result = scan("--no-mentions")
    check_clean(result)
    assert result.code == 0, result.err
    conn = sqlite3.connect(world)
    fetched, total = conn.execute(
        "SELECT fetched, total FROM coverage WHERE source = 'openalex' AND route = 'cites'"
    ).fetchone()
    conn.close()
    assert fetched < total
    record("faults", "listing ends early: coverage", "scan", f"ok, {fetched}/{total} listed", 0)


def test_origin_paper_unknown_everywhere(world: Path, fake_api: FakeApi) -> None:
    assert scan().code == 0
    before = snapshot(world)
    result = run_cli("scan", "nowhere", "--quiet")
    check_clean(result)
    record("faults", "origin paper 404", "scan", outcome_of(result), result.code)
    assert result.code == ExitCode.NOT_FOUND
    assert "origin papers of nowhere" in result.err
    assert "Hint:" in result.err
    assert snapshot(world) == before and integrity_ok(world)


def test_origin_lookup_answers_404(world: Path, fake_api: FakeApi) -> None:
    fake_api.inject(S2 + "paper/batch", status=404, times=None)
    fake_api.inject(OA + "works", status=404, times=None)
    result = scan()
    check_clean(result)
    record("faults", "origin lookup HTTP 404", "scan", outcome_of(result), result.code)
    assert result.code == ExitCode.NOT_FOUND, result.err
    assert result.err.startswith("Error: ")
    assert integrity_ok(world)


def test_empty_result(tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """An origin paper nobody cites or mentions: a clean scan and an empty report."""
    use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("TRACER_DB", str(tmp_path / "empty.db"))
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-fault-key")
    add_origin(fake_api.corpus, citation_count=0)
    result = scan()
    check_clean(result)
    record("faults", "empty result", "scan", outcome_of(result), result.code)
    assert result.code == 0, result.err
    assert snapshot(tmp_path / "empty.db").papers == frozenset()
    shown = run_cli("report", "brainwash")
    check_clean(shown)
    assert shown.code == 0 and "Brainwash" in shown.out


def test_odd_but_valid_records(world: Path, fake_api: FakeApi) -> None:
    """Records with nulls, missing and extra fields, as real APIs send now and then."""
    corpus = fake_api.corpus
    origin = corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    odd = corpus.add_s2_paper(
        {
            "paperId": "f" * 40,
            "corpusId": 999_001,
            "externalIds": None,
            "title": "Odd record with nulls",
            "year": None,
            "venue": None,
            "authors": [{"authorId": None, "name": None}],
            "fieldsOfStudy": None,
            "s2FieldsOfStudy": None,
            "publicationDate": "not a date",
            "surpriseField": {"nested": [1, 2]},
        }
    )
    corpus.add_s2_citation(origin, odd, contexts=[None], intents=[None])  # type: ignore[list-item]
    no_title = corpus.add_s2_paper({"paperId": "e" * 40, "corpusId": 999_002, "title": None})
    corpus.add_s2_citation(origin, no_title)
    # Half a UTF-16 pair, as JSON can escape it ("\ud800"): not storable as UTF-8.
    lone = corpus.add_s2_paper(
        {"paperId": "d" * 40, "corpusId": 999_004, "title": "Lone \ud800 surrogate in a title"}
    )
    corpus.add_s2_citation(origin, lone, contexts=["Brainwash dataset \udfff half pair"])
    corpus.add_openalex_work(
        {
            "id": "W999003",
            "doi": "10.5555/odd.oa",
            "title": None,
            "display_name": None,
            "publication_year": "2020",
            "authorships": [
                None,
                {"author": None, "institutions": [None, {"id": None}], "countries": None},
                {"raw_affiliation_strings": None, "institutions": None},
            ],
            "referenced_works": ["W2963000001"],
            "extra": True,
        }
    )
    from tests.corpora import sync_counts

    sync_counts(corpus)
    result = scan()
    check_clean(result)
    record("faults", "odd records (nulls, extras)", "scan", outcome_of(result), result.code)
    assert result.code == 0, result.err
    titles = {t for t, _, _ in snapshot(world).papers}
    assert "odd record with nulls" in titles
    assert "lone \ufffd surrogate in a title" in titles
    assert "citing paper number 1000" in titles
    assert integrity_ok(world)


# -- refresh ----------------------------------------------------------------------------------

REFRESH_CASES = [
    c
    for c in CASES
    if c.name
    in {
        "429 burst, Retry-After",
        "429 storm, no Retry-After (OA)",
        "503 burst",
        "500 outage (S2 + OA)",
        "slower than timeout, always",
        "cut mid-body, once",
        "truncated JSON, always",
        "wrong shape: batch not a list",
        "wrong shape: JSON null",
        "listing ends early (cursor)",
    }
]


def report_files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", REFRESH_CASES, ids=[c.name for c in REFRESH_CASES])
def test_refresh_survives(case: Case, world: Path, fake_api: FakeApi, tmp_path: Path) -> None:
    """A nightly refresh meets a misbehaving source just when there is something new."""
    out = tmp_path / "reports"
    good = run_cli("refresh", "brainwash", "--out", str(out), "--quiet")
    assert good.code == 0, good.err
    before = snapshot(world)
    reports = report_files(out)
    assert any(name.endswith(".html") for name in reports)

    origin = fake_api.corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 5, start=5000)  # new citing papers since last night
    assert run_cli("cache", "clear", "--quiet").code == 0
    fault = fake_api.inject(case.route, case.kind, **case.fault)
    result = run_cli("refresh", "brainwash", "--out", str(out), "--log", str(tmp_path / "r.log"))
    assert fault.fired > 0, "the fault never struck: the case tests nothing"
    after = snapshot(world)
    lost = after.lost_since(before)
    new = {f"citing paper number {n}" for n in range(5000, 5005)}
    got = new & {t for t, _, _ in after.papers}
    shown = outcome_of(result).replace("same data", f"{len(got)}/{len(new)} new papers")
    record("faults", case.name, "refresh", shown, result.code, lost)

    check_clean(result)
    assert integrity_ok(world)
    assert lost == 0
    # Success or a failure cron mails about (5); never a silent half-done run.
    assert result.code in (ExitCode.OK, ExitCode.PARTIAL), result.err
    if result.code == ExitCode.OK:
        assert got == new  # success means the new papers are in
    if result.code == ExitCode.PARTIAL:
        assert "Error:" in result.err
        kept = report_files(out)
        assert set(reports) <= set(kept)  # yesterday's reports are still there, whole
        assert all(kept[name] for name in reports)

    fake_api.faults.clear()
    again = run_cli("refresh", "brainwash", "--out", str(out), "--quiet")
    check_clean(again)
    assert again.code == 0, again.err
    assert new <= {t for t, _, _ in snapshot(world).papers}
    assert snapshot(world).lost_since(before) == 0


def test_refresh_lock_held(world: Path, isolated_env: Path) -> None:
    import filelock

    from tracer.config import load_settings

    lock = filelock.FileLock(str(load_settings().lock_path), timeout=0)
    with lock:
        result = run_cli("refresh", "brainwash", "--quiet")
    check_clean(result)
    record("faults", "refresh while another holds lock", "refresh", outcome_of(result), result.code)
    assert result.code == ExitCode.LOCKED, result.err
    assert run_cli("refresh", "brainwash", "--quiet").code == 0  # released: runs again
