"""`tracer explain NAME PAPER`: the evidence, each sign with its weight, the score, the level."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tracer.errors import ExitCode
from tracer.records import Work
from tracer.store import Store

USE = "We train our head detector on the Brainwash dataset [12] for 40 epochs."
BACKGROUND = "Crowd counting has a long history [12, 13]."


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "explain.db"
    with Store(path) as store:
        run = store.start_run("brainwash", "scan")
        used, _ = store.upsert_work(Work(
            source="s2", title="Heads in a cafe", year=2018, doi="10.1000/heads.1",
            s2_paper_id="a" * 40, openalex_id="W111", arxiv_id="1801.00001",
        ))
        store.link("brainwash", used, run, None)
        store.add_evidence("brainwash", used, run, route="cites", source="s2",
                           target="206593654", contexts=[BACKGROUND, USE],
                           intents=["methodology"])
        cited, _ = store.upsert_work(Work(source="s2", title="Counting crowds\u202e", year=2019,
                                          doi="10.1000/crowds.2"))
        store.link("brainwash", cited, run, None)
        store.add_evidence("brainwash", cited, run, route="cites", source="s2",
                           target="206593654", contexts=[BACKGROUND], intents=["background"])
        stranger, _ = store.upsert_work(Work(source="s2", title="Elsewhere", doi="10.1000/x.3"))
        assert (used, cited, stranger) == (1, 2, 3)
    return path


def test_explain_prints_the_sentence_each_sign_with_its_weight_and_the_score(db: Path) -> None:
    r = run_cli("explain", "brainwash", "1", "--db", str(db))
    assert r.code == 0, r.err
    assert "Paper 1: Heads in a cafe (2018)" in r.out
    assert "Brainwash: used, score" in r.out
    assert USE in r.out
    assert "use_own_named" in r.out and "log-odds" in r.out
    assert "intent_methodology" in r.out


@pytest.mark.parametrize(
    "paper",
    ["10.1000/heads.1", "https://doi.org/10.1000/HEADS.1", "arXiv:1801.00001", "a" * 40,
     "W111", "https://openalex.org/W111"],
)
def test_explain_finds_the_paper_by_any_of_its_ids(db: Path, paper: str) -> None:
    r = run_cli("explain", "brainwash", paper, "--db", str(db), "--json")
    assert r.code == 0, r.err
    body = json.loads(r.out)
    assert body["paper"]["id"] == 1
    assert body["level"] == "used"
    assert body["signs"][0]["name"] == "use_own_named"
    assert body["signs"][0]["text"] == USE
    assert body["rules_version"] and 0 < body["threshold"] < 1


def test_a_cited_paper_says_so_without_hiding_control_characters(db: Path) -> None:
    r = run_cli("explain", "brainwash", "10.1000/crowds.2", "--db", str(db))
    assert r.code == 0, r.err
    assert "Brainwash: cited" in r.out
    assert "\u202e" not in r.out


@pytest.mark.parametrize("paper", ["99", "3", "10.1000/nothing", "W999"])
def test_an_unknown_paper_is_one_sentence_and_exit_3(db: Path, paper: str) -> None:
    r = run_cli("explain", "brainwash", paper, "--db", str(db))
    assert r.code == ExitCode.NOT_FOUND
    assert "No paper" in r.err and "Traceback" not in r.err
    assert r.out == ""


def test_an_unreadable_paper_id_and_a_missing_database_are_refused(
    db: Path, tmp_path: Path
) -> None:
    r = run_cli("explain", "brainwash", "not an id", "--db", str(db))
    assert r.code == ExitCode.USAGE and "Cannot read" in r.err
    r = run_cli("explain", "brainwash", "1", "--db", str(tmp_path / "none.db"))
    assert r.code == ExitCode.NOT_FOUND and "no database" in r.err
