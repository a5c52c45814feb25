"""Pacing: one key, one pace, across every process that uses it.

A source grants a rate per key (S2: 1 request/s), not per process, so a cron refresh and a
manual scan must share it. Each (source, key) has a file in the data folder holding the time
before which the next request may not start; a file lock (the `filelock` package) makes the
read-wait-write one step across processes. The file is named by source and by a hash of the
key, never the key. Inside a process a thread lock serialises callers as well.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import filelock

log = logging.getLogger(__name__)

PACE_LOCK_WAIT = 60.0  # a holder keeps the lock for one interval at most


def key_digest(key: str | None) -> str:
    """A stable, one-way name for a key ("nokey" for the keyless pool)."""
    if not key:
        return "nokey"
    return hashlib.sha256(b"tracer pace\n" + key.encode()).hexdigest()[:16]


class SharedPacer:
    """Keeps `interval` seconds between the starts of two requests with one key."""

    def __init__(
        self,
        folder: Path | None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.folder = folder  # None: pace inside this process only
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, source: str, key: str | None, interval: float) -> float:
        """Block until a request may start; return the seconds waited."""
        if interval <= 0:
            return 0.0
        name = f"{source}-{key_digest(key)}"
        with self._lock:
            if self.folder is None:
                return self._step(name, interval, None)
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                lock = filelock.FileLock(str(self.folder / f"{name}.lock"), timeout=PACE_LOCK_WAIT)
                with lock:
                    return self._step(name, interval, self.folder / f"{name}.next")
            except (OSError, filelock.Timeout) as exc:
                log.info("pacing %s alone: the shared pace file is unusable (%s)", source, exc)
                return self._step(name, interval, None)

    def _step(self, name: str, interval: float, path: Path | None) -> float:
        now = self._clock()
        start = self._next.get(name, now)
        if path is not None:
            try:
                start = max(start, float(path.read_text(encoding="ascii")))
            except (OSError, ValueError):
                pass  # no file yet, or a torn one: this process's own view stands
        # A clock set back must not stall the run: never wait more than one interval.
        waited = min(interval, max(0.0, start - now))
        if waited > 0:
            self._sleep(waited)
        nxt = now + waited + interval
        self._next[name] = nxt
        if path is not None:
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(repr(nxt), encoding="ascii")
            tmp.replace(path)
        return waited
