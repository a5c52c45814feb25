"""Fault and abuse cases of the HTTP layer: statuses as the services mean them, waits that are
refusals, bounds on time and size, keys that must not travel or be written, bodies that must
not crash the parser, pacing shared across processes. Each case goes into the fault table.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.corpora import add_brainwash, use_catalog
from tests.fakeapi import FakeApi, openalex_work, s2_paper
from tests.fault_table import integrity_ok, record, snapshot
from tests.helpers import Run, run_cli
from tracer.config import Settings, load_settings
from tracer.errors import (
    AuthError,
    BudgetExhausted,
    ExitCode,
    ResponseTooLarge,
    SourceError,
    clean_message,
    redact,
)
from tracer.http import HttpClient, SourcePolicy
from tracer.sources.openalex import OpenAlex
from tracer.sources.semanticscholar import SemanticScholar

ROOT = Path(__file__).resolve().parents[1]
S2_KEY = "s2KEY-5c1d9e7a3b2f4860"
OA_KEY = "oaKEY-8f0a2c4e6b1d3957"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # what no message may carry


class Waits:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def small(api: FakeApi) -> None:
    origin = api.corpus.add_s2_paper(s2_paper(0, title="Brainwash: a crowd dataset"))
    for i in range(1, 4):
        api.corpus.add_s2_paper(s2_paper(i))
        api.corpus.add_s2_citation(origin, s2_paper(i)["paperId"], contexts=[f"context {i}"])
    wid = api.corpus.add_openalex_work(openalex_work(0))
    for i in range(1, 4):
        api.corpus.add_openalex_work(openalex_work(i, referenced_works=[wid]))


def outcome(exc: BaseException | None, extra: str = "") -> str:
    if exc is None:
        return ("ok " + extra).strip()
    return f"{type(exc).__name__}: {getattr(exc, 'message', str(exc))}"[:60]


def keys_in(*texts: str) -> bool:
    return any(k in t for t in texts for k in (S2_KEY, OA_KEY))


# -- statuses as each service means them ------------------------------------------------------


def test_openalex_403_is_slow_down_and_retried(fake_api: FakeApi) -> None:
    small(fake_api)
    fake_api.inject(r"/openalex/works$", status=403, times=2)
    waits = Waits()
    client = HttpClient(load_settings(), sleep=waits)
    works = list(OpenAlex(client).citing_works(["W7000000"]))
    record("http", "OA 403 = slow down, retried", "client", outcome(None), 0)
    assert len(works) == 3
    assert len(waits.calls) == 2 and len(fake_api.requests_to(r"/works$")) == 3


def test_openalex_401_or_a_403_naming_the_key_is_an_auth_error(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    small(fake_api)
    fake_api.require_openalex_key = OA_KEY
    monkeypatch.setenv("OPENALEX_API_KEY", "wrong-" + OA_KEY)
    with pytest.raises(AuthError) as info:
        list(OpenAlex(HttpClient(load_settings(), sleep=Waits())).citing_works(["W7000000"]))
    assert info.value.status == 401 and "refused the API key" in info.value.message
    monkeypatch.delenv("OPENALEX_API_KEY")  # no key: the fake's list route says it needs one
    with pytest.raises(AuthError) as info:
        list(OpenAlex(HttpClient(load_settings(), sleep=Waits())).citing_works(["W7000000"]))
    assert info.value.status == 403 and "requires an API key" in info.value.message
    record("http", "OA 401 / 403 naming the key", "client", outcome(info.value), 0)


def test_openalex_429_means_budget_spent_and_stops_at_once(fake_api: FakeApi) -> None:
    small(fake_api)
    fake_api.openalex_budget[False] = 0  # keyless, and today's 100 list calls are gone
    waits = Waits()
    client = HttpClient(load_settings(), sleep=waits)
    oa = OpenAlex(client)
    with pytest.raises(BudgetExhausted) as info:
        list(oa.citing_works(["W7000000"]))
    error = info.value
    record("http", "OA 429 = budget spent", "client", outcome(error), 0)
    assert waits.calls == [] and len(fake_api.requests_to(r"/works$")) == 1
    assert "budget is spent" in error.message and "may be tried again after" in error.message
    assert error.retry_at is not None and error.retry_at > datetime.now(UTC)
    assert error.retry_at - datetime.now(UTC) <= timedelta(days=1, seconds=5)
    with pytest.raises(BudgetExhausted):  # the next list call is not even sent
        list(oa.citing_works(["W7000000"]))
    assert len(fake_api.requests_to(r"/works$")) == 1
    assert oa.work("W7000000") is not None  # single records are free and still answered


def test_scan_with_openalex_budget_spent_ends_partial_with_a_sentence(
    tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = use_catalog(tmp_path, monkeypatch)
    add_brainwash(fake_api.corpus)
    monkeypatch.setenv("OPENALEX_API_KEY", OA_KEY)
    fake_api.openalex_budget[True] = 0  # the key's day of list calls is gone
    started = time.monotonic()
    result = run_cli("scan", "brainwash", "--quiet")
    took = time.monotonic() - started
    record(
        "http",
        "scan, OA budget spent",
        "scan",
        first_error(result),
        result.code,
        traceback="Traceback" in result.err,
    )
    assert "Traceback" not in result.err
    assert result.code == ExitCode.PARTIAL, result.err
    assert "OpenAlex says the day's budget is spent" in result.err
    assert "tried again after" in result.err
    assert len(fake_api.requests_to(r"^/openalex/works$")) <= 2  # not one retry per page
    assert snapshot(db).papers  # Semantic Scholar's papers are in
    assert took < 30


def test_semantic_scholar_403_is_the_key_and_429_is_slow_down(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    small(fake_api)
    fake_api.inject(r"/paper/[^/]+$", status=429, times=2)
    waits = Waits()
    assert SemanticScholar(HttpClient(load_settings(), sleep=waits)).paper("CorpusId:100000")
    assert len(waits.calls) == 2
    fake_api.require_s2_key = S2_KEY
    monkeypatch.setenv("S2_API_KEY", "wrong")
    with pytest.raises(AuthError) as info:
        SemanticScholar(HttpClient(load_settings(), cache=False)).paper("CorpusId:100000")
    record("http", "S2 429 retried, 403 = key", "client", outcome(info.value), 0)
    assert info.value.status == 403


# -- waits that are refusals, and the backoff ------------------------------------------------


def test_a_day_long_retry_after_ends_the_step_at_once(fake_api: FakeApi) -> None:
    small(fake_api)
    fake_api.inject(r"/citations$", status=429, retry_after=86_400, times=None)
    waits = Waits()
    client = HttpClient(load_settings(), sleep=waits)
    with pytest.raises(BudgetExhausted) as info:
        SemanticScholar(client).citations("CorpusId:100000")
    record("http", "Retry-After 86400 s", "client", outcome(info.value), 0)
    assert waits.calls == [] and len(fake_api.requests_to(r"/citations$")) == 1
    assert "asks to wait 86400 s" in info.value.message
    assert info.value.retry_at is not None
    assert abs((info.value.retry_at - datetime.now(UTC)).total_seconds() - 86_400) < 60


def test_retry_after_as_an_http_date(fake_api: FakeApi) -> None:
    small(fake_api)
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    fake_api.inject(r"/paper/[^/]+$", status=503, retry_after=soon, times=1)
    waits = Waits()
    assert SemanticScholar(HttpClient(load_settings(), sleep=waits)).paper("CorpusId:100000")
    record(
        "http",
        "Retry-After as HTTP-date",
        "client",
        outcome(None, f"waited {sum(waits.calls):.0f} s"),
        0,
    )
    assert len(waits.calls) == 1 and 27 <= waits.calls[0] <= 31
    late = format_datetime(datetime.now(UTC) + timedelta(hours=6), usegmt=True)
    fake_api.inject(r"/paper/[^/]+$", status=503, retry_after=late, times=1)
    with pytest.raises(BudgetExhausted):
        SemanticScholar(HttpClient(load_settings(), sleep=waits)).paper("CorpusId:100001")


def test_backoff_is_a_few_seconds_first_capped_near_a_minute_with_the_hook(
    fake_api: FakeApi,
) -> None:
    small(fake_api)
    fake_api.inject(r"/paper/[^/]+$", status=503, times=7)
    waits = Waits()
    client = HttpClient(load_settings(), sleep=waits)
    shown: list[tuple[str, str, float]] = []
    client.on_wait = lambda label, text, seconds: shown.append((label, text, seconds))
    assert SemanticScholar(client).paper("CorpusId:100000") is not None  # the 8th attempt
    record(
        "http", "7 x 503 then ok: backoff", "client", outcome(None, f"{sum(waits.calls):.0f} s"), 0
    )
    assert len(waits.calls) == 7
    assert 2.0 <= waits.calls[0] <= 2.5 and 4.0 <= waits.calls[1] <= 5.0
    assert waits.calls == sorted(waits.calls) and max(waits.calls) == 60.0
    assert [s for _, _, s in shown] == waits.calls
    label, text, seconds = shown[0]
    assert label == "Semantic Scholar"
    assert text == f"Semantic Scholar: HTTP 503, waiting {seconds:.0f} s, attempt 2 of 8"


# -- bounds: deadline, size, decompression, nesting -------------------------------------------


def test_a_trickling_server_is_cut_at_the_deadline(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    small(fake_api)
    monkeypatch.setenv("TRACER_HTTP_DEADLINE", "1")
    monkeypatch.setenv("TRACER_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("TRACER_HTTP_RETRIES", "2")
    fake_api.inject(r"/paper/[^/]+$", "trickle", delay=0.05, times=None)  # 20 bytes/s
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        SemanticScholar(HttpClient(load_settings(), sleep=Waits())).paper("CorpusId:100000")
    took = time.monotonic() - started
    record("http", "trickle 20 B/s, deadline 1 s", "client", outcome(info.value), 0)
    assert "1 s deadline" in info.value.message
    assert took < 2 * (1 + 0.5) + 1.5  # two attempts, each the deadline plus one read at most


def test_trickled_headers_are_cut_at_the_deadline_too(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    small(fake_api)
    monkeypatch.setenv("TRACER_HTTP_DEADLINE", "1")
    monkeypatch.setenv("TRACER_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("TRACER_HTTP_RETRIES", "2")
    fake_api.inject(r"/paper/[^/]+$", "trickle_head", delay=0.05, times=None)
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        SemanticScholar(HttpClient(load_settings(), sleep=Waits())).paper("CorpusId:100000")
    took = time.monotonic() - started
    record("http", "headers trickled, deadline 1 s", "client", outcome(info.value), 0)
    assert "1 s deadline" in info.value.message
    assert took < 2 * 1 + 1.5
    fake_api.faults.clear()  # and the client is still good for the next request
    client = HttpClient(load_settings(), sleep=Waits())
    assert SemanticScholar(client).paper("CorpusId:100000") is not None


def test_an_endless_body_stops_at_the_size_cap(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    small(fake_api)
    monkeypatch.setenv("TRACER_HTTP_MAX_MB", "1")
    fake_api.inject(r"/citations$", "endless", times=None)
    with pytest.raises(ResponseTooLarge) as info:
        SemanticScholar(HttpClient(load_settings(), sleep=Waits())).citations("CorpusId:100000")
    record("http", "endless chunked body, cap 1 MB", "client", outcome(info.value), 0)
    assert "sent more than 1 MB" in info.value.message
    assert len(fake_api.requests_to(r"/citations$")) == 1  # not fetched again


def test_a_gzip_bomb_stops_at_the_cap_and_nothing_is_cached(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    small(fake_api)
    monkeypatch.setenv("TRACER_HTTP_MAX_MB", "1")
    fake_api.inject(r"/works/", "gzip_bomb", size=16 * 1024 * 1024, times=1)
    with pytest.raises(ResponseTooLarge) as info:
        OpenAlex(HttpClient(load_settings(), sleep=Waits())).work("W7000000")
    record("http", "gzip bomb 16 MB, cap 1 MB", "client", outcome(info.value), 0)
    assert "inflated past 1 MB" in info.value.message
    again = HttpClient(load_settings())
    assert OpenAlex(again).work("W7000000") is not None
    assert again.total_requests == 1  # asked again: the bomb was not cached


def test_gzip_answers_within_the_cap_are_read(fake_api: FakeApi) -> None:
    small(fake_api)
    fake_api.inject(r"/works/", "gzip_bomb", size=200_000, times=None)
    client = HttpClient(load_settings(), cache=False, sleep=Waits())
    url = f"{fake_api.openalex_url}/works/W7000000"
    assert client.get_json("openalex", "work", url) == []  # '[' + spaces + ']' inflated


@pytest.mark.parametrize("route", [r"/paper/[^/]+$", r"/openalex/works/"])
def test_json_nested_100000_deep_is_an_unreadable_body(fake_api: FakeApi, route: str) -> None:
    small(fake_api)
    fake_api.inject(route, "deep_json", times=None)
    client = HttpClient(load_settings(http_retries=2), sleep=Waits())
    with pytest.raises(SourceError) as info:
        if "openalex" in route:
            OpenAlex(client).work("W7000000")
        else:
            SemanticScholar(client).paper("CorpusId:100000")
    record("http", f"JSON nested 100,000 deep ({route[:8]})", "client", outcome(info.value), 0)
    assert "unreadable" in info.value.message


# -- keys: redirects, the cache, echoed in errors ----------------------------------------------


def test_the_key_does_not_follow_a_redirect_to_another_host(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    small(fake_api)
    monkeypatch.setenv("S2_API_KEY", S2_KEY)
    monkeypatch.setenv("OPENALEX_API_KEY", OA_KEY)
    fake_api.inject(r"/paper/[^/]+$", "redirect", host="localhost", times=1)
    fake_api.inject(r"/openalex/works/", "redirect", host="localhost", times=1)
    fake_api.inject(r"/citations$", "redirect", host="127.0.0.1", times=1)  # same host
    client = HttpClient(load_settings(), sleep=Waits())
    assert SemanticScholar(client).paper("CorpusId:100000") is not None
    assert OpenAlex(client).work("W7000000") is not None
    assert len(SemanticScholar(client).citations("CorpusId:100000").items) == 3
    client.close()
    paper = [r for r in fake_api.requests if r.path.endswith("CorpusId:100000")]
    assert [("x-api-key" in r.headers, r.headers["host"].split(":")[0]) for r in paper] == [
        (True, "127.0.0.1"),
        (False, "localhost"),
    ]
    work = [r for r in fake_api.requests if r.path.endswith("/works/W7000000")]
    assert [r.param("api_key") for r in work] == [OA_KEY, None]
    citations = fake_api.requests_to(r"/citations$")
    assert all(r.headers.get("x-api-key") == S2_KEY for r in citations)  # same origin: kept
    raw = b"".join(p.read_bytes() for p in isolated_env.glob("http-cache.sqlite*"))
    leak = S2_KEY.encode() in raw or OA_KEY.encode() in raw
    record("http", "redirect to another host", "client", "key dropped, not cached", 0, leak=leak)
    assert not leak and b"localhost" not in raw  # no redirect history is kept


@pytest.fixture
def keyed_world(tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("S2_API_KEY", S2_KEY)
    monkeypatch.setenv("OPENALEX_API_KEY", OA_KEY)
    monkeypatch.setenv("TRACER_HTTP_RETRIES", "2")
    add_brainwash(fake_api.corpus)
    return db


def first_error(result: Run) -> str:
    return next((line for line in result.err.splitlines() if line.startswith("Error:")), "ok")


@pytest.mark.parametrize("route", [r"^/graph/v1/paper/[^/]+/citations", r"^/openalex/works$"])
def test_a_400_that_echoes_the_key_is_redacted_everywhere(
    keyed_world: Path, fake_api: FakeApi, tmp_path: Path, route: str
) -> None:
    fake_api.inject(route, "echo_key", status=400, times=None)
    result = run_cli("scan", "brainwash")
    written = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    leak = keys_in(result.out, result.err) or any(k.encode() in written for k in (S2_KEY, OA_KEY))
    record(
        "http",
        f"400 echoes key ({route[1:12]})",
        "scan",
        first_error(result)[:60],
        result.code,
        traceback="Traceback" in result.err,
        leak=leak,
    )
    assert fake_api.faults[0].fired > 0
    assert "Traceback" not in result.err
    assert result.code == ExitCode.PARTIAL, result.err
    assert not leak
    assert "REDACTED" in result.err
    for line in result.err.splitlines():
        assert not CONTROL.search(line), repr(line)
    assert not any(line.startswith("FAKE:") for line in result.err.splitlines())
    errors = sqlite3.connect(keyed_world).execute("SELECT error FROM runs").fetchall()
    assert any(e and "REDACTED" in e for (e,) in errors)
    assert integrity_ok(keyed_world)


def test_redact_and_one_line() -> None:
    settings = Settings(s2_api_key=S2_KEY, openalex_api_key=OA_KEY)
    text = f"bad {S2_KEY} and {OA_KEY}?api_key=zzz9\r\nFAKE: \x1b]52;c;x\x07"
    cleaned = clean_message(text, settings)
    assert S2_KEY not in cleaned and "zzz9" not in cleaned and "\x1b" not in cleaned
    assert "\n" not in cleaned and "\r" not in cleaned and cleaned.count("REDACTED") == 3
    assert redact("no keys here", settings) == "no keys here"
    assert redact(f"x {S2_KEY}", None, secrets=[S2_KEY]) == "x REDACTED"


# -- the cache on a full disk, and no private method patched -----------------------------------


def _limit_files() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


def test_a_fresh_cache_on_a_full_disk_fails_with_a_sentence(
    fake_api: FakeApi, isolated_env: Path
) -> None:
    small(fake_api)
    script = (
        "from tracer.config import load_settings\n"
        "from tracer.errors import TracerError\n"
        "from tracer.http import HttpClient\n"
        "from tracer.sources.semanticscholar import SemanticScholar\n"
        "try:\n"
        "    SemanticScholar(HttpClient(load_settings())).paper('CorpusId:100000')\n"
        "    print('ok')\n"
        "except TracerError as exc:\n"
        "    print('Error:', exc.message, 'Hint:', exc.hint)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_files,  # noqa: PLW1509 - no threads in the child yet
        check=False,
    )
    took = time.monotonic() - started
    record(
        "http",
        "fresh cache, full disk",
        "client",
        done.stdout.strip()[:60],
        done.returncode,
        traceback="Traceback" in done.stderr,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout.startswith(("Error: The HTTP cache", "ok")), done.stdout
    assert took < 30


def test_the_client_patches_no_private_method_of_a_dependency() -> None:
    import ast

    files = sorted((ROOT / "tracer" / "http").glob("*.py"))
    assert len(files) >= 2, "tracer/http is a package"
    source = "".join(p.read_text() for p in files)
    assert "_acquire_sqlite_lock" not in source and "MethodType" not in source
    assert "requests_cache" not in source
    # and names no source in its code: the policies come from the source modules
    literals = {
        node.value
        for p in files
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert not literals & {"s2", "openalex", "Semantic Scholar", "OpenAlex", "x-api-key"}


# -- policies and budgets ----------------------------------------------------------------------


def test_a_third_source_is_served_from_its_policy_alone(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    small(fake_api)
    monkeypatch.setenv("S2_API_KEY", S2_KEY)
    third = SourcePolicy(
        name="third",
        label="Third Index",
        key_setting="s2_api_key",
        key_param="token",
        auth_statuses=frozenset({401}),
        slow_down_statuses=frozenset({418}),
    )
    client = HttpClient(load_settings(), policies=[third], sleep=Waits())
    fake_api.inject(r"/paper/", status=418, times=1)
    body = client.get_json("third", "paper", f"{fake_api.s2_url}/paper/CorpusId:100000")
    assert body["title"] == "Brainwash: a crowd dataset"
    assert [r.param("token") for r in fake_api.requests] == [S2_KEY, S2_KEY]
    assert client.request_counts() == {"third": {"paper": 2}}
    with pytest.raises(ValueError, match="no SourcePolicy"):
        client.get_json("s2", "paper", f"{fake_api.s2_url}/paper/CorpusId:100000")
    client.close()
    raw = b"".join(p.read_bytes() for p in isolated_env.glob("http-cache.sqlite*"))
    record("http", "third source from its policy", "client", "ok", 0, leak=S2_KEY.encode() in raw)
    assert S2_KEY.encode() not in raw


def test_openalex_budget_headers_are_recorded(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    small(fake_api)
    monkeypatch.setenv("OPENALEX_API_KEY", OA_KEY)
    client = HttpClient(load_settings(), cache=False)
    oa = OpenAlex(client)
    list(oa.citing_works(["W7000000"]))
    list(oa.citing_works(["W7000000"]))
    budget = client.budget()
    record("http", "OA budget headers", "client", json.dumps(budget.get("openalex"))[:60], 0)
    lists = len(fake_api.requests_to(r"/openalex/works$"))
    assert budget["openalex"]["limit"] == 100_000
    assert budget["openalex"]["remaining"] == 100_000 - lists
    assert "s2" not in budget  # S2 sends none


# -- one key, one pace, across processes ------------------------------------------------------

PACED = """
import sys
from tracer.config import load_settings
from tracer.http import HttpClient
from tracer.sources.semanticscholar import SemanticScholar
s2 = SemanticScholar(HttpClient(load_settings()))
for n in range(int(sys.argv[1])):
    s2.citation_counts([f"CorpusId:{100000 + n}"])
"""


def test_two_processes_sharing_a_key_stay_at_one_s2_request_per_second(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    small(fake_api)
    monkeypatch.setenv("S2_API_KEY", S2_KEY)
    monkeypatch.setenv("TRACER_RATE_LIMIT", "1")  # pacing is what this test is about
    monkeypatch.setenv("TRACER_NO_CACHE", "1")
    each = 3
    procs = [
        subprocess.Popen([sys.executable, "-c", PACED, str(each)], cwd=ROOT, env=dict(os.environ))
        for _ in range(2)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    times = sorted(r.at for r in fake_api.requests if r.path.startswith("/graph/v1/"))
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    record(
        "http",
        "2 processes, 1 key: S2 pace",
        "client",
        f"{len(times)} requests, min gap {min(gaps):.2f} s",
        0,
    )
    assert len(times) == 2 * each
    assert times[-1] - times[0] >= (len(times) - 1) * 0.95, gaps  # <= 1 request/s together
    assert min(gaps) >= 0.9, gaps  # 1 s apart, less what the network adds to one arrival


def _limit_to_40k() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))


def test_a_scan_with_a_fresh_cache_on_a_full_disk_ends_with_a_sentence(
    keyed_world: Path, fake_api: FakeApi
) -> None:
    """The database is there, the cache was cleared, the disk is full: the scan ends with a
    data error (it used to hang in the cache's lock loop while the cache was being built)."""
    fake_api.require_s2_key = S2_KEY
    assert run_cli("scan", "brainwash", "--quiet").code == 0
    before = snapshot(keyed_world)
    assert run_cli("cache", "clear", "--quiet").code == 0
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tracer", "scan", "brainwash", "--quiet", "--full"],
            cwd=ROOT,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=45,
            preexec_fn=_limit_to_40k,  # noqa: PLW1509 - no threads in the child yet
            check=False,
        )
    except subprocess.TimeoutExpired:
        record("http", "scan, fresh cache, full disk", "scan", "hung (killed after 45 s)", -9)
        raise
    took = time.monotonic() - started
    lost = snapshot(keyed_world).lost_since(before)
    record(
        "http",
        "scan, fresh cache, full disk",
        "scan",
        done.stderr.strip()[:60],
        done.returncode,
        lost,
        traceback="Traceback" in done.stderr,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == ExitCode.DATA, done.stderr
    assert done.stderr.startswith("Error: ") and "Hint:" in done.stderr
    assert lost == 0 and integrity_ok(keyed_world) and took < 40
