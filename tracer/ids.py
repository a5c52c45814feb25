"""Identifiers as the sources write them, in one normal form; and a batching helper.

Pure functions, used by the sources, the merge and the store alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", re.IGNORECASE)
_ARXIV_PREFIX = re.compile(r"^(?:https?://arxiv\.org/(?:abs|pdf)/|arxiv:)", re.IGNORECASE)
_ARXIV_VERSION = re.compile(r"v\d+$")


def normalize_doi(value: str | None) -> str | None:
    """'https://doi.org/10.1/ABC' -> '10.1/abc'; None for anything that is not a DOI."""
    if not value:
        return None
    doi = _DOI_PREFIX.sub("", value.strip()).lower()
    return doi if doi.startswith("10.") else None


def normalize_arxiv(value: str | None) -> str | None:
    """'arXiv:1506.04878v2' -> '1506.04878'."""
    if not value:
        return None
    text = _ARXIV_PREFIX.sub("", value.strip())
    text = text.removesuffix(".pdf")
    return _ARXIV_VERSION.sub("", text) or None


def short_openalex_id(value: str | None) -> str | None:
    """'https://openalex.org/W2741809807' -> 'W2741809807'."""
    if not value:
        return None
    return value.rstrip("/").rsplit("/", 1)[-1] or None


def short_ror(value: str | None) -> str | None:
    """'https://ror.org/00f54p054' -> '00f54p054'."""
    if not value:
        return None
    return value.rstrip("/").rsplit("/", 1)[-1] or None


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of `size` items (the last may be shorter), each as soon as it is complete."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
