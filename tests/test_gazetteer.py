"""The ROR gazetteer: dump reading, the cached index, `tracer data update` against a local
server, and the benchmark's scoring on a small sample."""

from __future__ import annotations

import http.server
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.affiliation_fixtures import ror_index  # noqa: F401
from tests.helpers import run_cli
from tracer.affiliations import gazetteer
from tracer.affiliations.classify import Classifier, load_gazetteer
from tracer.affiliations.gazetteer import Gazetteer, load_or_build
from tracer.config import load_settings
from tracer.errors import DataError, ExitCode


def record(
    rid: str, name: str, country: str, types: list[str], **extra: object
) -> dict[str, object]:
    return {
        "id": f"https://ror.org/{rid}",
        "names": [{"value": name, "types": ["ror_display", "label"], "lang": None}],
        "types": types,
        "status": extra.get("status", "active"),
        "locations": [
            {"geonames_id": 1, "geonames_details": {"country_code": country, "name": "X"}}
        ],
        "relationships": extra.get("relationships", []),
    }


SMALL = [
    record("00test001", "Example University", "NZ", ["education", "funder"]),
    record("00test002", "Example Robotics (New Zealand)", "NZ", ["company"]),
    record("00test003", "Gone Institute", "NZ", ["facility"], status="withdrawn"),
    record(
        "00test004",
        "Example University Hospital",
        "NZ",
        ["healthcare"],
        relationships=[{"type": "parent", "id": "https://ror.org/00test001", "label": "x"}],
    ),
]


def write_zip(path: Path, records: list[dict[str, object]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("v9.9-2030-01-01-ror-data_schema_v2.json", json.dumps(records))
    return path


def test_small_dump_index_and_cache(tmp_path: Path) -> None:
    dump = write_zip(tmp_path / "small.zip", SMALL)
    gaz = load_or_build(tmp_path / "data", dump)
    assert len(gaz) == 3  # the withdrawn record is left out
    cached = list((tmp_path / "data" / "ror-index").glob("*.pickle"))
    assert len(cached) == 1
    again = load_or_build(tmp_path / "data", dump)
    assert again.columns == gaz.columns
    classifier = Classifier(again)
    affs = classifier.classify_text("Example Robotics Ltd, Auckland, New Zealand")
    assert affs[0].institution_id == "https://ror.org/00test002" and affs[0].sector == "commercial"
    hospital = classifier.classify_text("Example University Hospital, Auckland, New Zealand")[0]
    assert hospital.parent_name == "Example University" and hospital.sector == "healthcare"
    assert classifier.classify_text("Gone Institute, New Zealand")[0].institution_id is None


def test_an_index_built_by_other_normalising_rules_is_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Names are normalised when the index is built (abbreviations expanded): after a change to
    # those rules, a cached index would hold names no query is normalised to.
    dump = write_zip(tmp_path / "small.zip", SMALL)
    load_or_build(tmp_path / "data", dump)
    (path,) = (tmp_path / "data" / "ror-index").glob("*.pickle")
    assert Gazetteer.load(path) is not None
    monkeypatch.setattr(gazetteer, "index_version", lambda: "15-other-rules")
    assert Gazetteer.load(path) is None
    rebuilt = load_or_build(tmp_path / "data", dump)
    assert len(rebuilt) == 3 and Gazetteer.load(path) is not None


def test_derived_tables_are_saved_with_the_index_and_built_again_for_other_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = write_zip(tmp_path / "small.zip", SMALL)
    settings = replace(load_settings(), ror_dump=dump, data_dir=tmp_path / "data")
    gaz = load_gazetteer(settings)
    assert gaz is not None and {"words", "translated names", "city tails"} <= set(gaz.tables)
    built: list[str] = []

    def must_not_build(_: Gazetteer) -> None:
        raise AssertionError("the saved table was built again")

    monkeypatch.setattr("tracer.affiliations.classify._city_tails", must_not_build)
    again = load_gazetteer(settings)
    assert again is not None
    assert again.tables.keys() == gaz.tables.keys()
    assert again.words() == gaz.words()
    # A table made with other rules (another stamp) is not used: it is built again.
    table = again.derived("city tails", "other rules", lambda: built.append("x") or {})
    assert built == ["x"] and table == {}


def test_unreadable_dumps_are_data_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError):
        Gazetteer.from_dump(bad)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("readme.txt", "nothing")
    with pytest.raises(DataError):
        Gazetteer.from_dump(empty)
    with pytest.raises(DataError):
        load_or_build(tmp_path, tmp_path / "missing.zip")


def test_ror_dump_setting_that_does_not_exist_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACER_ROR_DUMP", str(tmp_path / "nope.zip"))
    result = run_cli("classify", "Stanford University")
    assert result.code == ExitCode.DATA and "does not exist" in result.err
    assert "Traceback" not in result.err


def test_full_index_loads_back_whole(ror_index: tuple[Gazetteer, Path]) -> None:  # noqa: F811
    # The load time is a figure of the benchmark (`python -m benchmarks.affiliations`), not a
    # test: on a loaded machine a timed assertion only flakes.
    built, path = ror_index
    gaz = Gazetteer.load(path)
    assert gaz is not None and len(gaz) == len(built) > 40_000
    assert gaz.lookup == built.lookup and gaz.domains == built.domains
    nudt = gaz.domains.get("nudt.edu.cn")
    assert nudt is None or gaz.columns["id"][nudt] == "https://ror.org/05d2yfz11"


@pytest.fixture
def zenodo(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A local stand-in for Zenodo's record listing and file download."""
    payload = write_zip(tmp_path / "served.zip", SMALL).read_bytes()
    agents: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            agents.append(self.headers.get("User-Agent", ""))
            host = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path.startswith("/records"):
                body = json.dumps(
                    {
                        "hits": {
                            "hits": [
                                {
                                    "files": [
                                        {
                                            "key": "v9.9-2030-01-01-ror-data.zip",
                                            "links": {"self": f"{host}/files/ror.zip"},
                                        }
                                    ]
                                }
                            ]
                        }
                    }
                ).encode()
            elif self.path == "/files/ror.zip":
                body = payload
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", agents
    finally:
        server.shutdown()
        server.server_close()


def test_data_update_downloads_and_indexes(
    zenodo: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, agents = zenodo
    monkeypatch.setenv("TRACER_ROR_DUMP_URL", f"{base}/records?sort=newest")
    result = run_cli("data", "update", "--no-lists")
    assert result.code == 0, result.err
    assert "3 organisations" in result.out
    settings = load_settings()
    assert (settings.ror_dump_dir / "v9.9-2030-01-01-ror-data.zip").exists()
    assert not list(settings.ror_dump_dir.glob("*.part"))
    assert all(agent.startswith("tracer/") for agent in agents)
    classifier = Classifier.load(settings)
    assert classifier.gazetteer_available
    assert classifier.classify_text("Example University, NZ")[0].institution_id == (
        "https://ror.org/00test001"
    )


def test_data_update_failure_is_a_network_error(
    zenodo: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = zenodo
    monkeypatch.setenv("TRACER_ROR_DUMP_URL", f"{base}/missing")
    result = run_cli("data", "update", "--no-lists")
    assert result.code == ExitCode.NETWORK and "404" in result.err


def test_benchmark_scoring_on_a_sample(ror_index: tuple[Gazetteer, Path]) -> None:  # noqa: F811
    from benchmarks import affiliations as bench

    if not bench.EVAL.is_dir():
        pytest.skip("evaluation sets absent")
    gaz = ror_index[0]
    classifier = Classifier(gaz)
    rows = bench.datasets()["springer-2023"][:150]
    s = bench.score(
        rows,
        bench.predictor(classifier),
        lambda g: g in gaz.by_id,
        lambda g: gaz.columns["country"][gaz.by_id[g]],
    )
    assert s.rows > 100 and s.tp + s.fn > 0
    assert 0.8 <= s.precision <= 1.0 and 0.7 <= s.recall <= 1.0
    assert s.country_accuracy >= 0.9
    perfect = bench.score(
        rows,
        lambda t: (set(next(r.gold for r in rows if r.text == t)), None),
        lambda g: g in gaz.by_id,
        lambda g: None,
    )
    assert perfect.precision == 1.0 and perfect.recall == 1.0
