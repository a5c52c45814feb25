"""The scan: resolve origin papers, collect candidates, merge, enrich, classify, judge, store.

Every stage commits what it has as it goes, so a scan stopped by Ctrl-C, a crash or a failing
server keeps what it stored, and the next scan resumes. A source's citation list is fetched again
only when the source's citation count has changed since the last complete fetch (or with
--full); a stage whose source fails is recorded, the others go on, and the run ends `partial`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar

from tracer.affiliations.classify import Classifier
from tracer.catalog import Catalog, Dataset, OriginPaper
from tracer.config import Settings
from tracer.errors import AuthError, NotFoundError, SourceError
from tracer.http import HttpClient
from tracer.merge import canonical_ids
from tracer.records import Author, SourceInstitution, Work
from tracer.sources import chunked
from tracer.sources.openalex import OpenAlex
from tracer.sources.semanticscholar import SemanticScholar
from tracer.store import Store
from tracer.usage import DatasetTerms, judge, on_topic

S2_BATCH = 500
P = ParamSpec("P")
T = TypeVar("T")
WRITE_BATCH = 500  # papers written per transaction: fast, and an interruption loses little


class Progress(Protocol):
    """Where a scan reports what it is doing (the CLI draws it on stderr)."""

    def stage(self, name: str, total: int | None = None) -> AbstractContextManager[Any]: ...

    def advance(self, count: int = 1) -> None: ...


class SilentProgress:
    def stage(self, name: str, total: int | None = None) -> AbstractContextManager[Any]:
        return nullcontext()

    def advance(self, count: int = 1) -> None:
        pass


@dataclass
class ScanOptions:
    mentions: bool = True
    since: int | None = None  # keep papers published in this year or later
    full: bool = False  # ignore stored state: fetch every list again


@dataclass
class Origin:
    """One origin paper of the dataset (or of a derivative), as each source knows it."""

    dataset: str  # the catalog key whose origin this is
    idx: int
    paper: OriginPaper
    via_derivative: str | None
    s2_id: str | None = None
    corpus_id: int | None = None
    s2_count: int | None = None
    openalex_ids: list[str] = field(default_factory=list)
    openalex_count: int | None = None

    @property
    def slot(self) -> str:
        """Where the store keeps this origin's counts: a derivative's under its parent's key."""
        return self.dataset if self.via_derivative is None else f"{self.owner}:{self.dataset}"

    owner: str = ""


@dataclass
class KnownCounts:
    """Citation counts per origin id, fresh from each source."""

    s2: dict[str, int | None] = field(default_factory=dict)  # S2 paperId -> citationCount
    openalex: dict[str, int] = field(default_factory=dict)  # W id -> cited_by_count

    def openalex_total(self, ids: list[str]) -> int | None:
        found = [self.openalex[i] for i in ids if i in self.openalex]
        return sum(found) if found else None


@dataclass
class ScanResult:
    dataset: str
    run_id: int
    status: str  # ok | partial
    new_papers: int
    requests: dict[str, dict[str, int]]
    stats: dict[str, Any]
    failures: list[str]
    new_paper_ids: list[int] = field(default_factory=list)

    @property
    def total_requests(self) -> int:
        return sum(sum(per.values()) for per in self.requests.values())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_requests": self.total_requests}


class Scanner:
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        http: HttpClient,
        classifier: Classifier,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.http = http
        self.s2 = SemanticScholar(http)
        self.openalex = OpenAlex(http)
        self.classifier = classifier
        self.progress = progress or SilentProgress()

    # -- the run ------------------------------------------------------------------------------

    def scan(
        self,
        dataset: Dataset,
        options: ScanOptions | None = None,
        *,
        known: KnownCounts | None = None,
        kind: str = "scan",
    ) -> ScanResult:
        """Scan one dataset. `known`: citation counts a refresh has just fetched for it."""
        options = options or ScanOptions()
        run_id = self.store.start_run(dataset.key, kind)
        derived = [n for k in dataset.derivatives for n in self.catalog.get(k).names]
        state = _RunState(dataset, run_id, options, derived)
        try:
            if not self.classifier.gazetteer_available:
                state.note(
                    "No ROR gazetteer was loaded: institutions come only from OpenAlex and "
                    "the watchlist (run `tracer data update`)."
                )
            origins = self._resolve(state, known)
            self._collect_s2(state, origins)
            self._collect_openalex(state, origins)
            if options.mentions:
                self._collect_mentions(state, origins)
            self._complete_s2_records(state)
            self._enrich(state)
            self._classify(state)
            self._judge(state)
            if not state.failures:
                state.stats["marked_missing"] = self.store.mark_missing(dataset.key, run_id)
        except (KeyboardInterrupt, SystemExit):
            self._finish(state, "interrupted", "interrupted")
            raise
        except BaseException as exc:
            self._finish(state, "failed", str(exc))
            raise
        status = "partial" if state.failures else "ok"
        self._finish(state, status, "; ".join(state.failures) or None)
        return ScanResult(
            dataset=dataset.key,
            run_id=run_id,
            status=status,
            new_papers=state.new_papers,
            requests=self.http.request_counts(),
            stats=state.stats,
            failures=state.failures,
            new_paper_ids=sorted(state.new_ids),
        )

    def _finish(self, state: _RunState, status: str, error: str | None) -> None:
        self.store.finish_run(
            state.run_id,
            status,
            requests=self.http.request_counts(),
            new_papers=state.new_papers,
            stats=state.stats,
            error=error,
        )

    # -- stage 1: origin papers ---------------------------------------------------------------

    def origins(self, dataset: Dataset) -> list[Origin]:
        """The dataset's origin papers and its derivatives', as the catalog gives them."""
        origins = [
            Origin(dataset.key, i, p, None, owner=dataset.key)
            for i, p in enumerate(dataset.origin_papers)
        ]
        for key in dataset.derivatives:
            derived = self.catalog.get(key)
            origins += [
                Origin(key, i, p, key, owner=dataset.key)
                for i, p in enumerate(derived.origin_papers)
            ]
        return origins

    def _resolve(self, state: _RunState, known: KnownCounts | None) -> list[Origin]:
        origins = self.origins(state.dataset)
        for slot in {o.slot for o in origins}:
            for row in self.store.origins(slot):
                state.stored_origins[(slot, row["idx"])] = row
        with self.progress.stage("Resolving origin papers", total=len(origins)):
            stored = [state.stored_origins.get((o.slot, o.idx)) for o in origins]
            if known is not None and all(stored):
                # A refresh has just asked both sources for every count: no request needed.
                for origin, found in zip(origins, stored, strict=True):
                    assert found is not None
                    row = found
                    origin.s2_id, origin.corpus_id = row["s2_paper_id"], row["corpus_id"]
                    origin.openalex_ids = list(row["openalex_ids"])
                    origin.s2_count = known.s2.get(origin.s2_id or "")
                    origin.openalex_count = known.openalex_total(origin.openalex_ids)
            else:
                self._ask(state, "s2", "origin papers", self._resolve_s2, origins)
                self._ask(state, "openalex", "origin papers", self._resolve_openalex, origins)
            self.progress.advance(len(origins))
        if not any(o.s2_id or o.openalex_ids for o in origins):
            if state.failures:
                raise SourceError(
                    f"Could not resolve the origin papers of {state.dataset.key}: "
                    + "; ".join(state.failures)
                    + ".",
                    hint="Check the network connection and the API URLs "
                    "(TRACER_S2_API_URL, TRACER_OPENALEX_API_URL); nothing stored was lost.",
                )
            titles = "; ".join(o.paper.label() for o in origins)
            raise NotFoundError(
                f"No source knows the origin papers of {state.dataset.key} ({titles}).",
                hint="Check the ids in the catalog entry.",
            )
        return origins

    @staticmethod
    def _ask(
        state: _RunState,
        source: str,
        what: str,
        call: Callable[P, T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T | None:
        """One source's step: its answer, or None when the source failed. The failure is
        recorded and the run goes on; a refused key (AuthError) stops the run."""
        try:
            return call(*args, **kwargs)
        except AuthError:
            raise
        except SourceError as exc:
            state.fail(source, what, exc)
            return None

    def _resolve_s2(self, origins: list[Origin]) -> None:
        """Ids from the records (often cached), counts fresh: the counts decide what to fetch."""
        asked = [(o, o.paper.s2_ids()[0]) for o in origins if o.paper.s2_ids()]
        hits = self._cache_hits("s2")
        found = self.s2.papers([pid for _, pid in asked]) if asked else []
        for (origin, _), work in zip(asked, found, strict=True):
            if work is not None:
                origin.s2_id, origin.corpus_id = work.s2_paper_id, work.corpus_id
                origin.s2_count = work.citation_count
        if self._cache_hits("s2") == hits:
            return  # the records came from the source just now: their counts are fresh
        ids = [o.s2_id for o in origins if o.s2_id]
        counts = self.s2.citation_counts(ids) if ids else {}
        for origin in origins:
            if origin.s2_id:
                origin.s2_count = counts.get(origin.s2_id)

    def _resolve_openalex(self, origins: list[Origin]) -> None:
        dois = [d for o in origins for d in o.paper.dois()]
        hits = self._cache_hits("openalex")
        works = self.openalex.works_by_doi(dois) if dois else []
        by_doi: dict[str, Work] = {}
        counts = KnownCounts()
        for work in works:
            raw_doi = work.doi
            canonical_ids(work)
            if work.openalex_id and work.citation_count is not None:
                counts.openalex[work.openalex_id] = work.citation_count
            for key in (raw_doi, work.doi, work.arxiv_id and f"10.48550/arxiv.{work.arxiv_id}"):
                if key:
                    by_doi[key.lower()] = work
        for origin in origins:
            ids = [origin.paper.openalex] if origin.paper.openalex else []
            for doi in origin.paper.dois():
                match = by_doi.get(doi.lower())
                if match is not None and match.openalex_id and match.openalex_id not in ids:
                    ids.append(match.openalex_id)
            origin.openalex_ids = ids
        every = sorted({i for o in origins for i in o.openalex_ids})
        if not every or not self.openalex.has_key:
            return
        if self._cache_hits("openalex") != hits or not set(every) <= set(counts.openalex):
            counts = KnownCounts(openalex=self.openalex.cited_by_counts(every))
        for origin in origins:
            origin.openalex_count = counts.openalex_total(origin.openalex_ids)

    def _cache_hits(self, source: str) -> int:
        return sum(n for (name, _), n in self.http.cache_hits.items() if name == source)

    # -- stage 2: citations -------------------------------------------------------------------

    def _changed(self, state: _RunState, origin: Origin, source: str) -> bool:
        """Whether the source's citation count moved since the last complete fetch."""
        if state.options.full:
            return True
        stored = state.stored_origins.get((origin.slot, origin.idx))
        if stored is None:
            return True
        if source == "s2":
            return bool(stored["s2_citation_count"] != origin.s2_count)
        return bool(
            stored["openalex_cited_by_count"] != origin.openalex_count
            or set(stored["openalex_ids"]) != set(origin.openalex_ids)
        )

    @staticmethod
    def _fresh(state: _RunState, origin: Origin) -> bool:
        """Cached pages may serve a fetch that never completed (a resumed scan), but not one
        whose list is known to have changed since it was last fetched whole."""
        return state.options.full or (origin.slot, origin.idx) in state.stored_origins

    def _collect_s2(self, state: _RunState, origins: list[Origin]) -> None:
        todo = [o for o in origins if o.s2_id and self._changed(state, o, "s2")]
        with self.progress.stage("Semantic Scholar citations", total=len(todo)):
            for origin in todo:
                assert origin.s2_id is not None
                listing = self._ask(
                    state,
                    "s2",
                    f"citations of {origin.paper.title}",
                    self.s2.citations,
                    origin.s2_id,
                    fresh=self._fresh(state, origin),
                )
                if listing is None:
                    continue
                kept = [c for c in listing.items if state.keep(c.citing)]
                for batch in chunked(kept, WRITE_BATCH):
                    with self.store.transaction():
                        for citation in batch:
                            work = citation.citing
                            paper_id = self._add(state, work, origin.via_derivative)
                            self.store.add_evidence(
                                state.dataset.key,
                                paper_id,
                                state.run_id,
                                route="cites",
                                source="s2",
                                target=origin.s2_id,
                                contexts=citation.contexts,
                                intents=citation.intents,
                                is_influential=citation.is_influential,
                                via_derivative=origin.via_derivative,
                            )
                            if work.authors:
                                self.store.save_authors(paper_id, work.authors, "s2")
                self.store.set_coverage(
                    state.dataset.key,
                    state.run_id,
                    source="s2",
                    route="cites",
                    target=origin.s2_id,
                    fetched=len(listing.items),
                    total=listing.total if listing.total is not None else origin.s2_count,
                    capped=listing.capped,
                    note=listing.note,
                )
                self._save_origin(state, origin, s2=True)
                state.stats["s2_citations"] = state.stats.get("s2_citations", 0) + len(kept)
                self.progress.advance()

    def _collect_openalex(self, state: _RunState, origins: list[Origin]) -> None:
        if not self.openalex.has_key:
            state.note(
                "OpenAlex citations were not collected: list calls need OPENALEX_API_KEY; "
                "only Semantic Scholar's citations are counted."
            )
            for origin in origins:
                self._save_origin(state, origin, s2=False)
            return
        groups: dict[str | None, list[Origin]] = {}
        for origin in origins:
            if origin.openalex_ids and self._changed(state, origin, "openalex"):
                groups.setdefault(origin.via_derivative, []).append(origin)
        with self.progress.stage("OpenAlex citations"):
            for via, group in groups.items():
                ids = sorted({i for o in group for i in o.openalex_ids})
                target = "|".join(ids)
                fetched = 0
                try:
                    fresh = any(self._fresh(state, o) for o in group)
                    works = self.openalex.citing_works(ids, fresh=fresh)
                    for batch in chunked(works, WRITE_BATCH):
                        fetched += len(batch)
                        self.progress.advance(len(batch))
                        kept = [self._full_authors(w) for w in batch if state.keep(w)]
                        with self.store.transaction():
                            for work in kept:
                                paper_id = self._add(state, work, via)
                                self.store.add_evidence(
                                    state.dataset.key,
                                    paper_id,
                                    state.run_id,
                                    route="cites",
                                    source="openalex",
                                    target=target,
                                    via_derivative=via,
                                )
                                self._save_openalex_authors(paper_id, work)
                except AuthError:
                    raise
                except SourceError as exc:
                    state.fail("openalex", "citing works", exc)
                    continue
                total = sum(o.openalex_count or 0 for o in group)
                self.store.set_coverage(
                    state.dataset.key,
                    state.run_id,
                    source="openalex",
                    route="cites",
                    target=target,
                    fetched=fetched,
                    total=total,
                    capped=False,
                    note=None,
                )
                for origin in group:
                    self._save_origin(state, origin, s2=False)
                state.stats["openalex_citations"] = (
                    state.stats.get("openalex_citations", 0) + fetched
                )

    def _save_origin(self, state: _RunState, origin: Origin, *, s2: bool) -> None:
        """Remember the counts a complete fetch saw, for the next run's change detection."""
        stored = state.stored_origins.get((origin.slot, origin.idx)) or {}
        self.store.save_origin(
            origin.slot,
            origin.idx,
            title=origin.paper.title,
            s2_paper_id=origin.s2_id,
            corpus_id=origin.corpus_id,
            openalex_ids=origin.openalex_ids,
            s2_citation_count=origin.s2_count if s2 else stored.get("s2_citation_count"),
            openalex_cited_by_count=(
                stored.get("openalex_cited_by_count") if s2 else origin.openalex_count
            ),
        )

    # -- stage 3: mentions in full text -------------------------------------------------------

    def _collect_mentions(self, state: _RunState, origins: list[Origin]) -> None:
        dataset = state.dataset
        origin_corpus = {o.corpus_id for o in origins if o.corpus_id is not None}
        year = f"{state.options.since}-" if state.options.since else None
        excluded = 0
        with self.progress.stage("Full-text mentions", total=len(dataset.mentions)):
            for phrase in dataset.mentions:
                snippets = self._ask(
                    state,
                    "s2",
                    f"mentions of {phrase!r}",
                    self.s2.snippets,
                    phrase,
                    fields_of_study=list(dataset.fields_of_study),
                    year=year,
                )
                if snippets is None:
                    continue
                # A paper may come back with several passages: keep them all, as one record.
                hits: dict[str, tuple[Work, list[str], bool]] = {}
                for snippet in snippets:
                    cites = bool(origin_corpus & set(snippet.ref_corpus_ids))
                    if not on_topic(
                        state.terms,
                        text=snippet.text,
                        fields_of_study=snippet.paper.fields_of_study,
                        cites=cites,
                    ):
                        excluded += 1
                        continue
                    if not state.keep(snippet.paper):
                        continue
                    key = str(snippet.paper.corpus_id or snippet.paper.s2_paper_id or snippet.text)
                    work, texts, cited = hits.get(key, (snippet.paper, [], False))
                    hits[key] = (work, [*texts, snippet.text], cited or cites)
                with self.store.transaction():
                    for work, texts, cited in hits.values():
                        paper_id = self._add(state, work, None)
                        self.store.add_evidence(
                            dataset.key,
                            paper_id,
                            state.run_id,
                            route="mentions",
                            source="s2",
                            target=phrase,
                            contexts=texts,
                            cites_origin=cited,
                        )
                self.store.set_coverage(
                    dataset.key,
                    state.run_id,
                    source="s2",
                    route="mentions",
                    target=phrase,
                    fetched=len(snippets),
                    total=None,
                    capped=len(snippets) >= 1000,
                    note="snippet search returns at most 1,000 passages"
                    if len(snippets) >= 1000
                    else None,
                )
                self.progress.advance()
        state.stats["mentions_off_topic"] = excluded

    # -- stage 4: records and authorships -----------------------------------------------------

    def _complete_s2_records(self, state: _RunState) -> None:
        """Mention hits carry little more than an id: fetch their S2 records in batches."""
        rows = self.store.conn.execute(
            "SELECT p.id, p.corpus_id, p.s2_paper_id FROM papers p JOIN dataset_papers d"
            " ON d.paper_id = p.id WHERE d.dataset = ? AND p.authors_source IS NULL"
            " AND (p.corpus_id IS NOT NULL OR p.s2_paper_id IS NOT NULL)"
            " AND (p.year IS NULL OR p.doi IS NULL) ORDER BY p.id",
            (state.dataset.key,),
        ).fetchall()
        if not rows:
            return
        with self.progress.stage("Semantic Scholar records", total=len(rows)):
            for batch in chunked(rows, S2_BATCH):
                ids = [r["s2_paper_id"] or f"CorpusId:{r['corpus_id']}" for r in batch]
                works = self._ask(state, "s2", "paper records", self.s2.papers, ids)
                if works is None:
                    return
                for work in works:
                    if work is None:
                        continue
                    paper_id, _ = self.store.upsert_work(work)
                    if work.authors:
                        self.store.save_authors(paper_id, work.authors, "s2")
                self.progress.advance(len(batch))

    def _enrich(self, state: _RunState) -> None:
        """Authorships with institutions from OpenAlex, looked up by DOI in batches."""
        todo = self.store.papers_to_enrich(state.dataset.key)
        if not todo:
            return
        with self.progress.stage("OpenAlex authorships", total=len(todo)):
            by_doi: dict[str, int] = {}
            for row in todo:
                doi = row["doi"] or (row["arxiv_id"] and f"10.48550/arxiv.{row['arxiv_id']}")
                if doi:
                    by_doi[doi.lower()] = row["id"]
            for batch in chunked(list(by_doi), 100):
                found = self._ask(
                    state, "openalex", "authorships", self.openalex.works_by_doi, batch
                )
                if found is None:
                    return
                for work in found:
                    raw_doi = (work.doi or "").lower()
                    canonical_ids(work)
                    paper_id = by_doi.get(raw_doi)
                    if paper_id is None and work.arxiv_id:
                        paper_id = by_doi.get(f"10.48550/arxiv.{work.arxiv_id.lower()}")
                    if paper_id is None:
                        continue
                    work = self._full_authors(work)
                    with self.store.transaction():
                        self.store.upsert_work(work)
                        self._save_openalex_authors(paper_id, work)
                with self.store.transaction():
                    for doi in batch:
                        self.store.mark_enriched(by_doi[doi])
                self.progress.advance(len(batch))
            with self.store.transaction():
                for row in todo:
                    if not (row["doi"] or row["arxiv_id"]):
                        self.store.mark_enriched(row["id"])

    def _full_authors(self, work: Work) -> Work:
        """A listed work whose authorships OpenAlex cut at 100, looked up whole."""
        if work.authors_truncated and work.openalex_id:
            full = self.openalex.work(work.openalex_id)
            if full is not None and full.authors:
                return full
        return work

    def _save_openalex_authors(self, paper_id: int, work: Work) -> None:
        if work.authors:
            self.store.save_authors(paper_id, work.authors, "openalex")
        with self.store.transaction():
            self.store.mark_enriched(paper_id, truncated=work.authors_truncated)

    def _classify(self, state: _RunState) -> None:
        rows = self.store.authorships_to_classify(state.dataset.key)
        if not rows:
            return
        with self.progress.stage("Classifying affiliations", total=len(rows)):
            for batch in chunked(rows, 500):
                with self.store.transaction():
                    for row in batch:
                        author = Author(
                            name=row["name"] or "",
                            position=row["position"],
                            raw_affiliations=row["raw_affiliations"],
                            institutions=[SourceInstitution(**i) for i in row["institutions"]],
                            countries=row["countries"],
                        )
                        affiliations = self.classifier.classify_author(author)
                        self.store.save_affiliations(
                            row["paper_id"], row["position"], [a.to_dict() for a in affiliations]
                        )
                self.progress.advance(len(batch))

    # -- stage 5: usage -----------------------------------------------------------------------

    def _judge(self, state: _RunState) -> None:
        key = state.dataset.key
        evidence: dict[int, list[dict[str, Any]]] = {}
        for row in self.store.evidence(key):
            evidence.setdefault(row["paper_id"], []).append(row)
        ids = self.store.dataset_paper_ids(key)
        counts: dict[str, int] = {}
        with self.progress.stage("Judging usage", total=len(ids)), self.store.transaction():
            for paper_id in ids:
                rows = evidence.get(paper_id, [])
                paper = self.store.paper(paper_id)
                cites = any(r["route"] == "cites" or r["cites_origin"] for r in rows)
                derived = {r["via_derivative"] for r in rows if r["via_derivative"]}
                direct = any(not r["via_derivative"] for r in rows if r["route"] == "cites")
                verdict = judge(
                    state.terms,
                    cites=cites,
                    contexts=[c for r in rows if r["route"] == "cites" for c in r["contexts"]],
                    intents=[i for r in rows for i in r["intents"]],
                    snippets=[c for r in rows if r["route"] == "mentions" for c in r["contexts"]],
                    title=paper["title"],
                    abstract=paper["abstract"],
                    via_derivative=None if direct or not derived else sorted(derived)[0],
                    text_source=paper["authors_source"] or "s2",
                )
                self.store.save_judgement(
                    key,
                    paper_id,
                    level=verdict.level,
                    score=verdict.score,
                    evidence=[asdict(e) for e in verdict.evidence],
                    reasons=verdict.reasons,
                )
                counts[verdict.level] = counts.get(verdict.level, 0) + 1
                self.progress.advance()
        state.stats["levels"] = counts

    # -- helpers ------------------------------------------------------------------------------

    def _add(self, state: _RunState, work: Work, via_derivative: str | None) -> int:
        paper_id, _ = self.store.upsert_work(work)
        if self.store.link(state.dataset.key, paper_id, state.run_id, via_derivative):
            state.new_ids.add(paper_id)
        return paper_id


class _RunState:
    def __init__(
        self, dataset: Dataset, run_id: int, options: ScanOptions, derivative_names: list[str]
    ) -> None:
        self.dataset = dataset
        self.run_id = run_id
        self.options = options
        self.failures: list[str] = []
        self.stats: dict[str, Any] = {}
        self.new_ids: set[int] = set()
        self.terms = DatasetTerms.build(
            dataset.name,
            dataset.aliases,
            dataset.mentions,
            derivative_names=derivative_names,
            fields_of_study=dataset.fields_of_study,
            key=dataset.key,
        )
        self.stored_origins: dict[tuple[str, int], dict[str, Any]] = {}

    @property
    def new_papers(self) -> int:
        return len(self.new_ids)

    def keep(self, work: Work) -> bool:
        since = self.options.since
        return since is None or work.year is None or work.year >= since

    def note(self, text: str) -> None:
        """Something the run could not see, for the report's 'what is missing'."""
        self.stats.setdefault("notes", []).append(text)

    def fail(self, source: str, what: str, exc: SourceError) -> None:
        self.failures.append(f"{source}: {what}: {exc.message.rstrip('.')}")


def run_scan(
    settings: Settings,
    catalog: Catalog,
    dataset: Dataset,
    options: ScanOptions | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan one dataset with the configured sources, store and classifier."""
    with Store(settings.database) as store, HttpClient(settings) as http:
        classifier = Classifier.load(settings)
        return Scanner(store, catalog, http, classifier, progress).scan(dataset, options)
