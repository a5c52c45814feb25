"""Contexts from S2's Datasets API `citations` files (`--s2-citations`), on DuckDB and Spark, and
stored papers re-pointed when a later OpenAlex release merges their ids away."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.corpora import add_brainwash, use_catalog
from tests.helpers import run_cli
from tests.snapshot_fixtures import (
    LATER,
    URL,
    work,
    write_catalog,
    write_jsonl_snapshot,
    write_s2_datasets,
    write_snapshot,
)
from tracer.errors import DataError
from tracer.snapshot.s2_citations import find_shards, parse_row, read_s2_citations

ORIGIN = 206593654  # Brainwash's CorpusId in tests.corpora



def levels(db: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """DOI -> (usage level, the sentences shown as evidence) of every Brainwash paper."""
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT p.doi, d.level, d.evidence FROM dataset_papers d JOIN papers p ON p.id = d.paper_id"
        " WHERE d.dataset = 'brainwash'"
    ).fetchall()
    conn.close()
    return {doi: (level, tuple(e["text"] for e in json.loads(ev))) for doi, level, ev in rows}


def test_rows_in_every_layout_the_files_have_come_in() -> None:
    # Ids as numbers or strings; intents per context, or one list for the citation.
    row = parse_row(5, "7", True, '["a [1]", "b [1]"]', '[["methodology"], ["background"]]')
    assert row is not None
    assert [(p.text, p.intents) for p in row.passages()] == [
        ("a [1]", ["methodology"]), ("b [1]", ["background"])]
    row = parse_row("5", 7, None, '["a [1]", "b [1]"]', '["methodology", "background"]')
    assert row is not None and row.is_influential is None
    assert [p.intents for p in row.passages()] == [["methodology", "background"]] * 2
    row = parse_row("5", "7", False, None, None)
    assert row is not None and row.passages() == []
    assert parse_row("5", None, False, None, None) is None  # an unmatched reference


def test_shards_are_found_in_a_release_folder_a_shard_folder_or_a_glob(tmp_path: Path) -> None:
    release = tmp_path / "deleted-things" / "2025-02-04"  # a "delete" above PATH is no matter
    line = b'{"citingcorpusid": 1, "citedcorpusid": 5, "contexts": ["Alpha [5]."]}\n'
    for rel in ("citations/a1b2c3", "citations/part-1.jsonl", "citations/deletes/x9",
                "papers/p0"):
        (release / rel).parent.mkdir(parents=True, exist_ok=True)
        (release / rel).write_bytes(line if rel.endswith(".jsonl") else gzip.compress(line))
    (release / "citations" / "README.txt").write_text("about the dataset")
    for path in (release, release / "citations", str(release / "citations") + "/*"):
        shards = find_shards(str(path))
        assert sorted(p.name for p in shards.citations) == ["a1b2c3", "part-1.jsonl"]
        assert [p.name for p in shards.papers] == ["p0"] and shards.release == "2025-02-04"
    rows = read_s2_citations(find_shards(str(release)), {5: ["alpha"]}).rows
    assert [(r.citing, r.contexts) for r in rows] == [(1, ["Alpha [5]."])] * 2  # gzip and plain


@pytest.mark.parametrize(("string_ids", "per_context"), [(False, True), (True, False)])
def test_duckdb_and_spark_read_the_same_rows(
    spark: Any, tmp_path: Path, fake_api: Any, string_ids: bool, per_context: bool
) -> None:
    add_brainwash(fake_api.corpus)
    root = write_s2_datasets(tmp_path / "s2", fake_api.corpus, string_ids=string_ids,
                             per_context=per_context)
    shards = find_shards(str(root))
    assert shards.release == "2025-01-07" and len(shards.citations) == 2
    assert len(shards.papers) == 1  # the README is no shard
    stages: list[tuple[str, int, int]] = []
    on = {e: read_s2_citations(shards, {ORIGIN: ["brainwash"]}, engine=e,
                               progress=lambda *a: stages.append(a))
          for e in ("duckdb", "spark")}
    assert ("S2 citations", 2, 2) in stages and ("S2 papers", 1, 1) in stages

    def seen(result: Any) -> list[tuple[Any, ...]]:
        return sorted((r.citing, r.cited, tuple(r.contexts), tuple(map(tuple, r.intents)),
                       r.is_influential) for r in result.rows)

    assert seen(on["duckdb"]) == seen(on["spark"])
    assert {r[0] for r in seen(on["duckdb"])} == {100001, 100002, 100003}
    assert on["duckdb"].external == on["spark"].external
    assert on["duckdb"].external[100003] == {"doi": "10.5555/versions.3", "arxiv": "1901.00003"}
    assert on["duckdb"].titles == on["spark"].titles
    assert on["duckdb"].titles[100001] == ("Head detection in dense crowds", 2018)
    assert on["duckdb"].read.rows == 3
    # A later run reads only the shards it has not read.
    again = read_s2_citations(shards, {ORIGIN: ["brainwash"]},
                              skip=on["duckdb"].read.files)
    assert again.rows == [] and again.read.skipped == 2


class CountedSession:
    """The tests' Spark session as a run would start it: its stops are counted, not done."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.stops = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def stop(self) -> None:
        self.stops += 1


def test_files_give_the_usage_levels_of_an_api_scan(
    spark: Any, tmp_path: Path, fake_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Brainwash corpus: scanned through the fake S2 and OpenAlex APIs (contexts from S2's
    citations endpoint), then written as an OpenAlex snapshot and S2 citations files and scanned
    from them, on DuckDB and on Spark: the same papers, levels and evidence."""
    add_brainwash(fake_api.corpus)
    api_db = use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-test-key")
    assert run_cli("scan", "brainwash", "--no-mentions", "--quiet").code == 0
    via_api = levels(api_db)
    assert via_api["10.5555/used.1"][0] == "used"
    assert via_api["10.5555/cited.2"][0] == "cited"

    snap = write_jsonl_snapshot(
        tmp_path / "snap", list(fake_api.corpus.oa_works.values()), "2025-01-01"
    )
    s2 = write_s2_datasets(tmp_path / "s2", fake_api.corpus)
    monkeypatch.delenv("OPENALEX_API_KEY")
    fake_api.corpus.s2_papers.clear()  # the files run must not ask the S2 API for anything
    fake_api.corpus.s2_citations.clear()
    # As in a fresh `tracer scan`, no session is running: the Spark run starts one for the
    # snapshot and the S2 files together, and stops it once.
    started: list[CountedSession] = []

    def start(*args: Any, **kwargs: Any) -> CountedSession:
        started.append(CountedSession(spark))
        return started[-1]

    monkeypatch.setattr("tracer.snapshot.spark_engine.active_session", lambda: None)
    monkeypatch.setattr("tracer.snapshot.spark_engine.start_session", start)
    for engine in ("duckdb", "spark"):
        db = tmp_path / f"{engine}.db"
        run = run_cli("scan", "brainwash", "--from-snapshot", str(snap), "--s2-citations",
                      str(s2), "--engine", engine, "--db", str(db), "--json", "--quiet")
        assert run.code == 0, run.err
        payload = json.loads(run.out)
        assert payload["s2_citations"]["release"] == "2025-01-07"
        assert payload["s2_citations"]["files"] == 2 and payload["s2_citations"]["rows"] == 3
        assert payload["runs"][0]["s2_contexts"] == 3  # papers given contexts from the files
        assert levels(db) == via_api, engine

        conn = sqlite3.connect(db)
        sources = {r[0] for r in conn.execute("SELECT source FROM evidence")}
        note, total, unresolved = conn.execute(
            "SELECT note, total, unresolved FROM coverage WHERE source = 's2-citations'"
        ).fetchone()
        passages = json.loads(conn.execute(
            "SELECT e.passages FROM evidence e JOIN papers p ON p.id = e.paper_id"
            " WHERE e.source = 's2-citations' AND p.doi = '10.5555/used.1'").fetchone()[0])
        conn.close()
        assert sources == {"openalex-snapshot", "s2-citations"}
        # The join: every citing CorpusId of the files found its paper by the papers files' DOI.
        assert (total, unresolved) == (3, 0)
        assert "release 2025-01-07" in note and "3 of 3 citing papers joined" in note
        assert "3 by doi" in note
        assert passages[0]["intents"] == ["methodology"]
    assert [s.stops for s in started] == [1]
    report = run_cli("report", "brainwash", "--db", str(tmp_path / "duckdb.db"), "--json")
    assert report.code == 0 and "S2 citations files" in report.out

    # A later run reads only the shards it has not read, and loses none of what it found.
    db = tmp_path / "duckdb.db"
    run = run_cli("scan", "brainwash", "--from-snapshot", str(snap), "--s2-citations", str(s2),
                  "--db", str(db), "--json", "--quiet")
    assert run.code == 0, run.err
    again = json.loads(run.out)["s2_citations"]
    assert (again["files"], again["skipped"], again["rows"]) == (0, 2, 0)
    assert levels(db) == via_api
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM dataset_papers WHERE missing_since_run IS NOT NULL"
                        ).fetchone()[0] == 0
    conn.close()



def test_citers_of_the_files_alone_are_added_with_the_papers_files_titles(
    tmp_path: Path, fake_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A citer the S2 files have and the snapshot lacks: added with its title from S2's papers
    files and judged from its contexts; without the papers files it is counted, not stored."""
    import shutil

    add_brainwash(fake_api.corpus)
    use_catalog(tmp_path, monkeypatch)
    works = [w for w in fake_api.corpus.oa_works.values()
             if not str(w.get("doi") or "").endswith("10.5555/used.1")]
    assert len(works) == len(fake_api.corpus.oa_works) - 1
    snap = write_jsonl_snapshot(tmp_path / "snap", works, "2025-01-01")
    s2 = write_s2_datasets(tmp_path / "s2", fake_api.corpus)
    fake_api.corpus.s2_papers.clear()
    fake_api.corpus.s2_citations.clear()

    def scan(db: Path) -> tuple[str, int, int]:
        run = run_cli("scan", "brainwash", "--from-snapshot", str(snap), "--s2-citations",
                      str(s2), "--db", str(db), "--json", "--quiet")
        assert run.code == 0, run.err
        conn = sqlite3.connect(db)
        row = conn.execute("SELECT note, total, unresolved FROM coverage "
                           "WHERE source = 's2-citations'").fetchone()
        conn.close()
        return row

    note, total, unresolved = scan(tmp_path / "with-papers.db")
    assert (total, unresolved) == (3, 0)
    assert "2 of 3 citing papers joined" in note
    assert "1 not in the snapshot, added with the S2 papers files' titles" in note
    found = levels(tmp_path / "with-papers.db")
    assert found["10.5555/used.1"][0] == "used"  # judged from the files' contexts
    conn = sqlite3.connect(tmp_path / "with-papers.db")
    title, corpus = conn.execute("SELECT title, corpus_id FROM papers "
                                 "WHERE doi = '10.5555/used.1'").fetchone()
    conn.close()
    assert title == "Head detection in dense crowds" and corpus == 100001

    shutil.rmtree(s2 / "papers")
    note, total, unresolved = scan(tmp_path / "without.db")
    # Without the papers files no citing CorpusId joins (the join is by their DOIs) and none
    # has a title: all three are counted, none stored from the files.
    assert (total, unresolved) == (3, 3)
    assert "3 seen in S2 citations, not in the snapshot: not added" in note
    assert "titles are in S2's papers files" in note
    assert "10.5555/used.1" not in levels(tmp_path / "without.db")




def test_bad_citations_paths_are_one_sentence(tmp_path: Path) -> None:
    snap = write_snapshot(tmp_path / "snap")
    catalog = tmp_path / "datasets.yaml"
    write_catalog(catalog)
    base = ["scan", "alpha", "--catalog", str(catalog), "--db", str(tmp_path / "t.db")]
    run = run_cli(*base, "--from-snapshot", str(snap), "--s2-citations", str(tmp_path / "none"))
    assert run.code == 7 and "does not exist" in run.err and "Traceback" not in run.err
    empty = tmp_path / "empty" / "citations"
    empty.mkdir(parents=True)
    (empty / "README.txt").write_text("not a shard")
    run = run_cli(*base, "--from-snapshot", str(snap), "--s2-citations", str(empty.parent))
    assert run.code == 7 and "holds no S2 citations shards" in run.err
    run = run_cli(*base, "--from-snapshot", str(snap), "--s2-citations", str(tmp_path / "x*.gz"))
    assert run.code == 7 and "No S2 citations shards match" in run.err
    run = run_cli(*base, "--s2-citations", str(empty))
    assert run.code == 2 and "--from-snapshot" in run.err
    with pytest.raises(DataError, match="does not exist"):
        find_shards(str(tmp_path / "nowhere"))
    # A shard cut off in the middle of its download fails loudly, not with rows missing.
    cut = tmp_path / "cut" / "citations"
    cut.mkdir(parents=True)
    whole = gzip.compress(b'{"citingcorpusid": 1, "citedcorpusid": 5, "contexts": ["x"]}\n' * 500)
    (cut / "part0").write_bytes(whole[: len(whole) // 2])
    run = run_cli(*base, "--from-snapshot", str(snap), "--s2-citations", str(cut))
    assert run.code == 7 and "S2 citations files" in run.err and "Traceback" not in run.err


# -- merged ids re-pointed across releases ----------------------------------------------------



def _merged(tmp: Path, day: str, pairs: list[tuple[str, str]]) -> None:
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["merge_date", "id", "merge_into_id"])
    for old, new in pairs:
        out.writerow([day, URL + old, URL + new])
    path = tmp / "legacy-data" / "merged_ids" / "works" / f"{day}.csv.gz"
    path.write_bytes(gzip.compress(buf.getvalue().encode()))


def test_a_later_release_merging_stored_works_repoints_them(tmp_path: Path) -> None:
    root = write_snapshot(tmp_path / "snap")
    catalog = tmp_path / "datasets.yaml"
    write_catalog(catalog)
    db = tmp_path / "t.db"
    args = ["scan", "--all", "--from-snapshot", str(root), "--catalog", str(catalog),
            "--db", str(db), "--json", "--quiet"]
    assert run_cli(*args).code == 0

    def state() -> dict[str, Any]:
        conn = sqlite3.connect(db)
        conn.row_factory = sqlite3.Row
        papers = {r["openalex_id"]: r["id"] for r in conn.execute("SELECT * FROM papers")}
        ids = {r["value"]: r["paper_id"] for r in conn.execute(
            "SELECT * FROM paper_ids WHERE kind = 'openalex'")}
        links = sorted((r["dataset"], r["paper_id"]) for r in conn.execute(
            "SELECT * FROM dataset_papers"))
        evidence = sorted((r["dataset"], r["paper_id"], r["source"]) for r in conn.execute(
            "SELECT * FROM evidence"))
        authors = {r["paper_id"]: r["n"] for r in conn.execute(
            "SELECT paper_id, count(*) AS n FROM authorships GROUP BY paper_id")}
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        conn.close()
        return {"papers": papers, "ids": ids, "links": links, "evidence": evidence,
                "authors": authors, "fk": fk}

    first = state()
    w3001, w3002, w3003 = (first["papers"][w] for w in ("W3001", "W3002", "W3003"))
    # The second release: W3001 now lives on as W3008 (a record with another title and no DOI,
    # which alone would be stored as a new paper), W3002 was merged into the stored W3003.
    later = [work("W3008", "We train on Alpha (revised)", ["W100"], year=2019, updated=LATER)]
    write_snapshot(tmp_path / "snap", later=True, later_works=later)
    _merged(tmp_path / "snap", "2025-03-01", [("W3001", "W3008"), ("W3002", "W3003")])
    run = run_cli(*args)
    assert run.code == 0, run.err
    second = state()
    assert second["fk"] == []
    # W3001's paper carries the surviving id; the old id still finds it; no second paper.
    assert second["papers"]["W3008"] == w3001 and "W3001" not in second["papers"]
    assert second["ids"]["W3001"] == second["ids"]["W3008"] == w3001
    # W3002 and W3003 are one paper now, with both papers' links, evidence and authors.
    assert "W3002" not in second["papers"] and second["ids"]["W3002"] == w3003
    assert ("alpha", w3003) in second["links"] and ("beta", w3003) in second["links"]
    assert all(pid != w3002 for _, pid in second["links"])
    assert len(second["papers"]) == len(first["papers"]) - 1 + 1  # W3002 folded, W3007 new
    assert second["authors"][w3003] == first["authors"][w3003]
    kept = {(d, p) for d, p, _ in first["evidence"]} - {(d, w3002) for d in ("alpha", "beta")}
    assert kept <= {(d, p) for d, p, _ in second["evidence"]}
    payload = json.loads(run.out)
    assert {(r["dead"], r["survivor"], r["merged_from"]) for r in payload["repointed"]} == {
        ("W3001", "W3008", None), ("W3002", "W3003", w3002)}


def test_folding_a_merged_paper_keeps_everything(tmp_path: Path) -> None:
    """The store's side alone: two stored papers that a release says are one work."""
    from tracer.records import Author, Work
    from tracer.store import Store
    from tracer.store.snapshot_queries import repoint_merged, survivor

    assert survivor({"W1": "W2", "W2": "W3", "W9": "W9"}, "W1") == "W3"
    aff = {"raw": "NUDT, Changsha", "institution_id": None, "institution_name": "NUDT",
           "parent_id": None, "parent_name": None, "country": "CN", "sector": "military",
           "flags": [], "confidence": 0.9, "method": "ror-exact"}
    with Store(tmp_path / "t.db") as store:
        run = store.start_run("alpha", "snapshot")
        dead, _ = store.upsert_work(Work(source="openalex", title="Dead record", year=2020,
                                         openalex_id="W1"))
        alive, _ = store.upsert_work(Work(source="openalex", title="Live record", year=2020,
                                          openalex_id="W3", doi="10.5555/live"))
        store.save_authors(dead, [Author("A One", 0), Author("B Two", 1)], "openalex", 2)
        store.save_authors(alive, [Author("A One", 0)], "openalex", 2)
        with store.transaction():
            store.save_affiliations(dead, 0, [aff])
            store.save_affiliations(dead, 1, [aff])
        for pid, ctx in ((dead, "We train on Alpha [1]."), (alive, "Alpha [1] is a dataset.")):
            store.link("alpha", pid, run, None)
            store.add_evidence("alpha", pid, run, route="cites", source="s2-citations",
                               target="CorpusId:5", contexts=[ctx], intents=["methodology"],
                               passages=[{"text": ctx, "intents": ["methodology"]}])
        store.link("beta", dead, run, None)
        done = repoint_merged(store, {"W1": "W2", "W2": "W3"})
        assert [(r.dead, r.survivor, r.paper_id, r.merged_from) for r in done] == [
            ("W1", "W3", alive, dead)]
        assert store.integrity_ok()
        assert store.paper_ids(alive)["openalex"] == ["W1", "W3"]
        assert store.paper(alive)["openalex_id"] == "W3"
        assert sorted(store.dataset_paper_ids("alpha")) == [alive]
        assert store.dataset_paper_ids("beta") == [alive]
        evidence = store.evidence("alpha")
        assert len(evidence) == 1
        assert set(evidence[0]["contexts"]) == {"We train on Alpha [1].", "Alpha [1] is a dataset."}
        names = [r[0] for r in store.conn.execute(
            "SELECT name FROM authorships WHERE paper_id = ? ORDER BY position", (alive,))]
        assert names == ["A One", "B Two"]  # the longer list of the two
        assert store.conn.execute("SELECT count(*) FROM affiliations WHERE paper_id = ?",
                                  (alive,)).fetchone()[0] == 2
        assert store.conn.execute("SELECT count(*) FROM papers").fetchone()[0] == 1
        assert repoint_merged(store, {"W1": "W2", "W2": "W3"}) == []  # nothing left to do
