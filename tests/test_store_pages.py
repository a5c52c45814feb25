"""A page of works stored at once leaves the store as one work after another leaves it.

The scan hands the store whole pages (`upsert_works`, `link_many`, `save_authors_many`, ...);
the one-item methods are what the golden corpus was written with. Random pages of works that
share ids, titles (with a year apart or not) and authors, across two sources, must give the
same paper ids, the same answers and the same tables both ways.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from tracer.records import Author, Work
from tracer.store import Store

TITLES = [
    "Counting people in extremely dense crowds with deep networks",
    "COUNTING PEOPLE IN EXTREMELY DENSE CROWDS WITH DEEP NETWORKS!",
    "End-to-end people detection in crowded scenes",
    "Crowd counting",  # too short to join on
    "A survey of pedestrian detection benchmarks and methods",
    None,
]
# Columns stamped with the time of the call: equal in content, not in the clock.
STAMPS = {"created_at", "updated_at", "looked_up_at"}


def _work(rng: random.Random, source: str) -> Work:
    n = rng.randrange(12)
    return Work(
        source=source,
        title=rng.choice(TITLES),
        year=rng.choice([None, 2015, 2016, 2018]),
        venue=rng.choice([None, "", "CVPR"]),
        abstract=rng.choice([None, "We count crowds."]),
        doi=rng.choice([None, f"10.1/d{n}", f"10.48550/arXiv.1506.0{n % 5}"]),
        arxiv_id=rng.choice([None, None, f"1506.0{n % 5}"]),
        s2_paper_id=rng.choice([None, f"s{n}"]) if source == "s2" else None,
        corpus_id=rng.choice([None, n]) if source == "s2" else None,
        openalex_id=rng.choice([None, f"W{n}"]) if source == "openalex" else None,
        fields_of_study=rng.sample(["Computer Science", "Medicine", "Physics"], rng.randrange(3)),
        authors=[
            Author(name=f"A{i}", position=i,
                   raw_affiliations=rng.choice([[], ["Stanford University"]]))
            for i in range(rng.randrange(3))
        ],
        authors_truncated=rng.random() < 0.2,
    )


def _tables(db: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(db)
    try:
        out = {}
        for table in ("papers", "paper_ids", "dataset_papers", "evidence", "authorships",
                      "paper_lookups"):
            cursor = conn.execute(f"SELECT * FROM {table}")  # noqa: S608 - our table names
            keep = [i for i, d in enumerate(cursor.description) if d[0] not in STAMPS]
            out[table] = sorted(
                (tuple(row[i] for i in keep) for row in cursor), key=repr
            )
        return out
    finally:
        conn.close()


def _pages(seed: int) -> list[tuple[str, bool, list[Work]]]:
    rng = random.Random(seed)
    pages = []
    for _ in range(6):
        source = rng.choice(["s2", "openalex"])
        pages.append((source, source == "s2", [_work(rng, source) for _ in range(rng.randrange(1, 15))]))
    return pages


def _copy(work: Work) -> Work:
    return Work(**{**vars(work), "authors": list(work.authors),
                   "fields_of_study": list(work.fields_of_study)})


@pytest.mark.parametrize("seed", range(40))
def test_a_page_at_once_is_one_work_after_another(tmp_path: Path, seed: int) -> None:
    pages = _pages(seed)
    answers: dict[str, list[object]] = {"one": [], "page": []}
    for way in ("one", "page"):
        with Store(tmp_path / f"{way}.db") as store:
            run = store.start_run("brainwash", "scan")
            for source, prefer, works in pages:
                works = [_copy(w) for w in works]
                rank = 2 if source == "openalex" else 1
                if way == "one":
                    for work in works:
                        pid, new = store.upsert_work(work, prefer_title=prefer)
                        fresh = store.link("brainwash", pid, run, None)
                        store.add_evidence("brainwash", pid, run, route="cites", source=source,
                                           target="W0", contexts=["We use it."])
                        if work.authors:
                            store.save_authors(pid, work.authors, source, rank)
                        store.mark_looked_up(pid, source, truncated=work.authors_truncated)
                        answers[way].append((pid, new, fresh))
                    continue
                rest = works
                while rest:
                    done = store.upsert_works(rest, prefer_title=prefer, until_merge=True)
                    prefix = rest[: len(done)]
                    pids = [pid for pid, _ in done]
                    fresh_all = store.link_many("brainwash", run, [(p, None) for p in pids])
                    store.add_evidence_many([
                        store.evidence_row("brainwash", p, run, route="cites", source=source,
                                           target="W0", contexts=["We use it."])
                        for p in pids
                    ])
                    store.save_authors_many(
                        [(p, w.authors) for p, w in zip(pids, prefix, strict=True) if w.authors],
                        source, rank,
                    )
                    store.mark_looked_up_many(
                        [(p, w.authors_truncated) for p, w in zip(pids, prefix, strict=True)],
                        source,
                    )
                    answers[way] += [
                        (pid, new, fresh)
                        for (pid, new), fresh in zip(done, fresh_all, strict=True)
                    ]
                    rest = rest[len(done):]
    assert answers["page"] == answers["one"]
    assert _tables(tmp_path / "page.db") == _tables(tmp_path / "one.db")


def test_pages_with_merges_are_cut_before_the_merge(tmp_path: Path) -> None:
    with Store(tmp_path / "t.db") as store:
        a, _ = store.upsert_work(Work(source="s2", title="One", doi="10.1/a"))
        b, _ = store.upsert_work(Work(source="openalex", title="Two", openalex_id="W2"))
        page = [
            Work(source="s2", title="Three", doi="10.1/c"),
            Work(source="s2", title="One", doi="10.1/a", openalex_id="W2"),  # joins a and b
            Work(source="s2", title="Four", doi="10.1/d"),
        ]
        first = store.upsert_works(page, until_merge=True)
        assert len(first) == 1 and first[0][1] is True
        rest = store.upsert_works(page[1:], until_merge=True)
        assert rest[0] == (a, False) and rest[1][1] is True
        assert store.conn.execute("SELECT count(*) FROM papers WHERE id = ?", (b,)).fetchone()[0] == 0
        # Without until_merge the whole page goes through, with the same results.
        again = store.upsert_works(page)
        assert [pid for pid, _ in again] == [first[0][0], a, rest[1][0]]


def test_the_judge_and_the_classifier_read_in_chunks_what_a_whole_read_gives(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "t.db") as store:
        run = store.start_run("brainwash", "scan")
        other = store.start_run("lfw", "scan")
        for i in range(23):
            pid, _ = store.upsert_work(Work(source="s2", title=f"Paper {i}", doi=f"10.1/{i}",
                                            abstract=None if i % 3 else "We use Brainwash."))
            # Papers of another dataset in between: inside the id ranges, never in the answer.
            store.link("lfw" if i % 4 == 1 else "brainwash", pid, other if i % 4 == 1 else run, None)
            for target in ("W1", "W0")[: 1 + i % 2]:
                store.add_evidence("brainwash", pid, run, route="cites", source="openalex",
                                   target=target, contexts=[f"We train on Brainwash {i}."])
            store.save_authors(pid, [Author(name=f"A{i}", position=p,
                                            raw_affiliations=[f"Uni {p}"]) for p in range(i % 3)],
                               "s2")
        papers = store.papers_of("brainwash")
        evidence: dict[int, list[dict[str, object]]] = {}
        for row in store.evidence("brainwash"):
            evidence.setdefault(row["paper_id"], []).append(row)
        whole = [(pid, paper, evidence.get(pid, [])) for pid, paper in papers.items()]
        assert [r[:3] for r in store.judge_inputs("brainwash", chunk=4)] == whole
        assert [r[:3] for r in store.judge_inputs("brainwash")] == whole
        # The classifier's inputs, range by range: together, those of one whole range.
        ranges = store.classify_ranges("brainwash", 4)
        assert len(ranges) > 1 and all(low <= high for low, high in ranges)
        (first, _), (_, last) = ranges[0], ranges[-1]
        whole_inputs = set(store.due_inputs("brainwash", "v1", first, last))
        assert len(whole_inputs) == 2  # "Uni 0" and "Uni 1"
        by_range = [set(store.due_inputs("brainwash", "v1", low, high)) for low, high in ranges]
        assert set().union(*by_range) == whole_inputs


def test_classifying_again_replaces_an_authorships_affiliations_and_no_others(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "t.db") as store:
        run = store.start_run("brainwash", "scan")
        pids = []
        for i in range(3):
            pid, _ = store.upsert_work(Work(source="s2", title=f"Paper {i}", doi=f"10.1/{i}"))
            store.link("brainwash", pid, run, None)
            store.save_authors(pid, [Author(name="A", position=0, raw_affiliations=["X"]),
                                     Author(name="B", position=1, raw_affiliations=["Y"])], "s2")
            pids.append(pid)
        first = Store.affiliation_rows([{"raw": "X", "sector": "academic"},
                                        {"raw": "X2", "sector": "military"}])
        store.save_affiliation_rows([(p, pos, first) for p in pids for pos in (0, 1)], "v1")
        second = Store.affiliation_rows([{"raw": "X", "sector": "commercial"}])
        store.save_affiliation_rows([(pids[1], 0, second), (pids[2], 1, ())], "v2")
        rows = store.conn.execute(
            "SELECT paper_id, position, idx, sector FROM affiliations ORDER BY 1, 2, 3"
        ).fetchall()
        expected = [(p, pos, idx, sector) for p in pids for pos in (0, 1)
                    for idx, sector in enumerate(("academic", "military"))]
        expected = [e for e in expected if e[:2] not in {(pids[1], 0), (pids[2], 1)}]
        expected.append((pids[1], 0, 0, "commercial"))
        assert [tuple(r) for r in rows] == sorted(expected)
