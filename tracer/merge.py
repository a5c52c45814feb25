"""Which records are the same work.

Sources disagree on identity: Semantic Scholar merges a paper's arXiv and proceedings versions,
OpenAlex often keeps them apart, and the arXiv version's DOI (10.48550/arXiv.N) names the same
work as the arXiv id. These pure functions give every record the keys under which it may already
be known; the store joins on them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz

from tracer.ids import normalize_arxiv, normalize_doi, short_openalex_id
from tracer.records import Work

ARXIV_DOI_PREFIX = "10.48550/arxiv."
_NON_WORD = re.compile(r"[^0-9a-z]+")
# A normalised title shorter than this is too generic ("Introduction") to join two records on.
MIN_TITLE_KEY = 24
TITLE_SIMILARITY = 90  # rapidfuzz ratio (0-100) above which two normalised titles are one


@lru_cache(maxsize=1 << 12)  # a work's title is normalised for its lookup, match and insert
def normalize_title(title: str | None) -> str:
    """Fold case, accents, punctuation and spacing: the key a preprint and its version share."""
    if not title:
        return ""
    if title.isascii():  # NFKD leaves ASCII as it is, and it holds no combining mark
        return _NON_WORD.sub(" ", title.lower()).strip()
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _NON_WORD.sub(" ", text).strip()


def canonical_ids(work: Work) -> Work:
    """Normalise a work's ids in place; an arXiv DOI becomes the arXiv id it stands for."""
    doi = normalize_doi(work.doi)
    if doi and doi.startswith(ARXIV_DOI_PREFIX):
        work.arxiv_id = work.arxiv_id or normalize_arxiv(doi[len(ARXIV_DOI_PREFIX) :])
        doi = None
    work.doi = doi
    work.arxiv_id = normalize_arxiv(work.arxiv_id)
    work.openalex_id = short_openalex_id(work.openalex_id)
    return work


def id_keys(work: Work) -> list[tuple[str, str]]:
    """Every (kind, value) id under which this work may already be stored."""
    keys: list[tuple[str, str]] = []
    if work.doi:
        keys.append(("doi", work.doi))
    if work.arxiv_id:
        keys.append(("arxiv", work.arxiv_id))
    if work.s2_paper_id:
        keys.append(("s2", work.s2_paper_id))
    if work.corpus_id is not None:
        keys.append(("corpus", str(work.corpus_id)))
    if work.openalex_id:
        keys.append(("openalex", work.openalex_id))
    return keys


def title_key(work: Work) -> str | None:
    """The normalised title, when it is specific enough to join records on (with the year)."""
    key = normalize_title(work.title)
    return key if len(key) >= MIN_TITLE_KEY else None


def same_year(a: int | None, b: int | None) -> bool:
    """A preprint and its published version are often a year apart."""
    return a is None or b is None or abs(a - b) <= 1


def same_title(a: str | None, b: str | None) -> bool:
    """Whether two titles name one paper (case, accents, punctuation and small edits aside)."""
    left, right = normalize_title(a), normalize_title(b)
    if not left or not right:
        return False
    return left == right or fuzz.ratio(left, right) >= TITLE_SIMILARITY
