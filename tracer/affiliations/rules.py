"""Sectors from organisation types and names, and the military rules (data/*.yaml)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

from tracer.affiliations.countries import country_names
from tracer.affiliations.normalize import load_yaml, normalize


def package_data(name: str) -> Any:
    text = resources.files("tracer.affiliations").joinpath(f"data/{name}").read_text("utf-8")
    return load_yaml(text)


@lru_cache(maxsize=1)
def _sector_tables() -> tuple[list[tuple[str, str]], list[tuple[re.Pattern[str], str]]]:
    data = package_data("sectors.yaml")
    types = [(str(t), str(s)) for t, s in data["types"]]
    names = [(re.compile(p), str(s)) for p, s in data["names"]]
    return types, names


@lru_cache(maxsize=1)
def _military() -> tuple[re.Pattern[str], list[str]]:
    # One alternation with a group per rule: one search answers which rule (if any) matches.
    rules = package_data("military_rules.yaml")["rules"]
    pattern = "|".join(f"(?P<r{i}>{rule['pattern']})" for i, rule in enumerate(rules))
    return re.compile(pattern), [str(rule["label"]) for rule in rules]


@lru_cache(maxsize=1)
def _security() -> tuple[re.Pattern[str], list[str]]:
    rules = package_data("security_rules.yaml")["rules"]
    pattern = "|".join(f"(?P<r{i}>{rule['pattern']})" for i, rule in enumerate(rules))
    return re.compile(pattern), [str(rule["category"]) for rule in rules]


@lru_cache(maxsize=1)
def _unresolved() -> tuple[re.Pattern[str], ...]:
    data = package_data("sectors.yaml")["unresolved"]
    return (
        re.compile(data["academic"]),
        re.compile(data["not"]),
        re.compile(data["commercial"]),
        re.compile(data["commercial_not"]),
        re.compile(data["healthcare"]),
        re.compile(data["nonprofit"]),
    )


def unresolved_sector(pieces: Iterable[str]) -> str:
    """The sector a string that names no known institution shows by its form: "academic" when
    one of its normalised pieces names a university or college and none names a company;
    "commercial" when a piece names a company by its legal form and no piece names a
    university without being a company's name, or a hospital or health service; "healthcare"
    when a piece names a hospital; "nonprofit" when one names a foundation and none names a
    university; else "unknown"."""
    academic, company, legal_form, health, hospital, foundation = _unresolved()
    texts = [p for p in pieces if p]
    schools = [t for t in texts if academic.search(t) and not company.search(t)]
    if (
        not schools
        and any(legal_form.search(t) for t in texts)
        and not any(health.search(t) for t in texts)
    ):
        return "commercial"
    if any(hospital.search(t) for t in texts):
        return "healthcare"
    if any(company.search(t) for t in texts):
        return "unknown"
    if schools:
        return "academic"
    return "nonprofit" if any(foundation.search(t) for t in texts) else "unknown"


@lru_cache(maxsize=1)
def _legal_form() -> tuple[re.Pattern[str], frozenset[str]]:
    data = package_data("matching.yaml")
    places = package_data("places.yaml")
    plain = {normalize(str(w)) for w in data["company_words"]}
    named = [n for names in country_names().values() for n in names]
    for table in (places["regions"], places["cities"]):
        named += [n for names in table.values() for n in names]
    plain.update(word for name in named for word in normalize(str(name)).split())
    return re.compile(str(data["legal_form_tail"]), re.IGNORECASE), frozenset(plain)


def ends_with_legal_form(text: str) -> bool:
    """Whether a text ends with a company's legal form ("Leon Technology Co Ltd")."""
    return _legal_form()[0].search(text) is not None


def without_legal_form(name: str) -> str | None:
    """A listed company's name without its trailing legal forms ("Beijing Kuangshi Technology
    Co., Ltd." -> "Beijing Kuangshi Technology"), or None when it has none or what is left
    would name no one in particular (data/matching.yaml, legal_form_tail)."""
    pattern, plain = _legal_form()
    match = pattern.search(name)
    if match is None:
        return None
    bare = name[: match.start()].strip(" ,")
    words = normalize(bare).split()
    if len(words) < 2 or all(word in plain for word in words):
        return None
    return bare


def prepare() -> None:
    """Read and compile the rule tables now rather than on the first name classified."""
    _sector_tables()
    _unresolved()
    _military()
    _military_domains()
    _security()
    _matching()
    _translations()
    _joined()


@lru_cache(maxsize=1 << 16)
def security_rule_normalized(norm: str) -> str | None:
    """The category of the first police or public-security rule a normalised name meets."""
    pattern, labels = _security()
    match = pattern.search(norm)
    if match is None or match.lastgroup is None:
        return None
    return labels[int(match.lastgroup[1:])]


@lru_cache(maxsize=1)
def _security_countries() -> frozenset[str]:
    return frozenset(str(c) for c in package_data("security_rules.yaml").get("countries") or ())


@lru_cache(maxsize=1)
def _police_elsewhere() -> re.Pattern[str]:
    return re.compile(str(package_data("security_rules.yaml")["elsewhere"]))


def police_elsewhere_normalized(norm: str) -> bool:
    """Whether a normalised name is a police body's of a country whose police no rule here
    flags (security_rules.yaml, `elsewhere`)."""
    return _police_elsewhere().search(norm) is not None


def police_elsewhere(*names: str | None) -> bool:
    return any(name and police_elsewhere_normalized(normalize(name)) for name in names)


def security_country(country: str | None) -> bool:
    """Whether the police and public-security rules count for a string of this country (None:
    not known)."""
    return country is None or country in _security_countries()


def security_rule(*names: str | None) -> str | None:
    for name in names:
        if name:
            label = security_rule_normalized(normalize(name))
            if label:
                return label
    return None


def sector_for(types: Iterable[str | None], name: str | None = None) -> str:
    return _sector_for(tuple(sorted(t.lower() for t in types if t)), name)


@lru_cache(maxsize=65536)
def _sector_for(present: tuple[str, ...], name: str | None) -> str:
    """The sector of an organisation from its ROR/OpenAlex types, the name deciding when the
    types say nothing (only `funder`, or none). Military rules are applied separately."""
    by_type, by_name = _sector_tables()
    for kind, sector in by_type:
        if kind in present:
            return sector
    if name:
        norm = normalize(name)
        for pattern, sector in by_name:
            if pattern.search(norm):
                return sector
    return "unknown"


def military_rule(*names: str | None) -> str | None:
    """The label of the first military rule that one of these names meets, or None."""
    for name in names:
        if name:
            label = _military_one(name)
            if label:
                return label
    return None


@lru_cache(maxsize=1 << 16)
def _military_one(name: str) -> str | None:
    return military_rule_normalized(normalize(name))


@lru_cache(maxsize=1 << 16)
def military_rule_normalized(norm: str) -> str | None:
    """`military_rule` on a name already normalised (institution names repeat: cached)."""
    pattern, labels = _military()
    # Tried at the start of each word only (every rule names words from their start): the
    # first word that begins a match decides, as a search would, at a quarter of its cost.
    match = pattern.match(norm)
    space = norm.find(" ")
    while match is None and space >= 0:
        match = pattern.match(norm, space + 1)
        space = norm.find(" ", space + 1)
    if match is None or match.lastgroup is None:
        return None
    return labels[int(match.lastgroup[1:])]


@lru_cache(maxsize=1)
def _military_domains() -> frozenset[str]:
    return frozenset(
        str(d).lower() for d in package_data("military_rules.yaml").get("domains") or ()
    )


def military_domain(domains: Iterable[str]) -> bool:
    """Whether one of a string's e-mail or web domains (watchlist.domains_in: each with its
    parents) is a military body's: listed in data/military_rules.yaml, under the .mil top-level
    domain, or a country's "mil" domain ("mil.ru")."""
    listed = _military_domains()
    for domain in domains:
        labels = domain.split(".")
        if domain in listed or labels[-1] == "mil" or (len(labels) == 2 and labels[0] == "mil"):
            return True
    return False


@lru_cache(maxsize=1)
def _matching() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, list[tuple[str, ...]]]]:
    data = package_data("matching.yaml")
    tails = {tuple(normalize(str(t)).split()) for t in data["unit_tails"]}
    # By last word, longest first: "hospital and medical school" before "medical school".
    by_last: dict[str, list[tuple[str, ...]]] = {}
    for tail in sorted(tails, key=lambda t: (-len(t), t)):
        by_last.setdefault(tail[-1], []).append(tail)
    footnote = str(data["footnote"])
    numbered = [re.escape(str(n)) for n in data.get("numbered_names") or ()]
    if numbered:  # "4Paradigm ..." keeps its digit: no footnote mark before such a name
        footnote = r"^(?!\s*(?:" + "|".join(numbered) + r")\b)" + footnote.removeprefix("^")
    return re.compile(footnote), re.compile(str(data["lead_in"])), by_last


@lru_cache(maxsize=1)
def _glued_link() -> re.Pattern[str]:
    data = package_data("matching.yaml")
    heads = "|".join(re.escape(str(h).capitalize()) for h in data["glued_heads"])
    links = "|".join(re.escape(str(w)) for w in data["glued_links"])
    return re.compile(rf"(?<![^\W\d_])({heads})(?=(?:{links})(?![^\W\d_]))")


def cut_glued_links(word: str) -> str:
    """A name's words cut from the link word glued after them ("Universityof" -> "University
    of"; data/matching.yaml, glued_heads)."""
    return _glued_link().sub(r"\1 ", word)


@lru_cache(maxsize=1)
def _joined() -> tuple[re.Pattern[str], re.Pattern[str]]:
    data = package_data("matching.yaml")
    return re.compile(str(data["joined"])), re.compile(str(data["joined_after_legal_form"]))


def joined_affiliations(part: str) -> list[str]:
    """One string's affiliations written one after the other with ", and" between them
    ("..., Detroit, MI 48202, and Department of Chemistry, University of Windsor, ..."),
    each with a comma of its own, or with " and " after a company's legal form ("X Co Ltd and
    School of Y, Z University, ..."); [part] when there is no such seam."""
    if " and " not in part:
        return [part]
    comma_and, after_form = _joined()
    out: list[str] = []
    for piece in after_form.split(part) if after_form.search(part) else [part]:
        sides = comma_and.split(piece) if ", and " in piece else [piece]
        if len(sides) < 2 or any("," not in side for side in sides):
            sides = [piece]
        out += sides
    return out


def tidy(part: str) -> str:
    """One affiliation without what is written before its first name: a footnote mark
    ("1Department of ...", "a University of ...") and lead-in words ("From the ...")."""
    footnote, lead_in, _tails = _matching()
    out = footnote.sub("", part, count=1)
    out = lead_in.sub("", out, count=1)
    return out if out.strip() else part


def unit_tail(toks: tuple[str, ...] | list[str]) -> int:
    """How many of a piece's last tokens name a unit of a university ("medical school",
    "school of medicine"), 0 when none or when nothing would be left before them."""
    if not toks:
        return 0
    for tail in _matching()[2].get(toks[-1], ()):
        size = len(tail)
        if len(toks) > size and tuple(toks[-size:]) == tail:
            return size
    return 0


@lru_cache(maxsize=1)
def _qualifiers() -> tuple[frozenset[str], frozenset[str]]:
    data = package_data("matching.yaml")["qualifiers"]
    return frozenset(str(w) for w in data["words"]), frozenset(str(w) for w in data["heads"])


def qualified(before: str, first: str) -> bool:
    """Whether the token `before`, written right before a name whose first token is `first`,
    makes that name the end of a longer one ("technical" before "university of ...")."""
    words, heads = _qualifiers()
    return before in words and (first in heads or translated_word(first) in heads)


@lru_cache(maxsize=1)
def _translations() -> tuple[dict[str, str], frozenset[str]]:
    data = package_data("matching.yaml")
    words = {str(w): str(k) for k, values in data["translations"].items() for w in values}
    return words, frozenset(str(w) for w in data["connectors"])


def translated_words(toks: Iterable[str]) -> list[str]:
    """A name's words in one language (data/matching.yaml), connectors left out, "ae", "oe"
    and "ue" written as the plain vowel ("Tuebingen")."""
    return [w for w in map(_translated_one, toks) if w]


@lru_cache(maxsize=1 << 17)
def _translated_one(tok: str) -> str:
    words, connectors = _translations()
    if tok in connectors:
        return ""
    tok = words.get(tok, tok)
    if "e" in tok:
        tok = tok.replace("ae", "a").replace("oe", "o").replace("ue", "u")
    return tok


def translated_key(toks: Iterable[str]) -> str:
    """An order-free key of a name across languages: its translated_words, sorted (whole:
    "Universitätsmedizin" is not "Universität"). Empty for fewer than two words."""
    return _translated_key(tuple(toks))


@lru_cache(maxsize=1 << 16)
def _translated_key(toks: tuple[str, ...]) -> str:
    out = set(translated_words(toks))
    return " ".join(sorted(out)) if len(out) >= 2 else ""


def translated_word(tok: str) -> str:
    """One folded word in the language of translated_key ("universitat" -> "university")."""
    return _translations()[0].get(tok, tok)
