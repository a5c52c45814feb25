"""Country detection in free text: country names and variants, regions, cities, US ZIP codes and
e-mail domains. The answer is one ISO 3166-1 alpha-2 code or None, never a guess between two."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

import ahocorasick
import yaml

from tracer.affiliations.normalize import normalize

COUNTRY, REGION, CITY = 3, 2, 1

_ZIP = re.compile(r"\b([A-Z]{2})\.?\s*(\d{5})(?:-\d{4})?\b")
_TRAILING_STATE = re.compile(r",\s*([A-Z]{2})\.?\s*$")
_EMAIL = re.compile(r"@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def _data(name: str) -> Any:
    text = resources.files("tracer.affiliations").joinpath(f"data/{name}").read_text("utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=1)
def country_names() -> dict[str, list[str]]:
    """ISO code -> names and variants, as written in data/countries.yaml."""
    data: dict[str, list[str]] = _data("countries.yaml")
    return data


class CountryDetector:
    """One Aho-Corasick pass over a normalised string finds every place name in it."""

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
        automaton = ahocorasick.Automaton()
        for key, values in entries.items():
            automaton.add_word(f" {key} ", (len(key) + 2, tuple(sorted(values))))
        automaton.make_automaton()
        self._automaton = automaton

    def places(self, norm: str) -> list[tuple[int, int, tuple[tuple[str, int], ...]]]:
        """Non-overlapping place mentions (start, end, candidates), longest first wins."""
        found = []
        for end, (length, values) in self._automaton.iter(f" {norm} "):
            found.append((end - length + 1, end, values))
        found.sort(key=lambda m: (m[0] - m[1], m[0]))
        kept: list[tuple[int, int, tuple[tuple[str, int], ...]]] = []
        for start, end, values in found:
            # Mentions share their bounding spaces; overlap means more than one shared char.
            if all(end <= s + 1 or start >= e - 1 for s, e, _ in kept):
                kept.append((start, end, values))
        kept.sort()
        return kept

    def detect(self, raw: str, norm: str | None = None) -> str | None:
        """The country an affiliation string names, or None when it names none or several."""
        if norm is None:
            norm = normalize(raw)
        votes: list[tuple[int, int, set[str]]] = []  # (strength, position, codes)
        for start, _end, values in self.places(norm):
            strength = max(kind for _, kind in values)
            codes = {code for code, _kind in values}
            votes.append((strength, start, codes))
        for match in _ZIP.finditer(raw):
            if match.group(1) in self.us_states:
                votes.append((REGION + 1, len(norm), {"US"}))
        trailing = _TRAILING_STATE.search(raw)
        if trailing and trailing.group(1) in self.us_states:
            votes.append((REGION, len(norm), {"US"}))
        for match in _EMAIL.finditer(raw):
            code = self._domain_country(match.group(1).lower())
            if code:
                votes.append((REGION, len(norm), {code}))
        if not votes:
            return None
        ranked = sorted(votes, key=lambda v: (v[0], v[1]), reverse=True)
        # The strongest, right-most unambiguous mention wins; an ambiguous one (Georgia the
        # country or the state) is settled by any other mention in the string, else skipped.
        for index, (_strength, _pos, codes) in enumerate(ranked):
            if len(codes) == 1:
                return next(iter(codes))
            others = set().union(*(c for i, (_, _, c) in enumerate(ranked) if i != index))
            agreed = codes & others
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
