"""pytest fixtures for the fake API.

`fake_api`: a started FakeApi (function scope) whose URLs are also in the environment
(TRACER_S2_API_URL, TRACER_OPENALEX_API_URL), with TRACER_RATE_LIMIT=0 so that neither pacing
nor retry waits slow the test down. `load_settings()` in the test then points at the fake.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakeapi.server import FakeApi


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    api = FakeApi().start()
    monkeypatch.setenv("TRACER_S2_API_URL", api.s2_url)
    monkeypatch.setenv("TRACER_OPENALEX_API_URL", api.openalex_url)
    monkeypatch.setenv("TRACER_RATE_LIMIT", "0")
    try:
        yield api
    finally:
        api.stop()
