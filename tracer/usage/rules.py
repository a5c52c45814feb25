"""The usage judge's rules, read once from `data/usage_rules.yaml`, and their version."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tracer.errors import DataError

RULES_FILE = Path(__file__).resolve().parents[1] / "data" / "usage_rules.yaml"

# Bump when the judge's code changes what it concludes from the same rules file.
JUDGE_CODE_VERSION = "2"

# The signs a citation context or snippet can show; their weights are fitted (see the rules file).
PASSAGE_SIGNS = (
    "use_own_named",  # the name, a verb of use, the authors (or a passive) as its subject
    "use_named",  # the name and a verb of use with no stated subject: "experiments on X show"
    "result_named",  # the name and the authors' result: "we reach 99% accuracy on X"
    "named",  # the name, nothing more
    "named_in_listing",  # the name as an example: "datasets such as X"
    "use_own_marker",  # no name; the authors use what a citation marker points to: "we train on [12]"
    "use_unmarked",  # no name and no marker; a verb of use by the authors
    "other_subject",  # the use is another work's: "X et al. trained on", "[12] used", "used by Y"
    "future",  # future or modal: "we plan to", "will", "could"
    "contrast",  # "unlike X", "but apply it to our own", "instead of"
    "own_data",  # the authors collected their own data
    "reported",  # what someone else found: "as reported in", "showed that"
    "negated",  # "we do not train on X"
    "section_method",  # the passage lies in a method or experiment section
    "section_result",  # in a results or discussion section
    "section_background",  # in an introduction or related-work section
)
TEXT_SIGNS = ("title_names", "abstract_name_with_verb", "abstract_names", "abstract_name_blocked")
BLOCKERS = ("other_subject", "future", "contrast", "own_data", "reported", "negated")


@dataclass(frozen=True)
class Rules:
    threshold: float
    base_cites: float
    base_mentions: float
    intercept: float
    weights: dict[str, float]  # passage signs: logit weights (fitted)
    intents: dict[str, float]  # intent name -> logit weight
    text: dict[str, float]  # title/abstract signs: probabilities
    use_verbs: list[tuple[str, str]]  # (label, pattern source, may hold {name})
    result_phrases: list[str]
    first_person: re.Pattern[str]
    passive: re.Pattern[str]
    other_before: re.Pattern[str]
    other_after: re.Pattern[str]
    blockers: dict[str, re.Pattern[str]]
    listing: re.Pattern[str]
    marker: re.Pattern[str]
    sections: dict[str, re.Pattern[str]]
    cues: list[str]  # pattern sources holding {name}
    abbreviations: frozenset[str]


def _need(data: dict[str, Any], key: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise DataError(f"The usage rules file {RULES_FILE} lacks '{key}'.")
    return data[key]


def _compile(source: Any) -> re.Pattern[str]:
    return re.compile(str(source), re.IGNORECASE)


@functools.cache
def rules() -> Rules:
    data = _load()
    base = _need(data, "base")
    passage = _need(data, "passage_weights")
    subject = _need(data, "subject")
    try:
        weights = {str(k): float(v) for k, v in passage.items() if k != "intercept"}
        missing = [s for s in PASSAGE_SIGNS if s not in weights]
        if missing:
            raise DataError(
                f"The usage rules file {RULES_FILE} has no weight for {', '.join(missing)}."
            )
        text = {str(k): float(v) for k, v in _need(data, "text_weights").items()}
        missing = [s for s in TEXT_SIGNS if s not in text]
        if missing:
            raise DataError(
                f"The usage rules file {RULES_FILE} has no weight for {', '.join(missing)}."
            )
        blockers = {str(k): _compile(v) for k, v in _need(data, "blockers").items()}
        if set(blockers) != set(BLOCKERS) - {"other_subject"}:
            raise DataError(f"The usage rules file {RULES_FILE} has the wrong blockers.")
        return Rules(
            threshold=float(_need(data, "used_threshold")),
            base_cites=float(_need(base, "cites")),
            base_mentions=float(_need(base, "mentions")),
            intercept=float(_need(passage, "intercept")),
            weights=weights,
            # Each intent is given as the log-odds a context showing only it gets.
            intents={
                str(k): float(v) - float(_need(passage, "intercept"))
                for k, v in _need(data, "intent_weights").items()
            },
            text=text,
            use_verbs=[
                (str(label), str(pattern))
                for label, patterns in _need(data, "use_verbs").items()
                for pattern in patterns
            ],
            result_phrases=[str(p) for p in _need(data, "result_phrases")],
            first_person=_compile(_need(subject, "first_person")),
            passive=_compile(_need(subject, "passive")),
            other_before=re.compile(str(_need(subject, "other_before"))),
            other_after=re.compile(str(_need(subject, "other_after"))),
            blockers=blockers,
            listing=_compile(_need(data, "listing")),
            marker=re.compile(str(_need(data, "citation_marker"))),
            sections={str(k): _compile(v) for k, v in _need(data, "sections").items()},
            cues=[str(c) for c in _need(data, "dataset_cues")],
            abbreviations=frozenset(str(a).lower() for a in _need(data, "abbreviations")),
        )
    except (re.error, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"The usage rules file {RULES_FILE} is malformed: {exc}.") from exc


def _load() -> dict[str, Any]:
    try:
        data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"Cannot read the usage rules file {RULES_FILE}: {exc}.") from exc
    if not isinstance(data, dict):
        raise DataError(f"The usage rules file {RULES_FILE} is not a mapping.")
    return data


@functools.cache
def rules_version() -> str:
    """A short stable hash of the rules file and the judge's code version: a stored judgement
    made under another version is out of date."""
    try:
        content = RULES_FILE.read_bytes()
    except OSError as exc:
        raise DataError(f"Cannot read the usage rules file {RULES_FILE}: {exc}.") from exc
    digest = hashlib.sha256(JUDGE_CODE_VERSION.encode() + b"\0" + content).hexdigest()
    return f"{JUDGE_CODE_VERSION}-{digest[:10]}"
