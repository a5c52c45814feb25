"""The fake API's own behaviour at a test's end: what it still answers then stays quiet."""

from __future__ import annotations

import contextlib
import io
import threading
import time
import urllib.error
import urllib.request

from tests.fakeapi.server import FakeApi


def test_a_request_answered_after_the_fake_stopped_prints_nothing() -> None:
    """A request the client gave up on (a slow-answer fault) may still be in its handler when
    the test stops the fake; it must not print a traceback into the next test's stderr (the
    fault suite checks that no traceback reaches a user, and would blame the next scan)."""
    api = FakeApi().start()
    api.inject("^/openalex/works$", "delay", delay=0.4, times=None)
    url = api.openalex_url + "/works?filter=doi:10.1/x"

    def ask() -> None:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=0.1).read()

    client = threading.Thread(target=ask)
    client.start()
    client.join()
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        api.stop()
        time.sleep(0.8)  # the handler wakes, answers a closed server, ends
    assert "Traceback" not in printed.getvalue(), printed.getvalue()
    assert len(api.requests) == 1
