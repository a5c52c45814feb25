"""Semantic Scholar Graph API: papers, citations, batch lookups, snippet search.

Talks to the API directly through the shared HttpClient (which adds `x-api-key` to every call,
paged ones included). Limits, from the API documentation: citations come 1000 per page at most
and `offset + limit` must stay below 10,000, so no more than 9,999 citations of one paper can be
listed; batch lookups take 500 ids; snippet search returns at most 1000 passages, unpaged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

from tracer.errors import NotFoundError
from tracer.http import LIST_TTL, NO_STORE, RECORD_TTL, HttpClient
from tracer.http.policy import SourcePolicy, register_policy
from tracer.merge import same_title
from tracer.records import Author, Citation, Listing, Snippet, Work
from tracer.sources import chunked, normalize_arxiv, normalize_doi
from tracer.sources.base import Found, ListRead, Origin, PaperRef, Passage, Source, Target

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

    def papers(self, ids: list[str], *, fresh: bool = False) -> list[Work | None]:
        """Many papers, 500 per POST /paper/batch; None where S2 knows no such id.

        `fresh`: ask S2, not the cache (a stored id has died: the old record is no use)."""
        out: list[Work | None] = []
        for chunk in chunked(ids, BATCH_LIMIT):
            data = self.http.post_json(
                SOURCE,
                "batch",
                f"{self.base}/paper/batch",
                {"fields": PAPER_FIELDS},
                {"ids": chunk},
                ttl=NO_STORE if fresh else RECORD_TTL,
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


    def match_title(self, title: str, year: int | None = None) -> Work | None:
        """The paper with exactly this title (case, accents and punctuation aside) and, when a
        year is given, a year within one of it; None when S2 has no such paper.

        `/paper/search/match` answers with its single closest title, whatever it is, and 404
        ("Title match not found") when nothing is close: the answer is checked, not trusted.
        """
        from tracer.sources.titles import same_title, search_words, year_close

        query = search_words(title)
        if not query:
            return None
        params: dict[str, Any] = {"query": query, "fields": PAPER_FIELDS}
        if year is not None:
            params["year"] = f"{year - 1}-{year + 1}"
        try:
            data = self.http.get_json(
                SOURCE, "match", f"{self.base}/paper/search/match", params, ttl=RECORD_TTL
            )
        except NotFoundError:
            return None
        rows = data.get("data") if isinstance(data, dict) else None
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict):
                continue
            work = parse_paper(row)
            if same_title(title, work.title) and year_close(year, work.year):
                return work
        return None

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
    with_intents: list[tuple[str, list[str]]] = []
    for item in row.get("contextsWithIntent") or []:
        # `intents` is sometimes null where the per-context intents are filled in.
        if isinstance(item, dict):
            own = [i for i in item.get("intents") or [] if isinstance(i, str)]
            intents.extend(own)
            context = item.get("context")
            if isinstance(context, str):
                with_intents.append((context, own))
                if context not in contexts:
                    contexts.append(context)
    influential = row.get("isInfluential")
    return Citation(
        citing=parse_paper(paper),
        cited=cited,
        contexts=contexts,
        intents=list(dict.fromkeys(intents)),
        is_influential=influential if isinstance(influential, bool) else None,
        contexts_with_intents=with_intents,
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


# -- the source behind the scanner's interface -----------------------------------------------


class SemanticScholarSource(Source):
    """Citations with their contexts and intents, full-text mentions, records by batch."""

    name = SOURCE
    policy = POLICY
    label = "Semantic Scholar"
    authors_rank = 1
    merged_titles = True  # S2 keeps one record for a paper's preprint and proceedings versions

    def __init__(self, http: HttpClient) -> None:
        super().__init__(http)
        self.client = SemanticScholar(http)

    def resolve(self, origins: list[Origin]) -> None:
        """Each origin by its catalog ids in turn (CorpusId, DOI, arXiv): an id that S2 does not
        know, or that names a paper of another title, gives way to the next."""
        hits = self._cache_hits()
        self._resolve(origins, fresh=False)
        if self._cache_hits() == hits:
            return  # the records came from S2 just now: their counts are fresh
        # Records served from the cache carry old counts, and the counts decide what to read;
        # an id that answers no count has died since (S2 merges records): resolve it afresh.
        ids = sorted({o.ids[self.name][0] for o in origins if self.name in o.ids})
        now = self.counts(ids) if ids else {}
        dead = []
        for origin in origins:
            if self.name in origin.ids:
                key = origin.ids[self.name][0]
                origin.counts[self.name] = {key: now.get(key)}
                if now.get(key) is None:
                    del origin.ids[self.name], origin.counts[self.name]
                    dead.append(origin)
        if dead:
            self._resolve(dead, fresh=True)

    def _resolve(self, origins: list[Origin], *, fresh: bool) -> None:
        """By the catalog's ids in turn, then, for an origin none of them finds, by its exact
        title and year (S2's title match)."""
        pending = [(o, o.paper.s2_ids()) for o in origins if o.paper.s2_ids()]
        unfound = [o for o in origins if not o.paper.s2_ids()]
        while pending:
            found = self.client.papers([ids[0] for _, ids in pending], fresh=fresh)
            retry = []
            for (origin, ids), work in zip(pending, found, strict=True):
                if work is not None and work.s2_paper_id and _is_origin(work, origin):
                    self._found(origin, work)
                elif len(ids) > 1:
                    retry.append((origin, ids[1:]))
                else:
                    unfound.append(origin)
            pending = retry
        for origin in unfound:
            work = self.client.match_title(origin.paper.title, origin.paper.year)
            if work is not None and work.s2_paper_id:
                self._found(origin, work)
                origin.found_by_title.add(self.name)

    def _found(self, origin: Origin, work: Work) -> None:
        assert work.s2_paper_id is not None
        origin.ids[self.name] = [work.s2_paper_id] + (
            [f"CorpusId:{work.corpus_id}"] if work.corpus_id is not None else []
        )
        origin.counts[self.name] = {work.s2_paper_id: work.citation_count}

    def counts(self, ids: list[str]) -> dict[str, int | None]:
        return self.client.citation_counts(ids)

    def targets(self, origins: list[Origin]) -> list[Target]:
        by_id: dict[tuple[str, str | None], Target] = {}
        for origin in origins:
            ids = origin.ids.get(self.name)
            if not ids:
                continue
            key = (ids[0], origin.via_derivative)
            target = by_id.setdefault(key, Target(ids[0], [ids[0]], [], origin.via_derivative))
            target.origins.append(origin)
        return list(by_id.values())

    def read(self, target: Target, *, since: int | None, fresh: bool) -> ListRead:
        listing = self.client.citations(target.key, fresh=fresh)
        rows = [
            Found(
                work=c.citing,
                passages=[Passage(text, list(intents)) for text, intents in c.contexts_with_intents]
                or [Passage(text, list(c.intents)) for text in c.contexts],
                is_influential=c.is_influential,
            )
            for c in listing.items
        ]
        read = ListRead(rows, {})
        counts = [o.counts.get(self.name, {}).get(target.key) for o in target.origins]
        read.total = listing.total if listing.total is not None else next(
            (n for n in counts if n is not None), None
        )
        read.capped, read.note = listing.capped, listing.note
        return read

    def mentions(
        self,
        phrase: str,
        origins: list[Origin],
        *,
        fields_of_study: Sequence[str],
        since: int | None,
    ) -> ListRead | None:
        corpus_ids = {
            int(i.removeprefix("CorpusId:"))
            for o in origins
            for i in o.ids.get(self.name, [])
            if i.startswith("CorpusId:")
        }
        snippets = self.client.snippets(
            phrase, fields_of_study=list(fields_of_study), year=f"{since}-" if since else None
        )
        rows = [
            Found(
                work=s.paper,
                passages=[Passage(s.text, section=s.section, kind=s.kind)],
                cites_origin=bool(corpus_ids & set(s.ref_corpus_ids)),
            )
            for s in snippets
        ]
        read = ListRead(rows, {"since": since} if since else {})
        if len(snippets) >= SNIPPET_LIMIT:
            read.capped = True
            read.note = f"snippet search returns at most {SNIPPET_LIMIT:,} passages"
        return read

    def wants(self, paper: PaperRef) -> bool:
        """Mention hits come with little more than an id, and citers that OpenAlex could not
        enrich have no affiliations: S2's batch records bring both."""
        has_id = paper.s2_paper_id is not None or paper.corpus_id is not None
        incomplete = paper.year is None or (paper.doi is None and paper.arxiv_id is None)
        return has_id and (incomplete or not paper.has_affiliations)

    def lookup(self, papers: list[PaperRef]) -> Iterator[tuple[int, Work]]:
        for batch in chunked(papers, BATCH_LIMIT):
            ids = [p.s2_paper_id or f"CorpusId:{p.corpus_id}" for p in batch]
            for paper, work in zip(batch, self.client.papers(ids), strict=True):
                if work is not None:
                    yield paper.paper_id, work

    def _cache_hits(self) -> int:
        return sum(n for (name, _), n in self.http.cache_hits.items() if name == self.name)


def _is_origin(work: Work, origin: Origin) -> bool:
    """A record found by an origin's id is that paper only if the titles agree: a wrong id in a
    catalog must not silently stand for another paper."""
    return same_title(work.title, origin.paper.title) or not work.title
