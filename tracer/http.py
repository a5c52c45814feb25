"""The one HTTP session every source uses: timeouts, retries, rate limits, cache, keys, counts.

Sources call `get_json` / `post_json` with a source name ("s2", "openalex") and an endpoint
name ("citations", "works", ...) so that every request is paced per source and counted per
endpoint. API keys are added here and nowhere else, and never reach a log line, an error
message or the cache: the S2 key travels in the `x-api-key` header, the OpenAlex key in the
`api_key` query parameter, and requests-cache both leaves them out of cache keys and redacts
them from what it stores (`ignored_parameters`).

Cache lifetimes (SQLite at settings.http_cache):
  RECORD_TTL  7 days  single records (a paper, a work, an institution)
  LIST_TTL    1 day   lists that grow (citations, citing works, snippets)
  NO_STORE            change detection (citation counts) always asks the source
"""

from __future__ import annotations

import logging
import random
import re
import sqlite3
import threading
import time
import types
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import requests_cache

from tracer.config import Settings
from tracer.errors import AuthError, DataError, NotFoundError, SourceError

log = logging.getLogger(__name__)

RECORD_TTL = 7 * 24 * 3600
LIST_TTL = 24 * 3600
NO_STORE: int | None = None  # a per-call lifetime of None means: bypass the cache

SOURCE_NAMES = {"s2": "Semantic Scholar", "openalex": "OpenAlex"}
KEY_HINTS = {
    "s2": "Check the key in S2_API_KEY (or `tracer config set s2_api_key ...`); "
    "request one at https://www.semanticscholar.org/product/api.",
    "openalex": "Check the key in OPENALEX_API_KEY (or `tracer config set openalex_api_key ...`); "
    "a free key comes from https://openalex.org/settings/api.",
}

# Seconds between two requests to one source. S2 grants 1 request/s to a key; without one the
# shared pool answers 429 often, so go slower. OpenAlex caps at 100/s; stay well under.
INTERVALS: dict[tuple[str, bool], float] = {
    ("s2", True): 1.0,
    ("s2", False): 2.0,
    ("openalex", True): 0.1,
    ("openalex", False): 0.1,
}
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 120.0  # a Retry-After beyond this is a refusal for today, not a pause
SECRET_PARAMS = ["api_key", "x-api-key"]

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # bodies without one skip the clean-up
_KEY_IN_URL = re.compile(r"(api_key=)[^&\s\"']+", re.IGNORECASE)


class _RedactKeys(logging.Filter):
    """urllib3 logs full URLs at DEBUG; the OpenAlex key is a query parameter."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "api_key=" in message.lower():
            record.msg = _KEY_IN_URL.sub(r"\1REDACTED", message)
            record.args = ()
        return True


_REDACTOR = _RedactKeys()


class RateLimiter:
    """Keeps at least `intervals[source]` seconds between the starts of two requests."""

    def __init__(
        self,
        intervals: Mapping[str, float],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.intervals = dict(intervals)
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, source: str) -> float:
        """Block until `source` may be called again; return the seconds waited."""
        interval = self.intervals.get(source, 0.0)
        if interval <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            waited = max(0.0, self._next.get(source, now) - now)
            if waited > 0:
                self._sleep(waited)
            self._next[source] = now + waited + interval
            return waited


def clear_cache(settings: Settings) -> bool:
    """Delete the HTTP response cache; True if there was one."""
    found = False
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(str(settings.http_cache) + suffix)
        if path.exists():
            path.unlink()
            found = True
    return found


CACHE_LOCK_WAIT = 30.0  # seconds to wait for another process's write to the HTTP cache


@contextmanager
def _bounded_sqlite_lock(storage: Any) -> Iterator[None]:
    """requests-cache 1.x retries BEGIN IMMEDIATE forever on any error, so a full disk or a
    broken cache file hung the run; wait only for a lock, and not past CACHE_LOCK_WAIT."""
    with storage._lock:
        deadline = time.monotonic() + CACHE_LOCK_WAIT
        while True:
            try:
                storage._connection.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        storage._active_transaction = True
        try:
            yield
            storage._connection.commit()
        except sqlite3.OperationalError:
            storage._connection.rollback()  # as requests-cache does: a lost cache write only
        finally:
            storage._active_transaction = False


def _corrupt_cache(settings: Settings, exc: Exception) -> DataError:
    return DataError(
        f"The HTTP cache {settings.http_cache} cannot be used ({exc}).",
        hint="If its disk is full, make room; otherwise `tracer cache clear` starts a fresh "
        "cache (the database of findings is not touched).",
    )


def _no_wait(seconds: float) -> None:
    """Retry waits when rate limiting is off (a local test server)."""


class HttpClient:
    """One requests session shared by all sources of a run."""

    def __init__(
        self,
        settings: Settings,
        *,
        cache: bool | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_backoff: float = 30.0,
        intervals: Mapping[str, float] | None = None,
    ) -> None:
        self.settings = settings
        self.use_cache = (not settings.no_cache) if cache is None else cache
        self._sleep = sleep or (time.sleep if settings.rate_limit else _no_wait)
        self.max_backoff = max_backoff
        if intervals is None:
            intervals = (
                {
                    "s2": INTERVALS[("s2", bool(settings.s2_api_key))],
                    "openalex": INTERVALS[("openalex", bool(settings.openalex_api_key))],
                }
                if settings.rate_limit
                else {}
            )
        self.limiter = RateLimiter(intervals, clock=clock, sleep=self._sleep)
        self.counts: Counter[tuple[str, str]] = Counter()
        self.cache_hits: Counter[tuple[str, str]] = Counter()
        logging.getLogger("urllib3.connectionpool").addFilter(_REDACTOR)
        self._session = self._make_session()
        self._session.headers["User-Agent"] = settings.user_agent()

    def _make_session(self) -> requests.Session:
        if not self.use_cache:
            return requests.Session()
        path = self.settings.http_cache
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            session = requests_cache.CachedSession(
                str(path),
                backend="sqlite",
                expire_after=RECORD_TTL,
                allowable_methods=("GET", "POST"),
                allowable_codes=(200,),
                ignored_parameters=SECRET_PARAMS,
                match_headers=False,
                stale_if_error=False,
            )
        except sqlite3.DatabaseError as exc:
            raise _corrupt_cache(self.settings, exc) from None
        for storage in (session.cache.responses, session.cache.redirects):
            if hasattr(storage, "_acquire_sqlite_lock") and hasattr(storage, "_connection"):
                storage._acquire_sqlite_lock = types.MethodType(_bounded_sqlite_lock, storage)
        return session

    # -- public API -------------------------------------------------------------------------

    def get_json(
        self,
        source: str,
        endpoint: str,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        ttl: int | None = RECORD_TTL,
        fresh: bool = False,
        valid: Callable[[Any], bool] | None = None,
    ) -> Any:
        """GET `url` and return its JSON body. 404 raises NotFoundError.

        `fresh`: ask the source even if the cache holds an answer (and store the new one).
        `valid`: whether a body has the expected shape; one that has not is retried like a
        truncated body and never cached (a listing page must not pass for its last page).
        """
        return self._call("GET", source, endpoint, url, params, None, ttl, fresh, valid)

    def post_json(
        self,
        source: str,
        endpoint: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Any,
        *,
        ttl: int | None = RECORD_TTL,
        valid: Callable[[Any], bool] | None = None,
    ) -> Any:
        """POST `body` as JSON to `url` and return the JSON answer (`valid` as for get_json)."""
        return self._call("POST", source, endpoint, url, params, body, ttl, valid=valid)

    def request_counts(self) -> dict[str, dict[str, int]]:
        """Network requests per source and endpoint, for the runs table."""
        out: dict[str, dict[str, int]] = {}
        for (source, endpoint), n in sorted(self.counts.items()):
            out.setdefault(source, {})[endpoint] = n
        return out

    @property
    def total_requests(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the retry loop ---------------------------------------------------------------------

    def _prepare(
        self, method: str, source: str, url: str, params: Mapping[str, Any] | None, body: Any
    ) -> requests.PreparedRequest:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        headers: dict[str, str] = {}
        if source == "s2" and self.settings.s2_api_key:
            headers["x-api-key"] = self.settings.s2_api_key
        if source == "openalex" and self.settings.openalex_api_key:
            query["api_key"] = self.settings.openalex_api_key
        request = requests.Request(method, url, params=query, headers=headers, json=body)
        return self._session.prepare_request(request)

    def _call(
        self,
        method: str,
        source: str,
        endpoint: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Any,
        ttl: int | None,
        fresh: bool = False,
        valid: Callable[[Any], bool] | None = None,
    ) -> Any:
        name = SOURCE_NAMES.get(source, source)
        path = urlsplit(url).path  # never the query: that is where a key may sit
        attempts = max(1, self.settings.http_retries)
        cached = self.use_cache and ttl is not None
        problem = ""
        status: int | None = None
        for attempt in range(1, attempts + 1):
            prepared = self._prepare(method, source, url, params, body)
            retry_after: float | None = None
            try:
                if fresh or not (cached and self._is_cached(prepared)):
                    self.limiter.wait(source)
                response = self._send(prepared, cached, ttl, fresh)
            except requests.Timeout:
                self.counts[(source, endpoint)] += 1
                problem, status = (
                    f"timed out after {self.settings.http_timeout:g} s on {path}",
                    None,
                )
                log.info("%s %s: %s (attempt %d)", name, endpoint, problem, attempt)
            except requests.RequestException as exc:
                self.counts[(source, endpoint)] += 1
                problem, status = f"connection failed on {path} ({type(exc).__name__})", None
                log.info("%s %s: %s (attempt %d)", name, endpoint, problem, attempt)
            else:
                from_cache = bool(getattr(response, "from_cache", False))
                if from_cache:
                    self.cache_hits[(source, endpoint)] += 1
                else:
                    self.counts[(source, endpoint)] += 1
                status = response.status_code
                if status == 200:
                    try:
                        answer = response.json()
                    except ValueError:
                        answer = None
                    if _SURROGATE_ESCAPE.search(response.text):
                        answer = _without_lone_surrogates(answer)
                    if answer is not None and (valid is None or valid(answer)):
                        return answer
                    # Neither API answers a bare `null`: like a cut body, it must not be
                    # served from the cache to the retry or to the next run.
                    self._forget(response)
                    problem = (
                        f"an unreadable (truncated, malformed or null) JSON body from {path}"
                        if answer is None
                        else f"an answer of an unexpected shape from {path}"
                    )
                    log.info("%s %s: %s (attempt %d)", name, endpoint, problem, attempt)
                else:
                    self._raise_for(name, source, path, response)
                    problem = f"HTTP {status} on {path}"
                    retry_after = _retry_after(response)
                    log.info("%s %s: %s (attempt %d)", name, endpoint, problem, attempt)
            if attempt < attempts:
                self._sleep(self._backoff(attempt, retry_after))
        raise SourceError(
            f"{name} failed after {attempts} attempt{'s' if attempts != 1 else ''}: {problem}.",
            hint="The source may be down or overloaded; try again later.",
            source=source,
            status=status,
        )

    def _is_cached(self, prepared: requests.PreparedRequest) -> bool:
        assert isinstance(self._session, requests_cache.CachedSession)
        try:
            cache = self._session.cache
            found = cache.get_response(cache.create_key(prepared))
            return found is not None and not found.is_expired  # expired ones go out again
        except sqlite3.DatabaseError as exc:
            raise _corrupt_cache(self.settings, exc) from None

    def _send(
        self, prepared: requests.PreparedRequest, cached: bool, ttl: int | None, fresh: bool
    ) -> requests.Response:
        timeout = self.settings.http_timeout
        try:
            if isinstance(self._session, requests_cache.CachedSession):
                if not cached:
                    return self._session.send(
                        prepared, timeout=timeout, expire_after=requests_cache.DO_NOT_CACHE
                    )
                return self._session.send(
                    prepared, timeout=timeout, expire_after=ttl, force_refresh=fresh
                )
            return self._session.send(prepared, timeout=timeout)
        except sqlite3.DatabaseError as exc:
            raise _corrupt_cache(self.settings, exc) from None

    def _forget(self, response: requests.Response) -> None:
        """A body that did not parse must not be served from the cache on the retry."""
        key = getattr(response, "cache_key", None)
        if key and isinstance(self._session, requests_cache.CachedSession):
            self._session.cache.delete(key)

    def _raise_for(self, name: str, source: str, path: str, response: requests.Response) -> None:
        """Raise for answers that a retry cannot mend; return for those it may."""
        status = response.status_code
        if status in RETRY_STATUSES:
            return
        message = _api_message(response)
        if status == 404:
            raise NotFoundError(
                f"{name} has no record at {path}" + (f": {message}" if message else ".")
            )
        if status in (401, 403):
            has_key = bool(
                self.settings.s2_api_key if source == "s2" else self.settings.openalex_api_key
            )
            what = "refused the API key" if has_key else "requires an API key"
            raise AuthError(
                f"{name} {what} (HTTP {status} on {path}).",
                hint=KEY_HINTS.get(source),
                source=source,
                status=status,
            )
        raise SourceError(
            f"{name} rejected the request to {path} (HTTP {status})"
            + (f": {message}" if message else "."),
            source=source,
            status=status,
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        base = min(self.max_backoff, 2.0 ** (attempt - 1))
        return base + random.uniform(0, base / 2)  # jitter spreads out parallel retries


def _without_lone_surrogates(value: Any) -> Any:
    """JSON may escape half a UTF-16 pair ("\\ud800"); such a string cannot be stored (SQLite
    and files want UTF-8), so the lone half becomes U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; rare enough to fall back to our own backoff


def _api_message(response: requests.Response) -> str:
    """The API's own words: S2 says {"error": ...} or {"message": ...}; OpenAlex both."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body[k]) for k in ("error", "message") if isinstance(body.get(k), str)]
    text = " ".join(dict.fromkeys(parts)).strip().rstrip(".")
    return _KEY_IN_URL.sub(r"\1REDACTED", text)[:300]
