"""Finding a dataset's names in text: the terms, the compiled matcher, sentences, on_topic."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracer.errors import CatalogError
from tracer.usage.prefilter import Guard, guard
from tracer.usage.rules import rules

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
    engine scans for a literal prefix far faster than it tests a word boundary at each place.

    A quantifier after the word binds to its last letter (`\bresults?` is "result" and an
    optional "s"), so that letter stays outside the literal."""
    match = _LEADING_WORD.match(pattern)
    if match is None:
        return pattern
    word, rest = match.group(1), pattern[match.end():]
    if rest[:1] in {"?", "*", "+", "{"}:
        word, rest = word[:-1], word[-1] + rest
    if not word:
        return pattern
    return f"{word}(?<![a-z]{word}){rest}"


# (label, pattern, whether it holds the name and reads the sentence as written, its guard)
Verb = tuple[str, re.Pattern[str], bool, Guard | None]


def _verb(label: str, pattern: str, name: str) -> Verb:
    if "{name}" in pattern:
        compiled = re.compile(pattern.replace("{name}", name))
        return label, compiled, True, guard(compiled)
    compiled = re.compile(_literal_first(pattern))
    return label, compiled, False, guard(compiled)


class _Matcher:
    """Every name of a dataset compiled once: one alternation, longest name first."""

    def __init__(self, names: Sequence[str], derivatives: Sequence[str]) -> None:
        rules_ = rules()
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
        # Patterns holding the name read the sentence as written, the others lower-cased.
        self.verbs = [_verb(label, p, name_nc) for label, p in rules_.use_verbs]
        self.results = [_verb("result", p, name_nc) for p in rules_.result_phrases]
        self.cue: re.Pattern[str] | None = None
        if ordinary:
            ordinary_nc = f"{_BOUNDARY_BEFORE}(?:{'|'.join(ordinary)}){_BOUNDARY_AFTER}"
            self.cue = re.compile("|".join(c.replace("{name}", ordinary_nc) for c in rules_.cues))

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
            d for d in _dedupe(self.derivative_names)
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

    @classmethod
    def for_dataset(cls, dataset: Any, catalog: Any) -> DatasetTerms:
        """The terms of a catalog dataset (a `tracer.catalog.Dataset`): its name, aliases and
        mention phrases, its derivatives' names and aliases, its fields of study. Scan, rejudge
        and explain build them here, so that all three look for the same words."""
        derived = [n for k in dataset.derivatives for n in catalog.get(k).names]
        return cls.build(
            dataset.name,
            dataset.aliases,
            dataset.mentions,
            derivative_names=derived,
            fields_of_study=dataset.fields_of_study,
            key=dataset.key,
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
