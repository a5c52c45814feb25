"""The sources a scan uses, in the order their steps run. A new source is one line here."""

from __future__ import annotations

from tracer.http import HttpClient
from tracer.sources.base import Source
from tracer.sources.openalex import OpenAlexSource
from tracer.sources.semanticscholar import SemanticScholarSource

SOURCES: list[type[Source]] = [
    SemanticScholarSource,
    OpenAlexSource,
]


def default_sources(http: HttpClient) -> list[Source]:
    return [cls(http) for cls in SOURCES]
