"""The batched merge and the in-SQLite classification leave the very database that storing one
work at a time and writing one authorship at a time leaves.

A seeded synthetic corpus (a few hundred citers and a companion) is scanned, grown, refreshed
and rejudged twice through the fake API: once as tracer does it, once with `Store.upsert_works`
replaced by a reference that asks the store about each work with its own queries
(`find_paper`, an INSERT or an UPDATE per work, an INSERT OR IGNORE per id) and with
`Scanner._classify` replaced by one that reads every authorship and writes its rows one by one.
Every table is then compared row for row, in rowid order (so ids and insertion order too;
paper_ids by key), the columns that hold the run's time or process aside.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from benchmarks.synthetic import Shape, Synthetic, catalog
from tests import golden
from tests.fakeapi.server import FakeApi
from tracer.merge import canonical_ids, id_keys, normalize_title
from tracer.records import Author, SourceInstitution, Work
from tracer.scan import Scanner
from tracer.store import Store, dumps, now

CITERS = 300
# A page's ids have been written in key order (for the index's sake) since pages were
# batched, one work's in its own order before: compared by key, the rest in rowid order.
KEY_ORDER = {"paper_ids": "kind, value"}


def reference_upsert_works(
    self: Store, works: Sequence[Work], *, prefer_title: bool = False, until_merge: bool = False
) -> list[tuple[int, bool]]:
    """One work after another, each looked up and written with its own statements."""
    out: list[tuple[int, bool]] = []
    with self.transaction():
        for i, work in enumerate(works):
            canonical_ids(work)
            matches = self.find_paper(work)
            if len(matches) > 1 and until_merge and i > 0:
                break
            stamp = now()
            if matches:
                paper_id, new = matches[0], False
                for other in matches[1:]:
                    self._merge_papers(paper_id, other)
                self._fill(paper_id, work, stamp, prefer_title)
            else:
                cursor = self.conn.execute(
                    "INSERT INTO papers (title, norm_title, year, publication_date, venue,"
                    " abstract, doi, arxiv_id, s2_paper_id, corpus_id, openalex_id,"
                    " fields_of_study, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (work.title, normalize_title(work.title), work.year, work.publication_date,
                     work.venue, work.abstract, work.doi, work.arxiv_id, work.s2_paper_id,
                     work.corpus_id, work.openalex_id,
                     dumps(sorted(set(work.fields_of_study))), stamp, stamp),
                )
                paper_id, new = int(cursor.lastrowid or 0), True
            for kind, value in sorted(id_keys(work)):
                self.conn.execute(
                    "INSERT OR IGNORE INTO paper_ids VALUES (?, ?, ?)", (kind, value, paper_id)
                )
            out.append((paper_id, new))
    return out


def reference_classify(self: Scanner, state: Any, *, every: bool = False) -> None:
    """Every due authorship read, classified (through a memo of its input) and written."""
    version = None if every else self.classified_with
    known: dict[tuple[str, str, str], tuple[tuple[Any, ...], ...]] = {}
    due = self.store.conn.execute(
        "SELECT a.paper_id, a.position, a.name, a.raw_affiliations, a.institutions, a.countries"
        " FROM authorships a JOIN dataset_papers d ON d.paper_id = a.paper_id"
        " WHERE d.dataset = ? AND (a.classified = 0 OR a.classified_with IS NOT ?)"
        " ORDER BY a.paper_id, a.position",
        (state.dataset.key, version),
    ).fetchall()
    for batch in [due]:
        for paper_id, position, name, raw, institutions, countries in batch:
            key = (raw, institutions, countries)
            if key not in known:
                given = self.store.author_input(raw, institutions, countries)
                author = Author(
                    name=name or "", position=position,
                    raw_affiliations=given["raw_affiliations"],
                    institutions=[SourceInstitution(**i) for i in given["institutions"]],
                    countries=given["countries"],
                )
                known[key] = self.store.affiliation_rows(
                    [a.to_dict() for a in self.classifier.classify_author(author)]
                )
            self.store.save_affiliation_rows([(paper_id, position, known[key])],
                                             self.classified_with)
    state.done("classify")


def dump(db: Path, norm: golden.Normaliser) -> dict[str, list[str]]:
    """Every table's rows in rowid order (paper_ids in key order), normalised."""
    conn = sqlite3.connect(db)
    try:
        out: dict[str, list[str]] = {}
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ):
            order = KEY_ORDER.get(name, "rowid")
            cursor = conn.execute(f'SELECT * FROM "{name}" ORDER BY {order}')  # noqa: S608
            columns = [d[0] for d in cursor.description]
            out[name] = ["\t".join(columns)] + [
                "\t".join(norm.cell(c, v) for c, v in zip(columns, row, strict=True))
                for row in cursor
            ]
        return out
    finally:
        conn.close()


def scan_twice_and_dump(work: Path) -> dict[str, list[str]]:
    """Companion, then main scan; more citers; a refresh of both; the main dataset classified
    and judged again from what is stored: the store, dumped."""
    work.mkdir(parents=True)
    with FakeApi() as api, golden._environment(work, api):
        main = Synthetic(api.corpus, Shape(CITERS))
        companion = Synthetic(api.corpus, Shape(25), index=1)
        (work / "catalog.yaml").write_text(catalog([main, companion]), encoding="utf-8")
        golden._cli("scan", companion.ids.key, "--quiet")
        golden._cli("scan", main.ids.key, "--quiet")
        main.add_citers(12)
        golden._cli("refresh", "--all", "--quiet")
        golden._cli("rejudge", main.ids.key, "--quiet")  # every authorship classified again
    return dump(work / "tracer.db", golden.Normaliser(work))


def test_batched_paths_leave_the_store_one_work_at_a_time_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batched = scan_twice_and_dump(tmp_path / "batched")
    with monkeypatch.context() as patch:
        patch.setattr(Store, "upsert_works", reference_upsert_works)
        patch.setattr(Scanner, "_classify", reference_classify)
        reference = scan_twice_and_dump(tmp_path / "reference")
    assert sorted(batched) == sorted(reference)
    assert len(batched["papers"]) > CITERS
    assert len(batched["affiliations"]) > CITERS
    for table, rows in reference.items():
        assert batched[table] == rows, f"table {table} differs"
