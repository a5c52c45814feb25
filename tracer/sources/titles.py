"""Matching a paper by its title: what "the same title" and "the same year" mean.

Title searches (S2 `/paper/search/match`, OpenAlex `title.search`) answer with the closest
titles they have, not with the paper asked for. A hit is taken only when its title is the same
after folding case, accents, punctuation and spacing, and, where a year is known, when it came
out within a year of it (a preprint, its proceedings and its journal version differ by one).
"""

from __future__ import annotations

from tracer.merge import normalize_title


def same_title(a: str | None, b: str | None) -> bool:
    left = normalize_title(a)
    return bool(left) and left == normalize_title(b)


def year_close(wanted: int | None, found: int | None, slack: int = 1) -> bool:
    """True when no year is wanted, or the found year is within `slack` of it."""
    if wanted is None:
        return True
    return found is not None and abs(found - wanted) <= slack


def search_words(title: str) -> str:
    """The title as plain lower-case words: no commas (filter separators), no colons, no
    upper-case AND/OR/NOT (which would turn an OpenAlex search into a boolean one)."""
    return normalize_title(title)
