"""The report model over a Brainwash-like store: counts, counting rules, filters, findings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fault_table import record
from tests.report_corpus import DATASET, FORMULA_TITLE, SCRIPT_TITLE, build_store
from tracer.catalog import Status
from tracer.errors import UsageError
from tracer.records import Work
from tracer.report import after_date, build_report
from tracer.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = build_store(tmp_path / "t.db")
    yield s
    s.close()


def by_key(rows: list) -> dict:  # type: ignore[type-arg]
    return {r.key: r for r in rows}


def test_counts_by_usage_level_and_headline_say_which_levels(store: Store) -> None:
    report = build_report(store, DATASET)
    assert report.total_papers == 10
    assert {r.key: r.papers for r in report.by_level} == {
        "used": 4,
        "mentioned": 2,
        "cited": 3,
        "not judged": 1,
    }
    assert "all usage levels" in report.headline and "10 papers" in report.headline
    used = build_report(store, DATASET, min_usage="used")
    assert used.total_papers == 4 and "judged used" in used.headline
    mentioned = build_report(store, DATASET, min_usage="mentioned")
    assert {r.key for r in mentioned.by_level} == {"used", "mentioned"}
    assert mentioned.total_papers == 6
    cited = build_report(store, DATASET, min_usage="cited")
    assert cited.total_papers == 9  # every judged paper; the unjudged one is left out


def test_whole_and_fractional_counting_by_country(store: Store) -> None:
    report = build_report(store, DATASET)
    countries = by_key(report.countries)
    # Whole: a paper counts once per country among its affiliations.
    assert countries["CN"].papers == 6
    assert countries["US"].papers == 5
    assert countries["unknown"].papers == 1  # the paper without any affiliation
    # Fractional: "Head detection" has author 1 at NUDT and Tsinghua (both CN) and author 2 at
    # Stanford: CN 1/2, US 1/2. "Dense pedestrian": 2/3 CN, 1/3 US. Shares add up to 10 papers.
    assert sum(r.fractional for r in report.countries) == pytest.approx(10, abs=0.01)
    assert countries["CN"].fractional == pytest.approx(1 + 0.5 + 2 / 3 + 1 + 0.5 + 1, abs=1e-3)
    assert countries["unknown"].fractional == pytest.approx(1.5, abs=1e-3)
    assert "Whole counting" in report.counting_rules and "Fractional" in report.counting_rules


def test_paper_without_affiliation_is_counted_as_such_never_guessed(store: Store) -> None:
    report = build_report(store, DATASET)
    nothing = next(p for p in report.papers if p.title == "A paper without any affiliation")
    assert nothing.countries == [] and nothing.institutions == [] and nothing.sectors == []
    assert report.missing.papers_without_affiliation == [nothing.paper_id]
    assert report.missing.unresolved_affiliations == 1
    assert report.missing.unresolved_examples == ["Dept. of Imaging, Somewhere"]


def test_sectors_institutions_and_flags(store: Store) -> None:
    report = build_report(store, DATASET)
    sectors = by_key(report.sectors)
    assert sectors["military"].papers == 2 and sectors["commercial"].papers == 2
    assert sum(r.fractional for r in report.sectors) == pytest.approx(10, abs=0.01)
    institutions = {i.name: i for i in report.institutions}
    assert institutions["Stanford University"].papers == 5
    assert institutions["Megvii (China)"].sector == "commercial"
    flagged = {i.name: [f.list for f in i.flags] for i in report.flagged}
    assert flagged == {
        "National University of Defense Technology": ["aspi-cdut"],
        "Megvii (China)": ["us-entity-list"],
    }
    megvii = institutions["Megvii (China)"]
    titles = {report.paper(pid).title for pid in megvii.paper_ids}
    assert titles == {"Dense pedestrian detection", "Crowd analysis with unresolved affiliation"}
    assert all(report.paper(pid).evidence for pid in megvii.paper_ids)


def test_use_after_withdrawal_counts_only_papers_certainly_later(store: Store) -> None:
    report = build_report(store, DATASET)
    late = {report.paper(pid).title for pid in report.withdrawal.paper_ids}
    # 2019-09-12, 2020, 2021, 2022 are after 2019-06; "Scene understanding" (2019, no month)
    # and 2019-02-01 are not counted.
    assert late == {
        "Dense pedestrian detection",
        SCRIPT_TITLE,
        "Crowd analysis with unresolved affiliation",
        "A paper not yet judged",
    }
    assert report.withdrawal.papers == 4
    assert report.withdrawal.by_level["used"] == 1
    available = replace(DATASET, status=Status(state="available"))
    assert build_report(store, available).withdrawal.papers == 0


@pytest.mark.parametrize(
    ("date", "year", "cutoff", "after"),
    [
        ("2019-07-01", 2019, "2019-06", True),
        ("2019-06-30", 2019, "2019-06", False),
        (None, 2019, "2019-06", False),
        (None, 2020, "2019-06", True),
        ("2019-06-02", 2019, "2019-06-01", True),
        (None, None, "2019", False),
    ],
)
def test_after_date_compares_at_the_coarser_precision(
    date: str | None, year: int | None, cutoff: str, after: bool
) -> None:
    assert after_date(date, year, cutoff) is after


def test_licence_against_user_lists_commercial_and_military_users(store: Store) -> None:
    report = build_report(store, DATASET)
    assert report.licence.applies
    assert {i.name for i in report.licence.institutions} == {
        "National University of Defense Technology",
        "Megvii (China)",
    }
    assert report.licence.papers == 4
    open_licence = replace(DATASET, licence_terms="commercial")
    finding = build_report(store, open_licence).licence
    assert not finding.applies and finding.institutions == [] and finding.papers == 0


def test_filters_by_year_and_country(store: Store) -> None:
    recent = build_report(store, DATASET, years=(2019, 2020))
    assert sorted(p.year or 0 for p in recent.papers) == [2019, 2019, 2019, 2020]
    assert "published 2019-2020" in recent.headline
    us = build_report(store, DATASET, country="us")
    assert us.total_papers == 5 and all("US" in p.countries for p in us.papers)
    with pytest.raises(UsageError):
        build_report(store, DATASET, country="USA")
    with pytest.raises(UsageError):
        build_report(store, DATASET, years=(2021, 2019))
    with pytest.raises(UsageError):
        build_report(store, DATASET, min_usage="loved")


def test_missing_section_lists_capped_lists_failed_runs_and_vanished_papers(store: Store) -> None:
    run = store.start_run("brainwash", "refresh")
    kept, _ = store.upsert_work(
        Work(source="s2", title="Crowd counting with deep heads", year=2017, doi="10.1000/nudt.1")
    )
    store.link("brainwash", kept, run, None)
    store.finish_run(run, "partial", requests={}, error="openalex: 503 after 5 retries")
    # An earlier complete run read their lists again in full and found them no more.
    store.conn.execute(
        "UPDATE dataset_papers SET missing_since_run = ? WHERE paper_id != ?", (run, kept)
    )
    report = build_report(store, DATASET)
    assert report.total_papers == 10  # nothing found is dropped
    assert len(report.missing.papers_marked_missing) == 9
    assert [r.status for r in report.missing.failed_runs] == ["partial"]
    assert report.header.last_run is not None and report.header.last_run.status == "partial"
    assert report.header.last_complete_run is not None
    assert [c.target for c in report.missing.capped] == ["Brainwash dataset"]
    assert report.missing.papers_not_judged == [report.papers[-1].paper_id]


def test_to_dict_is_json_and_carries_every_documented_key(store: Store) -> None:
    data = json.loads(json.dumps(build_report(store, DATASET).to_dict()))
    documented = Path(__file__).resolve().parents[1] / "docs" / "json-report.md"
    text = documented.read_text(encoding="utf-8")
    for key in data:
        assert f"`{key}`" in text, f"{key} is not documented in docs/json-report.md"
    for key in data["papers"][0]:
        assert f"`{key}`" in text, f"papers[].{key} is not documented"
    assert data["version"] == 1
    titles = [p["title"] for p in data["papers"]]
    assert SCRIPT_TITLE in titles and FORMULA_TITLE in titles


def test_listed_then_compares_listing_dates_with_publication() -> None:
    from tracer.report import Flag, PaperRow, listed_then

    entity = Flag("us-entity-list", "US Commerce Entity List", None, None, "2019-10", None)
    ended = Flag("dod-1260h", "1260H", None, None, "2024-01-31", "2025-01-07")
    pla = Flag("pla-university", "PLA", "Military", None, None, None)

    def paper(date: str | None, year: int | None) -> PaperRow:
        row = PaperRow.__new__(PaperRow)
        row.publication_date, row.year = date, year
        return row

    assert listed_then([entity], paper("2020-03-01", 2020)) == "yes"
    assert listed_then([entity], paper("2018-05-01", 2018)) == "no"
    assert listed_then([entity], paper(None, 2019)) == "?"  # 2019 against 2019-10: cannot tell
    assert listed_then([ended], paper("2025-06-01", 2025)) == "no"  # taken off the list
    assert listed_then([ended, entity], paper("2024-06-01", 2024)) == "yes"
    assert listed_then([pla], paper("2018-05-01", 2018)) == ""  # no dates to compare
    assert listed_then([entity], paper(None, None)) == "?"
    # A listing on a dated list whose date is not known (Sichuan University's on the Entity
    # List) may have been in force: "?", never "no", beside another listing that was not.
    undated = Flag("us-entity-list", "US Commerce Entity List", None, None, None, None)
    later = Flag("dod-1260h", "1260H", None, None, "2021-06-03", None)
    assert listed_then([undated, later], paper("2018-05-01", 2018)) == "?"
    assert listed_then([undated, later], paper("2022-05-01", 2022)) == "yes"
    assert listed_then([undated], paper("2018-05-01", 2018)) == "?"
    assert listed_then([pla, later], paper("2018-05-01", 2018)) == "no"  # ASPI-like: no dates


def test_report_reads_runs_and_coverage_once_and_sql_stays_in_the_store(store: Store) -> None:
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    build_report(store, DATASET)
    store.conn.set_trace_callback(None)
    assert sum("FROM runs" in s for s in statements) == 1
    assert sum("FROM coverage" in s for s in statements) == 1
    source = (Path(__file__).resolve().parents[1] / "tracer" / "report.py").read_text()
    assert "SELECT" not in source and ".execute(" not in source


HOSTILE = "\x1b]0;owned\x07Head \x1b]52;c;ZXZpbA==\x07counting\x1b[2J\r\nFAKE: line\x9b2J end"


def test_control_characters_and_escapes_never_leave_api_text(tmp_path: Path) -> None:
    from tracer.render.formats import render_report

    with build_store(tmp_path / "t.db") as store:
        run = store.start_run("brainwash", "scan")
        pid, _ = store.upsert_work(Work(source="s2", title=HOSTILE, year=2023, doi="10.1/x"))
        store.link("brainwash", pid, run, None)
        store.finish_run(run, "partial", requests={}, error="s2: 400 \x1b[31mred\x1b[0m\nbody")
        report = build_report(store, DATASET)
    paper = next(p for p in report.papers if p.paper_id == pid)
    assert paper.title == "Head counting FAKE: line end"
    assert report.missing.failed_runs[-1].error == "s2: 400 red body"
    for fmt in ("terminal", "md", "csv", "json", "html"):
        text = render_report(report, fmt)
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, fmt
        assert "owned" not in text and "ZXZpbA" not in text, fmt
        assert "\n" + "FAKE" not in text, fmt  # no forged line
        record("faults", f"escapes in a title: {fmt}", "report", "stripped", 0)


def test_after_date_and_paper_key() -> None:
    from tracer.report import paper_key

    assert paper_key({"doi": ["10.1/ABC"], "arxiv": ["1801.1"]}) == "doi:10.1/abc"
    assert paper_key({"arxiv": ["1801.1"], "s2": ["abc"]}) == "arxiv:1801.1"
    assert paper_key({"openalex": ["W1"], "s2": ["abc"]}) == "s2:abc"
    assert paper_key({"openalex": ["W1"]}) == "openalex:W1"
    assert paper_key({}) is None


def test_country_filter_must_be_an_iso_code(store: Store) -> None:
    with pytest.raises(UsageError, match="not an ISO 3166-1 alpha-2"):
        build_report(store, DATASET, country="XX")
    assert build_report(store, DATASET, country="cn").filters.country == "CN"
    with pytest.raises(UsageError) as uk:
        build_report(store, DATASET, country="UK")
    assert uk.value.hint == "The United Kingdom's code is GB."
