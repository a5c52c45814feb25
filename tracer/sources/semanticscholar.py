"""Semantic Scholar Graph API: papers, citations, batch lookups, snippet search.

Talks to the API directly through the shared HttpClient (which adds `x-api-key` to every call,
paged ones included). Limits, from the API documentation: citations come 1000 per page at most
and `offset + limit` must stay below 10,000, so one query lists 9,999 citations at most; the
`publicationDateOrYear` filter (2026-02 swagger: "2019", "2015:2020", "2020:", ":2014", dates
and month prefixes too) slices longer lists by year; citing papers' authors carry id and name
only (affiliations come from /paper/batch); batch lookups take 500 ids; snippet search returns at
most 1000 passages, unpaged. Citation pages hold rows with "paperId": null (a title only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

from tracer.errors import NotFoundError, SourceError
from tracer.http import LIST_TTL, NO_STORE, RECORD_TTL, HttpClient
from tracer.http.policy import SourcePolicy, register_policy
from tracer.merge import same_title
from tracer.records import Author, Citation, Listing, Snippet, Work
from tracer.sources import chunked, normalize_arxiv, normalize_doi
from tracer.sources.base import Found, ListRead, Origin, PaperRef, Passage, Source, Target
from tracer.sources.rows import (
    BadRow,
    dict_list,
    opt_bool,
    opt_dict,
    opt_float,
    opt_int,
    opt_list,
    opt_str,
    skipped_note,
    str_list,
)

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
LISTABLE = OFFSET_CAP - 1  # so one query lists 9,999 citations at most
BATCH_LIMIT = 500
SNIPPET_LIMIT = 1000
PAGES_PER_QUERY = 3 * -(-LISTABLE // PAGE_LIMIT) + 5  # beyond this a query is going nowhere
MAX_SLICES = 400  # year slices of one list; a century of single years fits
SLICE_SHARE = 3  # a capped range is cut so each part holds at most 1/3 of what was seen
SLICE_FILL = 0.8  # with the list's total known, each part is planned to hold 80% of the cap

PAPER_FIELDS = (
    "paperId,corpusId,externalIds,url,title,year,venue,publicationVenue,publicationDate,"
    "journal,abstract,authors,fieldsOfStudy,s2FieldsOfStudy,citationCount"
)
# Only the paper and batch endpoints give authors' affiliations (FullPaper's Author); citing
# papers are BasePaper, whose AuthorInfo has authorId and name only, and `authors` alone gives
# those two everywhere.
BATCH_FIELDS = PAPER_FIELDS + ",authors.affiliations"
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
                {"fields": BATCH_FIELDS},
                ttl=RECORD_TTL,
            )
        except NotFoundError:
            return None
        return _paper_or_none(data)

    def papers(
        self, ids: list[str], *, affiliations: bool = True, fresh: bool = False
    ) -> list[Work | None]:
        """Many papers, 500 per POST /paper/batch; None where S2 knows no such id (or sent a
        record of the wrong shape). `affiliations`: ask for the authors' affiliations, which
        no other S2 endpoint gives. `fresh`: ask S2, not the cache (a stored id has died)."""
        out: list[Work | None] = []
        for chunk in chunked(ids, BATCH_LIMIT):
            data = self.http.post_json(
                SOURCE,
                "batch",
                f"{self.base}/paper/batch",
                {"fields": BATCH_FIELDS if affiliations else PAPER_FIELDS},
                {"ids": chunk},
                ttl=NO_STORE if fresh else RECORD_TTL,
                valid=_is_batch,
            )
            rows = data if isinstance(data, list) else []
            out.extend(_paper_or_none(row) for row in rows[: len(chunk)])
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

    def citations(
        self,
        paper_id: str,
        *,
        since: int | date | None = None,
        fresh: bool = False,
        expected: int | None = None,
    ) -> Listing:
        """Every citation S2 lists for a paper, with contexts and intents.

        One query lists 9,999 at most; a longer list is read in full through
        `publicationDateOrYear` slices by year (a slice that still passes the cap is cut again,
        down to single years; a single year beyond the cap is reported as capped).
        `since`: only citing papers published in or after that year, or on or after that day,
        filtered by the server (a day's window past the cap is read again from its year on).
        `fresh`: the list is known to have changed, so cached pages must not be reused.
        `expected`: the paper's citationCount, where the caller knows it: the listing's total,
        and the bound past which paging is taken for a loop.
        Rows without a paperId are counted as unresolved; rows with a field of the wrong type
        are skipped and counted. A 404 or a server that pages in circles raises SourceError.
        """
        reading = self.reading(paper_id, since=since, fresh=fresh, expected=expected)
        items = list(reading)
        listing = reading.finish()
        listing.items = items
        return listing

    def reading(
        self,
        paper_id: str,
        *,
        since: int | date | None = None,
        fresh: bool = False,
        expected: int | None = None,
    ) -> _Reading:
        """The list `citations` reads, streamed, so that no list is held whole: iterate the
        reading once for each new citation as its page arrives, then `finish()` gives the
        total, cap, notes and counts (its `items` stay empty). Errors raise from the iteration,
        after the rows of the pages before them."""
        return _Reading(self, paper_id, fresh, expected, since)

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
        try:
            data = self.http.get_json(
                SOURCE, "snippets", f"{self.base}/snippet/search", params, ttl=LIST_TTL
            )
        except NotFoundError as exc:
            raise _list_failed("snippet search", exc) from None
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
            work = _paper_or_none(row)  # a row of the wrong shape is no match
            if work is not None and same_title(title, work.title) and year_close(year, work.year):
                return work
        return None

@dataclass
class _Reading:
    """One paper's citation list, read through as many `publicationDateOrYear` slices as the
    9,999 cap asks for; guards against a server that pages in circles."""

    client: SemanticScholar
    paper_id: str
    fresh: bool
    expected: int | None
    since: int | date | None = None
    listing: Listing = field(init=False)
    seen: set[str] = field(default_factory=set)
    unresolved: set[str] = field(default_factory=set)
    bad_fields: list[str] = field(default_factory=list)
    capped: list[str] = field(default_factory=list)
    queries: int = 0
    rows_read: int = 0
    kept: int = 0  # distinct citations handed over

    def __post_init__(self) -> None:
        self.listing = Listing(total=self.expected)
        self.url = f"{self.client.base}/paper/{_quote_id(self.paper_id)}/citations"

    def __iter__(self) -> Iterator[Citation]:
        """Each new citation (once per paper id) as its page is read."""
        if isinstance(self.since, date):
            yield from self.cover_from(self.since)
        else:
            yield from self.cover(self.since, None)

    def cover_from(self, day: date) -> Iterator[Citation]:
        """Read the citing papers published on or after `day`; past the cap, from its year on
        in year slices (the rows already read are kept once)."""
        spec = f"{day.isoformat()}:"
        self.queries += 1
        complete, _ = yield from self._read(spec, day.year, None)
        if complete:
            self.listing.slices.append(spec)
        else:
            yield from self.cover(day.year, None)

    def cover(self, low: int | None, high: int | None) -> Iterator[Citation]:
        """Read the citing papers published from `low` to `high` (years, None: open)."""
        spec = _year_range(low, high)
        self.queries += 1
        if self.queries > MAX_SLICES:
            raise self._loop(f"needed more than {MAX_SLICES} year slices")
        complete, years = yield from self._read(spec, low, high)
        if complete:
            if spec:
                self.listing.slices.append(spec)
            return
        if (low is not None and low == high) or not years:
            self.capped.append(spec or "")
            return
        first = low if low is not None else min(years)
        last = high if high is not None else max(years)
        # The whole list's size is the paper's citationCount: the years seen in its first
        # 9,999 rows are a sample of it, so each year is planned at its share of that size.
        size = self.expected if low is None and high is None else None
        if low is None:
            yield from self.cover(None, first - 1)
        for part_low, part_high in _cut(first, last, years, size):
            yield from self.cover(part_low, part_high)
        if high is None:
            yield from self.cover(last + 1, None)

    def _read(
        self, spec: str | None, low: int | None, high: int | None
    ) -> Generator[Citation, None, tuple[bool, list[int]]]:
        """Page through one query, yielding each page's new citations once the page is read;
        returns whether it ended before the cap, and the years of its papers."""
        offset, pages = 0, 0
        years: list[int] = []
        while True:
            limit = min(PAGE_LIMIT, LISTABLE - offset)
            if limit <= 0:
                return False, years
            pages += 1
            if pages > PAGES_PER_QUERY:
                raise self._loop(f"sent more than {PAGES_PER_QUERY} pages for one query")
            params: dict[str, Any] = {"fields": CITATION_FIELDS, "offset": offset, "limit": limit}
            if spec:
                params["publicationDateOrYear"] = spec
            try:
                page = self.client.http.get_json(
                    SOURCE,
                    "citations",
                    self.url,
                    params,
                    ttl=LIST_TTL,
                    fresh=self.fresh,
                    valid=_is_page,
                )
            except NotFoundError as exc:
                raise _list_failed("citation", exc) from None
            rows = page["data"]
            self.rows_read += len(rows)
            if self.expected is not None and self.rows_read > 3 * max(self.expected, LISTABLE):
                raise self._loop(f"sent {self.rows_read:,} rows for {self.expected:,} citations")
            new: list[Citation] = []
            for row in rows:
                year = self._take(row, new)
                if year is not None:
                    if (low is not None and year < low - 1) or (
                        high is not None and year > high + 1
                    ):
                        raise self._loop(f"ignored the date filter {spec}")
                    years.append(year)
            self.kept += len(new)
            yield from new
            nxt = page.get("next")
            if nxt is None:
                return True, years
            if not isinstance(nxt, int) or isinstance(nxt, bool):
                raise self._loop(f"sent a `next` of type {type(nxt).__name__}")
            if nxt <= offset:
                raise self._loop(f"repeated the offset {offset:,}")
            if not rows or nxt < offset + len(rows):
                raise self._loop(
                    f"moved `next` on by {nxt - offset:,} after a page of {len(rows):,} rows"
                )
            offset = nxt

    def _take(self, row: Any, new: list[Citation]) -> int | None:
        """Add one row's citation to `new` unless it was seen; the year it counts under for
        the date filter, if any."""
        paper = row.get("citingPaper") if isinstance(row, dict) else None
        if not isinstance(paper, dict):
            self.bad_fields.append("citingPaper")
            return None
        if paper.get("paperId") is None:
            # S2 lists citing papers it cannot resolve with a title only: not papers to store.
            self.unresolved.add(str(paper.get("title")))
            return None
        try:
            citation = parse_citation(row, self.paper_id)
        except BadRow as exc:
            self.bad_fields.append(exc.field)
            return None
        if citation is None or not citation.citing.s2_paper_id:
            return None
        work, pid = citation.citing, citation.citing.s2_paper_id
        if pid not in self.seen:
            self.seen.add(pid)
            new.append(citation)
        day = work.publication_date or ""
        year = int(day[:4]) if day[:4].isdigit() else work.year
        return year if year is not None and 1000 <= year <= 2999 else None  # a filterable year

    def finish(self) -> Listing:
        """What the source said of the list, once it was read through (no items)."""
        listing = self.listing
        listing.unresolved = len(self.unresolved)
        listing.skipped = len(self.bad_fields)
        if self.capped:
            listing.capped = True
            where = ", ".join(_slice_name(s) for s in self.capped)
            listing.add_note(
                f"Semantic Scholar lists at most {LISTABLE:,} citations per query and "
                f"{where} alone holds more; {self.kept:,} collected for "
                f"{self.paper_id}, more exist."
            )
        if self.bad_fields:
            listing.add_note(
                skipped_note(len(self.bad_fields), "Semantic Scholar", "citations", self.bad_fields)
            )
        return listing

    def _loop(self, what: str) -> SourceError:
        return SourceError(
            f"Semantic Scholar {what} while listing the citations of {self.paper_id}; "
            "the listing was stopped.",
            source=SOURCE,
        )


def _year_range(low: int | None, high: int | None) -> str | None:
    """`publicationDateOrYear` for whole years: "2019", "2015:2017", "2020:", ":2014"."""
    if low is None and high is None:
        return None
    if low is not None and low == high:
        return str(low)
    return f"{'' if low is None else low}:{'' if high is None else high}"


def _slice_name(spec: str) -> str:
    if not spec:
        return "the whole list"
    return f"the year {spec}" if ":" not in spec else f"the years {spec}"


def _cut(
    first: int, last: int, years: list[int], size: int | None = None
) -> list[tuple[int, int]]:
    """Split the years first..last, whose query passed the cap, into ranges that each held at
    most a third of the rows seen (at least two ranges; a crowded year stands alone).

    `size`: how many rows the query holds in all, where known. The rows seen are then a sample
    of that many, and each range is planned to hold `SLICE_FILL` of the cap at the sample's
    rate: a third of what was seen would still pass the cap for a list of more than three
    times 9,999, and every slice that passes it costs ten pages read for nothing."""
    counts = Counter(y for y in years if first <= y <= last)
    seen = sum(counts.values())
    target = max(1, seen // SLICE_SHARE)
    if size is not None and size > seen > 0:
        target = max(1, min(target, int(seen * SLICE_FILL * LISTABLE / size)))
    parts: list[tuple[int, int]] = []
    start, held = first, 0
    for year in range(first, last + 1):
        if year > start and held + counts[year] > target:
            parts.append((start, year - 1))
            start, held = year, 0
        held += counts[year]
    parts.append((start, last))
    if len(parts) == 1 and first < last:
        middle = (first + last) // 2
        parts = [(first, middle), (middle + 1, last)]
    return parts


def _list_failed(what: str, exc: NotFoundError) -> SourceError:
    """A 404 from a list endpoint fails that step of the run; it is not a missing record."""
    return SourceError(
        f"{exc.message.rstrip('.')}; the {what} list could not be read.", source=SOURCE, status=404
    )


def _paper_or_none(data: Any) -> Work | None:
    if not isinstance(data, dict):
        return None
    try:
        return parse_paper(data)
    except BadRow:
        return None


# -- parsing (pure functions, tested on recorded bodies) --------------------------------------
# Each raises BadRow for a field of the wrong type; the caller skips and counts the row.


def parse_paper(data: dict[str, Any]) -> Work:
    ext = opt_dict(data, "externalIds")
    corpus = opt_int(data, "corpusId")
    if corpus is None:
        corpus = opt_int(ext, "CorpusId")
    venue = opt_str(data, "venue") or opt_str(opt_dict(data, "publicationVenue"), "name")
    if not venue:
        venue = opt_str(opt_dict(data, "journal"), "name")
    fields: list[str] = list(str_list(data, "fieldsOfStudy"))
    for item in dict_list(data, "s2FieldsOfStudy"):
        category = opt_str(item, "category")
        if category:
            fields.append(category)
    authors = []
    for position, raw in enumerate(opt_list(data, "authors")):
        if isinstance(raw, dict):
            affiliations = [a for a in str_list(raw, "affiliations") if a]
            authors.append(
                Author(
                    name=opt_str(raw, "name") or "",
                    position=position,
                    s2_author_id=opt_str(raw, "authorId"),
                    raw_affiliations=affiliations,
                )
            )
        elif isinstance(raw, str):
            authors.append(Author(name=raw, position=position))
        else:
            raise BadRow("authors[]", raw)
    return Work(
        source=SOURCE,
        title=opt_str(data, "title"),
        year=opt_int(data, "year"),
        publication_date=opt_str(data, "publicationDate"),
        venue=venue or None,
        abstract=opt_str(data, "abstract"),
        doi=normalize_doi(opt_str(ext, "DOI")),
        arxiv_id=normalize_arxiv(opt_str(ext, "ArXiv")),
        s2_paper_id=opt_str(data, "paperId"),
        corpus_id=corpus,
        fields_of_study=list(dict.fromkeys(fields)),
        authors=authors,
        citation_count=opt_int(data, "citationCount"),
        url=opt_str(data, "url"),
    )


def parse_citation(row: dict[str, Any], cited: str) -> Citation | None:
    if not isinstance(row, dict):
        return None  # a body of the wrong shape: skip the row rather than fail the listing
    paper = opt_dict(row, "citingPaper")
    if not (paper.get("paperId") or paper.get("title")):
        return None  # S2 lists citing papers it cannot resolve as {"paperId": null}
    intents = list(str_list(row, "intents"))
    contexts = list(str_list(row, "contexts"))
    with_intents: list[tuple[str, list[str]]] = []
    for item in dict_list(row, "contextsWithIntent"):
        # `intents` is sometimes null where the per-context intents are filled in.
        own = list(str_list(item, "intents"))
        intents.extend(own)
        context = opt_str(item, "context")
        if context is not None:
            with_intents.append((context, own))
            if context not in contexts:
                contexts.append(context)
    return Citation(
        citing=parse_paper(paper),
        cited=cited,
        contexts=contexts,
        intents=list(dict.fromkeys(intents)),
        is_influential=opt_bool(row, "isInfluential"),
        contexts_with_intents=with_intents,
    )


def parse_snippet(row: dict[str, Any], query: str) -> Snippet | None:
    """A passage; None for a row of the wrong shape (snippet search has no count to keep)."""
    try:
        return _parse_snippet(row, query)
    except BadRow:
        return None


def _parse_snippet(row: Any, query: str) -> Snippet | None:
    snippet = row.get("snippet") if isinstance(row, dict) else None
    if not isinstance(snippet, dict):
        return None
    text = opt_str(snippet, "text")
    if text is None:
        return None
    paper = opt_dict(row, "paper")
    refs: list[int] = []
    for mention in dict_list(opt_dict(snippet, "annotations"), "refMentions"):
        corpus = opt_int(mention, "matchedPaperCorpusId")
        if corpus is not None and corpus not in refs:
            refs.append(corpus)
    names = str_list(paper, "authors")
    work = Work(
        source=SOURCE,
        title=opt_str(paper, "title"),
        corpus_id=opt_int(paper, "corpusId"),
        authors=[Author(name=n, position=i) for i, n in enumerate(names)],
    )
    return Snippet(
        paper=work,
        text=text,
        query=query,
        section=opt_str(snippet, "section"),
        kind=opt_str(snippet, "snippetKind"),
        score=opt_float(row, "score"),
        ref_corpus_ids=refs,
    )


def _is_batch(body: Any) -> bool:
    """A batch answer: a list, one entry (or null) per id asked for."""
    return isinstance(body, list)


def _is_page(body: Any) -> bool:
    """A citations page: {"data": [...]} (and `next` unless it is the last)."""
    return isinstance(body, dict) and isinstance(body.get("data"), list)


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
    filters_by_year = True  # publicationDateOrYear

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
            if work is not None and work.s2_paper_id and origin.by_its_creators(work):
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

    def read(self, target: Target, *, since: int | date | None, fresh: bool) -> ListRead:
        counts = [o.counts.get(self.name, {}).get(target.key) for o in target.origins]
        expected = next((n for n in counts if n is not None), None)
        reading = self.client.reading(target.key, since=since, fresh=fresh, expected=expected)

        def end(read: ListRead) -> None:
            listing = reading.finish()
            # S2 counts a paper's citers, not those of one year on: a filtered list has no total.
            read.total = None if since is not None else (
                listing.total if listing.total is not None else expected
            )
            read.capped, read.note = listing.capped, listing.note
            read.unresolved, read.skipped = listing.unresolved, listing.skipped
            if len(listing.slices) > 1:  # past the 9,999 cap: say how the whole list was reached
                sliced = f"read in {len(listing.slices)} year slices ({', '.join(listing.slices)})"
                read.note = f"{read.note} {sliced}" if read.note else sliced

        rows = (
            Found(
                work=c.citing,
                passages=[Passage(text, list(intents)) for text, intents in c.contexts_with_intents]
                or [Passage(text, list(c.intents)) for text in c.contexts],
                is_influential=c.is_influential,
            )
            for c in reading
        )
        read = ListRead(rows, {}, on_end=end)
        read.total_listed = False  # the paper's citationCount, not a count of the list
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
