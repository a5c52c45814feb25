"""`tracer refresh` for cron, against the fake server: cheap checks, only new work, the lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.corpora import add_brainwash, add_citers, use_catalog
from tests.fakeapi.server import FakeApi
from tests.helpers import run_cli
from tracer.errors import ExitCode
from tracer.scan import RECENT_WINDOW

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def world(tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-test-key")
    add_brainwash(fake_api.corpus)
    return tmp_path / "reports"


def requests_per_source(api: FakeApi) -> dict[str, int]:
    return {
        "s2": len(api.requests_to(r"^/graph/v1/")),
        "openalex": len(api.requests_to(r"^/openalex/")),
    }


def test_second_refresh_costs_at_most_one_request_per_source(
    world: Path, fake_api: FakeApi
) -> None:
    first = run_cli("refresh", "brainwash", "--out", str(world), "--quiet")
    assert first.code == 0, first.err
    assert "  Head detection in dense crowds" in first.out
    fake_api.clear_requests()
    second = run_cli("refresh", "brainwash", "--out", str(world), "--quiet")
    assert second.code == 0, second.err
    assert second.out == ""  # nothing changed: cron mails nothing
    counts = requests_per_source(fake_api)
    assert counts["s2"] <= 1 and counts["openalex"] <= 1, counts


def test_two_new_citers_are_reported_fetched_alone_and_written(
    world: Path, fake_api: FakeApi
) -> None:
    assert run_cli("refresh", "brainwash", "--out", str(world), "--quiet").code == 0
    report = world / "brainwash" / "brainwash.json"
    csv = world / "brainwash" / "brainwash.csv"
    before = json.loads(report.read_text(encoding="utf-8"))
    origin = fake_api.corpus.resolve_s2("CorpusId:206593654")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 2)
    this_year = datetime.now(UTC).year
    for n in (1000, 1001):  # new citers are new papers, as they mostly are
        paper = fake_api.corpus.s2_papers[fake_api.corpus.resolve_s2(f"DOI:10.5555/citer.{n}")]
        paper.update(year=this_year, publicationDate=f"{this_year}-01-15")
        for work in fake_api.corpus.oa_works.values():
            if work["doi"].endswith(f"citer.{n}"):
                work.update(publication_year=this_year, publication_date=f"{this_year}-01-15")
    fake_api.clear_requests()

    result = run_cli("refresh", "brainwash", "--out", str(world), "--quiet")
    assert result.code == 0, result.err
    new_lines = [ln.split("  ") for ln in result.out.splitlines()]
    assert sorted((f[3], f[-1]) for f in new_lines if f[0] == "NEW" and f[3] != "-") == [
        (str(this_year), "Citing paper number 1000"),
        (str(this_year), "Citing paper number 1001"),
    ]
    # The count check in each source, one page of each citation list's recent years, nothing
    # else: the new papers' authorships came with the OpenAlex list, and no known paper was
    # looked up again.
    seen = [r.path + json.dumps(r.query) for r in fake_api.requests_to(r".")]
    assert len(seen) == 4, seen
    assert sum("/paper/batch" in s or "openalex:" in s for s in seen) == 2
    lists = [r for r in fake_api.requests_to(r".") if r.path.endswith("/citations")
             or "cites:" in (r.param("filter") or "")]
    assert len(lists) == 2
    # Both read from a year before the last full read (a moment ago) on.
    spec = lists[0].param("publicationDateOrYear") or ""
    assert spec.endswith(":")
    start = date.fromisoformat(spec[:-1])
    assert abs((datetime.now(UTC).date() - start) - RECENT_WINDOW) <= timedelta(days=1)
    assert f"from_publication_date:{start.isoformat()}" in (lists[1].param("filter") or "")
    after = json.loads(report.read_text(encoding="utf-8"))
    assert after != before
    assert "Citing paper number 1000" in csv.read_text(encoding="utf-8")
    assert (world / "index.html").is_file()


def test_new_citers_from_earlier_years_are_found_by_a_full_read_at_once(
    world: Path, fake_api: FakeApi
) -> None:
    """Papers indexed late carry old years: the recent years' read finds fewer new papers than
    the counts grew by, so the whole list is read in the same run."""
    assert run_cli("refresh", "brainwash", "--out", str(world), "--quiet").code == 0
    origin = fake_api.corpus.resolve_s2("CorpusId:206593654")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 2)  # published 2021 and 2022
    result = run_cli("refresh", "brainwash", "--out", str(world), "--quiet")
    assert result.code == 0, result.err
    assert "Citing paper number 1000" in result.out and "Citing paper number 1001" in result.out


def test_a_failing_source_keeps_previous_reports(world: Path, fake_api: FakeApi) -> None:
    assert run_cli("refresh", "brainwash", "--out", str(world), "--quiet").code == 0
    report = world / "brainwash" / "brainwash.html"
    kept = report.read_bytes()
    origin = fake_api.corpus.resolve_s2("CorpusId:206593654")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 1)
    fake_api.inject(r"^/graph/v1/paper/.*/citations", times=None, status=503)
    result = run_cli("refresh", "brainwash", "--out", str(world), "--quiet")
    assert result.code == ExitCode.PARTIAL
    assert "brainwash" in result.err and "Semantic Scholar" in result.err
    assert "Traceback" not in result.err
    assert report.read_bytes() == kept


def test_bad_arguments_are_usage_errors(world: Path) -> None:
    assert run_cli("refresh").code == ExitCode.USAGE
    assert run_cli("refresh", "brainwash", "--all").code == ExitCode.USAGE
    result = run_cli("refresh", "brainwash", "--formats", "pdf")
    assert result.code == ExitCode.USAGE and "pdf" in result.err


def test_two_refreshes_started_together(world: Path, fake_api: FakeApi, tmp_path: Path) -> None:
    """One runs; the other exits with the lock code at once."""
    fake_api.inject(r".", kind="delay", delay=1.5, times=None)
    env = dict(os.environ)
    command = [sys.executable, "-m", "tracer", "refresh", "brainwash", "--quiet"]
    first = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lock = Path(env["TRACER_DB"] + ".refresh-lock")  # beside the database
    deadline = time.monotonic() + 30
    while not fake_api.requests_to(r".") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lock.exists()
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == ExitCode.LOCKED, second.stderr
    assert first.poll() is None  # it did not wait for the first to finish
    assert "lock" in second.stderr and "Traceback" not in second.stderr
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err


def test_full_every_zero_reads_a_changed_list_in_full(world: Path, fake_api: FakeApi) -> None:
    assert run_cli("refresh", "brainwash", "--out", str(world), "--quiet").code == 0
    origin = fake_api.corpus.resolve_s2("CorpusId:206593654")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 1)
    fake_api.clear_requests()
    run = run_cli("refresh", "brainwash", "--out", str(world), "--quiet", "--full-every", "0")
    assert run.code == 0, run.err
    lists = fake_api.requests_to(r"/citations$")
    assert lists and all(r.param("publicationDateOrYear") is None for r in lists)


def test_a_refresh_judges_again_only_the_papers_whose_inputs_changed(
    world: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verdict keeps a digest of what it was drawn from: a refresh that finds two new citers
    judges those two (and any paper whose evidence moved), not the whole dataset again, and
    every stored verdict is still the one a judgement from scratch gives."""
    import tracer.scan
    from tracer.catalog import load_catalog
    from tracer.config import load_settings
    from tracer.store import Store
    from tracer.usage import DatasetTerms, judge_paper

    judged: list[int] = []

    def counting(terms: DatasetTerms, paper: dict[str, object], rows: list[object],
                 *rest: object) -> object:
        judged.append(int(str(paper["id"])))
        return judge_paper(terms, paper, rows, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(tracer.scan, "judge_paper", counting)
    assert run_cli("refresh", "brainwash", "--out", str(world), "--quiet").code == 0
    first = len(judged)
    origin = fake_api.corpus.resolve_s2("CorpusId:206593654")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 2)
    judged.clear()
    result = run_cli("refresh", "brainwash", "--out", str(world), "--quiet")
    assert result.code == 0, result.err
    assert 2 <= len(judged) < first, (len(judged), first)

    settings = load_settings()
    catalog = load_catalog(settings.catalog_path)
    terms = DatasetTerms.for_dataset(catalog.get("brainwash"), catalog)  # as a scan builds them
    with Store(settings.database) as store:
        rows = store.conn.execute(
            "SELECT paper_id, level, score FROM dataset_papers WHERE dataset = 'brainwash'"
        ).fetchall()
        stored = {r[0]: (r[1], r[2]) for r in rows}
        assert len(stored) == first + 2
        for paper_id, paper, evidence, _ in store.judge_inputs("brainwash"):
            verdict = judge_paper(terms, paper, evidence)
            assert stored[paper_id] == (verdict.level, round(verdict.score, 4)), paper_id
