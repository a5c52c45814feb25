"""Outputs of the report: every format lists the same figures; API text stays harmless."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from tests.helpers import run_cli
from tests.report_corpus import DATASET, FORMULA_TITLE, SCRIPT_TITLE, build_store
from tracer.render import write_atomic
from tracer.render.bibtex import to_bibtex
from tracer.render.markdown import md
from tracer.render.tables import safe_cell
from tracer.report import build_report

CATALOG = """\
datasets:
  - key: brainwash
    name: Brainwash
    mentions: [Brainwash dataset]
    fields_of_study: [Computer Science]
    licence: non-commercial research purposes only
    licence_terms: non-commercial
    status: {state: withdrawn, date: "2019-06"}
    origin_papers:
      - title: End-to-end people detection in crowded scenes
        year: 2016
        doi: 10.1109/cvpr.2016.255
        arxiv: "1506.04878"
        s2_corpus_id: 206593654
"""


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A filled database and a catalog; returns the --db/--catalog options for the CLI."""
    build_store(tmp_path / "t.db").close()
    (tmp_path / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps nothing at this width
    return ["--db", str(tmp_path / "t.db"), "--catalog", str(tmp_path / "catalog.yaml")]


def cli_ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.code == 0, result.err
    return result.out


def terminal_table(text: str, title: str) -> dict[str, list[str]]:
    """Rows of the table under `title` (no box; cells apart by two spaces or more): first cell
    -> the other cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(title))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 2 :]:
        if not line.strip() or line.startswith(("total:", "...")):
            break
        cells = [c.strip() for c in re.split(r"\s{2,}", line.strip())]
        rows[cells[0]] = cells[1:]
    return rows


def figures_from_terminal(text: str) -> dict[str, object]:
    levels = terminal_table(text, "Papers by usage level")
    countries = terminal_table(text, "Papers by country")
    sectors = terminal_table(text, "Papers by sector")

    def code(label: str) -> str:
        found = re.search(r"\((\w\w)\)$", label)
        return found.group(1) if found else label

    withdrawal = re.search(r"Withdrawn 2019-06: (\d+) papers? published after it", text)
    assert withdrawal
    return {
        "levels": {k: int(v[0]) for k, v in levels.items()},
        "countries": {code(k): (int(v[0]), round(float(v[1]), 2)) for k, v in countries.items()},
        "sectors": {k: (int(v[0]), round(float(v[1]), 2)) for k, v in sectors.items()},
        "total": int(re.search(r"Brainwash: (\d+) papers", text).group(1)),  # type: ignore[union-attr]
        "after_withdrawal": int(withdrawal.group(1)),
    }


def figures_from_json(data: dict) -> dict[str, object]:  # type: ignore[type-arg]
    return {
        "levels": {r["key"]: r["papers"] for r in data["by_level"]},
        "countries": {
            r["key"]: (r["papers"], round(r["fractional"], 2)) for r in data["countries"]
        },
        "sectors": {r["key"]: (r["papers"], round(r["fractional"], 2)) for r in data["sectors"]},
        "total": data["total_papers"],
        "after_withdrawal": data["withdrawal"]["papers"],
    }


def figures_from_csv(text: str) -> dict[str, object]:
    """Recount from the articles CSV alone (whole counting; the CSV has no author shares)."""
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    countries: Counter[str] = Counter()
    sectors: Counter[str] = Counter()
    for row in rows:
        for c in row["countries"].split("|") if row["countries"] else ["unknown"]:
            countries[c] += 1
        for s in row["sectors"].split("|") if row["sectors"] else ["unknown"]:
            sectors[s] += 1
    return {
        "levels": dict(Counter(row["usage_level"] for row in rows)),
        "countries": dict(countries),
        "sectors": dict(sectors),
        "total": len(rows),
        "after_withdrawal": sum(row["after_withdrawal"] == "True" for row in rows),
    }


def figures_from_html(text: str) -> dict[str, object]:
    def rows(attr: str) -> dict[str, tuple[int, float]]:
        pattern = rf'<tr data-{attr}="([^"]+)" data-whole="(\d+)" data-fractional="([\d.]+)">'
        return {k: (int(w), round(float(f), 2)) for k, w, f in re.findall(pattern, text)}

    total = re.search(r'id="total-papers" data-whole="(\d+)"', text)
    withdrawal = re.search(r'id="withdrawal" data-papers="(\d+)"', text)
    assert total and withdrawal
    return {
        "levels": {
            k: int(v) for k, v in re.findall(r'<tr data-level="([^"]+)" data-whole="(\d+)">', text)
        },
        "countries": rows("country"),
        "sectors": rows("sector"),
        "total": int(total.group(1)),
        "after_withdrawal": int(withdrawal.group(1)),
        "map": {
            k: int(v) for k, v in re.findall(r'data-country="(\w\w)" data-papers="(\d+)"', text)
        },
    }


def test_terminal_json_csv_and_html_list_the_same_counts(setup: list[str], tmp_path: Path) -> None:
    shown = cli_ok("report", "brainwash", *setup)
    assert "\x1b[" not in shown  # stdout is not a terminal here: no colour codes
    terminal = figures_from_terminal(shown)
    as_json = figures_from_json(
        json.loads(cli_ok("report", "brainwash", "--format", "json", *setup))
    )
    from_csv = figures_from_csv(cli_ok("export", "brainwash", *setup))
    cli_ok("report", "brainwash", "-o", str(tmp_path / "r.html"), *setup)
    html = figures_from_html((tmp_path / "r.html").read_text(encoding="utf-8"))

    assert as_json["total"] == 10 and as_json["after_withdrawal"] == 4
    assert as_json["levels"] == {"used": 4, "mentioned": 2, "cited": 3, "not judged": 1}
    assert as_json["countries"] == {"CN": (6, 4.67), "US": (5, 3.83), "unknown": (1, 1.5)}
    for other in (terminal, html):
        for key in ("total", "levels", "countries", "sectors", "after_withdrawal"):
            assert other[key] == as_json[key], key
    whole = {k: v[0] for k, v in as_json["countries"].items()}  # type: ignore[attr-defined]
    assert from_csv["countries"] == whole
    assert from_csv["sectors"] == {k: v[0] for k, v in as_json["sectors"].items()}  # type: ignore[attr-defined]
    for key in ("total", "levels", "after_withdrawal"):
        assert from_csv[key] == as_json[key], key
    assert html["map"] == {k: v for k, v in whole.items() if k != "unknown"}


def test_filters_reach_every_output(setup: list[str]) -> None:
    data = json.loads(
        cli_ok(
            "report",
            "brainwash",
            "--format",
            "json",
            "--min-usage",
            "used",
            "--since",
            "2018",
            *setup,
        )
    )
    assert data["total_papers"] == 3 and data["filters"]["levels"] == ["used"]
    rows = figures_from_csv(
        cli_ok("export", "brainwash", "--min-usage", "used", "--since", "2018", *setup)
    )
    assert rows["total"] == 3
    text = cli_ok("report", "brainwash", "--min-usage", "used", "--since", "2018", *setup)
    assert "Brainwash: 3 papers judged used, published 2018-..." in text


def test_csv_neutralises_formulas_and_keeps_utf8(setup: list[str], tmp_path: Path) -> None:
    cli_ok("export", "brainwash", "-o", str(tmp_path / "a.csv"), *setup)
    raw = (tmp_path / "a.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: spreadsheets then read UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    titles = {row["title"] for row in rows}
    assert "'" + FORMULA_TITLE in titles and FORMULA_TITLE not in titles
    assert SCRIPT_TITLE in titles  # CSV is not HTML: text kept as written
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    row = next(r for r in rows if r["title"] == "Dense pedestrian detection")
    assert row["doi"] == "10.1000/megvii.1" and row["openalex"] == "W100"
    assert row["countries"] == "CN|US" and "US Entity List" in row["flags"]
    assert row["usage_level"] == "used" and "Brainwash dataset" in row["evidence"]
    assert "https://doi.org/10.1000/megvii.1" in row["links"].split("|")
    assert row["key"] == "doi:10.1000/megvii.1"
    assert row["authors"] == "Sun Jian|Xu Li|Bob Ray"
    assert row["affiliations"].split("|") == [
        "Sun Jian (Megvii (China), CN)",
        "Xu Li (Megvii (China), CN)",
        "Bob Ray (Stanford University, US)",
    ]
    assert row["flag_us_entity_list"] == "True" and row["flag_aspi_cdut"] == "False"


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+33", "'+33"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (3, 3),
        (None, ""),
    ],
)
def test_safe_cell(value: object, safe: object) -> None:
    assert safe_cell(value) == safe


def test_html_escapes_api_text_and_loads_nothing_from_the_network(
    setup: list[str], tmp_path: Path
) -> None:
    cli_ok("report", "brainwash", "--format", "html", "-o", str(tmp_path / "r.html"), *setup)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "Counting heads &lt;script&gt;alert(1)&lt;/script&gt; in crowds" in page
    assert page.count("<script") == 1  # the page's own sorting script, inline
    assert "=HYPERLINK(&#34;http://evil.example/x&#34;" in page  # text, not a link
    assert 'href="http://evil.example' not in page
    # Nothing that a browser would fetch: no src=, no <link>, no CSS url(), no @import.
    assert not re.search(r"\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link\b", page, re.IGNORECASE)
    assert not re.search(r"url\(|@import", page, re.IGNORECASE)
    assert "default-src 'none'" in page  # and the browser is told to refuse any load
    # Every http(s) text is either an <a href>, the SVG namespace or escaped API text.
    for match in re.finditer(r"https?://", page):
        before = page[max(0, match.start() - 40) : match.start()]
        assert before.endswith(('href="', 'xmlns="', 'data-institution="', "&#34;")), before
    assert 'id="worldmap"' in page and 'id="chart-years"' in page and 'id="chart-sectors"' in page
    assert "Whole counting" in page and "Fractional counting" in page


def test_markdown_escapes_markup_and_states_the_rules(setup: list[str]) -> None:
    text = cli_ok("report", "brainwash", "--format", "md", *setup)
    assert "<script>" not in text and r"\<script\>" in text
    assert "Whole counting" in text and "| China | CN | 6 | 4.67 |" in text
    assert md("a|b [x](y)") == r"a\|b \[x\](y)"


def test_bibtex_for_articles(tmp_path: Path) -> None:
    with build_store(tmp_path / "t.db") as store:
        report = build_report(store, DATASET)
    bib = to_bibtex(report)
    # The corpus's venues: CVPR (proceedings) and arXiv (a preprint server).
    assert bib.count("@inproceedings{") == 5 and bib.count("@misc{") == 5
    assert "booktitle = {CVPR}" in bib and "journal = " not in bib
    assert "@article{" not in bib
    assert "doi = {10.1000/megvii.1}" in bib and "eprint = {1801.00001}" in bib
    assert "author = {Sun Jian and Xu Li and Bob Ray}" in bib
    # Braces in API text cannot close a field early.
    assert bib.count("{") == bib.count("}")


def test_export_authors_institutions_countries(setup: list[str]) -> None:
    inst = json.loads(
        cli_ok("export", "brainwash", "--what", "institutions", "--format", "json", *setup)
    )
    nudt = next(r for r in inst if r["institution"] == "National University of Defense Technology")
    assert nudt["sector"] == "military" and nudt["papers_whole"] == 2 and "ASPI" in nudt["flags"]
    countries = list(
        csv.DictReader(
            io.StringIO(
                cli_ok("export", "brainwash", "--what", "countries", *setup).lstrip("\ufeff")
            )
        )
    )
    assert [(r["country"], r["papers_whole"]) for r in countries] == [
        ("CN", "6"),
        ("US", "5"),
        ("unknown", "1"),
    ]
    authors = json.loads(
        cli_ok("export", "brainwash", "--what", "authors", "--format", "json", *setup)
    )
    eve = next(a for a in authors if a["author"] == "Eve Unknown")
    assert eve["institution"] is None and eve["country"] is None
    result = run_cli("export", "brainwash", "--what", "authors", "--format", "bibtex", *setup)
    assert result.code == 2 and "BibTeX is for articles only" in result.err


def test_graph_opens_as_graphml_and_gexf(setup: list[str], tmp_path: Path) -> None:
    for name in ("g.graphml", "g.gexf"):
        result = run_cli("graph", "brainwash", "-o", str(tmp_path / name), *setup)
        assert result.code == 0 and f"Wrote {tmp_path / name}" in result.err
    graph = nx.read_graphml(tmp_path / "g.graphml")
    types = Counter(data["type"] for _, data in graph.nodes(data=True))
    # 15 authors in the corpus, each without a source id: one node each.
    assert types == {"dataset": 1, "paper": 10, "author": 15, "institution": 4, "country": 2}
    kinds = Counter(data["kind"] for _, _, data in graph.edges(data=True))
    # Paper -> dataset edges are typed by usage level.
    assert kinds["used"] == 4 and kinds["mentioned"] == 2 and kinds["cited"] == 3
    assert kinds["not-judged"] == 1 and "cites" not in kinds
    assert kinds["authored"] == 15 and kinds["located-in"] == 4
    # 13 authors with an institution, Wang Fang with two (NUDT and Tsinghua); Eve has none
    # and Gina's affiliation is unresolved: 14 author -> institution edges.
    assert kinds["affiliated-with"] == 14
    # Papers with authors at two institutions: Head detection (3 pairs), Dense pedestrian (1).
    assert kinds["co-affiliated"] == 4
    paper = next(d for _, d in graph.nodes(data=True) if d.get("label") == "Dense pedestrian detection")
    assert paper["year"] == 2019 and paper["venue"] == "arXiv" and paper["level"] == "used"
    assert paper["score"] == pytest.approx(0.52) and paper["key"] == "doi:10.1000/megvii.1"
    assert graph.nodes["country:CN"]["label"] == "China"
    nudt = graph.nodes["institution:https://ror.org/05d2yfz11"]
    assert nudt["sector"] == "military" and nudt["flagged"] == 1
    wang = next(n for n, d in graph.nodes(data=True) if d.get("label") == "Wang Fang")
    assert {graph.nodes[t]["label"] for t in graph.successors(wang) if graph.nodes[t]["type"] == "institution"} == {
        "National University of Defense Technology",
        "Tsinghua University",
    }
    gexf = nx.read_gexf(tmp_path / "g.gexf")
    assert gexf.graph["mode"] == "dynamic"  # papers on Gephi's timeline, from their year
    assert {d["start"] for _, d in gexf.nodes(data=True) if d.get("type") == "paper"} == {
        2016, 2017, 2018, 2019, 2020, 2021, 2022,
    }
    assert gexf.number_of_nodes() == graph.number_of_nodes()
    assert gexf.number_of_edges() == graph.number_of_edges()
    bad = run_cli("graph", "brainwash", "-o", str(tmp_path / "g.png"), *setup)
    assert bad.code == 2 and ".graphml, .gexf" in bad.err


def test_articles_csv_reads_in_pandas_with_the_documented_types(
    setup: list[str], tmp_path: Path
) -> None:
    pd = pytest.importorskip("pandas")
    cli_ok("export", "brainwash", "-o", str(tmp_path / "a.csv"), *setup)
    frame = pd.read_csv(tmp_path / "a.csv", dtype={"year": "Int64"}, keep_default_na=False,
                        na_values=[""])
    assert list(frame.columns[:2]) == ["paper_id", "key"]  # the BOM does not reach the name
    assert frame["paper_id"].dtype == "int64" and frame["year"].dtype == "Int64"
    assert frame["usage_score"].dtype == "float64"
    for column in ("flag_us_entity_list", "flag_aspi_cdut", "flag_pla_university",
                   "flag_dod_1260h", "has_affiliation", "after_withdrawal", "missing"):
        assert frame[column].dtype == "bool", column
    assert frame["flag_aspi_cdut"].sum() == 2 and frame["flag_us_entity_list"].sum() == 2
    assert frame["key"].is_unique and frame["key"].str.contains(":").all()
    authors = frame["authors"].str.split("|")
    assert authors.map(len).sum() == 15
    per_country = frame["countries"].dropna().str.split("|").explode().value_counts()
    assert per_country.to_dict() == {"CN": 6, "US": 5}


def test_parquet_and_xlsx_exports_keep_types_and_text(setup: list[str], tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    openpyxl = pytest.importorskip("openpyxl")
    result = run_cli("export", "brainwash", "-o", str(tmp_path / "a.parquet"), *setup)
    assert result.code == 0 and f"Wrote {tmp_path / 'a.parquet'}" in result.err
    frame = pd.read_parquet(tmp_path / "a.parquet")
    assert len(frame) == 10 and frame["flag_us_entity_list"].dtype == "bool"
    assert FORMULA_TITLE in set(frame["title"])  # a typed file: no apostrophe needed
    cli_ok("export", "brainwash", "--what", "institutions", "-o", str(tmp_path / "i.xlsx"), *setup)
    sheet = openpyxl.load_workbook(tmp_path / "i.xlsx")["institutions"]
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["institution_id", "institution"]
    cli_ok("export", "brainwash", "-o", str(tmp_path / "a.xlsx"), *setup)
    sheet = openpyxl.load_workbook(tmp_path / "a.xlsx")["articles"]
    title_col = [c.value for c in sheet[1]].index("title")
    cells = [row[title_col] for row in sheet.iter_rows(min_row=2)]
    formula = next(c for c in cells if str(c.value).startswith("=HYPERLINK"))
    assert formula.data_type == "s" and formula.value == FORMULA_TITLE  # text, not a formula
    to_stdout = run_cli("export", "brainwash", "--format", "parquet", *setup)
    assert to_stdout.code == 2 and "-o FILE.parquet" in to_stdout.err


def test_outputs_that_would_be_silently_wrong_are_errors(setup: list[str], tmp_path: Path) -> None:
    wrong = run_cli("report", "brainwash", "-o", str(tmp_path / "x.xlsx"), *setup)
    assert wrong.code == 2 and ".json, .md, .csv, .html, .htm, .txt" in wrong.err
    assert not (tmp_path / "x.xlsx").exists()
    wrong = run_cli("export", "brainwash", "-o", str(tmp_path / "x.html"), *setup)
    assert wrong.code == 2 and ".csv, .json, .bib, .parquet, .xlsx" in wrong.err
    disagree = run_cli("report", "brainwash", "--format", "md", "-o", str(tmp_path / "x.html"), *setup)
    assert disagree.code == 2 and "disagree" in disagree.err
    nowhere = tmp_path / "nonexistent" / "dir" / "x.html"
    missing = run_cli("report", "brainwash", "-o", str(nowhere), *setup)
    assert missing.code == 2 and "does not exist" in missing.err
    assert not (tmp_path / "nonexistent").exists()  # no folder made
    for command in ("report", "export", "graph"):
        bad = run_cli(command, "brainwash", "--country", "XX", "-o", str(tmp_path / "x.gexf")
                      if command == "graph" else str(tmp_path / "x.json"), *setup)
        assert bad.code == 2 and "not an ISO 3166-1 alpha-2" in bad.err, command
    said = run_cli("report", "brainwash", "-o", str(tmp_path / "r.md"), *setup)
    assert said.code == 0 and said.err.strip() == f"Wrote {tmp_path / 'r.md'}"
    quiet = run_cli("export", "brainwash", "-q", "-o", str(tmp_path / "a.csv"), *setup)
    assert quiet.code == 0 and quiet.err == "" and (tmp_path / "a.csv").exists()


def test_bibtex_entry_types_follow_the_venue() -> None:
    from tracer.render.bibtex import entry_type

    assert entry_type("2019 IEEE/CVF Conference on Computer Vision and Pattern Recognition") == (
        "inproceedings"
    )
    assert entry_type("CVPR") == "inproceedings" and entry_type("ICCV Workshops") == "inproceedings"
    assert entry_type("IEEE Transactions on Pattern Analysis and Machine Intelligence") == "article"
    assert entry_type("arXiv.org") == "misc" and entry_type(None) == "misc"


def test_report_errors_are_one_sentence(setup: list[str], tmp_path: Path) -> None:
    missing_db = run_cli("report", "brainwash", "--db", str(tmp_path / "none.db"), *setup[2:])
    assert missing_db.code == 3 and "tracer scan brainwash" in missing_db.err
    assert not (tmp_path / "none.db").exists()  # a report never creates a database
    other = run_cli("report", "duke", *setup)
    assert other.code == 3 and "No dataset 'duke'" in other.err
    bad_country = run_cli("report", "brainwash", "--country", "China", *setup)
    assert bad_country.code == 2 and "Traceback" not in bad_country.err


def test_write_atomic_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    write_atomic(target, "first")
    write_atomic(target, b"second")
    assert target.read_text() == "second"
    assert os.listdir(target.parent) == ["report.html"]  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # readable like any other file


def test_write_reports_for_refresh_and_text_report_file(setup: list[str], tmp_path: Path) -> None:
    from tracer.render.formats import write_reports

    with build_store(tmp_path / "r.db") as store:
        paths = write_reports(store, DATASET, tmp_path / "reports", ["json", "html", "md", "csv"])
    assert sorted(Path(p).name for p in paths) == [
        "brainwash.csv",
        "brainwash.html",
        "brainwash.json",
        "brainwash.md",
    ]
    data = json.loads((tmp_path / "reports" / "brainwash.json").read_text(encoding="utf-8"))
    assert data["total_papers"] == 10
    cli_ok("report", "brainwash", "-o", str(tmp_path / "r.txt"), *setup)
    text = (tmp_path / "r.txt").read_text(encoding="utf-8")
    assert figures_from_terminal(text) == figures_from_terminal(
        cli_ok("report", "brainwash", *setup)
    )
    assert "\x1b[" not in text  # no colour codes in a file


def test_markdown_escaping_keeps_table_rows_whole() -> None:
    from tests.fault_table import record

    assert md("a\rb\r\nc\nd") == "a b c d"
    row = "| " + md("title\r| x") + " |"
    assert row.count("\r") == 0 and row.count("\n") == 0
    record("faults", "CR in Markdown table cells", "report", "one row", 0)


LONG_NAME = "Key Laboratory of Intelligent Perception and Image Understanding of the Ministry"


def _long_flagged_store(path: Path):  # type: ignore[no-untyped-def]
    """The corpus plus a paper by an institution with a long name on four lists, one of them
    a list and category no renderer knows."""
    from tracer.records import Author, Work

    store = build_store(path)
    run = store.start_run("brainwash", "scan")
    pid, _ = store.upsert_work(Work(source="s2", title="Another crowd paper " * 8, year=2023,
                                    doi="10.1000/long.1"))
    store.link("brainwash", pid, run, None)
    store.save_authors(pid, [Author(name="Kim Lee", position=0, raw_affiliations=["x"])], "s2")
    flags = [
        {"list": "us-entity-list", "label": "US Entity List", "start": "2019-10"},
        {"list": "dod-1260h", "label": "US DoD 1260H list", "start": "2024-01", "end": "2025-01"},
        {"list": "aspi-cdut", "label": "ASPI tracker", "category": "Security"},
        {"list": "cn-public-security", "label": "Public security bodies", "category": "police"},
    ]
    store.save_affiliations(pid, 0, [{
        "raw": LONG_NAME, "institution_id": "https://ror.org/000000000",
        "institution_name": LONG_NAME, "country": "CN", "sector": "research institute",
        "flags": flags, "confidence": 1.0, "method": "ror-exact",
    }])
    store.finish_run(run, "ok", requests={})
    return store


def test_terminal_report_reads_at_80_columns(tmp_path: Path) -> None:
    from tracer.render.formats import terminal_text

    with _long_flagged_store(tmp_path / "t.db") as store:
        report = build_report(store, DATASET)
    text = terminal_text(report, width=80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    start = next(i for i, line in enumerate(lines) if line.startswith("Top institutions"))
    table = lines[start + 2 : start + 2 + len(report.institutions)]
    for inst, line in zip(report.institutions, table, strict=True):
        # One line per institution: its name (whole, or cut with an ellipsis) and every flag code.
        shown = re.split(r"\s{2,}", line)[0]
        assert inst.name.startswith(shown.rstrip("…")), (inst.name, line)
        for flag in inst.flags:
            code = {"us-entity-list": "EL", "dod-1260h": "1260H", "aspi-cdut": "ASPI"}.get(
                flag.list, "CPS"
            )
            assert code in line.split(), (code, line)
    assert lines[start + 2 + len(report.institutions)] == "Flags:"  # then the legend
    legend = "\n".join(lines[start + 3 + len(report.institutions) :][:4])
    assert re.search(r"CPS +Public security bodies", legend)
    assert re.search(r"EL +US Entity List", legend)
    flagged = [line for line in lines if line.startswith("⚑ ")]
    assert len(flagged) == 3 and all(len(line) <= 80 for line in flagged)
    assert "(police)" in text  # a category no renderer knows, shown with its name
    # A list of papers, most relevant first, and hints with the dataset's key.
    papers_at = next(i for i, line in enumerate(lines) if line.startswith("Papers: "))
    assert lines[papers_at] == "Papers: the 20 most relevant of 11" or "all 11" in lines[papers_at]
    assert lines[papers_at + 2].split()[:2] == ["2019", "used"]  # flagged and used first
    assert "tracer report brainwash -o brainwash.html" in text and "NAME" not in text
    assert not re.search(r"\b1 papers", text)


def test_terminal_report_lists_every_paper_on_request_and_pages_only_on_a_terminal(
    setup: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from tracer.cli import report as report_cli

    shown = cli_ok("report", "brainwash", *setup)
    assert "Papers: all 10" in shown  # fewer than the limit: all of them
    with build_store(tmp_path / "many.db") as store:
        report = build_report(store, DATASET)
    report.papers = report.papers * 3  # 30 rows: more than the 20 shown by default
    paged = tmp_path / "paged.txt"
    monkeypatch.setenv("PAGER", f"sh -c 'cat > {paged}'")
    monkeypatch.setenv("LINES", "20")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    report_cli.show_terminal_report(report, all_papers=True, no_pager=False)
    text = paged.read_text(encoding="utf-8")
    assert "Papers: all 30" in text and "\x1b[" not in text  # NO_COLOR holds in the pager too
    paged.unlink()
    report_cli.show_terminal_report(report, all_papers=False, no_pager=True)
    assert not paged.exists()  # --no-pager: straight to stdout


def test_html_leads_with_findings_and_labels_what_it_links(tmp_path: Path) -> None:
    from tracer.render.html import render_html

    with _long_flagged_store(tmp_path / "t.db") as store:
        page = render_html(build_report(store, DATASET))
    order = [page.index(f'id="{anchor}"') for anchor in (
        "headline", "flagged", "withdrawal-section", "licence-section", "map", "tables",
        "papers-section", "method",
    )]
    assert order == sorted(order)  # findings, then the map, the tables, coverage and method
    assert 'href="https://ror.org/05d2yfz11"' in page  # NUDT links to its ROR record
    assert 'aria-label="National University of Defense Technology in the ROR registry"' in page
    assert ">DOI 10.1000/megvii.1</a>" in page and ">OpenAlex W100</a>" in page
    assert "Sun Jian, Xu Li, Bob Ray" in page  # papers list their authors
    assert page.count("how strongly the evidence shows") >= 2  # the score, where it is shown
    assert "(police)" in page  # an unknown flag category, shown with its name
    assert not re.search(r"\b1 papers\b", page) and "1 paper" in page
    # Every link has text: no <a ...></a> left empty.
    assert not re.search(r"<a [^>]*>\s*</a>", page)


def test_what_the_last_run_could_not_see_comes_before_the_figures(tmp_path: Path) -> None:
    from tracer.render.formats import render_report

    note = "No ROR gazetteer is loaded: free-text affiliations were matched by country only."
    with build_store(tmp_path / "t.db") as store:
        run = store.start_run("brainwash", "scan")
        store.finish_run(run, "ok", requests={}, stats={"notes": [note]})
        report = build_report(store, DATASET)
    for fmt, first_figure in (("terminal", "Flagged institutions"), ("html", 'id="flagged"')):
        text = render_report(report, fmt)
        assert text.index(note[:40]) < text.index(first_figure), fmt
