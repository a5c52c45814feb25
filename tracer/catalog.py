"""The catalog of datasets (datasets.yaml): load, validate with file and line, look up.

A malformed file or entry becomes a CatalogError naming the file, the line and what is wrong; an
unknown dataset name becomes a NotFoundError that suggests close names.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tracer.config import PACKAGED_CATALOG, default_config_path
from tracer.errors import CatalogError, NotFoundError

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
ARXIV_RE = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
OPENALEX_RE = re.compile(r"^W\d+$")
STATES = ("available", "withdrawn", "restricted")
USER_CATALOG_NAME = "my-datasets.yaml"
MAX_DEPTH = 50  # a catalog needs about six levels; deeper is a mistake or an attack
LICENCE_TERMS = ("non-commercial", "research-only", "commercial", "unknown")


@dataclass(frozen=True)
class OriginPaper:
    title: str
    year: int | None = None
    venue: str | None = None
    doi: str | None = None
    arxiv: str | None = None
    s2_corpus_id: int | None = None
    openalex: str | None = None

    def s2_ids(self) -> list[str]:
        """The ids Semantic Scholar accepts for this paper, best first."""
        ids = []
        if self.s2_corpus_id is not None:
            ids.append(f"CorpusId:{self.s2_corpus_id}")
        if self.doi:
            ids.append(f"DOI:{self.doi}")
        if self.arxiv:
            ids.append(f"ARXIV:{self.arxiv}")
        return ids

    def dois(self) -> list[str]:
        """Every DOI this paper may have in OpenAlex, the arXiv one included."""
        dois = [self.doi] if self.doi else []
        if self.arxiv:
            dois.append(f"10.48550/arxiv.{self.arxiv}")
        return dois

    def label(self) -> str:
        parts = []
        if self.doi:
            parts.append(f"doi:{self.doi}")
        if self.arxiv:
            parts.append(f"arXiv:{self.arxiv}")
        if self.s2_corpus_id is not None:
            parts.append(f"CorpusId:{self.s2_corpus_id}")
        year = f" ({self.year})" if self.year else ""
        ids = f"[{', '.join(parts)}]" if parts else "[no ids]"
        return f"{self.title}{year} {ids}"


@dataclass(frozen=True)
class Status:
    state: str
    date: str | None = None
    source: str | None = None
    note: str | None = None

    def label(self) -> str:
        return f"{self.state} {self.date}" if self.date else self.state


@dataclass(frozen=True)
class Dataset:
    key: str
    name: str
    mentions: tuple[str, ...]
    fields_of_study: tuple[str, ...]
    origin_papers: tuple[OriginPaper, ...]
    aliases: tuple[str, ...] = ()
    description: str | None = None
    year: int | None = None
    creators: tuple[str, ...] = ()
    institutions: tuple[str, ...] = ()
    homepage: str | None = None
    licence: str | None = None
    licence_terms: str | None = None
    status: Status | None = None
    derivatives: tuple[str, ...] = ()
    # Datasets introduced in the same paper (LFWA in CelebA's): their origin ids are shared
    # on purpose, and a scan of one counts the other's citers too.
    shares_origin_with: tuple[str, ...] = ()
    line: int = 0

    @property
    def names(self) -> list[str]:
        """The dataset's name and aliases, without repeats."""
        return list(dict.fromkeys([self.name, *self.aliases]))

    @property
    def withdrawn_on(self) -> str | None:
        if self.status and self.status.state == "withdrawn":
            return self.status.date
        return None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("line")
        return data


@dataclass
class Catalog:
    path: Path
    datasets: list[Dataset] = field(default_factory=list)
    user_path: Path | None = None  # the user's own catalog, loaded beside the packaged one

    def __post_init__(self) -> None:
        self._by_key = {d.key: d for d in self.datasets}

    def get(self, name: str) -> Dataset:
        """Look a dataset up by key or (case-insensitively) by name or alias."""
        if name in self._by_key:
            return self._by_key[name]
        wanted = _fold(name)
        for dataset in self.datasets:
            if wanted == _fold(dataset.key) or wanted in {_fold(n) for n in dataset.names}:
                return dataset
        choices = {_fold(d.key): d.key for d in self.datasets}
        choices.update({_fold(n): d.key for d in self.datasets for n in d.names})
        close = difflib.get_close_matches(wanted, list(choices), n=5, cutoff=0.6)
        suggestions = list(dict.fromkeys(choices[c] for c in close))[:3]
        hint = (
            "Did you mean " + " or ".join(suggestions) + "?"
            if suggestions
            else "Run `tracer datasets` to list the catalog."
        )
        raise NotFoundError(f"No dataset {name!r} in {self.path}.", hint=hint)

    def parents_of(self, key: str) -> list[Dataset]:
        return [d for d in self.datasets if key in d.derivatives]


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


if TYPE_CHECKING:
    _Base = yaml.SafeLoader
else:  # libyaml's parser when PyYAML has it: ten times faster on the packaged catalog
    _Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_Base):
    """A safe loader that keeps each mapping's line, refuses duplicate keys, keys that are not
    plain values and impossible dates, each with its line."""


def _check_depth(loader: _LineLoader) -> None:
    """Nesting deeper than MAX_DEPTH is refused from the events alone, before anything is
    built: composing and constructing recurse once per level, and Python's stack is short."""
    depth = 0
    while loader.check_event():
        event = loader.get_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else 1
                raise CatalogError(
                    f"{loader.name}:{line}: nested more than {MAX_DEPTH} levels deep."
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise CatalogError(
                f"{loader.name}:{key_node.start_mark.line + 1}: a key must be a plain name, "
                f"not a {'list' if isinstance(key, list) else 'mapping'}."
            )
        if key in seen:
            raise CatalogError(
                f"{loader.name}:{key_node.start_mark.line + 1}: duplicate key {key!r} "
                f"(first at line {seen[key]})."
            )
        seen[key] = key_node.start_mark.line + 1
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__lines__"] = seen
    return mapping


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        raise CatalogError(
            f"{loader.name}:{node.start_mark.line + 1}: {node.value!r} is not a date "
            "that exists (YYYY-MM-DD)."
        ) from None


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def user_catalog_path() -> Path:
    """The user's own catalog (`tracer datasets add` writes there), beside the config file; its
    entries are loaded after the packaged ones."""
    return default_config_path().with_name(USER_CATALOG_NAME)


def is_packaged(path: Path | str) -> bool:
    return Path(path).expanduser().resolve() == PACKAGED_CATALOG.resolve()


def load_catalog(path: Path | str, *, with_user: bool = True) -> Catalog:
    """The catalog at `path`. The packaged catalog comes with the user's own entries (see
    user_catalog_path) when that file exists; a catalog named by --catalog or $TRACER_CATALOG
    stands alone."""
    path = Path(path)
    catalog = parse_catalog(_read(path), path)
    user = user_catalog_path()
    if not with_user or not is_packaged(path) or not user.exists():
        return catalog
    known = {d.key: d.line for d in catalog.datasets}
    mine = _parse_datasets(_read(user), user)
    _check_catalog(mine, user, known)
    return Catalog(path=path, datasets=catalog.datasets + mine, user_path=user)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"Catalog file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"Cannot read catalog file {path}: {exc}.") from None


def parse_catalog(text: str, path: Path) -> Catalog:
    datasets = _parse_datasets(text, path)
    _check_catalog(datasets, path)
    return Catalog(path=path, datasets=datasets)


def _parse_datasets(text: str, path: Path) -> list[Dataset]:
    _read_yaml(text, path, _check_depth)
    document = _read_yaml(text, path, lambda loader: loader.get_single_data())
    if not isinstance(document, dict):
        raise CatalogError(f"{path}:1: expected a mapping with a 'datasets' list.")
    entries = document.get("datasets")
    if not isinstance(entries, list):
        raise CatalogError(f"{path}:{document['__line__']}: missing 'datasets' list.")
    return [_dataset(entry, path, index) for index, entry in enumerate(entries)]


def _read_yaml(text: str, path: Path, read: Callable[[_LineLoader], Any]) -> Any:
    """`read` applied to a loader of `text`, with YAML's errors turned into catalog errors."""
    try:
        # The reader rejects control characters as soon as it is built, so build it in here.
        loader = _LineLoader(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not a YAML text ({' '.join(str(exc).split())}).") from None
    loader.name = str(path)
    try:
        return read(loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context_mark and exc.problem_mark:
            started = exc.context.removeprefix("while ").replace("parsing ", "")
            problem += f" (in the {started} that starts at line {exc.context_mark.line + 1})"
        raise CatalogError(f"{path}{line}: {problem}.") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: invalid YAML ({' '.join(str(exc).split())}).") from None
    finally:
        loader.dispose()


class _Entry:
    """Typed reads from one parsed mapping, with errors that point at the line."""

    def __init__(self, data: Any, path: Path, what: str, line: int) -> None:
        if not isinstance(data, dict):
            raise CatalogError(f"{path}:{line}: {what} must be a mapping.")
        self.data = data
        self.path = path
        self.what = what
        self.line: int = data["__line__"]
        self.lines: dict[str, int] = data["__lines__"]

    def fail(self, name: str, problem: str) -> CatalogError:
        line = self.lines.get(name, self.line)
        return CatalogError(f"{self.path}:{line}: {self.what}: {name} {problem}.")

    def get(self, name: str, kind: type | tuple[type, ...], *, required: bool = False) -> Any:
        value = self.data.get(name)
        if value is None:
            if required:
                raise CatalogError(
                    f"{self.path}:{self.line}: {self.what}: missing required '{name}'."
                )
            return None
        if isinstance(value, bool) or not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(name, f"must be {_article(names)}, not {type(value).__name__}")
        return value

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        check: Callable[[str], object] | None = None,
        expect: str = "",
    ) -> str | None:
        value = self.get(name, (str, int, float, datetime.date), required=required)
        if value is None:
            return None
        text = value.isoformat() if isinstance(value, datetime.date) else str(value).strip()
        if required and not text:
            raise self.fail(name, "must not be empty")
        if check is not None and not check(text):
            raise self.fail(name, f"{text!r} is not {expect}")
        return text

    def strings(self, name: str, *, required: bool = False) -> tuple[str, ...]:
        value = self.get(name, list, required=required)
        if value is None:
            return ()
        if any(
            not isinstance(v, str | int) or isinstance(v, bool) or not str(v).strip() for v in value
        ):
            raise self.fail(name, "must be a list of non-empty strings")
        if required and not value:
            raise self.fail(name, "must not be empty")
        return tuple(str(v).strip() for v in value)

    def year(self, name: str) -> int | None:
        value = self.get(name, int)
        if value is not None and not 1900 <= value <= 2100:
            raise self.fail(name, f"{value} is not a plausible year")
        return value  # type: ignore[no-any-return]

    def unknown_keys(self, known: set[str]) -> None:
        for name in self.data:
            if name not in known and not str(name).startswith("__"):
                raise self.fail(
                    name, "is not a known field (known: " + ", ".join(sorted(known)) + ")"
                )


def _article(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


_DATASET_FIELDS = {
    "key",
    "name",
    "aliases",
    "mentions",
    "description",
    "year",
    "creators",
    "institutions",
    "homepage",
    "licence",
    "licence_terms",
    "status",
    "fields_of_study",
    "origin_papers",
    "derivatives",
    "shares_origin_with",
}
_PAPER_FIELDS = {"title", "year", "venue", "doi", "arxiv", "s2_corpus_id", "openalex"}
_STATUS_FIELDS = {"state", "date", "source", "note"}


def _dataset(data: Any, path: Path, index: int) -> Dataset:
    line = data.get("__line__", 0) if isinstance(data, dict) else 0
    key = data.get("key") if isinstance(data, dict) else None
    entry = _Entry(data, path, f"dataset {key or f'#{index + 1}'}", line)
    entry.unknown_keys(_DATASET_FIELDS)
    key = entry.text(
        "key", required=True, check=KEY_RE.match, expect="lowercase letters, digits and hyphens"
    )
    papers_raw = entry.get("origin_papers", list, required=True)
    if not papers_raw:
        raise entry.fail("origin_papers", "must list at least one paper")
    papers = tuple(_paper(p, path, f"dataset {key}, origin paper", entry.line) for p in papers_raw)
    status_raw = entry.get("status", dict)
    terms = entry.text(
        "licence_terms",
        check=lambda t: t in LICENCE_TERMS,
        expect="one of " + ", ".join(LICENCE_TERMS),
    )
    return Dataset(
        key=str(key),
        name=str(entry.text("name", required=True)),
        aliases=entry.strings("aliases"),
        mentions=entry.strings("mentions", required=True),
        description=entry.text("description"),
        year=entry.year("year"),
        creators=entry.strings("creators"),
        institutions=entry.strings("institutions"),
        homepage=entry.text("homepage"),
        licence=entry.text("licence"),
        licence_terms=terms,
        status=_status(status_raw, path, f"dataset {key}, status") if status_raw else None,
        fields_of_study=entry.strings("fields_of_study", required=True),
        origin_papers=papers,
        derivatives=entry.strings("derivatives"),
        shares_origin_with=entry.strings("shares_origin_with"),
        line=entry.line,
    )


def _paper(data: Any, path: Path, what: str, line: int) -> OriginPaper:
    entry = _Entry(data, path, what, line)
    entry.unknown_keys(_PAPER_FIELDS)
    doi = entry.text("doi", check=DOI_RE.match, expect="a DOI (10.xxxx/...)")
    arxiv = entry.text("arxiv", check=ARXIV_RE.match, expect="an arXiv id such as 1506.04878")
    corpus = entry.get("s2_corpus_id", int)
    openalex = entry.text("openalex", check=OPENALEX_RE.match, expect="an OpenAlex work id (W...)")
    if corpus is not None and corpus <= 0:
        raise entry.fail("s2_corpus_id", f"{corpus} is not a positive number")
    year = entry.year("year")
    if not (doi or arxiv or corpus or openalex or year):
        raise CatalogError(
            f"{path}:{entry.line}: {what}: needs at least one id (doi, arxiv, s2_corpus_id, "
            "openalex), or a year so that it can be found by its exact title."
        )
    return OriginPaper(
        title=str(entry.text("title", required=True)),
        year=year,
        venue=entry.text("venue"),
        doi=doi.lower() if doi else None,
        arxiv=arxiv,
        s2_corpus_id=corpus,
        openalex=openalex,
    )


def _status(data: Any, path: Path, what: str) -> Status:
    entry = _Entry(data, path, what, 0)
    entry.unknown_keys(_STATUS_FIELDS)
    state = entry.text(
        "state", required=True, check=lambda s: s in STATES, expect="one of " + ", ".join(STATES)
    )
    date = entry.text("date", check=_is_date, expect="a date as YYYY, YYYY-MM or YYYY-MM-DD")
    return Status(state=str(state), date=date, source=entry.text("source"), note=entry.text("note"))


def _is_date(text: str) -> bool:
    """YYYY, YYYY-MM or YYYY-MM-DD, and a day that exists."""
    if not DATE_RE.match(text):
        return False
    parts = [int(p) for p in text.split("-")] + [1, 1]
    try:
        datetime.date(parts[0], parts[1], parts[2])
    except ValueError:
        return False
    return True


def _check_catalog(
    datasets: list[Dataset], path: Path, known: dict[str, int] | None = None
) -> None:
    """Keys unique, derivatives and shared origins named; `known`: keys (and lines) of the
    packaged catalog, which a user's catalog may name but not repeat."""
    for dataset in datasets:
        if known and dataset.key in known:
            raise CatalogError(
                f"{path}:{dataset.line}: dataset key {dataset.key!r} is already in the packaged "
                f"catalog (line {known[dataset.key]}); choose another key."
            )
    seen: dict[str, int] = dict(known or {})
    for dataset in datasets:
        if dataset.key in seen:
            raise CatalogError(
                f"{path}:{dataset.line}: duplicate dataset key {dataset.key!r} "
                f"(first at line {seen[dataset.key]})."
            )
        seen[dataset.key] = dataset.line
    for dataset in datasets:
        for derived in dataset.derivatives:
            if derived not in seen:
                raise CatalogError(
                    f"{path}:{dataset.line}: dataset {dataset.key}: derivative {derived!r} "
                    "is not a key in this catalog."
                )
            if derived == dataset.key:
                raise CatalogError(
                    f"{path}:{dataset.line}: dataset {dataset.key} derives from itself."
                )
        for other in dataset.shares_origin_with:
            if other not in seen or other == dataset.key:
                raise CatalogError(
                    f"{path}:{dataset.line}: dataset {dataset.key}: shares_origin_with "
                    f"{other!r} is not another key in this catalog."
                )
