"""Affiliation matching benchmark: ROR-id precision/recall/F1, country accuracy, speed.

Runs the classifier over the labelled sets in ../shared/data/eval/affiliations (ROR's Crossref
2024 and Springer 2023 sets, the S2AFF test split) and prints, per set, the figures on the rows
that the loaded gazetteer covers (every gold id is in the dump) and on the "no match" rows,
beside the published figures of other systems.

    .venv/bin/python -m benchmarks.affiliations            # every row
    .venv/bin/python -m benchmarks.affiliations --quick    # a fixed sample of each set
    .venv/bin/python -m benchmarks.affiliations --hard-only --misses   # hard cases, what fails
    .venv/bin/python -m benchmarks.affiliations --profile 20  # where the time goes per string

It also scores the project's labelled hard cases (benchmarks/data/hard_affiliations.yaml:
flags, institution, sector; and the held-out sets hard_affiliations_fresh.yaml and
hard_affiliations_fresh2.yaml and on, each written before the matcher
was run on it), once with the packaged watchlist alone and once with the official
lists of ../shared/data/watchlists merged in, as `tracer data update` would.

Speed (str/s, memo/s and --profile) is measured as a scan runs the classifier: the matcher's
derived tables built first (the product saves them with the index; their build time is printed
apart) and what is alive after loading kept out of the collector's full passes (gc.freeze, as
Scanner.scan does).

Nothing here tunes anything: the sets are read, scored and printed.
"""

from __future__ import annotations

import argparse
import ast
import csv
import gc
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.hard_cases import (  # noqa: E402
    CASES,
    held_out_sets,
    load_cases,
    official_listings,
    score_hard,
)
from tracer.affiliations.classify import Classifier, prepare  # noqa: E402
from tracer.affiliations.gazetteer import Gazetteer, cache_path, load_or_build  # noqa: E402
from tracer.affiliations.reference import merge  # noqa: E402
from tracer.affiliations.watchlist import default_watchlist  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
EVAL = SHARED / "eval" / "affiliations"
DUMP = SHARED / "ror" / "ror-data-partial_schema_v2.zip"


@dataclass
class Row:
    text: str
    gold: frozenset[str]  # full ROR URLs; empty = "no match"


@dataclass
class Scores:
    rows: int = 0
    covered: int = 0
    no_match_rows: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    country_rows: int = 0
    country_ok: int = 0
    unique: int = 0  # distinct strings among the rows
    seconds: float = 0.0  # classifying each distinct string once, nothing remembered
    memo_seconds: float = 0.0  # classifying every row again, answers remembered

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def country_accuracy(self) -> float:
        return self.country_ok / self.country_rows if self.country_rows else 0.0

    @property
    def per_second(self) -> float:
        return self.unique / self.seconds if self.seconds else 0.0

    @property
    def memo_per_second(self) -> float:
        return self.rows / self.memo_seconds if self.memo_seconds else 0.0


def load_ror_api(path: Path) -> list[Row]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Row(item["affiliation"], frozenset(item.get("ror_ids") or ())) for item in data]


def load_s2aff(path: Path, split: str = "test") -> list[Row]:
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for item in csv.DictReader(handle):
            if item.get("split") != split:
                continue
            labels = item.get("labels") or ""
            try:
                gold = ast.literal_eval(labels) if labels.strip() else set()
            except (ValueError, SyntaxError):
                continue
            ids = frozenset(
                g for g in gold if isinstance(g, str) and g.startswith("https://ror.org/")
            )
            if len(ids) != len(gold):
                continue  # a label that is a name, not a ROR id: cannot be scored
            rows.append(Row(item["original_affiliation"], ids))
    return rows


def score(
    rows: Iterable[Row],
    predict: Callable[[str], tuple[set[str], str | None]],
    known: Callable[[str], bool],
    country_of: Callable[[str], str | None],
    forget: Callable[[], None] = lambda: None,
) -> Scores:
    """Score predictions on the covered rows: those whose gold ids are all `known`, and the
    "no match" rows. `predict(text)` returns (ROR ids, country). Speed is measured twice:
    on the distinct strings after `forget()` (so no remembered answer flatters it), then on
    every row again with the answers remembered, as in a scan that meets strings again."""
    result = Scores()
    work = [row for row in rows if all(known(g) for g in row.gold)]
    result.rows = len(work)
    unique = list(dict.fromkeys(row.text for row in work))
    result.unique = len(unique)
    # CPU time of this process: the figure for one core, whatever else the machine runs.
    forget()
    started = time.process_time()
    for text in unique:
        predict(text)
    result.seconds = time.process_time() - started
    started = time.process_time()
    predictions = [predict(row.text) for row in work]
    result.memo_seconds = time.process_time() - started
    for row, (ids, country) in zip(work, predictions, strict=True):
        result.covered += 1 if row.gold else 0
        result.no_match_rows += 0 if row.gold else 1
        result.tp += len(ids & row.gold)
        result.fp += len(ids - row.gold)
        result.fn += len(row.gold - ids)
        gold_countries = {country_of(g) for g in row.gold} - {None}
        if gold_countries:
            result.country_rows += 1
            result.country_ok += 1 if country in gold_countries else 0
    return result


def half(text: str) -> str:
    """ "A" or "B": a fixed split of a set by a hash of the string. The matching rules were
    written looking at the errors of Crossref-2024's half A only; half B is held out."""
    return "A" if hashlib.sha1(text.encode("utf-8")).digest()[0] % 2 == 0 else "B"


def reach(rows: list[Row], known: Callable[[str], bool]) -> tuple[int, int, int]:
    """(labelled ids, ids not in the loaded dump, rows holding one): what no matcher using
    this dump can find. `score` leaves those rows out."""
    ids = sum(len(row.gold) for row in rows)
    missing = sum(1 for row in rows for g in row.gold if not known(g))
    return ids, missing, sum(1 for row in rows if any(not known(g) for g in row.gold))


def predictor(classifier: Classifier) -> Callable[[str], tuple[set[str], str | None]]:
    def predict(text: str) -> tuple[set[str], str | None]:
        affs = classifier.classify_text(text)
        ids = {a.institution_id for a in affs if a.institution_id and "ror.org" in a.institution_id}
        country = next((a.country for a in affs if a.country), None)
        return ids, country

    return predict


def datasets() -> dict[str, list[Row]]:
    return {
        "crossref-2024": load_ror_api(
            EVAL / "ror_api" / "dataset_affiliations_crossref_2024_02_19.json"
        ),
        "springer-2023": load_ror_api(
            EVAL / "ror_api" / "dataset_affiliations_springer_2023_10_31.json"
        ),
        "s2aff-test": load_s2aff(EVAL / "s2aff" / "gold_affiliation_annotations.csv", "test"),
    }


def published() -> list[str]:
    lines = []
    for path in sorted((EVAL / "ror_amx").glob("PUBLISHED_*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for item in csv.DictReader(handle):
                name = item.get("Dataset") or item.get("dataset") or item.get("test_data") or ""
                strategy = item.get("strategy") or path.stem.replace("PUBLISHED_RESULTS_", "")
                p, r = float(item["Precision"]), float(item["Recall"])
                lines.append(f"  {strategy[:40]:40} {name[:60]:60} P={p:.3f} R={r:.3f}")
    return lines


def _freeze() -> None:
    """What is alive now (the index, its tables, the classifiers) kept out of the collector's
    full passes, as Scanner.scan keeps the classifier's reference data: the figures are those
    of a scan's classify stage, not of the collector walking the index again and again."""
    gc.collect()
    gc.freeze()


def profile(gaz: Gazetteer, top: int) -> int:
    """Where a fresh classifier's time goes on distinct strings (nothing remembered; the
    matcher's tables already built, as in the product, which saves them with the index)."""
    import cProfile
    import pstats

    texts = list(dict.fromkeys(row.text for rows in datasets().values() for row in rows))
    classifier = Classifier(gaz)
    _freeze()
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    for text in texts:
        classifier.classify_text(text)
    profiler.disable()
    seconds = time.process_time() - started
    print(f"{len(texts)} distinct strings in {seconds:.2f} s CPU under the profiler")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="score a fixed sample of 300 rows per set"
    )
    parser.add_argument("--dump", type=Path, default=DUMP, help="ROR dump zip")
    parser.add_argument(
        "--cache", type=Path, default=Path("/tmp/tracer-bench"), help="index cache dir"
    )
    parser.add_argument("--hard-only", action="store_true", help="score the hard cases only")
    parser.add_argument("--misses", action="store_true", help="print the hard cases missed")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="profile (cProfile) a fresh classifier over every set's distinct strings, print "
        "the N functions of most own time, and stop",
    )
    args = parser.parse_args(argv)
    if not args.dump.exists() or not EVAL.is_dir():
        print(f"missing {args.dump} or {EVAL}; nothing to measure", file=sys.stderr)
        return 1
    load_or_build(args.cache, args.dump)  # build once, then time a plain load
    started, cpu = time.perf_counter(), time.process_time()
    gaz = Gazetteer.load(cache_path(args.cache, args.dump))
    load_seconds, load_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert gaz is not None
    # The matcher's derived tables, as the product has them (Classifier.load prepares and
    # saves them with the index): built here on the first run after a change of the index
    # or of the matcher's code, and left out of every figure below.
    cpu = time.process_time()
    prepare(gaz)
    tables_cpu = time.process_time() - cpu
    cpu = time.process_time()
    classifier = Classifier(gaz)  # builds the country detector from the index's cities
    ready_cpu = time.process_time() - cpu
    countries = gaz.columns["country"]

    def country_of(ror_id: str) -> str | None:
        index = gaz.by_id.get(ror_id)
        return countries[index] if index is not None else None

    if args.profile:
        return profile(gaz, args.profile)
    print(
        f"ROR index: {len(gaz)} records from {gaz.source}; load {load_seconds:.3f} s "
        f"({load_cpu:.3f} s CPU; target < 1 s); matcher tables {tables_cpu:.3f} s CPU (built "
        f"once per index and matcher, then loaded with it); classifier ready {ready_cpu:.3f} s "
        "CPU later"
    )
    listings = official_listings(SHARED / "watchlists")
    setups = [("packaged watchlist", classifier), ("packaged, no ROR (offline)", Classifier())]
    if listings:
        merged = merge(default_watchlist(), listings, gaz)
        setups.append((f"+ {len(listings)} official listings", Classifier(gaz, merged)))
    _freeze()
    hard_sets = [("hard cases", CASES)] + [
        (f"hard cases, {path.stem.removeprefix('hard_affiliations_')} (written before scoring)", path)
        for path in held_out_sets()
    ]
    for title, path in hard_sets:
        if not path.exists():
            continue
        print(f"{title} (benchmarks/data/{path.name}), partial ROR dump:")
        cases = load_cases(path)
        for label, clf in setups:
            hard = score_hard(clf, cases)
            print(f"  {label:32} {hard.summary()}")
            if args.misses and hard.misses:
                print("\n".join(f"    {line}" for line in hard.misses))
    print("  targets: flag R >= 0.95 at P = 1.00, sector >= 0.90, institution >= 0.90")
    if args.hard_only:
        return 0
    print(
        f"{'set':15} {'rows':>5} {'gold':>5} {'none':>5} {'P':>6} {'R':>6} {'F1':>6} "
        f"{'country':>8} {'str/s':>8} {'memo/s':>8}"
    )
    out_of_reach: list[str] = []
    for name, rows in datasets().items():
        if args.quick:
            rows = random.Random(7).sample(rows, min(300, len(rows)))
        parts = [(name, rows)]
        if name.startswith("crossref"):
            parts += [(f"  half {h}", [r for r in rows if half(r.text) == h]) for h in "AB"]
        for label, part in parts:
            s = score(
                part, predictor(classifier), lambda g: g in gaz.by_id, country_of, classifier.forget
            )
            print(
                f"{label:15} {s.rows:5d} {s.covered:5d} {s.no_match_rows:5d} {s.precision:6.3f} "
                f"{s.recall:6.3f} {s.f1:6.3f} {s.country_accuracy:8.3f} {s.per_second:8.0f} "
                f"{s.memo_per_second:8.0f}"
            )
        ids, missing, held = reach(rows, lambda g: g in gaz.by_id)
        out_of_reach.append(
            f"  {name}: {missing} of {ids} labelled ids ({held} rows) are not in the dump; "
            f"recall over every labelled id would be at most {(ids - missing) / ids:.3f}"
            if ids
            else f"  {name}: no labelled ids"
        )
    print("str/s: distinct strings, nothing remembered; memo/s: every row again, remembered")
    print("halves: a fixed split by a hash of the string; rules were written from half A only")
    print("P and R are over the rows whose labelled ids are all in the partial dump (those a")
    print("matcher can reach) and the no-match rows; the others are left out:")
    print("\n".join(out_of_reach))
    print("targets: P >= 0.95, R >= 0.90, country >= 0.98, >= 50,000 strings/s, load < 1 s")
    print("published figures (other systems, ROR's own test sets, full ROR):")
    print("\n".join(published()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
