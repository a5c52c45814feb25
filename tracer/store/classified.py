"""Writing classified affiliations inside SQLite: one row per distinct classifier input, joined
onto every authorship that has that input, instead of a Python tuple per authorship.

The classifier's answer depends only on an authorship's stored input (its raw strings,
institutions and countries, as stored JSON text), and a dataset's authors print the same few
affiliations again and again. So the scan reads the distinct inputs due in a range of papers,
classifies those it has not seen, puts each input's affiliation rows in two TEMP tables (the
connection's own, not the database file's: the schema is unchanged), and three statements
replace, insert and mark the range's authorships from them. An authorship whose input is not in
the TEMP tables (one written by another process after the inputs were read) is left as it was,
due for the next run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

InputKey = tuple[str, str, str]  # (raw_affiliations, institutions, countries) as stored text

_SETUP = (
    "CREATE TEMP TABLE IF NOT EXISTS classify_inputs (id INTEGER PRIMARY KEY,"
    " raw_affiliations TEXT NOT NULL, institutions TEXT NOT NULL, countries TEXT NOT NULL,"
    " UNIQUE (raw_affiliations, institutions, countries))",
    "CREATE TEMP TABLE IF NOT EXISTS classify_rows (input_id INTEGER NOT NULL,"
    " idx INTEGER NOT NULL, raw TEXT, institution_id TEXT, institution_name TEXT,"
    " parent_id TEXT, parent_name TEXT, country TEXT, sector TEXT NOT NULL, flags TEXT NOT NULL,"
    " confidence REAL NOT NULL, method TEXT NOT NULL, PRIMARY KEY (input_id, idx))",
    "DELETE FROM temp.classify_rows",
    "DELETE FROM temp.classify_inputs",
)

# The authorships of a dataset's papers in [low, high] that are due: never classified, or
# classified with another version (the condition of `Store.classifications_due`).
_DUE = (
    " a.paper_id BETWEEN :low AND :high AND a.paper_id IN (SELECT paper_id FROM dataset_papers"
    " WHERE dataset = :dataset AND paper_id BETWEEN :low AND :high)"
    " AND (a.classified = 0 OR a.classified_with IS NOT :version)"
)
_KNOWN = (
    " JOIN temp.classify_inputs k ON k.raw_affiliations = a.raw_affiliations"
    " AND k.institutions = a.institutions AND k.countries = a.countries"
)
_AFFILIATION_COLUMNS = (
    "idx, raw, institution_id, institution_name, parent_id, parent_name, country, sector,"
    " flags, confidence, method"
)


def start(conn: sqlite3.Connection) -> None:
    """Empty TEMP tables for a classification pass."""
    for statement in _SETUP:
        conn.execute(statement)


def due_inputs(
    conn: sqlite3.Connection, dataset: str, version: str | None, low: int, high: int
) -> list[InputKey]:
    """The distinct inputs of the due authorships in [low, high]."""
    rows = conn.execute(
        f"SELECT DISTINCT a.raw_affiliations, a.institutions, a.countries FROM authorships a WHERE {_DUE}",  # noqa: S608, E501 - constant text
        {"dataset": dataset, "version": version, "low": low, "high": high},
    )
    return [(row[0], row[1], row[2]) for row in rows]


def add_inputs(
    conn: sqlite3.Connection, items: Sequence[tuple[InputKey, Sequence[tuple[Any, ...]]]]
) -> None:
    """Inputs with their affiliation rows (`Store.affiliation_rows`), each input once."""
    for key, rows in items:
        cursor = conn.execute(
            "INSERT INTO temp.classify_inputs (raw_affiliations, institutions, countries)"
            " VALUES (?, ?, ?)",
            key,
        )
        input_id = cursor.lastrowid
        conn.executemany(
            f"INSERT INTO temp.classify_rows (input_id, {_AFFILIATION_COLUMNS})"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(input_id, *row) for row in rows],
        )


def write(
    conn: sqlite3.Connection, dataset: str, version: str | None, low: int, high: int,
    new_version: str | None,
) -> int:
    """Replace the affiliations of the due authorships in [low, high] whose input is known,
    mark them classified with `new_version`; returns how many were."""
    params = {"dataset": dataset, "version": version, "low": low, "high": high}
    stored = conn.execute(
        "SELECT 1 FROM affiliations WHERE paper_id BETWEEN ? AND ? LIMIT 1", (low, high)
    ).fetchone()
    if stored:  # in a scan's new papers there are none, and finding the due ones costs a pass
        conn.execute(
            f"DELETE FROM affiliations WHERE paper_id BETWEEN :low AND :high AND (paper_id, position) IN (SELECT a.paper_id, a.position FROM authorships a {_KNOWN} WHERE {_DUE})",  # noqa: S608, E501 - constant text
            params,
        )
    conn.execute(
        f"INSERT INTO affiliations (paper_id, position, {_AFFILIATION_COLUMNS})"  # noqa: S608
        " SELECT a.paper_id, a.position, r.idx, r.raw, r.institution_id, r.institution_name,"
        " r.parent_id, r.parent_name, r.country, r.sector, r.flags, r.confidence, r.method"
        f" FROM authorships a {_KNOWN} JOIN temp.classify_rows r ON r.input_id = k.id"
        f" WHERE {_DUE} ORDER BY a.paper_id, a.position, r.idx",
        params,
    )
    cursor = conn.execute(
        "UPDATE authorships AS a SET classified = 1, classified_with = :new_version"  # noqa: S608
        f" WHERE {_DUE} AND EXISTS (SELECT 1 FROM temp.classify_inputs k"
        " WHERE k.raw_affiliations = a.raw_affiliations AND k.institutions = a.institutions"
        " AND k.countries = a.countries)",
        {**params, "new_version": new_version},
    )
    return int(cursor.rowcount)
