"""Semantic Scholar Graph API routes of the fake server (paths after /graph/v1)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from tests.fakeapi.common import ApiError, Recorded, Reply, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from tests.fakeapi.server import FakeApi, Fault

# From the swagger: BasePaper (citing papers, search results) and FullPaper (single, batch).
BASE_PAPER = frozenset(
    "paperId corpusId externalIds url title abstract venue publicationVenue year referenceCount "
    "citationCount influentialCitationCount isOpenAccess openAccessPdf fieldsOfStudy "
    "s2FieldsOfStudy publicationTypes publicationDate journal citationStyles authors".split()
)
FULL_PAPER = BASE_PAPER | {"citations", "references", "embedding", "tldr", "textAvailability"}
CITATION = frozenset({"contexts", "intents", "contextsWithIntent", "isInfluential"})
AUTHOR_SUBFIELDS = frozenset(
    "authorId externalIds url name affiliations homepage paperCount citationCount hIndex".split()
)
# Citing papers are BasePaper, whose authors are AuthorInfo: id and name only. Affiliations come
# only from the paper and batch endpoints (FullPaper's Author).
AUTHOR_INFO = frozenset({"authorId", "name"})
_DATE_TERM = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
MAX_LIMIT = 1000
OFFSET_CAP = 10_000
BATCH_MAX = 500
BULK_PAGE = 1000


def handle(api: FakeApi, request: Recorded, path: str, fault: Fault | None) -> Reply:
    if path == "/paper/batch":
        if request.method != "POST":
            raise ApiError(405, {"message": "Method Not Allowed"})
        return _batch(api, request)
    if request.method != "GET":
        raise ApiError(405, {"message": "Method Not Allowed"})
    if path == "/snippet/search":
        return _snippets(api, request)
    if path == "/paper/search/bulk":
        return _bulk(api, request, fault)
    if path.startswith("/paper/") and path.endswith("/citations"):
        return _citations(api, request, path[len("/paper/") : -len("/citations")])
    if path.startswith("/paper/"):
        return _paper(api, request, path[len("/paper/") :])
    raise ApiError(404, {"message": "Not Found"})


def _fields(
    request: Recorded, allowed: frozenset[str], author_subfields: frozenset[str] = AUTHOR_SUBFIELDS
) -> list[str]:
    raw = request.param("fields")
    if not raw:
        return []
    names = [f.strip() for f in raw.split(",") if f.strip()]
    bad = []
    for name in names:
        head, _, sub = name.partition(".")
        if head not in allowed or (head == "authors" and sub and sub not in author_subfields):
            bad.append(name)
    if bad:
        raise ApiError(400, {"error": f"Unrecognized or unsupported fields: [{', '.join(bad)}]"})
    return names


def project(paper: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """What S2 returns for `fields`: paperId always; title alone when none are asked for."""
    out: dict[str, Any] = {"paperId": paper["paperId"]}
    wanted = [f for f in fields if f.split(".")[0] in FULL_PAPER] or ["title"]
    author_subs = {"authorId", "name"} | {
        f.partition(".")[2] for f in wanted if f.startswith("authors.")
    }
    for name in wanted:
        head = name.split(".")[0]
        if head == "authors":
            out["authors"] = [
                {k: a.get(k, [] if k == "affiliations" else None) for k in sorted(author_subs)}
                for a in paper.get("authors") or []
            ]
        else:
            out[head] = paper.get(head)
    return out


def _int_param(request: Recorded, name: str, default: int) -> int:
    raw = request.param(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, {"error": f"Unacceptable query params: [{name}={raw}]"}) from None


def _resolve(api: FakeApi, raw_id: str) -> str:
    pid = api.corpus.resolve_s2(raw_id)
    if pid is None:
        raise ApiError(404, {"error": f"Paper with id {raw_id} not found"})
    return pid


def _paper(api: FakeApi, request: Recorded, raw_id: str) -> Reply:
    fields = _fields(request, FULL_PAPER)
    paper = api.corpus.s2_papers[_resolve(api, raw_id)]
    return Reply(200, project(paper, fields))


def _date_bounds(spec: str) -> tuple[str, str]:
    """`publicationDateOrYear` as the swagger gives it: "2019", "2019-03", "2016-03-05:2020-06",
    "1981-08-25:", ":2015-01"; each term optional, prefixes match whole months and years."""
    low, sep, high = spec.partition(":")
    if not sep:
        high = low
    for term in (low, high):
        if term and not _DATE_TERM.match(term):
            raise ApiError(
                400, {"error": f"Unacceptable query params: [publicationDateOrYear={spec}]"}
            )
    start = (low + "-01-01"[len(low) - 4 :]) if low else "0000-00-00"
    end = (high + "-12-31"[len(high) - 4 :]) if high else "9999-99-99"
    return start, end


def _published(paper: dict[str, Any]) -> str | None:
    """Where a paper falls for the date filter: its date, else 1 January of its year."""
    date = paper.get("publicationDate")
    if isinstance(date, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", date):
        return date
    year = paper.get("year")
    return f"{year:04d}-01-01" if isinstance(year, int) else None


def _citation_rows(api: FakeApi, pid: str, spec: str | None) -> list[dict[str, Any]]:
    rows = api.corpus.s2_citations.get(pid, [])
    if not spec:
        return rows
    key = f"s2-citations:{pid}:{spec}"
    cached = api.filter_cache.get(key)
    if cached and cached[0] == api.corpus.version:
        return cached[1]  # type: ignore[return-value]
    start, end = _date_bounds(spec)
    out = []
    for row in rows:
        if row["citing"] is None:
            continue  # an unresolved paper has no year: a date filter never matches it
        date = _published(api.corpus.s2_papers[row["citing"]])
        if date is not None and start <= date <= end:
            out.append(row)
    api.filter_cache[key] = (api.corpus.version, out)  # type: ignore[assignment]
    return out


def _citations(api: FakeApi, request: Recorded, raw_id: str) -> Reply:
    fields = _fields(request, BASE_PAPER | CITATION, AUTHOR_INFO)
    offset = _int_param(request, "offset", 0)
    limit = _int_param(request, "limit", 100)
    if limit > MAX_LIMIT or limit < 1:
        raise ApiError(400, {"error": f"Unacceptable query params: [limit={limit}]"})
    if offset < 0 or offset + limit >= OFFSET_CAP:
        raise ApiError(
            400, {"error": "The offset + limit must be less than 10000. Consider bulk search."}
        )
    pid = _resolve(api, raw_id)
    rows = _citation_rows(api, pid, request.param("publicationDateOrYear"))
    paper_fields = [f for f in fields if f.split(".")[0] in BASE_PAPER]
    cite_fields = [f for f in fields if f in CITATION]
    data = []
    for row in rows[offset : offset + limit]:
        item: dict[str, Any] = {f: row[f] for f in cite_fields}
        if row["citing"] is None:
            unresolved = {"paperId": None, "title": row["title"]}
            item["citingPaper"] = project(unresolved, paper_fields) | unresolved
        else:
            item["citingPaper"] = project(api.corpus.s2_papers[row["citing"]], paper_fields)
        data.append(item)
    body: dict[str, Any] = {"offset": offset, "data": data}
    if offset + limit < len(rows):
        step = api.corpus.misbehave.get("s2_next_step")
        body["next"] = offset + (step if isinstance(step, int) else limit)  # absent on the last
    return Reply(200, body)


def _batch(api: FakeApi, request: Recorded) -> Reply:
    fields = _fields(request, FULL_PAPER)
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        raise ApiError(400, {"error": "Body is not valid JSON"}) from None
    ids = payload.get("ids") if isinstance(payload, dict) else None
    if not isinstance(ids, list):
        raise ApiError(400, {"error": "Missing required field ids"})
    if len(ids) > BATCH_MAX:
        raise ApiError(400, {"error": f"Too many ids. Maximum is {BATCH_MAX}."})
    out: list[Any] = []
    for raw in ids:
        pid = api.corpus.resolve_s2(str(raw))
        out.append(project(api.corpus.s2_papers[pid], fields) if pid else None)
    return Reply(200, out)


def _year_ok(year: int | None, spec: str | None) -> bool:
    if not spec:
        return True
    if year is None:
        return False
    low, sep, high = spec.partition("-")
    if not sep:
        return year == int(low)
    return (not low or year >= int(low)) and (not high or year <= int(high))


def _snippets(api: FakeApi, request: Recorded) -> Reply:
    query = (request.param("query") or "").strip()
    if not query:
        raise ApiError(400, {"error": "Missing required query parameter: query"})
    limit = _int_param(request, "limit", 10)
    if limit > MAX_LIMIT or limit < 1:
        raise ApiError(400, {"error": f"Unacceptable query params: [limit={limit}]"})
    fos = {f.strip().lower() for f in (request.param("fieldsOfStudy") or "").split(",") if f}
    year = request.param("year")
    allowed_corpus: set[int] | None = None
    if request.param("paperIds"):
        allowed_corpus = set()
        for raw in (request.param("paperIds") or "").split(","):
            pid = api.corpus.resolve_s2(raw)
            if pid and api.corpus.s2_papers[pid].get("corpusId") is not None:
                allowed_corpus.add(int(api.corpus.s2_papers[pid]["corpusId"]))
    words = query.lower().split()
    hits = []
    for entry in api.corpus.snippets:
        text = entry.text.lower()
        if not all(w in text for w in words):
            continue
        if fos and not fos & {f.lower() for f in entry.fields_of_study}:
            continue
        if not _year_ok(entry.year, year):
            continue
        if allowed_corpus is not None and entry.corpus_id not in allowed_corpus:
            continue
        hits.append(entry)
    hits.sort(key=lambda e: -e.score)
    data = [
        {
            "snippet": {
                "text": e.text,
                "snippetKind": e.kind,
                "section": e.section,
                "snippetOffset": {"start": 0, "end": len(e.text)},
                "annotations": {
                    "sentences": [{"start": 0, "end": len(e.text)}],
                    "refMentions": [
                        {"start": 0, "end": 0, "matchedPaperCorpusId": str(c)}
                        for c in e.ref_corpus_ids
                    ],
                },
            },
            "score": e.score,
            "paper": {
                "corpusId": str(e.corpus_id),
                "title": e.title,
                "authors": e.authors,
                "openAccessInfo": None,
            },
        }
        for e in hits[:limit]
    ]
    return Reply(200, {"data": data, "retrievalVersion": "fake-1"})


def _bulk(api: FakeApi, request: Recorded, fault: Fault | None) -> Reply:
    fields = _fields(request, BASE_PAPER)
    words = (request.param("query") or "").lower().split()
    matches = [
        p
        for p in api.corpus.s2_papers.values()
        if all(w in str(p.get("title") or "").lower() for w in words)
    ]
    token = request.param("token")
    start = decode_cursor(token) if token else 0
    if start is None:
        raise ApiError(400, {"error": "Invalid token"})
    page = matches[start : start + BULK_PAGE]
    more = start + BULK_PAGE < len(matches)
    if fault is not None and fault.kind == "token_null":
        more = False  # under load the real API ends a listing early: compare with `total`
    return Reply(
        200,
        {
            "total": len(matches),
            "token": encode_cursor(start + BULK_PAGE) if more else None,
            "data": [project(p, fields) for p in page],
        },
    )


# -- title match (/paper/search/match) ----------------------------------------------------------
# Appended as a wrapper so that the dispatcher above stays as it is: the real service answers
# with its single closest title, however loose, with a `matchScore`, and 404 "Title match not
# found" when nothing is close; `year` ("2016" or "2015-2017") narrows it.

MATCH_MIN_SHARE = 0.5  # below this share of the query's words in a title the fake finds none
_handle_before_title_match = handle


def handle(api: FakeApi, request: Recorded, path: str, fault: Fault | None) -> Reply:  # noqa: F811
    if path == "/paper/search/match" and request.method == "GET":
        return _title_match(api, request)
    return _handle_before_title_match(api, request, path, fault)


def _title_words(text: str) -> set[str]:
    return {w for w in "".join(c if c.isalnum() else " " for c in text.lower()).split() if w}


def _title_match(api: FakeApi, request: Recorded) -> Reply:
    query = (request.param("query") or "").strip()
    if not query:
        raise ApiError(400, {"error": "Missing required query parameter: query"})
    fields = _fields(request, BASE_PAPER)
    year = request.param("year")
    wanted = _title_words(query)
    best: tuple[float, dict[str, Any]] | None = None
    for paper in api.corpus.s2_papers.values():
        if not _year_ok(paper.get("year"), year):
            continue
        words = _title_words(str(paper.get("title") or ""))
        if not words or not wanted:
            continue
        if len(words & wanted) / len(wanted) < MATCH_MIN_SHARE:
            continue
        overlap = len(words & wanted) / len(words | wanted)
        if best is None or overlap > best[0]:
            best = (overlap, paper)
    if best is None:
        raise ApiError(404, {"error": "Title match not found"})
    row = project(best[1], fields)
    row["matchScore"] = round(100 * best[0] + 50, 4)
    return Reply(200, {"data": [row]})
