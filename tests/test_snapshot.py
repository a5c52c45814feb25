"""The OpenAlex snapshot reader: a synthetic snapshot in the real layout, scanned with DuckDB and
Spark (local mode), stored as a scan stores OpenAlex citers, and driven from the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli
from tests.snapshot_fixtures import (
    DOIS,
    EXPECTED,
    HOSTILE_TITLE,
    LATER,
    ORIGINS,
    PARTITIONS,
    write_catalog,
    write_snapshot,
)
from tracer.errors import DataError, UsageError
from tracer.snapshot import SnapshotResult, find_citers
from tracer.snapshot.layout import open_layout


def found(result: SnapshotResult) -> dict[str, list[str]]:
    return {c.id: c.labels for c in result.citers}


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    return write_snapshot(tmp_path / "snap")


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
@pytest.mark.parametrize("nested", ["struct", "json"])
def test_duckdb_finds_every_target_in_one_pass(tmp_path: Path, fmt: str, nested: str) -> None:
    root = write_snapshot(tmp_path / "snap", nested=nested)
    stages: list[tuple[str, int, int]] = []
    result = find_citers(
        str(root), ORIGINS, dois=DOIS, fmt=fmt, progress=lambda *a: stages.append(a)
    )
    assert found(result) == EXPECTED
    # The preprint was found by its DOI; the merged-away W900 counts as alpha's proceedings.
    assert result.resolved == {"10.48550/arxiv.1409.0001": ["W101"]}
    assert set(result.read.targets["alpha"]) == {"W100", "W101", "W900"}
    by_id = {c.id: c for c in result.citers}
    # The newest copy of W3005 wins (it no longer cites beta).
    assert by_id["W3005"].partition == PARTITIONS[2]
    assert by_id["W3005"].record["title"] == "The newest copy"
    hostile = by_id["W3003"].work()
    assert hostile.title == HOSTILE_TITLE
    assert hostile.abstract == "Experiments on Alpha and Beta"
    assert len(by_id["W3004"].work().authors) == 150
    author = by_id["W3001"].work().authors[0]
    assert author.institutions[0].ror == "05d2yfz11"
    assert author.raw_affiliations == [
        "College of Computer, National University of Defense Technology, Changsha"
    ]
    assert ("citations", 3, 3) in stages
    read = result.read
    assert (read.format, read.release, read.newest_partition) == (fmt, PARTITIONS[2], PARTITIONS[2])
    assert read.partitions == list(PARTITIONS) and len(read.files) == 3
    assert read.records == 13 and read.merged_ids == 1
    assert read.manifest and read.manifest.endswith(f"{fmt}/manifest.json")


def test_parquet_is_preferred_and_folders_are_listed_without_manifest(snapshot: Path) -> None:
    assert open_layout(str(snapshot)).format == "parquet"
    (snapshot / "parquet" / "manifest.json").unlink()
    layout = open_layout(str(snapshot / "parquet"))
    assert layout.manifest is None and len(layout.files) == 3
    assert found(find_citers(str(snapshot), ORIGINS, dois=DOIS)) == EXPECTED


def test_remote_layout_comes_from_the_manifest(snapshot: Path) -> None:
    asked: list[str] = []

    def reader(url: str) -> str:  # stands in for DuckDB's read_text over httpfs
        asked.append(url)
        if url == "s3://openalex/data/parquet/manifest.json":
            return (snapshot / "parquet" / "manifest.json").read_text()
        raise OSError("not there")

    layout = open_layout("s3://openalex/data/", reader=reader)
    assert asked == ["s3://openalex/data/parquet/manifest.json"]
    assert layout.format == "parquet" and layout.release == PARTITIONS[2]
    assert [f.url for f in layout.files][0] == (
        f"s3://openalex/data/parquet/works/updated_date={PARTITIONS[0]}/part_0000.parquet"
    )
    assert layout.merged_ids_files[1] == "s3://openalex/legacy-data/merged_ids/works/*.csv.gz"
    with pytest.raises(DataError, match="No works manifest"):
        open_layout("s3://openalex/data", fmt="jsonl", reader=reader)


def test_incremental_run_reads_only_newer_partitions(tmp_path: Path) -> None:
    first = find_citers(str(write_snapshot(tmp_path / "s")), ORIGINS, dois=DOIS)
    root = write_snapshot(tmp_path / "s", later=True)
    second = find_citers(str(root), ORIGINS, since=first.read.newest_partition)
    assert found(second) == {"W3007": ["beta"]}
    assert second.read.partitions == [LATER] and second.read.newest_partition == LATER
    third = find_citers(str(root), ORIGINS, since=LATER)
    assert third.citers == [] and third.read.files == [] and third.read.newest_partition == LATER


def test_memory_limit_and_spill_folder(snapshot: Path, tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    result = find_citers(
        str(snapshot), ORIGINS, dois=DOIS, memory_limit="256MB", spill_dir=str(spill), threads=1
    )
    assert found(result) == EXPECTED


def test_bad_input_is_one_clear_error(tmp_path: Path, snapshot: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        find_citers(str(tmp_path / "nowhere"), ORIGINS)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="No OpenAlex works files"):
        find_citers(str(tmp_path / "empty"), ORIGINS)
    with pytest.raises(UsageError, match="not a size"):
        find_citers(str(snapshot), ORIGINS, memory_limit="4GB'; DROP")
    with pytest.raises(UsageError, match="not YYYY-MM-DD"):
        find_citers(str(snapshot), ORIGINS, since="2025'; --")
    with pytest.raises(UsageError, match="Unknown snapshot engine"):
        find_citers(str(snapshot), ORIGINS, engine="hadoop")
    gone = snapshot / "jsonl" / "works" / f"updated_date={PARTITIONS[0]}" / "part_0000.gz"
    gone.unlink()
    with pytest.raises(DataError, match="1 of the 3 works files"):
        find_citers(str(snapshot), ORIGINS, fmt="jsonl")
    broken = snapshot / "parquet" / "works" / f"updated_date={PARTITIONS[1]}" / "part_0000.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="DuckDB failed"):
        find_citers(str(snapshot), ORIGINS)


def test_spark_without_java_says_so(snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tracer.snapshot.spark_engine.shutil.which", lambda name: None)
    with pytest.raises(DataError, match="needs Java 17"):
        find_citers(str(snapshot), ORIGINS, engine="spark")


# -- Spark, local mode --------------------------------------------------------------------------



@pytest.mark.parametrize(
    ("fmt", "nested"), [("parquet", "struct"), ("parquet", "json"), ("jsonl", "struct")]
)
def test_spark_gives_the_same_results_as_duckdb(
    spark: Any, tmp_path: Path, fmt: str, nested: str
) -> None:
    root = str(write_snapshot(tmp_path / "snap", nested=nested))
    on_spark = find_citers(
        root, ORIGINS, dois=DOIS, fmt=fmt, engine="spark", work_dir=str(tmp_path)
    )
    on_duckdb = find_citers(root, ORIGINS, dois=DOIS, fmt=fmt)
    assert found(on_spark) == EXPECTED
    assert on_spark.resolved == on_duckdb.resolved
    assert [(c.id, c.labels, c.partition, c.file, c.record) for c in on_spark.citers] == [
        (c.id, c.labels, c.partition, c.file, c.record) for c in on_duckdb.citers
    ]
    assert on_spark.read.engine == "spark"
    assert {**on_spark.read.to_dict(), "engine": ""} == {**on_duckdb.read.to_dict(), "engine": ""}


def test_spark_incremental_and_its_errors(spark: Any, tmp_path: Path) -> None:
    root = write_snapshot(tmp_path / "s", later=True)
    result = find_citers(str(root), ORIGINS, since=PARTITIONS[2], engine="spark")
    assert found(result) == {"W3007": ["beta"]}
    broken = root / "parquet" / "works" / f"updated_date={LATER}" / "part_0000.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="Spark failed"):
        find_citers(str(root), ORIGINS, since=PARTITIONS[2], engine="spark")
    assert spark.range(1).count() == 1  # the caller's session is left running
    # Merged ids as Spark reads them where the snapshot is remote (here: the local files).
    from tracer.snapshot.spark_engine import spark_merged_ids

    folder = tmp_path / "s" / "legacy-data" / "merged_ids" / "works"
    assert spark_merged_ids(spark, [str(folder / "*.csv.gz"), str(tmp_path / "none/*.csv.gz")]) == {
        "W900": "W100"
    }


# -- into the store, and from the CLI -------------------------------------------------------------



def test_cli_scans_every_dataset_from_the_snapshot_into_the_store(tmp_path: Path) -> None:
    root = write_snapshot(tmp_path / "snap")
    catalog = tmp_path / "datasets.yaml"
    write_catalog(catalog)
    db = tmp_path / "t.db"
    args = [
        "scan",
        "--all",
        "--from-snapshot",
        str(root),
        "--catalog",
        str(catalog),
        "--db",
        str(db),
    ]
    run = run_cli(*args, "--json", "--quiet")
    assert run.code == 0, run.err
    payload = json.loads(run.out)
    assert {r["dataset"]: r["found"] for r in payload["runs"]} == {"alpha": 5, "beta": 2}
    assert payload["snapshot"]["release"] == PARTITIONS[2]

    from tracer.store import Store

    with Store(db) as store:
        alpha = {store.paper(i)["openalex_id"] for i in store.dataset_paper_ids("alpha")}
        assert alpha == {k for k, v in EXPECTED.items() if "alpha" in v}
        evidence = store.evidence("alpha")
        assert {(e["route"], e["source"]) for e in evidence} == {("cites", "openalex-snapshot")}
        coverage = store.coverage("alpha")
        assert coverage[0]["source"] == "openalex-snapshot"
        assert "release 2025-01-15" in coverage[0]["note"]
        runs = store.runs("alpha")
        assert runs[-1]["kind"] == "snapshot" and runs[-1]["status"] == "ok"
        assert runs[-1]["stats"]["levels"]  # judged

    # A second run after a new partition reads only that partition and keeps what it had.
    write_snapshot(tmp_path / "snap", later=True)
    run = run_cli(*args, "--json", "--quiet")
    assert run.code == 0, run.err
    payload = json.loads(run.out)
    assert payload["snapshot"]["since"] == PARTITIONS[2]
    assert payload["snapshot"]["files"] == 1
    assert {r["dataset"]: r["found"] for r in payload["runs"]} == {"alpha": 0, "beta": 1}
    with Store(db) as store:
        assert len(store.dataset_paper_ids("alpha")) == 5
        assert len(store.dataset_paper_ids("beta")) == 3
        beta = store.coverage("beta")[0]
        # This run's read: the newer partitions only, a filtered read that marks nothing
        # missing; the store keeps the earlier finds.
        assert (beta["fetched"], beta["filters"]) == (1, {"partitions_after": PARTITIONS[2]})
        assert "partitions after 2025-01-15" in beta["note"]


def test_cli_affiliations_and_flags_from_the_snapshot(tmp_path: Path) -> None:
    root = write_snapshot(tmp_path / "snap")
    catalog = tmp_path / "datasets.yaml"
    write_catalog(catalog)
    db = tmp_path / "t.db"
    run = run_cli("scan", "alpha", "--from-snapshot", str(root), "--catalog", str(catalog),
                  "--db", str(db), "--quiet")  # fmt: skip
    assert run.code == 0, run.err
    assert "National University of Defense Technology" in run.out
    report = run_cli("report", "alpha", "--catalog", str(catalog), "--db", str(db), "--json")
    assert report.code == 0, report.err
    assert "CN" in report.out and "W3001" in report.out


def test_cli_bad_snapshot_options(tmp_path: Path, snapshot: Path) -> None:
    catalog = tmp_path / "datasets.yaml"
    write_catalog(catalog)
    base = ["--catalog", str(catalog), "--db", str(tmp_path / "t.db")]
    run = run_cli("scan", "--all", *base)
    assert run.code == 2 and "--from-snapshot" in run.err
    run = run_cli("scan", "alpha", "--all", "--from-snapshot", str(snapshot), *base)
    assert run.code == 2 and "not both" in run.err
    run = run_cli("scan", "--all", "--from-snapshot", str(tmp_path / "none"), *base)
    assert run.code == 7 and "does not exist" in run.err
    assert "Traceback" not in run.err


def test_cli_since_keeps_recent_works_only(tmp_path: Path) -> None:
    root = write_snapshot(tmp_path / "snap")
    catalog = tmp_path / "datasets.yaml"
    write_catalog(catalog)
    run = run_cli("scan", "alpha", "--since", "2021", "--from-snapshot", str(root),
                  "--catalog", str(catalog), "--db", str(tmp_path / "t.db"), "--json", "--quiet")  # fmt: skip
    assert run.code == 0, run.err
    assert json.loads(run.out)["runs"][0]["found"] == 3  # W3002 (2021), W3003 (2022), W3006 (2023)


def test_benchmark_runs_and_agrees_with_brute_force(tmp_path: Path) -> None:
    from benchmarks import snapshot as bench

    out = tmp_path / "bench.json"
    args = ["--works", "6000", "--per-file", "2000", "--labels", "10", "--engines", "duckdb",
            "--cache", str(tmp_path / "cache"), "--json", str(out),
            "--rounds", "1", "--hit-rates", "100"]  # fmt: skip
    assert bench.main(args) == 0
    saved = json.loads(out.read_text())
    # Every way of the profile finds the brute-force citers, at both hit rates.
    assert all(r["equal"] is not False for r in saved["profile"]["ways"])
    assert saved["profile"]["by_rate"] and all(r["equal"] for r in saved["profile"]["by_rate"])
    result = saved["results"][0]
    assert result["sample_ok"] and result["sample_hits"] > 0
    assert result["labels_found"] == 10
    assert result["stages"]["citations"]["wall_s"] > 0


def test_api_and_snapshot_give_the_same_papers_affiliations_and_flags(
    tmp_path: Path, fake_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Brainwash-like corpus served by the fake OpenAlex API and written as a snapshot."""
    import sqlite3

    from tests.corpora import add_brainwash, use_catalog
    from tests.snapshot_fixtures import write_jsonl_snapshot

    add_brainwash(fake_api.corpus)
    api_db = use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-test-key")
    assert run_cli("scan", "brainwash", "--no-mentions", "--quiet").code == 0
    root = write_jsonl_snapshot(
        tmp_path / "snap", list(fake_api.corpus.oa_works.values()), "2025-01-01"
    )
    snap_db = tmp_path / "snapshot.db"
    run = run_cli(
        "scan", "brainwash", "--from-snapshot", str(root), "--db", str(snap_db), "--quiet"
    )
    assert run.code == 0, run.err

    def seen(db: Path, source: str) -> dict[str, list[tuple[Any, ...]]]:
        conn = sqlite3.connect(db)
        rows = conn.execute(
            "SELECT p.doi, a.position, a.raw, a.institution_name, a.country, a.sector, a.flags FROM papers p"
            " JOIN evidence e ON e.paper_id = p.id LEFT JOIN affiliations a ON a.paper_id = p.id"
            " WHERE e.source = ? ORDER BY 1, 2, 3, 4",
            (source,),
        ).fetchall()
        conn.close()
        out: dict[str, list[tuple[Any, ...]]] = {}
        for doi, *rest in rows:
            out.setdefault(doi, []).append(tuple(rest))
        return out

    via_api, via_snapshot = seen(api_db, "openalex"), seen(snap_db, "openalex-snapshot")
    assert via_api and via_snapshot == via_api
    assert any("us-entity-list" in str(a) for rows in via_snapshot.values() for a in rows)
