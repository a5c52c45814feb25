"""The labelled citation-context sets in ../shared/data/eval/contexts/, read into one shape.

Each sample is one context (or one sentence naming a piece of software, for SoMeSci) with its
label "the citing authors use the cited thing". Splits:

- SciCite: `dev` is the fitting split (the public copy has no train split), `test` is held out;
  label `method` is use. The labels are also S2's intents (methodology/background/result).
- ACL-ARC: `train_0`..`train_4` fit, `test` held out; label `Uses`. @@CITATION becomes "[1]".
- MultiCite: `train` fits, `dev` and `test` are held out; `uses` among the labels is use. The
  cited thing is named when a <cite> holds a name (no year), or a name-like word (SQuAD,
  WMT14) stands just before it.
- SoMeSci: no published split; a paper (PMC id) goes to `test` when the first hex digit of the
  SHA-1 of its id is 0-3 (a quarter), else to `train`; `*_Usage` is use, `*_Mention` is not.

Nothing here is copied into the project: the samples are read at run time only.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tracer.usage.names import _sentence_spans
from tracer.usage.rules import rules

CONTEXTS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "eval" / "contexts"
FIT_SPLITS = {"scicite": ["dev"], "aclarc": ["train"], "multicite": ["train"],
              "somesci": ["train"]}
HELD_OUT = {"scicite": ["test"], "aclarc": ["test"], "multicite": ["dev", "test"],
            "somesci": ["test"]}
_SCICITE_INTENT = {"method": "methodology", "result": "result", "background": "background"}
_CITE = re.compile(r"<cite>(.*?)</cite>", re.DOTALL)
_YEAR = re.compile(r"\b(?:19|20)\d\d[a-z]?\b")
_NAMELIKE = re.compile(r"(?:^|\s)([A-Z][A-Za-z0-9]*(?:[A-Z0-9][A-Za-z0-9]*)+(?:-[A-Za-z0-9]+)*)\s*$")
_SOFTWARE = re.compile(r"^(Application|ProgrammingEnvironment|OperatingSystem|PlugIn)_(Usage|Mention)$")


@dataclass(frozen=True)
class Sample:
    corpus: str  # "scicite" | "aclarc" | "multicite" | "somesci"
    split: str
    text: str
    used: bool
    names: tuple[str, ...] = ()  # the cited thing's names in the text, when it is named
    section: str | None = None
    group: str | None = None  # the citing paper and cited work (MultiCite pairs)
    intents: tuple[str, ...] = ()  # SciCite only: its label as S2 names the intent
    sentences: int = 1
    route: str = "cites"  # "mentions" for SoMeSci (a full-text sentence, not a citation)


def _jsonl(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def scicite(folder: Path, split: str) -> list[Sample]:
    out = []
    for row in _jsonl(folder / "scicite" / f"{split}.jsonl"):
        label = str(row["label"])
        out.append(Sample("scicite", split, str(row["string"]), label == "method",
                          section=str(row.get("sectionName") or "") or None,
                          intents=(_SCICITE_INTENT[label],)))
    return out


def aclarc(folder: Path, split: str) -> list[Sample]:
    paths = sorted((folder / "aclarc").glob("train_*.jsonl")) if split == "train" else [
        folder / "aclarc" / f"{split}.jsonl"]
    return [
        Sample("aclarc", split, str(row["input"]).replace("@@CITATION", "[1]"),
               row["label"] == "Uses")
        for path in paths for row in _jsonl(path)
    ]


def _multicite_names(text: str) -> tuple[str, ...]:
    names: list[str] = []
    for match in _CITE.finditer(text):
        inner = match.group(1).split("(")[-1].strip(" ()[],;")
        if (inner and not _YEAR.search(inner) and any(c.isupper() for c in inner)
                and len(inner.split()) <= 4 and "et al" not in inner):
            names.append(inner)
        before = _NAMELIKE.search(_CITE.sub(lambda m: m.group(1), text[: match.start()]))
        if before is not None:
            names.append(before.group(1))
    return tuple(dict.fromkeys(n for n in names if len(n) >= 2))


def multicite(folder: Path, split: str) -> list[Sample]:
    rows = json.loads((folder / "multicite" / f"{split}.json").read_text(encoding="utf-8"))
    out = []
    for row in rows:
        sentences = [s for s in row["x"] if isinstance(s, str)]
        if not sentences:
            continue
        raw = " ".join(sentences)
        out.append(Sample(
            "multicite", split, _CITE.sub(lambda m: m.group(1), raw),
            "uses" in str(row["y"]).split(), _multicite_names(raw),
            group=str(row["id"]).rsplit("_", 1)[0], sentences=len(sentences),
        ))
    return out


def _somesci_split(pmc: str) -> str:
    return "test" if hashlib.sha1(pmc.encode()).hexdigest()[0] in "0123" else "train"


def somesci(folder: Path, split: str) -> list[Sample]:
    out: list[Sample] = []
    abbreviations = rules().abbreviations
    for sub, section in (("PLoS_methods", "Methods"), ("PLoS_sentences", None)):
        for ann in sorted((folder / "somesci" / sub).glob("*.ann")):
            pmc = ann.stem.split("_")[0]
            if _somesci_split(pmc) != split:
                continue
            text = ann.with_suffix(".txt").read_text(encoding="utf-8")
            spans = _sentence_spans(text, abbreviations)
            seen: set[tuple[int, str]] = set()
            for line in ann.read_text(encoding="utf-8").splitlines():
                parts = line.split("\t")
                if len(parts) < 3 or not parts[0].startswith("T"):
                    continue
                head = parts[1].split(" ")
                kind = _SOFTWARE.match(head[0])
                if kind is None or ";" in parts[1]:
                    continue
                start = int(head[1])
                name = parts[2].strip()
                index = next((i for i, (a, b) in enumerate(spans) if a <= start < b), None)
                if index is None or not name or (index, name) in seen:
                    continue
                seen.add((index, name))
                a, b = spans[index]
                out.append(Sample("somesci", split, text[a:b].strip(), kind.group(2) == "Usage",
                                  (name,), section=section, group=pmc, route="mentions"))
    return out


LOADERS = {"scicite": scicite, "aclarc": aclarc, "multicite": multicite, "somesci": somesci}


def load(corpus: str, split: str, folder: Path = CONTEXTS) -> list[Sample]:
    return LOADERS[corpus](folder, split)


def available(folder: Path = CONTEXTS) -> bool:
    return all((folder / c).is_dir() for c in LOADERS)
