"""The report model: one tree computed from the store, from which every output is drawn.

`build_report()` reads the store (read-only SELECTs, no network) and returns a `Report`;
`Report.to_dict()` is the stable `--json` shape documented in docs/json-report.md. Terminal,
Markdown, CSV, HTML and graph outputs all render this one object, so their figures agree.

Counting rules (stated in every output, see COUNTING_RULES):
- whole counting: a paper counts once for each country (sector, institution) among its authors'
  affiliations;
- fractional counting: each paper weighs 1, split equally over its authors; each author's share
  is split equally over that author's affiliations, and lands on the affiliation's country (or
  sector). Shares of authors without any affiliation, and of affiliations without a country,
  land on "unknown", so the fractional column adds up to the number of papers.
A paper without any affiliation is counted as such, never guessed.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import quote

from tracer.catalog import Dataset
from tracer.errors import UsageError
from tracer.store import Store

REPORT_VERSION = 1
# Ordered weakest to strongest: a citation alone, the name in the text, signs of use.
LEVELS = ("cited", "mentioned", "used")
NOT_JUDGED = "not judged"
UNKNOWN = "unknown"
RESTRICTED_TERMS = ("non-commercial", "research-only")
USER_SECTORS_AGAINST_LICENCE = ("commercial", "military")

COUNTING_RULES = (
    "Whole counting: a paper counts once for each country (or sector, or institution) among "
    "its authors' affiliations. Fractional counting: each paper weighs 1, split equally over "
    "its authors, and each author's share split equally over that author's affiliations; "
    "shares without a known country or sector count as 'unknown', so fractional counts add up "
    "to the number of papers. Papers without any affiliation are counted as such, never guessed."
)


@dataclass
class Flag:
    list: str
    label: str
    category: str | None = None
    source: str | None = None
    start: str | None = None
    end: str | None = None


@dataclass
class AffiliationRow:
    raw: str | None
    institution_id: str | None
    institution_name: str | None
    parent_name: str | None
    country: str | None
    sector: str
    flags: list[Flag]
    method: str
    confidence: float


@dataclass
class AuthorRow:
    position: int
    name: str | None
    affiliations: list[AffiliationRow]


@dataclass
class PaperRow:
    paper_id: int
    title: str | None
    year: int | None
    publication_date: str | None
    venue: str | None
    ids: dict[str, list[str]]  # doi, arxiv, s2, corpus, openalex: every id the paper has
    level: str  # used | mentioned | cited | "not judged"
    score: float | None
    evidence: list[dict[str, Any]]  # {kind, text, source, matched}
    via_derivative: str | None
    missing: bool  # a later complete run no longer found it
    after_withdrawal: bool
    authors_truncated: bool
    authors: list[AuthorRow]
    countries: list[str]
    institutions: list[str]
    sectors: list[str]
    flags: list[str]
    links: list[str]

    @property
    def has_affiliation(self) -> bool:
        return any(author.affiliations for author in self.authors)


@dataclass
class CountRow:
    key: str  # ISO country code, sector or usage level; "unknown" where not known
    label: str
    papers: int  # whole counting
    fractional: float


@dataclass
class InstitutionRow:
    key: str
    name: str
    parent_name: str | None
    country: str | None
    sector: str
    flags: list[Flag]
    papers: int
    fractional: float
    paper_ids: list[int]


@dataclass
class YearRow:
    year: int | None
    papers: int


@dataclass
class Filters:
    min_usage: str | None
    levels: list[str]
    since: int | None
    until: int | None
    country: str | None


@dataclass
class RunInfo:
    id: int
    kind: str
    status: str
    started_at: str
    finished_at: str | None
    error: str | None
    requests: dict[str, Any]


@dataclass
class CoverageRow:
    source: str
    route: str
    target: str
    fetched: int
    total: int | None
    capped: bool
    note: str | None


@dataclass
class Header:
    dataset: str
    name: str
    origin_papers: list[str]
    status: str | None
    licence: str | None
    licence_terms: str | None
    last_run: RunInfo | None
    last_complete_run: RunInfo | None
    sources: list[str]
    coverage: list[CoverageRow]


@dataclass
class Withdrawal:
    withdrawn_on: str | None
    papers: int
    by_level: dict[str, int]
    paper_ids: list[int]
    rule: str


@dataclass
class LicenceFinding:
    licence: str | None
    licence_terms: str | None
    applies: bool  # the licence restricts use (non-commercial or research-only)
    institutions: list[InstitutionRow]
    papers: int
    paper_ids: list[int]


@dataclass
class Missing:
    papers_without_affiliation: list[int]
    unresolved_affiliations: int  # affiliation strings matched to no institution
    unresolved_examples: list[str]
    country_only_affiliations: int
    capped: list[CoverageRow]
    failed_runs: list[RunInfo]
    papers_marked_missing: list[int]
    papers_not_judged: list[int]
    papers_authors_truncated: list[int]
    notes: list[str]  # what the last run could not see (no gazetteer, a source skipped)


@dataclass
class Report:
    version: int
    headline: str
    filters: Filters
    header: Header
    counting_rules: str
    total_papers: int
    by_level: list[CountRow]
    countries: list[CountRow]
    sectors: list[CountRow]
    institutions: list[InstitutionRow]
    flagged: list[InstitutionRow]
    years: list[YearRow]
    withdrawal: Withdrawal
    licence: LicenceFinding
    missing: Missing
    papers: list[PaperRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The documented --json shape (docs/json-report.md)."""
        return asdict(self)

    def paper(self, paper_id: int) -> PaperRow:
        return self._papers_by_id[paper_id]

    @cached_property
    def _papers_by_id(self) -> dict[int, PaperRow]:
        # Not a dataclass field, so it stays out of to_dict().
        return {paper.paper_id: paper for paper in self.papers}


def country_name(code: str | None) -> str:
    """A country's English name from the map package's table; the code where it has none."""
    if not code or code == UNKNOWN:
        return UNKNOWN
    names: dict[str, str] = getattr(
        importlib.import_module("pygal_maps_world.i18n"), "COUNTRIES", {}
    )
    return names.get(code.lower(), code.upper())


def levels_from(min_usage: str | None) -> list[str]:
    """The usage levels a --min-usage keeps; None keeps every paper, judged or not."""
    if min_usage is None:
        return [*reversed(LEVELS), NOT_JUDGED]
    if min_usage not in LEVELS:
        raise UsageError(
            f"Unknown usage level {min_usage!r}.", hint="Use one of: " + ", ".join(LEVELS) + "."
        )
    return list(reversed(LEVELS[LEVELS.index(min_usage) :]))


def links_for(ids: dict[str, list[str]]) -> list[str]:
    """Links to the paper in each source, built from its ids (quoted: ids come from APIs)."""

    def q(value: str) -> str:
        return quote(value, safe="/:;()._-")

    links = [f"https://doi.org/{q(v)}" for v in ids.get("doi", [])]
    links += [f"https://arxiv.org/abs/{q(v)}" for v in ids.get("arxiv", [])]
    links += [f"https://www.semanticscholar.org/paper/{q(v)}" for v in ids.get("s2", [])]
    links += [f"https://openalex.org/{q(v)}" for v in ids.get("openalex", [])]
    return links


def after_date(publication_date: str | None, year: int | None, cutoff: str) -> bool:
    """True only when the paper is certainly dated after the cutoff (YYYY, YYYY-MM or a day).

    Dates are compared at the coarser of the two precisions, strictly: a paper of 2019 (year
    only) is not counted against a withdrawal in 2019-06, a paper of 2019-07 is.
    """
    date = publication_date or (str(year) if year else None)
    if not date:
        return False
    size = min(len(date), len(cutoff))
    return date[:size] > cutoff[:size]


def listed_then(flags: list[Flag], paper: PaperRow) -> str:
    """Whether a dated listing was in force when the paper came out: "yes", "no", "?" (the
    dates are too coarse to tell) or "" (no listing here has dates, e.g. a military university).
    """
    date = paper.publication_date or (str(paper.year) if paper.year else None)
    dated = [f for f in flags if f.start]
    if not dated:
        return ""
    if not date:
        return "?"
    verdicts = set()
    for flag in dated:
        assert flag.start is not None
        started = _compare(date, flag.start)
        ended = _compare(date, flag.end) if flag.end else -1
        if started > 0 and ended < 0:
            return "yes"
        verdicts.add("no" if started < 0 or ended > 0 else "?")
    return "?" if "?" in verdicts else "no"


def _compare(date: str, other: str) -> int:
    """-1, 0 or 1 comparing two dates at the coarser precision (0: cannot tell)."""
    size = min(len(date), len(other))
    return (date[:size] > other[:size]) - (date[:size] < other[:size])


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _flags(raw: str) -> list[Flag]:
    return [Flag(**{k: f.get(k) for k in Flag.__dataclass_fields__}) for f in json.loads(raw)]


def _flag_label(flag: Flag) -> str:
    dates = f"{flag.start or '?'}..{flag.end or ''}" if flag.start or flag.end else ""
    category = f" ({flag.category})" if flag.category else ""
    return f"{flag.label}{category}" + (f" {dates}" if dates else "")


def _defence_links_only(row: InstitutionRow) -> bool:
    """Flagged only as a civilian institution with defence links, not military or sanctioned."""
    return row.sector != "military" and all(
        (flag.category or "").lower() == "civilian" for flag in row.flags
    )


def _institution_key(aff: AffiliationRow) -> str | None:
    return aff.institution_id or aff.institution_name


def _run(row: dict[str, Any] | None) -> RunInfo | None:
    if row is None:
        return None
    return RunInfo(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        error=row["error"],
        requests=row["requests"],
    )


def _load_papers(store: Store, dataset: Dataset) -> list[PaperRow]:
    conn: sqlite3.Connection = store.conn
    ids: dict[int, dict[str, list[str]]] = defaultdict(dict)
    for row in conn.execute(
        "SELECT i.paper_id, i.kind, i.value FROM paper_ids i JOIN dataset_papers d"
        " ON d.paper_id = i.paper_id WHERE d.dataset = ? ORDER BY i.kind, i.value",
        (dataset.key,),
    ):
        ids[row["paper_id"]].setdefault(row["kind"], []).append(row["value"])
    affs: dict[tuple[int, int], list[AffiliationRow]] = defaultdict(list)
    for row in conn.execute(
        "SELECT a.* FROM affiliations a JOIN dataset_papers d ON d.paper_id = a.paper_id"
        " WHERE d.dataset = ? ORDER BY a.paper_id, a.position, a.idx",
        (dataset.key,),
    ):
        affs[(row["paper_id"], row["position"])].append(
            AffiliationRow(
                raw=row["raw"],
                institution_id=row["institution_id"],
                institution_name=row["institution_name"],
                parent_name=row["parent_name"],
                country=(row["country"] or "").upper() or None,
                sector=row["sector"] or UNKNOWN,
                flags=_flags(row["flags"]),
                method=row["method"],
                confidence=row["confidence"],
            )
        )
    authors: dict[int, list[AuthorRow]] = defaultdict(list)
    for row in conn.execute(
        "SELECT a.paper_id, a.position, a.name FROM authorships a JOIN dataset_papers d"
        " ON d.paper_id = a.paper_id WHERE d.dataset = ? ORDER BY a.paper_id, a.position",
        (dataset.key,),
    ):
        key = (row["paper_id"], row["position"])
        authors[row["paper_id"]].append(AuthorRow(row["position"], row["name"], affs[key]))
    papers = []
    for row in conn.execute(
        "SELECT p.*, d.level, d.score, d.evidence AS judged_evidence, d.via_derivative,"
        " d.missing_since_run FROM papers p JOIN dataset_papers d ON d.paper_id = p.id"
        " WHERE d.dataset = ? ORDER BY p.year, p.id",
        (dataset.key,),
    ):
        paper_authors = authors[row["id"]]
        all_affs = [a for author in paper_authors for a in author.affiliations]
        paper_ids = ids[row["id"]]
        withdrawn = dataset.withdrawn_on
        papers.append(
            PaperRow(
                paper_id=row["id"],
                title=row["title"],
                year=row["year"],
                publication_date=row["publication_date"],
                venue=row["venue"],
                ids=paper_ids,
                level=row["level"] or NOT_JUDGED,
                score=row["score"],
                evidence=json.loads(row["judged_evidence"] or "[]"),
                via_derivative=row["via_derivative"],
                missing=row["missing_since_run"] is not None,
                after_withdrawal=bool(
                    withdrawn and after_date(row["publication_date"], row["year"], withdrawn)
                ),
                authors_truncated=bool(row["authors_truncated"]),
                authors=paper_authors,
                countries=sorted({a.country for a in all_affs if a.country}),
                institutions=_unique([a.institution_name or "" for a in all_affs]),
                sectors=sorted({a.sector for a in all_affs if a.sector != UNKNOWN}),
                flags=_unique([_flag_label(f) for a in all_affs for f in a.flags]),
                links=links_for(paper_ids),
            )
        )
    return papers


def _keep(paper: PaperRow, levels: list[str], filters: Filters) -> bool:
    if paper.level not in levels:
        return False
    if filters.since is not None and (paper.year is None or paper.year < filters.since):
        return False
    if filters.until is not None and (paper.year is None or paper.year > filters.until):
        return False
    return filters.country is None or filters.country in paper.countries


def shares(paper: PaperRow) -> list[tuple[AffiliationRow | None, float]]:
    """Each affiliation's share of the paper under fractional counting (None: no affiliation)."""
    if not paper.authors:
        return [(None, 1.0)]
    result: list[tuple[AffiliationRow | None, float]] = []
    per_author = 1.0 / len(paper.authors)
    for author in paper.authors:
        if not author.affiliations:
            result.append((None, per_author))
            continue
        for aff in author.affiliations:
            result.append((aff, per_author / len(author.affiliations)))
    return result


def _tally(
    papers: list[PaperRow],
    key: Callable[[AffiliationRow], str | None],
    label: Callable[[str], str],
) -> list[CountRow]:
    whole: Counter[str] = Counter()
    fractional: dict[str, float] = defaultdict(float)
    for paper in papers:
        seen = set()
        for aff, share in shares(paper):
            value = (key(aff) if aff else None) or UNKNOWN
            fractional[value] += share
            if aff is not None and value != UNKNOWN:
                seen.add(value)
        for value in seen or {UNKNOWN}:
            whole[value] += 1
    rows = [CountRow(k, label(k), whole[k], round(fractional[k], 3)) for k in fractional]
    return sorted(rows, key=lambda r: (r.key == UNKNOWN, -r.papers, -r.fractional, r.key))


def _institutions(papers: list[PaperRow]) -> list[InstitutionRow]:
    rows: dict[str, InstitutionRow] = {}
    for paper in papers:
        for aff, share in shares(paper):
            key = _institution_key(aff) if aff else None
            if aff is None or key is None:
                continue
            row = rows.get(key)
            if row is None:
                row = rows[key] = InstitutionRow(
                    key,
                    aff.institution_name or key,
                    aff.parent_name,
                    aff.country,
                    aff.sector,
                    [],
                    0,
                    0.0,
                    [],
                )
            row.fractional += share
            for flag in aff.flags:
                if flag not in row.flags:
                    row.flags.append(flag)
            if paper.paper_id not in row.paper_ids:
                row.paper_ids.append(paper.paper_id)
                row.papers += 1
    for row in rows.values():
        row.fractional = round(row.fractional, 3)
    return sorted(rows.values(), key=lambda r: (-r.papers, -r.fractional, r.name))


def _years(papers: list[PaperRow]) -> list[YearRow]:
    counts = Counter(paper.year for paper in papers)
    known = sorted(y for y in counts if y is not None)
    rows = [YearRow(y, counts[y]) for y in range(known[0], known[-1] + 1)] if known else []
    if None in counts:
        rows.append(YearRow(None, counts[None]))
    return rows


def _missing(store: Store, dataset: Dataset, papers: list[PaperRow]) -> Missing:
    affs = [a for p in papers for author in p.authors for a in author.affiliations]
    unresolved = [a for a in affs if _institution_key(a) is None]
    runs = [_run(r) for r in store.runs(dataset.key)]
    return Missing(
        papers_without_affiliation=[p.paper_id for p in papers if not p.has_affiliation],
        unresolved_affiliations=len(unresolved),
        unresolved_examples=sorted({a.raw for a in unresolved if a.raw})[:20],
        country_only_affiliations=sum(1 for a in unresolved if a.country),
        capped=[
            c
            for c in _coverage(store, dataset)
            if c.capped or (c.total is not None and c.fetched < c.total)
        ],
        failed_runs=[r for r in runs if r and r.status not in ("ok", "running")],
        papers_marked_missing=[p.paper_id for p in papers if p.missing],
        papers_not_judged=[p.paper_id for p in papers if p.level == NOT_JUDGED],
        papers_authors_truncated=[p.paper_id for p in papers if p.authors_truncated],
        notes=_last_notes(store, dataset),
    )


def _last_notes(store: Store, dataset: Dataset) -> list[str]:
    finished = [r for r in store.runs(dataset.key) if r["status"] in ("ok", "partial")]
    return list(finished[-1]["stats"].get("notes", [])) if finished else []


def _coverage(store: Store, dataset: Dataset) -> list[CoverageRow]:
    return [
        CoverageRow(
            c["source"],
            c["route"],
            c["target"],
            c["fetched"],
            c["total"],
            bool(c["capped"]),
            c["note"],
        )
        for c in store.coverage(dataset.key)
    ]


def _header(store: Store, dataset: Dataset) -> Header:
    runs = store.runs(dataset.key)
    coverage = _coverage(store, dataset)
    evidence_sources = {
        row[0]
        for row in store.conn.execute(
            "SELECT DISTINCT source FROM evidence WHERE dataset = ?", (dataset.key,)
        )
    }
    return Header(
        dataset=dataset.key,
        name=dataset.name,
        origin_papers=[paper.label() for paper in dataset.origin_papers],
        status=dataset.status.label() if dataset.status else None,
        licence=dataset.licence,
        licence_terms=dataset.licence_terms,
        last_run=_run(runs[-1] if runs else None),
        last_complete_run=_run(store.last_complete_run(dataset.key)),
        sources=sorted(evidence_sources | {c.source for c in coverage}),
        coverage=coverage,
    )


def _headline(dataset: Dataset, total: int, filters: Filters) -> str:
    if filters.min_usage is None:
        which = "papers found, all usage levels (used, mentioned, cited, not yet judged)"
    else:
        which = "papers judged " + " or ".join(filters.levels)
    parts = [f"{dataset.name}: {total} {which}"]
    if filters.since is not None or filters.until is not None:
        parts.append(f"published {filters.since or '...'}-{filters.until or '...'}")
    if filters.country:
        parts.append(f"with an author in {country_name(filters.country)} ({filters.country})")
    return ", ".join(parts) + "."


def build_report(
    store: Store,
    dataset: Dataset,
    *,
    min_usage: str | None = None,
    years: tuple[int | None, int | None] | None = None,
    country: str | None = None,
) -> Report:
    """The report for one dataset, from the store alone.

    min_usage: None keeps every paper found (judged or not); "cited" keeps every judged paper,
    "mentioned" keeps mentioned and used, "used" only used. years: (since, until), inclusive,
    either may be None. country: ISO 3166-1 alpha-2; keeps papers with an author there.
    """
    levels = levels_from(min_usage)
    since, until = years or (None, None)
    if since is not None and until is not None and since > until:
        raise UsageError(
            f"The year range {since}-{until} is empty.", hint="Swap --since and --until."
        )
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise UsageError(
            f"{country!r} is not a country code.", hint="Use an ISO 3166-1 alpha-2 code such as CN."
        )
    filters = Filters(min_usage, levels, since, until, country.upper() if country else None)
    everything = _load_papers(store, dataset)
    papers = [p for p in everything if _keep(p, levels, filters)]
    level_counts = Counter(p.level for p in papers)
    by_level = [
        CountRow(level, level, level_counts[level], float(level_counts[level])) for level in levels
    ]
    institutions = _institutions(papers)
    # Military bodies and listed companies first; universities that a tracker lists only for
    # defence research links (ASPI's "Civilian" category) after them.
    flagged = sorted(
        (row for row in institutions if row.flags),
        key=lambda row: (_defence_links_only(row), -row.papers, -row.fractional, row.name),
    )
    late = [p for p in papers if p.after_withdrawal]
    restricted = dataset.licence_terms in RESTRICTED_TERMS
    users = (
        [r for r in institutions if r.sector in USER_SECTORS_AGAINST_LICENCE] if restricted else []
    )
    user_papers = sorted({pid for r in users for pid in r.paper_ids})
    return Report(
        version=REPORT_VERSION,
        headline=_headline(dataset, len(papers), filters),
        filters=filters,
        header=_header(store, dataset),
        counting_rules=COUNTING_RULES,
        total_papers=len(papers),
        by_level=by_level,
        countries=_tally(papers, lambda a: a.country, country_name),
        sectors=_tally(papers, lambda a: a.sector if a.sector != UNKNOWN else None, str),
        institutions=institutions,
        flagged=flagged,
        years=_years(papers),
        withdrawal=Withdrawal(
            withdrawn_on=dataset.withdrawn_on,
            papers=len(late),
            by_level={lv: sum(1 for p in late if p.level == lv) for lv in levels},
            paper_ids=[p.paper_id for p in late],
            rule="Published after the withdrawal date, compared at the coarser precision of the "
            "two dates (a paper dated only 2019 does not count against 2019-06).",
        ),
        licence=LicenceFinding(
            licence=dataset.licence,
            licence_terms=dataset.licence_terms,
            applies=restricted,
            institutions=users,
            papers=len(user_papers),
            paper_ids=user_papers,
        ),
        missing=_missing(store, dataset, papers),
        papers=papers,
    )
