"""The signs one sentence shows: is the dataset named, is a verb of use there, and whose use?

A verb of use counts only for the authors of the citing paper: "we train on X", or a passive
with no other agent ("X was used for training"). Another work as the subject ("Zhang et al.
trained on X", "[12] used X", "previous methods achieved ... on X", "used in research by Y"),
the future or a modal ("we plan to evaluate on X"), a contrast ("unlike X, ..."), the authors
collecting their own data, reporting what someone else found, and negation block it; the
blocker is then the sign, and the fitted weights say how much each one counts.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field

from tracer.usage.names import DatasetTerms, Verb, _sentence_spans, _trim
from tracer.usage.prefilter import Guard, guard
from tracer.usage.rules import Rules


@dataclass
class SentenceSigns:
    sentence: str  # trimmed around the name, or the verb
    signs: list[str]
    matched: str | None = None  # the name found, if any
    derived: bool = False  # the name is a derivative's
    labels: list[str] = field(default_factory=list)  # verbs of use found


def _first(patterns: list[Verb], sentence: str, low: str, ascii_text: bool, named: bool
           ) -> list[tuple[str, int]]:
    """Each pattern that matches, with where its first match starts. A pattern holding the
    name cannot match a sentence without it; a guard rules out most of the slow others."""
    found: list[tuple[str, int]] = []
    for label, pattern, as_written, needs in patterns:
        if as_written:
            if not named:
                continue
            text = sentence
        else:
            text = low
        if needs is not None and not needs.may_match(text, low, ascii_text):
            continue
        match = pattern.search(text)
        if match is not None:
            found.append((label, match.start()))
    return found


@functools.cache
def _guard(pattern: re.Pattern[str]) -> Guard | None:
    return guard(pattern)


class _Sentence:
    """One sentence with its lower case, and the guards of the rules' patterns (by id: hashing
    a compiled pattern hashes its code, each time)."""

    def __init__(self, sentence: str, guards: dict[int, Guard | None]) -> None:
        self.text = sentence
        self.low = sentence.lower()
        self.ascii = sentence.isascii()
        self.guards = guards

    def search(self, pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
        """`pattern.search(text)`, `text` being the sentence, its lower case or a part."""
        needs = self.guards.get(id(pattern))
        if needs is not None and not needs.may_match(self.text, self.low, self.ascii):
            return None
        return pattern.search(text)

    def finditer(self, pattern: re.Pattern[str], text: str) -> list[int]:
        """Where each match of `pattern` in `text` ends."""
        needs = self.guards.get(id(pattern))
        if needs is not None and not needs.may_match(self.text, self.low, self.ascii):
            return []
        return [m.end() for m in pattern.finditer(text)]


# Rules (kept, so that their ids and their patterns' stay theirs) -> their patterns' guards
_RULE_GUARDS: dict[int, tuple[Rules, dict[int, Guard | None]]] = {}


def _guards_of(rules: Rules) -> dict[int, Guard | None]:
    """The guards of the rules' patterns, by the patterns' ids."""
    held = _RULE_GUARDS.get(id(rules))
    if held is None or held[0] is not rules:
        patterns = [rules.first_person, rules.passive, rules.other_before, rules.other_after,
                    rules.listing, rules.marker, *rules.blockers.values()]
        held = _RULE_GUARDS[id(rules)] = (rules, {id(p): _guard(p) for p in patterns})
    return held[1]


def _subject(s: _Sentence, at: int, rules: Rules) -> str:
    """Whose act the verb at `at` is: "own", "passive", "other" or "none" (not said)."""
    sentence, low = s.text, s.low
    own = s.finditer(rules.first_person, low[: at + 4])  # "we use" starts at we
    other = s.finditer(rules.other_before, sentence[:at])
    if own or other:
        # The nearer one before the verb is its subject: "Following [12], we train on X" is
        # the authors'; "we note that Zhang et al. trained on X" is not.
        return "own" if max(own, default=-1) >= max(other, default=-1) else "other"
    if s.search(rules.first_person, low):
        return "own"  # "Trained on X, our model ..."
    if s.search(rules.other_after, sentence[at:]):
        return "other"  # "X was used in research by NUDT", "trained on X in [12]"
    if s.search(rules.passive, low):
        return "passive"
    return "none"


def sentence_signs(terms: DatasetTerms, sentence: str, rules: Rules, *, with_name: bool
                   ) -> SentenceSigns | None:
    """The signs of one sentence, or None when it shows none. `with_name`: only sentences that
    name the dataset count (titles and abstracts); a citation context counts without."""
    matcher = terms._matcher
    match = matcher.any.search(sentence) if matcher.present(sentence) else None
    if match is None and with_name:
        return None
    s = _Sentence(sentence, _guards_of(rules))
    low, named = s.low, match is not None
    uses = _first(matcher.verbs, sentence, low, s.ascii, named)
    results = _first(matcher.results, sentence, low, s.ascii, named)
    name: str | None = None
    derived = False
    at_name = 0
    if match is not None and match.lastindex is not None:
        name, derived, _ = matcher.groups[match.lastindex - 1]
        at_name = match.start()
    if not uses and not results:
        if name is None:
            return None
        listed = s.search(rules.listing, sentence[:at_name]) is not None
        sign = "named_in_listing" if listed else "named"
        return SentenceSigns(_trim(sentence, at_name), [sign], name, derived)
    at_verb = min(at for _, at in uses + results)
    subject = _subject(s, at_verb, rules)
    blocked = [key for key, pattern in rules.blockers.items() if s.search(pattern, sentence)]
    if subject in {"own", "passive"} and "reported" in blocked:
        blocked.remove("reported")  # "we found that ...": the authors' own finding
    if subject == "other":
        blocked.insert(0, "other_subject")
    labels = list(dict.fromkeys(label for label, _ in uses + results))
    signs: list[str] = []
    if name is not None:
        signs.append("named")
    if blocked:
        signs.extend(blocked)
        labels = []  # a blocked verb is no verb of the authors' use
    elif name is not None:
        if uses:
            signs[-1] = "use_own_named" if subject in {"own", "passive"} else "use_named"
        elif subject in {"own", "passive"}:
            signs[-1] = "result_named"
        # A result on the dataset with no one's use stated ("accuracy on X has saturated")
        # stays a bare naming.
    else:
        marked = s.search(rules.marker, sentence) is not None
        if uses and subject in {"own", "passive"}:
            signs.append("use_own_marker" if marked else "use_unmarked")
        # Without the name, a verb of use with no stated subject ("models trained on [12]")
        # or a result phrase ("results on [12]") may be anyone's: no sign.
    if not signs:
        return None
    return SentenceSigns(_trim(sentence, at_name if name else at_verb), signs, name, derived,
                         labels)


def passage_signs(terms: DatasetTerms, text: str, rules: Rules, *, with_name: bool = False
                  ) -> list[SentenceSigns]:
    """The signs of each sentence of a passage that shows any."""
    matcher = terms._matcher
    if with_name and not matcher.present(text):
        return []
    spans = _sentence_spans(text, rules.abbreviations)
    if with_name:
        # Only sentences holding a name: cheap to find from the name matches.
        ends = [end for _, end in spans]
        wanted = {bisect.bisect_right(ends, m.start()) for m in matcher.any.finditer(text)}
        spans = [s for i, s in enumerate(spans) if i in wanted]
    out = []
    for begin, end in spans:
        found = sentence_signs(terms, text[begin:end], rules, with_name=with_name)
        if found is not None:
            out.append(found)
    return out


def section_sign(section: str | None, rules: Rules) -> str | None:
    """`section_result`, `section_method` or `section_background` for a section heading."""
    if not section:
        return None
    for key in ("result", "method", "background"):
        pattern = rules.sections.get(key)
        if pattern is not None and pattern.search(section):
            return f"section_{key}"
    return None
