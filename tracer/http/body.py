"""Reading an answer within bounds: a size cap before and after decompression, an overall
deadline however slowly the bytes come, and JSON that cannot blow the stack.

The body is read in pieces (`read1`, so a trickling server cannot make one read wait for many
bytes) and inflated here with zlib's `max_length`, so a gzip bomb is stopped after the cap and
not after it has filled the memory.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
import requests

CHUNK = 64 * 1024
ACCEPT_ENCODING = "gzip, deflate"  # what read_body can inflate; asked for explicitly
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # bodies without one skip the clean-up
# orjson reads an integer of 19 digits or more that does not fit 64 bits as a float, where the
# standard parser keeps it whole: a body that may hold one goes to the standard parser. A number
# follows "[", "," or ":" (and blanks, a minus sign): in a view of the body with every digit as
# "0", those three as "S" and blanks and minus signs dropped, it shows as "S" and 19 zeros (a
# string that shows so too costs only the slower parser). A translation and a substring search
# are C loops over the bytes; a regular expression of digits took ten times as long.
_NUMBER_VIEW = bytes.maketrans(b"0123456789[,:", b"0000000000SSS")
_LONG_NUMBER = b"S" + b"0" * 19


def _may_hold_long_integer(body: bytes) -> bool:
    return body.translate(_NUMBER_VIEW, b" \t\r\n-").find(_LONG_NUMBER) >= 0


class TooLarge(Exception):
    """The answer passed the size cap (`inflated`: after decompression)."""

    def __init__(self, limit: int, inflated: bool) -> None:
        super().__init__(limit)
        self.limit = limit
        self.inflated = inflated


class DeadlinePassed(Exception):
    """The answer was still coming when the request's deadline passed."""


class Undecodable(Exception):
    """A Content-Encoding we did not ask for, or a compressed body that does not inflate."""


class _Inflater:
    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._d = self._new()
        self._first = True

    def _new(self) -> Any:
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS)  # deflate as RFC 9110 means it: zlib

    def feed(self, data: bytes, room: int) -> bytes:
        """Inflate `data`, never more than `room` + 1 bytes (one past the cap tells)."""
        out = bytearray()
        while data and len(out) <= room:
            try:
                piece = self._d.decompress(data, room + 1 - len(out))
            except zlib.error:
                if self._first and self.encoding == "deflate":  # raw deflate, as some send
                    self._d, self._first = zlib.decompressobj(-zlib.MAX_WBITS), False
                    continue
                raise Undecodable(self.encoding) from None
            self._first = False
            out += piece
            if self._d.eof:  # gzip may hold several members
                data = self._d.unused_data
                self._d = self._new() if data else self._d
            else:
                data = self._d.unconsumed_tail
        return bytes(out)


def read_body(
    response: requests.Response,
    *,
    max_bytes: int,
    deadline: float,
    clock: Callable[[], float],
) -> bytes:
    """The whole body of a streamed response, inflated; raises TooLarge, DeadlinePassed,
    Undecodable, or what the connection raises (urllib3/requests errors, OSError)."""
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
        raise Undecodable(encoding)
    inflater = None if encoding == "identity" else _Inflater(encoding)
    raw = response.raw
    out = bytearray()
    wire = 0
    while True:
        if clock() > deadline:
            raise DeadlinePassed()
        data = raw.read1(CHUNK, decode_content=False)
        if not data:
            break
        wire += len(data)
        if wire > max_bytes:
            raise TooLarge(max_bytes, inflated=False)
        out += inflater.feed(data, max_bytes - len(out)) if inflater else data
        if len(out) > max_bytes:
            raise TooLarge(max_bytes, inflated=inflater is not None)
    return bytes(out)


def parse_json(body: bytes) -> Any:
    """The JSON value of `body`, or None when it is not JSON (cut, malformed, nested past what
    the parser can hold). Lone UTF-16 halves ("\\ud800") become U+FFFD: SQLite and files want
    UTF-8."""
    if isinstance(body, bytes) and not _may_hold_long_integer(body):
        # orjson first (a listing page is megabytes): where it reads a body at all, it reads it
        # as the standard parser does, and it refuses every lone surrogate, so what it returns
        # needs no clean-up. What it refuses (NaN, a byte order mark, a lone surrogate, a
        # float past the double range), a bare value and a body that may hold a long integer
        # (not given to orjson at all) are the standard parser's to answer, as before.
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
        else:
            if isinstance(value, dict | list):
                return value
    try:
        value = json.loads(body)
        if _SURROGATE_ESCAPE.search(body):
            value = _without_lone_surrogates(value)
        return value
    except (ValueError, RecursionError):
        return None


def _without_lone_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def retry_after(value: str | None, now: Callable[[], float]) -> float | None:
    """Seconds a `Retry-After` asks for: delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


def when_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
