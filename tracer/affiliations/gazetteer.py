"""The ROR gazetteer: the official dump (a zip holding *_schema_v2.json) turned into a compact
index that loads fast: a record table and one dict of every token prefix of every name, which
finds every known name in a string by a walk from each token.

An Aho-Corasick automaton (pyahocorasick) was measured in its place and is not used: over
characters (names as " name ", so that matches fall on token boundaries) it finds the names of
a piece in 5.9 us where the walk takes 5.0 us (pieces hold 2.8 tokens on average, and the
automaton's fixed cost per call is the larger part), and it pickles to 79 MB that load in 0.85
s against the dict's 14 MB in 0.35 s; over tokens (one character per distinct token) its nodes
scan their children in a line, and a root with 53,633 children took 11.6 s to build. Measured
again over whole strings (issue 19, benchmarks/README.md): one pass of the automaton over a
string's normalised form takes 15 us against the walk's 22 us, in a classification of about
300 us a string: the walk stays, the gain being 2 or 3% and the cost a second index to load.

The index is cached as a pickle beside the data dir, keyed by the dump's name, size and mtime, so
a new dump is indexed once and every later run only loads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import sys
import tempfile
import zipfile
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

from tracer import collector
from tracer.affiliations.deletions import Deletions
from tracer.affiliations.normalize import bag, normalize
from tracer.errors import DataError

INDEX_VERSION = 15  # 15: equal values are one object (the same answers, less memory)
T = TypeVar("T")
ROR_PREFIX = "https://ror.org/"
_PAREN_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")
# Name kinds, strongest first: a display name or label says more than an alias, and both more
# than a name with its parenthesis cut off ("HKUST (Guangzhou)" is not HKUST).
LABEL, ALIAS, STRIPPED = 0, 1, 2


@dataclass(frozen=True)
class Record:
    """One ROR organisation, as the classifier needs it."""

    index: int
    id: str  # full ROR URL
    name: str
    country: str | None
    city: str | None
    types: tuple[str, ...]
    status: str
    parent: int  # index of the parent record, -1 when none (or not in the dump)


class Gazetteer:
    """Columns of records plus one dict holding every token prefix of every name.

    `lookup[prefix]` is -1 for a proper prefix of some name and the name's index for a whole
    name, so a left-to-right walk over a string's tokens finds every name in it and stops as
    soon as no name continues; plain dicts and lists load from a pickle in a fraction of a
    second, where an automaton would have to be rebuilt.
    """

    def __init__(
        self,
        columns: dict[str, list[Any]],
        names: list[str],
        entries: list[tuple[tuple[int, int], ...]],
        acronyms: dict[str, tuple[int, ...]],
        source: str = "",
        bags: dict[str, tuple[int, ...]] | None = None,
        domains: dict[str, int] | None = None,
    ) -> None:
        self.columns = columns
        # E-mail and web domains (the records' `domains` and website links) that belong to
        # one record only -> that record.
        self.domains = domains or {}
        # Order-free keys of labels and aliases (normalize.bag) -> records, for the pieces of
        # a string that no name matches exactly.
        self.bags = bags or {}
        self.names = names
        self.entries = entries
        self.acronyms = acronyms
        self.source = source
        self.by_id = {rid: i for i, rid in enumerate(columns["id"])}
        lookup: dict[str, int] = {}
        for index, key in enumerate(names):
            parts = key.split(" ")
            for size in range(1, len(parts)):
                lookup.setdefault(" ".join(parts[:size]), -1)
            lookup[key] = index
        self.lookup = lookup
        # Each record's names (indices into `names`, ascending), flat with an offset per
        # record: arrays of ints pickle as bytes, so they load in a millisecond where a table
        # built on first use took a quarter of a second of the first strings' time.
        per: list[list[int]] = [[] for _ in columns["id"]]
        for name, slots in enumerate(entries):
            for record, _kind in slots:
                per[record].append(name)
        self.name_starts = array("i", [0])
        self.record_names = array("i")
        for found in per:
            self.record_names.extend(found)
            self.name_starts.append(len(self.record_names))

        self._records: dict[int, Record] = {}
        # Tables other code derives from the index (name -> (that code's stamp, table)), saved
        # with it: built once, not by every run (`derived`).
        self.tables: dict[str, tuple[str, Any]] = {}
        self._path: Path | None = None  # where it was loaded from or saved to
        self._unsaved = False  # tables were derived since

    def __getstate__(self) -> dict[str, Any]:
        skip = {"by_id", "_records", "_path", "_unsaved"}
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.by_id = {rid: i for i, rid in enumerate(self.columns["id"])}
        self._records = {}
        self._path, self._unsaved = None, False

    def __len__(self) -> int:
        return len(self.columns["id"])

    # -- building -------------------------------------------------------------------------
    @classmethod
    def from_records(cls, raw: list[dict[str, Any]], source: str = "") -> Gazetteer:
        kept = [item for item in raw if item.get("status") != "withdrawn" and item.get("id")]
        by_id = {item["id"]: i for i, item in enumerate(kept)}
        columns: dict[str, list[Any]] = {
            k: [] for k in ("id", "name", "country", "city", "types", "status", "parent")
        }
        table: dict[str, dict[int, int]] = {}
        acronyms: dict[str, set[int]] = {}
        bags: dict[str, set[int]] = {}
        domains: dict[str, set[int]] = {}

        # Countries, cities, types and statuses repeat from record to record: each distinct
        # value is one object (and stays one through the pickle), not one per record.
        same: dict[Any, Any] = {}

        def add(key: str, index: int, kind: int) -> None:
            if key:
                slot = table.setdefault(key, {})
                slot[index] = min(kind, slot.get(index, kind))

        for index, item in enumerate(kept):
            names = item.get("names") or []
            display = next(
                (n["value"] for n in names if "ror_display" in (n.get("types") or [])),
                names[0]["value"] if names else item["id"],
            )
            locations = item.get("locations") or []
            geo = (locations[0].get("geonames_details") or {}) if locations else {}
            parent = next(
                (r.get("id") for r in item.get("relationships") or [] if r.get("type") == "parent"),
                None,
            )
            columns["id"].append(item["id"])
            columns["name"].append(display)
            for column, value in (
                ("country", geo.get("country_code")),
                ("city", geo.get("name")),
                ("types", " ".join(item.get("types") or ())),
                ("status", item.get("status") or "active"),
            ):
                columns[column].append(same.setdefault(value, value))
            columns["parent"].append(by_id.get(parent, -1) if parent else -1)
            for domain in _domains_of(item):
                domains.setdefault(domain, set()).add(index)
            for name in names:
                value, types = name.get("value") or "", name.get("types") or []
                if "acronym" in types:
                    if 2 <= len(value) <= 12:
                        acronyms.setdefault(value, set()).add(index)
                    continue
                kind = ALIAS if types == ["alias"] else LABEL
                key = normalize(value)
                add(key, index, kind)
                loose = bag(key.split(" "))
                if loose:
                    bags.setdefault(loose, set()).add(index)
                # "Megvii (China)", "Stanford University (Stanford)": the bare name too.
                stripped = _PAREN_SUFFIX.sub("", value)
                if stripped != value:
                    add(normalize(stripped), index, STRIPPED)
        keys = sorted(table)
        return cls(
            columns=columns,
            names=keys,
            # Names' (record, kind) tuples repeat too (every name of a one-name record).
            entries=[same.setdefault(e, e) for e in (tuple(sorted(table[k].items())) for k in keys)],
            acronyms=sorted_sets(acronyms),
            source=source,
            bags=sorted_sets(bags),
            domains={k: next(iter(v)) for k, v in domains.items() if len(v) == 1},
        )

    @classmethod
    def from_dump(cls, path: Path) -> Gazetteer:
        return cls.from_records(read_dump(path), source=path.name)

    # -- lookups --------------------------------------------------------------------------
    def find(self, toks: Sequence[str]) -> list[tuple[int, int, int]]:
        """Every known name in a token list: (first token, last token + 1, name index)."""
        get = self.lookup.get
        out = []
        count = len(toks)
        for start, key in enumerate(toks):
            value = get(key)
            if value is None:
                continue
            if value >= 0:
                out.append((start, start + 1, value))
            end = start + 1
            while end < count:
                key = key + " " + toks[end]
                value = get(key)
                if value is None:
                    break
                end += 1
                if value >= 0:
                    out.append((start, end, value))
        return out

    def record(self, ref: str | int) -> Record | None:
        """A record by index or ROR id (full URL or bare)."""
        if isinstance(ref, int):
            index: int | None = ref
        else:
            index = self.by_id.get(ref if ref.startswith("http") else ROR_PREFIX + ref)
        if index is None:
            return None
        # Records are made once each: the same organisations come up again and again.
        known = self._records.get(index)
        if known is not None:
            return known
        if not 0 <= index < len(self):
            return None
        c = self.columns
        self._records[index] = record = Record(
            index=index,
            id=c["id"][index],
            name=c["name"][index],
            country=c["country"][index],
            city=c["city"][index],
            types=tuple(c["types"][index].split()),
            status=c["status"][index],
            parent=c["parent"][index],
        )
        return record

    def names_of(self, index: int) -> list[str]:
        """Every normalised name of one record."""
        if not 0 <= index < len(self.name_starts) - 1:
            return []
        names = self.names
        start, end = self.name_starts[index], self.name_starts[index + 1]
        return [names[i] for i in self.record_names[start:end]]

    def city_countries(self) -> list[tuple[str, str]]:
        """Cities named by the dump that lie in exactly one country, for country detection."""
        seen: dict[str, set[str]] = {}
        for city, country in zip(self.columns["city"], self.columns["country"], strict=True):
            if city and country and len(city) >= 4:
                seen.setdefault(city, set()).add(country)
        return sorted((city, next(iter(c))) for city, c in seen.items() if len(c) == 1)

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((index_version(), self), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        self._path, self._unsaved = path, False

    def derived(self, name: str, stamp: str, build: Callable[[], T]) -> T:
        """A table derived from the index by other code whose fingerprint is `stamp`: kept with
        the index, built on the first call or when the stamp differs (`save_tables` keeps it)."""
        held = self.tables.get(name)
        if held is None or held[0] != stamp:
            held = (stamp, build())
            self.tables[name] = held
            self._unsaved = True
        return cast(T, held[1])

    def save_tables(self) -> None:
        """Save the index again where it came from, when tables were derived since."""
        if self._unsaved and self._path is not None:
            try:
                self.save(self._path)
            except OSError:
                pass  # a read-only data dir costs the tables' build next time, not a failure

    @classmethod
    def load(cls, path: Path) -> Gazetteer | None:
        """The cached index, or None when it is missing, unreadable or of another version."""
        # The collector would walk the growing heap again and again while the index's
        # hundreds of thousands of objects are made; it has nothing to collect there.
        try:
            with collector.paused(), path.open("rb") as handle:
                version, gaz = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            return None
        if version != index_version() or not isinstance(gaz, cls):
            return None  # another version, or names normalised by other rules
        gaz._path = path
        return gaz

    def keyed(self, key: Callable[[list[str]], str]) -> dict[str, tuple[int, ...]]:
        """Records by another key of their names (labels and aliases), such as the
        classifier's cross-language key (build it through `derived`, which keeps it)."""
        found: dict[str, set[int]] = {}
        for name, entries in zip(self.names, self.entries, strict=True):
            value = key(name.split(" ") if " " in name else [name])
            if value:
                found.setdefault(value, set()).update(i for i, _kind in entries)
        return sorted_sets(found)

    def words(self) -> tuple[dict[str, int], Deletions]:
        """For spelling corrections: every word of every name -> how many names hold it, and
        each word of five letters or more by each form with one letter left out ("univesity"
        -> "university"). Built once and kept with the index."""
        return self.derived("words", f"{INDEX_VERSION}-deletions", self._words)

    def _words(self) -> tuple[dict[str, int], Deletions]:
        counts = Counter(w for name in self.names for w in set(name.split(" ")))
        return dict(counts), Deletions(counts)


def sorted_sets(table: dict[str, set[int]]) -> dict[str, tuple[int, ...]]:
    """Each key's set as a sorted tuple, equal tuples one object: most names' records are one
    or two, and the same few tuples recur tens of thousands of times (the pickle keeps them
    one object)."""
    same: dict[tuple[int, ...], tuple[int, ...]] = {}
    out = {}
    for key, found in table.items():
        value = tuple(sorted(found))
        out[key] = same.setdefault(value, value)
    return out


_HOST = re.compile(r"^(?:[a-z]+://)?(?:www\.)?([^/:?#]+)", re.IGNORECASE)


def _domains_of(item: dict[str, Any]) -> set[str]:
    """A record's domains: its `domains` and the hosts of its website links, without www."""
    out = {str(d).lower().removeprefix("www.") for d in item.get("domains") or () if d}
    for link in item.get("links") or ():
        if isinstance(link, dict) and link.get("type") == "website" and link.get("value"):
            match = _HOST.match(str(link["value"]).strip())
            if match and "." in match.group(1):
                out.add(match.group(1).lower())
    return out


def read_dump(path: Path) -> list[dict[str, Any]]:
    """The records of a ROR dump zip (the *_schema_v2.json member)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if n.endswith("_schema_v2.json")]
            if not members:
                members = [n for n in archive.namelist() if n.endswith(".json")]
            if not members:
                raise DataError(f"{path} holds no *_schema_v2.json file.")
            data = json.loads(archive.read(sorted(members)[-1]))
    except FileNotFoundError:
        raise DataError(f"ROR dump {path} does not exist.") from None
    except (zipfile.BadZipFile, OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(
            f"ROR dump {path} is unreadable: {exc}.",
            hint="Run `tracer data update` to fetch a fresh dump.",
        ) from None
    if not isinstance(data, list) or (data and not isinstance(data[0], dict)):
        raise DataError(f"ROR dump {path} is not a list of organisation records.")
    if any("id" not in item or "names" not in item for item in data[:10]):
        raise DataError(f"ROR dump {path} is not in ROR schema v2.")
    return data


@lru_cache(maxsize=1)
def index_version() -> str:
    """The index's version and a fingerprint of how it normalised its names (normalize.py and
    the abbreviations it expands): an index built by other rules is built again, since a name
    normalised one way is never found by a query normalised another."""
    module = sys.modules[normalize.__module__]
    code = Path(str(module.__file__)).read_bytes()
    table = resources.files("tracer.affiliations").joinpath("data/abbreviations.yaml")
    digest = hashlib.sha256(code + table.read_bytes()).hexdigest()[:16]
    return f"{INDEX_VERSION}-{digest}"


def cache_path(data_dir: Path, dump: Path) -> Path:
    """Where the index built from this dump (by name, size and mtime) is cached."""
    stat = dump.stat()
    key = f"{dump.resolve()}|{stat.st_size}|{int(stat.st_mtime)}|{INDEX_VERSION}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    return data_dir / "ror-index" / f"{dump.stem}-{digest}.pickle"


def load_or_build(data_dir: Path, dump: Path) -> Gazetteer:
    """The index for `dump`, from the cache when it is there, else built and cached."""
    if not dump.exists():
        raise DataError(
            f"ROR dump {dump} does not exist.",
            hint="Set TRACER_ROR_DUMP to a ROR zip, or run `tracer data update`.",
        )
    path = cache_path(data_dir, dump)
    gaz = Gazetteer.load(path)
    if gaz is None:
        gaz = Gazetteer.from_dump(dump)
        try:
            gaz.save(path)
        except OSError:
            pass  # a read-only data dir costs a rebuild next time, not a failure now
    return gaz
