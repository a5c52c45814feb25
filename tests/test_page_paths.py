"""The fast paths of reading and storing a page: the same values and rows as the plain ones."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tracer.http.body import parse_json

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
