"""Store queries of the snapshot runs: merged OpenAlex ids re-pointed, and the ids of a
dataset's stored papers (what S2 citation rows are joined to).

OpenAlex merges duplicate works: the snapshot's `merged_ids` says which id now lives on as which.
A stored paper known under a merged-away id gets the surviving id (the old one still finds it);
when the survivor is stored too, the two become one paper: every dataset link, evidence row
(contexts, intents and passages of the same list joined), lookup and id is kept; authorships stay
those of the survivor unless the other paper has more of them (the same work's authors either way).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracer.records import Work

if TYPE_CHECKING:
    from tracer.store import Store

_FILL = ("title", "norm_title", "year", "publication_date", "venue", "abstract", "doi",
         "arxiv_id", "s2_paper_id", "corpus_id", "enriched_at")


@dataclass
class Repointed:
    dead: str  # the merged-away W id
    survivor: str  # the W id it lives on as
    paper_id: int  # the stored paper that now carries the survivor
    merged_from: int | None  # the stored paper folded into it, if the survivor was stored too


def survivor(merged: Mapping[str, str], wid: str) -> str:
    """The W id `wid` finally lives on as (merges can chain)."""
    seen = {wid}
    while wid in merged and merged[wid] not in seen:
        wid = merged[wid]
        seen.add(wid)
    return wid


def repoint_merged(store: Store, merged: Mapping[str, str]) -> list[Repointed]:
    """Re-point every stored paper known under a merged-away OpenAlex id; what was done."""
    if not merged:
        return []
    conn = store.conn
    out: list[Repointed] = []
    with store.transaction():
        # Authorships and their affiliations move together: check their link at commit.
        conn.execute("PRAGMA defer_foreign_keys = ON")
        rows = conn.execute(
            "SELECT value, paper_id FROM paper_ids WHERE kind = 'openalex' ORDER BY value"
        ).fetchall()
        for dead, paper_id in [(r[0], r[1]) for r in rows if r[0] in merged]:
            alive = survivor(merged, dead)
            if alive == dead:
                continue
            row = conn.execute(
                "SELECT paper_id FROM paper_ids WHERE kind = 'openalex' AND value = ?", (alive,)
            ).fetchone()
            current = conn.execute(
                "SELECT paper_id FROM paper_ids WHERE kind = 'openalex' AND value = ?", (dead,)
            ).fetchone()
            paper_id = current[0] if current else paper_id  # an earlier merge may have moved it
            if row is None:
                conn.execute("INSERT INTO paper_ids VALUES ('openalex', ?, ?)", (alive, paper_id))
                conn.execute(
                    "UPDATE papers SET openalex_id = ? WHERE id = ?"
                    " AND (openalex_id IS NULL OR openalex_id = ?)",
                    (alive, paper_id, dead),
                )
                out.append(Repointed(dead, alive, paper_id, None))
            elif row[0] != paper_id:
                _fold(conn, keep=row[0], drop=paper_id)
                out.append(Repointed(dead, alive, row[0], paper_id))
    return out


def _fold(conn: Any, *, keep: int, drop: int) -> None:
    """Move everything of paper `drop` onto `keep` (the survivor) and delete `drop`."""
    conn.execute("UPDATE paper_ids SET paper_id = ? WHERE paper_id = ?", (keep, drop))
    _fold_links(conn, keep, drop)
    _fold_evidence(conn, keep, drop)
    conn.execute(
        "INSERT OR IGNORE INTO paper_lookups SELECT ?, source, looked_up_at FROM paper_lookups"
        " WHERE paper_id = ?",
        (keep, drop),
    )
    conn.execute("DELETE FROM paper_lookups WHERE paper_id = ?", (drop,))
    _fold_authors(conn, keep, drop)
    for column in _FILL:
        conn.execute(
            f"UPDATE papers SET {column} = (SELECT {column} FROM papers WHERE id = ?)"  # noqa: S608 - fixed names
            f" WHERE id = ? AND ({column} IS NULL OR {column} = '')",
            (drop, keep),
        )
    conn.execute(
        "UPDATE papers SET fields_of_study = (SELECT json_group_array(value) FROM (SELECT DISTINCT"
        " j.value FROM papers p, json_each(p.fields_of_study) j WHERE p.id IN (?, ?)"
        " ORDER BY j.value)) WHERE id = ?",
        (keep, drop, keep),
    )
    conn.execute("DELETE FROM papers WHERE id = ?", (drop,))


def _fold_links(conn: Any, keep: int, drop: int) -> None:
    for row in conn.execute(
        "SELECT * FROM dataset_papers WHERE paper_id = ?", (drop,)
    ).fetchall():
        mine = conn.execute(
            "SELECT * FROM dataset_papers WHERE paper_id = ? AND dataset = ?", (keep, row["dataset"])
        ).fetchone()
        if mine is None:
            conn.execute(
                "UPDATE dataset_papers SET paper_id = ?, judged_with = NULL"
                " WHERE paper_id = ? AND dataset = ?",
                (keep, drop, row["dataset"]),
            )
            continue
        missing = (
            None
            if mine["missing_since_run"] is None or row["missing_since_run"] is None
            else min(mine["missing_since_run"], row["missing_since_run"])
        )
        via = None if mine["via_derivative"] is None or row["via_derivative"] is None else (
            mine["via_derivative"])
        conn.execute(
            "UPDATE dataset_papers SET first_run = ?, last_seen_run = ?, missing_since_run = ?,"
            " via_derivative = ?, judged_with = NULL WHERE paper_id = ? AND dataset = ?",
            (min(mine["first_run"], row["first_run"]),
             max(mine["last_seen_run"], row["last_seen_run"]), missing, via, keep,
             row["dataset"]),
        )
        conn.execute(
            "DELETE FROM dataset_papers WHERE paper_id = ? AND dataset = ?", (drop, row["dataset"])
        )


_EVIDENCE_KEY = ("dataset", "route", "source", "target", "via_derivative")


def _fold_evidence(conn: Any, keep: int, drop: int) -> None:
    for row in conn.execute("SELECT * FROM evidence WHERE paper_id = ?", (drop,)).fetchall():
        key = tuple(row[k] for k in _EVIDENCE_KEY)
        where = " AND ".join(f"{k} = ?" for k in _EVIDENCE_KEY)
        mine = conn.execute(
            f"SELECT * FROM evidence WHERE paper_id = ? AND {where}", (keep, *key)  # noqa: S608
        ).fetchone()
        if mine is None:
            conn.execute(
                f"UPDATE evidence SET paper_id = ? WHERE paper_id = ? AND {where}",  # noqa: S608
                (keep, drop, *key),
            )
            continue
        conn.execute(
            "UPDATE evidence SET contexts = ?, intents = ?, passages = ?, is_influential = ?,"  # noqa: S608 - fixed names
            f" cites_origin = ?, last_seen_run = ? WHERE paper_id = ? AND {where}",
            (
                _union(mine["contexts"], row["contexts"]),
                _union(mine["intents"], row["intents"]),
                _union(mine["passages"], row["passages"]),
                _either(mine["is_influential"], row["is_influential"]),
                _either(mine["cites_origin"], row["cites_origin"]),
                max(mine["last_seen_run"], row["last_seen_run"]),
                keep,
                *key,
            ),
        )
        conn.execute(f"DELETE FROM evidence WHERE paper_id = ? AND {where}", (drop, *key))  # noqa: S608


def _fold_authors(conn: Any, keep: int, drop: int) -> None:
    count = {
        pid: conn.execute("SELECT count(*) FROM authorships WHERE paper_id = ?", (pid,)).fetchone()[0]
        for pid in (keep, drop)
    }
    if count[drop] > count[keep]:
        for table in ("affiliations", "authorships"):
            conn.execute(f"DELETE FROM {table} WHERE paper_id = ?", (keep,))  # noqa: S608
        for table in ("authorships", "affiliations"):
            conn.execute(f"UPDATE {table} SET paper_id = ? WHERE paper_id = ?", (keep, drop))  # noqa: S608
        conn.execute(
            "UPDATE papers SET (authors_source, authors_rank, authors_truncated) = (SELECT"
            " authors_source, authors_rank, authors_truncated FROM papers WHERE id = ?)"
            " WHERE id = ?",
            (drop, keep),
        )
    conn.execute("DELETE FROM affiliations WHERE paper_id = ?", (drop,))
    conn.execute("DELETE FROM authorships WHERE paper_id = ?", (drop,))


def _union(a: str | None, b: str | None) -> str:
    out: list[Any] = []
    for text in (a, b):
        for item in json.loads(text or "[]"):
            if item not in out:
                out.append(item)
    return json.dumps(out, ensure_ascii=False)


def _either(a: int | None, b: int | None) -> int | None:
    return None if a is None and b is None else int(bool(a) or bool(b))


# -- the ids of a dataset's stored papers ----------------------------------------------------


def stored_works(store: Store, dataset: str) -> list[tuple[Work, list[tuple[str, str]]]]:
    """Each paper linked to `dataset`: a Work of its ids, title and year, and every id it is
    known under (kind, value)."""
    conn = store.conn
    ids: dict[int, list[tuple[str, str]]] = {}
    for row in conn.execute(
        "SELECT i.paper_id, i.kind, i.value FROM paper_ids i JOIN dataset_papers d"
        " ON d.paper_id = i.paper_id WHERE d.dataset = ? ORDER BY i.paper_id, i.kind, i.value",
        (dataset,),
    ):
        ids.setdefault(row[0], []).append((row[1], row[2]))
    out = []
    for row in conn.execute(
        "SELECT p.id, p.title, p.year, p.doi, p.arxiv_id, p.corpus_id, p.openalex_id FROM papers p"
        " JOIN dataset_papers d ON d.paper_id = p.id WHERE d.dataset = ? ORDER BY p.id",
        (dataset,),
    ):
        work = Work(source="store", title=row[1], year=row[2], doi=row[3], arxiv_id=row[4],
                    corpus_id=row[5], openalex_id=row[6])
        out.append((work, ids.get(row[0], [])))
    return out
