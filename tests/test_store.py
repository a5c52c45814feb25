"""The store: merging versions of one work, idempotent upserts, nothing lost."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from tracer.errors import DataError
from tracer.records import Author, SourceInstitution, Work
from tracer.store import Store
from tracer.store.schema import MIGRATIONS


def s2_work() -> Work:
    return Work(
        source="s2",
        title="End-to-End People Detection in Crowded Scenes",
        year=2016,
        doi="10.1109/CVPR.2016.255",
        arxiv_id="1506.04878",
        s2_paper_id="abc123",
        corpus_id=206593654,
    )


def test_arxiv_and_proceedings_versions_in_openalex_join_the_s2_record(tmp_path: Path) -> None:
    with Store(tmp_path / "t.db") as store:
        s2_id, new = store.upsert_work(s2_work())
        assert new
        preprint = Work(
            source="openalex",
            title="End-to-end people detection in crowded scenes",
            year=2015,
            doi="https://doi.org/10.48550/arXiv.1506.04878",
            openalex_id="https://openalex.org/W1",
        )
        published = Work(
            source="openalex",
            title="End-to-end people detection in crowded scenes",
            year=2016,
            doi="10.1109/cvpr.2016.255",
            openalex_id="W2",
        )
        assert store.upsert_work(preprint) == (s2_id, False)
        assert store.upsert_work(published) == (s2_id, False)
        ids = store.paper_ids(s2_id)
        assert ids["openalex"] == ["W1", "W2"]
        assert ids["arxiv"] == ["1506.04878"]
        assert ids["doi"] == ["10.1109/cvpr.2016.255"]
        assert store.conn.execute("SELECT count(*) FROM papers").fetchone()[0] == 1


def test_title_and_year_join_a_preprint_without_shared_ids(tmp_path: Path) -> None:
    with Store(tmp_path / "t.db") as store:
        first, _ = store.upsert_work(
            Work(
                source="openalex",
                title="Deep people counting in extremely dense crowds",
                year=2015,
                openalex_id="W9",
            )
        )
        second, new = store.upsert_work(
            Work(
                source="s2",
                title="Deep People Counting in Extremely Dense Crowds.",
                year=2016,
                s2_paper_id="x",
            )
        )
        assert (second, new) == (first, False)
        other, new = store.upsert_work(
            Work(
                source="s2",
                title="Deep people counting in extremely dense crowds",
                year=2020,
                s2_paper_id="y",
            )
        )
        assert new and other != first


def test_two_records_found_to_be_one_work_are_merged(tmp_path: Path) -> None:
    with Store(tmp_path / "t.db") as store:
        run = store.start_run("brainwash", "scan")
        a, _ = store.upsert_work(
            Work(source="openalex", title="Paper A version one", doi="10.1/a", openalex_id="W1")
        )
        b, _ = store.upsert_work(
            Work(
                source="openalex",
                title="Paper A version two",
                arxiv_id="2001.00001",
                openalex_id="W2",
            )
        )
        store.link("brainwash", b, run, None)
        store.add_evidence("brainwash", b, run, route="cites", source="openalex", target="W0")
        merged, new = store.upsert_work(
            Work(source="s2", title="Paper A", doi="10.1/a", arxiv_id="2001.00001", s2_paper_id="s")
        )
        assert not new and merged == a
        assert store.dataset_paper_ids("brainwash") == [a]
        assert [e["paper_id"] for e in store.evidence("brainwash")] == [a]
        assert set(store.paper_ids(a)["openalex"]) == {"W1", "W2"}
        assert store.integrity_ok()


def test_upserts_are_idempotent_and_never_erase(tmp_path: Path) -> None:
    with Store(tmp_path / "t.db") as store:
        run = store.start_run("brainwash", "scan")
        pid, _ = store.upsert_work(s2_work())
        store.upsert_work(Work(source="s2", s2_paper_id="abc123", title=None, year=None))
        paper = store.paper(pid)
        assert paper["year"] == 2016 and paper["title"].startswith("End-to-End")
        assert store.link("brainwash", pid, run, None) is True
        assert store.link("brainwash", pid, run, None) is True  # still new in the run that found it
        later = store.start_run("brainwash", "scan")
        assert store.link("brainwash", pid, later, None) is False
        for _ in range(2):
            store.add_evidence(
                "brainwash",
                pid,
                run,
                route="cites",
                source="s2",
                target="c",
                contexts=["We train on Brainwash."],
                intents=["methodology"],
            )
        assert len(store.evidence("brainwash")) == 1


def read_in_full(store: Store, run: int, target: str, filters: dict[str, int] | None = None) -> None:
    store.set_coverage(
        "brainwash", run, source="s2", route="cites", target=target, fetched=1, total=1,
        capped=False, note=None, filters=filters, complete=True,
    )


def test_a_paper_no_longer_found_is_marked_not_deleted(tmp_path: Path) -> None:
    with Store(tmp_path / "t.db") as store:
        first = store.start_run("brainwash", "scan")
        pid, _ = store.upsert_work(s2_work())
        store.link("brainwash", pid, first, None)
        store.add_evidence("brainwash", pid, first, route="cites", source="s2", target="c")
        second = store.start_run("brainwash", "scan")
        read_in_full(store, second, "c", {"since": 2020})
        assert store.mark_missing("brainwash", second) == 0  # a filtered read proves nothing
        read_in_full(store, second, "other-list")
        assert store.mark_missing("brainwash", second) == 0  # its own list was not re-read
        read_in_full(store, second, "c")
        assert store.mark_missing("brainwash", second) == 1
        assert store.dataset_paper_ids("brainwash") == [pid]
        store.link("brainwash", pid, store.start_run("brainwash", "scan"), None)
        row = store.conn.execute("SELECT missing_since_run FROM dataset_papers").fetchone()
        assert row[0] is None


def test_openalex_authorships_replace_s2_ones_but_not_the_reverse(tmp_path: Path) -> None:
    with Store(tmp_path / "t.db") as store:
        pid, _ = store.upsert_work(s2_work())
        store.save_authors(pid, [Author(name="R. Stewart", s2_author_id="1")], "s2", 1)
        inst = SourceInstitution(
            openalex_id="I97018004",
            ror="00f54p054",
            display_name="Stanford University",
            country_code="US",
            type="education",
        )
        store.save_authors(
            pid, [Author(name="Russell Stewart", institutions=[inst])], "openalex", 2
        )
        store.save_authors(pid, [Author(name="R. Stewart", raw_affiliations=["Stanford"])], "s2", 1)
        rows = store.conn.execute("SELECT name, institutions FROM authorships").fetchall()
        assert [r["name"] for r in rows] == ["Russell Stewart"]
        assert "Stanford University" in rows[0]["institutions"]


def test_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DataError) as info:
        Store(path)
    assert str(path) in info.value.message and info.value.hint


def test_schema_is_recorded(tmp_path: Path) -> None:
    with Store(tmp_path / "t.db") as store:
        assert store.schema_version() >= 1
    with Store(tmp_path / "t.db") as store:  # reopening runs nothing twice
        assert store.conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] >= 1


def test_a_run_whose_process_died_is_marked_interrupted(tmp_path: Path) -> None:
    with Store(tmp_path / "t.db") as store:
        dead = store.start_run("brainwash", "scan")
        # A process id that cannot be alive: the run was left behind by a killed process.
        store.conn.execute("UPDATE runs SET pid = 2147483647 WHERE id = ?", (dead,))
        live = store.start_run("brainwash", "scan")
        status = dict(store.conn.execute("SELECT id, status FROM runs").fetchall())
        assert status == {dead: "interrupted", live: "running"}


def test_a_new_database_another_process_is_writing_is_waited_for(tmp_path: Path) -> None:
    """Two first runs on a new database (a cron job and a user): while one holds the write lock
    of the still rollback-mode file, the other waits for it instead of failing at once with
    'database is locked' (SQLite's switch to write-ahead logging ignores its busy timeout)."""
    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE other_run (x INTEGER)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO other_run VALUES (1)")
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    try:
        with Store(path) as store:
            assert store.schema_version() == max(v for v, _, _ in MIGRATIONS)
            assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        release.join()
        other.close()
