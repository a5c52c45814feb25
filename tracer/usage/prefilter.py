"""Cheap tests that rule a pattern out before it is searched: the words any match must hold.

Most of the judge's patterns start with a word boundary and a choice of words
(`\\b(?:performed|conducted|...)`) or are matched without regard to case; Python's regex engine
then tries them at every place of the sentence, which costs far more than looking for a word
with `in`. From each pattern's parse tree we take sets of literal strings such that every match
holds at least one string of each set (the words of a branch, a run of literal characters, the
body of a repeat taken at least once). When one set has no string in the text, the pattern
cannot match there and is not searched; otherwise it is searched as before. The answers are
the same by construction (tests/test_judge_fast.py compares them with the patterns run alone).

Case: a literal read without regard to case is looked for in the lower-cased text, which is
exact for ASCII text only (the engine also matches "ſ" with "s" and "K" with "k"); in a text
that is not ASCII such a set never rules a pattern out.
"""

from __future__ import annotations

import re
from typing import Any

try:  # the parser the `re` module compiles with (private, but stable since 3.11)
    from re import _constants as _sre  # type: ignore[attr-defined]
    from re import _parser as _parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another Python: no prefilter, every pattern searched
    _sre = _parse = None

# A set of alternatives: (literal, read without regard to case)
_Alternatives = tuple[tuple[str, bool], ...]
_MAX_ALTERNATIVES = 80


class Guard:
    """A set of strings any match of one pattern holds one of: those to find in the text the
    pattern reads, and those (read without regard to case) to find in its lower case."""

    __slots__ = ("folded", "written")

    def __init__(self, written: tuple[str, ...], folded: tuple[str, ...]) -> None:
        self.written = written
        self.folded = folded

    def may_match(self, text: str, low: str, ascii_text: bool) -> bool:
        """False only when the pattern cannot match `text`, or any part of it. `low` is
        `text.lower()`; `ascii_text` is `text.isascii()`."""
        if self.written and any(map(text.__contains__, self.written)):
            return True
        if self.folded:
            return not ascii_text or any(map(low.__contains__, self.folded))
        return False


def guard(pattern: re.Pattern[str]) -> Guard | None:
    """The guard of a compiled pattern, or None where a guard would not pay: the pattern starts
    with a literal (the engine then skips to it as fast as `in` could), or its tree holds
    nothing a match must contain (or something unforeseen). Of the sets found, the one with
    fewest strings of three letters and more, else the one with fewest strings."""
    if _parse is None:
        return None
    try:
        tree = list(_parse.parse(pattern.pattern, pattern.flags))
        folded = bool(pattern.flags & re.IGNORECASE)
        if tree and tree[0][0] is _sre.LITERAL and not folded:
            return None
        sets = _sequence(tree, folded)
    except (re.error, ValueError, TypeError, AttributeError, IndexError, RecursionError):
        return None
    if not sets:
        return None
    best = min(sets, key=lambda s: (min(len(lit) for lit, _ in s) < 3, len(s)))
    return Guard(tuple(lit for lit, f in best if not f), tuple(lit for lit, f in best if f))


def _sequence(items: list[tuple[Any, Any]], folded: bool) -> list[_Alternatives]:
    """Every set a match of this sequence of parse items must satisfy."""
    sets: list[_Alternatives] = []
    run: list[str] = []

    def close() -> None:
        if run:
            sets.append((("".join(run), folded),))
            run.clear()

    for op, arg in items:
        if op is _sre.LITERAL:
            char = chr(arg)
            if folded and not char.isascii():
                close()  # a non-ASCII letter read without case may match an ASCII one
                continue
            run.append(char.lower() if folded else char)
            continue
        close()
        if op is _sre.BRANCH:
            union = _branch(arg[1], folded)
            if union is not None:
                sets.append(union)
        elif op is _sre.SUBPATTERN:
            _, add, remove, body = arg
            inner = folded
            if add & re.IGNORECASE:
                inner = True
            if remove & re.IGNORECASE:
                inner = False
            sets.extend(_sequence(list(body), inner))
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)):
            low, _, body = arg
            if low >= 1:
                sets.extend(_sequence(list(body), folded))
        elif op is getattr(_sre, "ATOMIC_GROUP", None):
            sets.extend(_sequence(list(arg), folded))
        # AT, IN, ANY, CATEGORY, NOT_LITERAL, lookarounds, group references: nothing required
    close()
    return sets


def _branch(alternatives: list[Any], folded: bool) -> _Alternatives | None:
    """A set for a branch: each alternative's best set, joined (None if one has none)."""
    union: list[tuple[str, bool]] = []
    for alternative in alternatives:
        sets = _sequence(list(alternative), folded)
        if not sets:
            return None
        best = max(sets, key=lambda s: (min(len(lit) for lit, _ in s), -len(s)))
        union.extend(best)
    union = list(dict.fromkeys(union))
    if not union or len(union) > _MAX_ALTERNATIVES:
        return None
    return tuple(union)
