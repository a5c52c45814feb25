"""Scoring of the labelled hard cases (benchmarks/data/hard_affiliations.yaml): flag precision
and recall, institution and sector accuracy. See that file for what each field means.

A case counts as flagged when any answer carries a flag; flag recall counts the flagged cases
whose answers carry every list the case names, flag precision the flagged answers whose case
expects a flag. The institution is right when an answer names one of the case's watchlist keys
or ROR ids (or, for `[]`, when no answer names any; `null` is not scored); the sector is that
answer's."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tracer.affiliations.classify import Classifier
from tracer.affiliations.model import Affiliation
from tracer.affiliations.official import Listing, parse_1260h, parse_aspi, parse_csl, parse_fcc

CASES = Path(__file__).resolve().parent / "data" / "hard_affiliations.yaml"


# Held-out sets, each written from public facts before the matcher was run on it: fresh, then
# fresh2, fresh3, ... in the order they were written.
def held_out_sets() -> list[Path]:
    def number(path: Path) -> int:
        found = re.search(r"fresh(\d*)$", path.stem)
        return int(found.group(1) or 1) if found else 0

    return sorted(CASES.parent.glob("hard_affiliations_fresh*.yaml"), key=number)


ROR = "https://ror.org/"


def load_cases(path: Path = CASES) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text("utf-8"))["cases"])


@dataclass
class HardScores:
    cases: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    institution_rows: int = 0
    institution_ok: int = 0
    sector_rows: int = 0
    sector_ok: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    def summary(self) -> str:
        inst = self.institution_ok / self.institution_rows if self.institution_rows else 0.0
        sector = self.sector_ok / self.sector_rows if self.sector_rows else 0.0
        return (
            f"{self.cases} cases: flag P={self.precision:.3f} R={self.recall:.3f} "
            f"institution={inst:.3f} ({self.institution_ok}/{self.institution_rows}) "
            f"sector={sector:.3f} ({self.sector_ok}/{self.sector_rows})"
        )


def identities(classifier: Classifier, aff: Affiliation) -> set[str]:
    """The watchlist keys and bare ROR ids an answer names: its institution's and the parent's
    it says the institution is part of."""
    out: set[str] = set()
    for ident in (aff.institution_id, aff.parent_id):
        if ident and ident.startswith(ROR):
            out.add(ident[len(ROR) :])
    for ident, name in ((aff.institution_id, aff.institution_name), (None, aff.parent_name)):
        entry = classifier.watchlist.for_ror(ident) or classifier.watchlist.named(name)
        if entry is not None:
            out.add(entry.key)
    return out


def score_hard(classifier: Classifier, cases: list[dict[str, Any]] | None = None) -> HardScores:
    result = HardScores()
    for case in cases if cases is not None else load_cases():
        result.cases += 1
        affs = classifier.classify_text(case["text"])
        found = {flag.list for aff in affs for flag in aff.flags}
        gold = set(case.get("flags") or ())
        problems = []
        if gold and gold <= found:
            result.tp += 1
        elif gold:
            result.fn += 1
            problems.append(f"flags {sorted(found)} lack {sorted(gold - found)}")
        elif found:
            result.fp += 1
            problems.append(f"unexpected flags {sorted(found)}")
        wanted = case.get("institution")
        named = [(aff, identities(classifier, aff)) for aff in affs]
        hit = next((aff for aff, ids in named if wanted and ids & set(wanted)), None)
        if wanted is not None:
            result.institution_rows += 1
            if (hit is not None) if wanted else not any(ids for _, ids in named):
                result.institution_ok += 1
            else:
                problems.append(f"institution {[sorted(ids) for _, ids in named]} not {wanted}")
        if case.get("sector"):
            result.sector_rows += 1
            # The sector of the answer the case is about: the institution asked for, else the
            # affiliation that carries the flags asked for (a string may name a lookalike first:
            # "Southern Medical University, ...; Third Military Medical University, ..."), else
            # the first.
            flagged = next((a for a in affs if gold and gold <= {f.list for f in a.flags}), None)
            # else the first that names a body or a kind of body (an OpenAlex string may begin
            # with its postcode and city: "266590 qingdao, china; college of ...")
            named = next((a for a in affs if a.institution_name or a.sector != "unknown"), None)
            answer = hit or flagged or named or (affs[0] if affs else None)
            sector = answer.sector if answer else "unknown"
            if sector == case["sector"]:
                result.sector_ok += 1
            else:
                problems.append(f"sector {sector} not {case['sector']}")
        if problems:
            result.misses.append(f"{case['text']!r}: " + "; ".join(problems))
    return result


def official_listings(folder: Path) -> list[Listing]:
    """The listings of the public copies of the lists in `folder` (empty where absent)."""
    files = {
        "csl": folder / "csl_sample_consolidated_HANDWRITTEN.json",
        "1260h": folder / "opensanctions_us_dod_1260h_chinese_military_companies.csv",
        "aspi": folder / "misp_galaxy_china-defence-universities_ASPI.json",
        "fcc": folder / "opensanctions_us_fcc_covered_list.csv",
    }
    if not all(path.exists() for path in files.values()):
        return []
    return (
        parse_csl(json.loads(files["csl"].read_text("utf-8")))
        + parse_1260h(files["1260h"].read_text("utf-8"))
        + parse_aspi(json.loads(files["aspi"].read_text("utf-8")))
        + parse_fcc(files["fcc"].read_text("utf-8"), "https://www.fcc.gov/supplychain/coveredlist")
    )
