"""The scan: resolve origin papers, read the sources' lists, look papers up, classify, judge, store.

The same steps run over every registered source (`tracer.sources.registry`). Every stage commits
what it has as it goes, so a scan stopped by Ctrl-C, a crash or a failing server keeps what it
stored, and the next scan or refresh finishes what was left undone:

- a list is read again when it was never read to its end without filters, or when the citation
  counts of its origins moved since it was (`--full` reads every list);
- papers not yet looked up by a source that can add to them are looked up;
- authorships classified with other reference data, and papers judged with other rules, are
  classified and judged again.

A paper is marked "no longer found" only when every list that had found it was read again in
full, unfiltered, in a run where nothing failed, and none of them holds it any more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, ParamSpec, Protocol, TypeVar

from tracer import collector
from tracer.affiliations.classify import Classifier
from tracer.catalog import Catalog, Dataset
from tracer.config import Settings
from tracer.errors import AuthError, NotFoundError, SourceError
from tracer.http import HttpClient
from tracer.ids import chunked
from tracer.records import Author, SourceInstitution, Work
from tracer.sources.base import Found, ListRead, Origin, PaperRef, Source, Target
from tracer.sources.registry import default_sources
from tracer.store import Store
from tracer.usage import DatasetTerms, StoredInputs, judge_paper, on_topic, rules_version
from tracer.versions import classifier_version

P = ParamSpec("P")
T = TypeVar("T")


WRITE_BATCH = 500  # papers written per transaction: fast, and an interruption loses little
LOOKUP_BATCH = 500
CLASSIFY_PAPERS = 5000  # papers whose due inputs are read, classified and written at a time
Counts = dict[str, dict[str, int | None]]  # source -> origin id -> citation count


class Progress(Protocol):
    """Where a scan reports what it is doing (the CLI draws it on stderr)."""

    def stage(self, name: str, total: int | None = None) -> AbstractContextManager[Any]: ...

    def advance(self, count: int = 1) -> None: ...

    def waiting(self, label: str, sentence: str, seconds: float) -> None:
        """A source asked to wait before the next attempt (`sentence` says why and how long)."""


class SilentProgress:
    def stage(self, name: str, total: int | None = None) -> AbstractContextManager[Any]:
        return nullcontext()

    def advance(self, count: int = 1) -> None:
        pass

    def waiting(self, label: str, sentence: str, seconds: float) -> None:
        pass


# New citers are recent papers: a refresh's read of a changed list covers those published up to
# a year before its last full read. Papers indexed later than that are caught when the new ones
# found fall short of how much the counts grew (the list is then read in full at once), and by
# the scheduled full read.
RECENT_WINDOW = timedelta(days=365)


@dataclass
class ScanOptions:
    mentions: bool = True
    since: int | None = None  # keep papers published in this year or later
    full: bool = False  # ignore stored state: read every list again
    # A changed list read in full less than this long ago is read again only for the papers
    # published in the `recent` window before that read and since, where the source filters by
    # date (refresh); None: always in full.
    full_every: timedelta | None = None
    recent: timedelta = RECENT_WINDOW

    @property
    def filters(self) -> dict[str, Any]:
        """The filters a list read with these options was read under (none: `{}`)."""
        return {"since": self.since} if self.since is not None else {}


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
    steps: list[str] = field(default_factory=list)

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
        sources: Sequence[Source] | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.http = http
        self.sources = list(sources) if sources is not None else default_sources(http)
        self.classifier = classifier
        self.progress = progress or SilentProgress()
        http.on_wait = self.progress.waiting  # retries and waits show on the progress display
        self.classified_with = classifier_version(classifier.reference)
        self.judged_with = rules_version()

    # -- what a run has to do -----------------------------------------------------------------

    def origins(self, dataset: Dataset) -> list[Origin]:
        """The dataset's origin papers and its derivatives', with the ids stored for them."""
        origins = [
            Origin(dataset.key, i, p, None, dataset.key, creators=dataset.creators)
            for i, p in enumerate(dataset.origin_papers)
        ]
        for key in dataset.derivatives:
            derived = self.catalog.get(key)
            origins += [
                Origin(key, i, p, key, dataset.key, creators=derived.creators)
                for i, p in enumerate(derived.origin_papers)
            ]
        stored: dict[str, dict[tuple[int, str], list[str]]] = {}
        for origin in origins:
            ids = stored.setdefault(origin.slot, self.store.origin_ids(origin.slot))
            for source in self.sources:
                found = ids.get((origin.idx, source.name))
                if found is not None:
                    origin.resolved.add(source.name)
                if found:
                    origin.ids[source.name] = list(found)
        return origins

    def counts(self, datasets: Sequence[Dataset]) -> tuple[Counts, dict[str, str]]:
        """The citation counts of every stored origin id of these datasets: one batched call
        per source for all of them. Returns the counts and, per failed source, why."""
        ids: dict[str, set[str]] = {s.name: set() for s in self.sources}
        for dataset in datasets:
            origins = self.origins(dataset)
            for source in self.sources:
                for target in source.targets(origins):
                    ids[source.name].update(target.ids)
        counts: Counts = {}
        failed: dict[str, str] = {}
        for source in self.sources:
            wanted = sorted(ids.get(source.name, ()))
            if not wanted:
                continue
            try:
                counts[source.name] = source.counts(wanted)
            except AuthError:
                raise
            except SourceError as exc:
                failed[source.name] = exc.message
        return counts, failed

    def plan(self, dataset: Dataset, options: ScanOptions, counts: Counts) -> list[str]:
        """Why a scan of `dataset` with these counts has work to do (empty: nothing to do)."""
        origins = self.origins(dataset)
        if not any(o.resolved for o in origins):
            return ["never scanned"]
        reasons = []
        _apply_counts(origins, counts)
        if any(self._needs_resolving(o) for o in origins):
            reasons.append("origin papers to resolve again")
        for source in self.sources:
            for target in source.targets(origins):
                why = self._due(dataset.key, source, target, options)
                if why:
                    reasons.append(f"{source.label}: {why}")
        if self.store.classifications_due(dataset.key, self.classified_with):
            reasons.append("affiliations to classify")
        if self.store.judgements_due(dataset.key, self.judged_with):
            reasons.append("papers to judge")
        for source in self.sources:
            if self._lookups(dataset.key, source):
                reasons.append(f"papers to look up in {source.label}")
        return reasons

    def _needs_resolving(self, origin: Origin) -> bool:
        """An origin some source has not answered for (it failed, or is new), or one whose
        stored id now answers nothing (S2 ids die when records merge)."""
        if any(s.name not in origin.resolved for s in self.sources):
            return True
        return any(
            source in origin.counts and all(n is None for n in origin.counts[source].values())
            for source in origin.ids
        )

    def _due(self, dataset: str, source: Source, target: Target, options: ScanOptions) -> str:
        """Why a list must be read (empty: the stored read still holds)."""
        if options.full:
            return "full re-read asked for"
        read = self.store.list_read(dataset, source.name, "cites", target.key)
        if read is None:
            return f"citations of {target.key} never read"
        if not read["complete"]:
            return f"the last read of {target.key} did not finish"
        if read["filters"] and read["filters"] != options.filters and not _increment(read):
            return f"the last read of {target.key} was filtered"
        if (
            options.full_every is not None
            and _increment(read)
            and _older(read["full_read_at"], options.full_every)
        ):
            return f"{target.key} is due to be read in full"
        now = _target_counts(source, target)
        if any(n is None for n in now.values()):
            return f"the citation count of {target.key} is unknown"
        if now != read["counts"]:
            return f"new citations of {target.key}"
        return ""

    # -- the run ------------------------------------------------------------------------------

    @collector.frozen()
    def scan(
        self,
        dataset: Dataset,
        options: ScanOptions | None = None,
        *,
        counts: Counts | None = None,
        kind: str = "scan",
    ) -> ScanResult:
        """Scan one dataset. `counts`: citation counts a refresh has just fetched for it."""
        options = options or ScanOptions()
        run_id = self.store.start_run(dataset.key, kind)
        state = _RunState(dataset, run_id, options, self._terms(dataset))
        try:
            if not self.classifier.gazetteer_available:
                state.note(
                    "No ROR gazetteer was loaded: institutions come only from OpenAlex and "
                    "the watchlist (run `tracer data update`)."
                )
            for note in self.classifier.notes:
                state.note(note)
            for source in self.sources:
                for note in source.notes():
                    state.note(note)
            origins = self._resolve(state, counts)
            self._read_lists(state, origins)
            if options.mentions:
                self._read_mentions(state, origins)
            self._look_up(state)
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
            steps=state.steps,
        )

    def _finish(self, state: _RunState, status: str, error: str | None) -> None:
        budget = self.http.budget()
        if budget:
            state.stats["budget"] = budget  # what each source says is left of today's budget
        info = {s.name: s.run_info() for s in self.sources if s.run_info()}
        if info:
            state.stats["sources"] = info
        self.store.finish_run(
            state.run_id,
            status,
            requests=self.http.request_counts(),
            new_papers=state.new_papers,
            stats=state.stats,
            error=None if error is None else self.http.redact(error),
            steps=state.steps,
        )

    def rejudge(self, dataset: Dataset) -> dict[str, int]:
        """Classify and judge the stored papers again with the current rules and reference
        data, without the network; returns the papers per level."""
        run_id = self.store.start_run(dataset.key, "rejudge")
        state = _RunState(dataset, run_id, ScanOptions(), self._terms(dataset))
        try:
            self._classify(state, every=True)
            self._judge(state)
        except BaseException as exc:
            self._finish(state, "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed",
                         str(exc) or type(exc).__name__)
            raise
        self._finish(state, "ok", None)
        return dict(state.stats.get("levels", {}))

    def _terms(self, dataset: Dataset) -> DatasetTerms:
        return DatasetTerms.for_dataset(dataset, self.catalog)

    # -- stage 1: origin papers ---------------------------------------------------------------

    def _resolve(self, state: _RunState, counts: Counts | None) -> list[Origin]:
        origins = self.origins(state.dataset)
        if counts is not None:
            _apply_counts(origins, counts)
            todo = [o for o in origins if self._needs_resolving(o)]
        else:
            todo = origins
        if state.options.full:
            todo = origins
        with self.progress.stage("Resolving origin papers", total=len(origins)):
            if todo:
                for origin in todo:
                    origin.ids.clear()
                    origin.counts.clear()
                    origin.resolved.clear()
                for source in self.sources:
                    if self._ask(state, source, "origin papers", _resolved, source, todo):
                        state.done(f"resolve:{source.name}")
                with self.store.transaction():
                    for origin in todo:
                        for name in origin.resolved:
                            self.store.save_origin_ids(
                                origin.slot,
                                origin.idx,
                                name,
                                origin.ids.get(name, []),
                                origin.paper.title,
                            )
            self.progress.advance(len(origins))
        unknown = [o for o in origins if not o.ids]
        if len(unknown) == len(origins):
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
        for origin in origins:
            for source in self.sources:
                if source.name in origin.found_by_title:
                    state.note(
                        f"{source.label} found the origin paper {origin.paper.label()} by its "
                        f"title and year only, as {', '.join(origin.ids[source.name])}."
                    )
                if source.name not in origin.ids and not source.notes():
                    state.note(
                        f"{source.label} does not know the origin paper {origin.paper.label()}: "
                        "its citers there are not counted."
                    )
        return origins

    def _ask(
        self,
        state: _RunState,
        source: Source,
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
            state.fail(source.name, what, exc)
            return None

    # -- stage 2: citation lists --------------------------------------------------------------

    @collector.paused()
    def _read_lists(self, state: _RunState, origins: list[Origin]) -> None:
        for source in self.sources:
            targets = [
                t for t in source.targets(origins)
                if self._due(state.dataset.key, source, t, state.options)
            ]
            if not targets:
                continue
            with self.progress.stage(f"{source.label} citations", total=len(targets)):
                for target in targets:
                    self._read_list(state, source, target)
                    self.progress.advance()

    def _read_list(
        self, state: _RunState, source: Source, target: Target, *, may_increment: bool = True
    ) -> None:
        key = state.dataset.key
        stored = self.store.list_read(key, source.name, "cites", target.key)
        now = _target_counts(source, target)
        # Cached pages may resume a read that was interrupted (it left no record), but not one
        # that failed (its pages may be why) nor one of a list known to have changed.
        fresh = state.options.full or bool(
            stored and (not stored["complete"] or stored["counts"] != now)
        )
        since: int | date | None = state.options.since
        filters = state.options.filters
        increment = may_increment and self._incremental(state.options, source, stored)
        if increment:
            assert stored is not None
            since = (datetime.fromisoformat(stored["full_read_at"]) - state.options.recent).date()
            filters = {"since": since.isoformat(), "increment": True}
        read: ListRead | None = None
        kept = 0
        known = (
            self.store.list_members(key, source.name, "cites", target.key) if increment else set()
        )
        try:
            read = source.read(target, since=since, fresh=fresh)
            for batch in chunked(read, WRITE_BATCH):
                page = [found for found in batch if state.keep(found.work)]
                self._store_page(state, source, page, "cites", target)
                kept += len(page)
        except AuthError:
            raise
        except SourceError as exc:
            state.fail(source.name, f"citations of {target.key}", exc)
            read = None
        if increment and read is not None and stored is not None:
            members = self.store.list_members(key, source.name, "cites", target.key)
            if len(members - known) < _fewest_new(stored["counts"], now):
                # Fewer new papers in the recent window than the counts grew by: some are older
                # papers indexed late. Read the whole list now rather than miss them.
                self._read_list(state, source, target, may_increment=False)
                return
        if read is not None:
            filters = {**filters, **read.filters}  # what the source itself left out
        fetched = 0 if read is None else read.fetched + read.unresolved + read.skipped
        # An increment holds only recent papers: it is never short of the list's total.
        total = None if read is None or increment else read.total
        # Read again next time, where the list itself holds more than was read.
        short = total is not None and fetched < total and read is not None and read.total_listed
        capped = bool(read and read.capped)
        self.store.set_coverage(
            key,
            state.run_id,
            source=source.name,
            route="cites",
            target=target.key,
            fetched=fetched,
            total=total,
            capped=capped,
            note=_increment_note(filters) if increment else (read.note if read else None),
            filters=filters,
            complete=read is not None and not short and not capped,
            counts=now,
            unresolved=0 if read is None else read.unresolved,
            skipped=0 if read is None else read.skipped,
            full_read_at=stored["full_read_at"] if stored else None,
        )
        if read is not None:
            state.done(f"list:{source.name}:{target.key}")
        name = f"{source.name}_citations"
        state.stats[name] = state.stats.get(name, 0) + kept

    @staticmethod
    def _incremental(
        options: ScanOptions, source: Source, stored: dict[str, Any] | None
    ) -> bool:
        """Whether a changed list may be read from a year on, on top of a recent full read."""
        return bool(
            options.full_every is not None
            and not options.full
            and options.since is None
            and source.filters_by_year
            and stored
            and stored["complete"]
            and stored["full_read_at"]
            and not _older(stored["full_read_at"], options.full_every)
        )

    def _store_page(
        self, state: _RunState, source: Source, page: Sequence[Found], route: str,
        target: Target | None, phrase: str | None = None,
    ) -> None:
        """Store a page of found works in one transaction: the works matched with the store a
        page at a time (up to a work that joins stored papers, whose earlier works are stored
        first), then their links, evidence, authorships and lookups, a statement each."""
        rest = list(page)
        with self.store.transaction():
            while rest:
                done = self.store.upsert_works(
                    [found.work for found in rest], prefer_title=source.merged_titles,
                    until_merge=True,
                )
                self._store_found(state, source, rest[: len(done)],
                                  [paper_id for paper_id, _ in done], route, target, phrase)
                rest = rest[len(done):]

    def _store_found(
        self, state: _RunState, source: Source, found: Sequence[Found], paper_ids: list[int],
        route: str, target: Target | None, phrase: str | None = None,
    ) -> None:
        """What a source found with works already stored (`paper_ids`, in the same order)."""
        key = state.dataset.key
        via = target.via_derivative if target else None
        new = self.store.link_many(key, state.run_id, [(pid, via) for pid in paper_ids])
        state.new_ids.update(pid for pid, is_new in zip(paper_ids, new, strict=True) if is_new)
        self.store.add_evidence_many([
            self.store.evidence_row(
                key,
                paper_id,
                state.run_id,
                route=route,
                source=source.name,
                target=target.key if target else (phrase or ""),
                contexts=one.contexts,
                intents=one.intents,
                is_influential=one.is_influential,
                cites_origin=one.cites_origin,
                via_derivative=via,
                passages=[p.to_dict() for p in one.passages],
            )
            for one, paper_id in zip(found, paper_ids, strict=True)
        ])
        if route == "cites":
            self.store.save_authors_many(
                [(pid, one.work.authors) for one, pid in zip(found, paper_ids, strict=True)
                 if one.work.authors],
                source.name, source.authors_rank,
            )
        self.store.mark_looked_up_many(
            [(pid, one.work.authors_truncated)
             for one, pid in zip(found, paper_ids, strict=True) if one.is_record],
            source.name,
        )

    # -- stage 3: mentions in full text -------------------------------------------------------

    @collector.paused()
    def _read_mentions(self, state: _RunState, origins: list[Origin]) -> None:
        dataset = state.dataset
        excluded = 0
        for source in self.sources:
            with self.progress.stage(f"{source.label} full-text mentions",
                                     total=len(dataset.mentions)):
                for phrase in dataset.mentions:
                    read = self._ask(
                        state,
                        source,
                        f"mentions of {phrase!r}",
                        source.mentions,
                        phrase,
                        origins,
                        fields_of_study=dataset.fields_of_study,
                        since=state.options.since,
                    )
                    if read is None:
                        break  # the source has no full-text search, or it failed
                    excluded += self._store_mentions(state, source, phrase, read)
                    self.progress.advance()
        state.stats["mentions_off_topic"] = excluded

    def _store_mentions(self, state: _RunState, source: Source, phrase: str,
                        read: ListRead) -> int:
        """Keep the passages on the dataset's topic, several of one paper as one record."""
        hits: dict[str, Found] = {}
        excluded = 0
        for found in read:
            text = " ".join(p.text for p in found.passages)
            if not on_topic(state.terms, text=text,
                            fields_of_study=found.work.fields_of_study,
                            cites=bool(found.cites_origin)):
                excluded += 1
                continue
            if not state.keep(found.work):
                continue
            work = found.work
            key = str(work.corpus_id or work.s2_paper_id or work.openalex_id or work.doi or text)
            if key in hits:
                hits[key].passages.extend(found.passages)
                hits[key].cites_origin = bool(hits[key].cites_origin or found.cites_origin)
            else:
                hits[key] = found
        self._store_page(state, source, list(hits.values()), "mentions", None, phrase)
        filters = {**state.options.filters, **read.filters}
        self.store.set_coverage(
            state.dataset.key,
            state.run_id,
            source=source.name,
            route="mentions",
            target=phrase,
            fetched=read.fetched,
            total=read.total,
            capped=read.capped,
            note=read.note,
            filters=filters,
            complete=not read.capped,
        )
        state.done(f"mentions:{source.name}:{phrase}")
        return excluded

    # -- stage 4: records and authorships -----------------------------------------------------

    def _lookups(self, dataset: str, source: Source) -> list[PaperRef]:
        refs = [
            PaperRef(
                paper_id=row["id"],
                doi=row["doi"],
                arxiv_id=row["arxiv_id"],
                s2_paper_id=row["s2_paper_id"],
                corpus_id=row["corpus_id"],
                openalex_id=row["openalex_id"],
                year=row["year"],
                has_affiliations=bool(row["has_affiliations"]),
            )
            for row in self.store.papers_to_look_up(dataset, source.name)
        ]
        return [r for r in refs if source.wants(r)]

    @collector.paused()
    def _look_up(self, state: _RunState) -> None:
        """Each source looks up the stored papers it can add to, the one whose authorships win
        first; a record one source brings (a DOI, say) may let another look the paper up, so
        this goes round until no source has anything left to do."""
        order = sorted(self.sources, key=lambda s: -s.authors_rank)
        failed: set[str] = set()
        for _ in range(len(order) + 1):
            progressed = False
            for source in order:
                if source.name in failed:
                    continue
                todo = self._lookups(state.dataset.key, source)
                if not todo:
                    continue
                progressed = True
                with self.progress.stage(f"{source.label} records", total=len(todo)):
                    for batch in chunked(todo, LOOKUP_BATCH):
                        found = self._ask(state, source, "paper records", _all, source, batch)
                        if found is None:
                            failed.add(source.name)
                            break
                        self._save_lookups(source, batch, found)
                        self.progress.advance(len(batch))
                if source.name not in failed:
                    state.done(f"lookup:{source.name}")
            if not progressed:
                break

    def _save_lookups(
        self, source: Source, batch: list[PaperRef], found: list[tuple[int, Work]]
    ) -> None:
        with self.store.transaction():
            rest = list(found)
            while rest:
                done = self.store.upsert_works(
                    [work for _, work in rest], prefer_title=source.merged_titles,
                    until_merge=True,
                )
                prefix = rest[: len(done)]
                self.store.save_authors_many(
                    [(paper_id, work.authors) for paper_id, work in prefix if work.authors],
                    source.name, source.authors_rank,
                )
                self.store.mark_looked_up_many(
                    [(paper_id, work.authors_truncated) for paper_id, work in prefix],
                    source.name,
                )
                rest = rest[len(done):]
            self.store.mark_looked_up_many([(ref.paper_id, None) for ref in batch], source.name)

    # -- stage 5: affiliations ----------------------------------------------------------------

    def _classify(self, state: _RunState, *, every: bool = False) -> None:
        """Classify each distinct author input (strings, institutions, countries) once: many
        authors of a dataset print the same affiliation. For each CLASSIFY_PAPERS papers, the
        store hands over the inputs due there, the ones not seen before are classified, and
        the store writes every authorship's rows from its input's (`write_classified`)."""
        key = state.dataset.key
        version = None if every else self.classified_with
        due = self.store.classifications_due(key, version)
        if due:
            self.store.start_classifying()
            known: set[tuple[str, str, str]] = set()
            with self.progress.stage("Classifying affiliations", total=due):
                for low, high in self.store.classify_ranges(key, CLASSIFY_PAPERS):
                    new = [i for i in self.store.due_inputs(key, version, low, high)
                           if i not in known]
                    self.store.add_classified_inputs(
                        [(given, self._classified(given)) for given in new]
                    )
                    known.update(new)
                    done = self.store.write_classified(
                        key, version, low, high, self.classified_with
                    )
                    self.progress.advance(done)
        state.done("classify")

    def _classified(self, given: tuple[str, str, str]) -> tuple[tuple[Any, ...], ...]:
        """The affiliation rows of one stored classifier input."""
        read = self.store.author_input(*given)
        author = Author(
            name="",
            raw_affiliations=read["raw_affiliations"],
            institutions=[SourceInstitution(**i) for i in read["institutions"]],
            countries=read["countries"],
        )
        return self.store.affiliation_rows(
            [a.to_dict() for a in self.classifier.classify_author(author)]
        )

    # -- stage 6: usage -----------------------------------------------------------------------

    def _judge(self, state: _RunState) -> None:
        """Judge the papers of the dataset whose inputs changed since their last verdict (a
        digest of terms, record, evidence and rules says so: the same inputs give the same
        verdict), their evidence read a chunk of papers at a time as stored (each distinct row
        and passage decoded and judged once: StoredInputs) and the verdicts written
        WRITE_BATCH a statement."""
        key = state.dataset.key
        counts: dict[str, int] = {}
        verdicts = []
        digests: dict[int, str] = {}
        judged = seen = 0
        total = self.store.dataset_papers_count(key)
        columns = self.store.evidence_columns()
        inputs = StoredInputs(state.terms, self.judged_with, columns,
                              lambda values: self.store.evidence_dict(values, columns))
        with self.progress.stage("Judging usage", total=total), self.store.transaction():
            for paper_id, paper, stored_rows, stored in self.store.judge_inputs(
                key, as_stored=True
            ):
                seen += 1
                digest, evidence = inputs.read(paper, stored_rows)
                level, judged_with, stored_digest = stored
                if level is None or judged_with != self.judged_with or stored_digest != digest:
                    verdict = judge_paper(state.terms, paper, evidence, inputs.memo)
                    judged += 1
                    verdicts.append((paper_id, verdict))
                    digests[paper_id] = digest
                    level = verdict.level
                counts[level] = counts.get(level, 0) + 1
                if len(verdicts) >= WRITE_BATCH or seen % WRITE_BATCH == 0:
                    self.store.save_judgements(key, verdicts, self.judged_with, digests)
                    verdicts, digests = [], {}
                    self.progress.advance(seen)
                    seen = 0
            self.store.save_judgements(key, verdicts, self.judged_with, digests)
            self.progress.advance(seen)
        state.stats["levels"] = counts
        state.stats["judged"] = judged
        state.done("judge")

    # -- helpers ------------------------------------------------------------------------------

    def _link(self, state: _RunState, paper_id: int, via_derivative: str | None) -> None:
        if self.store.link(state.dataset.key, paper_id, state.run_id, via_derivative):
            state.new_ids.add(paper_id)


def _fewest_new(before: dict[str, Any], now: dict[str, int | None]) -> int:
    """The fewest new citers a list can have gained: the largest growth of one origin id's
    count (a paper citing two versions of an origin adds to both counts)."""
    grown = [(n or 0) - int(before.get(i) or 0) for i, n in now.items()]
    return max([0, *grown])


def _increment(read: dict[str, Any]) -> bool:
    """A read of the recent papers of a list, on top of its last full read."""
    return bool(read["filters"].get("increment"))


def _increment_note(filters: dict[str, Any]) -> str:
    return (
        f"read for papers published from {filters['since']} on, on top of the last full read "
        "(papers indexed late are found by the next full read)"
    )


def _older(stamp: str | None, age: timedelta) -> bool:
    return stamp is None or datetime.now(UTC) - datetime.fromisoformat(stamp) >= age


def _resolved(source: Source, origins: list[Origin]) -> bool:
    source.resolve(origins)
    for origin in origins:
        origin.resolved.add(source.name)
    return True


def _all(source: Source, papers: list[PaperRef]) -> list[tuple[int, Work]]:
    return list(source.lookup(papers))


def _apply_counts(origins: list[Origin], counts: Counts) -> None:
    """Give each origin the fresh counts of its stored ids."""
    for origin in origins:
        for source, ids in origin.ids.items():
            if source in counts:
                origin.counts[source] = {i: counts[source].get(i) for i in ids}


def _target_counts(source: Source, target: Target) -> dict[str, int | None]:
    """The citation counts of a list's origin ids, as the source gave them this run."""
    counts: dict[str, int | None] = {}
    for origin in target.origins:
        known = origin.counts.get(source.name, {})
        for i in target.ids:
            if i in known:
                counts[i] = known[i]
    return {i: counts.get(i) for i in target.ids}


class _RunState:
    def __init__(
        self, dataset: Dataset, run_id: int, options: ScanOptions, terms: DatasetTerms
    ) -> None:
        self.dataset = dataset
        self.run_id = run_id
        self.options = options
        self.terms = terms
        self.failures: list[str] = []
        self.stats: dict[str, Any] = {}
        self.new_ids: set[int] = set()
        self.steps: list[str] = []

    @property
    def new_papers(self) -> int:
        return len(self.new_ids)

    def keep(self, work: Work) -> bool:
        since = self.options.since
        return since is None or work.year is None or work.year >= since

    def note(self, text: str) -> None:
        """Something the run could not see, for the report's 'what is missing'."""
        notes = self.stats.setdefault("notes", [])
        if text not in notes:
            notes.append(text)

    def done(self, step: str) -> None:
        self.steps.append(step)

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
