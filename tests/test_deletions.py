"""The spelling table: words found by their forms with one letter left out, as a dict of every
form would find them."""

from __future__ import annotations

import pickle
import zlib

from tracer.affiliations.deletions import Deletions, forms_of

WORDS = ["university", "universidad", "committee", "institute", "institut", "akademie",
         "académie", "мгу", "технологий", "kadtatiz", "hosdwbvz", "lab", "x2000"]


def _by_form(words: list[str]) -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for word in words:
        if len(word) >= 5 and word.isalpha():
            for form in forms_of(word):
                table.setdefault(form, set()).add(word)
    return table


def test_every_form_finds_the_words_that_give_it_and_no_other() -> None:
    table = Deletions(WORDS)
    expected = _by_form(WORDS)
    for form, words in expected.items():
        found = table.get(form)
        assert sorted(found) == sorted(words), form
        assert len(found) == len(set(found)), form  # "committee" without either t: once
    for text in ("universty", "nstitute", "lab", "x200", "", "zzzzzzz", "universitty"):
        assert set(table.get(text)) == expected.get(text, set()), text


def test_two_forms_that_share_a_hash_are_kept_apart() -> None:
    # CRC-32 gives these two forms one value: each still finds only its own word.
    assert zlib.crc32(b"kadtati") == zlib.crc32(b"hosdwbv")
    table = Deletions(WORDS)
    assert table.get("kadtati") == ["kadtatiz"]
    assert table.get("hosdwbv") == ["hosdwbvz"]


def test_short_and_non_letter_words_are_left_out() -> None:
    table = Deletions(WORDS)
    assert "lab" not in table.words and "x2000" not in table.words and "мгу" not in table.words
    assert table.get("x200") == [] and table.get("ла") == []


def test_the_table_survives_the_index_pickle() -> None:
    table = Deletions(WORDS)
    again = pickle.loads(pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == table and again.get("universty") == ["university"]
