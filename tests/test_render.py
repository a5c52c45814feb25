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
from tracer.render.tables import md, safe_cell, to_bibtex
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
    """Rows of the rich table under `title`: first cell -> the other cells."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(title))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 4 :]:
        if line.startswith("└"):
            break
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        rows[cells[0]] = cells[1:]
    return rows


def figures_from_terminal(text: str) -> dict[str, object]:
    levels = terminal_table(text, "Papers by usage level")
    countries = terminal_table(text, "Papers by country")
    sectors = terminal_table(text, "Papers by sector")

    def code(label: str) -> str:
        found = re.search(r"\((\w\w)\)$", label)
        return found.group(1) if found else label

    withdrawal = re.search(r"Use after withdrawal \(2019-06\): (\d+) papers", text)
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
        for c in row["countries"].split("; ") if row["countries"] else ["unknown"]:
            countries[c] += 1
        for s in row["sectors"].split("; ") if row["sectors"] else ["unknown"]:
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
    assert row["countries"] == "CN; US" and "US Entity List" in row["flags"]
    assert row["usage_level"] == "used" and "Brainwash dataset" in row["evidence"]
    assert "https://doi.org/10.1000/megvii.1" in row["links"].split()


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
    assert bib.count("@article{") == 10
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
        cli_ok("graph", "brainwash", "-o", str(tmp_path / name), *setup)
    graph = nx.read_graphml(tmp_path / "g.graphml")
    types = Counter(data["type"] for _, data in graph.nodes(data=True))
    assert types == {"dataset": 1, "paper": 10, "institution": 4, "country": 2}
    kinds = Counter(data["kind"] for _, _, data in graph.edges(data=True))
    assert kinds["cites"] == 10 and kinds["located-in"] == 4
    assert graph.nodes["country:CN"]["label"] == "China"
    nudt = graph.nodes["institution:https://ror.org/05d2yfz11"]
    assert nudt["sector"] == "military" and nudt["flagged"] == 1
    gexf = nx.read_gexf(tmp_path / "g.gexf")
    assert gexf.number_of_nodes() == 17 and gexf.number_of_edges() == graph.number_of_edges()
    bad = run_cli("graph", "brainwash", "-o", str(tmp_path / "g.png"), *setup)
    assert bad.code == 2 and "graphml or .gexf" in bad.err


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
    assert md("a\rb\r\nc\nd") == "a b c d"
    row = "| " + md("title\r| x") + " |"
    assert row.count("\r") == 0 and row.count("\n") == 0
