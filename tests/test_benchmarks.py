"""The scan benchmark still runs and prints sane figures (so that it cannot rot unnoticed).

It runs `python -m benchmarks.scan --quick` on the smallest size with the naive client capped at
a few seconds, and checks what a reader of its output would: every run measured, the server's
log and tracer's counts agree, the lower bound is what the API limits give for this corpus, and
the naive client needs many more requests. The targets themselves are printed, not asserted.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import bounds
from benchmarks.synthetic import Shape, Synthetic, catalog
from tests.fakeapi.corpus import Corpus

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("semanticscholar", reason="the naive baseline needs the bench extra")
pytest.importorskip("pyalex", reason="the naive baseline needs the bench extra")


def test_synthetic_corpus_is_realistic() -> None:
    corpus = Corpus()
    syn = Synthetic(corpus, Shape(2000))
    per_paper = [len(p["authors"]) for p in corpus.s2_papers.values() if p["corpusId"] > 3e8]
    assert min(per_paper) == 1 and max(per_paper) == 12
    assert 3.5 <= sum(per_paper) / len(per_paper) <= 4.7
    raws = {
        a["raw_affiliation_strings"][0]
        for w in corpus.oa_works.values()
        for a in w.get("authorships") or []
    }
    assert any("National University of Defense Technology" in r for r in raws)
    assert any("Megvii" in r for r in raws)
    countries = {r.rsplit(", ", 1)[-1] for r in raws}
    assert len(countries) >= 15
    # The counts the lower bound rests on, seen from the corpus.
    seen = bounds.count(corpus, syn.ids, "Cafecam dataset")
    assert seen.s2_citations == len(corpus.s2_citations[syn.origin]) < 2000
    assert seen.openalex_works > seen.s2_citations  # preprint + proceedings pairs
    assert 0 < seen.outside_openalex < 0.1 * seen.s2_citations
    assert seen.mention_only == 20
    assert "key: cafecam" in catalog([syn])


def test_lower_bound_follows_the_api_limits() -> None:
    big = bounds.CorpusCounts(50_000, 50_000, 52_000, 450, 500, unenriched=300)
    bound = bounds.scan_bound(big)
    # Past the 9,999 cap S2's list is read in year slices: still 1,000 rows a page at best.
    assert bound.s2 == {"origin": 1, "citations": 50, "snippets": 1, "batch": 2}
    assert bound.openalex == {"origin": 1, "cites": 520, "dois": 10}
    assert bounds.refresh_unchanged_bound().total == 2
    grown = bounds.CorpusCounts(50_500, 50_500, 52_520, 455, 500, unenriched=303)
    assert bounds.refresh_new_bound(big, grown).total == 2 + 51 + 526 + 1


def test_the_bound_counts_what_year_slices_reach() -> None:
    """A list past the cap is read in full by year slices, except past 9,999 in a single year;
    the citers without institutions in OpenAlex are looked up in S2's batch."""
    corpus = Corpus()
    syn = Synthetic(corpus, Shape(0))
    syn.add_citers(11_000, years=(2020, 2020))
    syn.add_citers(3_000, years=(2021, 2022))
    seen = bounds.count(corpus, syn.ids, "Cafecam dataset")
    in_2020 = sum(
        1 for row in corpus.s2_citations[syn.origin]
        if corpus.s2_papers[row["citing"]]["year"] == 2020
    )
    assert in_2020 > 9_999 and seen.s2_citations > seen.s2_reachable
    assert seen.s2_reachable == seen.s2_citations - (in_2020 - 9_999)
    assert 0 < seen.unenriched <= seen.outside_openalex


def test_quick_benchmark_prints_sane_figures(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.scan",
            "--quick",
            "--naive-budget",
            "2",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed = proc.stdout
    assert "Targets (issue 9):" in printed and "naive client" in printed
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["machine"]["nproc"] >= 1
    (res,) = payload["results"]
    assert res["size"] == 230
    scan = res["scan"]
    assert scan["exit_code"] == 0
    assert scan["agree"], (scan["server"], scan["tracer_counts"])
    assert scan["scans"][0]["requests"] == scan["tracer_counts"]  # ScanResult says the same
    corpus = res["corpus"]
    assert scan["lower_bound"]["s2"]["citations"] == math.ceil(corpus["s2_reachable"] / 1000)
    assert scan["lower_bound"]["openalex"]["cites"] == math.ceil(corpus["openalex_works"] / 100)
    assert scan["requests"] >= scan["lower_bound"]["total"]  # no one beats the API's limits
    assert scan["papers_found"] >= corpus["s2_citations"]
    assert 0 < scan["wall_s"] < 120 and 0 < scan["cpu_s"] and 30 < scan["peak_rss_mb"] < 4096
    assert set(scan["stages"]) >= {"merge", "classify", "judge", "report"}
    assert 0 < scan["local_cpu_s"] <= scan["cpu_s"]
    naive = res["naive"]
    assert naive["agree"]
    assert naive["naive"]["citers"] == corpus["s2_citations"]
    projected = naive.get("extrapolated", {}).get("requests", naive["requests"])
    # The listing (100 per page) plus two lookups per citer, as the naive client is written.
    assert projected >= math.ceil(corpus["s2_citations"] / 100) + 1.8 * corpus["s2_citations"]
    assert projected > 10 * scan["requests"]
    for key in ("refresh_first", "refresh_unchanged", "refresh_new"):
        run = res[key]
        if "server" in run:  # once `tracer refresh` exists
            assert run["exit_code"] == 0 and run["agree"]
    if "server" in res["refresh_unchanged"]:
        assert res["refresh_new"]["requests"] > res["refresh_unchanged"]["requests"]
