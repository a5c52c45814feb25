"""Origin papers resolve from whatever the catalog gets right, and are found again when a
stored id dies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.corpora import (
    BRAINWASH_CATALOG,
    ORIGIN_CORPUS_ID,
    add_brainwash,
    add_citers,
    use_catalog,
)
from tests.fakeapi.corpus import s2_paper
from tests.fakeapi.server import FakeApi
from tests.helpers import run_cli


def citing_titles() -> set[str]:
    run = run_cli("report", "brainwash", "--json")
    assert run.code == 0, run.err
    return {p["title"] for p in json.loads(run.out)["papers"] if p["level"] != "mentioned"}


@pytest.fixture
def corpus(fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-origin-key")
    add_brainwash(fake_api.corpus)
    origin = fake_api.corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 6)
    return fake_api


@pytest.mark.parametrize("wrong", ["999999999", "100500"], ids=["unknown", "another-paper"])
def test_a_wrong_corpus_id_gives_way_to_the_doi(
    wrong: str, corpus: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus.corpus.add_s2_paper(s2_paper(500, title="An unrelated paper on protein folding"))
    use_catalog(tmp_path, monkeypatch)
    expected_scan = run_cli("scan", "brainwash", "--quiet")
    assert expected_scan.code == 0, expected_scan.err
    expected = citing_titles()
    assert len(expected) == 9

    (tmp_path / "wrong").mkdir()
    use_catalog(
        tmp_path / "wrong", monkeypatch, BRAINWASH_CATALOG.replace(str(ORIGIN_CORPUS_ID), wrong)
    )
    run = run_cli("scan", "brainwash", "--quiet", "--json")
    assert run.code == 0, run.err
    assert citing_titles() == expected
    header = json.loads(run.out)["report"]["header"]
    assert "An unrelated paper" not in json.dumps(header)


def test_a_stored_s2_id_that_died_is_resolved_again(
    corpus: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_catalog(tmp_path, monkeypatch)
    out = tmp_path / "reports"
    assert run_cli("refresh", "brainwash", "--out", str(out), "--quiet").code == 0
    # S2 gives the origin a new paperId: the old one answers nothing any more.
    store = corpus.corpus
    old = store.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert old is not None
    paper = store.s2_papers.pop(old)
    citations = store.s2_citations.pop(old)
    for alias in [k for k, v in store.s2_alias.items() if v == old]:
        del store.s2_alias[alias]
    new = store.add_s2_paper(dict(paper, paperId="f" * 40))
    store.s2_citations[new] = citations
    store.version += 1
    again = run_cli("refresh", "brainwash", "--out", str(out), "--quiet")
    assert again.code == 0, again.err
    assert "FAILED" not in again.out
    assert len(citing_titles()) == 9


def test_an_origin_without_ids_is_found_by_its_title_and_year(
    corpus: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_ids = tmp_path / "ids"
    by_ids.mkdir()
    use_catalog(by_ids, monkeypatch)
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    expected = citing_titles()

    bare = BRAINWASH_CATALOG.replace(
        """        doi: 10.1109/cvpr.2016.255
        arxiv: "1506.04878"
        s2_corpus_id: 206593654
""",
        "",
    )
    assert "s2_corpus_id: 206593654" not in bare
    by_title = tmp_path / "title"
    by_title.mkdir()
    use_catalog(by_title, monkeypatch, bare)
    run = run_cli("scan", "brainwash", "--quiet", "--json")
    assert run.code == 0, run.err
    assert citing_titles() == expected
    notes = json.loads(run.out)["report"]["missing"]["notes"]
    assert any("by its title and year only" in n and "OpenAlex" in n for n in notes)
    assert any("by its title and year only" in n and "Semantic Scholar" in n for n in notes)


def test_a_paper_of_the_same_title_by_other_authors_is_not_taken_for_the_origin(
    corpus: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = BRAINWASH_CATALOG.replace(
        """        doi: 10.1109/cvpr.2016.255
        arxiv: "1506.04878"
        s2_corpus_id: 206593654
""",
        "",
    ).replace("    year: 2014\n", "    year: 2014\n    creators: [Russell Stewart, Mykhaylo Andriluka]\n", 1)
    assert "creators: [Russell Stewart" in bare
    use_catalog(tmp_path, monkeypatch, bare)  # the fake's records are by "Author 0", "A 0"
    run = run_cli("scan", "brainwash", "--quiet")
    assert run.code == 3, run.err
    assert "No source knows the origin papers of brainwash" in run.err
