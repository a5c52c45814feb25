"""The one HTTP session, over real HTTP against the fake server: retries, keys, cache, pacing."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from tests.fakeapi import FakeApi, openalex_work, s2_paper
from tracer.config import Settings, load_settings
from tracer.errors import AuthError, DataError, SourceError
from tracer.http import HttpClient, SharedPacer, clear_cache
from tracer.sources.openalex import OpenAlex
from tracer.sources.semanticscholar import POLICY as S2_POLICY
from tracer.sources.semanticscholar import SemanticScholar

S2_KEY = "s2-SECRET-7f3a9c"
OA_KEY = "oa-SECRET-19b2e4"


class Waits:
    """A sleep that records what it was asked to wait and really waits (short) or not at all."""

    def __init__(self, real: bool = False) -> None:
        self.calls: list[float] = []
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.real:
            time.sleep(seconds)


def small_corpus(api: FakeApi, citers: int = 5) -> str:
    origin = api.corpus.add_s2_paper(s2_paper(0, title="Brainwash: a crowd dataset"))
    for i in range(1, citers + 1):
        api.corpus.add_s2_paper(s2_paper(i))
        api.corpus.add_s2_citation(origin, s2_paper(i)["paperId"], contexts=[f"context {i}"])
    wid = api.corpus.add_openalex_work(openalex_work(0))
    for i in range(1, citers + 1):
        api.corpus.add_openalex_work(openalex_work(i, referenced_works=[wid]))
    api.corpus.add_snippet("trained on the Brainwash dataset", corpus_id=100_001)
    return origin


def test_429_with_retry_after_is_waited_out_and_succeeds(fake_api: FakeApi) -> None:
    small_corpus(fake_api)
    fake_api.inject(r"/paper/[^/]+$", status=429, retry_after=1, times=1)
    waits = Waits(real=True)
    client = HttpClient(load_settings(), sleep=waits)
    started = time.monotonic()
    work = SemanticScholar(client).paper("CorpusId:100000")
    assert work is not None and work.title == "Brainwash: a crowd dataset"
    assert waits.calls == [1.0]
    assert time.monotonic() - started >= 1.0
    assert len(fake_api.requests_to(r"/paper/")) == 2
    assert client.request_counts() == {"s2": {"paper": 2}}


def test_five_503s_end_in_an_error_naming_the_source(fake_api: FakeApi) -> None:
    small_corpus(fake_api)
    fake_api.inject(r"/citations$", status=503, times=None)
    waits = Waits()
    client = HttpClient(load_settings(), sleep=waits)
    with pytest.raises(SourceError) as info:
        SemanticScholar(client).citations("CorpusId:100000")
    message = info.value.message
    assert message.startswith("Semantic Scholar failed after 8 attempts: HTTP 503 on ")
    assert "/citations" in message
    assert info.value.source == "s2" and info.value.status == 503
    assert len(fake_api.requests_to(r"/citations$")) == 8
    assert len(waits.calls) == 7  # no wait after the last attempt
    assert waits.calls == sorted(waits.calls)  # exponential backoff grows


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    client = HttpClient(Settings(rate_limit=False), cache=False)
    waits = [client._backoff(n, None) for n in range(1, 9)]
    assert 2.0 <= waits[0] <= 2.5 and 4.0 <= waits[1] <= 5.0  # a few seconds first
    assert all(w <= 60.0 for w in waits) and waits[-1] == 60.0  # capped near a minute
    assert client._backoff(3, 7.0) == 7.0  # Retry-After wins
    tuned = HttpClient(Settings(rate_limit=False, http_backoff=0.5, http_backoff_cap=3.0))
    assert [min(3.0, w) for w in (tuned._backoff(n, None) for n in (1, 4))][1] == 3.0


def test_a_timeout_is_retried_then_succeeds(fake_api: FakeApi) -> None:
    small_corpus(fake_api)
    fake_api.inject(r"/paper/", "delay", delay=1.0, times=1)
    client = HttpClient(load_settings(http_timeout=0.3), sleep=Waits())
    assert SemanticScholar(client).paper("CorpusId:100000") is not None
    assert client.request_counts() == {"s2": {"paper": 2}}


def test_a_timeout_every_time_is_reported(fake_api: FakeApi) -> None:
    small_corpus(fake_api)
    fake_api.inject(r"/paper/", "delay", delay=0.6, times=None)
    client = HttpClient(load_settings(http_timeout=0.2, http_retries=3), sleep=Waits())
    with pytest.raises(SourceError, match=r"failed after 3 attempts: timed out after 0.2 s"):
        SemanticScholar(client).paper("CorpusId:100000")
    assert len(fake_api.requests_to(r"/paper/")) == 3


@pytest.mark.parametrize("kind", ["cut", "malformed", "truncated"])
def test_broken_bodies_are_retried_and_never_cached(fake_api: FakeApi, kind: str) -> None:
    small_corpus(fake_api)
    fake_api.inject(r"/works/", kind, times=1)
    client = HttpClient(load_settings(), sleep=Waits())
    work = OpenAlex(client).work("W7000000")
    assert work is not None and work.openalex_id == "W7000000"
    assert len(fake_api.requests_to(r"/works/")) == 2
    again = HttpClient(load_settings())
    assert OpenAlex(again).work("W7000000") == work  # from the cache, and the good body
    assert again.total_requests == 0


def test_broken_bodies_every_time_are_reported(fake_api: FakeApi) -> None:
    small_corpus(fake_api)
    fake_api.inject(r"/works/", "truncated", times=None)
    client = HttpClient(load_settings(http_retries=2), sleep=Waits())
    with pytest.raises(SourceError, match="OpenAlex failed after 2 attempts: an unreadable"):
        OpenAlex(client).work("W7000000")


def test_other_4xx_carry_the_apis_message(fake_api: FakeApi) -> None:
    small_corpus(fake_api)
    client = HttpClient(load_settings())
    url = f"{fake_api.s2_url}/paper/CorpusId:100000"
    with pytest.raises(SourceError) as info:
        client.get_json("s2", "paper", url, {"fields": "unknown"})
    assert info.value.status == 400
    assert "Unrecognized or unsupported fields: [unknown]" in info.value.message
    assert len(fake_api.requests) == 1  # a 400 is not retried


def test_missing_key_is_an_auth_error_with_a_hint(fake_api: FakeApi) -> None:
    small_corpus(fake_api)
    fake_api.require_s2_key = S2_KEY
    client = HttpClient(load_settings())
    with pytest.raises(AuthError) as info:
        SemanticScholar(client).paper("CorpusId:100000")
    assert "requires an API key" in info.value.message
    assert info.value.hint is not None and "S2_API_KEY" in info.value.hint


def test_wrong_key_is_refused_without_showing_it(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_corpus(fake_api)
    fake_api.require_s2_key = S2_KEY
    monkeypatch.setenv("S2_API_KEY", "wrong-" + S2_KEY)
    client = HttpClient(load_settings())
    with pytest.raises(AuthError) as info:
        SemanticScholar(client).paper("CorpusId:100000")
    assert "refused the API key" in info.value.message
    assert S2_KEY not in info.value.message + (info.value.hint or "")


def run_everything(settings: Settings) -> HttpClient:
    """One small run touching every endpoint of both sources."""
    client = HttpClient(settings, sleep=Waits())
    s2 = SemanticScholar(client)
    s2.paper("CorpusId:100000")
    s2.papers(["CorpusId:100001", "CorpusId:100002"])
    s2.citations("CorpusId:100000")
    s2.snippets("brainwash", fields_of_study=["Computer Science"])
    oa = OpenAlex(client)
    oa.work("W7000000")
    list(oa.citing_works(["W7000000"]))
    oa.works_by_doi(["10.5555/test.1", "10.5555/test.2"])
    return client


def test_keys_go_on_every_request_and_nowhere_else(
    fake_api: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    isolated_env: Path,
) -> None:
    small_corpus(fake_api)
    fake_api.require_s2_key = S2_KEY
    fake_api.require_openalex_key = OA_KEY
    monkeypatch.setenv("S2_API_KEY", S2_KEY)
    monkeypatch.setenv("OPENALEX_API_KEY", OA_KEY)
    caplog.set_level(logging.DEBUG)
    settings = load_settings()
    client = run_everything(settings)
    client.close()

    s2_requests = [r for r in fake_api.requests if r.path.startswith("/graph/v1/")]
    oa_requests = [r for r in fake_api.requests if r.path.startswith("/openalex/")]
    assert len(s2_requests) >= 4 and len(oa_requests) >= 3
    assert all(r.headers.get("x-api-key") == S2_KEY for r in s2_requests)
    assert all(r.param("api_key") == OA_KEY for r in oa_requests)
    assert not any("x-api-key" in r.headers for r in oa_requests)  # each key to its own source
    assert all(r.headers["user-agent"].startswith("tracer/") for r in fake_api.requests)

    # errors: a failing source names the endpoint, never the key
    fake_api.inject(r"/works", status=503, times=None)
    with pytest.raises(SourceError) as info:
        list(OpenAlex(HttpClient(settings, cache=False, sleep=Waits())).citing_works(["W1"]))
    assert OA_KEY not in str(info.value) and OA_KEY not in info.value.message

    cache_files = list(isolated_env.glob("http-cache.sqlite*"))
    assert cache_files, "the run should have written a cache"
    raw = b"".join(path.read_bytes() for path in cache_files)
    assert S2_KEY.encode() not in raw and OA_KEY.encode() not in raw
    assert b"x-api-key" not in raw.lower() and b"api_key" not in raw  # no request is stored
    assert caplog.records, "DEBUG logging should have caught the requests"
    # urllib3 logs every URL at DEBUG, the OpenAlex key among its parameters: redacted here.
    assert any("api_key=REDACTED" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        line = record.getMessage()
        assert S2_KEY not in line and OA_KEY not in line


def test_second_identical_run_makes_no_network_request(fake_api: FakeApi) -> None:
    small_corpus(fake_api)
    first = run_everything(load_settings())
    assert first.total_requests == len(fake_api.requests) > 0
    fake_api.clear_requests()
    second = run_everything(load_settings())
    assert fake_api.requests == []
    assert second.total_requests == 0
    assert sum(second.cache_hits.values()) == first.total_requests


def test_no_cache_setting_asks_the_source_again(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_corpus(fake_api)
    monkeypatch.setenv("TRACER_NO_CACHE", "1")
    run_everything(load_settings())
    fake_api.clear_requests()
    second = run_everything(load_settings())
    assert second.total_requests == len(fake_api.requests) > 0


def test_citation_counts_are_never_served_from_the_cache(fake_api: FakeApi) -> None:
    small_corpus(fake_api)
    settings = load_settings()
    SemanticScholar(HttpClient(settings)).citation_counts(["CorpusId:100000"])
    OpenAlex(HttpClient(settings)).cited_by_counts(["W7000000"])
    fake_api.clear_requests()
    again = HttpClient(settings)
    SemanticScholar(again).citation_counts(["CorpusId:100000"])
    OpenAlex(again).cited_by_counts(["W7000000"])
    assert again.request_counts() == {"openalex": {"counts": 1}, "s2": {"batch": 1}}


def test_corrupt_cache_is_a_data_error_and_can_be_cleared(fake_api: FakeApi) -> None:
    small_corpus(fake_api)
    settings = load_settings()
    settings.http_cache.parent.mkdir(parents=True, exist_ok=True)
    settings.http_cache.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(DataError) as info:
        SemanticScholar(HttpClient(settings)).paper("CorpusId:100000")
    assert info.value.hint is not None and "tracer cache clear" in info.value.hint
    assert clear_cache(settings) is True
    assert SemanticScholar(HttpClient(settings)).paper("CorpusId:100000") is not None
    assert clear_cache(settings) is True and clear_cache(settings) is False


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pacer_keeps_the_interval_per_source_and_key(tmp_path: Path) -> None:
    clock = FakeClock()
    pacer = SharedPacer(tmp_path, clock=clock, sleep=clock.sleep)
    assert pacer.wait("s2", "k1", 1.0) == 0.0
    assert pacer.wait("s2", "k1", 1.0) == pytest.approx(1.0)
    assert pacer.wait("openalex", "k1", 0.1) == 0.0  # sources do not wait for each other
    assert pacer.wait("s2", "k2", 1.0) == 0.0  # nor two keys of one source
    clock.now += 5
    assert pacer.wait("s2", "k1", 1.0) == 0.0
    assert pacer.wait("unknown", None, 0.0) == 0.0
    # A second pacer (another process) on the same folder sees the first one's pace.
    other = SharedPacer(tmp_path, clock=clock, sleep=clock.sleep)
    assert other.wait("s2", "k1", 1.0) == pytest.approx(1.0)
    names = " ".join(p.name for p in tmp_path.iterdir())
    assert "k1" not in names and "s2-" in names  # files named by a hash of the key


def test_client_paces_s2_at_one_per_second_with_a_key_slower_without(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_corpus(fake_api)
    monkeypatch.setenv("TRACER_RATE_LIMIT", "1")
    monkeypatch.setenv("TRACER_NO_CACHE", "1")
    for key, interval in ((S2_KEY, S2_POLICY.interval_with_key), (None, 2.0)):
        if key:
            monkeypatch.setenv("S2_API_KEY", key)
        else:
            monkeypatch.delenv("S2_API_KEY")
        clock = FakeClock()
        client = HttpClient(load_settings(), clock=clock, sleep=clock.sleep)
        s2 = SemanticScholar(client)
        for _ in range(4):
            s2.paper("CorpusId:100000")
        assert clock.now - 100.0 == pytest.approx(3 * interval)


def test_cache_hits_are_not_paced(fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    small_corpus(fake_api)
    monkeypatch.setenv("TRACER_RATE_LIMIT", "1")
    clock = FakeClock()
    client = HttpClient(load_settings(), clock=clock, sleep=clock.sleep)
    for _ in range(5):
        SemanticScholar(client).paper("CorpusId:100000")
    assert clock.now == 100.0 and client.total_requests == 1


def test_a_source_no_server_answers_for_fails_after_three_attempts() -> None:
    """No network, or a wrong URL: a sentence in seconds, not minutes of backoff."""
    import socket

    with socket.socket() as probe:  # a port on this machine that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = load_settings(s2_api_url=f"http://127.0.0.1:{port}/graph/v1", http_retries=8)
    client = HttpClient(settings, cache=False, sleep=Waits())
    retries: list[str] = []
    client.on_wait = lambda label, sentence, seconds: retries.append(sentence)
    with pytest.raises(SourceError, match=r"failed after 3 attempts: connection failed"):
        SemanticScholar(client).paper("CorpusId:100000")
    # Each wait counts against the attempts this failure allows, not the 8 an answer gets.
    assert [r.split(", ")[-1] for r in retries] == ["attempt 2 of 3", "attempt 3 of 3"]
