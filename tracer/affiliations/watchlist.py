"""The curated watchlist (data/watchlist.yaml): institutions on public lists, matched by ROR id,
by an exact alias that stands as a whole name in the string, or by an e-mail or web domain.

The packaged file is the embedded default and the record of history (end dates, removals); the
lists that `tracer data update` fetches are merged into it (`Watchlist.merged`), never in its
place."""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tracer.affiliations.model import Flag
from tracer.affiliations.normalize import load_yaml, normalize, tokens
from tracer.errors import DataError

# A name followed by one of these goes on ("Nanjing University of Aeronautics ..."): it is the
# start of a longer name, not the listed institution.
_CONTINUES = frozenset({"of", "for", "and", "in", "at", "de", "di", "du"})
# A one-word name followed by one of these names another body that bears the word: "Dahua
# Hospital" (Shanghai) is no part of Dahua Technology, "Dahua County" a county of Guangxi.
_OTHER_BODY = frozenset(
    "hospital hospitals clinic university college school county district township town village "
    "city prefecture road street".split()
)
# Web of Science drops the "of" of "X University of Technology", "X University of Science and
# Technology", "X University of Information Science and Technology", "X University of
# Aeronautics and Astronautics", "X University of Posts and Telecommunications"... ("Zhejiang
# Univ Technol", "Nanjing Univ Informat Sci & Technol"): a name ending in "University" followed
# in its piece by one of these is the start of that longer name.
_WOS_UNIVERSITY_OF = frozenset(
    "technology science information aeronautics posts petroleum mining electronic finance "
    "economics chinese foreign political traditional police engineering sport sports commerce "
    "chemical electric forestry agriculture agricultural architecture arts".split()
)


def university_of_follows(toks: Sequence[str], stop: int, bounds: Container[int]) -> bool:
    """Whether the name toks[:stop] ends in "university" and its piece goes on with what Web of
    Science writes for "of Technology" or "of Science and Technology"."""
    return (
        stop < len(toks)
        and stop not in bounds
        and toks[stop - 1] == "university"
        and toks[stop] in _WOS_UNIVERSITY_OF
    )
# Words that make a name an organisation's ("... Institute", "... Bureau"). A listed name
# holding none of them ("China Electronics") is a short form that other names begin with:
# followed in its piece by more words and one of these, it is the start of another
# organisation's name ("China Electronics Standardization Institute"), not the listed one.
_HEADS = frozenset(
    "university universities college institute institutes institution academy school center "
    "centre laboratory laboratories lab labs hospital bureau department ministry administration "
    "agency council commission office station factory polytechnic establishment association "
    "society foundation".split()
)
_ALL_HEADS = _HEADS | {"corporation", "company", "group", "co", "ltd", "limited", "inc"}
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
_PAREN_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")
# Capitals (and digits) up to the end of an ASCII word; the start is checked by hand, since a
# pattern that starts with a look-behind is tried at every position.
_CAPITALS = re.compile(r"[A-Z][A-Z0-9]+(?![A-Za-z0-9])")
# A number after a group's acronym: "(CETC 29)", "(CETC-14)", "(CETC No. 38)".
_NUMBER_AFTER = re.compile(r"[\s-]*(?:No\.?\s*)?\d")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
# Places whose strings may name an institution listed under another code: Hong Kong and Macau
# offices of mainland companies ("SenseTime Group Limited, Hong Kong").
_ALSO = {"CN": frozenset({"HK", "MO"})}
_PIECE_END = re.compile(r"[,;(]")
_DOMAIN = re.compile(r"(?:@|\bwww\.|https?://)([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """normalize() of a list's name, remembered: the same names are keyed when the fetched
    lists are merged and again when the merged watchlist is indexed."""
    return normalize(name)


def same_country(listed: str | None, found: str | None) -> bool:
    """Whether an entry of country `listed` may be what a string of country `found` names
    (either unknown counts as yes)."""
    return not listed or not found or listed == found or found in _ALSO.get(listed, ())


def domains_in(raw: str) -> list[str]:
    """The e-mail and web domains written in a string, each with its parent domains down to
    two labels ("cs.nudt.edu.cn" -> cs.nudt.edu.cn, nudt.edu.cn, edu.cn)."""
    if "@" not in raw and "www." not in raw and "://" not in raw:
        return []
    out: list[str] = []
    for match in _DOMAIN.finditer(raw):
        labels = match.group(1).lower().rstrip(".").split(".")
        for start in range(len(labels) - 1):
            out.append(".".join(labels[start:]))
    return out


# The sector a listing implies for an entry that states none (a watchlist-only match has no ROR
# types to go by): by list, then by ASPI category.
_SECTOR_BY_LIST = {
    "pla-university": "military",
    "police-security": "government",
    "us-meu": "military",
}
_SECTOR_BY_CATEGORY = {
    "military": "military",
    "security": "government",
    "civilian": "academic",
    "seven sons of national defence": "academic",
    "defence industry conglomerate": "commercial",
}
_COMPANY_LISTS = frozenset({"dod-1260h", "us-cmic", "fcc-covered"})
# Lists that bind the bodies they name and no others: OFAC's 50 percent rule does not apply to
# the NS-CMIC list, so a unit of a listed group does not carry the group's listing there.
_NAMED_ONLY = frozenset({"us-cmic"})
_NAMED_ABROAD = frozenset({"us-entity-list"})


def carried(flag: Flag, abroad: bool = False) -> bool:
    """Whether a listed unit carries this listing of its parent beside its own. `abroad`: the
    unit is a company in another country than its group (an entry with `parent:` and a
    country of its own, such as Futurewei under Huawei), which carries no Entity List listing
    of the group's: the rules name each affiliate abroad they cover (Huawei's of 2019 and 2020
    one by one), and none covers a group's companies in the United States. ROR's records of a
    listed body's units (classify.py) are not asked about: ROR's children of Huawei abroad are
    the affiliates those rules name."""
    if abroad and flag.list in _NAMED_ABROAD:
        return False
    return flag.list not in _NAMED_ONLY


def implied_sector(entry: Entry) -> str | None:
    """The entry's sector, or the one its listings imply (military for PLA units, government
    for public-security bodies, commercial for companies), or None."""
    if entry.sector:
        return entry.sector
    for flag in entry.flags:
        if flag.list in _SECTOR_BY_LIST:
            return _SECTOR_BY_LIST[flag.list]
    for flag in entry.flags:
        sector = _SECTOR_BY_CATEGORY.get((flag.category or "").lower())
        if sector:
            return sector
    if any(flag.list in _COMPANY_LISTS for flag in entry.flags):
        return "commercial"
    return None


def _cjk(token: str) -> bool:
    return len(token) == 1 and "\u2e80" <= token <= "\u9fff"


def _head_follows(toks: list[str], stop: int, bounds: frozenset[int]) -> bool:
    """Whether an organisation word follows `stop` in the same piece."""
    for at in range(stop, len(toks)):
        if at in bounds and at != stop:
            return False
        if toks[at] in _HEADS:
            return True
    return False


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
    domains: tuple[str, ...] = ()
    # Aliases that name an organisation elsewhere too (ROR knows one of that name in another
    # country): they count only in a string of the entry's own country.
    strict: frozenset[str] = frozenset()
    # A company's brand name stands for it in any country ("Huawei Technologies Canada",
    # "Tencent America"): its subsidiaries abroad are the company.
    worldwide: bool = False
    # The listed parent whose listings it carries beside its own (`parent:` in the file).
    parent: str | None = None
    # The names (name_key) `units:` gives it in the file (its units' and other spellings): one
    # that ROR holds as a record of its own is a unit, part of the entry, not the entry.
    units: frozenset[str] = frozenset()


class Watchlist:
    def __init__(self, entries: list[Entry], place_prefixes: Iterable[str] | None = None) -> None:
        self.entries = entries
        self.by_ror = {e.ror: e for e in entries if e.ror}
        self.by_key = {e.key: e for e in entries}
        # Phrase lookup like the gazetteer's: every token prefix -> -1, a whole alias -> entry.
        self._lookup: dict[str, int] = {}
        self._words: set[str] = set()  # every word of every name
        self._slips: dict[str, str] | None = None  # misspelt forms of those words, when asked
        self._numbered: dict[tuple[str, str], Entry] | None = None  # (group, number) -> unit
        self._acronyms: dict[str, int] = {}
        self._strict: set[str] = set()
        self._strict_acronyms: set[str] = set()
        # Whole normalised name -> entry, for names that stand alone (OpenAlex display names).
        self.by_name: dict[str, Entry] = {}
        self.by_domain: dict[str, Entry] = {}
        # Names of two words or more holding no organisation word ("china electronics").
        self._headless: set[str] = set()
        # Chinese place names that may stand before a company's brand in its legal name
        # (上海依图网络科技有限公司, 深圳市腾讯计算机系统有限公司).
        self.place_prefixes: frozenset[str] = (
            frozenset(place_prefixes)
            if place_prefixes is not None
            else default_watchlist().place_prefixes
        )
        for index, entry in enumerate(entries):
            self.by_name.setdefault(name_key(entry.name), entry)
            for domain in entry.domains:
                self.by_domain.setdefault(domain.lower(), entry)
            for alias in entry.aliases:
                if _ACRONYM.match(alias):
                    self._acronyms[alias] = index
                    if alias in entry.strict:
                        self._strict_acronyms.add(alias)
                    continue
                key = name_key(alias)
                if alias in entry.strict or key in entry.strict:
                    self._strict.add(key)  # never a whole name alone: another's name too
                else:
                    self.by_name.setdefault(key, entry)
                parts = key.split(" ")
                self._words.update(parts)
                for size in range(1, len(parts)):
                    self._lookup.setdefault(" ".join(parts[:size]), -1)
                self._lookup[key] = index
                if len(parts) > 1 and not _cjk(parts[0]) and not set(parts) & _ALL_HEADS:
                    self._headless.add(key)

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
            data = load_yaml(text)
            return cls(parse(data), [str(p) for p in data.get("place_prefixes") or ()])
        except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{origin} is malformed: {exc}.") from None

    def _placed_before(self, toks: list[str], start: int, bounds: frozenset[int]) -> bool:
        """Whether the Chinese characters before `start`, back to the start of their run, are
        one or two place names (each perhaps with 省 or 市): 深圳市 in 深圳市腾讯...."""
        first = start
        while first > 0 and first not in bounds and _cjk(toks[first - 1]):
            first -= 1
        text = "".join(toks[first:start])
        places = self.place_prefixes
        for _ in range(2):
            for size in range(min(len(text), 4), 1, -1):
                if text[:size] in places:
                    text = text[size:]
                    if text[:1] in ("省", "市"):
                        text = text[1:]
                    break
            else:
                return False
            if not text:
                return True
        return False

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

    def slip(self, tok: str) -> str | None:
        """The word of a listed name that a misspelt token of seven letters or more stands for,
        where it is that word with one letter left out or two neighbouring letters swapped
        ("hikvison", "phytuim", "yangzte") and no other word's slip: None otherwise. Other
        slips (a letter changed: "Nanning" is not "Nanjing") are never read as a listed name."""
        if len(tok) < 7 or tok in self._words or not (tok.isascii() and tok.isalpha()):
            return None
        return self._slip_forms().get(tok)

    def _slip_forms(self) -> dict[str, str]:
        if self._slips is None:
            forms: dict[str, str] = {}
            clashes: set[str] = set()
            for word in self._words:
                if len(word) < 7 or not (word.isascii() and word.isalpha()):
                    continue
                variants = {word[:i] + word[i + 1 :] for i in range(len(word))}
                variants |= {
                    word[:i] + word[i + 1] + word[i] + word[i + 2 :]
                    for i in range(len(word) - 1)
                    if word[i] != word[i + 1]
                }
                for form in variants:
                    if len(form) < 7 or form in self._words:
                        continue
                    if forms.setdefault(form, word) != word:
                        clashes.add(form)
            for form in clashes:
                del forms[form]
            self._slips = forms
        return self._slips

    def numbered_unit(self, parent: Entry, number: str) -> Entry | None:
        """The listed unit of a group that bears this number in its names ("the 58th Research
        Institute of CETC", "China Academy of Space Technology 502 Research Institute")."""
        if self._numbered is None:
            found: dict[tuple[str, str], list[Entry]] = {}
            for entry in self.entries:
                if entry.parent:
                    numbers = {m.group(1) for a in entry.aliases for m in _NUMBERED.finditer(a)}
                    if len(numbers) == 1:
                        found.setdefault((entry.parent, numbers.pop()), []).append(entry)
            self._numbered = {k: v[0] for k, v in found.items() if len(v) == 1}
        return self._numbered.get((parent.key, number))

    def has_word(self, word: str) -> bool:
        """Whether a name of the watchlist holds this one word ("ChangXin" in "ChangXin Memory
        Technologies", "SpaceSat" in "China SpaceSat")."""
        return normalize(word) in self._words

    def for_domains(self, raw: str) -> Entry | None:
        """The entry whose e-mail or web domain the string holds ("wang@nudt.edu.cn")."""
        for domain in domains_in(raw):
            entry = self.by_domain.get(domain)
            if entry is not None:
                return entry
        return None

    def find(
        self,
        toks: list[str],
        raw: str,
        bounds: frozenset[int] = frozenset(),
        country: str | None = None,
    ) -> list[tuple[int, int, Entry]]:
        """Entries whose alias stands as a whole name in the string: (start, end, entry) in
        token offsets; acronym aliases only where written in capitals as a word of their own.
        A name inside a longer one found here is dropped; a Chinese name counts only from the
        start of a run of Chinese characters (电子科技大学 is not inside 西安电子科技大学)."""
        found: list[tuple[int, int, Entry]] = []
        lookup = self._lookup
        strict = self._strict
        count = len(toks)
        for start, key in enumerate(toks):
            value = lookup.get(key)
            if value is None:
                continue  # most words begin no alias: the cheapest way past them
            end = start + 1
            best = (end, value, key) if value >= 0 else None
            while end < count:
                key = key + " " + toks[end]
                value = lookup.get(key)
                if value is None:
                    break
                end += 1
                if value >= 0:
                    best = (end, value, key)
            if best is None:
                continue
            stop, index, name = best
            entry = self.entries[index]
            if stop == start + 1 and stop < count and toks[stop] in _OTHER_BODY:
                continue
            if (
                stop < count
                and stop not in bounds
                and toks[stop] in _CONTINUES
                and not entry.worldwide  # a brand's longer name is still the brand's
            ):
                continue
            if university_of_follows(toks, stop, bounds) and not entry.worldwide:
                continue
            if (
                start
                and start not in bounds
                and _cjk(toks[start])
                and _cjk(toks[start - 1])
                and not (entry.worldwide and self._placed_before(toks, start, bounds))
            ):
                continue
            if (
                not entry.worldwide
                and stop < count
                and stop not in bounds
                and name in self._headless
                and _head_follows(toks, stop, bounds)
            ):
                continue  # "China Electronics" begins "China Electronics Standardization ..."
            if name in strict and (country is None or not same_country(entry.country, country)):
                continue
            if country and not entry.worldwide and not same_country(entry.country, country):
                continue  # a name that another country's institution shares
            found.append((start, stop, entry))
        if len(found) > 1:
            found = [
                f
                for f in found
                if not any(s <= f[0] and f[1] <= e and (s, e) != f[:2] for s, e, _ in found)
            ]
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
                if index < 0:
                    continue
                entry = self.entries[index]
                if match.group() in self._strict_acronyms and (
                    country is None or not same_country(entry.country, country)
                ):
                    continue  # IHEP is Protvino's only where the string says Russia
                if country and not entry.worldwide and not same_country(entry.country, country):
                    continue  # CSIC in Spain is not China's shipbuilder
                if self._spells_another(raw, start, match.end(), entry):
                    continue  # "Dalian Maritime University (DLMU)" is not Dalian Minzu's DLMU
                found.append((-1, -1, entry))
        return found

    def _spells_another(self, raw: str, start: int, end: int, entry: Entry) -> bool:
        """Whether an acronym written in brackets after a name ("... University (DLMU)") is
        that name's own, and the name is not one of the entry's."""
        before = raw[:start].rstrip()
        if not before.endswith("("):
            return False
        if _NUMBER_AFTER.match(raw, end):
            return False  # "... Electronic Equipment (CETC 29)": the group's 29th institute
        name = _PIECE_END.split(before[:-1])[-1].strip()
        if not name:
            return False
        if self.by_name.get(name_key(name)) is entry:
            return False
        return not any(e is entry for _s, _t, e in self.find(tokens(name), name))


def parse(data: dict[str, Any]) -> list[Entry]:
    """Entries of the watchlist file: `entries`, plus `subordinates` (bodies listed by the
    same rule as their parent: entries of their own with its country, sector and flags),
    `units` (names reported as the organisation they belong to) and `domains`."""
    lists = data["lists"]
    units = _with_laboratories(data.get("units") or {}, data.get("laboratories") or {})
    domains = data.get("domains") or {}
    numbered = data.get("numbered_forms") or {}
    written = _bureau_names(data.get("bureau_names") or {})
    for key, names in _bureau_names(data.get("centre_names") or {}).items():
        written.setdefault(key, []).extend(names)
    equivalents = [
        sorted((str(m) for m in group), key=len, reverse=True)
        for group in data.get("equivalents") or ()
    ]
    combining = _Combining([str(f) for f in data.get("combining_forms") or ()], data)
    prefixes = [[str(m) for m in group] for group in data.get("chinese_prefixes") or ()]
    entries = []
    parents: dict[str, str] = {}
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
        key = item["key"]
        aliases = [str(a) for a in item.get("aliases") or ()]
        aliases += [str(a) for a in units.get(key) or () if str(a) not in aliases]
        if item.get("parent") in numbered:
            aliases += _numbered_forms(aliases, numbered[item["parent"]])
        aliases += [v for v in _chinese_forms(aliases) if v not in aliases]
        aliases += [n for n in written.pop(key, ()) if n not in aliases]
        aliases += _equivalent_forms(aliases, equivalents)
        aliases += combining.forms(aliases)
        aliases += _short_forms(aliases, item.get("sector") == "military")
        aliases += _prefixed_forms(aliases, prefixes)
        if any(f.list == "pla-university" for f in flags):
            aliases += _pla_forms(aliases)
        aliases = list(dict.fromkeys(aliases))
        if item.get("parent"):
            parents[key] = str(item["parent"])
        entries.append(
            Entry(
                key=key,
                name=item["name"],
                ror=f"https://ror.org/{ror}" if ror else None,
                country=item.get("country"),
                sector=item.get("sector"),
                aliases=tuple(aliases),
                flags=tuple(flags),
                domains=tuple(str(d).lower() for d in domains.get(key) or ()),
                strict=_strict_forms(item.get("strict") or (), aliases),
                worldwide=bool(item.get("worldwide")),
                units=frozenset(name_key(str(a)) for a in units.get(key) or ()),
            )
        )
    by_key = {e.key: e for e in entries}
    for index, entry in enumerate(entries):
        if entry.key in parents:
            entries[index] = _under(entry, by_key[parents[entry.key]])
    by_key = {e.key: e for e in entries}
    for parent_key, rows in (data.get("subordinates") or {}).items():
        parent = by_key[parent_key]
        for row in rows:
            key, name, *more = (str(v) for v in row)
            more += [n for n in written.pop(key, ()) if n != name and n not in more]
            entries.append(
                Entry(key, name, None, parent.country, parent.sector, (name, *more), parent.flags)
            )
    if written:
        raise ValueError(f"bureau_names name no entry: {', '.join(sorted(written))}")
    unknown = (set(units) | set(domains) | set(numbered)) - {e.key for e in entries}
    if unknown:
        raise ValueError(f"units, domains or numbered_forms name no entry: {', '.join(sorted(unknown))}")
    return entries


def _strict_forms(names: Iterable[Any], aliases: list[str]) -> frozenset[str]:
    """The entry's `strict:` names (those another organisation elsewhere bears too: they count
    only in a string of the entry's own country), with every alias written from one of them
    (its equivalents, split or joined forms): by their normalised keys, and acronyms as
    written."""
    wanted = {name_key(str(n)) for n in names}
    if not wanted:
        return frozenset()
    out: set[str] = set()
    for alias in aliases:
        if _ACRONYM.match(alias):
            if name_key(alias) in wanted:
                out.add(alias)
        elif name_key(alias) in wanted:
            out.add(name_key(alias))
    unknown = wanted - {name_key(a) for a in aliases}
    if unknown:
        raise ValueError(f"strict names that are no alias: {', '.join(sorted(unknown))}")
    return frozenset(out)


_NUMBERED = re.compile(r"\b(\d+)(?:st|nd|rd|th)? Research Institute\b")


def _numbered_forms(aliases: list[str], templates: Iterable[str]) -> list[str]:
    """The forms (`numbered_forms` in the file) of a group's numbered institute: its number,
    read from its names ("58th Research Institute of CETC"), put in each of the group's."""
    numbers = {m.group(1) for a in aliases for m in _NUMBERED.finditer(a)}
    if len(numbers) != 1:
        return []  # no number, or names that disagree: nothing to write
    (n,) = numbers
    return [f for f in (str(t).format(n=n) for t in templates) if f not in aliases]


def _abroad(country: str | None, home: str | None) -> bool:
    return bool(country and home) and not same_country(country, home)


def _under(entry: Entry, parent: Entry) -> Entry:
    """A listed unit of a listed parent (`parent:` in the file): its own flags and the
    parent's (the 48th institute of CETC is on the Entity List itself and is CETC's), except
    those of lists that bind only the bodies they name (NS-CMIC), and the parent's country and
    sector where it states none."""
    own = {(f.list, f.category) for f in entry.flags}
    flags = entry.flags + tuple(
        f
        for f in parent.flags
        if (f.list, f.category) not in own and carried(f, _abroad(entry.country, parent.country))
    )
    return replace(
        entry,
        parent=parent.key,
        flags=flags,
        country=entry.country or parent.country,
        sector=entry.sector or parent.sector,
    )


# Names that already say whose body it is: no "of PLA" form is made of them.
_NOT_PLA = re.compile(
    r"\b(PLA|People's Liberation Army|PAP|CAPF|Armed Police|Coast Guard)\b", re.IGNORECASE
)


def _pla_forms(aliases: list[str]) -> list[str]:
    """A PLA school's English names as papers also write them: "Army Aviation College of PLA",
    "... of the PLA", "PLA Army Aviation College"."""
    out = []
    for alias in aliases:
        words = alias.split()
        if len(words) < 2 or _cjk(alias[:1]) or _NOT_PLA.search(alias):
            continue
        if not set(w.lower() for w in words) & _HEADS:
            continue
        out += [f"{alias} of PLA", f"{alias} of the PLA", f"PLA {alias}"]
    return out


def _prefixed_forms(aliases: list[str], groups: list[list[str]]) -> list[str]:
    """Chinese names with a prefix that stands for another (`chinese_prefixes`): 武警后勤学院
    is also written 中国人民武装警察部队后勤学院."""
    out = []
    for alias in aliases:
        for group in groups:
            member = next(
                (m for m in sorted(group, key=len, reverse=True) if alias.startswith(m)), None
            )
            if member is None or len(alias) <= len(member) + 1:
                continue
            rest = alias[len(member) :]
            out += [other + rest for other in group if other != member]
            break
    return out


def _with_laboratories(units: dict[str, Any], spec: dict[str, Any]) -> dict[str, list[str]]:
    """`units` with the names of the laboratories each organisation hosts, every subject
    written in each of the `forms` ("Science and Technology on {subject} Laboratory")."""
    out = {str(k): [str(n) for n in v or ()] for k, v in units.items()}
    forms = [str(f) for f in spec.get("forms") or ()]
    for key, subjects in spec.items():
        if key == "forms":
            continue
        names = out.setdefault(str(key), [])
        for subject in subjects or ():
            names += [
                f.format(subject=subject) for f in forms if f.format(subject=subject) not in names
            ]
    return out


def _chinese_forms(aliases: list[str]) -> list[str]:
    """The other ways a Chinese company name is written: 中国船舶重工集团有限公司 is also
    中国船舶重工集团公司 and 中国船舶重工集团 (有限公司 "limited company", 公司 "company")."""
    out = []
    for alias in aliases:
        for form in ("有限责任公司", "股份有限公司", "有限公司"):
            if alias.endswith(form) and len(alias) > len(form) + 2:
                stem = alias[: -len(form)]
                out += [stem + "公司", stem]
                break
    return out


def _equivalent_forms(aliases: list[str], groups: list[list[str]]) -> list[str]:
    """Each alias written with the other members of a group of words that stand for one
    another ("Navy" / "Naval"; "PAP" / "CAPF" / "People's Armed Police"), longest first."""
    out = []
    for alias in aliases:
        for group in groups:
            for member in group:
                found = re.search(rf"(?<![\w']){re.escape(member)}(?![\w'])", alias)
                if found is None:
                    continue
                for other in group:
                    if other != member:
                        out.append(alias[: found.start()] + other + alias[found.end() :])
                break
    return out


class _Combining:
    """The other ways of writing a word made with a combining form ("Electromechanical",
    "Electro-Mechanical"): a word that begins with a form is also written hyphenated where the
    rest is itself a word of some listed name ("mechanical", not the "nic" of "electronic"), and
    a form written apart or hyphenated is also written joined ("Electro-Optics",
    "Electrooptics")."""

    def __init__(self, forms: list[str], data: dict[str, Any]) -> None:
        self.forms_ = tuple(sorted({f.lower() for f in forms}, key=len, reverse=True))
        words: set[str] = set()
        if self.forms_:
            names = [a for item in data["entries"] for a in item.get("aliases") or ()]
            names += [a for rows in (data.get("units") or {}).values() for a in rows or ()]
            for name in names:
                words.update(w.lower() for w in _ALPHA_WORD.findall(str(name)))
        self.words = frozenset(words)
        self.apart = (
            re.compile(rf"\b({'|'.join(self.forms_)})[- ]([a-z]{{3,}})", re.IGNORECASE)
            if self.forms_
            else None
        )

    def forms(self, aliases: list[str]) -> list[str]:
        if self.apart is None:
            return []
        out = []
        for alias in aliases:
            joined = self.apart.sub(lambda m: m.group(1) + m.group(2).lower(), alias)
            if joined != alias:
                out.append(joined)
            split = _ALPHA_WORD.sub(self._split, alias)
            if split != alias:
                out.append(split)
        return out

    def _split(self, match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        for form in self.forms_:
            rest = lower[len(form) :]
            if lower.startswith(form) and len(rest) >= 3 and rest in self.words:
                return f"{word[: len(form)]}-{word[len(form) :]}"
        return word


_ALPHA_WORD = re.compile(r"[A-Za-z]+")
_OF = re.compile(r"\s+(?:of the|of)\s+", re.IGNORECASE)
_UNIVERSITY_OF = re.compile(r"^(\S+(?: \S+)?) (University|Academy|College) of (?:the )?(.+)$")


def _short_forms(aliases: list[str], military: bool) -> list[str]:
    """Names as indexes and papers shorten them: without "of" ("Naval Univ Engn", as the Web of
    Science writes "Naval University of Engineering"), and for military bodies with the
    service first ("Air Force Aviation University" for "Aviation University of Air Force")."""
    out = []
    for alias in aliases:
        words = alias.split()
        if len(words) < 3 or _cjk(alias[:1]) or not set(w.lower() for w in words) & _HEADS:
            continue
        if _OF.search(alias):
            out.append(_OF.sub(" ", alias))
        found = _UNIVERSITY_OF.match(alias) if military else None
        if found:
            out.append(f"{found.group(3)} {found.group(1)} {found.group(2)}")
    return out


def _bureau_names(spec: dict[str, Any]) -> dict[str, list[str]]:
    """The ways a listed bureau's name is written, from its place's spellings and its kind:
    `forms` ("{place} {kind} Public Security Bureau", ...), `kinds` (kind -> the words
    written for it: a 地区 is a Prefecture, Prefectural or District), `places` (key -> [kind,
    spelling, ...]: Hetian is also written Hotan)."""
    forms = [str(f) for f in spec.get("forms") or ()]
    kinds = {str(k): [str(w) for w in v] for k, v in (spec.get("kinds") or {}).items()}
    out: dict[str, list[str]] = {}
    for key, row in (spec.get("places") or {}).items():
        kind, *spellings = (str(v) for v in row)
        names: list[str] = []
        for place in spellings:
            for form in forms:
                words = kinds[kind] if "{kind}" in form else [""]
                for word in words:
                    name = " ".join(form.format(place=place, kind=word).split())
                    if name not in names:
                        names.append(name)
        out[str(key)] = names
    return out


def _date(value: Any) -> str | None:
    # YAML reads 2024-01-31 as a date; keep every date as the text it was written as.
    return None if value is None else str(value)


@lru_cache(maxsize=1)
def default_watchlist() -> Watchlist:
    return Watchlist.from_file()


__all__ = [
    "Entry",
    "Watchlist",
    "default_watchlist",
    "domains_in",
    "implied_sector",
    "name_key",
    "same_country",
    "strip_suffix",
    "tokens",
]
