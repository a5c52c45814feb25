"""Usage judgement: did a paper use a dataset, only cite it, or only name it?

Each paper gets a level with a score and the sentences a reader can check:

- `used`: the evidence shows use (verbs of use beside the dataset's name, the name in the title
  or abstract, intents methodology/result), whether or not the paper cites an origin paper;
- `cited`: it cites an origin paper (of the dataset or of a derivative), with no sign of use;
- `mentioned`: it names the dataset without citing it and without sign of use.

Signs and their weights live in `data/usage_rules.yaml`; the score combines them by noisy-OR.
`on_topic` keeps mention-only hits on topic: a dataset named with an ordinary word (Brainwash)
must not pull in papers about brainwashing.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tracer.errors import CatalogError, DataError

RULES_FILE = Path(__file__).parent / "data" / "usage_rules.yaml"

MAX_EVIDENCE_CHARS = 400
MAX_EVIDENCE = 5

# Hyphens, dashes, spaces and underscores are interchangeable (or absent) inside a name:
# "MS-Celeb-1M", "MS Celeb 1M" and "MSCeleb1M" are one dataset.
_SEP_CHARS = r"\-\s_\u2010-\u2015"
_NAME_SPLIT = re.compile(f"[{_SEP_CHARS}]+")
_CAMEL_SPLIT = re.compile(r"(?<=[a-z])(?=[A-Z])")
_BOUNDARY_BEFORE = r"(?<![A-Za-z0-9])"
_BOUNDARY_AFTER = r"(?![A-Za-z0-9])"
# A sentence ends at . ! or ? (and closing quotes) before a space and a capital or a digit.
# (Starting the pattern with the punctuation, not a lookbehind, makes it scan fast.)
_SENTENCE_END = re.compile(r"[.!?]([\"')\]]*)\s+(?=[\"'(\[]?[A-Z0-9])")
_LAST_WORD = re.compile(r"([A-Za-z.]+)$")


@dataclass(frozen=True)
class Evidence:
    kind: str  # "context" | "snippet" | "title" | "abstract"
    text: str  # the sentence, trimmed around the match
    source: str  # "s2" | "openalex"
    matched: str | None  # the name (or alias, or derivative name) found, if any


@dataclass
class Judgement:
    level: str  # "used" | "cited" | "mentioned"
    score: float  # 0..1
    evidence: list[Evidence] = field(default_factory=list)  # best first
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Rules:
    threshold: float
    base_cites: float
    base_mentions: float
    weights: dict[str, float]
    verbs: list[tuple[str, str]]  # (label, pattern source, may hold {name})
    negations: re.Pattern[str]
    listing: re.Pattern[str]
    first_person: re.Pattern[str]
    cues: list[str]  # pattern sources holding {name}
    abbreviations: frozenset[str]


def _need(data: dict[str, Any], key: str) -> Any:
    if key not in data:
        raise DataError(f"The usage rules file {RULES_FILE} lacks '{key}'.")
    return data[key]


@functools.cache
def _rules() -> _Rules:
    try:
        data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"Cannot read the usage rules file {RULES_FILE}: {exc}.") from exc
    if not isinstance(data, dict):
        raise DataError(f"The usage rules file {RULES_FILE} is not a mapping.")
    base = _need(data, "base")
    verbs = [
        (str(label), str(pattern))
        for label, patterns in _need(data, "use_verbs").items()
        for pattern in patterns
    ]
    try:
        return _Rules(
            threshold=float(_need(data, "used_threshold")),
            base_cites=float(_need(base, "cites")),
            base_mentions=float(_need(base, "mentions")),
            weights={str(k): float(v) for k, v in _need(data, "weights").items()},
            verbs=verbs,
            negations=re.compile(_need(data, "negations"), re.IGNORECASE),
            listing=re.compile(_need(data, "listing"), re.IGNORECASE),
            first_person=re.compile(_need(data, "first_person"), re.IGNORECASE),
            cues=[str(c) for c in _need(data, "dataset_cues")],
            abbreviations=frozenset(str(a).lower() for a in _need(data, "abbreviations")),
        )
    except (re.error, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"The usage rules file {RULES_FILE} is malformed: {exc}.") from exc


def _name_regex(name: str) -> tuple[str, bool, str]:
    """The pattern for one name, whether it reads as ordinary words, and a literal it holds.

    Names with a digit (MS-Celeb-1M), three words and more, or an inner capital in a name of
    five letters and more (DukeMTMC, CelebA) are distinctive: matched in any case. Others
    (Brainwash, LFW, DiF, Duke MTMC) are matched as written (long ones also in capitals, as in
    titles) and need a cue that the text speaks of a dataset (see on_topic).
    """
    tokens = [t for t in _NAME_SPLIT.split(name.strip()) if t]
    parts = [p for t in tokens for p in _CAMEL_SPLIT.split(t)]
    letters = sum(c.isalpha() for c in name)
    sep = f"[{_SEP_CHARS}]?"
    anchor = max(parts, key=len).lower()
    distinctive = (
        any(c.isdigit() for c in name)
        or len(tokens) >= 3
        or (len(parts) > len(tokens) and letters >= 5)
    )
    written = sep.join(re.escape(p) for p in parts)
    if distinctive:
        return f"(?i:{written})", False, anchor
    upper = sep.join(re.escape(p.upper()) for p in parts)
    if upper == written or letters <= 4:  # "DIF" is not "DiF"
        return written, True, anchor
    return f"(?:{written}|{upper})", True, anchor


_LEADING_WORD = re.compile(r"^\\b([a-z]+)")


def _literal_first(pattern: str) -> str:
    r"""Rewrite a leading `\bword` as `word(?<![a-z]word)`: same matches, but Python's regex
    engine scans for a literal prefix far faster than it tests a word boundary at each place."""
    return _LEADING_WORD.sub(lambda m: f"{m.group(1)}(?<![a-z]{m.group(1)})", pattern)


class _Matcher:
    """Every name of a dataset compiled once: one alternation, longest name first."""

    def __init__(self, names: Sequence[str], derivatives: Sequence[str]) -> None:
        rules = _rules()
        entries = [(n, False) for n in names] + [(n, True) for n in derivatives]
        # Longest first, so that "DukeMTMC-reID" wins over "DukeMTMC" at the same place.
        entries.sort(key=lambda e: -len(e[0]))
        self.groups: list[tuple[str, bool, bool]] = []  # (name, is_derivative, needs_cue)
        alternatives: list[str] = []
        ordinary: list[str] = []
        anchors: set[str] = set()
        for name, derived in entries:
            source, needs_cue, anchor = _name_regex(name)
            anchors.add(anchor)
            self.groups.append((name, derived, needs_cue))
            alternatives.append(f"({source})")
            if needs_cue:
                ordinary.append(source)
        # Every match holds one of these in lower case: a cheap test before the regex.
        self.anchors = tuple(sorted(anchors))
        bare = "|".join(a[1:-1] for a in alternatives)
        self.any = re.compile(f"{_BOUNDARY_BEFORE}(?:{'|'.join(alternatives)}){_BOUNDARY_AFTER}")
        name_nc = f"{_BOUNDARY_BEFORE}(?:{bare}){_BOUNDARY_AFTER}"
        # (label, pattern, whether it reads the sentence as written rather than lower-cased)
        self.verbs: list[tuple[str, re.Pattern[str], bool]] = [
            (label, re.compile(pattern.replace("{name}", name_nc)), True)
            if "{name}" in pattern
            else (label, re.compile(_literal_first(pattern)), False)
            for label, pattern in rules.verbs
        ]
        self.cue: re.Pattern[str] | None = None
        if ordinary:
            ordinary_nc = f"{_BOUNDARY_BEFORE}(?:{'|'.join(ordinary)}){_BOUNDARY_AFTER}"
            self.cue = re.compile("|".join(c.replace("{name}", ordinary_nc) for c in rules.cues))

    def present(self, text: str) -> bool:
        """Whether the text may name the dataset (never False when it does)."""
        low = text.lower()
        return any(anchor in low for anchor in self.anchors)

    def find(self, text: str) -> tuple[re.Match[str], str, bool, bool] | None:
        if not self.present(text):
            return None
        match = self.any.search(text)
        if match is None or match.lastindex is None:
            return None
        name, derived, needs_cue = self.groups[match.lastindex - 1]
        return match, name, derived, needs_cue


def _dedupe(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        value = value.strip() if isinstance(value, str) else ""
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    return out


@dataclass(frozen=True)
class DatasetTerms:
    """What the judge looks for: a dataset's names, its derivatives' names, its fields."""

    key: str
    names: list[str]  # display name, aliases and mention phrases
    derivative_names: list[str] = field(default_factory=list)
    fields_of_study: list[str] = field(default_factory=list)
    _matcher: _Matcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A name must hold a letter or digit to be looked for at all.
        names = [n for n in _dedupe(self.names) if any(c.isalnum() for c in n)]
        if not names:
            raise CatalogError(f"Dataset '{self.key}' has no name to look for in papers.")
        object.__setattr__(self, "names", names)
        known = {n.casefold() for n in names}
        derived = [
            d
            for d in _dedupe(self.derivative_names)
            if d.casefold() not in known and any(c.isalnum() for c in d)
        ]
        object.__setattr__(self, "derivative_names", derived)
        object.__setattr__(self, "fields_of_study", _dedupe(self.fields_of_study))
        object.__setattr__(self, "_matcher", _Matcher(names, derived))

    @classmethod
    def build(
        cls,
        name: str,
        aliases: Iterable[str] = (),
        mentions: Iterable[str] = (),
        derivative_names: Iterable[str] = (),
        fields_of_study: Iterable[str] = (),
        *,
        key: str | None = None,
    ) -> DatasetTerms:
        return cls(
            key=key or name.casefold(),
            names=[name, *aliases, *mentions],
            derivative_names=list(derivative_names),
            fields_of_study=list(fields_of_study),
        )


def _sentence_spans(text: str, abbreviations: frozenset[str]) -> list[tuple[int, int]]:
    """Where the sentences of a passage lie; no split at "et al.", "e.g." or initials."""
    spans: list[tuple[int, int]] = []
    start = 0
    for gap in _SENTENCE_END.finditer(text):
        if text[gap.start()] == ".":
            last = _LAST_WORD.search(text[max(start, gap.start() - 16) : gap.start()])
            if last is not None:
                token = last.group(1).lower().strip(".")
                if token in abbreviations or len(token) == 1:
                    continue
        spans.append((start, gap.end(1)))
        start = gap.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _trim(sentence: str, at: int) -> str:
    """The sentence on one line, cut to MAX_EVIDENCE_CHARS around the match at `at`."""
    if len(sentence) <= MAX_EVIDENCE_CHARS:
        return " ".join(sentence.split())
    size = MAX_EVIDENCE_CHARS - 2  # room for the ellipses
    start = max(0, min(at - size // 3, len(sentence) - size))
    piece = " ".join(sentence[start : start + size].split())
    head = "…" if start > 0 else ""
    tail = "…" if start + size < len(sentence) else ""
    return head + piece + tail


class _Tally:
    """Signals found so far: the strongest instance of each kind counts once."""

    def __init__(self) -> None:
        self.best: dict[str, float] = {}
        self.reasons: list[str] = []
        self.evidence: list[tuple[float, int, Evidence]] = []

    def reason(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def add(self, signal: str, weight: float, evidence: Evidence | None = None) -> None:
        self.best[signal] = max(weight, self.best.get(signal, 0.0))
        if evidence is not None and all(e.text != evidence.text for _, _, e in self.evidence):
            self.evidence.append((weight, len(self.evidence), evidence))

    def score(self, base: float) -> float:
        remaining = 1.0 - base
        for weight in self.best.values():
            remaining *= 1.0 - min(max(weight, 0.0), 1.0)
        return round(min(max(1.0 - remaining, 0.0), 1.0), 4)


def _verbs(matcher: _Matcher, sentence: str, rules: _Rules) -> list[str]:
    low = sentence.lower()
    labels = [
        label
        for label, pattern, as_written in matcher.verbs
        if pattern.search(sentence if as_written else low)
    ]
    if labels and rules.negations.search(sentence):
        return []
    return list(dict.fromkeys(labels))


def _read(
    tally: _Tally, terms: DatasetTerms, text: str, kind: str, source: str, rules: _Rules
) -> None:
    """Look for the dataset's names and verbs of use in one context, snippet or abstract."""
    matcher = terms._matcher
    w = rules.weights
    matches = list(matcher.any.finditer(text)) if matcher.present(text) else []
    if not matches and kind != "context":
        return  # only a citation context speaks of the dataset without naming it
    spans = _sentence_spans(text, rules.abbreviations)
    ends = [end for _, end in spans]
    first: dict[int, re.Match[str]] = {}  # the first name in each sentence
    for found in matches:
        first.setdefault(bisect.bisect_right(ends, found.start()), found)
    for index, (begin, end) in enumerate(spans):
        sentence = text[begin:end]
        match = first.get(index)
        if match is None or match.lastindex is None:
            if kind != "context":
                continue
            labels = _verbs(matcher, sentence, rules)
            if not labels:
                continue
            we = rules.first_person.search(sentence) is not None
            signal = "first_person_verb_in_context" if we else "verb_in_context"
            ev = Evidence("context", _trim(sentence, 0), source, None)
            tally.add(signal, w[signal], ev)
            tally.reason("use-in-context" if we else "verb-in-context")
            for label in labels:
                tally.reason(f"verb:{label}")
            continue
        name, derived, _ = matcher.groups[match.lastindex - 1]
        at = match.start() - begin
        ev = Evidence(kind, _trim(sentence, at), source, name)
        tally.reason(f"name-in-{kind}")
        if derived:
            tally.reason(f"derivative:{name}")
        labels = _verbs(matcher, sentence, rules)
        if labels:
            signal = "abstract_name_with_verb" if kind == "abstract" else "name_with_verb"
            for label in labels:
                tally.reason(f"verb:{label}")
        elif kind != "abstract" and rules.listing.search(sentence[:at]):
            # In a citation context or passage, "datasets such as X [12]" is background; an
            # abstract that lists datasets mostly lists those its experiments ran on.
            signal = "name_in_listing"
            tally.reason("listing")
        else:
            signal = {"context": "name_in_context", "snippet": "name_in_snippet"}.get(
                kind, "abstract_names"
            )
        tally.add(signal, w[signal], ev)


def judge(
    terms: DatasetTerms,
    *,
    cites: bool,
    contexts: Sequence[str] = (),
    intents: Sequence[str] = (),
    snippets: Sequence[str] = (),
    title: str | None = None,
    abstract: str | None = None,
    via_derivative: str | None = None,
    text_source: str = "s2",
) -> Judgement:
    """Judge one paper's use of a dataset from what the sources say about it.

    `cites`: the paper cites an origin paper of the dataset, or of the derivative named in
    `via_derivative`. `contexts`/`intents` come from S2 citations, `snippets` from S2 snippet
    search; `text_source` says where title and abstract came from ("s2" or "openalex").
    """
    rules = _rules()
    w = rules.weights
    tally = _Tally()
    if cites:
        tally.reason("cites")
    if via_derivative:
        tally.reason(f"via-derivative:{via_derivative}")
    for intent in dict.fromkeys(i.strip().lower() for i in intents if isinstance(i, str)):
        if f"intent_{intent}" in w:
            tally.add(f"intent_{intent}", w[f"intent_{intent}"])
            tally.reason(f"intent:{intent}")
    for context in contexts:
        _read(tally, terms, context or "", "context", "s2", rules)
    for snippet in snippets:
        _read(tally, terms, snippet or "", "snippet", "s2", rules)
    if title:
        found = terms._matcher.find(title)
        if found is not None:
            match, name, derived, _ = found
            tally.add(
                "title_names",
                w["title_names"],
                Evidence("title", _trim(title, match.start()), text_source, name),
            )
            tally.reason("name-in-title")
            if derived:
                tally.reason(f"derivative:{name}")
    if abstract:
        _read(tally, terms, abstract, "abstract", text_source, rules)
    score = tally.score(rules.base_cites if cites else rules.base_mentions)
    if score >= rules.threshold:
        level = "used"
    elif cites:
        level = "cited"
    else:
        level = "mentioned"
        if not any(r.startswith("name-in-") for r in tally.reasons):
            tally.reason("no-name-in-text")
    ranked = sorted(tally.evidence, key=lambda e: (-e[0], e[1]))
    return Judgement(
        level=level,
        score=score,
        evidence=[e for _, _, e in ranked[:MAX_EVIDENCE]],
        reasons=tally.reasons,
    )


def on_topic(
    terms: DatasetTerms, *, text: str, fields_of_study: Sequence[str], cites: bool
) -> bool:
    """Whether a hit belongs to the dataset's topic. Citers always do.

    A mention-only hit must (1) share a field of study with the dataset when both are known, and
    (2) name the dataset as a dataset: a distinctive name whole-word, an ordinary-word name
    (Brainwash) as written and with a cue such as "Brainwash dataset", "Brainwash [12]",
    "on Brainwash"; never "brainwashing".
    """
    if cites:
        return True
    wanted = {f.casefold() for f in terms.fields_of_study}
    have = {f.casefold() for f in fields_of_study if isinstance(f, str)}
    if wanted and have and not wanted & have:
        return False
    matcher = terms._matcher
    for match in matcher.any.finditer(text or ""):
        if match.lastindex is not None and not matcher.groups[match.lastindex - 1][2]:
            return True
    return matcher.cue is not None and matcher.cue.search(text or "") is not None
