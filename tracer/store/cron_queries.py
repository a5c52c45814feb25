"""Queries for what a cron run says: the papers new since a run, and each dataset's standing.

Functions take a Store and read through its connection; every value is bound as a parameter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tracer.store import Store


def last_run_id(store: Store) -> int:
    """The newest run's id (0 when there is none): papers first found after it are new."""
    row = store.conn.execute("SELECT max(id) FROM runs").fetchone()
    return int(row[0] or 0)


def papers_first_found_after(store: Store, dataset: str, run_id: int) -> list[int]:
    """Papers a run newer than `run_id` found for the dataset for the first time."""
    rows = store.conn.execute(
        "SELECT paper_id FROM dataset_papers WHERE dataset = ? AND first_run > ?"
        " ORDER BY paper_id",
        (dataset, run_id),
    )
    return [int(row[0]) for row in rows]


def level(store: Store, dataset: str, paper_id: int) -> str | None:
    """The paper's usage judgement for the dataset (None until judged)."""
    row = store.conn.execute(
        "SELECT level FROM dataset_papers WHERE dataset = ? AND paper_id = ?", (dataset, paper_id)
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def affiliations(store: Store, paper_id: int) -> list[dict[str, Any]]:
    """The paper's classified affiliations, in author order, with their flags decoded."""
    rows = store.conn.execute(
        "SELECT institution_id, institution_name, country, sector, flags FROM affiliations"
        " WHERE paper_id = ? ORDER BY position, idx",
        (paper_id,),
    ).fetchall()
    return [dict(row, flags=_json_list(row["flags"])) for row in rows]


def standing(store: Store, datasets: Sequence[str]) -> dict[str, dict[str, Any]]:
    """For each dataset: papers, papers judged used, flagged institutions, and its last run
    (started, finished, status, new papers, error); datasets never scanned get zeros."""
    out: dict[str, dict[str, Any]] = {}
    for key in datasets:
        counts = store.conn.execute(
            "SELECT count(*), sum(level = 'used') FROM dataset_papers"
            " WHERE dataset = ? AND missing_since_run IS NULL",
            (key,),
        ).fetchone()
        flagged = store.conn.execute(
            "SELECT DISTINCT coalesce(a.institution_name, a.institution_id) AS name, a.flags"
            " FROM affiliations a JOIN dataset_papers d ON d.paper_id = a.paper_id"
            " WHERE d.dataset = ? AND d.missing_since_run IS NULL AND a.flags != '[]'",
            (key,),
        ).fetchall()
        run = store.conn.execute(
            "SELECT started_at, finished_at, status, new_papers, error FROM runs"
            " WHERE dataset = ? ORDER BY id DESC LIMIT 1",
            (key,),
        ).fetchone()
        out[key] = {
            "papers": int(counts[0] or 0),
            "used": int(counts[1] or 0),
            "flagged": sorted({r["name"] for r in flagged if r["name"] and _json_list(r["flags"])}),
            "last_run": dict(run) if run else None,
        }
    return out


def _json_list(text: str | None) -> list[Any]:
    """A JSON list cell. A cell that does not parse raises json.JSONDecodeError, which the
    command line reports as corrupt data: a flag is never silently dropped."""
    value = json.loads(text or "[]")
    return value if isinstance(value, list) else []
