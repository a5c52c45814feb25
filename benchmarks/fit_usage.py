"""Fit the usage judge's passage weights on the training splits of the labelled context sets.

    .venv/bin/python -m benchmarks.fit_usage [--dry-run]

Each training sample (benchmarks/usage_sets.py: SciCite dev, ACL-ARC train, MultiCite train,
SoMeSci train; never a held-out split) is read by the judge's own sign finder
(tracer.usage.judge.passage_features); a logistic regression (scikit-learn, L2, C=1, fixed
seed) learns from which signs fired whether the citing authors used the cited thing. Each set
weighs the same in the fit, whatever its size. The intercept and one weight per sign are
written between the BEGIN FITTED / END FITTED lines of tracer/data/usage_rules.yaml, with the
data files, the commit and the command that made them. Intents are not fitted (see the file).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import subprocess
import sys
from pathlib import Path

from benchmarks.usage_sets import CONTEXTS, FIT_SPLITS, Sample, available, load
from tracer.usage import DatasetTerms, Passage
from tracer.usage.judge import passage_features
from tracer.usage.rules import BLOCKERS, PASSAGE_SIGNS, RULES_FILE, rules

SEED = 20261201
C = 1.0
UNNAMED = "Qzx7Unnamed"  # a name no text holds: the cited thing is not named


def terms_for(names: tuple[str, ...], cache: dict[tuple[str, ...], DatasetTerms]) -> DatasetTerms:
    if names not in cache:
        cache[names] = DatasetTerms.build(names[0] if names else UNNAMED, list(names[1:]))
    return cache[names]


def passage_for(sample: Sample) -> Passage:
    return Passage(sample.text, route=sample.route, section=sample.section)


def features(samples: list[Sample]) -> list[list[float]]:
    cache: dict[tuple[str, ...], DatasetTerms] = {}
    rules_ = rules()
    rows = []
    for sample in samples:
        fired, _ = passage_features(terms_for(sample.names, cache), passage_for(sample), rules_)
        rows.append([1.0 if sign in fired else 0.0 for sign in PASSAGE_SIGNS])
    return rows


def _files(folder: Path) -> list[str]:
    wanted = {
        "scicite": ["dev.jsonl"], "aclarc": [f"train_{i}.jsonl" for i in range(5)],
        "multicite": ["train.json"],
    }
    out = []
    for corpus, names in wanted.items():
        for name in names:
            path = folder / corpus / name
            out.append(f"{corpus}/{name} sha256:{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}")
    out.append("somesci/PLoS_methods + PLoS_sentences, papers whose SHA-1 of the PMC id starts 4-f")
    return out


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True,
                               text=True, check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def fit(folder: Path = CONTEXTS) -> tuple[float, dict[str, float], dict[str, int]]:
    from sklearn.linear_model import LogisticRegression

    samples: list[Sample] = []
    counts: dict[str, int] = {}
    for corpus, splits in FIT_SPLITS.items():
        for split in splits:
            part = load(corpus, split, folder)
            counts[f"{corpus}/{split}"] = len(part)
            samples += part
    x = features(samples)
    y = [1 if s.used else 0 for s in samples]
    # Each set, and within it each class, weighs the same: the sets' shares of use differ
    # (SoMeSci's sentences are nearly all use), and the fit must learn the signs, not them.
    per_class: dict[tuple[str, bool], int] = {}
    for s in samples:
        per_class[s.corpus, s.used] = per_class.get((s.corpus, s.used), 0) + 1
    weight = [len(samples) / (len(per_class) * per_class[s.corpus, s.used]) for s in samples]
    # A blocker says the use is not the authors': it may lower a passage's score, never raise
    # it. A blocker fitted above zero is dropped (weight 0) and the rest refitted.
    dropped: set[int] = set()
    while True:
        keep = [i for i in range(len(PASSAGE_SIGNS)) if i not in dropped]
        model = LogisticRegression(C=C, random_state=SEED, max_iter=1000)
        model.fit([[row[i] for i in keep] for row in x], y, sample_weight=weight)
        fitted = dict(zip(keep, (float(c) for c in model.coef_[0]), strict=True))
        rising = {i for i, c in fitted.items() if PASSAGE_SIGNS[i] in BLOCKERS and c > 0}
        if not rising:
            break
        dropped |= rising
    coefs = {sign: round(fitted.get(i, 0.0), 3) for i, sign in enumerate(PASSAGE_SIGNS)}
    fired = {sign: int(sum(row[i] for row in x)) for i, sign in enumerate(PASSAGE_SIGNS)}
    return round(float(model.intercept_[0]), 3), coefs, {**counts, **{f"fired:{k}": v
                                                                       for k, v in fired.items()}}


def block(intercept: float, coefs: dict[str, float], counts: dict[str, int], folder: Path) -> str:
    lines = [
        "# BEGIN FITTED (written by benchmarks/fit_usage.py; do not edit by hand)",
        f"# Logistic regression (scikit-learn, L2, C={C}, seed {SEED}), each set and class",
        "# weighing the same;",
        "# training splits only (held out, never read here: SciCite test, ACL-ARC test, MultiCite",
        "# dev and test, SoMeSci test). A blocker fitted above zero is held at 0, the rest refitted.",
        "fitted:",
        "  command: .venv/bin/python -m benchmarks.fit_usage",
        f"  commit: {_commit()}",
        f"  date: {datetime.date.today().isoformat()}",
        "  data:",
        *[f"    - {f}" for f in _files(folder)],
        "  samples:",
        *[f"    {k}: {v}" for k, v in counts.items() if not k.startswith("fired:")],
        "  times_fired:",
        *[f"    {k[6:]}: {v}" for k, v in counts.items() if k.startswith("fired:")],
        "passage_weights:",
        f"  intercept: {intercept}",
        *[f"  {sign}: {w}" for sign, w in coefs.items()],
        "# END FITTED",
    ]
    return "\n".join(lines) + "\n"


def write(text: str) -> None:
    content = RULES_FILE.read_text(encoding="utf-8")
    start = content.index("# BEGIN FITTED")
    end = content.index("# END FITTED")
    end = content.index("\n", end) + 1
    RULES_FILE.write_text(content[:start] + text + content[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = parser.parse_args(argv)
    if not available():
        print(f"cannot fit: {CONTEXTS} is absent", file=sys.stderr)
        return 1
    intercept, coefs, counts = fit()
    text = block(intercept, coefs, counts, CONTEXTS)
    print(text, end="")
    if not args.dry_run:
        write(text)
        print(f"written into {RULES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
