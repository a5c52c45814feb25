"""The naive baseline: what a newcomer writes with the popular client packages.

`semanticscholar`'s `get_paper_citations` with its defaults (100 per page, every default field),
then one `get_paper` per citing paper for its authors and their affiliations, then one `pyalex`
lookup per DOI for the institutions OpenAlex resolved. It is pointed at the same fake server as
tracer. A time budget caps it: past the budget it stops, and the caller extrapolates the rest
from the per-paper rate it measured (and says so).

pyalex 0.21 builds record URLs on https://api.openalex.org whatever `config.openalex_url` says,
so the per-call session it creates gets an adapter that sends those URLs to the fake server; its
retry settings are kept.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import requests

OPENALEX_HOST = "https://api.openalex.org"
AUTHOR_FIELDS = ["title", "year", "externalIds", "authors.name", "authors.affiliations"]


@dataclass
class NaiveRun:
    citers: int = 0  # citing papers the citation listing gave
    looked_up: int = 0  # of them, looked up one by one before the budget ran out
    requests: int = 0  # requests the client made (the server's log is the check)
    listing_s: float = 0.0  # wall time of the citation listing
    lookups_s: float = 0.0  # wall time of the per-paper lookups done
    capped: bool = False  # stopped by the budget
    authors: int = 0
    affiliations: int = 0  # author affiliations and institutions found

    @property
    def per_paper_requests(self) -> float:
        return (self.requests - self.listing_requests) / self.looked_up if self.looked_up else 2.0

    listing_requests: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "per_paper_requests": self.per_paper_requests}


class _ToFake(requests.adapters.HTTPAdapter):
    def __init__(self, target: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if request.url and request.url.startswith(OPENALEX_HOST):
            request.url = self.target + request.url[len(OPENALEX_HOST) :]
        return super().send(request, **kwargs)


def point_pyalex_at(openalex_url: str, api_key: str) -> None:
    import pyalex
    import pyalex.api

    pyalex.config.api_key = api_key
    pyalex.config.openalex_url = openalex_url
    original = pyalex.api._get_requests_session
    if getattr(original, "benchmark_redirect", False):
        return

    def session() -> requests.Session:
        made = original()
        retries = made.get_adapter(OPENALEX_HOST).max_retries
        made.mount(OPENALEX_HOST, _ToFake(openalex_url, max_retries=retries))
        return made

    session.benchmark_redirect = True  # type: ignore[attr-defined]
    pyalex.api._get_requests_session = session


def run_naive(
    api_root: str, openalex_url: str, origin_doi: str, budget_s: float, key: str = "bench-key"
) -> NaiveRun:
    """List the origin's citations, then look each citer up in S2 and in OpenAlex."""
    from pyalex import Works
    from semanticscholar import SemanticScholar

    point_pyalex_at(openalex_url, key)
    sch = SemanticScholar(api_key=key, api_url=api_root)
    run = NaiveRun()
    start = time.perf_counter()
    listing = sch.get_paper_citations(f"DOI:{origin_doi}")
    citers = [c.paper for c in listing]  # iterating fetches every page
    run.citers = len(citers)
    # The first page and each next one: the package asks 100 at a time up to the 10,000 cap.
    run.listing_requests = run.requests = max(1, -(-len(citers) // 100))
    run.listing_s = time.perf_counter() - start
    start = time.perf_counter()
    for citer in citers:
        if time.perf_counter() - start > budget_s:
            run.capped = True
            break
        paper = sch.get_paper(citer.paperId, fields=AUTHOR_FIELDS)
        run.requests += 1
        for author in paper.authors or []:
            run.authors += 1
            run.affiliations += len(author.affiliations or [])
        doi = (paper.externalIds or {}).get("DOI")
        if doi:
            run.requests += 1
            try:
                work = Works()[f"https://doi.org/{doi}"]
            except requests.HTTPError:
                work = None  # not in OpenAlex: 404
            for authorship in (work or {}).get("authorships") or []:
                run.affiliations += len(authorship.get("institutions") or [])
        run.looked_up += 1
    run.lookups_s = time.perf_counter() - start
    return run
