"""A small synthetic OpenAlex snapshot in the real layout, written by the tests themselves.

    <tmp>/data/parquet/manifest.json            (Redshift manifest, works and an authors entry)
    <tmp>/data/parquet/works/updated_date=D/part_0000.parquet
    <tmp>/data/jsonl/manifest.json
    <tmp>/data/jsonl/works/updated_date=D/part_0000.gz
    <tmp>/legacy-data/merged_ids/works/2025-02-01.csv.gz   (merge_date,id,merge_into_id)

The corpus: dataset "alpha" has a proceedings version (W100, DOI 10.1000/alpha.cvpr) and a
preprint (W101, an arXiv DOI); W900 was merged into W100, and one work still cites W900.
Dataset "beta" has one origin (W200). Works cite the preprint, the proceedings, both, and both
datasets; one has 150 authors; titles carry control characters and HTML. W3005 sits in two
partitions (a stale copy citing beta, the newest citing alpha only): the newest wins.
`s3_snapshot` serves the same files from a local S3 server.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

URL = "https://openalex.org/"
PARTITIONS = ("2024-01-01", "2024-06-01", "2025-01-15")
LATER = "2025-03-01"  # a partition written after a first run (incremental tests)

INSTITUTION = pa.struct(
    [
        ("id", pa.string()),
        ("display_name", pa.string()),
        ("ror", pa.string()),
        ("country_code", pa.string()),
        ("type", pa.string()),
        ("lineage", pa.list_(pa.string())),
    ]
)
AUTHORSHIP = pa.struct(
    [
        ("author_position", pa.string()),
        ("author", pa.struct([("id", pa.string()), ("display_name", pa.string())])),
        ("institutions", pa.list_(INSTITUTION)),
        ("countries", pa.list_(pa.string())),
        ("raw_affiliation_strings", pa.list_(pa.string())),
        ("raw_author_name", pa.string()),
    ]
)
LOCATION = pa.struct(
    [
        ("source", pa.struct([("id", pa.string()), ("display_name", pa.string())])),
        ("landing_page_url", pa.string()),
        ("pdf_url", pa.string()),
    ]
)
NESTED = {
    "ids": pa.struct([("openalex", pa.string()), ("doi", pa.string())]),
    "primary_location": LOCATION,
    "locations": pa.list_(LOCATION),
    "authorships": pa.list_(AUTHORSHIP),
    "abstract_inverted_index": pa.map_(pa.string(), pa.list_(pa.int64())),
    "referenced_works": pa.list_(pa.string()),
}
SCALARS = [
    ("id", pa.string()),
    ("doi", pa.string()),
    ("title", pa.string()),
    ("display_name", pa.string()),
    ("publication_year", pa.int64()),
    ("publication_date", pa.string()),
    ("type", pa.string()),
    ("cited_by_count", pa.int64()),
    ("updated_date", pa.string()),
]

NUDT = {
    "id": URL + "I170215575",
    "display_name": "National University of Defense Technology",
    "ror": "https://ror.org/05d2yfz11",
    "country_code": "CN",
    "type": "education",
    "lineage": [URL + "I170215575"],
}
STANFORD = {
    "id": URL + "I97018004",
    "display_name": "Stanford University",
    "ror": "https://ror.org/00f54p054",
    "country_code": "US",
    "type": "education",
    "lineage": [URL + "I97018004"],
}
HOSTILE_TITLE = 'Crowd <script>alert(1)</script> counting\x07 on =HYPERLINK("x") \x1b[31mBrainwash'


def author(
    name: str, inst: dict[str, Any] | None, raw: str | None, pos: str = "middle"
) -> dict[str, Any]:
    return {
        "author_position": pos,
        "author": {"id": URL + "A" + str(zlib.crc32(name.encode())), "display_name": name},
        "institutions": [inst] if inst else [],
        "countries": [inst["country_code"]] if inst else [],
        "raw_affiliation_strings": [raw] if raw else [],
        "raw_author_name": name,
    }


def work(
    wid: str,
    title: str,
    refs: list[str],
    *,
    year: int = 2020,
    doi: str | None = None,
    authors: list[dict[str, Any]] | None = None,
    abstract: str | None = None,
    updated: str = PARTITIONS[0],
    arxiv: str | None = None,
) -> dict[str, Any]:
    index: dict[str, list[int]] = {}
    for pos, word in enumerate((abstract or "").split()):
        index.setdefault(word, []).append(pos)
    loc = {
        "source": {"id": URL + "S1", "display_name": "CVPR"},
        "landing_page_url": f"https://arxiv.org/abs/{arxiv}" if arxiv else None,
        "pdf_url": None,
    }
    return {
        "id": URL + wid,
        "doi": f"https://doi.org/{doi}" if doi else None,
        "title": title,
        "display_name": title,
        "publication_year": year,
        "publication_date": f"{year}-06-01",
        "type": "article",
        "cited_by_count": 3,
        "updated_date": updated + "T00:00:00",
        "ids": {"openalex": URL + wid, "doi": f"https://doi.org/{doi}" if doi else None},
        "primary_location": loc,
        "locations": [loc],
        "authorships": authors
        if authors is not None
        else [author("Ada Lovelace", STANFORD, "Stanford University, CA", "first")],
        "abstract_inverted_index": index or None,
        "referenced_works": [URL + r for r in refs],
    }


def corpus() -> dict[str, list[dict[str, Any]]]:
    """Records per partition (the newest copy of W3005 in the last one)."""
    p0, p1, p2 = PARTITIONS
    many = [
        author(f"Author {i}", NUDT if i % 2 else STANFORD, f"Lab {i}, somewhere")
        for i in range(150)
    ]
    return {
        p0: [
            work(
                "W100",
                "Alpha: the proceedings version",
                ["W7"],
                year=2014,
                doi="10.1000/alpha.cvpr",
            ),
            work(
                "W101",
                "Alpha (preprint)",
                [],
                year=2014,
                doi="10.48550/arxiv.1409.0001",
                arxiv="1409.0001",
            ),
            work("W200", "Beta dataset", ["W7"], year=2016, doi="10.1000/beta"),
            work(
                "W3001",
                "We train on Alpha",
                ["W100", "W7"],
                year=2019,
                abstract="We train our detector on the Alpha dataset",
                authors=[
                    author(
                        "Li Wei",
                        NUDT,
                        "College of Computer, National University of Defense Technology, Changsha",
                        "first",
                    )
                ],
            ),
            work("W3005", "A stale copy", ["W200"], year=2020),
            work("W4001", "Unrelated work", ["W7", "W8"], year=2020),
        ],
        p1: [
            work("W3002", "Citing the preprint only", ["W101"], year=2021),
            work(
                "W3003",
                HOSTILE_TITLE,
                ["W100", "W101", "W200"],
                year=2022,
                abstract="Experiments on Alpha and Beta",
            ),
            work("W3004", "One hundred and fifty authors", ["W200"], year=2022, authors=many),
            work("W4002", "Another unrelated work", [], year=2021),
        ],
        p2: [
            work("W3005", "The newest copy", ["W100"], year=2020),
            work("W3006", "Citing a merged-away id", ["W900", "W8"], year=2023),
            work("W4003", "Yet another unrelated work", ["W8"], year=2023),
        ],
    }


LATER_WORKS = [work("W3007", "A later citer", ["W200"], year=2025, updated=LATER)]

# What a scan must find: W id -> the datasets it cites.
EXPECTED = {
    "W3001": ["alpha"],
    "W3002": ["alpha"],
    "W3003": ["alpha", "beta"],
    "W3004": ["beta"],
    "W3005": ["alpha"],
    "W3006": ["alpha"],
}
ORIGINS = {"alpha": ["W100"], "beta": ["W200"]}
DOIS = {"alpha": ["10.48550/arxiv.1409.0001"]}


def write_snapshot(
    tmp: Path,
    *,
    nested: str = "struct",
    later: bool = False,
    later_works: list[dict[str, Any]] | None = None,
) -> Path:
    """Write the corpus in both formats; `nested="json"` keeps nested Parquet fields as JSON
    text instead of structs; `later_works` join LATER_WORKS in the later partition. Returns the
    `data` folder (what `--from-snapshot` is given)."""
    data = tmp / "data"
    parts = corpus()
    if later:
        parts[LATER] = LATER_WORKS + list(later_works or [])
    entries: dict[str, list[dict[str, Any]]] = {"parquet": [], "jsonl": []}
    for partition, records in parts.items():
        for fmt, suffix in (("parquet", ".parquet"), ("jsonl", ".gz")):
            rel = f"works/updated_date={partition}/part_0000{suffix}"
            path = data / fmt / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if fmt == "parquet":
                write_parquet(path, records, nested=nested)
            else:
                with gzip.open(path, "wt", encoding="utf-8") as fh:
                    for rec in records:
                        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            entries[fmt].append(
                {
                    "url": f"s3://openalex/data/{fmt}/{rel}",
                    "meta": {"content_length": path.stat().st_size, "record_count": len(records)},
                }
            )
    for fmt, rows in entries.items():
        rows.append(
            {
                "url": f"s3://openalex/data/{fmt}/authors/updated_date=2024-01-01/part_0000.x",
                "meta": {"content_length": 1, "record_count": 1},
            }
        )
        (data / fmt / "manifest.json").write_text(json.dumps({"entries": rows}), encoding="utf-8")
    merged = tmp / "legacy-data" / "merged_ids" / "works" / "2025-02-01.csv.gz"
    merged.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["merge_date", "id", "merge_into_id"])
    writer.writerow(["2025-02-01", "W900", "W100"])
    merged.write_bytes(gzip.compress(buf.getvalue().encode()))
    return data


def write_parquet(path: Path, records: list[dict[str, Any]], *, nested: str = "struct") -> None:
    fields = list(SCALARS)
    rows = []
    for rec in records:
        row = dict(rec)
        if nested == "json":
            for name in NESTED:
                row[name] = (
                    json.dumps(rec[name], ensure_ascii=False) if rec[name] is not None else None
                )
        elif rec["abstract_inverted_index"] is not None:
            row["abstract_inverted_index"] = list(rec["abstract_inverted_index"].items())
        rows.append(row)
    for name, kind in NESTED.items():
        fields.append((name, pa.string() if nested == "json" else kind))
    pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema(fields)), path)


def write_jsonl_snapshot(tmp: Path, records: list[dict[str, Any]], partition: str) -> Path:
    """Any API-shaped work records as a one-partition JSON Lines snapshot; the data folder."""
    data = tmp / "data"
    rel = f"works/updated_date={partition}/part_0000.gz"
    path = data / "jsonl" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    entry = {"url": f"s3://openalex/data/jsonl/{rel}", "meta": {"record_count": len(records)}}
    (data / "jsonl" / "manifest.json").write_text(json.dumps({"entries": [entry]}))
    return data


# -- S2's Datasets API files (`--s2-citations`) ----------------------------------------------


def write_s2_datasets(
    tmp: Path,
    corpus: Any,
    release: str = "2025-01-07",
    *,
    string_ids: bool = False,
    per_context: bool = True,
    shards: int = 2,
) -> Path:
    """The fake S2 corpus (tests.fakeapi.corpus.Corpus) as a release of the Datasets API's
    `citations` and `papers` files, as a download keeps them:

        <tmp>/<release>/citations/<shard>   gzip JSON Lines, no suffix (as the pre-signed URLs)
        <tmp>/<release>/papers/<shard>.gz

    `string_ids`: corpus ids as strings (the 2022 sample) instead of numbers; `per_context`:
    `intents` as one list per context (later releases) instead of one list per citation.
    Returns the release folder."""
    root = tmp / release
    corpus_of = {pid: p.get("corpusId") for pid, p in corpus.s2_papers.items()}

    def cid(value: Any) -> Any:
        return None if value is None else (str(value) if string_ids else int(value))

    rows = []
    n = 0
    for cited, citations in sorted(corpus.s2_citations.items()):
        for c in citations:
            n += 1
            contexts = [x["context"] for x in c.get("contextsWithIntent") or []] or c["contexts"]
            intents = (
                [x["intents"] for x in c.get("contextsWithIntent") or []]
                if per_context
                else sorted({i for i in c["intents"]})
            )
            rows.append(
                {
                    "citationid": n,
                    "citingcorpusid": cid(corpus_of.get(c["citing"])),
                    "citedcorpusid": cid(corpus_of.get(cited)),
                    "isinfluential": bool(c.get("isInfluential")),
                    "contexts": contexts or None,
                    "intents": intents or None,
                    "updated": "2024-12-01T00:00:00.000Z",
                }
            )
    # Rows of other papers, one with a null cited id (an unmatched reference), as real shards hold.
    rows.append({"citingcorpusid": cid(999001), "citedcorpusid": None, "isinfluential": False,
                 "contexts": None, "intents": None, "updated": "2024-12-01T00:00:00.000Z"})
    rows.append({"citingcorpusid": cid(999002), "citedcorpusid": cid(999003),
                 "isinfluential": False, "contexts": ["Unrelated [3]."],
                 "intents": [["background"]] if per_context else ["background"],
                 "updated": "2024-12-01T00:00:00.000Z"})
    folder = root / "citations"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(shards):
        part = rows[i::shards]
        name = f"20250110_081500_000{i:02d}_abcde_{i:08x}-1111-2222-3333-444455556666"
        (folder / name).write_bytes(
            gzip.compress("".join(json.dumps(r) + "\n" for r in part).encode())
        )
    (folder / "README.txt").write_text("Semantic Scholar Academic Graph Datasets\n")
    papers = root / "papers"
    papers.mkdir(parents=True, exist_ok=True)
    lines = []
    for paper in corpus.s2_papers.values():
        ext = paper.get("externalIds") or {}
        lines.append(
            {
                "corpusid": cid(paper.get("corpusId")),
                "externalids": {
                    "ACL": None, "DBLP": None, "ArXiv": ext.get("ArXiv"), "MAG": ext.get("MAG"),
                    "CorpusId": str(paper.get("corpusId")), "PubMed": None, "DOI": ext.get("DOI"),
                    "PubMedCentral": None,
                },
                "title": paper.get("title"),
                "year": paper.get("year"),
                "updated": "2024-12-01T00:00:00.000Z",
            }
        )
    (papers / "papers-part0.jsonl.gz").write_bytes(
        gzip.compress("".join(json.dumps(r) + "\n" for r in lines).encode())
    )
    return root


@contextmanager
def s3_snapshot(tmp: Path, bucket: str = "openalex") -> Iterator[str]:
    """The corpus in the real layout on a local S3 server (moto, 127.0.0.1, a free port): bucket
    `bucket` holds `data/parquet/...`, `data/jsonl/...` and `legacy-data/merged_ids/...`, each
    object public-read, as the real bucket is to anonymous readers. Yields the endpoint URL."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    local = tmp / "bucket"
    write_snapshot(local)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        # The uploader signs with made-up keys (moto checks none); readers stay anonymous.
        client = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="upload", aws_secret_access_key="upload")  # fmt: skip
        client.create_bucket(Bucket=bucket)
        for path in sorted(local.rglob("*")):
            if path.is_file():
                key = path.relative_to(local).as_posix()
                client.upload_file(str(path), bucket, key, ExtraArgs={"ACL": "public-read"})
        client.put_object(Bucket=bucket, Key="private/data/parquet/manifest.json",
                          Body=(local / "data" / "parquet" / "manifest.json").read_bytes())  # fmt: skip
        yield url
    finally:
        server.stop()


CATALOG = """
datasets:
  - key: alpha
    name: Alpha
    mentions: [Alpha dataset]
    fields_of_study: [Computer Science]
    origin_papers:
      - {title: "Alpha: the proceedings version", year: 2014, doi: 10.1000/alpha.cvpr,
         arxiv: "1409.0001", openalex: W100, s2_corpus_id: 5}
  - key: beta
    name: Beta
    mentions: [Beta dataset]
    fields_of_study: [Computer Science]
    origin_papers:
      - {title: Beta dataset, year: 2016, doi: 10.1000/beta}
"""


def write_catalog(path: Path) -> Path:
    """The catalog of the snapshot's two datasets (alpha's origin has S2 corpus id 5)."""
    path.write_text(CATALOG, encoding="utf-8")
    return path
