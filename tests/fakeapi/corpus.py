"""What the fake server knows: S2 papers, citations and snippets; OpenAlex works and institutions.

Tests build it in Python; every lookup the server makes is a dict access, so a corpus of tens
of thousands of citing papers stays fast (benchmarks load 50,000).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


def _norm_doi(value: str) -> str:
    text = value.strip().lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def _short(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class SnippetEntry:
    text: str
    corpus_id: int
    title: str
    authors: list[str]
    kind: str
    section: str | None
    score: float
    ref_corpus_ids: list[int]
    fields_of_study: list[str]
    year: int | None


@dataclass
class Corpus:
    s2_papers: dict[str, dict[str, Any]] = field(default_factory=dict)  # paperId -> paper
    s2_alias: dict[str, str] = field(default_factory=dict)  # "doi:x", "corpusid:n"... -> paperId
    s2_citations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # cited -> rows
    snippets: list[SnippetEntry] = field(default_factory=list)
    oa_works: dict[str, dict[str, Any]] = field(default_factory=dict)  # "W1" -> work
    oa_doi: dict[str, str] = field(default_factory=dict)  # doi -> "W1"
    oa_cited_by: dict[str, list[str]] = field(default_factory=dict)  # "W1" -> citing ids
    oa_institutions: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: int = 0  # bumped on every change, so the server can cache filter results
    # Ways the fake misbehaves on purpose, as real servers have: "s2_next_step" (S2 citations'
    # `next` advances by this many rows instead of a page), "openalex_repeat_cursor" (OpenAlex
    # hands back the cursor it was asked for, so a client that trusts it never ends).
    misbehave: dict[str, Any] = field(default_factory=dict)

    # -- Semantic Scholar -----------------------------------------------------------------

    def add_s2_paper(self, paper: dict[str, Any]) -> str:
        """Add a paper in S2's shape (paperId, corpusId, externalIds, title, ...)."""
        paper = dict(paper)
        ext = dict(paper.get("externalIds") or {})
        if paper.get("corpusId") is None and ext.get("CorpusId") is not None:
            paper["corpusId"] = ext["CorpusId"]
        if not paper.get("paperId"):
            seed = f"{paper.get('corpusId')}-{paper.get('title')}-{len(self.s2_papers)}"
            paper["paperId"] = hashlib.sha1(seed.encode()).hexdigest()
        pid = paper["paperId"]
        if paper.get("corpusId") is not None:
            ext.setdefault("CorpusId", paper["corpusId"])
            self.s2_alias[f"corpusid:{paper['corpusId']}"] = pid
        if ext.get("DOI"):
            self.s2_alias[f"doi:{_norm_doi(ext['DOI'])}"] = pid
            self.s2_alias[_norm_doi(ext["DOI"])] = pid  # S2 also takes a bare DOI
        if ext.get("ArXiv"):
            self.s2_alias[f"arxiv:{str(ext['ArXiv']).lower()}"] = pid
        paper["externalIds"] = ext
        self.s2_alias[pid.lower()] = pid
        self.s2_papers[pid] = paper
        self.version += 1
        return pid

    def add_s2_citation(
        self,
        cited: str,
        citing: str,
        contexts: list[str] | None = None,
        intents: list[str] | None = None,
        is_influential: bool = False,
    ) -> None:
        """`citing` cites `cited` (either given by any id form the corpus knows)."""
        cited_id = self.resolve_s2(cited)
        citing_id = self.resolve_s2(citing)
        if cited_id is None or citing_id is None:
            raise KeyError(f"unknown S2 paper {cited if cited_id is None else citing}")
        contexts = list(contexts or [])
        intents = list(intents or [])
        self.s2_citations.setdefault(cited_id, []).append(
            {
                "citing": citing_id,
                "contexts": contexts,
                "intents": intents,
                "contextsWithIntent": [{"context": c, "intents": intents} for c in contexts],
                "isInfluential": is_influential,
            }
        )
        self.version += 1

    def add_s2_unresolved_citation(self, cited: str, title: str) -> None:
        """A citing paper S2 cannot resolve: real pages list it as {"paperId": null, "title"}."""
        cited_id = self.resolve_s2(cited)
        if cited_id is None:
            raise KeyError(f"unknown S2 paper {cited}")
        self.s2_citations.setdefault(cited_id, []).append(
            {
                "citing": None,
                "title": title,
                "contexts": [],
                "intents": [],
                "contextsWithIntent": [],
                "isInfluential": False,
            }
        )
        self.version += 1

    def add_snippet(
        self,
        text: str,
        *,
        corpus_id: int,
        title: str = "",
        authors: list[str] | None = None,
        kind: str = "body",
        section: str | None = None,
        score: float = 0.5,
        ref_corpus_ids: list[int] | None = None,
        fields_of_study: list[str] | None = None,
        year: int | None = None,
    ) -> None:
        self.snippets.append(
            SnippetEntry(
                text,
                corpus_id,
                title,
                list(authors or []),
                kind,
                section,
                score,
                list(ref_corpus_ids or []),
                list(fields_of_study or []),
                year,
            )
        )
        self.version += 1

    def resolve_s2(self, paper_id: str) -> str | None:
        key = paper_id.strip().lower()
        if key.startswith("doi:"):
            key = "doi:" + _norm_doi(key[4:])
        return self.s2_alias.get(key)

    # -- OpenAlex -------------------------------------------------------------------------

    def add_openalex_work(self, work: dict[str, Any]) -> str:
        """Add a work in OpenAlex's shape; `referenced_works` feed the `cites:` filter."""
        work = dict(work)
        wid = _short(work["id"])
        work["id"] = f"https://openalex.org/{wid}"
        if work.get("doi"):
            doi = _norm_doi(work["doi"])
            work["doi"] = f"https://doi.org/{doi}"
            self.oa_doi[doi] = wid
        refs = [_short(r) for r in work.get("referenced_works") or []]
        work["referenced_works"] = [f"https://openalex.org/{r}" for r in refs]
        for ref in refs:
            self.oa_cited_by.setdefault(ref, []).append(wid)
        self.oa_works[wid] = work
        self.version += 1
        return wid

    def add_openalex_institution(self, institution: dict[str, Any]) -> str:
        iid = _short(institution["id"])
        self.oa_institutions[iid] = dict(institution, id=f"https://openalex.org/{iid}")
        return iid


def s2_paper(n: int, **fields: Any) -> dict[str, Any]:
    """A complete S2 paper record, numbered for tests; `fields` override any key."""
    paper: dict[str, Any] = {
        "paperId": hashlib.sha1(f"paper-{n}".encode()).hexdigest(),
        "corpusId": 100_000 + n,
        "externalIds": {"DOI": f"10.5555/TEST.{n}", "CorpusId": 100_000 + n},
        "url": None,
        "title": f"Test paper {n}",
        "abstract": f"Abstract of test paper {n}.",
        "venue": "Test Venue",
        "publicationVenue": None,
        "year": 2015 + n % 10,
        "publicationDate": f"{2015 + n % 10}-03-01",
        "citationCount": 0,
        "fieldsOfStudy": ["Computer Science"],
        "s2FieldsOfStudy": [{"category": "Computer Science", "source": "s2-fos-model"}],
        "authors": [{"authorId": str(9_000_000 + n), "name": f"Author {n}"}],
    }
    paper["url"] = f"https://www.semanticscholar.org/paper/{paper['paperId']}"
    paper.update(fields)
    return paper


def openalex_work(n: int, **fields: Any) -> dict[str, Any]:
    """A complete OpenAlex work record, numbered for tests; `fields` override any key."""
    work: dict[str, Any] = {
        "id": f"https://openalex.org/W{7_000_000 + n}",
        "doi": f"https://doi.org/10.5555/test.{n}",
        "title": f"Test work {n}",
        "display_name": f"Test work {n}",
        "publication_year": 2015 + n % 10,
        "publication_date": f"{2015 + n % 10}-03-01",
        "type": "article",
        "ids": {"openalex": f"https://openalex.org/W{7_000_000 + n}"},
        "primary_location": {"source": {"display_name": "Test Journal"}},
        "locations": [],
        "authorships": [
            {
                "author_position": "first",
                "author": {
                    "id": f"https://openalex.org/A{5_000_000 + n}",
                    "display_name": f"A {n}",
                },
                "institutions": [],
                "countries": [],
                "raw_affiliation_strings": [],
            }
        ],
        "cited_by_count": 0,
        "abstract_inverted_index": None,
        "referenced_works": [],
    }
    work.update(fields)
    return work
