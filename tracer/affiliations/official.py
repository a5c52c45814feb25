"""Parsers of the official lists that `tracer data update` fetches, each into plain Listings.

- trade.gov's Consolidated Screening List (downloadable JSON: `results[]` with `source`, `name`,
  `alt_names`, `addresses[]`, `start_date`, `end_date`, `federal_register_notice`, ...): the
  Entity List, the Military End User List and Treasury's NS-CMIC list are kept.
- The DoD Section 1260H list, as transcribed row by row (one row per listing period: `Name`,
  `Clean Name`, `Alias`, `Previous Name`, `Parent Name`, `Start date`, `End date`, `Source Url`).
- The ASPI China Defence Universities Tracker as MISP keeps it (a galaxy cluster: `values[]`
  with `value`, `meta.aliases`, `meta.categories`, `meta.refs`).
- The FCC Covered List: the page's table (names in bold, dates as "March 12, 2021") or a CSV
  transcription of it (`covered_equipment_or_services`, `date_of_inclusion_on_covered_list`).

Text from these files is data: names and dates are kept, nothing else is interpreted.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from tracer.affiliations.countries import country_names
from tracer.affiliations.rules import package_data
from tracer.errors import DataError

CSL_LISTS = {
    "(EL)": "us-entity-list",
    "(MEU)": "us-meu",
    "(CMIC)": "us-cmic",
}
_FR = re.compile(r"(\d+)\s*FR\s*(\d+)")
_PAREN_TAIL = re.compile(r"\s*\(([^()]*)\)\s*\**\.?\s*$")
_PREFIX = re.compile(r"^(?:d\.?b\.?a\.?|a\.?k\.?a\.?|f\.?k\.?a\.?|formerly)[\s,:]+", re.IGNORECASE)
_SHORT_NAME = re.compile(r"[A-Z][A-Z0-9&\-]{1,9}")  # "BAAI", "CETC-14"
_ALIASES_LEAD = re.compile(r"^\s*the following (?:\w+ )?aliases?:\s*", re.IGNORECASE)
_ALIAS_MARK = re.compile(r"^\s*(?:and\s+)?[-\u2013\u2014]*\s*")
_AKA = re.compile(r",?\s+(?:a\.k\.a\.|also known as|d\.b\.a\.|f\.k\.a\.)[\s,:]*", re.IGNORECASE)
_BIS_TAIL = re.compile(r",?\s*and any successor, sub-unit, or subsidiary thereof\.?", re.I)
_DATE = re.compile(
    r"(January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+(\d{1,2}),\s*(\d{4})"
)
_FCC_BY = re.compile(
    r"\b(?:produced|provided|supplied)(?: or provided)?(?:, directly or indirectly,)? by "
    r"([A-Z][^,;]*?)(?=,| or any| or its| and its| subject to| including|\.$|\.\s|$)"
)
_STRONG = re.compile(r"<strong>(.*?)</strong>", re.S | re.I)
_ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S | re.I)
_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
# What follows a comma inside one company's name ("Co., Ltd.", "Foo, Inc.").
_LEGAL_FORMS = (
    r"ltd|limited|inc|incorporated|llc|l\.l\.c|plc|corp|corporation|co|gmbh|ag|s\.?a|"
    r"s\.?l\.?u|pty\.? ltd|pte\.? ltd"
)
_LEGAL_FORM = re.compile(rf"(?:{_LEGAL_FORMS})\.?", re.IGNORECASE)
# A company's word anywhere in a name: a legal form, or "Company", "Group", "Holdings".
_LEGAL_FORM_WORD = re.compile(rf"\b(?:{_LEGAL_FORMS}|company|group|holdings?)\b", re.IGNORECASE)
_CJK = re.compile(r"[\u2e80-\u9fff]")
_CJK_TAIL = re.compile(r"\s*[(（]([^()（）]*[\u2e80-\u9fff][^()（）]*)[)）]\s*$")


@dataclass(frozen=True)
class Listing:
    """One organisation on one official list, as that list gives it."""

    list: str  # us-entity-list, us-meu, us-cmic, dod-1260h, aspi-cdut, fcc-covered
    name: str
    aliases: tuple[str, ...] = ()
    country: str | None = None
    category: str | None = None
    start: str | None = None
    end: str | None = None
    source: str | None = None  # the notice, PDF or page that names it
    notice: str | None = None  # "84 FR 22961"
    parent: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Listing:
        return cls(
            list=str(data["list"]),
            name=str(data["name"]),
            aliases=tuple(str(a) for a in data.get("aliases") or ()),
            country=data.get("country"),
            category=data.get("category"),
            start=data.get("start"),
            end=data.get("end"),
            source=data.get("source"),
            notice=data.get("notice"),
            parent=data.get("parent"),
        )


def _clean(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def _unique(names: Iterable[str], but: str = "") -> tuple[str, ...]:
    seen = {but.casefold()} if but else set()
    out = []
    for name in names:
        name = _clean(_PREFIX.sub("", _clean(name)))
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(name)
    return tuple(out)


def _names(cell: Any) -> list[str]:
    """The names of a cell that may hold several, comma-separated, keeping a company's legal
    form with its name: "Shanghai East China Computer Co., Ltd." is one name, not the two
    "Shanghai East China Computer Co." and "Ltd."."""
    names: list[str] = []
    for piece in _clean(cell).split(","):
        piece = piece.strip()
        if not piece:
            continue
        if names and _LEGAL_FORM.fullmatch(piece):
            names[-1] = f"{names[-1]}, {piece}"
        else:
            names.append(piece)
    return names


def _iso(value: Any) -> str | None:
    text = _clean(value)[:10]
    return text if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None


# -- trade.gov Consolidated Screening List -----------------------------------------------------
def parse_csl(data: Any) -> list[Listing]:
    """The Entity List, Military End User and NS-CMIC entries of the CSL's JSON download."""
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise DataError("The Consolidated Screening List file has no `results` list.")
    out = []
    for item in data["results"]:
        if not isinstance(item, dict):
            continue
        source = str(item.get("source") or "")
        list_id = next((v for k, v in CSL_LISTS.items() if k in source), None)
        if list_id is None or str(item.get("type") or "Entity") == "Individual":
            continue
        name, written = _csl_name(_clean(_BIS_TAIL.sub("", str(item.get("name") or ""))))
        if not name:
            continue
        alt = item.get("alt_names") or []
        if isinstance(alt, str):
            alt = alt.split("; ")
        alt = [*written, *alt]
        countries = [
            str(a.get("country")).upper()
            for a in item.get("addresses") or []
            if isinstance(a, dict) and a.get("country")
        ]
        notice = _clean(item.get("federal_register_notice")) or None
        first = _FR.search(notice or "")
        url = (
            f"https://www.federalregister.gov/citation/{first.group(1)}-FR-{first.group(2)}"
            if first
            else (item.get("source_information_url") or item.get("source_list_url"))
        )
        out.append(
            Listing(
                list=list_id,
                name=name,
                aliases=_unique((_BIS_TAIL.sub("", str(a)) for a in alt), but=name),
                country=countries[0] if len(set(countries)) == 1 else None,
                start=_iso(item.get("start_date")),
                end=_iso(item.get("end_date")),
                source=str(url) if url else None,
                notice=notice,
            )
        )
    return out


def _csl_name(text: str) -> tuple[str, list[str]]:
    """A CSL name and the other names written inside it: "X, a.k.a. Y; Z" is X, also Y and
    Z. A trailing parenthesis gives the name without it too, and is a name itself when it
    is a short name in capitals or Chinese ("X Co., Ltd. (XCL)"), not when it is a place or
    a remark ("X Co., Ltd. (Shenzhen)")."""
    parts = _AKA.split(text, maxsplit=1)
    name, also = parts[0].strip(" ,;"), []
    if len(parts) > 1:
        # The Federal Register's way: "a.k.a., the following two aliases: -BAAI; and -Zhiyuan".
        rest = _ALIASES_LEAD.sub("", parts[1])
        also = [_ALIAS_MARK.sub("", a).strip(" ,;.") for a in rest.split(";")]
    tail = _PAREN_TAIL.search(name)
    if tail:
        also.insert(0, name[: tail.start()].strip())
        inner = tail.group(1).strip()
        if _SHORT_NAME.fullmatch(inner) or _CJK_TAIL.search(tail.group(0)):
            also.insert(1, inner)
    return name, [a for a in also if a]


# -- DoD Section 1260H ---------------------------------------------------------------------------
# The 1260H list names subsidiaries abroad beside the Chinese companies ("Align Aerospace LLC",
# "John Holland Group Pty Ltd.", "COMAC America Corporation"): a legal form or a place word of
# another country in the name says where the subsidiary is. Any other row is Chinese.
_ABROAD = (
    (re.compile(r"\b(LLC|L\.L\.C\.|USA|U\.S\.A\.|America|Americas|North America)\b"), "US"),
    (re.compile(r"\bPty\.? Ltd\b"), "AU"),
    (re.compile(r"\bS\.L\.U?\.?(?!\w)"), "ES"),
    (re.compile(r"\bGmbH\b"), "DE"),
)


def _country_1260h(name: str) -> str:
    for pattern, country in _ABROAD:
        if pattern.search(name):
            return country
    return "CN"


def parse_1260h(text: str, default_source: str | None = None) -> list[Listing]:
    """One Listing per company: first start date, and an end date only when every listing
    period of it has ended (a company listed again is current)."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "Clean Name" not in reader.fieldnames:
        raise DataError("The 1260H file has no `Clean Name` column.")
    rows: dict[str, list[dict[str, str]]] = {}
    for row in reader:
        name = _clean(row.get("Clean Name"))
        if name:
            rows.setdefault(name.casefold(), []).append(row)
    out = []
    for group in rows.values():
        name = _clean(group[-1]["Clean Name"])
        starts = sorted(s for s in (_iso(r.get("Start date")) for r in group) if s)
        ends = [_iso(r.get("End date")) for r in group]
        aliases: list[str] = []
        parent = None
        for row in group:
            printed = _clean(row.get("Name")).rstrip("*").strip()
            tail = _PAREN_TAIL.search(printed)
            if tail:
                aliases.append(tail.group(1))
            aliases += _names(row.get("Alias"))
            aliases += _names(row.get("Previous Name"))
            parent = _clean(row.get("Parent Name")) or parent
        sources = [_clean(r.get("Source Url")) for r in group if _clean(r.get("Source Url"))]
        out.append(
            Listing(
                list="dod-1260h",
                name=name,
                aliases=_unique(aliases, but=name),
                country=_country_1260h(name),
                start=starts[0] if starts else None,
                end=None if any(e is None for e in ends) else max(e for e in ends if e),
                source=sources[-1] if sources else default_source,
                parent=_PAREN_TAIL.sub("", parent) if parent else None,
            )
        )
    return out


# -- ASPI China Defence Universities Tracker (MISP galaxy cluster) -------------------------------
# A laboratory's name that stands for its host: a key laboratory, or a "Science and Technology
# on X Laboratory" (not a "Research Center", a name many hosts have).
_LABORATORY = re.compile(r"\bKey Laborator(?:y|ies)\b|^Science and Technology on\b", re.IGNORECASE)
_OF_MINISTRY = re.compile(r"\s+of\s+(?=(?:the\s+)?Ministry of\b)", re.IGNORECASE)


def _laboratories(meta: dict[str, Any]) -> list[str]:
    """The names of a university's "major defence laboratories" (the tracker's field): the
    English and the Chinese name of each key laboratory, and "X of Ministry of Education" also
    as papers write it, "X, Ministry of Education"."""
    out: list[str] = []
    for entry in meta.get("major defence laboratories") or ():
        text = _clean(str(entry))
        if text.count("(") > text.count(")"):
            text += ")"  # "Artificial Intelligence Research Center (人工智能研究中心"
        chinese = _CJK_TAIL.search(text)
        english = _clean(_CJK_TAIL.sub("", text)) if chinese else text
        if not _LABORATORY.search(english):
            continue
        out.append(english)
        if _OF_MINISTRY.search(english):
            out.append(_OF_MINISTRY.sub(", ", english))
        if chinese:
            out.append(chinese.group(1).strip())
    return out


_SUBSIDIARY_AKA = re.compile(
    r",?\s*(?:\ba\.?k\.?a\.?|\balso known as|\bnow known as)(?:\s+the)?[\s,:]+", re.IGNORECASE
)
_PARENS = re.compile(r"\s*[(（]([^()（）]*)[)）]")
_CJK_PARENS = re.compile(r"\s*[(（][^()（）]*[\u2e80-\u9fff][^()（）]*[)）]")
# Between two names of one body: "/", ", or", and a comma before a name ("CASC 10th Academy,
# China Academy of Aerospace Aerodynamics"), not before a legal form ("Foo, Inc.").
_SUBSIDIARY_SPLIT = re.compile(
    rf"\s*/\s*|,?\s+or\s+|,(?!\s*(?:{_LEGAL_FORMS})\b)\s*", re.IGNORECASE
)
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{2,}\b")
_CJK_BODY = re.compile(r"[\u2e80-\u9fff]{2,}(?:公司|研究院|研究所|中心)")
_SUBSIDIARY_WORD = re.compile(r"[^\W\d_][\w'’&-]*")


@lru_cache(maxsize=1)
def _subsidiary_rules() -> tuple[frozenset[str], frozenset[str], re.Pattern[str]]:
    data = package_data("matching.yaml")
    bodies = frozenset(str(w).casefold() for w in data["subsidiary_body_words"])
    fields = frozenset(str(w).casefold() for w in data["subsidiary_field_words"])
    return bodies, fields, re.compile(data["subsidiary_never"], re.IGNORECASE)


def _own_name(name: str, parent: str) -> bool:
    """Whether a subsidiary's English name is a name of its own (matching.yaml says how)."""
    bodies, fields, never = _subsidiary_rules()
    parents = name.replace("’", "'").casefold().startswith(parent.replace("’", "'").casefold())
    if never.search(name) and not parents:
        return False
    if _LEGAL_FORM_WORD.search(name) or _ACRONYM.search(name):
        return True
    words = [w.casefold() for w in _SUBSIDIARY_WORD.findall(name)]
    own = [w for w in words if w not in bodies and w not in fields]
    return len(own) >= 2 or (len(own) == 1 and any(w in fields for w in words))


@lru_cache(maxsize=1)
def _countries_abroad() -> frozenset[str]:
    china = {"CN", "HK", "MO"}
    return frozenset(
        n.casefold() for code, names in country_names().items() if code not in china for n in names
    )


def _names_country_abroad(text: str) -> bool:
    """Whether a text is the name of a country other than China ("Austria")."""
    return _clean(text).casefold() in _countries_abroad()


def _subsidiaries(meta: dict[str, Any], parent: str) -> list[str]:
    """The names of an entry's "subsidiaries" (the tracker's field) that stand for it. An item
    may give several names of one body: "CASC 5th Academy, a.k.a. China Academy of Space
    Technology (CAST)", "... now known as the Army Characteristic Medical Center", "X or Y",
    "First Affiliated Hospital/Southwest Hospital", with Chinese names in brackets; where the
    first is a name of its own, all of them are kept (the others are the same body's), save a
    campus, a base or another university; where it is not, only the others that are. A place
    or an acronym in brackets at the end ("(Shanghai)", "(CALT)") is dropped; a Chinese-only
    item is kept where it names a company or an institute."""
    never = _subsidiary_rules()[2]
    out: list[str] = []
    for entry in meta.get("subsidiaries") or ():
        text = _clean(str(entry))
        if text.startswith("["):  # "[Probable] Panda International ...": not confirmed
            continue
        chinese = [c.strip() for c in _PARENS.findall(text) if _CJK.search(c)]
        english = _clean(_CJK_PARENS.sub("", text))
        tail = _PAREN_TAIL.search(english)
        if tail and _names_country_abroad(tail.group(1)):
            continue  # "FACC AG (Austria)": a company of another country, not the parent
        while _PAREN_TAIL.search(english):
            english = _PAREN_TAIL.sub("", english)
        if not english:
            out += [c for part in chinese for c in part.split("/") if _CJK_BODY.search(c)]
            continue
        names = [n for p in _SUBSIDIARY_AKA.split(english) for n in _SUBSIDIARY_SPLIT.split(p)]
        names = [_clean(n).strip(" ,;") for n in names]
        names = [n for n in names if n]
        if _CJK.search(english):
            out += [n for n in names if _CJK_BODY.search(n)]
        elif _own_name(names[0], parent):
            out += [n for n in names if not never.search(n) or _own_name(n, parent)]
            out += [c.strip() for part in chinese for c in part.split("/") if c.strip()]
        else:
            out += [n for n in names[1:] if _own_name(n, parent)]
    return out


def parse_aspi(data: Any) -> list[Listing]:
    if not isinstance(data, dict) or not isinstance(data.get("values"), list):
        raise DataError("The ASPI tracker file is not a MISP galaxy cluster (no `values`).")
    items = [i for i in data["values"] if isinstance(i, dict) and i.get("value")]
    # A laboratory two universities list (one they run together) stands for neither.
    # So does a subsidiary two entries list ("National Supercomputing Center in Changsha").
    hosts: dict[str, int] = {}
    units: dict[int, list[str]] = {}
    for number, item in enumerate(items):
        meta = item.get("meta") or {}
        parent = _CJK_TAIL.sub("", _clean(item["value"]))
        units[number] = _laboratories(meta) + _subsidiaries(meta, parent)
        for unit in {u.casefold() for u in units[number]}:
            hosts[unit] = hosts.get(unit, 0) + 1
    out = []
    for number, item in enumerate(items):
        meta = item.get("meta") or {}
        value = _clean(item["value"])
        chinese = _CJK_TAIL.search(value)
        name = _CJK_TAIL.sub("", value) if chinese else value
        aliases = [chinese.group(1)] if chinese else []
        for alias in meta.get("aliases") or ():
            # "Beijing Automation Control Equipment Institute (BACEI)": both names.
            first, also = _csl_name(_clean(alias))
            aliases += [first, *also]
        aliases += [unit for unit in units[number] if hosts[unit.casefold()] == 1]
        categories = [str(c) for c in meta.get("categories") or ()]
        refs = [str(r) for r in meta.get("refs") or ()]
        out.append(
            Listing(
                list="aspi-cdut",
                name=name,
                aliases=_unique(aliases, but=name),
                country="CN",
                category=categories[0] if categories else None,
                source=refs[0] if refs else None,
            )
        )
    return out


# -- FCC Covered List --------------------------------------------------------------------------
def parse_fcc(text: str, source: str | None = None) -> list[Listing]:
    """The companies named on the Covered List, each with the date it was first included."""
    rows: list[tuple[list[str], str]] = []
    if "<td" in text.lower():
        for row in _ROW.findall(text):
            cells = _CELL.findall(row)
            if len(cells) < 2:
                continue
            names = [html.unescape(_TAG.sub("", s)) for s in _STRONG.findall(cells[0])]
            rows.append((names, html.unescape(_TAG.sub(" ", cells[1]))))
    else:
        reader = csv.DictReader(io.StringIO(text))
        fields = {f.lower().strip(): f for f in reader.fieldnames or ()}
        what = fields.get("covered_equipment_or_services") or fields.get(
            "covered equipment or services"
        )
        when = fields.get("date_of_inclusion_on_covered_list") or fields.get(
            "date of inclusion on covered list"
        )
        named = fields.get("entity name")
        if not what or not when:
            raise DataError("The FCC Covered List file has neither its table nor its columns.")
        for item in reader:
            names = [item[named]] if named and item.get(named) else []
            names = names or [m.group(1) for m in _FCC_BY.finditer(item.get(what) or "")]
            rows.append((names, item.get(when) or ""))
    out: dict[str, Listing] = {}
    for names, when in rows:
        date = _DATE.search(when)
        start = (
            datetime.strptime(" ".join(date.groups()), "%B %d %Y").date().isoformat()
            if date
            else None
        )
        for raw in names:
            name = _clean(raw).rstrip(".")
            if len(name) < 3 or name.casefold() in out:
                continue
            out[name.casefold()] = Listing(
                list="fcc-covered", name=name, start=start, source=source
            )
    return list(out.values())


__all__ = ["Listing", "parse_1260h", "parse_aspi", "parse_csl", "parse_fcc"]
