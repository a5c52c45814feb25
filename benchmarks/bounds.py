"""The fewest requests the APIs allow for a scan and a refresh, counted from the fake corpus.

The limits, from the API documentation (DESIGN.md section 3):

    S2 citations      1,000 per page; offset + limit < 10,000, so at most 9,999 citations a
                      query, and more through `publicationDateOrYear` slices (a year that
                      alone holds more stays cut at 9,999)
    S2 paper batch    500 ids per request
    S2 snippets       one request per phrase (no paging)
    OpenAlex list     100 per page (cites: filter, every origin version OR'ed in one filter)
    OpenAlex by DOI   100 DOIs per request (filter=doi:a|b|...)

A scan needs: each source's record of the origin paper (one batch each), every citation page of
both sources (past S2's cap, at least one page per 1,000 citations: a client also needs a first
capped query to learn the years, and a part page per slice, which this bound does not count), a
DOI batch for the citers OpenAlex's cites list does not carry (so that their authors'
institutions are known), the snippet search per mention phrase, and an S2 batch for the
mention-only papers (a snippet names a paper by corpus id and title only) and for the citers
that no OpenAlex work with affiliations carries (S2's batch records bring them).

A refresh with nothing new needs one batched count call per source for the whole catalog: 2.
With new citers, neither API sorts or filters citation lists by date of addition here (S2 has no
such parameter; the fake OpenAlex has no from_created_date), so a list whose count moved must be
read again in full: 2 + every page of the changed lists + DOI batches for the new papers outside
OpenAlex's list. Mention searches are not due again within a refresh interval and are not counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.synthetic import OriginIds
from tests.fakeapi.corpus import Corpus

S2_PAGE = 1000
S2_CAP = 9999
S2_BATCH = 500
OA_PAGE = 100
OA_DOIS = 100


def pages(count: int, size: int) -> int:
    return -(-count // size) if count > 0 else 0


@dataclass
class Bound:
    s2: dict[str, int]
    openalex: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.s2.values()) + sum(self.openalex.values())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total}


@dataclass
class CorpusCounts:
    s2_citations: int  # citations S2 holds for the origin
    s2_reachable: int  # of them, what year slices can list (9,999 at most a year)
    openalex_works: int  # works OpenAlex lists as citing any version of the origin
    outside_openalex: int  # S2 citers whose DOI is not among those works
    mention_only: int  # papers that only a snippet search finds
    unenriched: int = 0  # S2 citers that no OpenAlex work with affiliations carries


def count(corpus: Corpus, ids: OriginIds, mention_phrase: str) -> CorpusCounts:
    origin = corpus.resolve_s2(f"CorpusId:{ids.corpus_id}")
    assert origin is not None, "synthetic origin missing from the corpus"
    rows = corpus.s2_citations.get(origin, [])
    years = Counter(_year(corpus.s2_papers[row["citing"]]) for row in rows)
    reachable = len(rows) if len(rows) <= S2_CAP else sum(min(n, S2_CAP) for n in years.values())
    works = set(corpus.oa_cited_by.get(ids.proceedings, [])) | set(
        corpus.oa_cited_by.get(ids.preprint, [])
    )
    listed_dois = {str(corpus.oa_works[w].get("doi") or "").lower() for w in works}
    with_affiliations = {
        str(w.get("doi") or "").lower()
        for w in corpus.oa_works.values()
        if any(
            a.get("institutions") or a.get("raw_affiliation_strings")
            for a in w.get("authorships") or []
        )
    }
    outside = unenriched = 0
    # Every row counts, also where one year passes the cap (no synthetic corpus has one).
    for row in rows:
        external = corpus.s2_papers[row["citing"]]["externalIds"]
        doi = str(external.get("DOI") or "").lower()
        if f"https://doi.org/{doi}" not in listed_dois:
            outside += 1
        arxiv = str(external.get("ArXiv") or "").lower()
        dois = {f"https://doi.org/{d}" for d in (doi, arxiv and f"10.48550/arxiv.{arxiv}") if d}
        if not dois & with_affiliations:
            unenriched += 1
    citing = {row["citing"] for row in rows}
    words = mention_phrase.lower().split()
    mentioned = {
        corpus.resolve_s2(f"CorpusId:{s.corpus_id}")
        for s in corpus.snippets
        if all(w in s.text.lower() for w in words)
    }
    mention_only = len({m for m in mentioned if m is not None} - citing)
    return CorpusCounts(len(rows), reachable, len(works), outside, mention_only, unenriched)


def _year(paper: dict[str, Any]) -> int | None:
    day = str(paper.get("publicationDate") or "")
    return int(day[:4]) if day[:4].isdigit() else paper.get("year")


def scan_bound(c: CorpusCounts, origin_dois: int = 2, phrases: int = 1) -> Bound:
    return Bound(
        s2={
            "origin": 1,
            "citations": pages(c.s2_reachable, S2_PAGE),
            "snippets": phrases,
            "batch": pages(c.mention_only + c.unenriched, S2_BATCH),
        },
        openalex={
            "origin": pages(origin_dois, OA_DOIS),
            "cites": pages(c.openalex_works, OA_PAGE),
            "dois": pages(c.outside_openalex + c.mention_only, OA_DOIS),
        },
    )


def refresh_unchanged_bound() -> Bound:
    return Bound(s2={"counts": 1}, openalex={"counts": 1})


def refresh_new_bound(before: CorpusCounts, after: CorpusCounts) -> Bound:
    s2_moved = after.s2_citations != before.s2_citations
    oa_moved = after.openalex_works != before.openalex_works
    new_outside = max(0, after.outside_openalex - before.outside_openalex)
    return Bound(
        s2={"counts": 1, "citations": pages(after.s2_reachable, S2_PAGE) if s2_moved else 0},
        openalex={
            "counts": 1,
            "cites": pages(after.openalex_works, OA_PAGE) if oa_moved else 0,
            "dois": pages(new_outside, OA_DOIS),
        },
    )
