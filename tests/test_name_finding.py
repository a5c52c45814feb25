"""The fast name finders against plain reference implementations written here.

`Gazetteer.find` must give every known name in a token list as (first token, last token + 1,
name index), and `Classifier._find_names` every name inside one comma-separated piece of a
string plus those that run on past a piece from the piece's start. The references below try
every span of tokens against the plain name table, the slowest and most obvious way there is.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.affiliation_fixtures import ror_index  # noqa: F401
from tracer.affiliations.classify import Classifier
from tracer.affiliations.gazetteer import Gazetteer
from tracer.affiliations.normalize import raw_pieces, split_affiliations, tokens


def record(rid: str, names: list[str], country: str = "NZ") -> dict[str, object]:
    return {
        "id": f"https://ror.org/{rid}",
        "names": [{"value": names[0], "types": ["ror_display", "label"]}]
        + [{"value": name, "types": ["alias"]} for name in names[1:]],
        "types": ["education"],
        "status": "active",
        "locations": [{"geonames_details": {"country_code": country, "name": "Dunedin"}}],
    }


# Names that nest, overlap, share prefixes and repeat words, so that every way a walk can go
# wrong (stopping early, missing a name inside a longer one, crossing a comma) shows.
RECORDS = [
    record("00nf00001", ["University of Otago", "Otago University"]),
    record("00nf00002", ["University of Otago Medical School", "Otago Medical School"]),
    record("00nf00003", ["Otago Polytechnic"]),
    record("00nf00004", ["Medical Research Council (New Zealand)", "Medical Research Council"]),
    record("00nf00005", ["University"]),
    record("00nf00006", ["Research Council of Otago"]),
    record("00nf00007", ["Institute of Science and Technology"]),
    record("00nf00008", ["Science and Technology Agency", "Technology Agency"]),
    record("00nf00009", ["Otago Otago Otago"]),
    record("00nf00010", ["Dunedin School of Medicine"]),
]

STRINGS = [
    "University of Otago Medical School, Dunedin, New Zealand",
    "Otago University; Otago Polytechnic",
    "Dept of Anatomy, University of Otago, Dunedin 9016, New Zealand",
    "Medical Research Council of Otago, Institute of Science and Technology Agency",
    "Otago Otago Otago Otago Otago",
    "Institute of Science and Technology, Agency (Otago), Medical School",
    "University, University of, University of Otago",
    "Research Council of Otago Polytechnic - Otago",
    "Dunedin School of Medicine, University of Otago Medical School Dunedin",
    "University of Otago Medical, School of Dunedin",
    "Medical Research Council (New Zealand), Wellington",
    "",
    "  ,  ()  ",
    "Technology Agency Technology Agency",
]


def reference_find(gaz: Gazetteer, toks: list[str] | tuple[str, ...]) -> list[tuple[int, int, int]]:
    """Every span of tokens that is a whole name, by start then end."""
    index, longest = _table(gaz)
    out = []
    for start in range(len(toks)):
        for end in range(start + 1, min(len(toks), start + longest) + 1):
            found = index.get(" ".join(toks[start:end]))
            if found is not None:
                out.append((start, end, found))
    return out


_TABLES: dict[int, tuple[dict[str, int], int]] = {}


def _table(gaz: Gazetteer) -> tuple[dict[str, int], int]:
    """The plain name -> index table of a gazetteer and its longest name in tokens."""
    if id(gaz) not in _TABLES:
        index = {name: i for i, name in enumerate(gaz.names)}
        longest = max((name.count(" ") + 1 for name in gaz.names), default=0)
        _TABLES[id(gaz)] = (index, longest)
    return _TABLES[id(gaz)]


def reference_names(gaz: Gazetteer, pieces: list[tuple[str, ...]]) -> set[tuple[int, int, int]]:
    """Names inside one piece, or starting at a piece's first token and running on past it."""
    toks = [tok for piece in pieces for tok in piece]
    starts, ends, at = set(), {}, 0
    for piece in pieces:
        starts.add(at)
        for pos in range(at, at + len(piece)):
            ends[pos] = at + len(piece)
        at += len(piece)
    return {(s, e, i) for s, e, i in reference_find(gaz, toks) if s in starts or e <= ends[s]}


def check(gaz: Gazetteer, texts: Iterable[str]) -> int:
    """Compare the fast finders with the references on every piece and part; the count."""
    classifier = Classifier(gaz)
    compared = 0
    for text in texts:
        for part in split_affiliations(text) or [text]:
            cut = []
            for raw in raw_pieces(part):
                piece = classifier._piece(raw.strip())
                assert list(piece.toks) == tokens(raw.strip())
                assert gaz.find(piece.toks) == reference_find(gaz, piece.toks), raw
                if piece.toks:
                    cut.append(piece)
            toks = [tok for piece in cut for tok in piece.toks]
            found = classifier._find_names(toks, cut)
            assert len(found) == len(set(found)), part
            assert set(found) == reference_names(gaz, [p.toks for p in cut]), part
            compared += 1
    return compared


def test_finders_agree_with_the_references_on_written_strings() -> None:
    gaz = Gazetteer.from_records(RECORDS)
    assert check(gaz, STRINGS) >= len(STRINGS)
    # What the references themselves must say, so that a wrong reference cannot pass.
    toks = tokens("University of Otago Medical School")
    names = {gaz.names[i]: (s, e) for s, e, i in reference_find(gaz, toks)}
    assert names == {
        "university": (0, 1),
        "university of otago": (0, 3),
        "university of otago medical school": (0, 5),
        "otago medical school": (2, 5),
    }
    otago = tokens("Otago Otago Otago Otago")
    assert [(s, e) for s, e, _ in gaz.find(otago)] == [(0, 3), (1, 4)]


def test_names_of_a_record_come_back_from_a_saved_index(tmp_path: Path) -> None:
    gaz = Gazetteer.from_records(RECORDS)
    gaz.save(tmp_path / "index.pickle")
    loaded = Gazetteer.load(tmp_path / "index.pickle")
    assert loaded is not None
    # The plain way: every name whose entries hold the record, in the names' (sorted) order.
    for index in range(len(gaz)):
        pairs = zip(gaz.names, gaz.entries, strict=True)
        plain = [name for name, slots in pairs if index in dict(slots)]
        assert loaded.names_of(index) == plain
    assert loaded.names_of(0) == ["otago university", "university of otago"]
    assert loaded.names_of(len(gaz)) == [] and loaded.names_of(-1) == []


def test_names_run_on_across_pieces_only_from_a_piece_start() -> None:
    gaz = Gazetteer.from_records(RECORDS)
    classifier = Classifier(gaz)
    part = "Research Council of Otago, Medical Research Council of Otago"
    cut = [classifier._piece(raw.strip()) for raw in raw_pieces(part)]
    toks = [tok for piece in cut for tok in piece.toks]
    spans = {" ".join(toks[s:e]) for s, e, _ in classifier._find_names(toks, cut)}
    assert "research council of otago" in spans  # at the start of a piece, and inside one
    assert "medical research council" in spans
    # Run on from a piece start: "Institute of Science and Technology Agency" is cut by a
    # comma inside it, the name that begins at the first piece's start still counts.
    part = "Science and, Technology Agency"
    cut = [classifier._piece(raw.strip()) for raw in raw_pieces(part)]
    toks = [tok for piece in cut for tok in piece.toks]
    found = classifier._find_names(toks, cut)
    assert {" ".join(toks[s:e]) for s, e, _ in found} == {
        "science and technology agency",
        "technology agency",
    }
    # ... but not from inside a piece: in "Institute of Science and, Technology Agency" the
    # institute runs on from the piece's start, the agency does not begin at "science".
    part = "Institute of Science and, Technology Agency"
    cut = [classifier._piece(raw.strip()) for raw in raw_pieces(part)]
    toks = [tok for piece in cut for tok in piece.toks]
    found = {" ".join(toks[s:e]) for s, e, _ in classifier._find_names(toks, cut)}
    assert found == {"institute of science and technology", "technology agency"}


def test_finders_agree_with_the_references_on_the_evaluation_sets(
    ror_index: tuple[Gazetteer, object],  # noqa: F811
) -> None:
    from benchmarks import affiliations as bench

    if not bench.EVAL.is_dir():
        pytest.skip("evaluation sets absent")
    texts = list(dict.fromkeys(row.text for rows in bench.datasets().values() for row in rows))
    assert check(ror_index[0], texts) >= len(texts)


def test_packaged_tables_read_the_same_by_either_yaml_parser() -> None:
    # The classifier reads its tables with libyaml's parser where PyYAML has it; the data must
    # be what the pure-Python safe loader reads.
    from importlib import resources

    import yaml

    from tracer.affiliations.normalize import load_yaml

    folder = resources.files("tracer.affiliations").joinpath("data")
    tables = [item for item in folder.iterdir() if item.name.endswith(".yaml")]
    assert len(tables) >= 5
    for table in tables:
        text = table.read_text(encoding="utf-8")
        assert load_yaml(text) == yaml.safe_load(text), table.name
