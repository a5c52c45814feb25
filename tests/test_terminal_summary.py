"""The terminal report from `build_summary` (what `tracer scan` prints) is the text the whole
report model prints, on stores with flags, filters, ties of relevance and a late flag."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tests.report_corpus import ASPI, DATASET, MEGVII, NUDT, STANFORD, TSINGHUA, UNRESOLVED
from tests.report_corpus import build_store as build_small_store
from tracer.records import Author, Work
from tracer.render import terminal
from tracer.render.terminal import print_report, terminal_report
from tracer.report import Report, build_report
from tracer.store import Store

# One institution under two strings: the first without a flag, the second (from paper 40 on)
# with one, so the institution is flagged only after some of its first papers have gone by.
HARBIN = {
    "raw": "Harbin Institute of Technology",
    "institution_id": "https://ror.org/01yqg2h08",
    "institution_name": "Harbin Institute of Technology",
    "country": "CN",
    "sector": "academic",
    "flags": [],
    "confidence": 1.0,
    "method": "openalex",
}
HARBIN_FLAGGED = {**HARBIN, "raw": "Harbin Institute of Technology, Harbin", "flags": [ASPI]}
LEVELS = ("used", "mentioned", "cited", None)


def build_tied_store(path: Path, papers: int = 160) -> Store:
    """`papers` papers whose relevance ties often (few scores and years), with flagged and
    unflagged institutions, papers after the withdrawal, and the late flag above."""
    store = Store(path)
    run = store.start_run("brainwash", "scan")
    for n in range(papers):
        year = None if n % 17 == 0 else 2016 + n % 7
        work = Work(
            source="openalex",
            title=f"Paper {n} on crowds",
            year=year,
            publication_date=f"{year}-0{1 + n % 9}-01" if year and n % 3 else None,
            venue="CVPR",
            doi=f"10.1000/tied.{n}",
            openalex_id=f"W{n + 1}",
            s2_paper_id=f"s2tied{n}",
        )
        paper_id, _ = store.upsert_work(work)
        store.link("brainwash", paper_id, run, None)
        level = LEVELS[n % 4]
        if level:
            store.save_judgement(
                "brainwash", paper_id, level=level, score=(0.5, 0.7, 0.9)[n % 3],
                evidence=[{"kind": "context", "text": f"We train on Brainwash ({n}).",
                           "source": "s2", "matched": "Brainwash"}],
                reasons=["name-in-context"],
            )  # fmt: skip
        harbin = HARBIN_FLAGGED if n >= 40 else HARBIN
        choices: list[list[dict[str, Any]]] = [
            [NUDT], [STANFORD, TSINGHUA], [MEGVII], [], [UNRESOLVED], [harbin], [STANFORD],
        ]
        affs = [choices[(n + i) % len(choices)] for i in range(1 + n % 3)]
        authors = [
            Author(name=f"Author {n}.{i}", position=i, raw_affiliations=[a["raw"] for a in a_affs])
            for i, a_affs in enumerate(affs)
        ]
        store.save_authors(paper_id, authors, "openalex", 2)
        store.mark_looked_up(paper_id, "openalex")
        for i, a_affs in enumerate(affs):
            store.save_affiliations(paper_id, i, a_affs)
    store.finish_run(run, "ok", requests={"openalex": {"works": 2}})
    return store


def text_of(report: Report) -> str:
    out = io.StringIO()
    print_report(report, Console(file=out, width=100, force_terminal=True, color_system="standard"))
    return out.getvalue()


@pytest.fixture
def tied(tmp_path: Path) -> Iterator[Store]:
    s = build_tied_store(tmp_path / "tied.db")
    yield s
    s.close()


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Store]:
    s = build_small_store(tmp_path / "small.db")
    yield s
    s.close()


FILTERS: list[dict[str, Any]] = [
    {},
    {"min_usage": "used"},
    {"min_usage": "mentioned"},
    {"min_usage": "cited"},
    {"years": (2018, 2020)},
    {"years": (None, 2018), "country": "CN"},
    {"country": "US"},
    {"country": "FR"},  # no paper left
]


@pytest.mark.parametrize("filters", FILTERS)
def test_summary_prints_what_the_whole_report_prints(
    tied: Store, small: Store, filters: dict[str, Any]
) -> None:
    for store in (tied, small):
        whole = text_of(build_report(store, DATASET, **filters))
        assert text_of(terminal_report(store, DATASET, **filters)) == whole


@pytest.mark.parametrize("limits", [(1, 1), (3, 2), (7, 5)])
def test_summary_keeps_the_same_papers_with_short_lists(
    tied: Store, monkeypatch: pytest.MonkeyPatch, limits: tuple[int, int]
) -> None:
    # Short lists: ties of relevance and the late-flagged institution decide what is shown.
    monkeypatch.setattr(terminal, "PAPERS_LIMIT", limits[0])
    monkeypatch.setattr(terminal, "LIST_LIMIT", limits[1])
    for filters in FILTERS:
        whole = build_report(tied, DATASET, **filters)
        summary = terminal_report(tied, DATASET, **filters)
        assert text_of(summary) == text_of(whole), filters
        assert [p.paper_id for p in summary.by_relevance()] == [
            p.paper_id for p in whole.by_relevance()[: limits[0]]
        ]


def test_summary_holds_only_the_papers_it_shows(tied: Store) -> None:
    whole = build_report(tied, DATASET)
    summary = terminal_report(tied, DATASET)
    assert summary.total_papers == whole.total_papers == 160
    harbin = next(i for i in summary.flagged if i.name.startswith("Harbin"))
    assert harbin.paper_ids[0] < 40  # flagged, but its first papers came before the flag
    shown = {pid for inst in summary.flagged for pid in inst.paper_ids[: terminal.LIST_LIMIT]}
    shown |= set(summary.withdrawal.paper_ids[: terminal.LIST_LIMIT])
    shown |= {p.paper_id for p in summary.by_relevance()}
    assert {p.paper_id for p in summary.papers} == shown
    assert len(summary.papers) < whole.total_papers
    assert summary.countries == whole.countries and summary.institutions == whole.institutions
    assert summary.missing == whole.missing and summary.years == whole.years


def test_summary_refuses_what_needs_every_paper(small: Store) -> None:
    summary = terminal_report(small, DATASET)
    with pytest.raises(TypeError):
        summary.to_dict()
    with pytest.raises(ValueError, match="all-papers"):
        print_report(summary, Console(file=io.StringIO()), all_papers=True)
