"""Shared fixtures: every test runs with its own data dir and config, and no real API key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.fakeapi.plugin", "tests.fault_table"]

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point data dir and config at a temporary folder; drop keys and URLs from the caller."""
    for var in (
        "TRACER_DB",
        "TRACER_CATALOG",
        "S2_API_KEY",
        "OPENALEX_API_KEY",
        "TRACER_S2_API_URL",
        "TRACER_OPENALEX_API_URL",
        "TRACER_CONTACT_EMAIL",
        "TRACER_ROR_DUMP",
        "TRACER_ROR_DUMP_URL",
        "TRACER_HTTP_TIMEOUT",
        "TRACER_HTTP_RETRIES",
        "TRACER_HTTP_DEADLINE",
        "TRACER_HTTP_MAX_MB",
        "TRACER_HTTP_BACKOFF",
        "TRACER_HTTP_BACKOFF_CAP",
        "TRACER_NO_CACHE",
        "NO_COLOR",
    ):
        monkeypatch.delenv(var, raising=False)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("TRACER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("TRACER_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TRACER_OFFLINE", "1")  # no first-use download of reference data
    return data_dir


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA.resolve()


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for every snapshot test (starting one costs most of a minute)."""
    from tracer.snapshot.spark_engine import java_available

    if not java_available():
        pytest.skip(
            "Java is absent: the Spark engine cannot run (apt-get install openjdk-17-jre-headless)"
        )
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("tracer-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
