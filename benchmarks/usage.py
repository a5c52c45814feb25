"""How well the usage judge finds real users among a dataset's citers.

Two parts. (1) Citation contexts: for each labelled context set and split
(benchmarks/usage_sets.py; the fit, benchmarks/fit_usage.py, read only the training splits),
precision and recall of `used` at the sentence level, per citing paper where the set groups its
contexts by citing paper (MultiCite), and on tests/usage_cases.py's face and person dataset
contexts, beside the baselines "every citer uses it" and "intent methodology alone" (where the
set has intents: SciCite's labels are S2's intents, so that baseline is perfect there by
construction). (2) Titles and abstracts: Peng et al.'s labelled citers.

Reads ../shared/data/eval/usage/*_labeled.csv (papers citing DukeMTMC, MS-Celeb-1M, LFW or one of
their derivatives' papers, each labelled by hand "uses dataset or derivative") and prints, per
dataset and overall, precision and recall of the judge's `used` beside the baseline that calls
every citer a user. The files hold titles and abstracts only, no citation contexts, so the judge
sees far less than in a scan: its recall here is a floor.

    .venv/bin/python -m benchmarks.usage
"""

from __future__ import annotations

import csv
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.usage_sets import FIT_SPLITS, HELD_OUT, Sample, available, load
from tracer.usage import DatasetTerms, Judgement, Passage, judge

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
LABEL = "uses dataset or derivative"

# Other names by which papers call these datasets (facts, as a catalog entry would list them).
ALIASES = {
    "DukeMTMC": ["Duke MTMC"],
    "MS-Celeb-1M": ["MS-Celeb", "MS1M"],
    "LFW": ["Labeled Faces in the Wild"],
}
FIELDS = ["Computer Science"]


@dataclass
class Score:
    dataset: str
    papers: int
    users: int  # labelled as using the dataset or a derivative
    judged_used: int
    hits: int  # judged used and labelled user
    seconds: float

    @property
    def precision(self) -> float:
        return self.hits / self.judged_used if self.judged_used else 0.0

    @property
    def recall(self) -> float:
        return self.hits / self.users if self.users else 0.0

    @property
    def baseline_precision(self) -> float:
        """Every citer called a user: precision is the share of users among citers."""
        return self.users / self.papers if self.papers else 0.0


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _derivatives(summary: Path) -> dict[str, dict[str, str]]:
    """Parent name -> {dataset id: name}, datasets only (pre-trained models are not names)."""
    out: dict[str, dict[str, str]] = {}
    with summary.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("dataset or model?") != "dataset" or not row.get("parent"):
                continue
            name = row["name"].strip()
            if name.startswith("<"):  # "<no name given>"
                continue
            out.setdefault(row["parent"].strip(), {})[row["id"].strip()] = name
    return out


def _judge(terms: DatasetTerms, call: tuple[bool, str | None, str | None, str | None]) -> Judgement:
    cites, title, abstract, via = call
    # Title and abstract only: the labelled files carry no citation contexts or snippets.
    return judge(terms, cites=cites, title=title, abstract=abstract, via_derivative=via)


def score_file(path: Path, parent: str, ids: dict[str, str], repeat: int = 1) -> Score:
    parent_ids = {i for i, n in ids.items() if n == parent}
    derived = {i: n for i, n in ids.items() if n != parent}
    terms = DatasetTerms.build(
        parent, ALIASES.get(parent, []), [], sorted(set(derived.values())), FIELDS
    )
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    judged_used = hits = users = 0
    calls: list[tuple[bool, str | None, str | None, str | None]] = []
    for row in rows:
        # "cites D20(2)": the second paper of D20; every row cites at least one of them.
        cited = {re.sub(r"\(\d+\)$", "", k[6:]) for k, v in row.items()
                 if k.startswith("cites ") and v == "1"}
        via = None
        if cited and not cited & parent_ids:
            via = next((derived[i] for i in sorted(cited) if i in derived), None)
        calls.append((bool(cited), row.get("title"), row.get("abstract"), via))
        judgement = _judge(terms, calls[-1])
        user = row.get(LABEL, "").strip() == "1"
        users += user
        if judgement.level == "used":
            judged_used += 1
            hits += user
    # Speed: judge the same papers a few times over, on CPU time (other work may share the box).
    started = time.process_time()
    for _ in range(repeat):
        for call in calls:
            _judge(terms, call)
    seconds = (time.process_time() - started) / repeat
    return Score(parent, len(rows), users, judged_used, hits, seconds)


def run(data: Path = SHARED_DATA, repeat: int = 1) -> list[Score]:
    """Score every labelled file; the last Score is the total over all of them."""
    folder = data / "eval" / "usage"
    families = _derivatives(folder / "summary.csv")
    by_norm = {_norm(p): p for p in families}
    scores: list[Score] = []
    for path in sorted(folder.glob("*_labeled.csv")):
        parent = by_norm.get(_norm(path.name.removesuffix("_labeled.csv")))
        if parent is None:
            print(f"skipped {path.name}: no dataset of that name in summary.csv", file=sys.stderr)
            continue
        scores.append(score_file(path, parent, families[parent], repeat))
    total = Score("all", *(sum(getattr(s, f) for s in scores)
                           for f in ("papers", "users", "judged_used", "hits", "seconds")))
    return [*scores, total]


@dataclass
class Counts:
    """Precision and recall of one verdict against labels."""

    judged: int = 0
    hits: int = 0
    positives: int = 0
    total: int = 0

    def add(self, said: bool, truth: bool) -> None:
        self.total += 1
        self.positives += truth
        self.judged += said
        self.hits += said and truth

    @property
    def precision(self) -> float:
        return self.hits / self.judged if self.judged else 0.0

    @property
    def recall(self) -> float:
        return self.hits / self.positives if self.positives else 0.0

    def cell(self) -> str:
        return f"{self.precision:>6.2f}{self.recall:>6.2f}"


@dataclass
class Row:
    name: str
    judge: Counts
    every: Counts
    intent: Counts | None  # "intent methodology alone", where the set has intents
    with_intents: Counts | None  # the judge given the set's intents


_TERMS: dict[tuple[str, ...], DatasetTerms] = {}
_UNNAMED = "Qzx7Unnamed"  # a name no text holds: the cited thing is not named


def _terms(names: tuple[str, ...]) -> DatasetTerms:
    if names not in _TERMS:
        _TERMS[names] = DatasetTerms.build(names[0] if names else _UNNAMED, list(names[1:]))
    return _TERMS[names]


def _used(samples: list[Sample], *, intents: bool = False) -> bool:
    """The judge's verdict on one citing paper from these contexts (one, for a sentence)."""
    first = samples[0]
    names = tuple(dict.fromkeys(n for s in samples for n in s.names))
    passages = [Passage(s.text, s.intents if intents else (), s.route, section=s.section)
                for s in samples]
    return judge(_terms(names), cites=first.route == "cites", passages=passages).level == "used"


def score_samples(name: str, samples: list[Sample]) -> Row:
    has_intents = any(s.intents for s in samples)
    row = Row(name, Counts(), Counts(), Counts() if has_intents else None,
              Counts() if has_intents else None)
    for s in samples:
        row.judge.add(_used([s]), s.used)
        row.every.add(True, s.used)
        if row.intent is not None and row.with_intents is not None:
            row.intent.add("methodology" in s.intents, s.used)
            row.with_intents.add(_used([s], intents=True), s.used)
    return row


def score_pairs(name: str, samples: list[Sample]) -> Row:
    """Per citing paper: used when any of its contexts is labelled use."""
    groups: dict[str, list[Sample]] = {}
    for s in samples:
        groups.setdefault(s.group or s.text, []).append(s)
    row = Row(name, Counts(), Counts(), None, None)
    for group in groups.values():
        truth = any(s.used for s in group)
        row.judge.add(_used(group), truth)
        row.every.add(True, truth)
    return row


def context_rows(cases: bool = True) -> list[Row]:
    rows: list[Row] = []
    for corpus in FIT_SPLITS:
        for split in FIT_SPLITS[corpus] + HELD_OUT[corpus]:
            role = "fit" if split in FIT_SPLITS[corpus] else "held out"
            samples = load(corpus, split)
            label = f"{corpus} {split} ({role})"
            if corpus == "multicite":
                one = [s for s in samples if s.sentences == 1]
                rows.append(score_samples(f"{label}, 1 sentence", one))
                rows.append(score_samples(f"{label}, 1 sentence naming it",
                                          [s for s in one if s.names]))
                rows.append(score_pairs(f"{label}, per citing paper", samples))
            else:
                rows.append(score_samples(label, samples))
    if cases:
        rows.append(face_cases_row())
    return rows


def face_cases_row() -> Row:
    from tests.usage_cases import CASES, DATASETS

    row = Row("face/person cases (tests/usage_cases.py)", Counts(), Counts(), None, None)
    for case in CASES:
        names = DATASETS[case.dataset]
        terms = DatasetTerms.build(names[0], names[1:])
        said = judge(terms, cites=True, passages=[Passage(case.text)]).level == "used"
        row.judge.add(said, case.used)
        row.every.add(True, case.used)
    return row


def print_context_rows(rows: list[Row]) -> None:
    print("Usage judge on labelled citation contexts (P, R of `used`)")
    print(f"{'set':<58}{'n':>6}{'judge P':>9}{'R':>5}{'every P':>10}{'R':>5}"
          f"{'method P':>10}{'R':>5}{'+intents P':>12}{'R':>5}")
    for r in rows:
        intent = r.intent.cell() if r.intent else f"{'-':>6}{'-':>6}"
        both = r.with_intents.cell() if r.with_intents else f"{'-':>6}{'-':>6}"
        print(f"{r.name:<58}{r.judge.total:>6}  {r.judge.cell()}   {r.every.cell()}"
              f"    {intent}      {both}")


def main() -> int:
    if available():
        print_context_rows(context_rows())
        print()
    else:
        print("skipped contexts: ../shared/data/eval/contexts is absent", file=sys.stderr)
    if not (SHARED_DATA / "eval" / "usage").is_dir():
        print("skipped: ../shared/data/eval/usage is absent", file=sys.stderr)
        return 0
    scores = run(repeat=10)
    print("Usage judge on labelled citers (title + abstract only; no citation contexts)")
    head = f"{'dataset':<13}{'papers':>7}{'users':>7}{'judged':>8}"
    print(head + f"{'precision':>11}{'recall':>8}{'F1':>6}   {'baseline P':>10}{'R':>5}{'F1':>6}")
    for s in scores:
        f1 = 2 * s.precision * s.recall / (s.precision + s.recall) if s.hits else 0.0
        bp = s.baseline_precision
        bf1 = 2 * bp / (bp + 1) if bp else 0.0
        print(f"{s.dataset:<13}{s.papers:>7}{s.users:>7}{s.judged_used:>8}"
              f"{s.precision:>11.2f}{s.recall:>8.2f}{f1:>6.2f}   {bp:>10.2f}{1.0:>5.2f}{bf1:>6.2f}")
    total = scores[-1]
    rate = total.papers / total.seconds if total.seconds else float("inf")
    print(f"speed: {rate:,.0f} papers/s judged ({50_000 / rate:.2f} s for 50,000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
