"""Citation contexts from Semantic Scholar's Datasets API `citations` files (`--s2-citations`).

What the files are, as checked (Datasets API swagger 2026-02 in shared/data/semanticscholar/spec;
the `citations` README and sample shipped by S2; S2's own export query):
- A release (`/datasets/v1/release/{id}`, ids are dates such as 2025-01-07) lists each dataset's
  files as temporary pre-signed URLs (an API key is needed); each is one shard of gzip JSON Lines.
  `/diffs/{from}/to/{to}/{dataset}` lists, per step between releases, `update_files` (rows to
  insert or replace) and `delete_files` (rows to remove).
- A `citations` row: `citingcorpusid`, `citedcorpusid` (null where the cited reference is not
  matched to a paper), `isinfluential`, `contexts` (list of strings, or null), `intents`, `updated`;
  newer releases add `citationid`. The ids are strings in the 2022 sample and integers in later
  releases: both are read. `intents` is one list for the whole citation in the sample
  (`array_distinct(flatten(...))` in S2's export); later releases are reported to give one list
  per context. Both are read: a list of lists as long as `contexts` pairs each context with its
  own intents; a flat list gives every context all of them, as the Graph API's `intents` does.
- A `papers` row: `corpusid`, `externalids` {DOI, ArXiv, MAG, PubMed, PubMedCentral, ACL, DBLP,
  CorpusId}, title, year, ... OpenAlex records carry no S2 id (`ids`: openalex, doi, mag, pmid,
  pmcid), so a citing CorpusId is joined to a stored paper by the CorpusId the store already has
  (papers found through S2 before), else through the `papers` files' DOI, arXiv id, MAG id or
  PubMed id, when such files lie beside the citations (`<release>/papers/`).
- A citing paper that joins no paper of the snapshot or the store is added with the `papers`
  files' title and year (its contexts judged as any other); the citations rows hold no title,
  so without the `papers` files such a citer is only counted ("seen in S2 citations, not in the
  snapshot"), never stored as a paper without a title.
Not confirmed: the shard file names (pre-signed URLs end in names without a fixed suffix), so
a shard is any file that starts with the gzip magic bytes or is named `*.jsonl`/`*.json`; and
how users keep a diff's files: a path with a folder named `delete*` is never read as citations.
"""

from __future__ import annotations

import glob as globlib
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracer.errors import DataError, UsageError
from tracer.ids import normalize_arxiv, normalize_doi
from tracer.records import Work
from tracer.sources.base import Passage

RELEASE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
GZIP_MAGIC = b"\x1f\x8b"
MAX_OBJECT = 64 * 1024 * 1024
EXTERNAL = {"DOI": "doi", "ArXiv": "arxiv", "MAG": "mag", "PubMed": "pmid"}  # S2 -> our key


@dataclass(frozen=True)
class Shards:
    root: str
    citations: list[Path]
    papers: list[Path]
    release: str | None

    def key(self, path: Path) -> str:
        """How a shard is remembered between runs: its name and size."""
        return f"{path.name}:{path.stat().st_size}"


def find_shards(path: str) -> Shards:
    """The citations shards (and `papers` shards beside them) at `path`: a release folder
    holding `citations/`, a folder of citations shards, or a glob of them."""
    text = str(Path(path).expanduser())
    if any(c in text for c in "*?["):
        files = [Path(p) for p in sorted(globlib.glob(text, recursive=True))]
        files = [p.resolve() for p in files if p.is_file()]
        if not files:
            raise DataError(f"No S2 citations shards match {path}.", hint=_HINT)
        base = files[0].parent
    else:
        base = Path(text)
        if not base.exists():
            raise DataError(f"The S2 citations path {path} does not exist.", hint=_HINT)
        base = base.resolve()
        if base.is_dir() and (base / "citations").is_dir():
            base = base / "citations"
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]
    folder = base if base.is_dir() else base.parent
    citations = [p for p in files if _is_shard(p, folder)]
    if not citations:
        raise DataError(f"{path} holds no S2 citations shards (gzip JSON Lines).", hint=_HINT)
    papers_dir = folder.parent / "papers"
    papers = (
        sorted(p for p in papers_dir.rglob("*") if p.is_file() and _is_shard(p, papers_dir))
        if papers_dir.is_dir()
        else []
    )
    release = next(
        (part for p in (base, *citations[:1]) for part in p.parts if RELEASE_RE.match(part)), None
    )
    return Shards(str(base), citations, papers, release)


_HINT = (
    "Give the folder the Datasets API's `citations` files were downloaded to "
    "(e.g. ~/s2/2025-01-07/citations), or a glob of them."
)


def _is_shard(path: Path, base: Path) -> bool:
    """A shard of JSON Lines below `base`; a diff's delete files (in a folder named delete*)
    and hidden files are not."""
    inner = path.relative_to(base).parts if path.is_relative_to(base) else (path.name,)
    if path.name.startswith(".") or any(p.lower().startswith("delete") for p in inner):
        return False
    if path.name.lower().endswith((".jsonl", ".json")) and path.name.lower() != "manifest.json":
        return True
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


# -- what the files say -----------------------------------------------------------------------


@dataclass
class CitationRow:
    citing: int
    cited: int
    contexts: list[str]
    intents: list[list[str]]  # one list per context (every context the same list if flat)
    is_influential: bool | None

    def passages(self) -> list[Passage]:
        return [Passage(text, list(own)) for text, own in zip(self.contexts, self.intents,
                                                                strict=True)]


@dataclass
class S2CitationsRead:
    engine: str
    root: str
    release: str | None
    files: list[str]  # name:size of the citations shards read this run
    skipped: int  # shards read by an earlier run, not read again
    papers_files: int
    rows: int  # rows citing an origin

    def to_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "root": self.root, "release": self.release,
                "files": self.files, "skipped": self.skipped, "papers_files": self.papers_files,
                "rows": self.rows}


@dataclass
class S2Citations:
    rows: list[CitationRow]
    external: dict[int, dict[str, str]]  # citing CorpusId -> {doi, arxiv, mag, pmid}
    read: S2CitationsRead
    cited: dict[int, list[str]] = field(default_factory=dict)  # origin CorpusId -> labels
    # Citing CorpusId -> (title, year) from the `papers` files: the citations files hold no
    # titles, so a citer that is no paper of the snapshot can be added only with these.
    titles: dict[int, tuple[str, int | None]] = field(default_factory=dict)


def parse_row(citing: Any, cited: Any, influential: Any, contexts: Any, intents: Any
              ) -> CitationRow | None:
    """One engine row (ids as text, contexts and intents as JSON text) -> a CitationRow."""
    a, b = _int(citing), _int(cited)
    if a is None or b is None:
        return None
    texts = [c for c in _json_list(contexts) if isinstance(c, str) and c.strip()]
    raw = _json_list(intents)
    if raw and all(isinstance(i, list) for i in raw) and len(raw) == len(texts):
        own = [[str(x) for x in i if isinstance(x, str)] for i in raw]
    else:
        flat = [str(x) for i in raw for x in (i if isinstance(i, list) else [i])
                if isinstance(x, str)]
        own = [list(dict.fromkeys(flat)) for _ in texts]
    return CitationRow(a, b, texts, own, bool(influential) if influential is not None else None)


def parse_external(corpus: Any, ids: Any) -> tuple[int, dict[str, str]] | None:
    cid = _int(corpus)
    data = json.loads(ids) if isinstance(ids, str) else ids
    if cid is None or not isinstance(data, dict):
        return None
    out: dict[str, str] = {}
    for name, key in EXTERNAL.items():
        value = data.get(name)
        if value is None or str(value).strip() == "":
            continue
        text = str(value).strip()
        norm = normalize_doi(text) if key == "doi" else (
            normalize_arxiv(text) if key == "arxiv" else text)
        if norm:
            out[key] = norm
    return cid, out


def parse_title(corpus: Any, title: Any, year: Any) -> tuple[int, tuple[str, int | None]] | None:
    """A `papers` row's (CorpusId, (title, year)); None without a title."""
    cid = _int(corpus)
    text = " ".join(str(title).split()) if title is not None else ""
    if cid is None or not text:
        return None
    return cid, (text, _int(year))


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def _json_list(text: Any) -> list[Any]:
    if text is None:
        return []
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return []
    return value if isinstance(value, list) else []


# -- reading, on DuckDB or Spark -----------------------------------------------------------------


def read_s2_citations(
    shards: Shards,
    cited: Mapping[int, Iterable[str]],
    *,
    engine: str = "duckdb",
    skip: Iterable[str] = (),
    memory_limit: str | None = None,
    spill_dir: str | None = None,
    master: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    spark: Any = None,
) -> S2Citations:
    """The rows of the citations shards that cite one of `cited` (origin CorpusId -> labels),
    and the external ids of their citing papers from the `papers` shards. Shards named in
    `skip` (`Shards.key`) were read by an earlier run and are left out. `progress(stage,
    shards done, shards in all)` is called as groups of shards are read. `spark`: the run's
    Spark session (`spark_engine.spark_session`), so that one run starts Spark once."""
    report = progress or (lambda stage, done, total: None)
    done = set(skip)
    files = [p for p in shards.citations if shards.key(p) not in done]
    targets = {int(k): sorted(set(v)) for k, v in cited.items()}
    with _runner(engine, memory_limit, spill_dir, master, spark) as run:
        raw: list[tuple[Any, ...]] = []
        for batch, done_, total in _batches(files if targets else [], run.batch):
            raw += run.citations(batch, sorted(targets))
            report("S2 citations", done_, total)
        rows = [r for r in (parse_row(*t) for t in raw) if r is not None]
        citing = sorted({r.citing for r in rows})
        ext_rows: list[tuple[Any, ...]] = []
        for batch, done_, total in _batches(shards.papers if citing else [], run.batch):
            ext_rows += run.papers(batch, citing)
            report("S2 papers", done_, total)
    external = dict(e for e in (parse_external(*t[:2]) for t in ext_rows) if e is not None)
    titles = dict(t for t in (parse_title(r[0], *r[2:]) for r in ext_rows) if t is not None)
    read = S2CitationsRead(engine, shards.root, shards.release, [shards.key(p) for p in files],
                           len(shards.citations) - len(files), len(shards.papers), len(rows))
    return S2Citations(rows, external, read, targets, titles)


def _batches(files: list[Path], size: int) -> Iterator[tuple[list[Path], int, int]]:
    for start in range(0, len(files), max(1, size)):
        batch = files[start : start + max(1, size)]
        yield batch, start + len(batch), len(files)


class _DuckDB:
    def __init__(self, con: Any) -> None:
        self.con = con
        row = con.execute("SELECT current_setting('threads')").fetchone()
        self.batch = int(row[0]) if row else 1  # one shard per thread: read in parallel

    def _ids(self, name: str, ids: list[int]) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT unnest($ids) AS id",  # noqa: S608 - our names
                         {"ids": [str(i) for i in ids]})

    def _read(self, files: list[Path], columns: str) -> str:
        return ("read_json($files, format='newline_delimited', compression=$comp, "  # noqa: S608
                f"columns={{{columns}}}, maximum_object_size={MAX_OBJECT})")

    def _groups(self, files: list[Path]) -> Iterator[tuple[str, list[str]]]:
        gz = [str(p) for p in files if _gzip(p)]
        plain = [str(p) for p in files if not _gzip(p)]
        yield from ((c, g) for c, g in (("gzip", gz), ("none", plain)) if g)

    def citations(self, files: list[Path], cited: list[int]) -> list[tuple[Any, ...]]:
        self._ids("s2_cited", cited)
        source = self._read(files, "citingcorpusid: 'VARCHAR', citedcorpusid: 'VARCHAR', "
                            "isinfluential: 'BOOLEAN', contexts: 'JSON', intents: 'JSON'")
        sql = (f"SELECT citingcorpusid, citedcorpusid, isinfluential, contexts, intents "  # noqa: S608
               f"FROM {source} WHERE trim(citedcorpusid) IN (SELECT id FROM s2_cited)")
        out: list[tuple[Any, ...]] = []
        for comp, group in self._groups(files):
            out += self.con.execute(sql, {"files": group, "comp": comp}).fetchall()
        return out

    def papers(self, files: list[Path], ids: list[int]) -> list[tuple[Any, ...]]:
        self._ids("s2_citing", ids)
        source = self._read(files, "corpusid: 'VARCHAR', externalids: 'JSON', "
                            "title: 'VARCHAR', year: 'VARCHAR'")
        sql = (f"SELECT corpusid, externalids, title, year FROM {source} "  # noqa: S608
               "WHERE trim(corpusid) IN (SELECT id FROM s2_citing)")
        out: list[tuple[Any, ...]] = []
        for comp, group in self._groups(files):
            out += self.con.execute(sql, {"files": group, "comp": comp}).fetchall()
        return out


class _Spark:
    batch = 1 << 30  # one job over every shard: the cluster splits it

    def __init__(self, spark: Any, work: Path) -> None:
        self.spark = spark
        self.work = work
        self.calls = 0

    def _paths(self, files: list[Path], kind: str) -> list[str]:
        """Spark decompresses by suffix only: gzip shards without `.gz` are linked as such."""
        out = []
        self.calls += 1
        folder = self.work / f"{kind}-{self.calls}"
        folder.mkdir()
        for n, path in enumerate(files):
            if _gzip(path) and not path.name.endswith(".gz"):
                link = folder / f"{n:05d}-{path.name}.gz"
                link.symlink_to(path.resolve())
                out.append(str(link))
            else:
                out.append(str(path))
        return out

    def citations(self, files: list[Path], cited: list[int]) -> list[tuple[Any, ...]]:
        from pyspark.sql import functions as F  # noqa: N812

        wanted = self.spark.createDataFrame([(str(i),) for i in cited], "cid string")
        df = self.spark.read.schema(
            "citingcorpusid STRING, citedcorpusid STRING, isinfluential BOOLEAN, "
            "contexts STRING, intents STRING"
        ).json(self._paths(files, "citations"))
        rows = (df.join(F.broadcast(wanted), F.trim(F.col("citedcorpusid")) == F.col("cid"))
                .select("citingcorpusid", "citedcorpusid", "isinfluential", "contexts", "intents")
                .collect())
        return [tuple(r) for r in rows]

    def papers(self, files: list[Path], ids: list[int]) -> list[tuple[Any, ...]]:
        from pyspark.sql import functions as F  # noqa: N812

        wanted = self.spark.createDataFrame([(str(i),) for i in ids], "cid string")
        schema = "corpusid STRING, externalids STRING, title STRING, year STRING"
        df = self.spark.read.schema(schema).json(self._paths(files, "papers"))
        rows = (df.join(F.broadcast(wanted), F.trim(F.col("corpusid")) == F.col("cid"))
                .select("corpusid", "externalids", "title", "year").collect())
        return [tuple(r) for r in rows]


def _gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


@contextmanager
def _runner(engine: str, memory_limit: str | None, spill_dir: str | None, master: str | None,
            session: Any = None) -> Iterator[Any]:
    if engine == "duckdb":
        import duckdb

        from tracer.snapshot.duckdb_engine import connect

        con = connect(memory_limit=memory_limit, spill_dir=spill_dir)
        try:
            yield _DuckDB(con)
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"DuckDB failed while reading the S2 citations files: {first}.",
                            hint="Check the files (a partial download?).") from None
        finally:
            con.close()
        return
    if engine != "spark":
        raise UsageError(f"Unknown snapshot engine {engine!r}.", hint="Use duckdb or spark.")
    with _spark(master, memory_limit, spill_dir, session) as runner:
        yield runner


@contextmanager
def _spark(master: str | None, memory_limit: str | None, spill_dir: str | None, session: Any
           ) -> Iterator[_Spark]:
    from tracer.snapshot.spark_engine import spark_session

    with spark_session(master, memory_limit, spill_dir, session=session) as spark:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        work = Path(tempfile.mkdtemp(prefix="tracer-s2-", dir=spill_dir))
        try:
            yield _Spark(spark, work)
        except (PySparkException, Py4JError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"Spark failed while reading the S2 citations files: {first[:300]}.",
                            hint="Check the files; --engine duckdb reads them too.") from None
        finally:
            shutil.rmtree(work, ignore_errors=True)


# -- joining citing CorpusIds to papers -------------------------------------------------------


@dataclass
class Candidate:
    """A paper the contexts may belong to: a citer this run found, or one already stored."""

    work: Work
    keys: set[tuple[str, str]]  # (corpus|doi|arxiv|mag|pmid|openalex, value)


def candidate_of_record(work: Work, record: Mapping[str, Any]) -> Candidate:
    ids = record.get("ids") if isinstance(record.get("ids"), dict) else {}
    assert isinstance(ids, dict)
    keys = _work_keys(work)
    mag = ids.get("mag")
    if mag not in (None, ""):
        keys.add(("mag", str(mag).strip()))
    pmid = ids.get("pmid")
    if isinstance(pmid, str) and pmid.strip():
        keys.add(("pmid", pmid.rstrip("/").rsplit("/", 1)[-1]))
    return Candidate(work, keys)


def candidate_of_stored(work: Work, ids: Iterable[tuple[str, str]]) -> Candidate:
    keys = _work_keys(work) | {(k, v) for k, v in ids if k in ("corpus", "doi", "arxiv")}
    return Candidate(work, keys)


def _work_keys(work: Work) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    if work.corpus_id is not None:
        keys.add(("corpus", str(work.corpus_id)))
    if work.doi:
        keys.add(("doi", work.doi))
    if work.arxiv_id:
        keys.add(("arxiv", work.arxiv_id))
    return keys


def join(citing: int, external: Mapping[str, str], index: Mapping[tuple[str, str], Candidate]
         ) -> tuple[Candidate | None, str | None]:
    """The candidate a citing CorpusId is, and by which id: its CorpusId, else its DOI, arXiv
    id, MAG id or PubMed id from the `papers` files."""
    found = index.get(("corpus", str(citing)))
    if found is not None:
        return found, "corpus"
    for key in ("doi", "arxiv", "mag", "pmid"):
        value = external.get(key)
        if value and (key, value) in index:
            return index[(key, value)], key
    return None, None


def index_of(candidates: Iterable[Candidate]) -> dict[tuple[str, str], Candidate]:
    out: dict[tuple[str, str], Candidate] = {}
    for cand in candidates:
        for key in cand.keys:
            out.setdefault(key, cand)
    return out


def s2_origins(
    catalog: Any, datasets: Iterable[Any], stored: Any = None
) -> dict[int, list[str]]:
    """Origin CorpusId -> the catalog keys it is an origin of: the catalog's `s2_corpus_id`s,
    and the CorpusIds an earlier S2 scan resolved (`stored(slot)`: Store.origin_ids)."""
    out: dict[int, set[str]] = {}
    for dataset in datasets:
        for entry in [dataset, *(catalog.get(k) for k in dataset.derivatives)]:
            slot = entry.key if entry is dataset else f"{dataset.key}:{entry.key}"
            for paper in entry.origin_papers:
                if paper.s2_corpus_id is not None:
                    out.setdefault(int(paper.s2_corpus_id), set()).add(entry.key)
            if stored is None:
                continue
            for (_, source), ids in stored(slot).items():
                for value in ids if source == "s2" else ():
                    if str(value).startswith("CorpusId:") and str(value)[9:].isdigit():
                        out.setdefault(int(str(value)[9:]), set()).add(entry.key)
    return {k: sorted(v) for k, v in out.items()}
