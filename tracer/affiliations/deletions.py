"""Words by their forms with one letter left out ("univesity" is "university" without its
second "r"), for spelling corrections, held in two arrays of ints instead of a dict of strings.

Every word of five letters or more of ROR's names gives one form per letter: about 375,000
forms for the partial dump. As a dict of form -> [words] that table took 70 MB of a scan's
memory (a string, a list and a dict slot a form, about 190 bytes); here a form is 8 bytes, the
CRC-32 of its text beside the number of its word, sorted by the first. A look-up finds the run
of its hash by bisection and keeps only the words that give the form (two forms may share a
hash), so it answers exactly what the dict answered.
"""

from __future__ import annotations

import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable

MIN_LETTERS = 5  # shorter words are not corrected: too many words lie one letter apart


def forms_of(word: str) -> set[str]:
    """The word with each of its letters left out in turn."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def gives(word: str, form: str) -> bool:
    """Whether leaving one letter out of `word` gives `form`."""
    if len(word) != len(form) + 1:
        return False
    i, size = 0, len(form)
    while i < size and word[i] == form[i]:
        i += 1
    return word[i + 1 :] == form[i:]


class Deletions:
    """The words of five letters or more of `words` (letters only), found by their forms."""

    __slots__ = ("words", "hashes", "slots")

    def __init__(self, words: Iterable[str]) -> None:
        kept = tuple(w for w in words if len(w) >= MIN_LETTERS and w.isalpha())
        pairs = sorted({(_hash(form), i) for i, word in enumerate(kept) for form in forms_of(word)})
        self.words = kept
        self.hashes = array("I", (h for h, _ in pairs))
        self.slots = array("i", (i for _, i in pairs))

    def get(self, form: str) -> list[str]:
        """The words that give `form` with one letter left out."""
        hashes, key = self.hashes, _hash(form)
        at = bisect_left(hashes, key)
        found = []
        while at < len(hashes) and hashes[at] == key:
            word = self.words[self.slots[at]]
            if gives(word, form):
                found.append(word)
            at += 1
        return found

    def __len__(self) -> int:
        return len(self.hashes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Deletions):
            return NotImplemented
        return (self.words, self.hashes, self.slots) == (other.words, other.hashes, other.slots)

    def __hash__(self) -> int:
        return hash(self.words)
