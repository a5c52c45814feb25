"""A third source, written here as a user would add one: one class behind the source interface
and one registration line. It runs through scan, refresh and reports without any change to the
scanner, the refresh, the HTTP client or the store.

The source answers like OpenCitations' Index API (citations of a DOI, `citing` as space-separated
ids, a citation-count call), served by a small server of this test on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.corpora import ORIGIN_DOI, add_brainwash, use_catalog
from tests.fakeapi.server import FakeApi
from tests.helpers import run_cli
from tracer.http import NO_STORE, RECORD_TTL
from tracer.http.policy import SourcePolicy
from tracer.records import Work
from tracer.sources import registry
from tracer.sources.base import Found, ListRead, Origin, Source, Target

ONLY_HERE = "10.5555/only.in.opencitations"


class _Index(BaseHTTPRequestHandler):
    citations: ClassVar[dict[str, list[dict[str, str]]]] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        path = self.path.split("?")[0]
        if path.startswith("/index/v2/citation-count/doi:"):
            rows = self.citations.get(path.rsplit("doi:", 1)[1], [])
            body: Any = [{"count": str(len(rows))}]
        elif path.startswith("/index/v2/citations/doi:"):
            body = self.citations.get(path.rsplit("doi:", 1)[1], [])
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class OpenCitations(Source):
    name = "opencitations"
    label = "OpenCitations"
    policy = SourcePolicy(name="opencitations", label="OpenCitations")
    authors_rank = 0
    base: ClassVar[str] = ""

    def resolve(self, origins: list[Origin]) -> None:
        for origin in origins:
            if origin.paper.doi:
                origin.ids[self.name] = [origin.paper.doi]
        found = [o.ids[self.name][0] for o in origins if self.name in o.ids]
        now = self.counts(found)
        for origin in origins:
            if self.name in origin.ids:
                doi = origin.ids[self.name][0]
                origin.counts[self.name] = {doi: now.get(doi)}

    def counts(self, ids: list[str]) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        for doi in ids:
            body = self.http.get_json(
                self.name, "count", f"{self.base}/index/v2/citation-count/doi:{doi}", ttl=NO_STORE
            )
            out[doi] = int(body[0]["count"]) if body else None
        return out

    def targets(self, origins: list[Origin]) -> list[Target]:
        return [
            Target(o.ids[self.name][0], o.ids[self.name], [o], o.via_derivative)
            for o in origins
            if self.name in o.ids
        ]

    def read(self, target: Target, *, since: int | None, fresh: bool) -> ListRead:
        rows = self.http.get_json(
            self.name,
            "citations",
            f"{self.base}/index/v2/citations/doi:{target.key}",
            ttl=RECORD_TTL,
            fresh=fresh,
        )
        read = ListRead(self._found(rows), {})
        read.total = len(rows)
        return read

    def _found(self, rows: list[dict[str, str]]) -> Iterator[Found]:
        for row in rows:
            ids = dict(part.split(":", 1) for part in row["citing"].split())
            year = int(row["creation"][:4])
            yield Found(Work(source=self.name, doi=ids.get("doi"), year=year))


@pytest.fixture
def index(fake_api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-third-key")
    add_brainwash(fake_api.corpus)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Index.citations = {
        ORIGIN_DOI: [
            {"citing": f"omid:br/1 doi:{ONLY_HERE}", "cited": f"doi:{ORIGIN_DOI}",
             "creation": "2023-02-01"},
            {"citing": "omid:br/2 doi:10.5555/used.1", "cited": f"doi:{ORIGIN_DOI}",
             "creation": "2018-05-01"},
        ]
    }
    monkeypatch.setattr(OpenCitations, "base", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setattr(registry, "SOURCES", [*registry.SOURCES, OpenCitations])
    try:
        yield ONLY_HERE
    finally:
        server.shutdown()


def test_a_third_source_runs_through_scan_refresh_and_reports(index: str, tmp_path: Path) -> None:
    scan = run_cli("scan", "brainwash", "--json", "--quiet")
    assert scan.code == 0, scan.err
    payload = json.loads(scan.out)
    assert payload["run"]["requests"]["opencitations"] == {"citations": 1, "count": 1}
    papers = {tuple(p["ids"].get("doi", [])): p for p in payload["report"]["papers"]}
    assert papers[(ONLY_HERE,)]["level"] == "cited"
    coverage = {(c["source"], c["target"]) for c in payload["report"]["header"]["coverage"]}
    assert ("opencitations", ORIGIN_DOI) in coverage

    out = tmp_path / "reports"
    refresh = run_cli("refresh", "brainwash", "--out", str(out), "--quiet")
    assert refresh.code == 0, refresh.err
    csv = (out / "brainwash" / "brainwash.csv").read_text(encoding="utf-8")
    assert ONLY_HERE in csv
    # The paper the third source and S2 both list is one paper, judged from S2's context.
    assert papers[("10.5555/used.1",)]["level"] == "used"
