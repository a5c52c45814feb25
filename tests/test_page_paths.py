"""The fast paths of reading and storing a page: the same values and rows as the plain ones."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer.http.body import parse_json
from tracer.records import Author, SourceInstitution, Work
from tracer.store import Store, dumps

# JSON values as the APIs could send them: long integers, floats, text in any script.
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


def typed(value: Any) -> str:
    """repr keeps 1 apart from 1.0 and True (== does not)."""
    return repr(value)


@settings(max_examples=150, deadline=None)
@given(values, st.booleans())
def test_a_body_reads_as_the_standard_parser_reads_it(value: Any, ascii_only: bool) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        expected = json.loads(body)
    except ValueError:  # a lone surrogate written raw is not UTF-8: neither reads it
        assert parse_json(body) is None
        return
    if "\\ud" in body.decode("utf-8", "replace").lower():
        return  # escaped surrogates: the clean-up test below
    assert typed(parse_json(body)) == typed(expected)


def test_bodies_orjson_refuses_or_reads_otherwise_are_the_standard_parsers() -> None:
    cases = {
        b'{"corpusId": 123456789012345678901234567890}': {
            "corpusId": 123456789012345678901234567890
        },
        b"[-9999999999999999999]": [-9999999999999999999],
        b"[18446744073709551616]": [18446744073709551616],
        b'{"score": NaN}': None,  # compared by repr below
        b"\xef\xbb\xbf{}": {},
        b"[1e400]": [float("inf")],
        b'"a\\ud800b"': "a\ufffdb",
        b'"\\udc00"': "\ufffd",
        b'"\\ud83d\\ude00"': "\U0001f600",
        b'{"a": 1, "a": 2}': {"a": 2},
    }
    for body, expected in cases.items():
        got = parse_json(body)
        if body == b'{"score": NaN}':
            assert repr(got) == "{'score': nan}"
        else:
            assert typed(got) == typed(expected), body


def test_what_is_not_json_reads_as_none() -> None:
    for body in (b"", b"{", b"[1,]", b"null x", b"<html>", b"[" * 5000 + b"]" * 5000):
        assert parse_json(body) is None, body[:10]


def test_long_integers_anywhere_in_a_body_stay_whole() -> None:
    for body in (
        b'{"a": [1, 2, -12345678901234567890123]}',
        b'{"a":\n\t 12345678901234567890}',
        b"[[0,9999999999999999999,-9999999999999999999]]",
        b'{"n": 18446744073709551616, "s": "x"}',
        b"12345678901234567890",
    ):
        assert typed(parse_json(body)) == typed(json.loads(body)), body


# -- a page's authorships --------------------------------------------------------------------

def reference_save_authors(
    store: Store, paper_id: int, authors: Sequence[Author], source: str, rank: int
) -> None:
    """The rule of `save_authors`, one paper at a time with its own queries: a source of
    higher rank keeps its authorships; the same source's same list stays (classified); a list
    without affiliations does not replace one with some from a source of the same rank."""
    conn = store.conn
    authors_source, authors_rank = conn.execute(
        "SELECT authors_source, authors_rank FROM papers WHERE id = ?", (paper_id,)
    ).fetchone()
    if authors_source is not None and authors_rank > rank:
        return
    stored = [tuple(r) for r in conn.execute(
        "SELECT paper_id, position, name, s2_author_id, openalex_author_id, raw_affiliations,"
        " institutions, countries FROM authorships WHERE paper_id = ? ORDER BY position",
        (paper_id,),
    )]
    rows = [
        (paper_id, position, a.name, a.s2_author_id, a.openalex_author_id,
         dumps(a.raw_affiliations), dumps([vars(i) for i in a.institutions]), dumps(a.countries))
        for position, a in enumerate(authors)
    ]
    if authors_source == source and stored == rows:
        return
    brings = any(a.raw_affiliations or a.institutions for a in authors)
    had = any(r[5] != "[]" or r[6] != "[]" for r in stored)
    if had and not brings and authors_rank == rank:
        return
    conn.execute("DELETE FROM affiliations WHERE paper_id = ?", (paper_id,))
    conn.execute("DELETE FROM authorships WHERE paper_id = ?", (paper_id,))
    for row in rows:
        conn.execute(
            "INSERT INTO authorships (paper_id, position, name, s2_author_id, openalex_author_id,"
            " raw_affiliations, institutions, countries, classified)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)", row,
        )
    conn.execute("UPDATE papers SET authors_source = ?, authors_rank = ? WHERE id = ?",
                 (source, rank, paper_id))


def _authors(rng: random.Random) -> list[Author]:
    return [
        Author(
            name=rng.choice(["A", "B", "Zoë", "=cmd|' /C calc'!A0", "<b>x</b>"]),
            position=i,
            s2_author_id=rng.choice([None, "1", "2"]),
            raw_affiliations=rng.choice([[], ["Stanford University"], ["NUDT", "Megvii"]]),
            institutions=rng.choice([[], [SourceInstitution(openalex_id="I1", ror="r1",
                                                            display_name="Stanford University",
                                                            country_code="US",
                                                            type="education",
                                                            lineage=["I1"])]]),
            countries=rng.choice([[], ["US"], ["CN", "US"]]),
        )
        for i in range(rng.randrange(4))
    ]


def _author_tables(db: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(db)
    try:
        return {
            "authorships": conn.execute(
                "SELECT * FROM authorships ORDER BY paper_id, position").fetchall(),
            "affiliations": conn.execute(
                "SELECT * FROM affiliations ORDER BY paper_id, position, idx").fetchall(),
            "papers": conn.execute(
                "SELECT id, authors_source, authors_rank FROM papers ORDER BY id").fetchall(),
        }
    finally:
        conn.close()


@pytest.mark.parametrize("seed", range(25))
def test_a_page_of_authorships_is_written_as_one_paper_after_another(
    tmp_path: Path, seed: int
) -> None:
    """Pages that mix new papers, papers with another source's authorships (classified or
    not), the same source's list again (the same or changed), lists without affiliations,
    a source of lower rank, and one paper twice in a page."""
    rng = random.Random(seed)
    steps: list[tuple[str, object]] = []
    for _ in range(8):
        if rng.random() < 0.25:
            steps.append(("classify", rng.random()))
            continue
        source, rank = rng.choice([("s2", 1), ("openalex", 2), ("snapshot", 2)])
        page = [(rng.randrange(1, 9), _authors(rng)) for _ in range(rng.randrange(1, 8))]
        steps.append(("page", (source, rank, page)))
    for way in ("reference", "page"):
        with Store(tmp_path / f"{way}.db") as store:
            for i in range(1, 9):
                store.upsert_work(Work(source="s2", title=f"Paper {i}", doi=f"10.1/{i}"))
            for kind, step in steps:
                if kind == "classify":  # some authorships get affiliations
                    assert isinstance(step, float)
                    keys = store.conn.execute(
                        "SELECT paper_id, position FROM authorships ORDER BY paper_id, position"
                    ).fetchall()
                    chosen = random.Random(step).sample(keys, len(keys) // 2)
                    store.save_affiliations_many(
                        [(p, pos, [{"raw": "X", "sector": "academic"}]) for p, pos in chosen], "v"
                    )
                    continue
                source, rank, page = step  # type: ignore[misc]
                if way == "page":
                    store.save_authors_many(page, source, rank)
                else:
                    with store.transaction():
                        for paper_id, authors in page:
                            reference_save_authors(store, paper_id, authors, source, rank)
    assert _author_tables(tmp_path / "page.db") == _author_tables(tmp_path / "reference.db")
