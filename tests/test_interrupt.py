"""Ctrl-C, SIGTERM and a hard kill in the middle of a real `python -m tracer scan` process.

The fake server slows every answer down so that there is time to strike; the signal goes out
after a chosen share of the requests an uninterrupted scan makes (plus a random, seeded
jitter, so that it lands in different steps). The next scan must complete, and the database
must then hold what an uninterrupted scan's database holds.

SIGINT and SIGTERM both end the run as `interrupted` with exit code 130; a SIGKILL leaves the
run `running` forever, and that must not confuse the next scan or the report.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.corpora import ORIGIN_CORPUS_ID, add_brainwash, add_citers, use_catalog
from tests.fakeapi.server import FakeApi
from tests.fault_table import integrity_ok, record, snapshot
from tests.helpers import run_cli
from tracer.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
DELAY = 0.15  # seconds per answer: a scan of this corpus then takes a couple of seconds

MOMENTS = [
    (signal.SIGINT, 0.1),
    (signal.SIGINT, 0.5),
    (signal.SIGTERM, 0.3),
    (signal.SIGTERM, 0.8),
    (signal.SIGKILL, 0.6),
]


@pytest.fixture
def world(tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-interrupt-key")
    monkeypatch.setenv("S2_API_KEY", "s2-interrupt-key")
    monkeypatch.setenv("TRACER_HTTP_RETRIES", "2")
    add_brainwash(fake_api.corpus)
    origin = fake_api.corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 120)
    return tmp_path


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.01)
    return False


def last_run(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("SELECT status FROM runs ORDER BY id DESC").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("signum", "share"), MOMENTS, ids=[f"{s.name}-at-{int(f * 100)}%" for s, f in MOMENTS]
)
def test_interrupted_scan_resumes_to_the_same_database(
    signum: signal.Signals,
    share: float,
    world: Path,
    fake_api: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The uninterrupted scan, with its own database and cache.
    monkeypatch.setenv("TRACER_DB", str(world / "reference.db"))
    monkeypatch.setenv("TRACER_DATA_DIR", str(world / "reference-data"))
    reference = run_cli("scan", "brainwash", "--quiet")
    assert reference.code == 0, reference.err
    total = len(fake_api.requests)
    expected = snapshot(world / "reference.db")

    db = world / "interrupted.db"
    monkeypatch.setenv("TRACER_DB", str(db))
    monkeypatch.setenv("TRACER_DATA_DIR", str(world / "data"))
    fake_api.clear_requests()
    fake_api.inject(r".", "delay", delay=DELAY, times=None)
    strike_after = max(1, int(total * share))
    process = subprocess.Popen(
        [sys.executable, "-m", "tracer", "scan", "brainwash", "--quiet"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: len(fake_api.requests) >= strike_after, 30)
        time.sleep(random.Random(strike_after).uniform(0, DELAY))
        assert process.poll() is None, "the scan finished before the signal: nothing tested"
        process.send_signal(signum)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    name = f"{signum.name} after {strike_after}/{total} requests"
    assert "Traceback" not in err, err
    if signum == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == ExitCode.INTERRUPTED, err
        assert "Interrupted" in err
        assert last_run(db) == "interrupted"
    assert integrity_ok(db)
    kept = snapshot(db)

    fake_api.faults.clear()
    resumed = run_cli("scan", "brainwash", "--quiet")
    assert "Traceback" not in resumed.err
    assert resumed.code == 0, resumed.err
    assert last_run(db) == "ok"
    after = snapshot(db)
    record(
        "interrupt",
        name,
        "scan",
        f"exit {process.returncode}; rescan ok, {'same' if after == expected else 'DIFFERENT'}",
        process.returncode,
        after.lost_since(kept),
    )
    assert after == expected
    assert integrity_ok(db)
    shown = run_cli("report", "brainwash")
    assert shown.code == 0 and "Traceback" not in shown.err, shown.err


def test_two_scans_at_once_share_one_database(
    world: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes scan the same dataset into the same database and cache at the same time
    (a cron job and a user, say): both finish, and the database is what one scan makes."""
    monkeypatch.setenv("TRACER_DB", str(world / "reference.db"))
    monkeypatch.setenv("TRACER_DATA_DIR", str(world / "reference-data"))
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    expected = snapshot(world / "reference.db")

    db = world / "shared.db"
    monkeypatch.setenv("TRACER_DB", str(db))
    monkeypatch.setenv("TRACER_DATA_DIR", str(world / "data"))
    fake_api.inject(r".", "delay", delay=0.05, times=None)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tracer", "scan", "brainwash", "--quiet"],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    codes = [p.returncode for p in processes]
    record("interrupt", "two scans at once, one database", "scan", f"exits {codes}", max(codes))
    for err in errors:
        assert "Traceback" not in err, err
    assert codes == [0, 0], errors
    assert integrity_ok(db)
    assert snapshot(db) == expected
    conn = sqlite3.connect(db)
    statuses = [r[0] for r in conn.execute("SELECT status FROM runs")]
    conn.close()
    assert statuses == ["ok", "ok"]


def test_interrupted_refresh_keeps_reports_and_lock_free(
    world: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM (a cron timeout) mid-refresh: exit 130, last night's reports still whole, the
    lock free for the next run, which completes."""
    monkeypatch.setenv("TRACER_DB", str(world / "tracer.db"))
    out = world / "reports"
    assert run_cli("refresh", "brainwash", "--out", str(out), "--quiet").code == 0
    reports = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    origin = fake_api.corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 30, start=7000)
    assert run_cli("cache", "clear", "--quiet").code == 0
    fake_api.clear_requests()
    fake_api.inject(r".", "delay", delay=DELAY, times=None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tracer", "refresh", "brainwash", "--out", str(out), "--full"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: len(fake_api.requests) >= 4, 30)
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    record(
        "interrupt",
        "SIGTERM during refresh",
        "refresh",
        f"exit {process.returncode}",
        process.returncode,
    )
    assert "Traceback" not in err, err
    assert process.returncode == ExitCode.INTERRUPTED, err
    for path in reports:
        assert path.exists() and path.read_bytes(), path  # no report lost or half-written
    assert not [p for p in out.rglob("*.tmp")]
    assert integrity_ok(world / "tracer.db")
    fake_api.faults.clear()
    again = run_cli("refresh", "brainwash", "--out", str(out), "--quiet")
    assert again.code == 0, again.err  # the lock was released
    titles = {t for t, _, _ in snapshot(world / "tracer.db").papers}
    assert {f"citing paper number {n}" for n in range(7000, 7030)} <= titles
