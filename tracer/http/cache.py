"""The HTTP response cache: a small table in one SQLite file, with SQLite's own busy timeout.

It keeps only what a later run needs: the body of a good answer (status 200, JSON the caller
accepted), under a key made from the method, the URL without key parameters, and the request
body; never a request header, a redirect history or a URL that carries a key. A lock held by
another process is waited for CACHE_LOCK_WAIT seconds at most (SQLite's busy timeout, not a
loop of ours); a write that fails (a full disk) is a lost cache entry, not a failed run.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

log = logging.getLogger(__name__)

CACHE_LOCK_WAIT = 30.0  # seconds to wait for another process's write to the cache
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS responses_v2 ("
    " key TEXT PRIMARY KEY, url TEXT NOT NULL, body BLOB NOT NULL,"
    " stored REAL NOT NULL, expires REAL NOT NULL)"
)
# Tables of the requests-cache file this one replaces: they may hold request headers (a key
# among them) in redirect histories, so they go, their pages overwritten (secure_delete).
_OLD_TABLES = ("responses", "redirects")


class CacheUnusable(Exception):
    """The cache file cannot be opened or created (corrupt, unreadable, no room)."""


def strip_params(url: str, secret_params: Iterable[str]) -> str:
    """`url` without the named query parameters, its query sorted: the cache's view of it."""
    parts = urlsplit(url)
    drop = {p.lower() for p in secret_params}
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in drop
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def cache_key(method: str, url: str, body: bytes | None) -> str:
    digest = hashlib.sha256(method.encode() + b" " + url.encode() + b"\n" + (body or b""))
    return digest.hexdigest()


class ResponseCache:
    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(path), timeout=CACHE_LOCK_WAIT, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA secure_delete = ON")
            names = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master")}
            for old in _OLD_TABLES:
                if old in names:
                    self._conn.execute(f"DROP TABLE {old}")  # fixed names, no outside text
            self._conn.execute(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise CacheUnusable(str(exc)) from None

    def get(self, key: str) -> bytes | None:
        """The stored body if it has not expired; None otherwise (or if the cache is busy)."""
        with self._lock:
            try:
                row = self._conn.execute(
                    "SELECT body, expires FROM responses_v2 WHERE key = ?", (key,)
                ).fetchone()
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    return None
                raise CacheUnusable(str(exc)) from None
            except sqlite3.DatabaseError as exc:
                raise CacheUnusable(str(exc)) from None
        if row is None or row[1] <= self._clock():
            return None
        return bytes(row[0])

    def put(self, key: str, url: str, body: bytes, ttl: float) -> None:
        now = self._clock()
        with self._lock:
            try:
                self._conn.execute(
                    "INSERT OR REPLACE INTO responses_v2 (key, url, body, stored, expires) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (key, url, body, now, now + ttl),
                )
            except sqlite3.DatabaseError as exc:  # full disk, lock held too long: a lost entry
                log.info("HTTP cache: could not store an answer (%s)", exc)

    def delete(self, key: str) -> None:
        with self._lock:
            try:
                self._conn.execute("DELETE FROM responses_v2 WHERE key = ?", (key,))
            except sqlite3.DatabaseError as exc:
                log.info("HTTP cache: could not forget an answer (%s)", exc)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
