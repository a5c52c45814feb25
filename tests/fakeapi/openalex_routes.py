"""OpenAlex routes of the fake server (paths after /openalex)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakeapi.common import ApiError, Recorded, Reply, decode_cursor, encode_cursor
from tests.fakeapi.corpus import _norm_doi, _short

if TYPE_CHECKING:
    from tests.fakeapi.server import FakeApi

MAX_PER_PAGE = 100
MAX_OR_VALUES = 100
MAX_URL = 4096
AUTHORSHIP_CUT = 100  # list answers cut authorships here and say so
WORK_FIELDS = frozenset(
    "id doi title display_name publication_year publication_date ids language primary_location "
    "type type_crossref indexed_in open_access authorships institution_assertions "
    "countries_distinct_count institutions_distinct_count corresponding_author_ids "
    "corresponding_institution_ids apc_list apc_paid fwci has_fulltext fulltext_origin "
    "cited_by_count citation_normalized_percentile cited_by_percentile_year biblio is_retracted "
    "is_paratext primary_topic topics keywords concepts mesh locations_count locations "
    "best_oa_location sustainable_development_goals grants datasets versions "
    "referenced_works_count referenced_works related_works abstract_inverted_index "
    "cited_by_api_url counts_by_year updated_date created_date".split()
)
FILTER_KEYS = frozenset({"cites", "doi", "openalex", "ids.openalex"})
BASIC_PAGING_LIMIT = 10_000  # page * per_page may not pass this: cursor paging reads beyond


def keyless_budget(api: FakeApi, calls: int) -> None:
    """Give the fake a new keyless allowance of `calls` list calls for today (the server counts
    them and answers 429 past it, with its budget headers)."""
    api.openalex_budget[False] = calls
    api.openalex_spent.pop("", None)


def _error(status: int, error: str, message: str) -> ApiError:
    return ApiError(status, {"error": error, "message": message})


def handle(api: FakeApi, request: Recorded, path: str) -> Reply:
    if request.method != "GET":
        raise _error(405, "Method not allowed", f"{request.method} is not supported.")
    full_url = api.base_url + request.url
    if len(full_url) > MAX_URL:
        raise _error(414, "URI Too Long", f"The URL is {len(full_url)} characters long.")
    if path == "/works":
        return _works(api, request)
    if path.startswith("/works/"):
        return _work(api, path[len("/works/") :])
    if path.startswith("/institutions/"):
        iid = _short(path[len("/institutions/") :]).upper()
        inst = api.corpus.oa_institutions.get(iid)
        if inst is None:
            raise _error(404, "Not Found", f"Institution {iid} does not exist.")
        return Reply(200, inst)
    raise _error(404, "Not Found", f"The path {path} does not exist.")


def _work(api: FakeApi, ref: str) -> Reply:
    text = ref.strip()
    wid: str | None
    if text.lower().startswith(("doi:", "https://doi.org/", "10.")):
        wid = api.corpus.oa_doi.get(_norm_doi(text))
    else:
        wid = _short(text).upper()
    work = api.corpus.oa_works.get(wid or "")
    if work is None:
        raise _error(404, "Not Found", f"Work {ref} does not exist.")
    return Reply(200, work)


def _matching_ids(api: FakeApi, filter_: str) -> list[str]:
    cached = api.filter_cache.get(filter_)
    if cached and cached[0] == api.corpus.version:
        return cached[1]
    result: list[str] | None = None
    for clause in filter_.split(","):
        key, sep, raw = clause.partition(":")
        if not sep or key not in FILTER_KEYS:
            raise _error(400, "Invalid query parameters error.", f"{key} is not a valid field.")
        values = [v for v in raw.split("|") if v]
        if len(values) > MAX_OR_VALUES:
            raise _error(
                400,
                "Invalid query parameters error.",
                f"Maximum number of values exceeded for {key}. "
                f"Decrease values to {MAX_OR_VALUES} or below.",
            )
        ids: list[str] = []
        if key == "cites":
            for v in values:
                ids.extend(api.corpus.oa_cited_by.get(_short(v).upper(), []))
        elif key == "doi":
            ids = [w for w in (api.corpus.oa_doi.get(_norm_doi(v)) for v in values) if w]
        else:
            ids = [_short(v).upper() for v in values if _short(v).upper() in api.corpus.oa_works]
        ids = list(dict.fromkeys(ids))
        if result is None:
            result = ids
        else:
            keep = set(ids)
            result = [i for i in result if i in keep]
    out = result or []
    api.filter_cache[filter_] = (api.corpus.version, out)
    return out


def _select(work: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    out = dict(work) if select is None else {k: work.get(k) for k in select}
    authorships = out.get("authorships")
    if isinstance(authorships, list) and len(authorships) > AUTHORSHIP_CUT:
        out["authorships"] = authorships[:AUTHORSHIP_CUT]
        out["is_authors_truncated"] = True
    return out


def _works(api: FakeApi, request: Recorded) -> Reply:
    if api.require_openalex_key and request.param("api_key") != api.require_openalex_key:
        raise _error(403, "Forbidden", "List queries need a valid api_key.")
    filter_ = request.param("filter")
    if not filter_:
        raise _error(400, "Invalid query parameters error.", "This fake needs a filter.")
    try:
        per_page = int(request.param("per_page") or 25)
    except ValueError:
        raise _error(400, "Invalid query parameters error.", "per_page must be a number.") from None
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise _error(
            400,
            "Invalid query parameters error.",
            f"per_page parameter must be between 1 and {MAX_PER_PAGE}.",
        )
    select: list[str] | None = None
    if request.param("select"):
        select = [s.strip() for s in (request.param("select") or "").split(",") if s.strip()]
        bad = [s for s in select if s not in WORK_FIELDS]
        if bad:
            raise _error(
                400,
                "Invalid query parameters error.",
                f"{bad[0]} is not a valid select field. Select accepts top-level fields only.",
            )
    keyless = not request.param("api_key")
    cursor = request.param("cursor")
    if keyless and cursor not in (None, "*"):
        # Third-party changelogs (late 2026) report 401 for keyless cursor paging past page one.
        raise _error(401, "Unauthorized", "Cursor paging needs an api_key.")
    ids = _matching_ids(api, filter_)
    if cursor is not None:
        start = 0 if cursor == "*" else decode_cursor(cursor)
        if start is None:
            raise _error(400, "Invalid query parameters error.", "Invalid cursor.")
        page_no = None
    else:
        try:
            page_no = int(request.param("page") or 1)
        except ValueError:
            raise _error(400, "Invalid query parameters error.", "page must be a number.") from None
        if page_no < 1 or page_no * per_page > BASIC_PAGING_LIMIT:
            raise _error(
                400,
                "Invalid query parameters error.",
                f"Maximum results size of {BASIC_PAGING_LIMIT:,} records is exceeded. "
                "Cursor pagination is required for records beyond 10,000.",
            )
        start = (page_no - 1) * per_page
    chunk = ids[start : start + per_page]
    next_cursor = None
    if cursor is not None and chunk:
        # Like the real API: a cursor follows every page that held rows, so the page after the
        # last holds none, unless the client stops at meta.count.
        next_cursor = encode_cursor(start + per_page)
        if api.corpus.misbehave.get("openalex_repeat_cursor"):
            next_cursor = cursor if cursor != "*" else encode_cursor(0)
    meta = {
        "count": len(ids),
        "db_response_time_ms": 1,
        "page": page_no,
        "per_page": per_page,
        "next_cursor": next_cursor,
        "groups_count": None,
    }
    results = [_select(api.corpus.oa_works[w], select) for w in chunk]
    return Reply(200, {"meta": meta, "results": results, "group_by": []})


# -- title.search and publication date filters --------------------------------------------------
# Appended as a wrapper of the filter evaluation above. The real `title.search` removes stop
# words and stems (Kstem), matching whole words; the fake drops a few stop words and a plural
# "s", and needs every remaining word in the title. Date filters compare publication_date.

_STOP_WORDS = frozenset(
    "a an and are as at be by for from in into is it of on or the to with".split()
)
_matching_ids_before_title_search = _matching_ids


def _stems(text: str) -> set[str]:
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words} - _STOP_WORDS


def _matching_ids(api: FakeApi, filter_: str) -> list[str]:  # noqa: F811
    plain: list[str] = []
    title: set[str] | None = None
    since, until = "", "9999"
    for clause in filter_.split(","):
        key, _, value = clause.partition(":")
        if key == "title.search":
            title = _stems(value)
        elif key == "from_publication_date":
            since = value
        elif key == "to_publication_date":
            until = value
        else:
            plain.append(clause)
    if title is None and (since, until) == ("", "9999"):
        return _matching_ids_before_title_search(api, filter_)
    ids = (
        _matching_ids_before_title_search(api, ",".join(plain))
        if plain
        else list(api.corpus.oa_works)
    )
    out = []
    for wid in ids:
        work = api.corpus.oa_works[wid]
        date = str(work.get("publication_date") or work.get("publication_year") or "")
        if title is not None and not title <= _stems(str(work.get("title") or "")):
            continue
        if date and not since <= date <= until + "~":
            continue
        out.append(wid)
    return out
