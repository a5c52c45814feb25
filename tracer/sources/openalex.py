"""OpenAlex: works by id or DOI, works citing a set of works, institutions, citation counts.

Facts this module rests on: single-record lookups (/works/W.., /works/doi:..) are free, list
calls cost credits and want a key (`api_key`, added by the HttpClient); an OR filter takes at most
100 values and the URL must stay under 4,096 characters; `per_page` is at most 100; paging is by
cursor (`cursor=*`, then `meta.next_cursor`); `select=` takes top-level fields only; list answers
cut authorships at 100 (`is_authors_truncated`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

from tracer.errors import NotFoundError
from tracer.http import LIST_TTL, NO_STORE, RECORD_TTL, HttpClient
from tracer.http.policy import SourcePolicy, register_policy
from tracer.merge import canonical_ids
from tracer.records import Author, SourceInstitution, Work
from tracer.sources import chunked, normalize_arxiv, normalize_doi, short_openalex_id, short_ror
from tracer.sources.base import Found, ListRead, Origin, PaperRef, Source, Target

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


class OpenAlex:
    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self.base = http.settings.openalex_api_url.rstrip("/")
        self.totals: dict[str, int] = {}  # filter -> meta.count: what OpenAlex says a list holds

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
        return parse_work(data) if isinstance(data, dict) else None

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
            out.extend(self._list("works_by_doi", f"doi:{batch}", WORK_FIELDS, LIST_TTL))
        return out

    def citing_works(self, openalex_ids: list[str], *, fresh: bool = False) -> Iterator[Work]:
        """Works citing any of the given works (every version of an origin paper), deduplicated.

        `fresh`: the list is known to have changed, so cached pages must not be reused.
        """
        ids = list(dict.fromkeys(i for i in (short_openalex_id(x) for x in openalex_ids) if i))
        seen: set[str] = set()
        for batch in self._or_batches("cites", ids, extra={"select": WORK_FIELDS}):
            pages = self._list("citing_works", f"cites:{batch}", WORK_FIELDS, LIST_TTL, fresh)
            for work in pages:
                key = work.openalex_id or ""
                if key and key in seen:
                    continue
                seen.add(key)
                yield work

    def cited_by_counts(self, openalex_ids: list[str]) -> dict[str, int]:
        """cited_by_count per work, fresh from the source (change detection)."""
        ids = list(dict.fromkeys(i for i in (short_openalex_id(x) for x in openalex_ids) if i))
        counts: dict[str, int] = {}
        for batch in self._or_batches("openalex", ids, extra={"select": "id,cited_by_count"}):
            params = {
                "filter": f"openalex:{batch}",
                "select": "id,cited_by_count",
                "per_page": PER_PAGE,
            }
            data = self.http.get_json(SOURCE, "counts", f"{self.base}/works", params, ttl=NO_STORE)
            rows = data.get("results") if isinstance(data, dict) else None
            for row in rows if isinstance(rows, list) else []:
                if not isinstance(row, dict):
                    continue
                wid = short_openalex_id(row.get("id"))
                if wid and isinstance(row.get("cited_by_count"), int):
                    counts[wid] = row["cited_by_count"]
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
        return parse_institution(data) if isinstance(data, dict) else None

    # -- paging and batching ----------------------------------------------------------------

    def _list(
        self, endpoint: str, filter_: str, select: str, ttl: int | None, fresh: bool = False
    ) -> Iterator[Work]:
        cursor: str | None = "*"
        while cursor:
            params = {"filter": filter_, "select": select, "per_page": PER_PAGE, "cursor": cursor}
            data = self.http.get_json(
                SOURCE, endpoint, f"{self.base}/works", params, ttl=ttl, fresh=fresh, valid=_is_page
            )
            results = data["results"]
            for row in results:
                if isinstance(row, dict):
                    yield parse_work(row, listed=True)
            meta = data.get("meta")
            count = meta.get("count") if isinstance(meta, dict) else None
            if isinstance(count, int) and cursor == "*":
                self.totals[filter_] = count
            nxt = meta.get("next_cursor") if isinstance(meta, dict) else None
            cursor = nxt if isinstance(nxt, str) and nxt and results else None

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
        for row in data["results"]:
            if isinstance(row, dict):
                work = parse_work(row, listed=True)
                if same_title(title, work.title) and year_close(year, work.year):
                    out.append(work)
        return out

# -- parsing (pure functions, tested on recorded bodies) --------------------------------------


def _is_page(body: Any) -> bool:
    """A list page: {"meta": {...}, "results": [...]}."""
    return isinstance(body, dict) and isinstance(body.get("results"), list)


def parse_work(data: dict[str, Any], *, listed: bool = False) -> Work:
    ids = data.get("ids") or {}
    primary = data.get("primary_location") or {}
    venue = (primary.get("source") or {}).get("display_name")
    authorships = [a for a in data.get("authorships") or [] if isinstance(a, dict)]
    truncated = bool(data.get("is_authors_truncated"))
    if listed and len(authorships) >= LIST_AUTHORSHIP_CUT:
        truncated = True  # lists cut at 100; the single record has them all
    year = data.get("publication_year")
    return Work(
        source=SOURCE,
        title=data.get("title") or data.get("display_name"),
        year=year if isinstance(year, int) else None,
        publication_date=data.get("publication_date"),
        venue=venue,
        abstract=abstract_from_index(data.get("abstract_inverted_index")),
        doi=normalize_doi(data.get("doi") or ids.get("doi")),
        arxiv_id=_arxiv_id(data),
        openalex_id=short_openalex_id(data.get("id") or ids.get("openalex")),
        authors=[_author(a, i) for i, a in enumerate(authorships)],
        authors_truncated=truncated,
        citation_count=data.get("cited_by_count")
        if isinstance(data.get("cited_by_count"), int)
        else None,
        url=data.get("id"),
    )


def parse_institution(data: dict[str, Any]) -> SourceInstitution:
    lineage = [short_openalex_id(x) for x in data.get("lineage") or [] if isinstance(x, str)]
    country = data.get("country_code")
    return SourceInstitution(
        openalex_id=short_openalex_id(data.get("id")),
        ror=short_ror(data.get("ror")),
        display_name=data.get("display_name"),
        country_code=country.upper() if isinstance(country, str) else None,
        type=data.get("type"),
        lineage=[x for x in lineage if x],
    )


def abstract_from_index(index: Any) -> str | None:
    """OpenAlex ships abstracts as {word: [positions]}; put the words back in order."""
    if not isinstance(index, dict) or not index:
        return None
    slots: dict[int, str] = {}
    for word, positions in index.items():
        for pos in positions or []:
            if isinstance(pos, int):
                slots[pos] = word
    return " ".join(slots[i] for i in sorted(slots)) or None


def _author(data: dict[str, Any], position: int) -> Author:
    person = data.get("author") or {}
    raw = [s for s in data.get("raw_affiliation_strings") or [] if isinstance(s, str) and s]
    institutions = [
        parse_institution(i) for i in data.get("institutions") or [] if isinstance(i, dict)
    ]
    countries = [c.upper() for c in data.get("countries") or [] if isinstance(c, str)]
    return Author(
        name=str(person.get("display_name") or data.get("raw_author_name") or ""),
        position=position,
        openalex_author_id=short_openalex_id(person.get("id")),
        raw_affiliations=raw,
        institutions=institutions,
        countries=countries,
    )


def _arxiv_id(data: dict[str, Any]) -> str | None:
    """arXiv ids hide in a 10.48550 DOI or in an arxiv.org location."""
    doi = normalize_doi(data.get("doi")) or ""
    if doi.startswith("10.48550/arxiv."):
        return normalize_arxiv(doi.removeprefix("10.48550/arxiv."))
    for loc in data.get("locations") or []:
        if not isinstance(loc, dict):
            continue
        for url in (loc.get("landing_page_url"), loc.get("pdf_url")):
            if isinstance(url, str) and "arxiv.org/" in url:
                tail = url.split("arxiv.org/", 1)[1]
                if tail.startswith(("abs/", "pdf/")):
                    return normalize_arxiv(tail[4:])
        loc_doi = normalize_doi(loc.get("doi") if isinstance(loc.get("doi"), str) else None)
        if loc_doi and loc_doi.startswith("10.48550/arxiv."):
            return normalize_arxiv(loc_doi.removeprefix("10.48550/arxiv."))
    return None


# -- the source behind the scanner's interface -----------------------------------------------


class OpenAlexSource(Source):
    """Citing works over every version of an origin, and authorships with institutions."""

    name = SOURCE
    policy = POLICY
    label = "OpenAlex"
    authors_rank = 2  # institutions with ROR ids and countries: its authorships win

    def __init__(self, http: HttpClient) -> None:
        super().__init__(http)
        self.client = OpenAlex(http)

    def notes(self) -> list[str]:
        if self.client.has_key:
            return []
        return [
            "OpenAlex citations were not collected: list calls need OPENALEX_API_KEY; "
            "only Semantic Scholar's citations are counted."
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
                    if work.openalex_id and work.openalex_id not in ids:
                        ids.append(work.openalex_id)
                        counts[work.openalex_id] = work.citation_count
                if ids:
                    origin.found_by_title.add(self.name)
            if ids:
                origin.ids[self.name] = ids
        every = sorted({i for o in origins for i in o.ids.get(self.name, [])})
        if every and self.client.has_key and (
            self._cache_hits() != hits or not set(every) <= set(counts)
        ):
            counts = dict(self.counts(every))
        for origin in origins:
            ids = origin.ids.get(self.name, [])
            origin.counts[self.name] = {i: counts.get(i) for i in ids}

    def counts(self, ids: list[str]) -> dict[str, int | None]:
        if not self.client.has_key:
            return {}
        return dict(self.client.cited_by_counts(ids))

    def targets(self, origins: list[Origin]) -> list[Target]:
        """One `cites:` list for every version of every origin of a dataset (and one per
        derivative): OpenAlex counts a work citing two versions once."""
        if not self.client.has_key:
            return []
        groups: dict[str | None, list[Origin]] = {}
        for origin in origins:
            if origin.ids.get(self.name):
                groups.setdefault(origin.via_derivative, []).append(origin)
        targets = []
        for via, group in groups.items():
            ids = sorted({i for o in group for i in o.ids[self.name]})
            targets.append(Target("|".join(ids), ids, group, via))
        return targets

    def read(self, target: Target, *, since: int | None, fresh: bool) -> ListRead:
        works = self.client.citing_works(target.ids, fresh=fresh)
        self.client.totals.clear()

        def total(read: ListRead) -> None:
            # The list's own meta.count: the distinct citers of every version asked for.
            read.total = sum(self.client.totals.values()) if self.client.totals else None

        return ListRead(
            (Found(self._full_authors(w), is_record=True) for w in works), {}, on_end=total
        )

    def wants(self, paper: PaperRef) -> bool:
        return bool(paper.doi or paper.arxiv_id)

    def lookup(self, papers: list[PaperRef]) -> Iterator[tuple[int, Work]]:
        by_doi: dict[str, int] = {}
        for paper in papers:
            doi = paper.doi or (paper.arxiv_id and f"10.48550/arxiv.{paper.arxiv_id}")
            if doi:
                by_doi[doi.lower()] = paper.paper_id
        for batch in chunked(list(by_doi), MAX_OR_VALUES):
            for work in self.client.works_by_doi(batch):
                raw_doi = (work.doi or "").lower()
                canonical_ids(work)
                paper_id = by_doi.get(raw_doi)
                if paper_id is None and work.arxiv_id:
                    paper_id = by_doi.get(f"10.48550/arxiv.{work.arxiv_id.lower()}")
                if paper_id is not None:
                    yield paper_id, self._full_authors(work)

    def _full_authors(self, work: Work) -> Work:
        """A listed work whose authorships OpenAlex cut at 100, looked up whole."""
        if work.authors_truncated and work.openalex_id:
            full = self.client.work(work.openalex_id)
            if full is not None and full.authors:
                return full
        return work

    def _cache_hits(self) -> int:
        return sum(n for (name, _), n in self.http.cache_hits.items() if name == self.name)
