"""How the `tracer` process ends when it is interrupted early or late, when the database holds
a corrupt cell, and when stdout cannot be written: exit 130, 7 or a sentence, never a traceback.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.corpora import ORIGIN_CORPUS_ID, add_brainwash, add_citers, use_catalog
from tests.fakeapi.server import FakeApi
from tests.fault_table import record
from tests.helpers import run_cli
from tracer.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
LINUX = Path("/proc/self/maps").exists()


def start(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tracer", *args],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=kwargs.pop("stdout", subprocess.DEVNULL),  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
    )


def loading(pid: int, library: str) -> bool:
    """Whether the process has loaded `library` (its Python code is importing the commands)."""
    try:
        return library in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not LINUX, reason="reads /proc to strike while the commands load")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("after", [0.0, 0.1, 0.25])
def test_a_signal_while_the_program_starts_exits_130(signum: signal.Signals, after: float) -> None:
    process = start("datasets")
    deadline = time.monotonic() + 30
    while not loading(process.pid, "_sqlite3") and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        time.sleep(0.002)
    time.sleep(after)
    assert process.poll() is None, "the command ended before the signal: nothing tested"
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    record(
        "interrupt",
        f"{signum.name} {after:.2f} s into start-up",
        "datasets",
        f"exit {process.returncode}",
        process.returncode,
    )
    assert "Traceback" not in err, err
    assert process.returncode == ExitCode.INTERRUPTED, err
    assert "Interrupted" in err


@pytest.fixture
def world(tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-exit-key")
    monkeypatch.setenv("S2_API_KEY", "s2-exit-key")
    add_brainwash(fake_api.corpus)
    origin = fake_api.corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    add_citers(fake_api.corpus, origin, 40)
    return db


@pytest.mark.parametrize(
    ("first", "second"),
    [(signal.SIGTERM, signal.SIGTERM), (signal.SIGTERM, signal.SIGINT), (signal.SIGINT, signal.SIGINT)],
    ids=["TERM-then-TERM", "TERM-then-INT", "INT-then-INT"],
)
def test_a_second_signal_while_the_process_ends_still_exits_130(
    world: Path, fake_api: FakeApi, first: signal.Signals, second: signal.Signals
) -> None:
    fake_api.inject(r".", "delay", delay=0.2, times=None)
    process = start("scan", "brainwash", "--quiet")
    try:
        deadline = time.monotonic() + 60
        while len(fake_api.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process.poll() is None
        process.send_signal(first)
        assert process.stderr is not None
        line = ""
        while "Interrupted" not in line:  # the process is on its way out
            line = process.stderr.readline()
            if not line:
                break
        process.send_signal(second)
        rest = process.stderr.read()
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    err = line + rest
    record(
        "interrupt",
        f"{first.name}, then {second.name} while ending",
        "scan",
        f"exit {process.returncode}",
        process.returncode,
    )
    assert "Interrupted" in line, err
    assert "Traceback" not in err, err
    assert process.returncode == ExitCode.INTERRUPTED, err


def test_a_corrupt_json_cell_in_runs_exits_7(world: Path) -> None:
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    conn = sqlite3.connect(world)
    conn.execute("UPDATE runs SET stats = '{\"levels\": {\"used\": 1,'")
    conn.commit()
    conn.close()
    for command in (["report", "brainwash"], ["report", "brainwash", "--json"]):
        result = run_cli(*command)
        record("faults", "corrupt JSON in runs.stats", command[0], f"exit {result.code}", result.code)
        assert result.code == ExitCode.DATA, (command, result.code, result.err)
        assert "not valid JSON" in result.err and "Traceback" not in result.err
        assert len([ln for ln in result.err.splitlines() if ln.startswith("Error:")]) == 1


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("command", [["datasets"], ["report", "brainwash"], ["--version"]])
def test_stdout_on_a_full_device_is_said_in_a_sentence(world: Path, command: list[str]) -> None:
    if command[0] == "report":
        assert run_cli("scan", "brainwash", "--quiet").code == 0
    with open("/dev/full", "w") as full:
        process = start(*command, stdout=full)
        _, err = process.communicate(timeout=60)
    record("faults", "stdout on /dev/full", command[0], f"exit {process.returncode}", process.returncode)
    assert process.returncode == ExitCode.DATA, err  # as any file it cannot write
    assert err.startswith("Error: Cannot write to standard output: No space left on device.")
    assert "Traceback" not in err and "Exception ignored" not in err
    assert len(err.strip().splitlines()) == 1
