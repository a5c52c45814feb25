"""OpenAlex: works by id or DOI, works citing a set of works, institutions, citation counts.

Facts this module rests on: single-record lookups (/works/W.., /works/doi:..) are free, list
calls cost from a daily allowance (small without a key, `api_key` added by the HttpClient; a 429
says it is spent); an OR filter takes at most 100 values and the URL must stay under 4,096
characters; `per_page` is at most 100; with a key paging is by cursor (`cursor=*`, then
`meta.next_cursor`, which still follows the last page: stop at `meta.count`), without one by
`page=` (reported to need no key; `page * per_page` may not pass 10,000); `select=` takes
top-level fields only; list answers cut authorships at 100 (`is_authors_truncated`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from tracer.errors import BudgetExhausted, NotFoundError, SourceError
from tracer.http import LIST_TTL, NO_STORE, RECORD_TTL, HttpClient
from tracer.http.policy import SourcePolicy, register_policy
from tracer.merge import canonical_ids
from tracer.records import Author, SourceInstitution, Work, WorkStream
from tracer.sources import chunked, normalize_arxiv, normalize_doi, short_openalex_id, short_ror
from tracer.sources.base import Found, ListRead, Origin, PaperRef, Source, Target
from tracer.sources.rows import (
    BadRow,
    dict_list,
    opt_bool,
    opt_dict,
    opt_int,
    opt_str,
    skipped_note,
    str_list,
)

SOURCE = "openalex"
# developers.openalex.org (API reference, errors): 403 is "rate limit exceeded, slow down",
# 429 "daily limit exceeded"; a wrong key is a 401, or a 403 whose body names the key. 100
# requests/s for everyone (stay well under); the budget comes back in X-RateLimit-* headers.
POLICY = register_policy(
    SourcePolicy(
        name=SOURCE,
        label="OpenAlex",
        key_setting="openalex_api_key",
        key_param="api_key",
        interval_with_key=0.1,
        interval_without_key=0.1,
        auth_statuses=frozenset({401}),
        slow_down_statuses=frozenset({403}),
        budget_statuses=frozenset({429}),
        key_words=("api_key", "api key", "apikey"),
        key_hint="Check the key in OPENALEX_API_KEY (or `tracer config set openalex_api_key "
        "...`); a free key comes from https://openalex.org/settings/api.",
        budget_hint="Without a key OpenAlex allows about 100 list calls a day; a free key "
        "(https://openalex.org/settings/api) allows about 10,000.",
        budget_headers=(
            ("X-RateLimit-Limit", "limit"),
            ("X-RateLimit-Remaining", "remaining"),
            ("X-RateLimit-Credits-Used", "credits_used"),
            ("X-RateLimit-Reset", "reset"),
        ),
    )
)
PER_PAGE = 100
MAX_OR_VALUES = 100
MAX_URL = 4096
URL_MARGIN = 200  # room for cursor, api_key and select beside the filter
WORK_FIELDS = (
    "id,doi,title,display_name,publication_year,publication_date,ids,primary_location,"
    "locations,authorships,cited_by_count,abstract_inverted_index,type"
)
LIST_AUTHORSHIP_CUT = 100
T = TypeVar("T")
BASIC_PAGING_LIMIT = 10_000  # page * per_page may not pass this (page paging, without a key)
EXTRA_PAGES = 2  # pages past what meta.count allows before the listing is taken for a loop


class OpenAlex:
    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self.base = http.settings.openalex_api_url.rstrip("/")

    @property
    def has_key(self) -> bool:
        return bool(self.http.settings.openalex_api_key)

    def work(self, id_or_doi: str) -> Work | None:
        """One work by OpenAlex id ("W123", URL) or DOI (bare, "doi:", URL); None if unknown."""
        doi = normalize_doi(id_or_doi)
        ref = f"doi:{doi}" if doi else (short_openalex_id(id_or_doi) or id_or_doi)
        try:
            data = self.http.get_json(
                SOURCE, "work", f"{self.base}/works/{quote(ref, safe=':/')}", ttl=RECORD_TTL
            )
        except NotFoundError:
            return None
        return _or_none(parse_work, data)

    def works_by_doi(self, dois: list[str]) -> list[Work]:
        """Works for many DOIs: batched `doi:` filters with a key, single lookups without."""
        clean = list(dict.fromkeys(d for d in (normalize_doi(x) for x in dois) if d))
        # A comma or bar inside a DOI would break the filter syntax: look those up one by one.
        odd = [d for d in clean if "," in d or "|" in d]
        singles = clean if not self.has_key else odd
        out = [w for w in (self.work(f"doi:{d}") for d in singles) if w is not None]
        if not self.has_key:
            return out
        plain = [d for d in clean if d not in set(odd)]
        for batch in self._or_batches("doi", plain, extra={"select": WORK_FIELDS}):
            stream = WorkStream(lambda _: iter(()))
            out.extend(self._list(stream, "works_by_doi", f"doi:{batch}"))
        return out

    def citing_works(
        self, openalex_ids: list[str], *, fresh: bool = False, since: int | date | None = None
    ) -> WorkStream:
        """Works citing any of the given works (every version of an origin paper), deduplicated,
        as they page in. The stream's `total` is the list's own `meta.count` (distinct citers,
        summed over the OR batches when there are more than 100 ids), `capped` whether paging
        without a key stopped at 10,000, `skipped` the rows of the wrong shape.

        `fresh`: the list is known to have changed, so cached pages must not be reused.
        `since`: only works published from that year, or that day, on (`from_publication_date`).
        A 404, a repeating cursor or pages past the count raise SourceError; a spent daily
        budget (429) propagates as the HttpClient raises it.
        """
        ids = list(dict.fromkeys(i for i in (short_openalex_id(x) for x in openalex_ids) if i))
        after = f",from_publication_date:{_first_day(since)}" if since is not None else ""

        def pages(stream: WorkStream) -> Iterator[Work]:
            seen: set[str] = set()
            for batch in self._or_batches("cites", ids, extra={"select": WORK_FIELDS}):
                for work in self._list(stream, "citing_works", f"cites:{batch}{after}", fresh):
                    key = work.openalex_id or ""
                    if key and key in seen:
                        continue
                    seen.add(key)
                    yield work
            if stream.skipped:
                stream.add_note(
                    skipped_note(stream.skipped, "OpenAlex", "citing works", stream.bad_fields)
                )

        return WorkStream(pages)

    def cited_by_counts(self, openalex_ids: list[str]) -> dict[str, int]:
        """cited_by_count per work, fresh from the source (change detection). Without a key,
        from single records, which cost nothing, so the small list budget is kept for lists."""
        ids = list(dict.fromkeys(i for i in (short_openalex_id(x) for x in openalex_ids) if i))
        counts: dict[str, int] = {}
        if not self.has_key:
            for wid in ids:
                try:
                    data = self.http.get_json(
                        SOURCE,
                        "counts",
                        f"{self.base}/works/{quote(wid, safe='')}",
                        {"select": "id,cited_by_count"},
                        ttl=NO_STORE,
                    )
                except NotFoundError:
                    continue
                count = data.get("cited_by_count") if isinstance(data, dict) else None
                if isinstance(count, int) and not isinstance(count, bool):
                    counts[wid] = count
            return counts
        for batch in self._or_batches("openalex", ids, extra={"select": "id,cited_by_count"}):
            params = {
                "filter": f"openalex:{batch}",
                "select": "id,cited_by_count",
                "per_page": PER_PAGE,
            }
            try:
                data = self.http.get_json(
                    SOURCE, "counts", f"{self.base}/works", params, ttl=NO_STORE
                )
            except NotFoundError as exc:
                raise _list_failed("citation count", exc) from None
            rows = data.get("results") if isinstance(data, dict) else None
            for row in rows if isinstance(rows, list) else []:
                if not isinstance(row, dict):
                    continue
                listed, count = row.get("id"), row.get("cited_by_count")
                if (
                    isinstance(listed, str)
                    and isinstance(count, int)
                    and not isinstance(count, bool)
                ):
                    short = short_openalex_id(listed)
                    if short:
                        counts[short] = count
        return counts

    def institution(self, openalex_id: str) -> SourceInstitution | None:
        ref = short_openalex_id(openalex_id) or openalex_id
        try:
            data = self.http.get_json(
                SOURCE,
                "institution",
                f"{self.base}/institutions/{quote(ref, safe=':/')}",
                ttl=RECORD_TTL,
            )
        except NotFoundError:
            return None
        return _or_none(parse_institution, data)

    # -- paging and batching ----------------------------------------------------------------

    def _list(
        self, stream: WorkStream, endpoint: str, filter_: str, fresh: bool = False
    ) -> Iterator[Work]:
        """One filter's works: by cursor with a key, by page number without; ends at
        `meta.count` rather than paying for the empty page after the last."""
        keyed = self.has_key
        cursor: str | None = "*"
        page_no, fetched, count = 1, 0, None
        cursors: set[str] = set()
        while True:
            params: dict[str, Any] = {
                "filter": filter_,
                "select": WORK_FIELDS,
                "per_page": PER_PAGE,
            }
            if keyed:
                params["cursor"] = cursor
            else:
                params["page"] = page_no
            try:
                data = self.http.get_json(
                    SOURCE,
                    endpoint,
                    f"{self.base}/works",
                    params,
                    ttl=LIST_TTL,
                    fresh=fresh,
                    valid=_is_page,
                )
            except NotFoundError as exc:
                raise _list_failed("works", exc) from None
            meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
            listed = meta.get("count")
            if count is None and isinstance(listed, int) and not isinstance(listed, bool):
                count = listed
                stream.total = (stream.total or 0) + listed
            results = data["results"]
            fetched += len(results)
            stream.fetched += len(results)
            if count is not None and fetched > count + EXTRA_PAGES * PER_PAGE:
                raise _loop(f"sent {fetched:,} rows for a list of {count:,}", filter_)
            for row in results:
                work = self._row(stream, row)
                if work is not None:
                    yield work
            nxt = meta.get("next_cursor") if keyed else None
            if isinstance(nxt, str) and (nxt in cursors or nxt == cursor):
                # Checked before the count: a page served twice must not pass for the rest.
                raise _loop(f"handed back the cursor {nxt[:40]!r} a second time", filter_)
            if not results or (count is not None and fetched >= count):
                return
            if keyed:
                if not isinstance(nxt, str) or not nxt:
                    return  # the cursor ended (early, if fetched < count: the total says so)
                cursors.add(nxt)
                cursor = nxt
            else:
                if (page_no + 1) * PER_PAGE > BASIC_PAGING_LIMIT:
                    stream.capped = True
                    read = f"{fetched:,} of {count:,}" if count is not None else f"{fetched:,}"
                    stream.add_note(
                        f"OpenAlex pages a list to {BASIC_PAGING_LIMIT:,} works without an API "
                        f"key; {read} read. Set OPENALEX_API_KEY to read the rest."
                    )
                    return
                page_no += 1

    @staticmethod
    def _row(stream: WorkStream, row: Any) -> Work | None:
        try:
            if not isinstance(row, dict):
                raise BadRow("results[]", row)
            return parse_work(row, listed=True)
        except BadRow as exc:
            stream.skipped += 1
            stream.bad_fields.append(exc.field)
            return None

    def _or_batches(self, key: str, values: list[str], extra: dict[str, str]) -> Iterator[str]:
        """Join values with "|" in groups of at most 100 whose URL stays under 4,096 chars."""
        fixed = len(f"{self.base}/works?") + len(urlencode(extra)) + URL_MARGIN
        batch: list[str] = []
        for value in values:
            trial = batch + [value]
            encoded = len(urlencode({"filter": f"{key}:" + "|".join(trial)}))
            if batch and (len(trial) > MAX_OR_VALUES or fixed + encoded >= MAX_URL):
                yield "|".join(batch)
                batch = [value]
            else:
                batch = trial
        if batch:
            yield "|".join(batch)


    def works_by_title(self, title: str, year: int | None = None) -> list[Work]:
        """Works with exactly this title (case, accents and punctuation aside) and, when a year
        is given, a year within one of it: often several, as OpenAlex keeps the arXiv and the
        proceedings versions apart. One list call (`title.search` filter, first page only).

        The search stems words and drops stop words, so its hits are checked against the title.
        """
        from tracer.sources.titles import same_title, search_words, year_close

        words = search_words(title)
        if not words:
            return []
        filter_ = f"title.search:{words}"
        if year is not None:
            filter_ += (
                f",from_publication_date:{year - 1}-01-01,to_publication_date:{year + 1}-12-31"
            )
        params = {"filter": filter_, "select": WORK_FIELDS, "per_page": 25}
        data = self.http.get_json(
            SOURCE, "works_by_title", f"{self.base}/works", params, ttl=LIST_TTL, valid=_is_page
        )
        out = []
        skipped = WorkStream(lambda _: iter(()))  # rows of the wrong shape are left out
        for row in data["results"]:
            work = self._row(skipped, row)
            if work is not None and same_title(title, work.title) and year_close(year, work.year):
                out.append(work)
        return out

# -- parsing (pure functions, tested on recorded bodies) --------------------------------------


def _is_page(body: Any) -> bool:
    """A list page: {"meta": {...}, "results": [...]}."""
    return isinstance(body, dict) and isinstance(body.get("results"), list)


def _loop(what: str, filter_: str) -> SourceError:
    return SourceError(
        f"OpenAlex {what} while listing {filter_[:80]}; the listing was stopped.", source=SOURCE
    )


def _list_failed(what: str, exc: NotFoundError) -> SourceError:
    """A 404 from a list call fails that step of the run; it is not a missing record."""
    return SourceError(
        f"{exc.message.rstrip('.')}; the {what} list could not be read.", source=SOURCE, status=404
    )


def _or_none(parse: Callable[[dict[str, Any]], T], data: Any) -> T | None:
    """A single record, or None when it is not one (wrong shape, a field of the wrong type)."""
    if not isinstance(data, dict):
        return None
    try:
        return parse(data)
    except BadRow:
        return None


# -- parsing (pure functions, tested on recorded bodies) --------------------------------------
# Each raises BadRow for a field of the wrong type; the caller skips and counts the row.


def parse_work(data: dict[str, Any], *, listed: bool = False) -> Work:
    ids = opt_dict(data, "ids")
    source = opt_dict(opt_dict(data, "primary_location"), "source")
    authorships = dict_list(data, "authorships")
    truncated = bool(opt_bool(data, "is_authors_truncated"))
    if listed and len(authorships) >= LIST_AUTHORSHIP_CUT:
        truncated = True  # lists cut at 100; the single record has them all
    work_id = opt_str(data, "id") or opt_str(ids, "openalex")
    return Work(
        source=SOURCE,
        title=opt_str(data, "title") or opt_str(data, "display_name"),
        year=opt_int(data, "publication_year"),
        publication_date=opt_str(data, "publication_date"),
        venue=opt_str(source, "display_name"),
        abstract=abstract_from_index(data.get("abstract_inverted_index")),
        doi=normalize_doi(opt_str(data, "doi") or opt_str(ids, "doi")),
        arxiv_id=_arxiv_id(data),
        openalex_id=short_openalex_id(work_id),
        authors=[_author(a, i) for i, a in enumerate(authorships)],
        authors_truncated=truncated,
        citation_count=opt_int(data, "cited_by_count"),
        url=opt_str(data, "id"),
    )


def parse_institution(data: dict[str, Any]) -> SourceInstitution:
    lineage = [short_openalex_id(x) for x in str_list(data, "lineage")]
    country = opt_str(data, "country_code")
    return SourceInstitution(
        openalex_id=short_openalex_id(opt_str(data, "id")),
        ror=short_ror(opt_str(data, "ror")),
        display_name=opt_str(data, "display_name"),
        country_code=country.upper() if country else None,
        type=opt_str(data, "type"),
        lineage=[x for x in lineage if x],
    )


def abstract_from_index(index: Any) -> str | None:
    """OpenAlex ships abstracts as {word: [positions]}; put the words back in order."""
    if index is None:
        return None
    if not isinstance(index, dict):
        raise BadRow("abstract_inverted_index", index)
    slots: dict[int, str] = {}
    for word, positions in index.items():
        if not isinstance(positions, list):
            raise BadRow("abstract_inverted_index", positions)
        for pos in positions:
            if isinstance(pos, int) and not isinstance(pos, bool):
                slots[pos] = word
            elif pos is not None:
                raise BadRow("abstract_inverted_index", pos)
    return " ".join(slots[i] for i in sorted(slots)) or None


def _author(data: dict[str, Any], position: int) -> Author:
    person = opt_dict(data, "author")
    raw = [s for s in str_list(data, "raw_affiliation_strings") if s]
    institutions = [parse_institution(i) for i in dict_list(data, "institutions")]
    countries = [c.upper() for c in str_list(data, "countries")]
    return Author(
        name=opt_str(person, "display_name") or opt_str(data, "raw_author_name") or "",
        position=position,
        openalex_author_id=short_openalex_id(opt_str(person, "id")),
        raw_affiliations=raw,
        institutions=institutions,
        countries=countries,
    )


def _arxiv_id(data: dict[str, Any]) -> str | None:
    """arXiv ids hide in a 10.48550 DOI or in an arxiv.org location."""
    doi = normalize_doi(opt_str(data, "doi")) or ""
    if doi.startswith("10.48550/arxiv."):
        return normalize_arxiv(doi.removeprefix("10.48550/arxiv."))
    for loc in dict_list(data, "locations"):
        for url in (opt_str(loc, "landing_page_url"), opt_str(loc, "pdf_url")):
            if url and "arxiv.org/" in url:
                tail = url.split("arxiv.org/", 1)[1]
                if tail.startswith(("abs/", "pdf/")):
                    return normalize_arxiv(tail[4:])
        loc_doi = normalize_doi(opt_str(loc, "doi"))
        if loc_doi and loc_doi.startswith("10.48550/arxiv."):
            return normalize_arxiv(loc_doi.removeprefix("10.48550/arxiv."))
    return None


# -- the source behind the scanner's interface -----------------------------------------------


class OpenAlexSource(Source):
    """Citing works over every version of an origin, and authorships with institutions.

    Without a key OpenAlex still answers a small daily budget of list calls (page paging):
    lists are read within it, and once it is spent (429) the step ends with a sentence saying
    when to try again, and papers are looked up one by one, which costs nothing."""

    name = SOURCE
    policy = POLICY
    label = "OpenAlex"
    authors_rank = 2  # institutions with ROR ids and countries: its authorships win
    filters_by_year = True  # from_publication_date

    def __init__(self, http: HttpClient) -> None:
        super().__init__(http)
        self.client = OpenAlex(http)
        self.budget_spent = False

    def notes(self) -> list[str]:
        if self.client.has_key:
            return []
        return [
            "No OpenAlex key: OpenAlex allows a small daily budget of list calls without one "
            "(about 100), so long citation lists are read over several days; set "
            "OPENALEX_API_KEY (free) to read them at once."
        ]

    def resolve(self, origins: list[Origin]) -> None:
        """Origins by their DOIs (the arXiv DOI included) and any W id the catalog gives."""
        dois = [d for o in origins for d in o.paper.dois()]
        hits = self._cache_hits()
        works = self.client.works_by_doi(dois) if dois else []
        by_doi: dict[str, Work] = {}
        counts: dict[str, int | None] = {}
        for work in works:
            raw_doi = work.doi
            canonical_ids(work)
            if work.openalex_id:
                counts[work.openalex_id] = work.citation_count
            for key in (raw_doi, work.doi, work.arxiv_id and f"10.48550/arxiv.{work.arxiv_id}"):
                if key:
                    by_doi[key.lower()] = work
        for origin in origins:
            ids = [origin.paper.openalex] if origin.paper.openalex else []
            for doi in origin.paper.dois():
                match = by_doi.get(doi.lower())
                if match is not None and match.openalex_id and match.openalex_id not in ids:
                    ids.append(match.openalex_id)
            if not ids:
                # No DOI, or none OpenAlex knows: every version with its exact title and year.
                for work in self.client.works_by_title(origin.paper.title, origin.paper.year):
                    if not origin.by_its_creators(work):
                        continue
                    if work.openalex_id and work.openalex_id not in ids:
                        ids.append(work.openalex_id)
                        counts[work.openalex_id] = work.citation_count
                if ids:
                    origin.found_by_title.add(self.name)
            if ids:
                origin.ids[self.name] = ids
        every = sorted({i for o in origins for i in o.ids.get(self.name, [])})
        if every and (self._cache_hits() != hits or not set(every) <= set(counts)):
            counts = dict(self.counts(every))
        for origin in origins:
            ids = origin.ids.get(self.name, [])
            origin.counts[self.name] = {i: counts.get(i) for i in ids}

    def counts(self, ids: list[str]) -> dict[str, int | None]:
        return dict(self.client.cited_by_counts(ids))

    def targets(self, origins: list[Origin]) -> list[Target]:
        """One `cites:` list for every version of every origin of a dataset (and one per
        derivative): OpenAlex counts a work citing two versions once."""
        groups: dict[str | None, list[Origin]] = {}
        for origin in origins:
            if origin.ids.get(self.name):
                groups.setdefault(origin.via_derivative, []).append(origin)
        targets = []
        for via, group in groups.items():
            ids = sorted({i for o in group for i in o.ids[self.name]})
            targets.append(Target("|".join(ids), ids, group, via))
        return targets

    def read(self, target: Target, *, since: int | date | None, fresh: bool) -> ListRead:
        works = self.client.citing_works(target.ids, fresh=fresh, since=since)

        def end(read: ListRead) -> None:
            # The list's own meta.count: the distinct citers of every version asked for.
            read.total, read.capped, read.note = works.total, works.capped, works.note
            read.skipped = works.skipped

        rows = (Found(self._full_authors(w), is_record=True) for w in self._guard(works))
        return ListRead(rows, {}, on_end=end)

    def _guard(self, works: Iterable[Work]) -> Iterator[Work]:
        try:
            yield from works
        except BudgetExhausted:
            self.budget_spent = True
            raise

    def wants(self, paper: PaperRef) -> bool:
        return bool(paper.doi or paper.arxiv_id)

    def lookup(self, papers: list[PaperRef]) -> Iterator[tuple[int, Work]]:
        by_doi: dict[str, int] = {}
        for paper in papers:
            doi = paper.doi or (paper.arxiv_id and f"10.48550/arxiv.{paper.arxiv_id}")
            if doi:
                by_doi[doi.lower()] = paper.paper_id
        for batch in chunked(list(by_doi), MAX_OR_VALUES):
            for work in self._works_by_doi(batch):
                raw_doi = (work.doi or "").lower()
                canonical_ids(work)
                paper_id = by_doi.get(raw_doi)
                if paper_id is None and work.arxiv_id:
                    paper_id = by_doi.get(f"10.48550/arxiv.{work.arxiv_id.lower()}")
                if paper_id is not None:
                    yield paper_id, self._full_authors(work)

    def _works_by_doi(self, dois: list[str]) -> list[Work]:
        """In batched list calls while the day's budget lasts, then one free look-up each."""
        if not self.budget_spent:
            try:
                return self.client.works_by_doi(dois)
            except BudgetExhausted:
                self.budget_spent = True
        return [w for w in (self.client.work(f"doi:{d}") for d in dois) if w is not None]

    def _full_authors(self, work: Work) -> Work:
        """A listed work whose authorships OpenAlex cut at 100, looked up whole."""
        if work.authors_truncated and work.openalex_id:
            full = self.client.work(work.openalex_id)
            if full is not None and full.authors:
                return full
        return work

    def _cache_hits(self) -> int:
        return sum(n for (name, _), n in self.http.cache_hits.items() if name == self.name)


def _first_day(since: int | date) -> str:
    """`from_publication_date`'s value: a day as given, a year's first day."""
    return since.isoformat() if isinstance(since, date) else f"{since}-01-01"
