"""The interface every source implements, and the records that cross it.

A source is one module with one class deriving from `Source`: it resolves a dataset's origin
papers to its own ids, tells their citation counts, lists the citing papers of each list it
offers (a `Target`), and where it can, searches full text for mentions and looks up records and
authorships of stored papers. The scanner runs the same steps over every registered source
(`tracer.sources.registry`), so a new source is one module, one registration line and its routes
in the test fake. Nothing here knows SQL or the CLI.
"""

from __future__ import annotations

import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from tracer.http.policy import SourcePolicy
from tracer.records import Work

if TYPE_CHECKING:
    from tracer.catalog import OriginPaper
    from tracer.http import HttpClient


@dataclass
class Origin:
    """One origin paper of a dataset (or of one of its derivatives), as each source knows it."""

    dataset: str  # the catalog key whose origin this is
    idx: int  # its position in that catalog entry
    paper: OriginPaper
    via_derivative: str | None
    owner: str  # the dataset being scanned
    ids: dict[str, list[str]] = field(default_factory=dict)  # source -> its ids, list key first
    counts: dict[str, dict[str, int | None]] = field(default_factory=dict)  # source -> id -> n
    resolved: set[str] = field(default_factory=set)  # sources that answered (ids or none)
    found_by_title: set[str] = field(default_factory=set)  # sources that knew no catalog id
    creators: tuple[str, ...] = ()  # the dataset's creators, to check a match by title

    def by_its_creators(self, work: Work) -> bool:
        """Whether a paper found by its title alone is by the dataset's creators: one of its
        authors' surnames is a creator's (true where either list is unknown)."""
        names = [a.name for a in work.authors if a.name]
        if not self.creators or not names:
            return True
        return bool({_surname(c) for c in self.creators} & {_surname(n) for n in names})

    @property
    def slot(self) -> str:
        """Where the store keeps this origin: a derivative's under its parent's key."""
        return self.dataset if self.via_derivative is None else f"{self.owner}:{self.dataset}"


@dataclass
class Target:
    """One list a source can read: the papers citing one origin (every version of it)."""

    key: str  # how the list is named in coverage and evidence (an id, or ids joined by "|")
    ids: list[str]  # the origin ids asked for; their counts tell whether the list changed
    origins: list[Origin]
    via_derivative: str | None = None


@dataclass
class Passage:
    """A citation context with its own intents, or a full-text passage with its section."""

    text: str
    intents: list[str] = field(default_factory=list)
    section: str | None = None
    kind: str | None = None  # snippets: body, abstract, title

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "intents": self.intents, "section": self.section,
                "kind": self.kind}


@dataclass
class Found:
    """One paper a list or a search found, with what the source says of how it names the origin."""

    work: Work
    passages: list[Passage] = field(default_factory=list)
    is_influential: bool | None = None
    cites_origin: bool | None = None  # mentions: whether the passage also cites an origin
    is_record: bool = False  # the work is the source's whole record: no lookup needed

    @property
    def contexts(self) -> list[str]:
        return list(dict.fromkeys(p.text for p in self.passages))

    @property
    def intents(self) -> list[str]:
        return sorted({i for p in self.passages for i in p.intents})


def _surname(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    words = "".join(c for c in text if not unicodedata.combining(c)).casefold().split()
    return words[-1].strip(".,") if words else ""


class ListRead:
    """The rows of one list call, streamed, and after the last row what the source said of it.

    `fetched` counts every row the source returned (before the scanner's own filters), `total`
    is what the source says the list holds, `capped` means the source's own limit cut it, and
    `unresolved`/`skipped` count rows that name no paper or have the wrong shape.
    `total_listed`: whether `total` is the list's own count, so that a read with fewer rows is
    short and must be read again; False where it is a figure of the cited paper, which the list
    may never reach (S2's citationCount).
    """

    def __init__(
        self,
        rows: Iterator[Found] | Sequence[Found],
        filters: dict[str, Any],
        on_end: Callable[[ListRead], None] | None = None,
    ) -> None:
        self._rows = iter(rows)
        self._on_end = on_end
        self.filters = dict(filters)
        self.fetched = 0
        self.total: int | None = None
        self.total_listed = True
        self.capped = False
        self.note: str | None = None
        self.unresolved = 0
        self.skipped = 0

    def __iter__(self) -> Iterator[Found]:
        for found in self._rows:
            self.fetched += 1
            yield found
        if self._on_end is not None:
            self._on_end(self)  # what the source said of the list once it was read


@dataclass
class PaperRef:
    """A stored paper a source may look up: its ids and what the store already has of it."""

    paper_id: int
    doi: str | None
    arxiv_id: str | None
    s2_paper_id: str | None
    corpus_id: int | None
    openalex_id: str | None
    year: int | None
    has_affiliations: bool


class Source(ABC):
    """What the scanner needs of a source. Subclasses set `name`, `label`, `policy` and the
    ranks below."""

    name: ClassVar[str]  # short, stored in evidence and coverage ("s2", "openalex")
    label: ClassVar[str]  # for people ("Semantic Scholar")
    policy: ClassVar[SourcePolicy]  # its key, pacing and what its statuses mean
    # Whose authorships a paper keeps when two sources have them: the higher rank wins.
    authors_rank: ClassVar[int] = 0
    # Whether its titles are those of records merging a paper's versions (they win).
    merged_titles: ClassVar[bool] = False
    # Whether `read` passes `since` to the server, so that a list can be read from a year (or,
    # for a refresh's recent window, a day) on.
    filters_by_year: ClassVar[bool] = False

    def __init__(self, http: HttpClient) -> None:
        self.http = http
        http.register(self.policy)

    def notes(self) -> list[str]:
        """What this source will not see in this configuration (a missing key, say)."""
        return []

    def run_info(self) -> dict[str, Any]:
        """What this source wants kept in the run's record for a later run (none by default)."""
        return {}

    @abstractmethod
    def resolve(self, origins: list[Origin]) -> None:
        """Fill `origin.ids[self.name]` and `origin.counts[self.name]` for every origin it knows."""

    @abstractmethod
    def counts(self, ids: list[str]) -> dict[str, int | None]:
        """Citation counts now, for the given ids of this source (never from a cache)."""

    @abstractmethod
    def targets(self, origins: list[Origin]) -> list[Target]:
        """The lists to read for these origins (whose ids are resolved)."""

    @abstractmethod
    def read(self, target: Target, *, since: int | date | None, fresh: bool) -> ListRead:
        """The papers citing `target`; `since` (a year, or a day) may be applied by the server.

        `fresh`: the list is known to have changed, so cached pages must not serve it.
        """

    def mentions(
        self,
        phrase: str,
        origins: list[Origin],
        *,
        fields_of_study: Sequence[str],
        since: int | None,
    ) -> ListRead | None:
        """Papers whose full text names `phrase`; None where the source has no such search."""
        return None

    def wants(self, paper: PaperRef) -> bool:
        """Whether `lookup` can add something to this stored paper."""
        return False

    def lookup(self, papers: list[PaperRef]) -> Iterator[tuple[int, Work]]:
        """Records (with authorships) of stored papers, as (paper id, work) for those found."""
        return iter(())
