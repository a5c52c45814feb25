"""A fake Semantic Scholar + OpenAlex server on 127.0.0.1, one port for both.

    S2        http://127.0.0.1:PORT/graph/v1/...   (settings.s2_api_url)
    OpenAlex  http://127.0.0.1:PORT/openalex/...   (settings.openalex_api_url)

It answers with the real shapes, paging, field selection, limits and error bodies (the S2 ones
as recorded in ../shared/data: {"error": "..."}), records every request, can demand a key, and
injects faults per route: see `FakeApi.inject`.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakeapi import openalex_routes, s2_routes
from tests.fakeapi.common import ApiError, Recorded, Reply
from tests.fakeapi.corpus import Corpus

FAULT_KINDS = ("status", "delay", "cut", "malformed", "truncated", "token_null", "body")


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

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeApi:
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
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
    ) -> Fault:
        """Answer requests whose path matches `route` (a regex) with a fault, `times` times.

        kinds: status (an error status, optional Retry-After), delay (sleep, then answer),
        cut (close the connection mid-body), malformed (200, not JSON), truncated (200, JSON
        cut short with a matching Content-Length), token_null (a listing ends early: bulk
        search's token, S2 citations' `next`, OpenAlex's `meta.next_cursor`), body (200 with
        `body` as JSON: valid JSON of the wrong shape).
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
                return openalex_routes.handle(self, request, path[len("/openalex") :])
        except ApiError as exc:
            return Reply(exc.status, exc.body)
        return Reply(404, {"error": "Not found", "message": f"No route {path}"})


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
        )
        self.api.requests.append(request)
        fault = self.api.take_fault(method, request.path)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.delay)
            fault = None
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._send(Reply(fault.status, _status_body(request.path, fault.status), headers))
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
    return {"error": f"HTTP {status}", "message": "The server could not answer the request."}
