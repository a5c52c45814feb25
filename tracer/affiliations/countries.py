"""Country detection in free text: country names and variants, regions, cities, US ZIP codes and
e-mail domains. The answer is one ISO 3166-1 alpha-2 code or None, never a guess between two."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

from tracer.affiliations.normalize import load_yaml, normalize

COUNTRY, REGION, CITY = 3, 2, 1

_ZIP = re.compile(r"\b([A-Z]{2})\.?\s*(\d{5})(?:-\d{4})?\b")
# lookup.get default for "no place name starts so" (None marks a proper prefix).
_ABSENT: tuple[tuple[str, int], ...] = (("", -1),)
_FIVE_DIGITS = re.compile(r"\d{5}")
_TRAILING_STATE = re.compile(r",\s*([A-Z]{2})\.?\s*$")
_INSIDE_CN = frozenset({"HK", "MO", "TW"})  # ISO codes of their own, often written "..., China"
_EMAIL = re.compile(r"@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def _data(name: str) -> Any:
    text = resources.files("tracer.affiliations").joinpath(f"data/{name}").read_text("utf-8")
    return load_yaml(text)


@lru_cache(maxsize=1)
def country_names() -> dict[str, list[str]]:
    """ISO code -> names and variants, as written in data/countries.yaml."""
    data: dict[str, list[str]] = _data("countries.yaml")
    return data


Place = tuple[int, int, tuple[tuple[str, int], ...]]  # first token, end token, candidates
Vote = tuple[int, int, tuple[str, ...]]  # strength, first token, codes


class CountryDetector:
    """Place names found by a walk over each piece's tokens in a dict of every token prefix of
    every place name; a piece's places are remembered, since pieces ("Beijing 100190",
    "China") repeat across strings."""

    def __init__(self, extra_cities: Iterable[tuple[str, str]] = ()) -> None:
        places = _data("places.yaml")
        entries: dict[str, set[tuple[str, int]]] = {}

        def add(name: str, code: str, kind: int) -> None:
            key = normalize(name)
            if key:
                entries.setdefault(key, set()).add((code, kind))

        for code, names in country_names().items():
            for name in names:
                add(name, code, COUNTRY)
        for code, names in places["regions"].items():
            for name in names:
                add(name, code, REGION)
        for code, names in places["cities"].items():
            for name in names:
                add(name, code, CITY)
        for name, code in extra_cities:
            key = normalize(name)
            if key and key not in entries:
                entries[key] = {(code, CITY)}
        self.us_states = frozenset(places["us_state_codes"])
        domains = _data("email_domains.yaml")
        self.domains: dict[str, str | None] = {str(k): v for k, v in domains.items()}
        self.codes = frozenset(country_names())
        # name -> candidates; a proper prefix of some name -> None.
        lookup: dict[str, tuple[tuple[str, int], ...] | None] = {}
        for key in entries:
            parts = key.split(" ")
            for size in range(1, len(parts)):
                lookup.setdefault(" ".join(parts[:size]), None)
        for key, values in entries.items():
            lookup[key] = tuple(sorted(values))
        self._lookup = lookup
        # Each distinct candidate set as a vote (strongest kind, codes), worked out once.
        self._forms = {
            values: (max(kind for _, kind in values), tuple({code for code, _ in values}))
            for values in set(lookup.values())
            if values is not None
        }
        self._memo: dict[tuple[str, ...], list[Place]] = {}
        self._votes: dict[tuple[str, ...], list[Vote]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in {"_memo", "_votes"}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._memo, self._votes = {}, {}

    def places(self, norm: str) -> list[Place]:
        """Non-overlapping place mentions in a normalised string (token offsets)."""
        return self.piece_places(tuple(norm.split()))

    def piece_places(self, toks: tuple[str, ...]) -> list[Place]:
        """Non-overlapping place mentions in one piece, the longest first, in token offsets."""
        memo = self._memo.get(toks)
        if memo is not None:
            return memo
        found = self._places(toks)
        if len(self._memo) > 1 << 16:
            self._memo.clear()
        self._memo[toks] = found
        return found

    def _places(self, toks: tuple[str, ...]) -> list[Place]:
        lookup = self._lookup
        if lookup.keys().isdisjoint(toks):
            return []  # no token begins a place name: most pieces, checked in one C call
        found: list[Place] = []
        count = len(toks)
        for start in range(count):
            key = toks[start]
            values = lookup.get(key, _ABSENT)
            end = start + 1
            while values is not _ABSENT:
                if values is not None:
                    found.append((start, end, values))
                if end >= count:
                    break
                key = key + " " + toks[end]
                values = lookup.get(key, _ABSENT)
                end += 1
        if len(found) > 1:
            found.sort(key=lambda m: (m[0] - m[1], m[0]))
            kept: list[Place] = []
            for start, end, values in found:
                if all(end <= s or start >= e for s, e, _ in kept):
                    kept.append((start, end, values))
            kept.sort()
            found = kept
        return found

    def _piece_votes(self, toks: tuple[str, ...]) -> list[Vote]:
        votes = self._votes.get(toks)
        if votes is None:
            votes = self.piece_votes(toks)
            if len(self._votes) > 1 << 16:
                self._votes.clear()
            self._votes[toks] = votes
        return votes

    def piece_votes(self, toks: tuple[str, ...]) -> list[Vote]:
        """The places of one piece as votes (strength, first token, codes), for callers that
        keep their own per-piece cache and then call `detect_votes`."""
        forms = self._forms
        votes: list[Vote] = []
        for start, _end, values in self._places(toks):
            kind, codes = forms[values]
            votes.append((kind, start, codes))
        return votes

    def is_place(self, toks: tuple[str, ...]) -> bool:
        """Whether the words are, all of them, one place's name ("republic of belarus")."""
        return any(s == 0 and e == len(toks) for s, e, _values in self._places(toks))

    def detect(self, raw: str, norm: str | None = None) -> str | None:
        """The country an affiliation string names, or None when it names none or several."""
        toks = tuple((norm if norm is not None else normalize(raw)).split())
        return self.detect_pieces(raw, [toks])

    def detect_pieces(self, raw: str, pieces: list[tuple[str, ...]]) -> str | None:
        """`detect` on a string already cut into tokenised pieces (names never cross a piece)."""
        return self.detect_strength(raw, pieces)[0]

    def detect_strength(self, raw: str, pieces: list[tuple[str, ...]]) -> tuple[str | None, int]:
        """The country and the strongest kind of evidence for it (COUNTRY, REGION, CITY; 0
        for none): a city alone is a weak hint, often a word inside a name ("Sloan
        Kettering", "Nanyang Technological University")."""
        votes: list[Vote] = []  # (strength, position, codes)
        offset = 0
        for piece in pieces:
            for strength, start, codes in self._piece_votes(piece):
                votes.append((strength, offset + start, codes))
            offset += len(piece)
        return self.detect_votes(raw, votes, offset)

    def detect_votes(self, raw: str, votes: list[Vote], offset: int) -> tuple[str | None, int]:
        """`detect_strength` from the votes of the string's pieces (positions in the string's
        tokens, `offset` tokens in all); adds the ZIP code, state and e-mail votes of `raw`
        to `votes`."""
        if _FIVE_DIGITS.search(raw):  # a plain search, far cheaper than _ZIP's
            for match in _ZIP.finditer(raw):
                if match.group(1) in self.us_states:
                    votes.append((REGION + 1, offset, ("US",)))
        trailing = _TRAILING_STATE.search(raw)
        if trailing and trailing.group(1) in self.us_states:
            votes.append((REGION, offset, ("US",)))
        if "@" in raw:
            for match in _EMAIL.finditer(raw):
                code = self._domain_country(match.group(1).lower())
                if code:
                    votes.append((REGION, offset, (code,)))
        if not votes:
            return None, 0
        strength = max(v[0] for v in votes)
        code = self._choose(votes)
        return code, strength if code else 0

    @staticmethod
    def _choose(votes: list[Vote]) -> str | None:
        codes = votes[0][2]
        if len(votes) == 1:
            return codes[0] if len(codes) == 1 else None
        if len(codes) == 1 and len({v[2] for v in votes}) == 1:
            return codes[0]  # every mention names the same one country: the common case
        # "Kowloon, Hong Kong, China": the special region is the more precise answer.
        special = {c for v in votes for c in v[2] if c in _INSIDE_CN and len(v[2]) == 1}
        if len(special) == 1 and all(set(v[2]) <= special | {"CN"} for v in votes):
            return special.pop()
        ranked = sorted(votes, key=lambda v: (v[0], v[1]), reverse=True)
        # The strongest, right-most unambiguous mention wins; an ambiguous one (Georgia the
        # country or the state) is settled by any other mention in the string, else skipped.
        for index, (_strength, _pos, codes) in enumerate(ranked):
            if len(codes) == 1:
                return codes[0]
            others: set[str] = set()
            for i, (_, _, c) in enumerate(ranked):
                if i != index:
                    others.update(c)
            agreed = set(codes) & others
            if len(agreed) == 1:
                return next(iter(agreed))
        return None

    def _domain_country(self, domain: str) -> str | None:
        parts = domain.split(".")
        for size in (2, 1):
            ending = ".".join(parts[-size:])
            if ending in self.domains:
                return self.domains[ending]
        tld = parts[-1].upper()
        return tld if len(tld) == 2 and tld in self.codes else None


@lru_cache(maxsize=1)
def default_detector() -> CountryDetector:
    return CountryDetector()


def detect_country(text: str) -> str | None:
    return default_detector().detect(text)
