"""A fake Semantic Scholar + OpenAlex server on 127.0.0.1, one port for both.

    S2        http://127.0.0.1:PORT/graph/v1/...   (settings.s2_api_url)
    OpenAlex  http://127.0.0.1:PORT/openalex/...   (settings.openalex_api_url)

It answers with the real shapes, paging, field selection, limits and error bodies (the S2 ones
as recorded in ../shared/data: {"error": "..."}), records every request, can demand a key, and
injects faults per route: see `FakeApi.inject`.

Statuses as the services document them: OpenAlex answers 403 for "rate limit exceeded, slow
down", 429 when the day's budget is spent (keyless: 100 list calls a day; single records are
free), 401 for a wrong key, and sends its budget on every answer (X-RateLimit-Limit,
X-RateLimit-Remaining, X-RateLimit-Credits-Used, X-RateLimit-Reset); Semantic Scholar answers
403 for a refused key and 429 to slow down.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakeapi import openalex_routes, s2_routes
from tests.fakeapi.common import ApiError, Recorded, Reply
from tests.fakeapi.corpus import Corpus

FAULT_KINDS = (
    "status",
    "delay",
    "cut",
    "malformed",
    "truncated",
    "token_null",
    "body",
    "trickle",  # the real body, one byte every `delay` seconds
    "trickle_head",  # the status line and headers themselves, one byte every `delay` seconds
    "endless",  # 200, chunked, a body that never ends
    "gzip_bomb",  # 200, Content-Encoding gzip: a few KB that inflate to `size` bytes
    "deep_json",  # 200, arrays nested `size` deep
    "redirect",  # 302 to the same URL on another host (`host`, default "localhost")
    "echo_key",  # `status` (400) with a body that repeats the key and control characters
)
OPENALEX_BUDGET = {True: 100_000, False: 100}  # credits a day with and without a key


@dataclass
class Fault:
    route: re.Pattern[str]
    kind: str
    times: int | None  # None: every time
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    method: str | None = None
    fired: int = 0
    body: Any = None  # kind "body": this JSON instead of the real answer (a wrong shape)
    headers: dict[str, str] = field(default_factory=dict)  # sent with a status fault
    size: int = 0  # gzip_bomb: inflated bytes; deep_json: depth
    host: str = "localhost"  # redirect target host


class FakeApi:
    def __init__(self, corpus: Corpus | None = None) -> None:
        self.corpus = corpus or Corpus()
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.require_s2_key: str | None = None  # answer 403 unless x-api-key equals this
        self.require_openalex_key: str | None = None  # list calls only: singletons are free
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.filter_cache: dict[str, tuple[int, list[str]]] = {}
        # OpenAlex budget: credits spent today per key ("" = keyless); a list call costs 1.
        self.openalex_spent: dict[str, int] = {}
        self.openalex_budget = dict(OPENALEX_BUDGET)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeApi:
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stopped = True
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def s2_url(self) -> str:
        return f"{self.base_url}/graph/v1"

    @property
    def openalex_url(self) -> str:
        return f"{self.base_url}/openalex"

    # -- faults and records ---------------------------------------------------------------

    def inject(
        self,
        route: str,
        kind: str = "status",
        *,
        status: int = 503,
        times: int | None = 1,
        retry_after: str | float | None = None,
        delay: float = 0.0,
        method: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        size: int = 0,
        host: str = "localhost",
    ) -> Fault:
        """Answer requests whose path matches `route` (a regex) with a fault, `times` times.

        kinds: status (an error status, optional Retry-After), delay (sleep, then answer),
        cut (close the connection mid-body), malformed (200, not JSON), truncated (200, JSON
        cut short with a matching Content-Length), token_null (a listing ends early: bulk
        search's token, S2 citations' `next`, OpenAlex's `meta.next_cursor`), body (200 with
        `body` as JSON: valid JSON of the wrong shape), and the hostile kinds of FAULT_KINDS.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        fault = Fault(
            re.compile(route),
            kind,
            times,
            status,
            None if retry_after is None else str(retry_after),
            delay,
            method,
            body=body,
            headers=dict(headers or {}),
            size=size,
            host=host,
        )
        self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method and fault.method != method:
                    continue
                if not fault.route.search(path):
                    continue
                if fault.times is not None and fault.fired >= fault.times:
                    continue
                fault.fired += 1
                return fault
        return None

    def requests_to(self, pattern: str, method: str | None = None) -> list[Recorded]:
        rx = re.compile(pattern)
        return [
            r for r in self.requests if rx.search(r.path) and (method is None or r.method == method)
        ]

    def clear_requests(self) -> None:
        self.requests.clear()

    # -- routing --------------------------------------------------------------------------

    def route(self, request: Recorded, fault: Fault | None) -> Reply:
        path = request.path
        try:
            if path.startswith("/graph/v1/"):
                if self.require_s2_key and request.headers.get("x-api-key") != self.require_s2_key:
                    return Reply(403, {"message": "Forbidden"})
                return s2_routes.handle(self, request, path[len("/graph/v1") :], fault)
            if path.startswith("/openalex/"):
                return self._openalex(request, path[len("/openalex") :])
        except ApiError as exc:
            return Reply(exc.status, exc.body)
        return Reply(404, {"error": "Not found", "message": f"No route {path}"})

    def _openalex(self, request: Recorded, path: str) -> Reply:
        key = request.param("api_key") or ""
        if key and self.require_openalex_key and key != self.require_openalex_key:
            return Reply(401, {"error": "Unauthorized", "message": "Invalid API key."})
        is_list = path == "/works"
        with self._lock:
            spent = self.openalex_spent.get(key, 0)
            limit = self.openalex_budget[bool(key)]
            over = is_list and spent >= limit
            if is_list and not over:
                spent = self.openalex_spent[key] = spent + 1
        now = datetime.now(UTC)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        reset = int((midnight - now).total_seconds()) + 1
        budget = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - spent)),
            "X-RateLimit-Credits-Used": "1" if is_list and not over else "0",
            "X-RateLimit-Reset": str(reset),
        }
        if over:
            body = {"error": "Rate limit exceeded", "message": "Daily limit exceeded."}
            return Reply(429, body, {**budget, "Retry-After": str(reset)})
        try:
            reply = openalex_routes.handle(self, request, path)
        except ApiError as exc:
            reply = Reply(exc.status, exc.body)
        reply.headers = {**budget, **reply.headers}
        return reply


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler still sleeping in a fault does not hold up a test's end
    stopped = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A request still being answered when its test stopped the fake (its client timed
        # out and went on): nobody reads the answer, and its traceback would land in the
        # stderr of whatever test runs next.
        if not self.stopped:
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    api: FakeApi
    protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs behind their CDNs

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and delayed
        # ACKs add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Recorded(
            method=method,
            path=unquote(parts.path),
            query={k: v for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            url=self.path,
            at=time.time(),
        )
        self.api.requests.append(request)
        fault = self.api.take_fault(method, request.path)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.delay)
            fault = None
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            headers.update(fault.headers)
            self._send(Reply(fault.status, _status_body(request.path, fault.status), headers))
            return
        if fault is not None and self._hostile(fault, request):
            return
        if fault is not None and fault.kind == "body":
            self._send(Reply(200, fault.body))
            return
        reply = self.api.route(request, fault)
        if fault is not None and fault.kind == "token_null" and isinstance(reply.body, dict):
            reply.body.pop("next", None)  # S2 citations: the page claims to be the last
            if isinstance(reply.body.get("meta"), dict):
                reply.body["meta"] = dict(reply.body["meta"], next_cursor=None)
        if fault is None or fault.kind == "token_null" or reply.status != 200:
            self._send(reply)
            return
        raw = json.dumps(reply.body).encode()
        if fault.kind == "malformed":
            self._send_bytes(200, b"<html>upstream error</html>{", "application/json")
        elif fault.kind == "truncated":
            self._send_bytes(200, raw[: max(1, len(raw) // 2)], "application/json")
        elif fault.kind == "cut":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw[: max(1, len(raw) // 2)])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _hostile(self, fault: Fault, request: Recorded) -> bool:
        """The fault kinds of a broken or hostile server; False for the others."""
        if fault.kind == "redirect":
            target = f"http://{fault.host}:{self.api.port}{request.url}"
            self._send(Reply(302, {"moved": target}, {"Location": target}))
        elif fault.kind == "echo_key":
            key = request.headers.get("x-api-key") or request.param("api_key") or "(none)"
            message = f"Invalid value {key} for \x1b]0;pwned\x07 fields\r\nFAKE: new flag {key}"
            self._send(Reply(fault.status, {"error": message, "message": message}))
        elif fault.kind == "deep_json":
            depth = fault.size or 100_000
            self._send_bytes(200, b"[" * depth + b"]" * depth, "application/json")
        elif fault.kind == "gzip_bomb":
            self._send_bomb(fault.size or 16 * 1024 * 1024)
        elif fault.kind == "endless":
            self._send_endless()
        elif fault.kind == "trickle":
            reply = self.api.route(request, None)
            self._send_trickle(json.dumps(reply.body).encode(), fault.delay or 1.0)
        elif fault.kind == "trickle_head":
            head = b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"." * 2000 + b"\r\n"
            try:
                for byte in head:
                    time.sleep(fault.delay or 1.0)
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:
                pass
            self.close_connection = True
        else:
            return False
        return True

    def _send_bomb(self, size: int) -> None:
        raw = _bomb(size)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_endless(self) -> None:
        chunk = b"[" + b"0," * 32_768
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(4_000):  # ~260 MB, or until the client hangs up
                self.wfile.write(frame)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        self.close_connection = True

    def _send_trickle(self, raw: bytes, delay: float) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.flush()
            for byte in raw:
                time.sleep(delay)
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        self.close_connection = True

    def _send(self, reply: Reply) -> None:
        raw = json.dumps(reply.body).encode()
        self._send_bytes(reply.status, raw, "application/json", reply.headers)

    def _send_bytes(
        self, status: int, raw: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (its timeout): nothing to do


_BOMBS: dict[int, bytes] = {}


def _bomb(size: int) -> bytes:
    """`size` bytes of JSON whitespace in an array, gzipped (about 1 KB per MB)."""
    if size not in _BOMBS:
        squeeze = gzip.compress  # one call; whitespace compresses ~1000:1
        body = b"[" + b" " * max(0, size - 2) + b"]"
        _BOMBS[size] = squeeze(body, compresslevel=9)
    return _BOMBS[size]


def _status_body(path: str, status: int) -> dict[str, Any]:
    """Error bodies as the APIs give them for throttling and outages."""
    if path.startswith("/graph/v1/"):
        if status == 429:
            return {
                "message": "Too Many Requests. Please wait and try again or apply for a key "
                "for higher rate limits.",
                "code": "429",
            }
        return {"message": "Internal Server Error" if status == 500 else "Service Unavailable"}
    if status == 403:  # OpenAlex: too fast (developers.openalex.org, API reference, errors)
        return {"error": "Forbidden", "message": "Rate limit exceeded; slow down."}
    if status == 429:  # OpenAlex: the day's budget is spent
        return {"error": "Too Many Requests", "message": "Daily limit exceeded."}
    return {"error": f"HTTP {status}", "message": "The server could not answer the request."}
