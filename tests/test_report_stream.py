"""The report files of a refresh, written from one pass over the papers (tracer.render.stream),
are the files each renderer writes from the whole report, whatever the corpus holds: more
papers than a chunk of the store's reads, ties in every ordering, a paper without authors,
hostile titles, watchlists the project does not know, scores the two JSON encoders write
differently, no paper at all."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.report_corpus import DATASET, ENTITY, MEGVII, NUDT, STANFORD, build_store
from tracer.records import Author, Work
from tracer.render.formats import REPORT_FORMATS, SUFFIXES, render_report, write_reports
from tracer.report import build_report
from tracer.store import Store, report_queries

POLICE = {"list": "police-security", "label": "Police and public security", "category": None,
          "source": "https://example.org/police", "start": "2018", "end": None}
FCC = {"list": "fcc-covered", "label": "FCC Covered List", "category": None,
       "source": "https://www.fcc.gov/supplychain/coveredlist", "start": "2021-03", "end": None}
BUREAU = {"raw": "Public Security Bureau, Shenzhen", "institution_id": None,
          "institution_name": "Shenzhen Public Security Bureau", "country": "CN",
          "sector": "government", "flags": [POLICE], "confidence": 0.9, "method": "ror-fuzzy"}
# Hikvision listed on two lists the project knows and one it does not: three flag columns.
HIKVISION = {"raw": "Hikvision Research Institute, Hangzhou", "institution_id": "I4210100000",
             "institution_name": "Hikvision", "country": "CN", "sector": "commercial",
             "flags": [ENTITY, FCC], "confidence": 0.95, "method": "openalex"}
TITLES = [
    "| pipes | and *stars* and [links](javascript:alert(1)) # !",
    "\x1b]0;owned\x07Escapes\x1b[2J\r\nFAKE: line",
    "=cmd|' /C calc'!A0",
    "Ünïcödé 中文 titles — with “quotes” & <b>tags</b>",
]


def _add(store: Store, run: int, n: int, *, year: int | None, authors: list[tuple[str, list[dict]]],
         title: str, level: str | None, score: float | None, date: str | None = None) -> None:
    work = Work(source="openalex", title=title, year=year, publication_date=date,
                venue="Venue | x", doi=f"10.2000/extra.{n}", openalex_id=f"W9{n:04d}")
    paper_id, _ = store.upsert_work(work)
    store.link("brainwash", paper_id, run, None)
    if level:
        store.save_judgement("brainwash", paper_id, level=level, score=score,
                             evidence=[{"kind": "context", "text": f"We use it {title}",
                                        "source": "s2", "matched": "Brainwash"}],
                             reasons=["name-in-context"])
    store.save_authors(paper_id, [Author(name=name, position=i, raw_affiliations=[a["raw"] for a in affs])
                                  for i, (name, affs) in enumerate(authors)], "openalex", 2)
    for i, (_, affs) in enumerate(authors):
        store.save_affiliations(paper_id, i, affs)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = build_store(tmp_path / "t.db")
    groups = [[NUDT], [MEGVII, HIKVISION], [BUREAU], [STANFORD], [HIKVISION], []]
    run = s.start_run("brainwash", "scan")
    for n in range(37):
        affs = groups[n % len(groups)]
        authors = [] if n % 9 == 4 else [(f"Author {n}-{k}", affs) for k in range(1 + n % 3)]
        _add(s, run, n, year=None if n % 11 == 0 else 2016 + n % 4, authors=authors,
             title=f"{TITLES[n % len(TITLES)]} {n}", level=(None, "used", "cited", "mentioned")[n % 4],
             # equal scores and years: ties broken by paper id; 5e-05 is written apart by orjson
             score=0.00005 if n % 7 == 0 else 0.5, date=f"{2016 + n % 4}-0{1 + n % 9}")
    s.finish_run(run, "ok", requests={})
    yield s
    s.close()


def _written(store: Store, folder: Path, dataset=DATASET) -> dict[str, str]:
    write_reports(store, dataset, folder, REPORT_FORMATS)
    return {fmt: (folder / f"{dataset.key}{SUFFIXES[fmt]}").read_bytes().decode("utf-8")
            for fmt in REPORT_FORMATS}


@pytest.mark.parametrize("chunk", [3, 7, 500])
def test_streamed_files_are_the_whole_reports_text(
    store: Store, tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_queries, "CHUNK", chunk)
    report = build_report(store, DATASET)
    assert report.total_papers == 47
    written = _written(store, tmp_path / "out")
    for fmt in REPORT_FORMATS:
        assert written[fmt] == render_report(report, fmt), fmt


@pytest.mark.parametrize("kernel", ["refuses", "absent"])
def test_spools_copied_by_hand_where_the_kernel_cannot(
    store: Store, tmp_path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON papers and the CSV rows are copied from their spools by copy_file_range; where
    it fails (another file system) or is missing (another platform), by read and write."""
    import os

    expected = _written(store, tmp_path / "kernel")
    if kernel == "absent":
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    else:
        def refuse(*_args: object) -> int:
            raise OSError(18, "Invalid cross-device link")

        monkeypatch.setattr(os, "copy_file_range", refuse)
    monkeypatch.setattr("tracer.render._BUFFER", 64)  # several reads and writes per spool
    assert _written(store, tmp_path / "by-hand") == expected


def test_cells_the_csv_module_quotes_after_the_flag_columns(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracer.report

    links_for = tracer.report.links_for
    monkeypatch.setattr(tracer.report, "links_for",
                        lambda ids: [*links_for(ids), 'https://example.org/a,"b"\r\nc'])
    report = build_report(store, DATASET)
    written = _written(store, tmp_path / "out")
    assert written["csv"] == render_report(report, "csv")
    assert '"b""' in written["csv"]


def test_lists_the_project_does_not_know_get_their_columns_in_order_of_papers(
    store: Store, tmp_path: Path
) -> None:
    text = _written(store, tmp_path / "out")["csv"]
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    columns = list(rows[0])
    known = columns.index("flag_dod_1260h")
    # FCC (on 12 papers' Hikvision) before police (6 papers' bureau): by papers, after the known.
    assert columns[known + 1 : known + 3] == ["flag_fcc_covered", "flag_police_security"]
    assert columns[known + 3] == "has_affiliation"
    on_fcc = [r for r in rows if r["flag_fcc_covered"] == "True"]
    assert on_fcc and all("Hikvision" in r["institutions"] for r in on_fcc)
    assert sum(r["flag_police_security"] == "True" for r in rows) == 6
    assert any(r["title"] == "'=cmd|' /C calc'!A0 2" for r in rows)  # a formula stays text


def test_hostile_titles_stay_text_in_every_streamed_file(store: Store, tmp_path: Path) -> None:
    written = _written(store, tmp_path / "out")
    for fmt, text in written.items():
        assert "\x1b" not in text and "\x07" not in text, fmt
    assert "<b>tags</b>" not in written["html"] and "&lt;b&gt;tags&lt;/b&gt;" in written["html"]
    assert "javascript:alert" not in written["html"].replace("](javascript:alert", "")
    assert "\\[links\\](javascript:alert(1))" in written["md"]  # not a link
    assert "[links](" not in written["md"].replace("\\[links\\](", "")
    papers = json.loads(written["json"])["papers"]
    assert len(papers) == 47 and {p["title"] for p in papers} >= {TITLES[0] + " 0", TITLES[3] + " 3"}
    assert any(p["authors"] == [] for p in papers)


def test_one_pass_over_the_papers_feeds_every_format(store: Store, tmp_path: Path) -> None:
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    write_reports(store, DATASET, tmp_path / "out", REPORT_FORMATS)
    store.conn.set_trace_callback(None)
    assert sum("FROM papers p JOIN dataset_papers" in s for s in statements) == 1
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no leftovers


def test_a_dataset_without_papers_gets_the_empty_reports(store: Store, tmp_path: Path) -> None:
    empty = dataclasses.replace(DATASET, key="nothing", name="Nothing")
    report = build_report(store, empty)
    assert report.total_papers == 0
    written = _written(store, tmp_path / "out", empty)
    for fmt in REPORT_FORMATS:
        assert written[fmt] == render_report(report, fmt), fmt
    assert written["csv"] == "\ufeff\r\n"
    assert json.loads(written["json"])["papers"] == []


@pytest.mark.parametrize("chunk", [3, 500])
def test_rows_written_whole_when_one_list_the_project_does_not_know_is_left(
    store: Store, tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the FCC list is left unknown: the CSV's columns are known before the pass.
    monkeypatch.setattr(report_queries, "CHUNK", chunk)
    store.conn.execute("UPDATE affiliations SET flags = '[]' WHERE flags LIKE '%police-security%'")
    store.conn.commit()
    report = build_report(store, DATASET)
    assert [f.list for f in report.flag_lists if f.list == "police-security"] == []
    written = _written(store, tmp_path / "out")
    for fmt in REPORT_FORMATS:
        assert written[fmt] == render_report(report, fmt), fmt
    header = written["csv"].removeprefix("\ufeff").split("\r\n", 1)[0].split(",")
    assert "flag_fcc_covered" in header and "flag_police_security" not in header


def test_each_papers_json_item_is_the_encoders_own(store: Store) -> None:
    from tracer.render.tables import PaperJson, json_paper

    report = build_report(store, DATASET)
    # The store keeps four decimals: a score below 1e-4 (which orjson writes 0.00005 and the
    # standard encoder 5e-05) only comes from elsewhere; so does a title that says 0.0000.
    report.papers[1].score = 0.00005
    report.papers[2].title = "Accuracy 0.0000 on the test split"
    items = PaperJson()
    for n, paper in enumerate(report.papers):
        assert items.item(paper, n == 0) == json_paper(paper, n == 0), paper.paper_id
    assert b'"score": 5e-05' in items.item(report.papers[1], False)


def test_the_figures_rank_papers_as_their_rows_do(store: Store) -> None:
    from tracer.report import figures_relevance, paper_figures, relevance

    report = build_report(store, DATASET)
    rows = {p.paper_id: p for p in report.papers}
    figures = list(paper_figures(report_queries.report_rows(store, DATASET.key), DATASET))
    assert [f.paper_id for f in figures] == [p.paper_id for p in report.papers]
    for f in figures:
        assert figures_relevance(f) == relevance(rows[f.paper_id])
        assert f.countries == rows[f.paper_id].countries
        assert f.author_affiliations == rows[f.paper_id].author_affiliations


def test_the_terminal_report_builds_rows_only_for_the_papers_it_shows(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracer.report
    from tracer.render.terminal import LIST_LIMIT, PAPERS_LIMIT, terminal_report

    whole = build_report(store, DATASET)
    shown = {p.paper_id for p in whole.by_relevance()[:PAPERS_LIMIT]}
    shown |= {pid for inst in whole.flagged for pid in inst.paper_ids[:LIST_LIMIT]}
    shown |= set(whole.withdrawal.paper_ids[:LIST_LIMIT])
    built: list[int] = []
    load_papers = tracer.report.load_papers

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        for paper in load_papers(*args, **kwargs):
            built.append(paper.paper_id)
            yield paper

    monkeypatch.setattr(tracer.report, "load_papers", counting)
    summary = terminal_report(store, DATASET)
    assert summary.total_papers == whole.total_papers == 47
    assert sorted(built) == sorted(shown) and len(shown) < 47
    assert [p.paper_id for p in summary.by_relevance()] == [
        p.paper_id for p in whole.by_relevance()[:PAPERS_LIMIT]]


def test_an_affiliation_written_after_the_rows_were_numbered_is_read_whole(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The authorships' read gives each affiliation the number of its row among those
    numbered when the read began; a row written between the numbering and that read has no
    number and comes with its own columns, and the report shows what it says."""
    plain = report_queries._tuples

    def write_between(conn, sql, params):  # type: ignore[no-untyped-def]
        if "LEFT JOIN temp." in sql:
            conn.execute(
                "UPDATE affiliations SET institution_name = 'Written Since Institute'"
                " WHERE institution_name = 'Stanford University'"
            )
        return plain(conn, sql, params)

    before = build_report(store, DATASET)
    assert "Written Since Institute" not in json.dumps(before.to_dict())
    monkeypatch.setattr(report_queries, "_tuples", write_between)
    report = build_report(store, DATASET)
    stanford_papers = [p for p in before.papers if "Stanford University" in p.institutions]
    assert stanford_papers
    for paper in stanford_papers:
        institutions = report.paper(paper.paper_id).institutions
        assert "Written Since Institute" in institutions
        assert "Stanford University" not in institutions
