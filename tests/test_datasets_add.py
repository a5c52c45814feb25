"""`tracer datasets add`: a new dataset from its paper's DOI, arXiv id or title, resolved against
the fake S2 and OpenAlex, shown, confirmed, written to the user's own catalog, then scanned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.fakeapi import FakeApi, openalex_work, s2_paper
from tests.helpers import run_cli
from tracer.catalog import load_catalog, user_catalog_path
from tracer.catalog_add import parse_reference
from tracer.cli import datasets as datasets_cli
from tracer.config import PACKAGED_CATALOG
from tracer.errors import ExitCode

TITLE = "CrowdFaces: A Benchmark of Faces in Crowds"
DOI = "10.5555/crowdfaces.2019"
ARXIV = "1905.01234"


@pytest.fixture
def paper(fake_api: FakeApi) -> FakeApi:
    corpus = fake_api.corpus
    corpus.add_s2_paper(
        s2_paper(
            1,
            title=TITLE,
            year=2019,
            venue="CVPR",
            corpusId=424242,
            externalIds={"DOI": DOI.upper(), "ArXiv": ARXIV, "CorpusId": 424242},
            authors=[
                {"authorId": "1", "name": "Ada Lovelace"},
                {"authorId": "2", "name": "Alan Turing"},
            ],
        )
    )
    citing = corpus.add_s2_paper(s2_paper(2, title="We train on CrowdFaces", year=2021))
    corpus.add_s2_citation("CorpusId:424242", citing, contexts=["We train on CrowdFaces [3]."])
    corpus.add_openalex_work(
        openalex_work(
            1,
            title=TITLE,
            doi=f"https://doi.org/{DOI}",
            publication_year=2019,
            publication_date="2019-06-01",
        )
    )
    corpus.add_openalex_work(
        openalex_work(
            2,
            title=TITLE.upper(),
            doi=f"https://doi.org/10.48550/arxiv.{ARXIV}",
            publication_year=2019,
            publication_date="2019-05-03",
        )
    )
    return fake_api


def written() -> dict:
    return yaml.safe_load(user_catalog_path().read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "given", [DOI, f"https://doi.org/{DOI}", f"arXiv:{ARXIV}v2", TITLE.lower()]
)
def test_add_resolves_the_paper_writes_it_and_scan_finds_it(paper: FakeApi, given: str) -> None:
    result = run_cli("datasets", "add", given, "--yes")
    assert result.code == 0, result.err
    assert "key: crowdfaces" in result.out and "name: CrowdFaces" in result.out
    assert f"Added crowdfaces to {user_catalog_path()}" in result.err
    entry = written()["datasets"][0]
    assert entry["creators"] == ["Ada Lovelace", "Alan Turing"]
    first, second = entry["origin_papers"]
    assert first == {
        "title": TITLE,
        "year": 2019,
        "venue": "CVPR",
        "doi": DOI,
        "arxiv": ARXIV,
        "s2_corpus_id": 424242,
        "openalex": "W7000001",
    }
    assert second["openalex"] == "W7000002" and second["arxiv"] == ARXIV
    assert "doi" not in second  # arXiv's DOI is written as the arXiv id

    listed = json.loads(run_cli("datasets", "--json").out)
    assert [d["key"] for d in listed][-1] == "crowdfaces"
    assert len(listed) == len(load_catalog(PACKAGED_CATALOG, with_user=False).datasets) + 1
    scan = run_cli("scan", "crowdfaces", "--no-mentions", "--json", "--quiet")
    assert scan.code in (0, 5), scan.err
    titles = [p["title"] for p in json.loads(scan.out)["report"]["papers"]]
    assert "We train on CrowdFaces" in titles


def test_options_set_key_name_aliases_and_a_second_add_appends(paper: FakeApi) -> None:
    first = run_cli(
        "datasets",
        "add",
        DOI,
        "--key",
        "crowd-faces",
        "--name",
        "Crowd Faces",
        "--alias",
        "CF-19",
        "--alias",
        "CrowdFaces set",
        "--yes",
    )
    assert first.code == 0, first.err
    before = user_catalog_path().read_text(encoding="utf-8")
    paper.corpus.add_s2_paper(
        s2_paper(
            9,
            title="Another Set: Faces Elsewhere",
            year=2020,
            corpusId=9999,
            externalIds={"CorpusId": 9999},
        )
    )
    second = run_cli("datasets", "add", "another set: faces elsewhere", "--yes")
    assert second.code == 0, second.err
    after = user_catalog_path().read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n"))  # appended, the first entry untouched
    entries = written()["datasets"]
    assert [e["key"] for e in entries] == ["crowd-faces", "another-set"]
    assert entries[0]["aliases"] == ["CF-19", "CrowdFaces set"]
    assert entries[0]["mentions"] == ["Crowd Faces", "CF-19", "CrowdFaces set"]
    assert load_catalog(PACKAGED_CATALOG).get("CF-19").key == "crowd-faces"


def test_not_found_is_one_sentence_and_exit_3(paper: FakeApi) -> None:
    for given in ("10.5555/nothing.here", "Totally unknown words of no paper at all"):
        result = run_cli("datasets", "add", given, "--yes")
        assert result.code == ExitCode.NOT_FOUND, result.err
        assert result.err.startswith("Error: Neither Semantic Scholar nor OpenAlex knows")
        assert "Traceback" not in result.err
    assert not user_catalog_path().exists()


def test_a_paper_already_in_the_catalog_is_refused(paper: FakeApi) -> None:
    paper.corpus.add_s2_paper(
        s2_paper(
            5,
            title="End-to-end people detection in crowded scenes",
            year=2016,
            externalIds={"DOI": "10.1109/CVPR.2016.255", "CorpusId": 206593654},
            corpusId=206593654,
        )
    )
    result = run_cli("datasets", "add", "10.1109/cvpr.2016.255", "--yes")
    assert result.code == ExitCode.USAGE
    assert "already that of brainwash" in result.err
    assert run_cli("datasets", "add", DOI, "--yes").code == 0
    again = run_cli("datasets", "add", f"arXiv:{ARXIV}", "--key", "other-key", "--yes")
    assert again.code == ExitCode.USAGE and "already that of crowdfaces" in again.err
    same_key = run_cli("datasets", "add", f"arXiv:{ARXIV}", "--key", "lfw", "--yes")
    assert same_key.code == ExitCode.USAGE and "the key 'lfw' is already" in same_key.err
    assert len(written()["datasets"]) == 1


def test_without_a_terminal_it_asks_for_yes(
    paper: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli("datasets", "add", DOI)
    assert result.code == ExitCode.USAGE
    assert "No terminal to confirm on" in result.err and "--yes" in result.err
    assert "key: crowdfaces" in result.out  # shown all the same
    assert not user_catalog_path().exists()

    monkeypatch.setattr(datasets_cli, "_can_prompt", lambda: True)
    declined = run_cli("datasets", "add", DOI, input="n\n")
    assert declined.code == 0 and "Nothing written." in declined.err
    assert not user_catalog_path().exists()
    accepted = run_cli("datasets", "add", DOI, input="y\n")
    assert accepted.code == 0 and "Add crowdfaces to" in accepted.err
    assert written()["datasets"][0]["key"] == "crowdfaces"


def test_unwritable_catalog_file_exits_7(paper: FakeApi, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = run_cli("datasets", "add", DOI, "--yes", "--catalog", str(blocker / "mine.yaml"))
    assert result.code == ExitCode.DATA, result.err
    assert result.err.startswith(f"Error: Cannot write the catalog file {blocker / 'mine.yaml'}")
    assert "Traceback" not in result.err


def test_env_catalog_is_appended_in_its_own_layout(
    paper: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path / "team.yaml"
    text = (
        "# Our team's catalog\nversion: 1\ndatasets:\n"
        "    - key: ours\n      name: Ours\n      mentions: [Ours dataset]\n"
        "      fields_of_study: [Computer Science]\n"
        "      origin_papers:\n        - title: Our paper\n          doi: 10.5555/ours\n"
    )
    own.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TRACER_CATALOG", str(own))
    result = run_cli("datasets", "add", DOI, "--yes")
    assert result.code == 0, result.err
    assert own.read_text(encoding="utf-8").startswith(text)
    assert "    - key: crowdfaces" in own.read_text(encoding="utf-8")
    assert [d.key for d in load_catalog(own).datasets] == ["ours", "crowdfaces"]
    assert "Scan it with: tracer scan crowdfaces" in result.err
    assert not user_catalog_path().exists()

    own.write_text(text + "extra: [1, 2]\n", encoding="utf-8")
    stuck = run_cli("datasets", "add", DOI, "--key", "crowd-2", "--yes")
    assert stuck.code == ExitCode.USAGE
    assert "Cannot append to" in stuck.err


def test_user_catalog_may_not_repeat_a_packaged_key() -> None:
    path = user_catalog_path()
    path.write_text(
        "version: 1\ndatasets:\n  - key: lfw\n    name: Mine\n    mentions: [Mine]\n"
        "    fields_of_study: [Computer Science]\n"
        "    origin_papers:\n      - title: Mine\n        year: 2020\n",
        encoding="utf-8",
    )
    result = run_cli("datasets")
    assert result.code == ExitCode.USAGE
    assert result.err.startswith(f"Error: {path}:3: dataset key 'lfw' is already in the packaged")


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("10.1109/CVPR.2016.255", "doi", "10.1109/cvpr.2016.255"),
        ("doi:10.1109/cvpr.2016.255", "doi", "10.1109/cvpr.2016.255"),
        ("https://doi.org/10.48550/arXiv.1506.04878", "arxiv", "1506.04878"),
        ("https://arxiv.org/abs/1506.04878v3", "arxiv", "1506.04878"),
        ("1506.04878", "arxiv", "1506.04878"),
        ("cs/0112017", "arxiv", "cs/0112017"),
        ("Deep Face  Recognition\n", "title", "Deep Face Recognition"),
        ("10 years of faces", "title", "10 years of faces"),
    ],
)
def test_what_the_user_typed_is_told_apart(text: str, kind: str, value: str) -> None:
    ref = parse_reference(text)
    assert (ref.kind, ref.value) == (kind, value)


def test_one_source_down_still_adds_from_the_other(paper: FakeApi) -> None:
    paper.inject(r"^/graph/v1/", status=500, times=None)
    refused = run_cli("datasets", "add", DOI, "--yes")
    assert refused.code == ExitCode.USAGE and "--field" in refused.err  # S2 gave the fields
    assert "Note: Semantic Scholar could not be asked" in refused.err
    result = run_cli("datasets", "add", DOI, "--field", "Computer Science", "--yes")
    assert result.code == 0, result.err
    assert "Note: Semantic Scholar could not be asked" in result.err
    papers = written()["datasets"][0]["origin_papers"]
    assert {p.get("openalex") for p in papers} == {"W7000001", "W7000002"}
    assert all("s2_corpus_id" not in p for p in papers)


def test_both_sources_down_is_a_network_error(paper: FakeApi) -> None:
    paper.inject(r"^/(graph/v1|openalex)/", status=500, times=None)
    result = run_cli("datasets", "add", DOI, "--yes")
    assert result.code == ExitCode.NETWORK, result.err
    assert result.err.startswith("Error: Neither Semantic Scholar nor OpenAlex could be asked")
    assert not user_catalog_path().exists()
