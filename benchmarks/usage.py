"""How well the usage judge finds real users among a dataset's citers.

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

from tracer.usage import DatasetTerms, Judgement, judge

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
    return judge(terms, cites=cites, contexts=[], intents=[], snippets=[], title=title,
                 abstract=abstract, via_derivative=via)


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


def main() -> int:
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
