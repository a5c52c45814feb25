"""The snapshot read from S3: a local S3 server (moto on 127.0.0.1) holds the synthetic snapshot
in the real layout, and DuckDB reads it anonymously, through s3fs where httpfs cannot be had."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.helpers import run_cli
from tests.snapshot_fixtures import (
    DOIS,
    EXPECTED,
    ORIGINS,
    PARTITIONS,
    s3_snapshot,
    write_catalog,
)
from tracer.errors import DataError, UsageError
from tracer.snapshot import find_citers
from tracer.snapshot.s3 import ENDPOINT_ENV, VIA_ENV, enable_s3

ROOT = "s3://openalex/data"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with s3_snapshot(tmp_path_factory.mktemp("s3")) as url:
        yield url


@pytest.fixture
def via_s3fs(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(ENDPOINT_ENV, endpoint)
    monkeypatch.setenv(VIA_ENV, "fsspec")
    return endpoint


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_duckdb_finds_every_target_in_the_bucket(via_s3fs: str, fmt: str) -> None:
    result = find_citers(ROOT, ORIGINS, dois=DOIS, fmt=fmt)
    assert {c.id: c.labels for c in result.citers} == EXPECTED
    assert result.resolved == {"10.48550/arxiv.1409.0001": ["W101"]}
    # Merged ids came from the bucket's legacy-data/merged_ids/works/*.csv.gz (a glob over S3).
    assert result.merged == {"W900": "W100"}
    assert set(result.read.targets["alpha"]) == {"W100", "W101", "W900"}
    read = result.read
    assert read.manifest == f"{ROOT}/{fmt}/manifest.json"
    assert read.partitions == list(PARTITIONS) and read.records == 13
    assert all(f.startswith(f"{ROOT}/{fmt}/works/updated_date=") for f in read.files)
    by_id = {c.id: c for c in result.citers}
    assert by_id["W3005"].partition == PARTITIONS[2]
    assert by_id["W3005"].record["title"] == "The newest copy"
    assert by_id["W3005"].file.startswith("s3://openalex/")
    assert len(by_id["W3004"].work().authors) == 150


def test_the_bucket_gives_what_a_local_copy_gives(via_s3fs: str, tmp_path: Path) -> None:
    from tests.snapshot_fixtures import write_snapshot

    local = find_citers(str(write_snapshot(tmp_path / "copy")), ORIGINS, dois=DOIS)
    remote = find_citers(ROOT, ORIGINS, dois=DOIS)
    assert [(c.id, c.labels, c.partition, c.record) for c in remote.citers] == [
        (c.id, c.labels, c.partition, c.record) for c in local.citers
    ]


def test_an_incremental_run_reads_newer_partitions_from_the_bucket(via_s3fs: str) -> None:
    result = find_citers(ROOT, ORIGINS, since=PARTITIONS[1])
    assert {c.id: c.labels for c in result.citers} == {"W3005": ["alpha"], "W3006": ["alpha"]}
    assert result.read.partitions == [PARTITIONS[2]]


def test_reads_are_anonymous(via_s3fs: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Keys in the environment are not sent: an object the bucket does not make public stays shut.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "upload")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "upload")
    with pytest.raises(DataError, match="No works manifest could be read") as caught:
        find_citers("s3://openalex/private/data", ORIGINS, fmt="parquet")
    assert "Forbidden" in (caught.value.hint or "")
    assert "Traceback" not in str(caught.value) + (caught.value.hint or "")


def test_the_default_route_falls_back_to_s3fs(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENDPOINT_ENV, endpoint)
    monkeypatch.delenv(VIA_ENV, raising=False)
    con = duckdb.connect()
    try:
        httpfs_here = _httpfs_loads()
        assert enable_s3(con, ROOT) == ("httpfs" if httpfs_here else "fsspec")
    finally:
        con.close()
    assert {c.id: c.labels for c in find_citers(ROOT, ORIGINS, dois=DOIS).citers} == EXPECTED


def _httpfs_loads() -> bool:
    con = duckdb.connect()
    try:
        try:
            con.execute("LOAD httpfs")
        except duckdb.Error:
            con.execute("INSTALL httpfs")
            con.execute("LOAD httpfs")
        return True
    except duckdb.Error:
        return False
    finally:
        con.close()


def test_bad_s3_settings_are_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENDPOINT_ENV, "http://127.0.0.1:9000'; DROP TABLE x; --")
    with pytest.raises(UsageError, match="not an endpoint URL"):
        find_citers(ROOT, ORIGINS)
    monkeypatch.setenv(ENDPOINT_ENV, "http://127.0.0.1:9000")
    monkeypatch.setenv(VIA_ENV, "ftp")
    with pytest.raises(UsageError, match="not a route"):
        find_citers(ROOT, ORIGINS)
    monkeypatch.setenv(VIA_ENV, "fsspec")
    with pytest.raises(UsageError, match="bucket name"):
        find_citers("s3://", ORIGINS)


def test_cli_scans_the_bucket(via_s3fs: str, tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "datasets.yaml")
    run = run_cli("scan", "--all", "--from-snapshot", ROOT, "--catalog", str(catalog),
                  "--db", str(tmp_path / "t.db"), "--json", "--quiet")  # fmt: skip
    assert run.code == 0, run.err
    payload = json.loads(run.out)
    assert {r["dataset"]: r["found"] for r in payload["runs"]} == {"alpha": 5, "beta": 2}
    assert payload["snapshot"]["release"] == PARTITIONS[2]
