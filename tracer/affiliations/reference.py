"""Reference data on disk: the official lists fetched by `tracer data update`, merged into the
packaged watchlist, and what `tracer data status` says about them.

Each list is downloaded to `<data dir>/watchlists/<name>.<ext>` (through a temporary file, so a
cut download never replaces a good one), parsed, and the listings of every list are written to
`<data dir>/watchlists/listings.json` with where and when each came from. A run loads that file
and merges it into the packaged watchlist (`merge`): the packaged entries keep their flags and
dates (the record of history: end dates, removals); a fetched listing adds a flag only where the
packaged entry has none for that listing, and organisations that the packaged file lacks become
entries of their own. Download URLs: the defaults below, or one environment variable per list.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import requests

from tracer.affiliations import gazetteer as gz
from tracer.affiliations.countries import default_detector
from tracer.affiliations.model import Flag
from tracer.affiliations.official import (
    Listing,
    parse_1260h,
    parse_aspi,
    parse_csl,
    parse_fcc,
)
from tracer.affiliations.rules import without_legal_form
from tracer.affiliations.update import download
from tracer.affiliations.watchlist import (
    Entry,
    Watchlist,
    carried,
    default_watchlist,
    implied_sector,
    name_key,
    same_country,
)
from tracer.config import Settings
from tracer.errors import DataError, SourceError

Progress = Callable[[str, int, int | None], None]  # (what, bytes done, bytes in all)


@dataclass(frozen=True)
class Source:
    name: str  # file stem and the name `tracer data status` shows
    title: str
    url: str  # default download URL
    env: str  # the environment variable that overrides it
    ext: str
    lists: tuple[str, ...]  # the list ids it yields
    page: str  # the page a reader checks the list on


SOURCES = (
    Source(
        "csl",
        "US Consolidated Screening List (Entity List, Military End User List, NS-CMIC)",
        "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.json",
        "TRACER_CSL_URL",
        "json",
        ("us-entity-list", "us-meu", "us-cmic"),
        "https://www.trade.gov/consolidated-screening-list",
    ),
    Source(
        "dod-1260h",
        "US DoD Section 1260H list of Chinese military companies",
        "https://raw.githubusercontent.com/opensanctions/opensanctions/main/datasets/us/"
        "dod_chinese_milcorps/sanctions.csv",
        "TRACER_1260H_URL",
        "csv",
        ("dod-1260h",),
        "https://www.defense.gov/News/Releases/",
    ),
    Source(
        "aspi-cdut",
        "ASPI China Defence Universities Tracker (MISP galaxy)",
        "https://raw.githubusercontent.com/MISP/misp-galaxy/main/clusters/"
        "china-defence-universities.json",
        "TRACER_ASPI_URL",
        "json",
        ("aspi-cdut",),
        "https://unitracker.aspi.org.au/",
    ),
    Source(
        "fcc-covered",
        "FCC Covered List",
        "https://www.fcc.gov/supplychain/coveredlist",
        "TRACER_FCC_URL",
        "html",
        ("fcc-covered",),
        "https://www.fcc.gov/supplychain/coveredlist",
    ),
)
LABELS = {
    "us-entity-list": "US Commerce Entity List",
    "us-meu": "US Commerce Military End-User List",
    "us-cmic": "US Treasury Chinese Military-Industrial Complex Companies List",
    "dod-1260h": "US DoD Section 1260H list of Chinese military companies",
    "aspi-cdut": "ASPI China Defence Universities Tracker",
    "fcc-covered": "FCC Covered List",
    "pla-university": "PLA or military institution",
}
LISTINGS_FILE = "listings.json"
# Aliases of fetched lists kept only when they are names, not a word or a symbol ("Face++").
_NAME_CHARS = re.compile(r"^[\w .,&'’()\-/]+$")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9]{3,7}$")


def source_url(source: Source) -> str:
    return os.environ.get(source.env) or source.url


def lists_dir(settings: Settings) -> Path:
    return settings.data_dir / "watchlists"


# -- fetching ----------------------------------------------------------------------------------
def parse_file(source: Source, path: Path, url: str) -> list[Listing]:
    try:
        text = path.read_text("utf-8")
        if source.name == "csl":
            return parse_csl(json.loads(text))
        if source.name == "aspi-cdut":
            return parse_aspi(json.loads(text))
        if source.name == "dod-1260h":
            return parse_1260h(text, default_source=source.page)
        return parse_fcc(text, source=source.page if url == source.url else url)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{source.title} ({url}) is unreadable: {exc}.") from None


def update_lists(
    settings: Settings,
    progress: Progress | None = None,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """Fetch and parse every official list; write listings.json. A list that cannot be
    fetched keeps what an earlier update got (reported as `error`). Returns the status."""
    session = session or requests.Session()
    session.headers.setdefault("User-Agent", settings.user_agent())
    folder = lists_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    previous = read_listings(settings)
    meta: dict[str, Any] = dict(previous.get("sources") or {})
    kept = [Listing.from_dict(d) for d in previous.get("listings") or ()]
    listings: list[Listing] = []
    for source in SOURCES:
        url = source_url(source)
        target = folder / f"{source.name}.{source.ext}"

        def step(done: int, total: int | None, name: str = source.name) -> None:
            if progress:
                progress(name, done, total)

        try:
            download(session, url, target, settings, step)
            found = parse_file(source, target, url)
        except (SourceError, DataError) as exc:
            old = [item for item in kept if item.list in source.lists]
            listings.extend(old)
            entry = dict(meta.get(source.name) or {})
            entry.update(error=exc.message, url=url, title=source.title)
            meta[source.name] = entry
            continue
        listings.extend(found)
        meta[source.name] = {
            "title": source.title,
            "url": url,
            "file": str(target),
            "fetched": datetime.now(UTC).isoformat(timespec="seconds"),
            "count": len(found),
        }
    write_listings(settings, meta, listings)
    return status(settings)


def write_listings(settings: Settings, meta: dict[str, Any], listings: list[Listing]) -> Path:
    path = lists_dir(settings) / LISTINGS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"sources": meta, "listings": [item.to_dict() for item in listings]}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False)
    os.replace(tmp, path)
    return path


def read_listings(settings: Settings) -> dict[str, Any]:
    path = lists_dir(settings) / LISTINGS_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # a broken file counts as none; the next update rewrites it
    return data if isinstance(data, dict) else {}


def load_listings(settings: Settings) -> list[Listing]:
    out = []
    for item in read_listings(settings).get("listings") or ():
        try:
            out.append(Listing.from_dict(item))
        except (KeyError, TypeError):
            continue
    return out


# -- status -------------------------------------------------------------------------------------
def status(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """What reference data is loaded, from where and how old: the ROR index and each list."""
    now = now or datetime.now(UTC)
    out: dict[str, Any] = {"data_dir": str(settings.data_dir)}
    ror: dict[str, Any] = {"loaded": False}
    index = settings.ror_index
    if settings.ror_dump is not None:
        ror = {"loaded": Path(settings.ror_dump).exists(), "file": str(settings.ror_dump)}
    elif index.exists():
        ror = {"loaded": True, "file": str(index), **_age(index.stat().st_mtime, now)}
    else:
        dumps = sorted(settings.ror_dump_dir.glob("*.zip"), key=lambda p: p.stat().st_mtime)
        if dumps:
            ror = {"loaded": True, "file": str(dumps[-1]), **_age(dumps[-1].stat().st_mtime, now)}
    out["ror"] = ror
    meta = read_listings(settings).get("sources") or {}
    lists = []
    for source in SOURCES:
        item = dict(meta.get(source.name) or {})
        row: dict[str, Any] = {
            "name": source.name,
            "title": source.title,
            "url": item.get("url") or source_url(source),
            "loaded": "fetched" in item,
            "count": item.get("count"),
            "fetched": item.get("fetched"),
        }
        if item.get("fetched"):
            when = datetime.fromisoformat(item["fetched"])
            row["age_days"] = round((now - when).total_seconds() / 86400, 1)
        if item.get("error"):
            row["error"] = item["error"]
        lists.append(row)
    out["lists"] = lists
    packaged = default_watchlist()
    starts = [f.start for e in packaged.entries for f in e.flags if f.start]
    out["packaged_watchlist"] = {
        "entries": len(packaged.entries),
        "newest_listing": max(starts) if starts else None,  # YYYY-MM or YYYY-MM-DD
    }
    return out


def _age(mtime: float, now: datetime) -> dict[str, Any]:
    when = datetime.fromtimestamp(mtime, UTC)
    return {
        "fetched": when.isoformat(timespec="seconds"),
        "age_days": round((now - when).total_seconds() / 86400, 1),
    }


# -- merging -------------------------------------------------------------------------------------
def merge(
    packaged: Watchlist, listings: list[Listing], gazetteer: gz.Gazetteer | None = None
) -> Watchlist:
    """The packaged watchlist with the fetched listings merged in (see the module's text)."""
    entries = {e.key: _Draft.of(e) for e in packaged.entries}
    by_name: dict[str, str] = {}
    for draft in entries.values():
        for name in (draft.name, *draft.aliases):
            by_name.setdefault(name_key(name), draft.key)
    for listing in listings:
        names = [listing.name, *[a for a in listing.aliases if _keep_alias(a)]]
        keys = [name_key(n) for n in names]
        key = next(
            (
                by_name[k]
                for k in keys
                if k in by_name and same_country(entries[by_name[k]].country, listing.country)
            ),
            None,
        )
        if key is None and keys[0] in by_name:
            # A packaged entry written from this very listing (its full name, a flag of the
            # same list) is it, whatever country the list's parser guessed: the 1260H list
            # says no country, and "Cirrus Design Corporation" is no Chinese company.
            named = entries[by_name[keys[0]]]
            if named.packaged and any(f.list == listing.list for f in named.flags):
                key = named.key
        ror = _ror_for(gazetteer, keys[0], listing.country) if gazetteer else None
        if key is None and ror is not None:
            key = next((d.key for d in entries.values() if d.ror == ror), None)
        if key is None:
            key = f"{listing.list}:{keys[0]}"
            entries[key] = _Draft(key, listing.name, ror, listing.country, None, [], [])
            parent = by_name.get(name_key(listing.parent)) if listing.parent else None
            if parent is not None and same_country(entries[parent].country, listing.country):
                entries[key].parent = parent
        draft = entries[key]
        draft.add_flags(_flags(listing))
        # Papers print a company with or without its legal form: the names without it are
        # its names too, unless another entry has one already (they are not used above to
        # find the entry: only what the list writes is).
        bare = [b for b in map(without_legal_form, names)
                if b and _keep_alias(b) and by_name.get(name_key(b), key) == key]
        names += bare
        keys += [name_key(b) for b in bare]
        for name, norm in zip(names, keys, strict=True):
            if norm and norm not in draft.norms and not _head_known(name, draft.norms):
                draft.norms.add(norm)
                draft.aliases.append(name)
                if gazetteer is not None and _elsewhere(gazetteer, norm, draft.country):
                    draft.strict.add(norm)
            by_name.setdefault(norm, key)
    # A subsidiary a list names with its parent ("Parent Name" of the 1260H list) is rolled up
    # as the packaged subordinates are: an entry of its own that carries its parent's flags,
    # country and sector beside its own.
    for draft in entries.values():
        if draft.parent is not None:
            draft.roll_up(entries[draft.parent])
    return Watchlist([d.build() for d in entries.values()])


@dataclass
class _Draft:
    key: str
    name: str
    ror: str | None
    country: str | None
    sector: str | None
    aliases: list[str]
    flags: list[Flag]
    domains: tuple[str, ...] = ()
    strict: set[str] = field(default_factory=set)
    packaged: bool = False
    norms: set[str] = field(default_factory=set)  # the aliases, normalised
    worldwide: bool = False
    parent: str | None = None  # the key of the listed parent it is rolled up to
    units: frozenset[str] = frozenset()

    @classmethod
    def of(cls, entry: Entry) -> _Draft:
        return cls(
            entry.key,
            entry.name,
            entry.ror,
            entry.country,
            entry.sector,
            list(entry.aliases),
            list(entry.flags),
            entry.domains,
            set(entry.strict),
            packaged=True,
            norms={name_key(a) for a in entry.aliases},
            worldwide=entry.worldwide,
            parent=entry.parent,
            units=entry.units,
        )

    def add_flags(self, flags: list[Flag]) -> None:
        for flag in flags:
            same = [f for f in self.flags if f.list == flag.list]
            # The packaged flag is the record of history; a fetched one of the same list is a
            # new listing only when its dates say so (listed again after an end).
            if any(_same_listing(f, flag) for f in same):
                continue
            self.flags.append(flag)

    def roll_up(self, parent: _Draft) -> None:
        self.add_flags([f for f in parent.flags if carried(f)])
        self.country = self.country or parent.country
        self.sector = self.sector or parent.sector

    def build(self) -> Entry:
        entry = Entry(
            key=self.key,
            name=self.name,
            ror=self.ror,
            country=self.country,
            sector=self.sector,
            aliases=tuple(self.aliases),
            flags=tuple(self.flags),
            domains=self.domains,
            strict=frozenset(self.strict),
            worldwide=self.worldwide,
            parent=self.parent,
            units=self.units,
        )
        if not self.packaged and entry.sector is None:
            entry = replace(entry, sector=implied_sector(entry))
        return entry


def _head_known(name: str, norms: set[str]) -> bool:
    """Whether the name is one the entry has already, followed by a comma and more: ASPI writes
    a unit with its city ("The Institute of Applied Physics and Computational Mathematics,
    Beijing"). The longer alias would match the city with the name, and an affiliation string
    that names the unit would then find the entry beside the unit's own record."""
    head, comma, _ = name.rpartition(",")
    return bool(comma) and name_key(head) in norms


def _same_listing(old: Flag, new: Flag) -> bool:
    if old.start is None or new.start is None:
        return True
    if old.start.startswith(new.start) or new.start.startswith(old.start):
        return True
    return old.end is None or new.start < old.end


def _flags(listing: Listing) -> list[Flag]:
    flag = Flag(
        list=listing.list,
        label=LABELS[listing.list],
        category=listing.category,
        source=listing.source,
        start=listing.start,
        end=listing.end,
    )
    if listing.list == "aspi-cdut" and listing.category == "Military":
        return [
            Flag("pla-university", LABELS["pla-university"], "Military", listing.source),
            flag,
        ]
    return [flag]


def _keep_alias(alias: str) -> bool:
    if _ACRONYM.match(alias):
        return True  # four or more capitals: NUDT, CETC; three are too often another's
    if not _NAME_CHARS.match(alias) and not any("\u2e80" <= ch <= "\u9fff" for ch in alias):
        return False
    norm = name_key(alias)
    if default_detector().is_place(tuple(norm.split())):
        return False  # a place's name ("Inner Mongolia", a 1260H alias) names no one body
    return len(norm) >= 4 and not (alias.isupper() and len(alias) < 4)


def _ror_for(gazetteer: gz.Gazetteer, key: str, country: str | None) -> str | None:
    """The ROR record whose name is exactly this one, in this country, when there is one."""
    index = gazetteer.lookup.get(key, -1)
    if index < 0:
        return None
    countries = gazetteer.columns["country"]
    ids = {i for i, _kind in gazetteer.entries[index] if same_country(country, countries[i])}
    return str(gazetteer.columns["id"][ids.pop()]) if len(ids) == 1 else None


def _elsewhere(gazetteer: gz.Gazetteer, key: str, country: str | None) -> bool:
    """Whether ROR knows an organisation of this name outside `country`."""
    index = gazetteer.lookup.get(key, -1)
    if index < 0 or not country:
        return False
    countries = gazetteer.columns["country"]
    return any(not same_country(country, countries[i]) for i, _ in gazetteer.entries[index])


def load_watchlist(
    settings: Settings, gazetteer: gz.Gazetteer | None = None
) -> tuple[Watchlist, bool]:
    """The packaged watchlist with the fetched lists merged in, and whether there were any.

    The merge is remembered in a pickle beside listings.json, keyed by that file, the
    gazetteer and the packaged watchlist, so a run after the first only loads it."""
    path = lists_dir(settings) / LISTINGS_FILE
    if not path.exists():
        return default_watchlist(), False
    stat = path.stat()
    packaged = resources.files("tracer.affiliations").joinpath("data/watchlist.yaml")
    key = "|".join(
        (
            str(stat.st_size),
            str(stat.st_mtime_ns),
            gazetteer.source if gazetteer else "",
            str(len(gazetteer)) if gazetteer else "",
            hashlib.sha1(packaged.read_bytes()).hexdigest(),
            gz.index_version(),
        )
    )
    cache = path.with_name("merged.pickle")
    try:
        with cache.open("rb") as handle:
            stored_key, merged = pickle.load(handle)
        if stored_key == key and isinstance(merged, Watchlist):
            return merged, True
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
        pass
    listings = load_listings(settings)
    if not listings:
        return default_watchlist(), False
    merged = merge(default_watchlist(), listings, gazetteer)
    try:
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=cache.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((key, merged), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only data dir costs a merge next time, not a failure now
    return merged, True


__all__ = [
    "SOURCES",
    "Listing",
    "load_listings",
    "load_watchlist",
    "merge",
    "read_listings",
    "status",
    "update_lists",
]
