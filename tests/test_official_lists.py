"""The official lists: each parser on the public copies in ../shared/data/watchlists, served by a
local HTTP server as the download sources of `tracer data update`; the merge into the packaged
watchlist; `tracer data status`; the first-use download of a scan."""

from __future__ import annotations

import csv
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.affiliation_fixtures import ror_index  # noqa: F401
from tests.helpers import run_cli
from tracer.affiliations.bootstrap import ensure_reference_data
from tracer.affiliations.classify import Classifier
from tracer.affiliations.countries import country_names
from tracer.affiliations.gazetteer import Gazetteer
from tracer.affiliations.official import Listing, parse_1260h, parse_aspi, parse_csl, parse_fcc
from tracer.affiliations.reference import load_listings, merge
from tracer.affiliations.watchlist import default_watchlist
from tracer.config import load_settings
from tracer.errors import ExitCode

# The header row of the 1260H list as OpenSanctions writes it.
HEADER_1260H = (
    "Name,Clean Name,Alias,Previous Name,Parent Name,Note,Start date,End date,Source Url\n"
)


def rows_1260h(*rows: tuple[str, str, str], alias: str = "", previous: str = "") -> str:
    """A 1260H transcription of (name, parent name, start date) rows, its name as its clean
    name, quoted as the csv module quotes (names hold commas)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for name, parent, start in rows:
        writer.writerow([name, name, alias, previous, parent, "", start, "", ""])
    return HEADER_1260H + out.getvalue()

FILES = {
    "/csl.json": "csl_sample_consolidated_HANDWRITTEN.json",
    "/1260h.csv": "opensanctions_us_dod_1260h_chinese_military_companies.csv",
    "/aspi.json": "misp_galaxy_china-defence-universities_ASPI.json",
    "/fcc.csv": "opensanctions_us_fcc_covered_list.csv",
}


class Server:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.broken: set[str] = set()
        self.extra: dict[str, bytes] = {}
        self.hits: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.hits.append(self.path)
                if self.path in owner.broken:
                    self.send_response(500)
                    self.end_headers()
                    return
                if self.path in owner.extra:
                    body = owner.extra[self.path]
                elif self.path in FILES:
                    body = (owner.folder / FILES[self.path]).read_bytes()
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def lists_dir(shared_data: Path) -> Path:
    folder = shared_data / "watchlists"
    if not all((folder / name).exists() for name in FILES.values()):
        pytest.skip("the public copies of the lists are absent")
    return folder


@pytest.fixture
def server(lists_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    srv = Server(lists_dir)
    monkeypatch.setenv("TRACER_CSL_URL", srv.url + "/csl.json")
    monkeypatch.setenv("TRACER_1260H_URL", srv.url + "/1260h.csv")
    monkeypatch.setenv("TRACER_ASPI_URL", srv.url + "/aspi.json")
    monkeypatch.setenv("TRACER_FCC_URL", srv.url + "/fcc.csv")
    yield srv
    srv.close()


# -- parsers -------------------------------------------------------------------------------------
def test_csl_keeps_names_alternates_dates_and_notices(lists_dir: Path) -> None:
    data = json.loads((lists_dir / FILES["/csl.json"]).read_text("utf-8"))
    listings = parse_csl(data)
    huawei = next(x for x in listings if x.name.startswith("Huawei"))
    assert huawei.list == "us-entity-list"
    assert huawei.start == "2019-05-16"
    assert huawei.notice == "84 FR 22961"
    assert huawei.source == "https://www.federalregister.gov/citation/84-FR-22961"
    assert huawei.country == "CN" and "Huawei" in huawei.aliases
    megvii = next(x for x in listings if x.name.startswith("Beijing Kuangshi"))
    assert "Megvii Technology" in megvii.aliases  # "d.b.a." prefix dropped
    assert {x.list for x in listings} == {"us-entity-list", "us-cmic"}
    assert any(x.list == "us-cmic" and x.name == "SenseTime Group Limited" for x in listings)


def test_csl_without_results_is_a_data_error() -> None:
    from tracer.errors import DataError

    with pytest.raises(DataError):
        parse_csl({"hits": []})


def test_1260h_one_listing_per_company_with_start_and_end(lists_dir: Path) -> None:
    listings = {x.name: x for x in parse_1260h((lists_dir / FILES["/1260h.csv"]).read_text())}
    megvii = listings["Beijing Megvii Technology Co., Ltd."]
    assert (megvii.start, megvii.end) == ("2024-01-31", "2025-01-07")
    assert listings["Tencent Holdings Limited"].start == "2025-01-07"
    assert listings["Tencent Holdings Limited"].end is None
    assert listings["Shenzhen DJI Innovation Technology Co., Ltd."].start == "2022-10-05"
    assert "DJI" in listings["Shenzhen DJI Innovation Technology Co., Ltd."].aliases
    assert (
        listings["Huawei Technologies Co., Ltd."].parent == "Huawei Investment & Holding Co., Ltd."
    )


def test_1260h_names_with_a_legal_form_are_not_cut_at_its_comma() -> None:
    # A previous name "X Co., Ltd." is one name: cut at every comma it gave the alias "Ltd.",
    # which then matched any company's "Co., Ltd." (issue 16, held-out hard cases).
    text = rows_1260h(("Example Digital Co., Ltd.", "", "2026-06-08"), alias="EDC, Example Digital",
                      previous="Old Example Computer Co., Ltd., Older Example, Inc.")
    (listing,) = parse_1260h(text)
    assert listing.aliases == (
        "EDC",
        "Example Digital",
        "Old Example Computer Co., Ltd.",
        "Older Example, Inc.",
    )


def test_aspi_keeps_every_alias_chinese_names_and_categories(lists_dir: Path) -> None:
    listings = {
        x.name: x for x in parse_aspi(json.loads((lists_dir / FILES["/aspi.json"]).read_text()))
    }
    nudt = listings["National University of Defense Technology"]
    assert "National Key Laboratory for Parallel and Distributed Processing" in nudt.aliases
    assert "中国人民解放军国防科技大学" in nudt.aliases
    assert nudt.category == "Military"
    assert nudt.source and nudt.source.startswith("https://unitracker.aspi.org.au/")
    assert listings["Nanjing University"].category == "Civilian"
    assert listings["Harbin Engineering University"].category == "Seven sons of national defence"


def test_fcc_names_from_the_csv_and_from_the_page_table(lists_dir: Path) -> None:
    listings = {x.name: x for x in parse_fcc((lists_dir / FILES["/fcc.csv"]).read_text())}
    assert listings["Huawei Technologies Company"].start == "2021-03-12"
    assert "ZTE Corporation" in listings and "AO Kaspersky Lab" in listings
    page = (
        "<table><tr><th>Covered</th><th>Date</th></tr><tr><td>Equipment produced by "
        "<strong>Example Radio Company</strong>, and services.</td><td><p>May 4, 2023</p>"
        "</td></tr></table>"
    )
    assert [(x.name, x.start) for x in parse_fcc(page)] == [("Example Radio Company", "2023-05-04")]


# -- update, status, merge -----------------------------------------------------------------------
def test_data_update_fetches_every_list_and_status_says_from_where(server: Server) -> None:
    result = run_cli("data", "update", "--no-ror")
    assert result.code == 0, result.err
    assert "FCC Covered List: 12 listings" in result.out
    status = run_cli("data", "status", "--json")
    assert status.code == 0
    state = json.loads(status.out)
    rows = {row["name"]: row for row in state["lists"]}
    assert set(rows) == {"csl", "dod-1260h", "aspi-cdut", "fcc-covered"}
    assert all(row["loaded"] and row["age_days"] < 1 for row in rows.values())
    assert rows["aspi-cdut"]["count"] == 159
    assert rows["csl"]["url"] == server.url + "/csl.json"
    assert state["ror"]["loaded"] is False
    text = run_cli("data", "status")
    assert "ASPI China Defence Universities Tracker (MISP galaxy): 159 listings" in text.out


def test_a_list_that_fails_keeps_its_last_copy_and_exits_partial(server: Server) -> None:
    assert run_cli("data", "update", "--no-ror").code == 0
    server.broken.add("/fcc.csv")
    result = run_cli("data", "update", "--no-ror")
    assert result.code == ExitCode.PARTIAL
    assert "FCC Covered List: not updated" in result.err
    listings = load_listings(load_settings())
    assert sum(1 for x in listings if x.list == "fcc-covered") == 12
    state = json.loads(run_cli("data", "status", "--json").out)
    fcc = next(row for row in state["lists"] if row["name"] == "fcc-covered")
    assert "500" in fcc["error"] and fcc["count"] == 12


def test_fetched_lists_flag_what_the_packaged_watchlist_lacks(server: Server) -> None:
    assert run_cli("data", "update", "--no-ror").code == 0
    classifier = Classifier.load(load_settings())
    assert classifier.notes == []
    (zte,) = classifier.classify_text("ZTE Corporation, Shenzhen 518057, China")
    assert [f.list for f in zte.flags] == ["fcc-covered"]
    assert zte.flags[0].start == "2021-03-12" and zte.sector == "commercial"
    (byd,) = classifier.classify_text("BYD Company Limited, Shenzhen, China")
    assert "dod-1260h" in [f.list for f in byd.flags]


def test_a_subsidiary_listed_with_its_parent_carries_the_parents_flags() -> None:
    """The 1260H list names a subsidiary with its "Parent Name": the subsidiary is rolled up to
    the packaged parent as the packaged subordinates are, its own flags and the parent's."""
    text = rows_1260h(("Example Heavy Machinery Co., Ltd.",
                       "China North Industries Group Corporation Limited", "2025-01-07"))
    merged = merge(default_watchlist(), parse_1260h(text))
    (entry,) = [e for e in merged.entries if e.name == "Example Heavy Machinery Co., Ltd."]
    norinco = merged.by_key["norinco"]
    assert entry.key != "norinco" and entry.country == "CN"
    assert entry.sector == norinco.sector and entry.parent == "norinco"
    # The group's listings but its NS-CMIC one: that list binds only the bodies it names.
    assert {f.list for f in norinco.flags} - {"us-cmic"} <= {f.list for f in entry.flags}
    assert "us-cmic" in {f.list for f in norinco.flags}
    assert "us-cmic" not in {f.list for f in entry.flags}
    # The packaged units keep their parent through the merge, and say whose they are.
    assert merged.by_key["cetc-43rd"].parent == "cetc"
    (aff,) = Classifier(watchlist=merged).classify_text("CETC 43rd Research Institute, Hefei")
    assert aff.parent_name == "China Electronics Technology Group Corporation"
    own = [f for f in entry.flags if f.list == "dod-1260h"]
    assert [f.start for f in own] == ["2025-01-07"]  # its own listing, not the parent's of 2021
    assert [f.start for f in norinco.flags if f.list == "dod-1260h"] == ["2021-06-03"]
    # Without a parent on the list, a company stands alone.
    alone = merge(
        default_watchlist(),
        parse_1260h(rows_1260h(("Example Heavy Machinery Co., Ltd.", "", "2025-01-07"))),
    )
    (entry,) = [e for e in alone.entries if e.name == "Example Heavy Machinery Co., Ltd."]
    assert {f.list for f in entry.flags} == {"dod-1260h"}


def test_merged_lists_flag_every_name_the_packaged_watchlist_flags(lists_dir: Path) -> None:
    """Fetched lists are merged into the packaged watchlist, never replace it: each packaged
    entry's names, alone and followed by its country, keep every flag they had. (The 1260H
    list says no country: its US subsidiaries were taken for Chinese companies, and their
    names then flagged nothing written in the United States.)"""
    listings = (
        parse_csl(json.loads((lists_dir / FILES["/csl.json"]).read_text("utf-8")))
        + parse_1260h((lists_dir / FILES["/1260h.csv"]).read_text("utf-8"))
        + parse_aspi(json.loads((lists_dir / FILES["/aspi.json"]).read_text("utf-8")))
        + parse_fcc((lists_dir / FILES["/fcc.csv"]).read_text("utf-8"))
    )
    packaged = default_watchlist()
    alone, merged = Classifier(watchlist=packaged), Classifier(watchlist=merge(packaged, listings))
    names = country_names()
    lost = []
    for entry in packaged.entries:
        where = names.get(entry.country or "", [""])[0]
        for name in (entry.name, *entry.aliases):
            for text in (name, f"{name}, {where}") if where else (name,):
                before = {f.list for a in alone.classify_text(text) for f in a.flags}
                after = {f.list for a in merged.classify_text(text) for f in a.flags}
                if before - after:
                    lost.append(f"{text}: {sorted(before - after)}")
    assert lost == []


def test_the_packaged_history_is_kept_when_lists_are_merged(lists_dir: Path) -> None:
    listings = parse_1260h((lists_dir / FILES["/1260h.csv"]).read_text()) + parse_csl(
        json.loads((lists_dir / FILES["/csl.json"]).read_text("utf-8"))
    )
    merged = merge(default_watchlist(), listings)
    megvii = merged.by_key["megvii"]
    packaged = default_watchlist().by_key["megvii"]
    assert set(packaged.flags) <= set(megvii.flags)
    dod = [f for f in megvii.flags if f.list == "dod-1260h"]
    assert [(f.start, f.end) for f in dod] == [("2024-01-31", "2025-01-07")]
    # The CSL's legal name of Megvii lands on the packaged entry, not on a new one.
    assert not any(
        e.key.endswith("beijing kuangshi technology company limited") for e in merged.entries
    )


def test_without_fetched_lists_the_classifier_says_so() -> None:
    classifier = Classifier.load(load_settings())
    (note,) = [n for n in classifier.notes if "packaged watchlist only" in n]
    assert "a selection written by hand" in note and "not flagged" in note


def test_status_says_what_the_packaged_watchlist_is() -> None:
    """A selection written by hand, with the date of the newest listing it holds: how far
    its flags can be trusted without the fetched lists."""
    state = json.loads(run_cli("data", "status", "--json").out)["packaged_watchlist"]
    packaged = default_watchlist()
    assert state["entries"] == len(packaged.entries)
    starts = [f.start for e in packaged.entries for f in e.flags if f.start]
    assert state["newest_listing"] == max(starts)
    text = run_cli("data", "status").out
    assert (f"Packaged watchlist: {len(packaged.entries)} entries (embedded: a selection written"
            f" by hand, newest listing {max(starts)})") in text


# -- first use -----------------------------------------------------------------------------------
def _ror_zip(path: Path) -> bytes:
    records = [
        {
            "id": "https://ror.org/05d2yfz11",
            "names": [
                {"value": "National University of Defense Technology", "types": ["ror_display"]}
            ],
            "types": ["education"],
            "status": "active",
            "domains": ["nudt.edu.cn"],
            "locations": [{"geonames_details": {"country_code": "CN", "name": "Changsha"}}],
            "relationships": [],
        }
    ]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("v1-2026-test_schema_v2.json", json.dumps(records))
    return path.read_bytes()


def test_first_use_downloads_what_is_missing(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRACER_OFFLINE")
    server.extra["/ror.zip"] = _ror_zip(tmp_path / "ror.zip")
    monkeypatch.setenv("TRACER_ROR_DUMP_URL", server.url + "/ror.zip")
    settings = load_settings()
    assert ensure_reference_data(settings) == []
    assert settings.ror_index.exists() and load_listings(settings)
    before = len(server.hits)
    assert ensure_reference_data(settings) == []
    assert len(server.hits) == before  # nothing fetched twice


def test_first_use_offline_goes_on_with_the_embedded_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACER_OFFLINE")
    for var in ("TRACER_ROR_DUMP_URL", "TRACER_CSL_URL", "TRACER_1260H_URL", "TRACER_ASPI_URL"):
        monkeypatch.setenv(var, "http://127.0.0.1:9/nothing.json")
    monkeypatch.setenv("TRACER_FCC_URL", "http://127.0.0.1:9/nothing.html")
    notes = ensure_reference_data(load_settings())
    assert len(notes) == 1
    assert "embedded watchlist" in notes[0] and "without the ROR gazetteer" in notes[0]


def test_offline_switch_skips_downloads() -> None:
    (note,) = ensure_reference_data(load_settings())
    assert "TRACER_OFFLINE" in note


def test_a_failed_ror_download_still_fetches_the_lists(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACER_ROR_DUMP_URL", server.url + "/missing.zip")
    result = run_cli("data", "update")
    assert result.code == ExitCode.NETWORK and "404" in result.err
    assert "Traceback" not in result.err
    assert len(load_listings(load_settings())) > 400


def test_the_merge_is_remembered_until_the_lists_change(server: Server) -> None:
    assert run_cli("data", "update", "--no-ror").code == 0
    settings = load_settings()
    first = Classifier.load(settings)
    cache = settings.data_dir / "watchlists" / "merged.pickle"
    assert cache.exists()
    again = Classifier.load(settings)
    assert [e.key for e in again.watchlist.entries] == [e.key for e in first.watchlist.entries]
    # A new update rewrites listings.json: the remembered merge no longer applies.
    server.broken.update({"/csl.json", "/1260h.csv", "/aspi.json"})
    server.extra["/fcc.csv"] = (
        b"covered_equipment_or_services,date_of_inclusion_on_covered_list\n"
        b'"Radios produced by Example Radio Company, and services.","May 4, 2023"\n'
    )
    run_cli("data", "update", "--no-ror")
    (aff,) = Classifier.load(settings).classify_text("Example Radio Company, Oslo, Norway")
    assert [f.list for f in aff.flags] == ["fcc-covered"]


def test_a_subsidiary_the_packaged_watchlist_names_as_a_unit_joins_its_parent() -> None:
    """A 1260H row of a subsidiary that the packaged watchlist reports as its parent (Inner
    Mongolia First Machinery Group, NORINCO's) joins the parent's entry instead of standing
    alone, and adds no second listing to the parent's history."""
    text = rows_1260h(("Inner Mongolia First Machinery Group Co., Ltd.",
                       "China North Industries Group Corporation Limited", "2021-06-03"))
    merged = merge(default_watchlist(), parse_1260h(text))
    assert not [e for e in merged.entries if e.name.startswith("Inner Mongolia First")]
    norinco = merged.by_key["norinco"]
    assert [f.start for f in norinco.flags if f.list == "dod-1260h"] == ["2021-06-03"]
    clf = Classifier(watchlist=merged)
    (aff,) = clf.classify_text("Inner Mongolia First Machinery Group Co., Ltd., Baotou, China")
    assert merged.named(aff.institution_name) is norinco


def test_1260h_subsidiaries_abroad_keep_their_country_and_join_the_packaged_entry() -> None:
    """A subsidiary abroad (a US LLC, an Australian Pty Ltd) is not a Chinese company: merged,
    it joins the packaged entry of its own country and flags strings written there."""
    avic = "Aviation Industry Corporation of China, Ltd."
    text = rows_1260h(("Align Aerospace LLC", avic, "2026-06-08"),
                      ("Avicopter PLC", avic, "2026-06-08"))
    align, avicopter = parse_1260h(text)
    assert (align.country, avicopter.country) == ("US", "CN")
    merged = merge(default_watchlist(), [align])
    assert not [e for e in merged.entries if e.key.startswith("dod-1260h:")]
    clf = Classifier(watchlist=merged)
    (aff,) = clf.classify_text("Align Aerospace LLC, Chatsworth, CA, USA")
    assert {f.list for f in aff.flags} == {"dod-1260h"}


def test_1260h_subsidiaries_by_their_legal_names_join_the_conglomerate() -> None:
    text = rows_1260h(("Heilongjiang Northern Tools Co., Ltd.",
                       "China South Industries Group Corporation", "2025-01-07"))
    merged = merge(default_watchlist(), parse_1260h(text))
    assert not [e for e in merged.entries if e.key.startswith("dod-1260h:")]
    clf = Classifier(watchlist=merged)
    (aff,) = clf.classify_text("Heilongjiang Northern Tools Co., Ltd., Mudanjiang, China")
    assert merged.named(aff.institution_name) is merged.by_key["csgc"]


def _csl(*items: dict[str, object]) -> dict[str, object]:
    return {"results": [
        {"source": "Entity List (EL) - Bureau of Industry and Security", "type": "Entity",
         "addresses": [{"city": "Beijing", "country": "CN"}],
         "federal_register_notice": "90 FR 14034", "start_date": "2025-03-25", **item}
        for item in items
    ]}


def test_csl_names_written_inside_the_name_are_names_too() -> None:
    """A CSL name may carry its other names: "X, a.k.a. Y; Z", or a short name in a trailing
    parenthesis. A parenthesis that is a place is no name of its own."""
    aka, register, short, placed = parse_csl(_csl(
        {"name": "Vantorel Quantum Computing Institute, a.k.a. VQCI; Vantorel Quantum Lab"},
        {"name": "Andover Vision Academy, a.k.a., the following two aliases: \u2014AVAC; and"
                 " \u2014Andover Vision Institute."},
        {"name": "Lindqvist Photonics Co., Ltd. (LQPC)"},
        {"name": "Quillfeather Optics Co., Ltd. (Shenzhen)"},
    ))
    assert aka.name == "Vantorel Quantum Computing Institute"
    assert aka.aliases == ("VQCI", "Vantorel Quantum Lab")
    assert register.name == "Andover Vision Academy"
    assert register.aliases == ("AVAC", "Andover Vision Institute")
    assert short.aliases == ("Lindqvist Photonics Co., Ltd.", "LQPC")
    assert placed.aliases == ("Quillfeather Optics Co., Ltd.",)
    clf = Classifier(watchlist=merge(default_watchlist(), [aka, register, short, placed]))
    for text in ("Vantorel Quantum Lab, Beijing, China", "LQPC, Beijing, China",
                 "Lindqvist Photonics Co., Ltd., Beijing 100084, China"):
        (aff,) = clf.classify_text(text)
        assert [f.list for f in aff.flags] == ["us-entity-list"], text
    (aff,) = clf.classify_text("Shenzhen 518057, China")
    assert aff.flags == []


def test_a_listed_company_is_found_without_its_legal_form() -> None:
    """Papers print a listed company with or without "Co., Ltd.": a fetched listing's name
    without its legal form flags too, where what is left still names someone in particular,
    and never takes a name another entry holds."""
    listings = parse_csl(_csl(
        {"name": "QUILLFEATHER INTELLIGENT TECHNOLOGY CO., LTD."},
        {"name": "Beijing Information Technology Co., Ltd."},
    ))
    merged = merge(default_watchlist(), listings)
    clf = Classifier(watchlist=merged)
    for text in ("Quillfeather Intelligent Technology, Beijing, China",
                 "Quillfeather Intelligent Technology Co., Ltd., Beijing 100085, China"):
        (aff,) = clf.classify_text(text)
        assert [f.list for f in aff.flags] == ["us-entity-list"], text
        assert aff.institution_name == "QUILLFEATHER INTELLIGENT TECHNOLOGY CO., LTD."
    # A place and a trade's words alone name no one: only the whole legal name flags.
    (aff,) = clf.classify_text("Beijing Information Technology, Beijing, China")
    assert aff.flags == []
    (aff,) = clf.classify_text("Beijing Information Technology Co., Ltd., Beijing, China")
    assert [f.list for f in aff.flags] == ["us-entity-list"]
    # A US subsidiary's name without "Inc." stays with the packaged US entry that holds it.
    text = rows_1260h(("Continental Aerospace Technologies, Inc.",
                       "Aviation Industry Corporation of China, Ltd.", "2026-06-08"))
    merged = merge(default_watchlist(), parse_1260h(text))
    (aff,) = Classifier(watchlist=merged).classify_text(
        "Continental Aerospace Technologies, Mobile, AL, USA")
    assert merged.named(aff.institution_name) is merged.by_key["continental-aerospace"]


def test_a_listed_alias_with_its_city_keeps_the_unit_one_institution(
    ror_index: tuple[Gazetteer, Path],  # noqa: F811
) -> None:
    """ASPI writes a unit of CAEP with its city ("The Institute of Applied Physics and
    Computational Mathematics, Beijing"). The packaged watchlist has the unit's name already:
    merged in, the alias must not turn the one affiliation into two institutions, the unit's
    ROR record unflagged beside CAEP."""
    gaz = ror_index[0]
    listing = Listing(
        list="aspi-cdut",
        name="Chinese Academy of Engineering Physics",
        aliases=("The Institute of Applied Physics and Computational Mathematics, Beijing",),
        country="CN",
        category="Very high risk",
    )
    text = "Institute of Applied Physics and Computational Mathematics, Beijing 100088, China"
    alone = Classifier(gaz).classify_text(text)
    merged = Classifier(gaz, merge(default_watchlist(), [listing], gaz)).classify_text(text)
    assert [(a.institution_id, a.sector) for a in merged] == [
        (a.institution_id, a.sector) for a in alone
    ]
    assert [a.sector for a in merged] == ["military"]
    assert all(any(f.list == "aspi-cdut" for f in a.flags) for a in merged)


def test_aspi_laboratories_are_names_of_the_university_that_hosts_them() -> None:
    # The tracker lists each university's "major defence laboratories"; a lab written alone is
    # its university's. Names two universities share, and centres with generic names, are not.
    data = {
        "values": [
            {
                "value": "National University of Defense Technology (国防科技大学)",
                "meta": {
                    "categories": ["Military"],
                    "major defence laboratories": [
                        "State Key Laboratory of High Performance Computing (高性能计算国家重点实验室)",
                        "Artificial Intelligence Research Center (人工智能研究中心",
                        "Jointly run with AVIC",
                    ],
                },
            },
            {
                "value": "Beijing University of Posts and Telecommunications (北京邮电大学)",
                "meta": {
                    "categories": ["Civilian"],
                    "major defence laboratories": [
                        "Key Laboratory of Network and Information Attack & Defense Technology of "
                        "Ministry of Education (网络与信息攻防技术教育部重点实验室)",
                        "Jointly run with AVIC",
                    ],
                },
            },
        ]
    }
    listings = {x.name: x for x in parse_aspi(data)}
    nudt = listings["National University of Defense Technology"]
    assert "State Key Laboratory of High Performance Computing" in nudt.aliases
    assert "高性能计算国家重点实验室" in nudt.aliases
    assert not any("Research Center" in a or "AVIC" in a for a in nudt.aliases)
    classifier = Classifier(watchlist=merge(default_watchlist(), list(listings.values())))
    (aff,) = classifier.classify_text(
        "Key Laboratory of Network and Information Attack and Defense Technology, Ministry of "
        "Education, Beijing 100876, China"
    )
    assert aff.institution_name and "Posts and Telecommunications" in aff.institution_name
    assert "aspi-cdut" in {f.list for f in aff.flags}
    (aff,) = classifier.classify_text("State Key Laboratory of High Performance Computing, Changsha")
    assert "aspi-cdut" in {f.list for f in aff.flags}


def test_a_listed_alias_that_is_a_place_name_is_not_kept() -> None:
    # The 1260H copy gives Inner Mongolia First Machinery the alias "Inner Mongolia": a region,
    # which would flag every string that names it.
    text = rows_1260h(
        ("Inner Mongolia First Machinery Group Co., Ltd.", "", "2021-06-03"), alias="Inner Mongolia"
    )
    merged = merge(default_watchlist(), parse_1260h(text))
    classifier = Classifier(watchlist=merged)
    flags = {
        f.list
        for a in classifier.classify_text(
            "School of Information Engineering, Inner Mongolia University of Science and "
            "Technology, Baotou, Inner Mongolia, China"
        )
        for f in a.flags
    }
    assert flags == set()
    (aff,) = classifier.classify_text("Inner Mongolia First Machinery Group Co., Ltd., Baotou")
    assert "dod-1260h" in {f.list for f in aff.flags}


def test_aspi_subsidiaries_with_names_of_their_own_are_names_of_the_parent() -> None:
    # The tracker lists each entry's subsidiaries. A shipyard or a company with its own name
    # stands for its group; a department, a campus, a training base or a generic institute
    # ("Advanced Technology Institute") does not, nor a body of another country, nor one two
    # entries list, nor one marked "[Probable]".
    data = {
        "values": [
            {
                "value": "China Shipbuilding Industry Corporation (中国船舶重工集团有限公司)",
                "meta": {
                    "categories": ["Defence industry conglomerate"],
                    "subsidiaries": [
                        "Qingdao Beihai Shipbuilding Heavy Industry",
                        "Political Department (政治部)",
                        "Songshan Training Base (嵩山训练基地)",
                        "Advanced Technology Institute",
                        "FACC AG (Austria)",
                        "[Probable] Panda International Information Technology Company",
                        "National Supercomputing Center in Changsha",
                    ],
                },
            },
            {
                "value": "China Aerospace Science and Technology Corporation",
                "meta": {
                    "categories": ["Defence industry conglomerate"],
                    "subsidiaries": [
                        "CASC 5th Academy, a.k.a. China Academy of Space Technology (CAST)",
                        "CASC 10th Academy, China Academy of Aerospace Aerodynamics",
                        "Xiasha Campus (下沙校区)",
                        "National Supercomputing Center in Changsha ",
                        "Jiangxi Hongdu Aviation Industry Co., Ltd. (Shanghai)",
                    ],
                },
            },
        ]
    }
    listings = {x.name: x for x in parse_aspi(data)}
    csic = listings["China Shipbuilding Industry Corporation"].aliases
    casc = listings["China Aerospace Science and Technology Corporation"].aliases
    assert "Qingdao Beihai Shipbuilding Heavy Industry" in csic
    assert not any(
        word in alias
        for alias in csic + casc
        for word in ("Political", "政治部", "Training", "Advanced", "FACC", "Panda", "Campus",
                     "Supercomputing", "Ltd.,")
    )
    assert {"CASC 5th Academy", "China Academy of Space Technology", "CASC 10th Academy",
            "China Academy of Aerospace Aerodynamics",
            "Jiangxi Hongdu Aviation Industry Co., Ltd."} <= set(casc)
    assert "CAST" not in casc  # an acronym in brackets is no name of its own here
    classifier = Classifier(watchlist=merge(default_watchlist(), list(listings.values())))
    (aff,) = classifier.classify_text(
        "Qingdao Beihai Shipbuilding Heavy Industry Co., Ltd., Qingdao, Shandong, China"
    )
    assert "aspi-cdut" in {f.list for f in aff.flags}
    (aff,) = classifier.classify_text("Advanced Technology Institute, Hefei, China")
    assert not aff.flags
