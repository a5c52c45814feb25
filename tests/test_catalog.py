"""The catalog: the packaged one is valid, and every kind of mistake is reported with file and line."""

from __future__ import annotations

import csv
import json
import re
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
    assert len(catalog.datasets) >= 60
    brainwash = catalog.get("brainwash")
    ids = {i for paper in brainwash.origin_papers for i in paper.s2_ids()}
    assert "CorpusId:206593654" in ids
    assert "ARXIV:1506.04878" in ids
    for dataset in catalog.datasets:
        assert dataset.origin_papers, dataset.key
        # Every dataset can be resolved by an id; a version without one has a title and year.
        assert any(paper.s2_ids() or paper.openalex for paper in dataset.origin_papers)
        assert all(paper.title and paper.year for paper in dataset.origin_papers), dataset.key


NEW_DOI = re.compile(r"^10\.\d{4,9}/[-._;()/:a-z0-9]+$")  # Crossref's pattern, lower case
NEW_ARXIV = re.compile(r"^\d{2}(0[1-9]|1[0-2])\.\d{4,5}$")
OLD_ARXIV = re.compile(r"^[a-z-]+(\.[A-Z]{2})?/\d{2}(0[1-9]|1[0-2])\d{3}$")


def test_every_packaged_id_is_well_formed() -> None:
    for dataset in load_catalog(PACKAGED_CATALOG).datasets:
        for paper in dataset.origin_papers:
            where = f"{dataset.key}: {paper.title}"
            assert paper.doi is None or NEW_DOI.match(paper.doi), where
            assert paper.doi is None or not paper.doi.startswith("10.48550/"), where  # arxiv:
            if paper.arxiv is not None:
                assert NEW_ARXIV.match(paper.arxiv) or OLD_ARXIV.match(paper.arxiv), where
                assert int(paper.arxiv[:2]) >= 7 or "/" in paper.arxiv, where  # new style: 2007-
            corpus = paper.s2_corpus_id
            assert corpus is None or (type(corpus) is int and corpus > 0), where
            assert paper.openalex is None or re.fullmatch(r"W[1-9]\d*", paper.openalex), where
            assert paper.year is None or 1960 <= paper.year <= 2030, where
            assert paper.title == paper.title.strip() and "  " not in paper.title, where


def test_no_two_packaged_datasets_share_an_origin_id_unless_declared() -> None:
    catalog = load_catalog(PACKAGED_CATALOG)
    owners: dict[str, set[str]] = {}
    for dataset in catalog.datasets:
        for paper in dataset.origin_papers:
            for pid in [*paper.s2_ids(), *(f"DOI:{d}" for d in paper.dois()), paper.openalex]:
                if pid:
                    owners.setdefault(pid.lower(), set()).add(dataset.key)
    for pid, keys in owners.items():
        for key in keys:
            others = keys - {key}
            declared = set(catalog.get(key).shares_origin_with) | {
                d.key for d in catalog.datasets if key in d.shares_origin_with
            }
            assert others <= declared, f"{pid} is an origin of {sorted(keys)}, undeclared"
    assert owners["corpusid:459456"] == {"celeba", "lfwa"}


def test_packaged_catalog_has_every_corpus_id_of_the_citp_list(shared_data: Path) -> None:
    with (shared_data / "catalog" / "citp_face_person_datasets_s2_corpusids.csv").open() as f:
        listed = {int(row["S2 corpusId"]): row["name"] for row in csv.DictReader(f)}
    catalog = load_catalog(PACKAGED_CATALOG)
    have = {p.s2_corpus_id for d in catalog.datasets for p in d.origin_papers}
    # Left out: no origin paper could be found for these two names of the list.
    unfound = {17781221: "SPEW 2.0", 5755372: "Ego-Humans"}
    assert {k: v for k, v in unfound.items() if listed.get(k) != v} == {}
    missing = {name for corpus, name in listed.items() if corpus not in have}
    assert missing == set(unfound.values())


def test_shared_origin_must_name_another_dataset(tmp_path: Path) -> None:
    text = GOOD.replace("    derivatives: [brainwash-crops]\n", "    shares_origin_with: [nope]\n")
    with pytest.raises(CatalogError) as info:
        load_catalog(write(tmp_path, text))
    assert "nope" in info.value.message and ":3:" in info.value.message


def test_paper_without_ids_needs_a_year_to_be_found_by_title(tmp_path: Path) -> None:
    titled = GOOD.replace("        doi: 10.1234/abc\n", "        year: 2019\n")
    paper = load_catalog(write(tmp_path, titled)).get("brainwash-crops").origin_papers[0]
    assert paper.s2_ids() == [] and paper.year == 2019
    assert paper.label() == "A derived set (2019) [no ids]"
    with pytest.raises(CatalogError) as info:
        load_catalog(write(tmp_path, GOOD.replace("        doi: 10.1234/abc\n", "")))
    assert "or a year" in info.value.message
    with pytest.raises(CatalogError) as info:
        load_catalog(write(tmp_path, GOOD.replace("s2_corpus_id: 206593654", "s2_corpus_id: -4")))
    assert "-4 is not a positive number" in info.value.message


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
        (GOOD + "extra: " + "[" * 20_000 + "]" * 20_000 + "\n", GOOD.count("\n") + 1, "nest"),
        (GOOD + "extra:\n" + "".join(f"{' ' * i}- \n" for i in range(0, 400, 2)), None, "nest"),
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


def test_datasets_never_cuts_the_keys_one_types(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import run_cli

    monkeypatch.setenv("COLUMNS", "60")
    run = run_cli("datasets")
    assert run.code == 0, run.err
    keys = [d.key for d in load_catalog(PACKAGED_CATALOG).datasets]
    words = set(run.out.split())
    missing = [k for k in keys if k not in words]
    assert missing == []
