"""Plain records that the sources yield and the pipeline passes along.

Sources parse API responses into these; nothing here knows HTTP or SQL. Every field a source may
omit is optional: real responses have missing and null fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field


@dataclass
class SourceInstitution:
    """An institution as a source reports it (OpenAlex authorships[].institutions[])."""

    openalex_id: str | None = None  # "I27837315" (short form, no URL)
    ror: str | None = None  # "https://ror.org/00f54p054" normalised to "00f54p054"
    display_name: str | None = None
    country_code: str | None = None  # ISO 3166-1 alpha-2, upper case
    type: str | None = None  # OpenAlex type: education, company, funder, ...
    lineage: list[str] = field(default_factory=list)  # OpenAlex ids, self first


@dataclass
class Author:
    name: str
    position: int = 0
    s2_author_id: str | None = None
    openalex_author_id: str | None = None
    raw_affiliations: list[str] = field(default_factory=list)
    institutions: list[SourceInstitution] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)


@dataclass
class Work:
    """One paper as one source sees it."""

    source: str  # "s2" or "openalex"
    title: str | None = None
    year: int | None = None
    publication_date: str | None = None
    venue: str | None = None
    abstract: str | None = None
    doi: str | None = None  # lower case, no https://doi.org/ prefix
    arxiv_id: str | None = None  # "1506.04878" (no version suffix)
    s2_paper_id: str | None = None
    corpus_id: int | None = None
    openalex_id: str | None = None  # "W2741809807"
    fields_of_study: list[str] = field(default_factory=list)
    authors: list[Author] = field(default_factory=list)
    authors_truncated: bool = False
    citation_count: int | None = None
    url: str | None = None


@dataclass
class Citation:
    """A citing paper with what the source says about how it cites."""

    citing: Work
    cited: str  # the id that was queried (S2 paperId / "CorpusId:N" / OpenAlex W id)
    contexts: list[str] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    is_influential: bool | None = None
    # Each context with its own intents (S2 `contextsWithIntent`); empty where S2 gave none.
    contexts_with_intents: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class Snippet:
    """A full-text passage from S2 snippet search."""

    paper: Work
    text: str
    query: str
    section: str | None = None
    kind: str | None = None  # body, abstract, title
    score: float | None = None
    ref_corpus_ids: list[int] = field(default_factory=list)  # refMentions[].matchedPaperCorpusId


@dataclass
class Listing:
    """The outcome of a paged list call: what came back and whether the source cut it short."""

    items: list[Citation] = field(default_factory=list)
    total: int | None = None  # what the source said it had, where it says
    capped: bool = False  # the source's limit stopped the paging before the end
    note: str | None = None  # why it is capped or incomplete, for the report
    unresolved: int = 0  # rows the source lists without an id (S2 "paperId": null): not papers
    skipped: int = 0  # rows left out because a field had the wrong type
    slices: list[str] = field(default_factory=list)  # date ranges read, e.g. "2015:2017"

    def add_note(self, sentence: str) -> None:
        self.note = f"{self.note} {sentence}" if self.note else sentence


class WorkStream:
    """Works of a paged list as they arrive, with what the source said about the list.

    Iterate it once; `total` (the list's own count, e.g. OpenAlex `meta.count`), `capped`,
    `skipped` and `note` are filled in as pages come and are final when the iteration ends.
    """

    def __init__(self, pages: Callable[[WorkStream], Iterable[Work]]) -> None:
        self.total: int | None = None
        self.capped = False
        self.note: str | None = None
        self.skipped = 0
        self.fetched = 0  # rows the source sent, duplicates and skipped rows included
        self.bad_fields: list[str] = []  # the field that put each skipped row out
        self._pages = pages

    def __iter__(self) -> Iterator[Work]:
        yield from self._pages(self)

    def add_note(self, sentence: str) -> None:
        self.note = f"{self.note} {sentence}" if self.note else sentence
