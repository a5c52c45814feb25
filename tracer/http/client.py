"""The one HTTP session every source uses: policies, pacing, retries, bounds, cache, keys.

Sources call `get_json` / `post_json` with their policy's name and an endpoint name
("citations", "works", ...) so that every request is paced per key and counted per endpoint.
What a source's statuses mean, how its key travels and how fast it may be asked come from its
`SourcePolicy` (tracer/http/policy.py); this module names no source.

Bounds on every request: an overall deadline (settings.http_deadline) however slowly the bytes
come, besides the timeout of each read; a size cap before and after decompression
(settings.http_max_mb); at most `http_retries` attempts, waiting `http_backoff` seconds, then
twice that, and so on up to `http_backoff_cap`, or what Retry-After asks up to RETRY_AFTER_CAP;
a longer wait, or a "budget spent" status, ends the step at once (BudgetExhausted).

Keys are added here and nowhere else. A key never follows a redirect to another origin; the
cache holds bodies only, under URLs without key parameters; every message is redacted.

Cache lifetimes (SQLite at settings.http_cache):
  RECORD_TTL  7 days  single records (a paper, a work, an institution)
  LIST_TTL    1 day   lists that grow (citations, citing works, snippets)
  NO_STORE            change detection (citation counts) always asks the source
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from tracer.config import Settings
from tracer.errors import (
    BudgetExhausted,
    DataError,
    ResponseTooLarge,
    SourceError,
    clean_message,
    redact,
    secrets_of,
)
from tracer.http.body import (
    ACCEPT_ENCODING,
    DeadlinePassed,
    TooLarge,
    Undecodable,
    parse_json,
    read_body,
)
from tracer.http.cache import CacheUnusable, ResponseCache, cache_key, strip_params
from tracer.http.pace import SharedPacer
from tracer.http.policy import SourcePolicy, registered_policies
from tracer.http.statuses import judge

log = logging.getLogger(__name__)

RECORD_TTL = 7 * 24 * 3600
LIST_TTL = 24 * 3600
NO_STORE: int | None = None  # a per-call lifetime of None means: bypass the cache

MAX_REDIRECTS = 5
UNREACHABLE_ATTEMPTS = 3  # connections refused or unresolved in a row: the source is unreachable
ERROR_BODY_MAX = 1024 * 1024  # what is read of an error answer, for its message
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _no_wait(seconds: float) -> None:
    """Retry waits when rate limiting is off (a local test server)."""


def _no_hook(label: str, text: str, seconds: float) -> None:
    """The default `on_wait`: nothing to show."""


class _RedactKeys(logging.Filter):
    """urllib3 logs full URLs at DEBUG, and a key may be a query parameter: every key any
    client of this process was given is blanked, with every `api_key=` value."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, secrets=tuple(self.secrets))
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_REDACTOR = _RedactKeys()


def clear_cache(settings: Settings) -> bool:
    """Delete the HTTP response cache; True if there was one."""
    found = False
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(str(settings.http_cache) + suffix)
        if path.exists():
            path.unlink()
            found = True
    return found


def _corrupt_cache(settings: Settings, exc: Exception) -> DataError:
    return DataError(
        f"The HTTP cache {settings.http_cache} cannot be used ({clean_message(str(exc))}).",
        hint="If its disk is full, make room; otherwise `tracer cache clear` starts a fresh "
        "cache (the database of findings is not touched).",
    )


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class HttpClient:
    """One requests session shared by all sources of a run.

    `policies`: the SourcePolicy of every source this client serves (default: those the
    source modules registered). `on_wait(label, sentence, seconds)` is called before every
    retry wait, so that a progress display can show it.
    """

    def __init__(
        self,
        settings: Settings,
        policies: Iterable[SourcePolicy] | None = None,
        *,
        cache: bool | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.policies = {
            p.name: p for p in (registered_policies() if policies is None else policies)
        }
        self.use_cache = (not settings.no_cache) if cache is None else cache
        self._sleep = sleep or (time.sleep if settings.rate_limit else _no_wait)
        self._clock = clock
        self.on_wait: Callable[[str, str, float], None] = _no_hook
        self.pacer = SharedPacer(
            settings.data_dir / "pace" if settings.rate_limit else None,
            clock=clock,
            sleep=self._sleep,
        )
        self.counts: Counter[tuple[str, str]] = Counter()
        self.cache_hits: Counter[tuple[str, str]] = Counter()
        self._budget: dict[str, dict[str, Any]] = {}
        self._refused: dict[tuple[str, str], BudgetExhausted] = {}
        self._secret_params = sorted({p.key_param for p in self.policies.values() if p.key_param})
        keys = {p.key(settings) for p in self.policies.values()}
        _REDACTOR.secrets.update({*secrets_of(settings), *(k for k in keys if k)})
        logging.getLogger("urllib3.connectionpool").addFilter(_REDACTOR)  # once: same object
        self.cache: ResponseCache | None = None
        if self.use_cache:
            try:
                self.cache = ResponseCache(settings.http_cache)
            except CacheUnusable as exc:
                raise _corrupt_cache(settings, exc) from None
        self._session = self._new_session()

    def register(self, policy: SourcePolicy) -> None:
        """Serve one more source (a source added at run time)."""
        self.policies[policy.name] = policy
        if policy.key_param and policy.key_param not in self._secret_params:
            self._secret_params = sorted({*self._secret_params, policy.key_param})

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

    def budget(self) -> dict[str, dict[str, Any]]:
        """What each source last said of its remaining budget (its policy's budget headers),
        e.g. {"openalex": {"limit": 100000, "remaining": 99874, ...}}; {} if none said."""
        return {source: dict(values) for source, values in sorted(self._budget.items())}

    def redact(self, text: str) -> str:
        """`text` on one line, without any configured key."""
        return clean_message(text, self.settings)

    @property
    def total_requests(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        self._session.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one call ---------------------------------------------------------------------------

    def _policy(self, source: str) -> SourcePolicy:
        try:
            return self.policies[source]
        except KeyError:
            raise ValueError(
                f"no SourcePolicy for source {source!r}: pass it to HttpClient(policies=...)"
            ) from None

    def _prepare(
        self,
        policy: SourcePolicy,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: Any = None,
        with_key: bool = True,
    ) -> requests.PreparedRequest:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        headers: dict[str, str] = {}
        key = policy.key(self.settings) if with_key else None
        if key and policy.key_header:
            headers[policy.key_header] = key
        if key and policy.key_param:
            query[policy.key_param] = key
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
        policy = self._policy(source)
        refused = self._refused.get((source, endpoint))
        if refused is not None:
            raise BudgetExhausted(
                refused.message,
                refused.hint,
                source=source,
                status=refused.status,
                retry_at=refused.retry_at,
            )
        name = policy.label
        path = urlsplit(url).path  # never the query: that is where a key may sit
        prepared = self._prepare(policy, method, url, params, body)
        raw_body = prepared.body if isinstance(prepared.body, bytes) else None
        plain_url = strip_params(prepared.url or url, self._secret_params)
        key = cache_key(method, plain_url, raw_body)
        cached = self.cache is not None and ttl is not None
        if cached and not fresh:
            answer = self._from_cache(key, valid)
            if answer is not None:
                self.cache_hits[(source, endpoint)] += 1
                return answer
        attempts = max(1, self.settings.http_retries)
        interval = policy.interval(self.settings) if self.settings.rate_limit else 0.0
        problem = ""
        status: int | None = None
        unreachable = 0  # attempts in a row that reached no server at all
        for attempt in range(1, attempts + 1):
            wait: float | None = None
            self.pacer.wait(policy.name, policy.key(self.settings), interval)
            self.counts[(source, endpoint)] += 1
            try:
                status, headers, data = self._fetch(prepared, policy)
            except DeadlinePassed:
                problem, status = (
                    f"no whole answer within the {self.settings.http_deadline:g} s deadline "
                    f"on {path}",
                    None,
                )
            except TooLarge as exc:
                raise self._too_large(policy, path, exc) from None
            except (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
                problem = f"timed out after {self.settings.http_timeout:g} s on {path}"
                status = None
            except Undecodable as exc:
                problem, status = f"an answer in an unreadable encoding ({exc}) from {path}", None
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                problem = f"connection failed on {path} ({type(exc).__name__})"
                status = None
                unreachable += 1
            else:
                unreachable = 0
                self._note_budget(policy, headers)
                if status == 200:
                    answer = parse_json(data)
                    if answer is not None and (valid is None or valid(answer)):
                        if cached and ttl is not None and self.cache is not None:
                            self.cache.put(key, plain_url, data, ttl)
                        return answer
                    # Neither API answers a bare `null`: like a cut body, it is retried.
                    problem = (
                        f"an unreadable (truncated, malformed, too deeply nested or null) JSON "
                        f"body from {path}"
                        if answer is None
                        else f"an answer of an unexpected shape from {path}"
                    )
                else:
                    wait = self._judge(policy, endpoint, path, status, headers, data)
                    problem = f"HTTP {status} on {path}"
            log.info("%s %s: %s (attempt %d)", name, endpoint, problem, attempt)
            if unreachable >= UNREACHABLE_ATTEMPTS:
                # No server answered at all (no network, a wrong URL): say so in seconds, not
                # after the minutes of backoff that an overloaded server deserves.
                attempts = attempt
                break
            if attempt < attempts:
                seconds = self._backoff(attempt, wait)
                # While no server answers, the attempts left are those before giving up on it.
                most = attempts if not unreachable else min(
                    attempts, attempt - unreachable + UNREACHABLE_ATTEMPTS
                )
                self.on_wait(
                    name,
                    f"{name}: {problem.split(' on ')[0]}, waiting {seconds:.0f} s, "
                    f"attempt {attempt + 1} of {most}",
                    seconds,
                )
                self._sleep(seconds)
        raise SourceError(
            self.redact(
                f"{name} failed after {attempts} attempt{'s' if attempts != 1 else ''}: {problem}."
            ),
            hint="The source may be down or overloaded; try again later.",
            source=source,
            status=status,
        )

    def _from_cache(self, key: str, valid: Callable[[Any], bool] | None) -> Any:
        assert self.cache is not None
        try:
            data = self.cache.get(key)
        except CacheUnusable as exc:
            raise _corrupt_cache(self.settings, exc) from None
        if data is None:
            return None
        answer = parse_json(data)
        if answer is not None and (valid is None or valid(answer)):
            return answer
        self.cache.delete(key)  # a body that no longer passes is asked for again
        return None

    def _fetch(
        self, prepared: requests.PreparedRequest, policy: SourcePolicy
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Send, follow redirects (the key only to the same origin), read within bounds."""
        deadline = time.monotonic() + self.settings.http_deadline
        max_bytes = int(self.settings.http_max_mb * 1024 * 1024)
        origin = _origin(prepared.url or "")
        current = prepared
        for _ in range(MAX_REDIRECTS + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlinePassed()
            response = self._send_within(current, remaining)
            try:
                status = response.status_code
                location = response.headers.get("Location")
                if status in _REDIRECTS and location:
                    current = self._redirected(current, status, location, policy, origin)
                    continue
                if status == 200:
                    data = read_body(
                        response, max_bytes=max_bytes, deadline=deadline, clock=time.monotonic
                    )
                else:
                    try:
                        data = read_body(
                            response,
                            max_bytes=min(max_bytes, ERROR_BODY_MAX),
                            deadline=deadline,
                            clock=time.monotonic,
                        )
                    except (TooLarge, Undecodable):
                        data = b""
                return status, response.headers, data
            finally:
                response.close()
        raise requests.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")

    def _send_within(
        self, request: requests.PreparedRequest, remaining: float
    ) -> requests.Response:
        """Send and get the status line and headers within `remaining` seconds. Socket
        timeouts bound each read only, so a server that trickles its headers is outwaited
        on a helper thread; past the deadline that thread is abandoned (it ends when the
        server lets go) and the client goes on with a fresh session."""
        timeout = min(self.settings.http_timeout, remaining)
        session = self._session
        box: dict[str, Any] = {}

        def send() -> None:
            try:
                box["response"] = session.send(
                    request, timeout=timeout, stream=True, allow_redirects=False
                )
            except BaseException as exc:  # handed to the caller's thread as it is
                box["error"] = exc

        worker = threading.Thread(target=send, name="tracer-http-send", daemon=True)
        worker.start()
        worker.join(remaining)
        if worker.is_alive():
            self._session = self._new_session()  # the old one's connection is in use
            raise DeadlinePassed()
        if "error" in box:
            raise box["error"]
        response: requests.Response = box["response"]
        return response

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.headers["User-Agent"] = self.settings.user_agent()
        session.headers["Accept-Encoding"] = ACCEPT_ENCODING
        return session

    def _redirected(
        self,
        previous: requests.PreparedRequest,
        status: int,
        location: str,
        policy: SourcePolicy,
        origin: tuple[str, str],
    ) -> requests.PreparedRequest:
        """The request a redirect asks for. The key goes along only to the same origin
        (scheme, host and port); requests itself would strip only `Authorization`."""
        target = strip_params(urljoin(previous.url or "", location), self._secret_params)
        same = _origin(target) == origin
        keep = status in (307, 308)
        method = (previous.method or "GET") if keep else "GET"
        body = None
        if keep and isinstance(previous.body, bytes):
            body = parse_json(previous.body)
        return self._prepare(policy, method, target, None, body, with_key=same)

    def _judge(
        self,
        policy: SourcePolicy,
        endpoint: str,
        path: str,
        status: int,
        headers: Mapping[str, str],
        data: bytes,
    ) -> float | None:
        """Raise for answers that a retry cannot mend; return the wait the source asked for
        (None: our own backoff) for those it may. A refusal for today is remembered, so that
        the endpoint is not asked again in this run."""
        try:
            return judge(policy, self.settings, self._clock(), path, status, headers, data)
        except BudgetExhausted as exc:
            self._refused[(policy.name, endpoint)] = exc
            raise

    def _too_large(self, policy: SourcePolicy, path: str, exc: TooLarge) -> ResponseTooLarge:
        what = "inflated past" if exc.inflated else "sent more than"
        return ResponseTooLarge(
            f"{policy.label} {what} {self.settings.http_max_mb:g} MB for {path}; the step "
            "stops and nothing of the answer is kept.",
            hint="If the source really sends pages this large, raise TRACER_HTTP_MAX_MB.",
            source=policy.name,
        )

    def _note_budget(self, policy: SourcePolicy, headers: Mapping[str, str]) -> None:
        for header, field in policy.budget_headers:
            value = headers.get(header)
            if value is None:
                continue
            text = clean_message(value)[:40]
            number: Any
            try:
                number = float(text)
                number = int(number) if number.is_integer() else number
            except ValueError:
                number = text
            self._budget.setdefault(policy.name, {})[field] = number

    def _backoff(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return retry_after_s
        first, cap = self.settings.http_backoff, self.settings.http_backoff_cap
        base = min(cap, first * 2.0 ** (attempt - 1))
        return min(cap, base * random.uniform(1.0, 1.25))  # jitter spreads parallel retries
