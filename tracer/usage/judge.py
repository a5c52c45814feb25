"""Judging one paper: each passage with its own intents, then the paper from them all.

A passage (one citation context, or one full-text snippet) gets a probability of showing use:
the logistic of the fitted intercept plus the weights of the signs it shows (see signs.py) and of
its own intents. A title or abstract that names the dataset gets the probability its sign says.
The paper's score is the highest of these (or the base score when nothing shows), and it is
`used` at the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracer.usage.names import MAX_EVIDENCE, DatasetTerms, _trim
from tracer.usage.rules import BLOCKERS, Rules, rules
from tracer.usage.signs import SentenceSigns, passage_signs, section_sign

_USE_SIGNS = frozenset({"use_own_named", "use_named", "use_own_marker", "use_unmarked"})


@dataclass(frozen=True)
class Passage:
    """One citation context (route "cites") with its own intents, or one full-text snippet
    (route "mentions") with the section and kind the source gives."""

    text: str
    intents: tuple[str, ...] = ()
    route: str = "cites"
    source: str = "s2"
    section: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Evidence:
    kind: str  # "context" | "snippet" | "title" | "abstract"
    text: str  # the sentence, trimmed around the match
    source: str  # "s2" | "openalex"
    matched: str | None  # the name (or alias, or derivative name) found, if any

    def to_dict(self) -> dict[str, Any]:
        """As dataclasses.asdict, without its deep copy (called for every judged paper)."""
        return {"kind": self.kind, "text": self.text, "source": self.source,
                "matched": self.matched}


@dataclass(frozen=True)
class Sign:
    """One sign that fired: its name, its weight, the sentence, and where that sentence is."""

    name: str
    weight: float
    scale: str  # "log-odds" (added to a passage's logit) or "probability" (title, abstract)
    text: str
    where: str  # "context" | "snippet" | "title" | "abstract"
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "weight": self.weight, "scale": self.scale,
                "text": self.text, "where": self.where, "source": self.source}


@dataclass
class Judgement:
    level: str  # "used" | "cited" | "mentioned"
    score: float  # 0..1
    evidence: list[Evidence] = field(default_factory=list)  # best first
    reasons: list[str] = field(default_factory=list)
    signs: list[Sign] = field(default_factory=list)  # best passage first

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "score": self.score,
            "evidence": [e.to_dict() for e in self.evidence],
            "reasons": list(self.reasons),
            "signs": [s.to_dict() for s in self.signs],
        }


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


class _Paper:
    """What has been found so far for one paper."""

    def __init__(self) -> None:
        self.reasons: list[str] = []
        # (probability, order, evidence or None, signs)
        self.places: list[tuple[float, int, Evidence | None, list[Sign]]] = []

    def reason(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def place(self, p: float, evidence: Evidence | None, signs: list[Sign]) -> None:
        self.places.append((p, len(self.places), evidence, signs))

    def effect(self) -> _Effect:
        """What has been found, to add to another paper as if found there (`replay`)."""
        return tuple(self.reasons), tuple((p, e, s) for p, _, e, s in self.places)

    def replay(self, effect: _Effect) -> None:
        # The same calls in the same order, but for repeats of a reason, which change nothing.
        reasons, places = effect
        for reason in reasons:
            self.reason(reason)
        for p, evidence, signs in places:
            self.place(p, evidence, signs)


# What judging one passage adds to a paper: its reasons in order, then its places (probability,
# evidence, signs). A passage's effect depends on the passage, the terms and the rules alone.
_Effect = tuple[tuple[str, ...], tuple[tuple[float, Evidence | None, list[Sign]], ...]]

# A memo keeps at most this many entries of each kind (then starts again), and an entry only
# from its second sighting (before that, only its hash is kept): a run over papers with few
# distinct passages (empty contexts with the same intents, rows without context) judges each
# once, and one over contexts of their own keeps next to nothing and does little more work.
MEMO_SIZE = 4096


class Doorkeeper:
    """Whether a key is seen for the second time (by its hash: a collision only keeps an entry
    that was seen once)."""

    __slots__ = ("limit", "seen")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: set[int] = set()

    def again(self, key: Any) -> bool:
        h = hash(key)
        if h in self.seen:
            return True
        if len(self.seen) >= 4 * self.limit:
            self.seen.clear()
        self.seen.add(h)
        return False


class PassageMemo:
    """The effects of passages already judged for one dataset's terms under one set of rules,
    by passage: `judge(..., memo=)` judges a passage seen before by adding its effect again."""

    def __init__(self, terms: DatasetTerms, limit: int = MEMO_SIZE) -> None:
        self.terms = terms
        self.rules = rules()
        self.limit = limit
        self.effects: dict[Passage, _Effect] = {}
        self.hits = self.misses = 0
        # Whole verdicts of papers whose title and abstract do not name the dataset, by what
        # else the verdict is drawn from (see stored.judge_paper).
        self.verdicts: dict[Any, Judgement] = {}
        self._passages = Doorkeeper(limit)
        self._verdicts = Doorkeeper(limit)

    def check(self, terms: DatasetTerms) -> None:
        if self.terms is not terms or self.rules is not rules():
            raise ValueError("The passage memo belongs to other terms or other rules.")

    def verdict(self, key: Any, make: Callable[[], Judgement]) -> Judgement:
        """The verdict kept under `key`, else `make()`'s (kept when `key` was seen before)."""
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = make()
            if self._verdicts.again(key):
                if len(self.verdicts) >= self.limit:
                    self.verdicts.clear()
                self.verdicts[key] = verdict
        return verdict

    def judge(self, paper: _Paper, passage: Passage) -> None:
        try:
            effect = self.effects.get(passage)
        except TypeError:  # a field that cannot be hashed (a list of intents): not kept
            _judge_passage(paper, self.terms, passage, self.rules)
            return
        if effect is not None:
            self.hits += 1
            paper.replay(effect)
            return
        self.misses += 1
        if not self._passages.again(passage):
            _judge_passage(paper, self.terms, passage, self.rules)
            return
        alone = _Paper()
        _judge_passage(alone, self.terms, passage, self.rules)
        effect = alone.effect()
        if len(self.effects) >= self.limit:
            self.effects.clear()
        self.effects[passage] = effect
        paper.replay(effect)


def passage_features(
    terms: DatasetTerms, passage: Passage, rules_: Rules | None = None
) -> tuple[dict[str, str], list[SentenceSigns]]:
    """The signs a passage shows (sign -> the first sentence it fired on, its section sign
    included) and the sentences that showed them; what the judge weighs and the fit learns."""
    rules_ = rules_ or rules()
    kind = "snippet" if passage.route == "mentions" else "context"
    text = passage.text if isinstance(passage.text, str) else ""
    found = passage_signs(terms, text, rules_, with_name=kind != "context")
    fired: dict[str, str] = {}
    for sentence in found:
        for sign in sentence.signs:
            fired.setdefault(sign, sentence.sentence)
    section = section_sign(passage.section, rules_)
    if section is not None and (found or kind == "context"):
        fired.setdefault(section, f"section: {passage.section}")
    return fired, found


def _passage(paper: _Paper, terms: DatasetTerms, passage: Passage, rules_: Rules) -> None:
    kind = "snippet" if passage.route == "mentions" else "context"
    text = passage.text if isinstance(passage.text, str) else ""
    fired, found = passage_features(terms, passage, rules_)
    best_sentence, matched = None, None
    for sentence in found:
        if sentence.matched is not None:
            paper.reason(f"name-in-{kind}")
            if sentence.derived:
                paper.reason(f"derivative:{sentence.matched}")
            if matched is None:
                best_sentence, matched = sentence.sentence, sentence.matched
        for label in sentence.labels:
            paper.reason(f"verb:{label}")
    logit = rules_.intercept
    signs: list[Sign] = []
    for sign, text_fired in fired.items():
        weight = rules_.weights.get(sign, 0.0)
        logit += weight
        signs.append(Sign(sign, weight, "log-odds", text_fired, kind, passage.source))
        if sign in BLOCKERS:
            paper.reason(f"blocked:{sign}")
        elif sign == "named_in_listing":
            paper.reason("listing")
        elif sign in {"use_own_marker", "use_unmarked"}:
            paper.reason("use-in-context")
    # A passage's text that says the use is another's (or future, or contrasted) overrules
    # its intents, which speak of the citation as a whole.
    overruled = any(s in BLOCKERS for s in fired) and not any(s in _USE_SIGNS for s in fired)
    whole = _trim(text, 0) if text.strip() else ""
    for intent in dict.fromkeys(i.strip().lower() for i in passage.intents if isinstance(i, str)):
        if intent not in rules_.intents:
            continue
        paper.reason(f"intent:{intent}")
        if overruled:
            paper.reason("intents-overruled-by-text")
            continue
        weight = rules_.intents[intent]
        logit += weight
        signs.append(Sign(f"intent_{intent}", weight, "log-odds", whole, kind, passage.source))
    if not signs:
        return
    # A sentence is evidence when it names the dataset or shows a sign of its own; intents
    # alone point at no sentence.
    if best_sentence is None:
        best_sentence = next((v for k, v in fired.items() if not k.startswith("section_")), None)
    evidence = Evidence(kind, best_sentence, passage.source, matched) if best_sentence else None
    paper.place(_sigmoid(logit), evidence, signs)


def _title(paper: _Paper, terms: DatasetTerms, title: str, source: str, rules_: Rules) -> None:
    found = terms._matcher.find(title)
    if found is None:
        return
    match, name, derived, _ = found
    text = _trim(title, match.start())
    weight = rules_.text["title_names"]
    paper.reason("name-in-title")
    if derived:
        paper.reason(f"derivative:{name}")
    sign = Sign("title_names", weight, "probability", text, "title", source)
    paper.place(weight, Evidence("title", text, source, name), [sign])


def _abstract(paper: _Paper, terms: DatasetTerms, abstract: str, source: str, rules_: Rules
              ) -> None:
    for sentence in passage_signs(terms, abstract, rules_, with_name=True):
        if sentence.matched is None:
            continue
        paper.reason("name-in-abstract")
        if sentence.derived:
            paper.reason(f"derivative:{sentence.matched}")
        if any(s in BLOCKERS for s in sentence.signs):
            key = "abstract_name_blocked"
        elif sentence.labels:
            key = "abstract_name_with_verb"
        else:
            key = "abstract_names"  # abstracts name the datasets a paper's experiments ran on
        for label in sentence.labels:
            paper.reason(f"verb:{label}")
        weight = rules_.text[key]
        sign = Sign(key, weight, "probability", sentence.sentence, "abstract", source)
        paper.place(weight, Evidence("abstract", sentence.sentence, source, sentence.matched),
                    [sign])


def _judge_passage(paper: _Paper, terms: DatasetTerms, passage: Passage, rules_: Rules) -> None:
    # S2 snippets come from a paper's title, abstract or body (snippetKind).
    kind = (passage.kind or "").lower() if passage.route == "mentions" else ""
    if kind == "title" and passage.text:
        _title(paper, terms, passage.text, passage.source, rules_)
    elif kind == "abstract" and passage.text:
        _abstract(paper, terms, passage.text, passage.source, rules_)
    else:
        _passage(paper, terms, passage, rules_)


def judge(
    terms: DatasetTerms,
    *,
    cites: bool,
    passages: Sequence[Passage] = (),
    title: str | None = None,
    abstract: str | None = None,
    via_derivative: str | None = None,
    text_source: str = "s2",
    contexts: Sequence[str] = (),
    intents: Sequence[str] = (),
    snippets: Sequence[str] = (),
    memo: PassageMemo | None = None,
) -> Judgement:
    """Judge one paper's use of a dataset from what the sources say about it.

    `cites`: the paper cites an origin paper of the dataset, or of the derivative named in
    `via_derivative`. `passages`: its citation contexts (each with its own intents) and full-text
    snippets. `text_source` says where title and abstract came from ("s2" or "openalex").
    `contexts`, `intents` and `snippets` are the older form: every context then carries all
    the intents, as stored rows without passages do. `memo`: passages judged before for the
    same terms (the verdict is the same with or without it).
    """
    rules_ = rules()
    paper = _Paper()
    if cites:
        paper.reason("cites")
    if via_derivative:
        paper.reason(f"via-derivative:{via_derivative}")
    every = [*passages]
    every += [Passage(c, tuple(intents)) for c in contexts]
    if intents and not contexts:
        every.append(Passage("", tuple(intents)))
    every += [Passage(s, route="mentions") for s in snippets]
    if memo is not None:
        memo.check(terms)
    for passage in every:
        if memo is not None:
            memo.judge(paper, passage)
        else:
            _judge_passage(paper, terms, passage, rules_)
    if title:
        _title(paper, terms, title, text_source, rules_)
    if abstract:
        _abstract(paper, terms, abstract, text_source, rules_)
    base = rules_.base_cites if cites else rules_.base_mentions
    score = round(max([base, *(p for p, _, _, _ in paper.places)]), 4)
    if score >= rules_.threshold:
        level = "used"
    elif cites:
        level = "cited"
    else:
        level = "mentioned"
        if not any(r.startswith("name-in-") for r in paper.reasons):
            paper.reason("no-name-in-text")
    ranked = sorted(paper.places, key=lambda p: (-p[0], p[1]))
    evidence: list[Evidence] = []
    for _, _, found, _ in ranked:
        if found is not None and all(e.text != found.text for e in evidence):
            evidence.append(found)
    return Judgement(
        level=level,
        score=score,
        evidence=evidence[:MAX_EVIDENCE],
        reasons=paper.reasons,
        signs=[s for _, _, _, signs in ranked for s in signs],
    )
