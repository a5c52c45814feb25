"""Judging a paper from what the store holds: its record and its evidence rows for a dataset.

`judge_paper` and `inputs_digest` read the rows as `Store.evidence` gives them (dicts, JSON
decoded). A scan reads them as stored (`Store.judge_inputs(as_stored=True)`) through
`StoredInputs`, which decodes each distinct row (its stored values, the paper's id and the run
aside), turns it into passages and encodes it for the digest once per run: the same digests and
the same verdicts (tests/test_judge_fast.py compares them), without doing again for every paper
what most of them share (an OpenAlex row without context, the same intents without text).
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from tracer.usage.judge import MEMO_SIZE, Doorkeeper, Judgement, Passage, PassageMemo, judge
from tracer.usage.names import DatasetTerms

_DIGEST_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS

# Evidence columns that say when a row was seen, not what it says.
_RUN_COLUMNS = frozenset({"last_seen_run"})


def _stored_passages(row: Mapping[str, Any]) -> list[Passage]:
    route = str(row.get("route") or "cites")
    source = str(row.get("source") or "s2")
    stored = row.get("passages")
    if isinstance(stored, str):
        try:
            stored = json.loads(stored)
        except ValueError:
            stored = None
    if isinstance(stored, list) and stored:
        return [
            Passage(
                text=str(p.get("text") or ""),
                intents=tuple(str(i) for i in p.get("intents") or ()),
                route=route,
                source=source,
                section=p.get("section"),
                kind=p.get("kind"),
            )
            for p in stored
            if isinstance(p, Mapping)
        ]
    contexts = [c for c in row.get("contexts") or () if isinstance(c, str)]
    # Older rows keep one list of intents for the whole citation: each context gets them all.
    intents = tuple(str(i) for i in row.get("intents") or ()) if route == "cites" else ()
    out = [Passage(c, intents, route, source) for c in contexts]
    if intents and not contexts:
        out.append(Passage("", intents, route, source))
    return out


class RowFacts:
    """What the judge takes from one evidence row. Compared and hashed by identity: a memo
    keyed by it holds it, and rows read alike share one (StoredInputs, `shared`)."""

    __slots__ = ("cites", "derivative", "direct", "passages", "shared")

    def __init__(self, cites: bool, derivative: str | None, direct: bool,
                 passages: tuple[Passage, ...], shared: bool = False) -> None:
        self.cites = cites  # a citation of an origin paper, or a passage that also cites one
        self.derivative = derivative  # the derived dataset it was found through
        self.direct = direct  # a citation of the dataset's own origin paper
        self.passages = passages
        self.shared = shared  # kept by StoredInputs: rows read alike get this same object

    @classmethod
    def of(cls, row: Mapping[str, Any], shared: bool = False) -> RowFacts:
        via = row.get("via_derivative")
        cites_route = row.get("route") == "cites"
        return cls(bool(cites_route or row.get("cites_origin")), str(via) if via else None,
                   cites_route and not via, tuple(_stored_passages(row)), shared)


def inputs_digest(
    terms: DatasetTerms,
    paper: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    version: str | None,
) -> str:
    """A digest of everything `judge_paper` draws a verdict from, with the rules' version: the
    same digest means the same verdict, so a paper whose digest is stored needs no new one."""
    payload = [
        version,
        [terms.key, terms.names, terms.derivative_names, terms.fields_of_study],
        dict(paper),
        [{k: v for k, v in row.items() if k not in _RUN_COLUMNS} for row in rows],
    ]
    encoded = orjson.dumps(payload, option=_DIGEST_OPTIONS)
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


def judge_paper(
    terms: DatasetTerms,
    paper: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any] | RowFacts],
    memo: PassageMemo | None = None,
) -> Judgement:
    """Judge a stored paper from its store record and its evidence rows for the dataset.

    `paper`: a store paper dict (title, abstract, authors_source); `rows`: store evidence rows
    (route, source, via_derivative, cites_origin, contexts, intents, and `passages` when the
    row has them), or what `StoredInputs` took from them. Scan, rejudge and explain all judge
    through here; a scan passes one `memo` for all the papers of its dataset.

    With a memo, papers whose title and abstract do not name the dataset and whose rows share
    their facts (StoredInputs gives rows read alike the same, `shared`) share one verdict,
    which the caller must not change: it is drawn from those facts alone."""
    facts = [r if isinstance(r, RowFacts) else RowFacts.of(r) for r in rows]
    title, abstract = paper.get("title"), paper.get("abstract")

    def verdict() -> Judgement:
        derived = {f.derivative for f in facts if f.derivative is not None}
        direct = any(f.direct for f in facts)
        return judge(
            terms,
            cites=any(f.cites for f in facts),
            passages=[p for f in facts for p in f.passages],
            title=title,
            abstract=abstract,
            via_derivative=None if direct or not derived else sorted(derived)[0],
            text_source=str(paper.get("authors_source") or "s2"),
            memo=memo,
        )

    if memo is None:
        return verdict()
    memo.check(terms)
    if not all(f.shared for f in facts):
        # A row of its own (seen once, or not read through StoredInputs): its passages are
        # most likely its own too, and no other paper has these facts.
        memo = None
        return verdict()
    present = terms._matcher.present
    if (title and present(title)) or (abstract and present(abstract)):
        return verdict()
    # Neither can add a reason, a place or a sign (judge's _title and _abstract find no name
    # where `present` says there is none), and the source of the text is named only by them.
    return memo.verdict(tuple(facts), verdict)


class _Row:
    """One distinct stored row: its facts and its digest encoding around the paper's id."""

    __slots__ = ("facts", "head", "tail")

    def __init__(self, facts: RowFacts, head: bytes | None, tail: bytes) -> None:
        self.facts = facts
        self.head = head  # None: the encoding could not be split at the paper's id
        self.tail = tail


# A paper id no store holds, to find where the id sits in a row's encoding.
_NO_ID = -7_340_117_926_405_913


class StoredInputs:
    """The judge's and the digest's inputs for the papers of one dataset, from evidence rows
    as stored (`columns` their names, `decode` one row's values to `Store.evidence`'s dict):
    each distinct row decoded, made into passages and encoded once, and a `memo` of passages."""

    def __init__(
        self,
        terms: DatasetTerms,
        version: str | None,
        columns: Sequence[str],
        decode: Callable[[Sequence[Any]], dict[str, Any]],
        limit: int = MEMO_SIZE,
    ) -> None:
        self.terms = terms
        self.version = version
        self.decode = decode
        self.limit = limit
        self.memo = PassageMemo(terms, limit)
        self._id_at = list(columns).index("paper_id")
        kept = [i for i, c in enumerate(columns) if c != "paper_id" and c not in _RUN_COLUMNS]
        self._key = operator.itemgetter(*kept)
        self._rows: dict[Any, _Row] = {}
        self._seen = Doorkeeper(limit)
        start = [version, [terms.key, terms.names, terms.derivative_names, terms.fields_of_study]]
        self._start = orjson.dumps(start, option=_DIGEST_OPTIONS)[:-1] + b","

    def _row(self, key: Any, decoded: dict[str, Any]) -> _Row:
        """A row seen for the second time: kept, with its encoding split at the paper's id."""
        kept = {k: v for k, v in decoded.items() if k not in _RUN_COLUMNS}
        kept["paper_id"] = _NO_ID
        encoded = orjson.dumps(kept, option=_DIGEST_OPTIONS)
        mark = b'"paper_id":' + str(_NO_ID).encode()
        head: bytes | None = None
        tail = b""
        if encoded.count(mark) == 1:
            before, tail = encoded.split(mark)
            head = before + b'"paper_id":'
        row = _Row(RowFacts.of(decoded, shared=True), head, tail)
        if len(self._rows) >= self.limit:
            self._rows.clear()
        self._rows[key] = row
        return row

    def read(self, paper: Mapping[str, Any], stored: Sequence[Sequence[Any]]
             ) -> tuple[str, list[RowFacts]]:
        """The inputs digest (`inputs_digest`'s) and the rows' facts (for `judge_paper`)."""
        known, key_of, at = self._rows, self._key, self._id_at
        parts = []
        facts = []
        for values in stored:
            key = key_of(values)
            row = known.get(key)
            paper_id = values[at]
            if row is None:
                decoded = self.decode(values)
                if not self._seen.again(key):
                    # A row seen once: what inputs_digest and judge_paper do with it.
                    facts.append(RowFacts.of(decoded))
                    parts.append(orjson.dumps(
                        {k: v for k, v in decoded.items() if k not in _RUN_COLUMNS},
                        option=_DIGEST_OPTIONS))
                    continue
                row = self._row(key, decoded)
            facts.append(row.facts)
            if row.head is None or type(paper_id) is not int:
                # Not the usual row: the digest as inputs_digest makes it, from the dicts.
                dicts = [self.decode(v) for v in stored]
                return (inputs_digest(self.terms, paper, dicts, self.version),
                        [RowFacts.of(d) for d in dicts])
            parts.append(row.head + b"%d" % paper_id + row.tail)
        encoded = (self._start + orjson.dumps(dict(paper), option=_DIGEST_OPTIONS) + b",["
                   + b",".join(parts) + b"]]")
        return hashlib.blake2b(encoded, digest_size=16).hexdigest(), facts
