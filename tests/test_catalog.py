"""The catalog: the packaged one is valid, and every kind of mistake is reported with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tracer.catalog import load_catalog
from tracer.config import PACKAGED_CATALOG
from tracer.errors import CatalogError, ExitCode, NotFoundError

GOOD = """\
version: 1
datasets:
  - key: brainwash
    name: Brainwash
    aliases: [Brainwash dataset]
    mentions: [Brainwash dataset]
    year: 2014
    status: {state: withdrawn, date: "2019-06"}
    fields_of_study: [Computer Science]
    origin_papers:
      - title: End-to-end people detection in crowded scenes
        arxiv: "1506.04878"
        s2_corpus_id: 206593654
    derivatives: [brainwash-crops]
  - key: brainwash-crops
    name: Brainwash crops
    mentions: [Brainwash crops]
    fields_of_study: [Computer Science]
    origin_papers:
      - title: A derived set
        doi: 10.1234/abc
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "datasets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_catalog_is_valid_and_large_enough() -> None:
    catalog = load_catalog(PACKAGED_CATALOG)
    assert len(catalog.datasets) >= 25
    brainwash = catalog.get("brainwash")
    ids = {i for paper in brainwash.origin_papers for i in paper.s2_ids()}
    assert "CorpusId:206593654" in ids
    assert "ARXIV:1506.04878" in ids
    for dataset in catalog.datasets:
        assert dataset.origin_papers, dataset.key
        assert all(paper.s2_ids() or paper.openalex for paper in dataset.origin_papers)


def test_root_catalog_is_the_packaged_one() -> None:
    root = Path(__file__).resolve().parents[1] / "datasets.yaml"
    assert root.read_text(encoding="utf-8") == PACKAGED_CATALOG.read_text(encoding="utf-8")


def test_lookup_by_alias_and_suggestion(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, GOOD))
    assert catalog.get("Brainwash Dataset").key == "brainwash"
    with pytest.raises(NotFoundError) as info:
        catalog.get("brainwsh")
    assert info.value.hint is not None and "brainwash" in info.value.hint
    assert catalog.parents_of("brainwash-crops")[0].key == "brainwash"


@pytest.mark.parametrize(
    ("broken", "line", "words"),
    [
        (GOOD.replace("    name: Brainwash\n", "    name: [Brainwash\n", 1), 5, "line 4"),
        (GOOD.replace("    name: Brainwash\n", "", 1), 3, "missing required 'name'"),
        (GOOD.replace("key: brainwash-crops", "key: brainwash"), 15, "duplicate dataset key"),
        (GOOD.replace("    year: 2014\n", "    year: 2014\n    year: 2015\n"), 8, "duplicate key"),
        (GOOD.replace('arxiv: "1506.04878"', "arxiv: not-an-id"), 12, "arXiv"),
        (GOOD.replace("state: withdrawn", "state: gone"), 8, "state"),
        (GOOD.replace("derivatives: [brainwash-crops]", "derivatives: [nope]"), 3, "nope"),
        (GOOD.replace("    year: 2014\n", "    year: 2014\n    colour: red\n"), 8, "colour"),
    ],
)
def test_malformed_catalog_names_file_and_line(
    tmp_path: Path, broken: str, line: int, words: str
) -> None:
    path = write(tmp_path, broken)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert info.value.message.startswith(f"{path}:{line}:"), info.value.message
    assert words in info.value.message

    result = run_cli("datasets", "--catalog", str(path))
    assert result.code == ExitCode.USAGE
    assert f"{path}:{line}:" in result.err
    assert "Traceback" not in result.err + result.out
    assert len([ln for ln in result.err.splitlines() if ln.strip()]) <= 2


def test_datasets_json_lists_every_entry_with_ids() -> None:
    result = run_cli("datasets", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert [d["key"] for d in data] == [d.key for d in load_catalog(PACKAGED_CATALOG).datasets]
    brainwash = next(d for d in data if d["key"] == "brainwash")
    assert brainwash["origin_papers"][0]["s2_corpus_id"] == 206593654
    assert brainwash["origin_papers"][0]["arxiv"] == "1506.04878"


def test_datasets_table_lists_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = run_cli("datasets")
    assert result.code == 0
    for dataset in load_catalog(PACKAGED_CATALOG).datasets:
        assert dataset.key in result.out


def test_catalog_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACER_CATALOG", str(write(tmp_path, GOOD)))
    result = run_cli("datasets", "--json")
    assert [d["key"] for d in json.loads(result.out)] == ["brainwash", "brainwash-crops"]


@pytest.mark.parametrize(
    ("broken", "line", "words"),
    [
        (GOOD.replace('date: "2019-06"', "date: 2019-02-30"), 8, "2019-02-30"),
        (GOOD.replace('date: "2019-06"', 'date: "2019-13"'), 8, "2019-13"),
        (GOOD.replace("    year: 2014\n", "    year: 2014\n    ? [a, b]\n    : x\n"), 8, "key"),
        (GOOD + "extra: " + "[" * 20_000 + "]" * 20_000 + "\n", GOOD.count("\n") + 1, "deep"),
        (GOOD + "extra:\n" + "".join(f"{' ' * i}- \n" for i in range(0, 400, 2)), None, "deep"),
    ],
    ids=[
        "impossible-date",
        "impossible-quoted-month",
        "list-as-key",
        "flow-nesting-20000",
        "block-nesting",
    ],
)
def test_catalog_that_yaml_reads_but_python_cannot_build_exits_2(
    tmp_path: Path, broken: str, line: int | None, words: str
) -> None:
    path = write(tmp_path, broken)
    result = run_cli("datasets", "--catalog", str(path))
    assert result.code == ExitCode.USAGE, result.err
    assert "Traceback" not in result.err + result.out
    assert "unexpectedly" not in result.err
    first = result.err.splitlines()[0]
    assert first.startswith(f"Error: {path}:{line if line else ''}"), first
    assert words in first
    assert len([ln for ln in result.err.splitlines() if ln.strip()]) <= 2
