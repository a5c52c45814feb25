"""Semantic Scholar Graph API: papers, citations, batch lookups, snippet search.

Talks to the API directly through the shared HttpClient (which adds `x-api-key` to every call,
paged ones included). Limits, from the API documentation: citations come 1000 per page at most
and `offset + limit` must stay below 10,000, so no more than 9,999 citations of one paper can be
listed; batch lookups take 500 ids; snippet search returns at most 1000 passages, unpaged.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tracer.errors import NotFoundError
from tracer.http import LIST_TTL, NO_STORE, RECORD_TTL, HttpClient
from tracer.http.policy import SourcePolicy, register_policy
from tracer.records import Author, Citation, Listing, Snippet, Work
from tracer.sources import chunked, normalize_arxiv, normalize_doi

SOURCE = "s2"
# S2 answers 403 {"message": "Forbidden"} to a wrong, suspended or missing-but-required key
# and 429 to "slow down" (the keyless pool is shared by everyone). A key grants 1 request/s,
# counted where the requests arrive: 1.1 s apart leaves room for the network's jitter.
POLICY = register_policy(
    SourcePolicy(
        name=SOURCE,
        label="Semantic Scholar",
        key_setting="s2_api_key",
        key_header="x-api-key",
        interval_with_key=1.1,
        interval_without_key=2.0,
        auth_statuses=frozenset({401, 403}),
        slow_down_statuses=frozenset({429}),
        key_hint="Check the key in S2_API_KEY (or `tracer config set s2_api_key ...`); "
        "request one at https://www.semanticscholar.org/product/api.",
    )
)
PAGE_LIMIT = 1000
OFFSET_CAP = 10_000  # offset + limit must stay below this
BATCH_LIMIT = 500
SNIPPET_LIMIT = 1000

PAPER_FIELDS = (
    "paperId,corpusId,externalIds,url,title,year,venue,publicationVenue,publicationDate,"
    "abstract,authors,fieldsOfStudy,s2FieldsOfStudy,citationCount"
)
# Citation-level fields sit flat beside the citing paper's fields in the request; the answer
# nests the paper under `citingPaper`.
CITATION_FIELDS = "contexts,intents,contextsWithIntent,isInfluential," + PAPER_FIELDS


class SemanticScholar:
    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self.base = http.settings.s2_api_url.rstrip("/")

    def paper(self, paper_id: str) -> Work | None:
        """One paper by "DOI:..", "ARXIV:..", "CorpusId:.." or S2 sha; None if S2 has none."""
        try:
            data = self.http.get_json(
                SOURCE,
                "paper",
                f"{self.base}/paper/{_quote_id(paper_id)}",
                {"fields": PAPER_FIELDS},
                ttl=RECORD_TTL,
            )
        except NotFoundError:
            return None
        return parse_paper(data) if isinstance(data, dict) else None

    def papers(self, ids: list[str]) -> list[Work | None]:
        """Many papers, 500 per POST /paper/batch; None where S2 knows no such id."""
        out: list[Work | None] = []
        for chunk in chunked(ids, BATCH_LIMIT):
            data = self.http.post_json(
                SOURCE,
                "batch",
                f"{self.base}/paper/batch",
                {"fields": PAPER_FIELDS},
                {"ids": chunk},
                ttl=RECORD_TTL,
                valid=_is_batch,
            )
            rows = data if isinstance(data, list) else []
            out.extend(parse_paper(row) if isinstance(row, dict) else None for row in rows)
            out.extend([None] * (len(chunk) - len(rows)))
        return out

    def citation_counts(self, ids: list[str]) -> dict[str, int | None]:
        """Citation counts by the ids given, never from the cache (change detection)."""
        counts: dict[str, int | None] = {}
        for chunk in chunked(ids, BATCH_LIMIT):
            data = self.http.post_json(
                SOURCE,
                "batch",
                f"{self.base}/paper/batch",
                {"fields": "citationCount"},
                {"ids": chunk},
                ttl=NO_STORE,
                valid=_is_batch,
            )
            rows = data if isinstance(data, list) else []
            for i, pid in enumerate(chunk):
                row = rows[i] if i < len(rows) else None
                value = row.get("citationCount") if isinstance(row, dict) else None
                counts[pid] = value if isinstance(value, int) else None
        return counts

    def citations(self, paper_id: str, *, fresh: bool = False) -> Listing:
        """Every citation S2 will list for a paper (up to 9,999), with contexts and intents.

        `fresh`: the list is known to have changed, so cached pages must not be reused.
        """
        url = f"{self.base}/paper/{_quote_id(paper_id)}/citations"
        listing = Listing()
        offset = 0
        while True:
            limit = min(PAGE_LIMIT, OFFSET_CAP - 1 - offset)
            if limit <= 0:
                listing.capped = True
                listing.note = (
                    f"Semantic Scholar lists at most {OFFSET_CAP - 1:,} citations of a paper; "
                    f"{len(listing.items):,} collected for {paper_id}, more exist."
                )
                break
            page = self.http.get_json(
                SOURCE,
                "citations",
                url,
                {"fields": CITATION_FIELDS, "offset": offset, "limit": limit},
                ttl=LIST_TTL,
                fresh=fresh,
                valid=_is_page,
            )
            for row in page["data"]:
                citation = parse_citation(row, paper_id)
                if citation is not None:
                    listing.items.append(citation)
            nxt = page.get("next")
            if not isinstance(nxt, int) or nxt <= offset:
                break  # `next` is absent on the last page
            offset = nxt
        return listing

    def snippets(
        self,
        query: str,
        *,
        fields_of_study: list[str] | None = None,
        year: str | None = None,
        paper_ids: list[str] | None = None,
        limit: int = SNIPPET_LIMIT,
    ) -> list[Snippet]:
        """Full-text passages matching `query` (no paging: at most 1000)."""
        params: dict[str, Any] = {"query": query, "limit": min(limit, SNIPPET_LIMIT)}
        if fields_of_study:
            params["fieldsOfStudy"] = ",".join(fields_of_study)
        if year:
            params["year"] = year
        if paper_ids:
            params["paperIds"] = ",".join(paper_ids)
        data = self.http.get_json(
            SOURCE, "snippets", f"{self.base}/snippet/search", params, ttl=LIST_TTL
        )
        rows = data.get("data") if isinstance(data, dict) else None
        out = []
        for row in rows or []:
            snippet = parse_snippet(row, query)
            if snippet is not None:
                out.append(snippet)
        return out


# -- parsing (pure functions, tested on recorded bodies) --------------------------------------


def parse_paper(data: dict[str, Any]) -> Work:
    ext = data.get("externalIds") or {}
    corpus = data.get("corpusId") if data.get("corpusId") is not None else ext.get("CorpusId")
    venue = data.get("venue") or (data.get("publicationVenue") or {}).get("name")
    if not venue:
        venue = (data.get("journal") or {}).get("name")
    fields: list[str] = []
    for name in data.get("fieldsOfStudy") or []:
        if isinstance(name, str):
            fields.append(name)
    for item in data.get("s2FieldsOfStudy") or []:
        if isinstance(item, dict) and isinstance(item.get("category"), str):
            fields.append(item["category"])
    authors = []
    for position, raw in enumerate(data.get("authors") or []):
        if isinstance(raw, dict):
            affiliations = [a for a in raw.get("affiliations") or [] if isinstance(a, str) and a]
            authors.append(
                Author(
                    name=str(raw.get("name") or ""),
                    position=position,
                    s2_author_id=raw.get("authorId"),
                    raw_affiliations=affiliations,
                )
            )
        elif isinstance(raw, str):
            authors.append(Author(name=raw, position=position))
    return Work(
        source=SOURCE,
        title=data.get("title"),
        year=_int(data.get("year")),
        publication_date=data.get("publicationDate"),
        venue=venue or None,
        abstract=data.get("abstract"),
        doi=normalize_doi(ext.get("DOI")),
        arxiv_id=normalize_arxiv(ext.get("ArXiv")),
        s2_paper_id=data.get("paperId"),
        corpus_id=_int(corpus),
        fields_of_study=list(dict.fromkeys(fields)),
        authors=authors,
        citation_count=_int(data.get("citationCount")),
        url=data.get("url"),
    )


def parse_citation(row: dict[str, Any], cited: str) -> Citation | None:
    if not isinstance(row, dict):
        return None  # a body of the wrong shape: skip the row rather than fail the listing
    paper = row.get("citingPaper")
    if not isinstance(paper, dict) or not (paper.get("paperId") or paper.get("title")):
        return None  # S2 lists citing papers it cannot resolve as {"paperId": null}
    intents = [i for i in row.get("intents") or [] if isinstance(i, str)]
    contexts = [c for c in row.get("contexts") or [] if isinstance(c, str)]
    for item in row.get("contextsWithIntent") or []:
        # `intents` is sometimes null where the per-context intents are filled in.
        if isinstance(item, dict):
            intents.extend(i for i in item.get("intents") or [] if isinstance(i, str))
            context = item.get("context")
            if isinstance(context, str) and context not in contexts:
                contexts.append(context)
    influential = row.get("isInfluential")
    return Citation(
        citing=parse_paper(paper),
        cited=cited,
        contexts=contexts,
        intents=list(dict.fromkeys(intents)),
        is_influential=influential if isinstance(influential, bool) else None,
    )


def parse_snippet(row: dict[str, Any], query: str) -> Snippet | None:
    snippet = row.get("snippet") if isinstance(row, dict) else None
    text = snippet.get("text") if isinstance(snippet, dict) else None
    if not isinstance(snippet, dict) or not isinstance(text, str):
        return None
    paper = row.get("paper")
    if not isinstance(paper, dict):
        paper = {}
    refs: list[int] = []
    for mention in (snippet.get("annotations") or {}).get("refMentions") or []:
        corpus = _int((mention or {}).get("matchedPaperCorpusId"))
        if corpus is not None and corpus not in refs:
            refs.append(corpus)
    names = [a for a in paper.get("authors") or [] if isinstance(a, str)]
    work = Work(
        source=SOURCE,
        title=paper.get("title"),
        corpus_id=_int(paper.get("corpusId")),
        authors=[Author(name=n, position=i) for i, n in enumerate(names)],
    )
    score = row.get("score")
    return Snippet(
        paper=work,
        text=text,
        query=query,
        section=snippet.get("section"),
        kind=snippet.get("snippetKind"),
        score=float(score) if isinstance(score, int | float) else None,
        ref_corpus_ids=refs,
    )


def _is_batch(body: Any) -> bool:
    """A batch answer: a list, one entry (or null) per id asked for."""
    return isinstance(body, list)


def _is_page(body: Any) -> bool:
    """A citations page: {"data": [...]} (and `next` unless it is the last)."""
    return isinstance(body, dict) and isinstance(body.get("data"), list)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _quote_id(paper_id: str) -> str:
    # DOIs hold slashes, which S2 takes as they are; anything else is escaped.
    return quote(paper_id.strip(), safe=":/")
