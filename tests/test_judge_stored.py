"""The scan's judge reads evidence as stored (StoredInputs): the same digests and verdicts as
`inputs_digest` and `judge_paper` give from `Store.evidence`'s dicts.

A store is filled with papers whose evidence rows repeat from paper to paper (the same
context, an OpenAlex row without context, intents without text) or are their own, in both the
new form (passages with their own intents, sections and kinds) and the old (contexts and one
list of intents), through derivatives and from mention searches that also cite an origin.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from tracer.records import Work
from tracer.store import Store
from tracer.usage import DatasetTerms, StoredInputs, inputs_digest, judge_paper, rules_version

TERMS = DatasetTerms.build("Brainwash", ["Brainwash dataset"], [], ["BrainwashHeads"],
                           ["Computer Science"])

CONTEXTS = [
    "We train our head detector on the Brainwash dataset [7].",
    "Crowd counting has been studied extensively [3, 7].",
    "Zhang et al. trained their network on Brainwash.",
    "We evaluate on BrainwashHeads, a cleaned version of [4].",
    "Datasets such as Brainwash are popular. We use [12] for training.",
    "",
]
INTENTS = [[], ["methodology"], ["background"], ["result", "methodology"]]


def _fill(store: Store, papers: int, seed: int) -> None:
    rng = random.Random(seed)
    run = store.start_run("brainwash", "scan")
    for i in range(papers):
        abstract = rng.choice([None, "", f"We study crowds {i}.", "We count heads on Brainwash."])
        pid, _ = store.upsert_work(Work(source=rng.choice(["s2", "openalex"]),
                                        title=f"Counting heads {i}" if i % 7 else "Brainwash",
                                        doi=f"10.1/{i}", abstract=abstract))
        via = "brainwashheads" if i % 9 == 0 else None
        store.link("brainwash", pid, run, via)
        for _ in range(rng.randint(0, 3)):
            shape = rng.random()
            text = rng.choice(CONTEXTS) if shape < 0.8 else f"We train on Brainwash, run {i}."
            if shape < 0.4:  # the new form: passages with their own intents
                passages = [{"text": text, "intents": rng.choice(INTENTS),
                             "section": rng.choice([None, "4 Experiments", "Related work"])}]
                store.add_evidence("brainwash", pid, run, route="cites", source="s2",
                                   target="CorpusId:1", passages=passages,
                                   via_derivative=via, is_influential=rng.random() < 0.5)
            elif shape < 0.6:  # the old form: contexts and one list of intents
                store.add_evidence("brainwash", pid, run, route="cites", source="s2",
                                   target="CorpusId:2", contexts=[text] if text else [],
                                   intents=rng.choice(INTENTS), via_derivative=via)
            elif shape < 0.8:  # an OpenAlex citation: no context
                store.add_evidence("brainwash", pid, run, route="cites", source="openalex",
                                   target=rng.choice(["W1", "W2"]), via_derivative=via)
            else:  # a full-text snippet, of a kind
                store.add_evidence("brainwash", pid, run, route="mentions", source="s2",
                                   target="Brainwash dataset", cites_origin=rng.random() < 0.5,
                                   passages=[{"text": text, "kind": rng.choice(
                                       [None, "body", "title", "abstract"])}])


@pytest.mark.parametrize("limit", [20_000, 3])
def test_stored_inputs_give_the_digests_and_verdicts_of_the_decoded_rows(
    tmp_path: Path, limit: int
) -> None:
    version = rules_version()
    with Store(tmp_path / "t.db") as store:
        _fill(store, 300, seed=limit)
        columns = store.evidence_columns()
        inputs = StoredInputs(TERMS, version, columns,
                              lambda values: store.evidence_dict(values, columns), limit=limit)
        decoded = list(store.judge_inputs("brainwash", chunk=37))
        as_stored = list(store.judge_inputs("brainwash", chunk=37, as_stored=True))
        assert [r[0] for r in as_stored] == [r[0] for r in decoded] and len(decoded) == 300
        levels = set()
        rows_seen = 0
        kept = []  # the verdict objects, alive (papers alike share one)
        for (pid, paper, rows, stored), (pid2, paper2, raw, stored2) in zip(
            decoded, as_stored, strict=True
        ):
            assert (pid, paper, stored) == (pid2, paper2, stored2)
            assert [store.evidence_dict(v, columns) for v in raw] == rows
            digest, facts = inputs.read(paper, raw)
            assert digest == inputs_digest(TERMS, paper, rows, version)
            verdict = judge_paper(TERMS, paper, facts, inputs.memo)
            kept.append(verdict)
            fast = verdict.to_dict()
            assert fast == judge_paper(TERMS, paper, rows).to_dict(), pid
            levels.add(fast["level"])
            rows_seen += len(rows)
        assert levels == {"used", "cited", "mentioned"}
        assert rows_seen > 200
        # Papers whose title and abstract do not name the dataset, with rows read alike (no
        # evidence at all, the same OpenAlex rows), were given one verdict.
        shared = len({id(v) for v in kept})
        assert shared < (280 if limit > 300 else 300), shared


def test_a_row_whose_paper_id_is_not_an_integer_is_digested_from_its_dict() -> None:
    """Stored values the usual encoding cannot be split around (a paper id stored as text)
    still give inputs_digest's digest."""
    columns = ("dataset", "paper_id", "route", "source", "target", "via_derivative",
               "contexts", "intents", "is_influential", "cites_origin", "last_seen_run",
               "passages")

    def decode(values: Any) -> dict[str, Any]:
        row = dict(zip(columns, values, strict=True))
        for column in ("contexts", "intents", "passages"):
            row[column] = json.loads(row[column])
        return row

    inputs = StoredInputs(TERMS, "v", columns, decode)
    paper = {"id": 5, "title": "Heads", "abstract": None, "authors_source": "s2"}
    usual = ("brainwash", 5, "cites", "s2", "C1", "", '["We train on Brainwash."]',
             '["methodology"]', None, None, 3, "[]")
    odd = ("brainwash", "5", *usual[2:])
    for raw in ([usual], [odd], [usual, odd], []):
        digest, facts = inputs.read(paper, raw)
        rows = [decode(v) for v in raw]
        assert digest == inputs_digest(TERMS, paper, rows, "v")
        assert (judge_paper(TERMS, paper, facts).to_dict()
                == judge_paper(TERMS, paper, rows).to_dict())
    # The run a row was last seen in is no input: the same digest.
    later = usual[:10] + (9,) + usual[11:]
    assert inputs.read(paper, [later])[0] == inputs.read(paper, [usual])[0]
