"""Usage judgement: did a paper use a dataset, only cite it, or only name it?

Each paper gets a level with a score, the sentences a reader can check and the signs that fired:

- `used`: the evidence shows the authors' own use (a verb of use beside the dataset's name or a
  citation marker, with the authors as its subject; the name in the title or abstract; the
  intent `methodology`), whether or not the paper cites an origin paper;
- `cited`: it cites an origin paper (of the dataset or of a derivative), with no sign of use;
- `mentioned`: it names the dataset without citing it and without sign of use.

Signs, patterns and weights live in `data/usage_rules.yaml`; the passage weights there are
fitted by `benchmarks/fit_usage.py`. `on_topic` keeps mention-only hits on topic: a dataset
named with an ordinary word (Brainwash) must not pull in papers about brainwashing.
"""

from tracer.usage.judge import Evidence, Judgement, Passage, PassageMemo, Sign, judge
from tracer.usage.names import DatasetTerms, on_topic
from tracer.usage.rules import RULES_FILE, rules_version
from tracer.usage.stored import RowFacts, StoredInputs, inputs_digest, judge_paper


def __getattr__(name: str) -> str:
    # RULES_VERSION reads the rules file when first asked for, not at import.
    if name == "RULES_VERSION":
        return rules_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "RULES_FILE",
    "RULES_VERSION",
    "DatasetTerms",
    "Evidence",
    "Judgement",
    "Passage",
    "PassageMemo",
    "RowFacts",
    "Sign",
    "StoredInputs",
    "judge",
    "inputs_digest",
    "judge_paper",
    "on_topic",
    "rules_version",
]
