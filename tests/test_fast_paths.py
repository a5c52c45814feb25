"""The fast paths write what the slow ones wrote: JSON, dicts of the model, cleaned text."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

from tracer.affiliations.model import Affiliation, Flag
from tracer.render import text as text_module
from tracer.render.tables import json_chunks, to_json
from tracer.usage.judge import Evidence, Sign


@dataclass
class Leaf:
    score: float
    name: str
    tags: list[str] = field(default_factory=list)


@dataclass
class Tree:
    leaves: list[Leaf]
    counts: dict[str, int]
    nested: list[list[Any]]
    empty: dict[str, Any] = field(default_factory=dict)


def _slow(value: Any) -> str:
    plain = asdict(value) if isinstance(value, Tree) else value
    return json.dumps(plain, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("value", [
    Tree([Leaf(i / 7, f"n{i}", ["a"] * (i % 3)) for i in range(150)], {"x": 1}, [[1, [2]]] * 70),
    Tree([Leaf(5e-05, "tiny"), Leaf(1.2345e-07, "tinier"), Leaf(1e16, "huge")], {}, []),
    Tree([Leaf(0.5, "Ünïcode \u2028 \"quoted\" \\ 0.00001")] * 80, {"é": 2}, [[]] * 90),
    [],
    {},
    {"a": [], "b": {}, "c": None, "d": True, "e": "0.0000"},
    [{"k": [1, 2, {"z": []}]}] * 100,
])
def test_json_is_the_stdlib_text(value: Any) -> None:
    assert to_json(value) == _slow(value)


def test_json_is_written_in_pieces() -> None:
    tree = Tree([Leaf(0.25, f"paper {i}") for i in range(1000)], {}, [])
    pieces = list(json_chunks(tree))
    assert len(pieces) > 1000  # one or more per paper, never the whole text at once
    assert max(len(p) for p in pieces) < 200


def test_model_dicts_are_asdict() -> None:
    flag = Flag("us-entity-list", "US Entity List", "company", "https://x", "2019-10", None)
    aff = Affiliation("NUDT, Changsha", "https://ror.org/05d2yfz11", "NUDT", None, None, "CN",
                      "military", [flag], 0.9, "ror-exact")
    assert aff.to_dict() == asdict(aff)
    assert list(aff.to_dict()) == list(asdict(aff))
    assert flag.to_dict() == asdict(flag)
    evidence = Evidence("context", "We train on X.", "s2", "X")
    sign = Sign("train-on", 1.5, "log-odds", "We train on X.", "context", "s2")
    assert evidence.to_dict() == asdict(evidence) and list(evidence.to_dict()) == list(asdict(evidence))
    assert sign.to_dict() == asdict(sign) and list(sign.to_dict()) == list(asdict(sign))


def _clean_slowly(text: str) -> str:
    text = text_module._SEQUENCE.sub("", text)
    text = text_module._BREAKS.sub(" ", text.replace("\r\n", " ").replace("\r", " "))
    return text_module._CONTROL.sub("", text)


@pytest.mark.parametrize("text", [
    "A plain title", "Ünïcode title", "tab\there", "line\nbreak", "cr\r\nlf", "\x1b]0;owned\x07x",
    "\x1b[2Jclear", "bidi \u202e reversed", "sep \u2028 line", "nel \x85 x", "del \x7f x",
    "\x9b31mred", "\u2066isolate\u2069", "zero\x00byte",
])
def test_clean_line_fast_path_changes_nothing(text: str) -> None:
    assert text_module.clean_line(text) == _clean_slowly(text)


def _normalize_slowly(title: str) -> str:
    import unicodedata

    from tracer.merge import _NON_WORD

    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _NON_WORD.sub(" ", text).strip()


@pytest.mark.parametrize("title", [
    "End-to-End People Detection in Crowded Scenes", "  MS-Celeb-1M: A Dataset!  ", "ALL CAPS",
    "tab\tand\nnewline", "Über die Zählung von Menschenmengen", "Ｆｕｌｌｗｉｄｔｈ ﬁ ligature",
    "naïve café", "", "1234", "İstanbul", "ß and ẞ",
])
def test_title_key_fast_path_changes_nothing(title: str) -> None:
    from tracer.merge import normalize_title

    assert normalize_title(title) == _normalize_slowly(title)
