"""A ROR index built once per test session from ../shared/data's partial dump."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tracer.affiliations.gazetteer import Gazetteer, cache_path

DUMP = (SHARED_DATA / "ror" / "ror-data-partial_schema_v2.zip").resolve()


# Each test module imports the fixture, which makes it one fixture per module for pytest: the
# index itself is built once per process here.
_BUILT: list[tuple[Gazetteer, Path]] = []


@pytest.fixture(scope="session")
def ror_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Gazetteer, Path]:
    """The gazetteer and the pickle it was saved to (skip when the dump is absent)."""
    if not DUMP.exists():
        pytest.skip("../shared/data/ror is absent")
    if not _BUILT:
        gaz = Gazetteer.from_dump(DUMP)
        path = tmp_path_factory.mktemp("ror") / "index.pickle"
        gaz.save(path)
        _BUILT.append((gaz, path))
    return _BUILT[0]


def seed_cache(data_dir: Path, index_file: Path) -> None:
    """Put the session's index where Classifier.load looks for TRACER_ROR_DUMP's cache, so a
    CLI test does not rebuild it."""
    target = cache_path(data_dir, DUMP)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(index_file, target)
