"""The report model: one tree computed from the store, from which every output is drawn.

`build_report()` reads the store (through `tracer.store.report_queries`, no network) and returns a `Report`;
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
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from tracer.affiliations.model import UNDATED_LISTS
from tracer.catalog import Dataset
from tracer.collector import paused
from tracer.errors import UsageError
from tracer.render.text import clean_line
from tracer.store import Store
from tracer.store.report_queries import ReportRows, StoredPaper, report_rows

REPORT_VERSION = 1
ISO_CODES_FILE = Path(__file__).parent / "affiliations" / "data" / "countries.yaml"
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
SCORE_NOTE = (
    "Score: how strongly the evidence shows that the authors used the dataset, from 0 to 1 "
    "(signs of use such as 'we train on' beside the dataset's name, combined); a paper is "
    "judged used from 0.5. Cited: cites an origin paper with no sign of use. Mentioned: names "
    "the dataset without citing it."
)
RELEVANCE_RULE = (
    "Most relevant first: used, then mentioned, cited and not judged; within a level, papers "
    "with a flagged institution first, then by score, then the most recent."
)


@dataclass(slots=True)  # one per row of a large report: no __dict__ each
class Flag:
    list: str
    label: str
    category: str | None = None
    source: str | None = None
    start: str | None = None
    end: str | None = None


@dataclass(slots=True)  # one per row of a large report: no __dict__ each
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


@dataclass(slots=True)  # one per row of a large report: no __dict__ each
class AuthorRow:
    position: int
    name: str | None
    affiliations: list[AffiliationRow]
    author_id: str | None = None  # "openalex:A…" or "s2:…"; None when no source gave an id


@dataclass(slots=True)  # one per row of a large report: no __dict__ each
class PaperRow:
    paper_id: int
    key: str | None  # doi:…, else arxiv:…, s2:…, corpus:…, openalex:… (see paper_key)
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
    flag_lists: list[str]  # ids of the lists any author's affiliation is on
    links: list[str]

    @property
    def has_affiliation(self) -> bool:
        return any(author.affiliations for author in self.authors)

    @property
    def author_affiliations(self) -> list[list[AffiliationRow]]:
        """Each author's affiliations, in order (what the figures count: PaperFigures)."""
        return [author.affiliations for author in self.authors]


@dataclass(slots=True)
class PaperFigures:
    """What the report's figures need of a paper, and no more: a terminal report counts every
    paper from these and builds the PaperRow of only the papers it shows (build_summary)."""

    paper_id: int
    level: str
    year: int | None
    score: float | None
    after_withdrawal: bool
    missing: bool
    authors_truncated: bool
    author_affiliations: list[list[AffiliationRow]]
    flagged: bool  # an affiliation is on a watchlist (PaperRow.flag_lists is not empty)

    @property
    def countries(self) -> list[str]:
        return sorted({a.country for affs in self.author_affiliations for a in affs if a.country})


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
    url: str | None = None  # its ROR record, else its OpenAlex record


@dataclass
class FlagList:
    """A watchlist some institution of the report is on, with how many it touches."""

    list: str
    label: str
    source: str | None
    institutions: int
    papers: int


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
    filters: dict[str, Any] = field(default_factory=dict)  # {} : read without filters
    complete: bool = False  # read to its end, as many rows as the source said it had
    unresolved: int = 0  # rows that name no paper (S2's "paperId": null)
    skipped: int = 0  # rows of the wrong shape, left out
    read_at: str | None = None
    full_read_at: str | None = None  # when it was last read in full, unfiltered


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
    flag_lists: list[FlagList] = field(default_factory=list)
    score_note: str = SCORE_NOTE
    relevance_rule: str = RELEVANCE_RULE

    def to_dict(self) -> dict[str, Any]:
        """The documented --json shape (docs/json-report.md)."""
        return asdict(self)

    def paper(self, paper_id: int) -> PaperRow:
        return self._papers_by_id[paper_id]

    def by_relevance(self) -> list[PaperRow]:
        """The papers, most relevant first (RELEVANCE_RULE)."""
        return sorted(self.papers, key=relevance)

    @cached_property
    def _papers_by_id(self) -> dict[int, PaperRow]:
        # Not a dataclass field, so it stays out of to_dict().
        return {paper.paper_id: paper for paper in self.papers}


@dataclass
class SummaryReport(Report):
    """A report that keeps only the papers its terminal rendering shows (`build_summary`):
    `papers` holds them, `ranked` the most relevant, in order. Every figure is the whole
    report's."""

    ranked: list[PaperRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        raise TypeError("A summary report has not every paper: use build_report() for --json.")

    def by_relevance(self) -> list[PaperRow]:
        return list(self.ranked)


def country_name(code: str | None) -> str:
    """A country's English name from the map package's table; the code where it has none."""
    if not code or code == UNKNOWN:
        return UNKNOWN
    names: dict[str, str] = getattr(
        importlib.import_module("pygal_maps_world.i18n"), "COUNTRIES", {}
    )
    return names.get(code.lower(), code.upper())


_RANK = {level: n for n, level in enumerate((*reversed(LEVELS), NOT_JUDGED))}


def relevance(paper: PaperRow) -> tuple[int, int, float, int, int]:
    """Sort key: strongest level, flagged first, highest score, newest (RELEVANCE_RULE)."""
    level = _RANK.get(paper.level, len(_RANK))
    return (level, 0 if paper.flag_lists else 1, -(paper.score or 0.0), -(paper.year or 0),
            paper.paper_id)


def figures_relevance(paper: PaperFigures) -> tuple[int, int, float, int, int]:
    """relevance() of the paper's PaperRow, from its PaperFigures."""
    level = _RANK.get(paper.level, len(_RANK))
    return (level, 0 if paper.flagged else 1, -(paper.score or 0.0), -(paper.year or 0),
            paper.paper_id)


@cache
def iso_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code the country table knows."""
    import yaml

    data = yaml.safe_load(ISO_CODES_FILE.read_text(encoding="utf-8")) or {}
    return frozenset(str(k).upper() for k in data)


def check_country(code: str) -> str:
    """The code in upper case, or a UsageError when it is not ISO 3166-1 alpha-2."""
    upper = code.strip().upper()
    if upper not in iso_codes():
        raise UsageError(
            f"{code!r} is not an ISO 3166-1 alpha-2 country code.",
            hint="The United Kingdom's code is GB."
            if upper == "UK"
            else "Use a two-letter code such as CN, US or DE.",
        )
    return upper


def levels_from(min_usage: str | None) -> list[str]:
    """The usage levels a --min-usage keeps; None keeps every paper, judged or not."""
    if min_usage is None:
        return [*reversed(LEVELS), NOT_JUDGED]
    if min_usage not in LEVELS:
        raise UsageError(
            f"Unknown usage level {min_usage!r}.", hint="Use one of: " + ", ".join(LEVELS) + "."
        )
    return list(reversed(LEVELS[LEVELS.index(min_usage) :]))


# What quote(value, safe="/:;()._-") leaves as it is: ASCII letters, digits, "_.-~" and the safe.
_URL_SAFE = re.compile(r"[A-Za-z0-9_.\-~/:;()]*")


def links_for(ids: dict[str, list[str]]) -> list[str]:
    """Links to the paper in each source, built from its ids (quoted: ids come from APIs)."""

    none: list[str] = []
    doi, arxiv, s2, openalex = (ids.get(kind, none) for kind in ("doi", "arxiv", "s2", "openalex"))
    # Nearly every paper's ids hold only characters quote() keeps (the pattern matches their
    # text joined as it matches each): then skip its per-character work.
    if not _URL_SAFE.fullmatch("".join((*doi, *arxiv, *s2, *openalex))):
        doi, arxiv, s2, openalex = ([quote(v, safe="/:;()._-") for v in values]
                                    for values in (doi, arxiv, s2, openalex))
    links = [f"https://doi.org/{v}" for v in doi]
    links += [f"https://arxiv.org/abs/{v}" for v in arxiv]
    links += [f"https://www.semanticscholar.org/paper/{v}" for v in s2]
    links += [f"https://openalex.org/{v}" for v in openalex]
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
    dates are too coarse to tell, or a listing's date is not known) or "" (no listing here has
    dates, e.g. a military university)."""
    return listed_on(flags, paper.publication_date, paper.year)


def listed_on(flags: list[Flag], publication_date: str | None, year: int | None) -> str:
    """listed_then for a paper of that date and year."""
    date = publication_date or (str(year) if year else None)
    dated = [f for f in flags if f.start]
    # A listing on a dated list without its date may have been in force: never "no" then.
    unknown = any(not f.start and f.list not in UNDATED_LISTS for f in flags)
    if not dated:
        return "?" if unknown else ""
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
    return "?" if "?" in verdicts or unknown else "no"


def _compare(date: str, other: str) -> int:
    """-1, 0 or 1 comparing two dates at the coarser precision (0: cannot tell)."""
    size = min(len(date), len(other))
    return (date[:size] > other[:size]) - (date[:size] < other[:size])


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


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
        error=clean_line(row["error"]),
        requests=row["requests"],
    )


def paper_key(ids: dict[str, list[str]]) -> str | None:
    """The paper's key across databases: its DOI, else arXiv id, else S2 paper id, else S2
    CorpusId, else OpenAlex id, as `kind:value` (e.g. `doi:10.1109/cvpr.2016.255`)."""
    for kind in ("doi", "arxiv", "s2", "corpus", "openalex"):
        values = ids.get(kind)
        if values:
            value = values[0].lower() if kind == "doi" else values[0]
            return f"{kind}:{value}"
    return None


def institution_url(key: str | None) -> str | None:
    """The institution's page: its ROR record, or its OpenAlex record; None for a bare name."""
    if not key:
        return None
    if key.startswith("https://ror.org/"):
        return key
    if re.fullmatch(r"I\d+", key):
        return f"https://openalex.org/{key}"
    if key.startswith("https://openalex.org/I"):
        return key
    return None


_FLAG_FIELDS = tuple(Flag.__dataclass_fields__)


def stored_flag(raw: dict[str, Any], known: dict[tuple[Any, ...], Flag] | None = None) -> Flag:
    """The report's Flag for a stored flag; `known` shares one Flag per distinct listing."""
    if known is not None:
        key = tuple(raw.get(k) for k in _FLAG_FIELDS)
        flag = known.get(key)
        if flag is None:
            flag = known[key] = stored_flag(raw)
        return flag
    values: dict[str, Any] = {k: raw.get(k) for k in Flag.__dataclass_fields__}
    values = {k: clean_line(v) if isinstance(v, str) else v for k, v in values.items()}
    values["list"] = values["list"] or "unknown-list"
    values["label"] = values["label"] or values["list"]
    return Flag(**values)


class _Affiliations:
    """Each distinct stored affiliation row as one AffiliationRow, shared by every author that
    has it, with its flag labels and lists worked out once (ReportRows.papers' `convert`)."""

    def __init__(self, data: ReportRows) -> None:
        self.data = data
        self.flags: dict[tuple[Any, ...], Flag] = {}
        self.by_text: dict[str | None, tuple[list[Flag], list[str], list[str]]] = {}
        # id(AffiliationRow) -> its labels and lists, for the flagged ones only (the rows
        # live as long as the ReportRows that holds them)
        self.flagged: dict[int, tuple[list[str], list[str]]] = {}

    def _flags_of(self, text: str | None) -> tuple[list[Flag], list[str], list[str]]:
        found = self.by_text.get(text)
        if found is None:
            items = [stored_flag(f, self.flags) for f in self.data.flag_lists.get(text, [])
                     if isinstance(f, dict)]
            found = self.by_text[text] = (items, [_flag_label(f) for f in items],
                                          [f.list for f in items])
        return found

    def __call__(self, row: tuple[Any, ...]) -> AffiliationRow:
        raw, inst_id, inst_name, parent, country, sector, text, confidence, method = row
        items, labels, lists = self._flags_of(text)
        aff = AffiliationRow(
            raw=clean_line(raw),
            institution_id=clean_line(inst_id),
            institution_name=clean_line(inst_name),
            parent_name=clean_line(parent),
            country=(country or "").upper() or None,
            sector=sector or UNKNOWN,
            flags=items,
            method=method,
            confidence=confidence,
        )
        if items:
            self.flagged[id(aff)] = (labels, lists)
        return aff


def load_papers(data: ReportRows, dataset: Dataset,
                only: Collection[int] | None = None) -> Iterator[PaperRow]:
    """The papers as report rows, oldest first, one at a time, as the store's rows are read
    (a chunk of papers at a time: the report never holds every paper's rows); only those of
    `only` where it is given. Affiliations repeat from paper to paper (the same string,
    institution and flags for every paper of a lab): each distinct stored row becomes one
    AffiliationRow, shared by every author that has it."""
    convert = _affiliations(data)
    flagged = convert.flagged
    withdrawn = dataset.withdrawn_on
    for paper, paper_ids, authors in data.papers(only=only, convert=convert):
        paper_authors = []
        all_affs: list[AffiliationRow] = []
        labels: list[str] = []
        lists: list[str] = []
        for position, name, s2_author, openalex_author, affs in authors:
            if affs:
                all_affs += affs
                for aff in affs:
                    if aff.flags:
                        aff_labels, aff_lists = flagged[id(aff)]
                        labels += aff_labels
                        lists += aff_lists
            author_id = (
                f"openalex:{openalex_author}" if openalex_author
                else f"s2:{s2_author}" if s2_author else None
            )
            paper_authors.append(AuthorRow(position, clean_line(name), affs, author_id))
        evidence = paper.evidence
        yield PaperRow(
            paper.id,
            paper_key(paper_ids),
            clean_line(paper.title),
            paper.year,
            paper.publication_date,
            clean_line(paper.venue),
            paper_ids,
            paper.level or NOT_JUDGED,
            paper.score,
            [_evidence(e) for e in evidence if isinstance(e, dict)] if evidence else [],
            paper.via_derivative,
            paper.missing_since_run is not None,
            _after_withdrawal(paper, withdrawn),
            bool(paper.authors_truncated),
            paper_authors,
            sorted({a.country for a in all_affs if a.country}),
            _unique([a.institution_name or "" for a in all_affs]),
            sorted({a.sector for a in all_affs if a.sector != UNKNOWN}),
            _unique(labels) if labels else [],
            _unique(lists) if lists else [],
            links_for(paper_ids),
        )


def _after_withdrawal(paper: StoredPaper, withdrawn: str | None) -> bool:
    return bool(withdrawn and after_date(paper.publication_date, paper.year, withdrawn))


def _affiliations(data: ReportRows) -> _Affiliations:
    """The one converter of a ReportRows' affiliation rows (its `distinct` holds what it made)."""
    if data.reader is None:
        data.reader = _Affiliations(data)
    reader: _Affiliations = data.reader
    return reader


def paper_figures(data: ReportRows, dataset: Dataset) -> Iterator[PaperFigures]:
    """What the figures need of each paper (PaperFigures), oldest first, as load_papers reads
    them but without building their rows: no ids, no titles, links or lists."""
    convert = _affiliations(data)
    withdrawn = dataset.withdrawn_on
    for paper, _ids, authors in data.papers(ids=False, convert=convert):
        author_affs = [author[4] for author in authors]
        yield PaperFigures(
            paper.id,
            paper.level or NOT_JUDGED,
            paper.year,
            paper.score,
            _after_withdrawal(paper, withdrawn),
            paper.missing_since_run is not None,
            bool(paper.authors_truncated),
            author_affs,
            any(aff.flags for affs in author_affs for aff in affs),
        )


def _evidence(item: dict[str, Any]) -> dict[str, Any]:
    return {k: clean_line(v) if isinstance(v, str) else v for k, v in item.items()}


def keep(paper: PaperRow | PaperFigures, levels: list[str], filters: Filters) -> bool:
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


def _count_rows(
    whole: Counter[str], fractional: dict[str, float], label: Callable[[str], str]
) -> list[CountRow]:
    rows = [CountRow(k, label(k), whole[k], round(fractional[k], 3)) for k in fractional]
    return sorted(rows, key=lambda r: (r.key == UNKNOWN, -r.papers, -r.fractional, r.key))


def aggregate(
    papers: Iterable[PaperRow] | Iterable[PaperFigures],
) -> tuple[list[CountRow], list[CountRow], list[InstitutionRow]]:
    """Countries, sectors and institutions, whole and fractional, in one pass over each
    paper's shares (COUNTING_RULES). Each key's fractional share is summed in paper order."""
    c_whole: Counter[str] = Counter()
    c_frac: dict[str, float] = defaultdict(float)
    s_whole: Counter[str] = Counter()
    s_frac: dict[str, float] = defaultdict(float)
    rows: dict[str, InstitutionRow] = {}
    for paper in papers:
        pid = paper.paper_id
        countries: set[str] = set()
        sectors: set[str] = set()
        author_affs = paper.author_affiliations
        if not author_affs:
            c_frac[UNKNOWN] += 1.0
            s_frac[UNKNOWN] += 1.0
        per_author = 1.0 / len(author_affs) if author_affs else 0.0
        for affs in author_affs:  # the shares of shares(paper), in its order
            if not affs:
                c_frac[UNKNOWN] += per_author
                s_frac[UNKNOWN] += per_author
                continue
            share = per_author / len(affs)
            for aff in affs:
                country = aff.country or UNKNOWN
                c_frac[country] += share
                if country != UNKNOWN:
                    countries.add(country)
                sector = aff.sector or UNKNOWN
                s_frac[sector] += share
                if sector != UNKNOWN:
                    sectors.add(sector)
                key = aff.institution_id or aff.institution_name
                if key is None:
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
                        institution_url(key),
                    )
                row.fractional += share
                for flag in aff.flags:
                    if flag not in row.flags:
                        row.flags.append(flag)
                # A paper's shares come one after another: if it is listed, it is the last one.
                if not row.paper_ids or row.paper_ids[-1] != pid:
                    row.paper_ids.append(pid)
                    row.papers += 1
        for value in countries or (UNKNOWN,):
            c_whole[value] += 1
        for value in sectors or (UNKNOWN,):
            s_whole[value] += 1
    for row in rows.values():
        row.fractional = round(row.fractional, 3)
    institutions = sorted(rows.values(), key=lambda r: (-r.papers, -r.fractional, r.name))
    return (
        _count_rows(c_whole, c_frac, country_name),
        _count_rows(s_whole, s_frac, str),
        institutions,
    )


def _years(counts: Counter[int | None]) -> list[YearRow]:
    known = sorted(y for y in counts if y is not None)
    rows = [YearRow(y, counts[y]) for y in range(known[0], known[-1] + 1)] if known else []
    if None in counts:
        rows.append(YearRow(None, counts[None]))
    return rows


def _missing(data: ReportRows, tally: Tally, runs: list[RunInfo],
             coverage: list[CoverageRow]) -> Missing:
    return Missing(
        papers_without_affiliation=tally.without_affiliation,
        unresolved_affiliations=tally.unresolved,
        unresolved_examples=sorted(tally.unresolved_raw)[:20],
        country_only_affiliations=tally.country_only,
        capped=[c for c in coverage if c.capped or (c.total is not None and c.fetched < c.total)],
        failed_runs=[r for r in runs if r.status not in ("ok", "running")],
        papers_marked_missing=tally.marked_missing,
        papers_not_judged=tally.not_judged,
        papers_authors_truncated=tally.truncated,
        notes=_last_notes(data),
    )


def _last_notes(data: ReportRows) -> list[str]:
    finished = [r for r in data.runs if r["status"] in ("ok", "partial")]
    notes = finished[-1]["stats"].get("notes", []) if finished else []
    return [clean_line(str(n)) or "" for n in notes] if isinstance(notes, list) else []


def _coverage(data: ReportRows) -> list[CoverageRow]:
    return [
        CoverageRow(
            c["source"],
            c["route"],
            clean_line(c["target"]) or "",
            c["fetched"],
            c["total"],
            bool(c["capped"]),
            clean_line(c["note"]),
            c["filters"],
            bool(c["complete"]),
            c["unresolved"],
            c["skipped"],
            c["read_at"],
            c["full_read_at"],
        )
        for c in data.coverage
    ]


def _header(
    data: ReportRows, dataset: Dataset, runs: list[RunInfo], coverage: list[CoverageRow]
) -> Header:
    complete = [r for r in runs if r.status == "ok"]
    return Header(
        dataset=dataset.key,
        name=dataset.name,
        origin_papers=[paper.label() for paper in dataset.origin_papers],
        status=dataset.status.label() if dataset.status else None,
        licence=dataset.licence,
        licence_terms=dataset.licence_terms,
        last_run=runs[-1] if runs else None,
        last_complete_run=complete[-1] if complete else None,
        sources=sorted(data.evidence_sources | {c.source for c in coverage}),
        coverage=coverage,
    )


def _flag_lists(institutions: list[InstitutionRow]) -> list[FlagList]:
    found: dict[str, FlagList] = {}
    papers: dict[str, set[int]] = defaultdict(set)
    for inst in institutions:
        for name in _unique([f.list for f in inst.flags]):
            flag = next(f for f in inst.flags if f.list == name)
            row = found.setdefault(name, FlagList(name, flag.label, flag.source, 0, 0))
            row.institutions += 1
            papers[name].update(inst.paper_ids)
    for name, row in found.items():
        row.papers = len(papers[name])
    return sorted(found.values(), key=lambda r: (-r.papers, r.list))


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
    filters = make_filters(min_usage, years, country)
    with paused():
        return _build(store, dataset, filters.levels, filters)


def build_summary(
    store: Store,
    dataset: Dataset,
    *,
    top: int,
    list_limit: int,
    min_usage: str | None = None,
    years: tuple[int | None, int | None] | None = None,
    country: str | None = None,
) -> SummaryReport:
    """The report as `build_report` gives it, but holding only the papers a terminal report
    shows: the `top` most relevant (`by_relevance()`), and the first `list_limit` after the
    withdrawal and of each flagged institution (`paper()`). Every figure is counted over every
    paper, in the same order, as each paper is read; the other papers are let go of at once,
    so a large report never holds them all. Not for --json: it has no whole paper list."""
    filters = make_filters(min_usage, years, country)
    with paused():
        return _build_summary(store, dataset, filters.levels, filters, top, list_limit)


def make_filters(
    min_usage: str | None, years: tuple[int | None, int | None] | None, country: str | None
) -> Filters:
    levels = levels_from(min_usage)
    since, until = years or (None, None)
    if since is not None and until is not None and since > until:
        raise UsageError(
            f"The year range {since}-{until} is empty.", hint="Swap --since and --until."
        )
    return Filters(min_usage, levels, since, until, check_country(country) if country else None)


def _build(store: Store, dataset: Dataset, levels: list[str], filters: Filters) -> Report:
    data = report_rows(store, dataset.key)
    papers = [p for p in load_papers(data, dataset) if keep(p, levels, filters)]
    tally = Tally()
    countries, sectors, institutions = aggregate(tally.count(papers))
    return assemble(data, dataset, filters, tally, countries, sectors, institutions, papers)


def _build_summary(store: Store, dataset: Dataset, levels: list[str], filters: Filters,
                   top: int, list_limit: int) -> SummaryReport:
    data = report_rows(store, dataset.key)
    tally = Tally(top=top, list_limit=list_limit, flagged_keys=flagged_institutions(data),
                  rank=figures_relevance)
    kept = (p for p in paper_figures(data, dataset) if keep(p, levels, filters))
    countries, sectors, institutions = aggregate(tally.count(kept))
    return summary_of(data, dataset, filters, tally, countries, sectors, institutions)


def summary_of(data: ReportRows, dataset: Dataset, filters: Filters, tally: Tally,
             countries: list[CountRow], sectors: list[CountRow],
             institutions: list[InstitutionRow]) -> SummaryReport:
    """The summary report of a tally that kept the papers a terminal shows (`top` set)."""
    list_limit = tally.list_limit
    flagged = [row for row in institutions if row.flags]
    needed = {pid for row in flagged for pid in row.paper_ids[:list_limit]}
    needed.update(tally.late[:list_limit])
    ranked = tally.top_papers()
    needed.update(p.paper_id for p in ranked)
    rows = {pid: row for pid, row in tally.kept.items() if pid in needed}
    rows.update((p.paper_id, p) for p in ranked)
    tally.kept.clear()
    assert needed <= rows.keys(), "a paper the terminal shows was let go of"
    if any(isinstance(p, PaperFigures) for p in rows.values()):
        # Counted from their figures: the PaperRows of the papers shown, read now.
        full = {p.paper_id: p for p in load_papers(data, dataset, only=rows.keys())}
        rows = {pid: full[pid] for pid in rows}
        ranked = [full[p.paper_id] for p in ranked]
    report = assemble(data, dataset, filters, tally, countries, sectors, institutions,
                       list(rows.values()))
    return SummaryReport(**{name: getattr(report, name) for name in Report.__dataclass_fields__},
                         ranked=ranked)


def flagged_institutions(data: ReportRows) -> set[str]:
    """The keys of every institution some affiliation puts on a watchlist, before any paper is
    read: an institution can be written with and without its flag (a lab's own listing), so
    its first papers may come before the first that shows the flag."""
    keys: set[str] = set()
    for inst_id, inst_name, items, _level in data.flagged_affiliations():
        if isinstance(items, list) and any(isinstance(f, dict) for f in items):
            key = clean_line(inst_id) or clean_line(inst_name)
            if key:
                keys.add(key)
    return keys


def institution_lists(data: ReportRows, levels: list[str]) -> set[str]:
    """The watchlists of the report's institutions (its `flag_lists`), before any paper is
    read: those of every flagged affiliation with an institution, on a paper of `levels`
    (a report with no other filter keeps every such paper)."""
    found: set[str] = set()
    for inst_id, inst_name, items, level in data.flagged_affiliations():
        if (level or NOT_JUDGED) in levels and (clean_line(inst_id) or clean_line(inst_name)):
            if isinstance(items, list):  # what _Affiliations makes flags of: the dicts
                found.update(stored_flag(f).list for f in items if isinstance(f, dict))
    return found


Counted = TypeVar("Counted", PaperRow, PaperFigures)


class Tally:
    """Everything the report counts over its papers besides countries, sectors and
    institutions, taken one paper at a time. With `top`, it also keeps the papers a terminal
    report shows (the `top` most relevant, the first `list_limit` after the withdrawal and of
    each flagged institution) and lets the others go."""

    def __init__(
        self, top: int | None = None, list_limit: int = 0, flagged_keys: set[str] | None = None,
        rank: Callable[[Any], tuple[int, int, float, int, int]] = relevance,
    ) -> None:
        self.total = 0
        self.levels: Counter[str] = Counter()
        self.years: Counter[int | None] = Counter()
        self.late: list[int] = []
        self.late_levels: Counter[str] = Counter()
        self.without_affiliation: list[int] = []
        self.marked_missing: list[int] = []
        self.not_judged: list[int] = []
        self.truncated: list[int] = []
        self.unresolved = 0
        self.unresolved_raw: set[str] = set()
        self.country_only = 0
        self.top = top
        self.list_limit = list_limit
        self.rank = rank  # relevance, or figures_relevance for PaperFigures
        self.ranked: list[Any] = []  # PaperRow or PaperFigures, as counted
        self.kept: dict[int, Any] = {}
        self.flagged_keys = flagged_keys or set()
        self.key_papers: Counter[str] = Counter()  # papers counted so far, per flagged key

    def count(self, papers: Iterable[Counted]) -> Iterator[Counted]:
        for paper in papers:
            self._count(paper)
            yield paper

    def _count(self, paper: PaperRow | PaperFigures) -> None:
        pid = paper.paper_id
        self.total += 1
        self.levels[paper.level] += 1
        self.years[paper.year] += 1
        if paper.after_withdrawal:
            self.late.append(pid)
            self.late_levels[paper.level] += 1
        if paper.missing:
            self.marked_missing.append(pid)
        if paper.level == NOT_JUDGED:
            self.not_judged.append(pid)
        if paper.authors_truncated:
            self.truncated.append(pid)
        keys: set[str] = set()
        has_affiliation = False
        for affs in paper.author_affiliations:
            for aff in affs:
                has_affiliation = True
                key = _institution_key(aff)
                if key is None:
                    self.unresolved += 1
                    if aff.raw:
                        self.unresolved_raw.add(aff.raw)
                    if aff.country:
                        self.country_only += 1
                    continue
                keys.add(key)
        if not has_affiliation:
            self.without_affiliation.append(pid)
        if self.top is None:
            return
        keep = paper.after_withdrawal and len(self.late) <= self.list_limit
        if keys:
            counts = self.key_papers
            for key in keys & self.flagged_keys:
                counts[key] += 1
                keep = keep or counts[key] <= self.list_limit
        if keep:
            self.kept[pid] = paper
        self.ranked.append(paper)
        if len(self.ranked) > 4 * self.top + 64:
            self.ranked.sort(key=self.rank)
            del self.ranked[self.top :]

    def top_papers(self) -> list[Any]:
        assert self.top is not None
        self.ranked.sort(key=self.rank)
        del self.ranked[self.top :]
        return self.ranked


def assemble(
    data: ReportRows,
    dataset: Dataset,
    filters: Filters,
    tally: Tally,
    countries: list[CountRow],
    sectors: list[CountRow],
    institutions: list[InstitutionRow],
    papers: list[PaperRow],
) -> Report:
    levels = filters.levels
    runs = [r for r in (_run(row) for row in data.runs) if r is not None]
    coverage = _coverage(data)
    by_level = [
        CountRow(level, level, tally.levels[level], float(tally.levels[level])) for level in levels
    ]
    # Military bodies and listed companies first; universities that a tracker lists only for
    # defence research links (ASPI's "Civilian" category) after them.
    flagged = sorted(
        (row for row in institutions if row.flags),
        key=lambda row: (_defence_links_only(row), -row.papers, -row.fractional, row.name),
    )
    restricted = dataset.licence_terms in RESTRICTED_TERMS
    users = (
        [r for r in institutions if r.sector in USER_SECTORS_AGAINST_LICENCE] if restricted else []
    )
    user_papers = sorted({pid for r in users for pid in r.paper_ids})
    return Report(
        version=REPORT_VERSION,
        headline=_headline(dataset, tally.total, filters),
        filters=filters,
        header=_header(data, dataset, runs, coverage),
        counting_rules=COUNTING_RULES,
        total_papers=tally.total,
        by_level=by_level,
        countries=countries,
        sectors=sectors,
        institutions=institutions,
        flagged=flagged,
        years=_years(tally.years),
        withdrawal=Withdrawal(
            withdrawn_on=dataset.withdrawn_on,
            papers=len(tally.late),
            by_level={lv: tally.late_levels[lv] for lv in levels},
            paper_ids=tally.late,
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
        missing=_missing(data, tally, runs, coverage),
        papers=papers,
        flag_lists=_flag_lists(institutions),
    )
