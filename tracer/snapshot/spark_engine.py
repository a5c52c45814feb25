"""The snapshot query on Spark (`--engine spark --master URL`): the same three passes as DuckDB,
as DataFrames, for a cluster. pyspark needs Java 17; without it this engine says so and stops.

Spark facts used (pyspark 3.5/4.x docs): `spark.read.json` reads JSON Lines and decompresses
`.gz` by extension (a gzip file is not splittable: one task per file, so pass one is partitioned
by file); `spark.read.parquet` splits by row group; `_metadata.file_path` names each row's file;
`to_json(struct(*), {"ignoreNullFields": "false"})` writes a row back as JSON with its nulls,
maps as objects. Pass two writes the citers' records to Parquet (`id, partition, file, record`)
under the work folder; `read_records` reads that file back with pyarrow, and the loader in
query.py turns it into Citers exactly as it does DuckDB's rows.
Not tested here: a real cluster, and S3 (Spark reads `s3a://` only with the hadoop-aws jars on
its classpath; anonymous access is `fs.s3a.aws.credentials.provider=
org.apache.hadoop.fs.s3a.AnonymousAWSCredentialsProvider`).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tracer.errors import DataError, UsageError
from tracer.snapshot.layout import Layout, SnapshotFile, is_remote, open_layout, read_merged_ids
from tracer.snapshot.query import CiterQuery, doi_forms

StageProgress = Callable[[str, int, int], None]
PARTITION = r"updated_date=(\d{4}-\d{2}-\d{2})"


def java_available() -> bool:
    return shutil.which("java") is not None


def spark_memory(limit: str | None) -> str | None:
    """'4GB' -> '4g' (Spark's spelling) for the driver's memory."""
    if not limit:
        return None
    match = re.fullmatch(r"(\d+)\s*([KMGT])i?B?", limit.strip(), re.IGNORECASE)
    if not match:
        raise UsageError(
            f"The memory limit {limit!r} is not a size Spark takes.", hint="Use e.g. 4GB."
        )
    return f"{match.group(1)}{match.group(2).lower()}"


def active_session() -> Any:
    """The Spark session already running in this process (a caller's, a notebook's), or None."""
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def start_session(
    master: str | None, memory_limit: str | None, spill_dir: str | None, *, remote: bool
) -> Any:
    """A new Spark session for a run: both readers of the run (the snapshot, the S2 files) use it."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master or "local[*]")
        .appName("tracer-snapshot")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
    )
    memory = spark_memory(memory_limit)
    if memory:
        builder = builder.config("spark.driver.memory", memory)
    if spill_dir:
        builder = builder.config("spark.local.dir", spill_dir)
    if remote:
        builder = builder.config(
            "spark.hadoop.fs.s3a.aws.credentials.provider",
            "org.apache.hadoop.fs.s3a.AnonymousAWSCredentialsProvider",
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def spark_session(
    master: str | None,
    memory_limit: str | None,
    spill_dir: str | None,
    *,
    remote: bool = False,
    session: Any = None,
) -> Iterator[Any]:
    """The run's Spark session: `session` if given, else the active one, else one started here
    and stopped at the end (starting one costs seconds to most of a minute, so a run that reads
    the snapshot and S2's files opens this once and hands it to both)."""
    if session is not None:
        yield session
        return
    if not java_available():
        raise DataError(
            "The Spark engine needs Java 17, and no `java` was found.",
            hint="Install it (apt-get install openjdk-17-jre-headless) or use --engine duckdb.",
        )
    try:
        import pyspark.sql  # noqa: F401 - only whether it is there
    except ImportError:
        raise DataError(
            "The Spark engine needs pyspark.", hint="pip install 'tracer[spark]'."
        ) from None
    existing = active_session()
    spark = existing if existing is not None else start_session(
        master, memory_limit, spill_dir, remote=remote
    )
    try:
        yield spark
    finally:
        if existing is None:
            spark.stop()


@contextmanager
def spark_engine(
    root: str,
    fmt: str | None,
    master: str | None,
    work_dir: str | None,
    memory_limit: str | None,
    spill_dir: str | None = None,
    session: Any = None,
) -> Iterator[tuple[SparkEngine, Layout, dict[str, str]]]:
    with spark_session(
        master, memory_limit, spill_dir, remote=is_remote(root), session=session
    ) as spark, _work(work_dir or spill_dir) as work:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        try:
            url_root = _s3a(root)

            def read_text(url: str) -> str:
                return "\n".join(
                    r.value for r in spark.read.text(_s3a(url), wholetext=True).collect()
                )

            layout = open_layout(url_root, fmt=fmt, reader=read_text)
            merged = (
                spark_merged_ids(spark, layout.merged_ids_files)
                if is_remote(root)
                else read_merged_ids(layout.merged_ids_files)
            )
            yield SparkEngine(spark, layout, work), layout, merged
        except (PySparkException, Py4JError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(
                f"Spark failed while reading the snapshot at {root}: {first[:300]}.",
                hint="Check the files and the Spark master; --engine duckdb reads the same "
                "snapshot.",
            ) from None


@contextmanager
def _work(parent: str | None) -> Iterator[Path]:
    """A temporary folder for the run's Parquet output, removed at the end."""
    work = Path(tempfile.mkdtemp(prefix="tracer-spark-", dir=parent))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def spark_merged_ids(spark: Any, patterns: list[str]) -> dict[str, str]:
    """Merged-id CSVs (`merge_date,id,merge_into_id`, gzip) through Spark, e.g. on S3; a
    pattern that matches nothing is skipped."""
    from pyspark.errors import PySparkException

    from tracer.snapshot.layout import short_w

    out: dict[str, str] = {}
    for pattern in patterns:
        try:
            rows = spark.read.option("header", "true").csv(_s3a(pattern)).collect()
        except PySparkException:
            continue
        for row in rows:
            old, new = short_w(row["id"]), short_w(row["merge_into_id"])
            if old and new:
                out[old] = new
    return out


def _s3a(url: str) -> str:
    return "s3a://" + url[len("s3://") :] if url.startswith("s3://") else url


class SparkEngine:
    name = "spark"

    def __init__(self, spark: Any, layout: Layout, work: Path) -> None:
        self.spark = spark
        self.layout = layout
        self.work = work

    def resolve_dois(
        self, files: list[SnapshotFile], dois: list[str], progress: StageProgress
    ) -> dict[str, list[str]]:
        from pyspark.sql import functions as F  # noqa: N812 - pyspark's own convention

        from tracer.snapshot.layout import short_w

        forms = doi_forms(dois)
        if not forms or not files:
            return {}
        progress("DOIs", 0, len(files))
        table = self.spark.createDataFrame(list(forms.items()), "form string, bare string")
        df = self._frame(files, ["id", "doi"])
        rows = (
            df.join(F.broadcast(table), F.lower(F.col("doi")) == F.col("form"))
            .select("id", "bare")
            .distinct()
            .collect()
        )
        progress("DOIs", len(files), len(files))
        found: dict[str, set[str]] = {}
        for row in rows:
            found.setdefault(row["bare"], set()).add(short_w(row["id"]) or row["id"])
        return {k: sorted(v) for k, v in found.items()}

    def find_hits(
        self, files: list[SnapshotFile], query: CiterQuery, progress: StageProgress
    ) -> list[tuple[str, str, str, str]]:
        from pyspark.sql import functions as F  # noqa: N812

        if not files:
            return []
        progress("citations", 0, len(files))
        targets = self.spark.createDataFrame(query.rows(), "ref string, label string")
        df = self._frame(files, ["id", "referenced_works"])
        rows = (
            df.select("id", F.explode("referenced_works").alias("ref"), "file")
            .join(F.broadcast(targets), "ref")
            .select("id", "label", "file")
            .distinct()
            .collect()
        )
        progress("citations", len(files), len(files))
        urls = _url_map(files)
        out = []
        for row in rows:
            url = urls.get(_key(row["file"]), row["file"])
            match = re.search(PARTITION, url)
            out.append((row["id"], row["label"], match.group(1) if match else "", url))
        return out

    def read_records(
        self, files: list[SnapshotFile], ids: list[str], progress: StageProgress
    ) -> Iterator[tuple[str, str, str]]:
        import pyarrow.parquet as pq
        from pyspark.sql import functions as F  # noqa: N812

        if not files or not ids:
            return
        progress("records", 0, len(files))
        forms = sorted({i for w in ids for i in (w, "https://openalex.org/" + w)})
        wanted = self.spark.createDataFrame([(i,) for i in forms], "wanted string")
        paths = [_s3a(f.url) for f in files]
        if self.layout.format == "jsonl":
            lines = self.spark.read.text(paths).select(
                F.get_json_object("value", "$.id").alias("id"),
                F.col("_metadata.file_path").alias("file"),
                F.col("value").alias("record"),
            )
        else:
            raw = self.spark.read.parquet(*paths)
            lines = raw.select(
                F.col("id"),
                F.col("_metadata.file_path").alias("file"),
                F.to_json(
                    F.struct(*[F.col(c) for c in raw.columns]), {"ignoreNullFields": "false"}
                ).alias("record"),
            )
        out = str(self.work / "citers.parquet")
        (
            lines.join(F.broadcast(wanted), F.col("id") == F.col("wanted"))
            .select(
                "id", F.regexp_extract("file", PARTITION, 1).alias("partition"), "file", "record"
            )
            .write.mode("overwrite")
            .parquet(out)
        )
        progress("records", len(files), len(files))
        table = pq.read_table(out)
        yield from zip(
            table.column("id").to_pylist(),
            table.column("partition").to_pylist(),
            table.column("record").to_pylist(),
            strict=True,
        )

    def _frame(self, files: list[SnapshotFile], columns: list[str]) -> Any:
        """`columns` of `files` (projection) plus each row's file; references always a list."""
        from pyspark.sql import functions as F  # noqa: N812
        from pyspark.sql.types import ArrayType, StringType

        paths = [_s3a(f.url) for f in files]
        if self.layout.format == "jsonl":
            schema = ", ".join(
                f"{c} {'ARRAY<STRING>' if c == 'referenced_works' else 'STRING'}" for c in columns
            )
            df = self.spark.read.schema(schema).json(paths)
        else:
            df = self.spark.read.parquet(*paths)
        df = df.select(*columns, F.col("_metadata.file_path").alias("file"))
        if "referenced_works" in columns and isinstance(
            df.schema["referenced_works"].dataType, StringType
        ):
            df = df.withColumn(
                "referenced_works", F.from_json("referenced_works", ArrayType(StringType()))
            )
        return df


def _local(path: str) -> str:
    """Spark's 'file:/tmp/x' or 'file:///tmp/x' -> '/tmp/x'; other URLs as they are."""
    if path.startswith("file:"):
        path = unquote(path[len("file:") :])
        while path.startswith("//"):
            path = path[1:]
    return path


def _key(path: str) -> str:
    local = _local(path)
    return local if is_remote(local) else str(Path(local).resolve())


def _url_map(files: list[SnapshotFile]) -> dict[str, str]:
    return {_key(_s3a(f.url)): f.url for f in files}
