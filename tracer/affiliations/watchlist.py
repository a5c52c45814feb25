"""The curated watchlist (data/watchlist.yaml): institutions on public lists, matched by ROR id
or by an exact alias that stands as a whole name in the string."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tracer.affiliations.model import Flag
from tracer.affiliations.normalize import normalize, tokens
from tracer.errors import DataError

# A name followed by one of these goes on ("Nanjing University of Aeronautics ..."): it is the
# start of a longer name, not the listed institution.
_CONTINUES = frozenset({"of", "for", "and", "in", "at", "de", "di", "du"})
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
_PAREN_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")
# Capitals (and digits) up to the end of an ASCII word; the start is checked by hand, since a
# pattern that starts with a look-behind is tried at every position.
_CAPITALS = re.compile(r"[A-Z][A-Z0-9]+(?![A-Za-z0-9])")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def strip_suffix(name: str) -> str:
    """A name without its trailing parenthesis: "Megvii (China)" -> "Megvii"."""
    return _PAREN_SUFFIX.sub("", name)


@dataclass(frozen=True)
class Entry:
    key: str
    name: str
    ror: str | None  # full ROR URL
    country: str | None
    sector: str | None
    aliases: tuple[str, ...]
    flags: tuple[Flag, ...]


class Watchlist:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.by_ror = {e.ror: e for e in entries if e.ror}
        self.by_key = {e.key: e for e in entries}
        # Phrase lookup like the gazetteer's: every token prefix -> -1, a whole alias -> entry.
        self._lookup: dict[str, int] = {}
        self._acronyms: dict[str, int] = {}
        # Whole normalised name -> entry, for names that stand alone (OpenAlex display names).
        self.by_name: dict[str, Entry] = {}
        for index, entry in enumerate(entries):
            self.by_name.setdefault(normalize(entry.name), entry)
            for alias in entry.aliases:
                if _ACRONYM.match(alias):
                    self._acronyms[alias] = index
                    continue
                key = normalize(alias)
                self.by_name.setdefault(key, entry)
                parts = key.split(" ")
                for size in range(1, len(parts)):
                    self._lookup.setdefault(" ".join(parts[:size]), -1)
                self._lookup[key] = index

    @classmethod
    def from_file(cls, path: Path | None = None) -> Watchlist:
        if path is None:
            text = (
                resources.files("tracer.affiliations")
                .joinpath("data/watchlist.yaml")
                .read_text("utf-8")
            )
            origin = "the packaged watchlist"
        else:
            try:
                text = path.read_text("utf-8")
            except OSError as exc:
                raise DataError(f"Cannot read watchlist {path}: {exc.strerror}.") from None
            origin = str(path)
        try:
            data = yaml.safe_load(text)
            return cls(parse(data))
        except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{origin} is malformed: {exc}.") from None

    def for_ror(self, ror_id: str | None) -> Entry | None:
        return self.by_ror.get(ror_id) if ror_id else None

    def named(self, name: str | None) -> Entry | None:
        """The entry one of whose names is this whole name ("Megvii (China)" counts as
        "Megvii": OpenAlex suffixes display names with the country)."""
        if not name:
            return None
        entry = self.by_name.get(normalize(name))
        if entry is None:
            stripped = strip_suffix(name)
            if stripped != name:
                entry = self.by_name.get(normalize(stripped))
        return entry

    def find(
        self, toks: list[str], raw: str, bounds: frozenset[int] = frozenset()
    ) -> list[tuple[int, int, Entry]]:
        """Entries whose alias stands as a whole name in the string: (start, end, entry) in
        token offsets; acronym aliases only where written in capitals as a word of their own."""
        found: list[tuple[int, int, Entry]] = []
        lookup = self._lookup
        count = len(toks)
        for start, key in enumerate(toks):
            value = lookup.get(key)
            if value is None:
                continue  # most words begin no alias: the cheapest way past them
            end = start + 1
            best = (end, value) if value >= 0 else None
            while end < count:
                key = key + " " + toks[end]
                value = lookup.get(key)
                if value is None:
                    break
                end += 1
                if value >= 0:
                    best = (end, value)
            if best is None:
                continue
            stop, index = best
            if stop < count and stop not in bounds and toks[stop] in _CONTINUES:
                continue
            found.append((start, stop, self.entries[index]))
        if self._acronyms:
            # An acronym counts only as a word of its own (a whole run of ASCII letters and
            # digits): one scan finds the runs of capitals that end a run, a dict says which
            # are acronyms, with no alternation of every acronym tried at every position.
            acronyms = self._acronyms
            for match in _CAPITALS.finditer(raw):
                start = match.start()
                if start and raw[start - 1] in _ALNUM:
                    continue  # the tail of a longer word ("DeNUDT")
                index = acronyms.get(match.group(), -1)
                if index >= 0:
                    found.append((-1, -1, self.entries[index]))
        return found


def parse(data: dict[str, Any]) -> list[Entry]:
    lists = data["lists"]
    entries = []
    for item in data["entries"]:
        flags = []
        for flag in item.get("flags") or []:
            meta = lists[flag["list"]]
            flags.append(
                Flag(
                    list=flag["list"],
                    label=meta["label"],
                    category=flag.get("category"),
                    source=flag.get("source") or meta.get("source"),
                    start=_date(flag.get("start")),
                    end=_date(flag.get("end")),
                )
            )
        ror = item.get("ror")
        entries.append(
            Entry(
                key=item["key"],
                name=item["name"],
                ror=f"https://ror.org/{ror}" if ror else None,
                country=item.get("country"),
                sector=item.get("sector"),
                aliases=tuple(str(a) for a in item.get("aliases") or ()),
                flags=tuple(flags),
            )
        )
    return entries


def _date(value: Any) -> str | None:
    # YAML reads 2024-01-31 as a date; keep every date as the text it was written as.
    return None if value is None else str(value)


@lru_cache(maxsize=1)
def default_watchlist() -> Watchlist:
    return Watchlist.from_file()


__all__ = ["Entry", "Watchlist", "default_watchlist", "strip_suffix", "tokens"]
