"""The lines a refresh prints for cron mail: one record per line, fields two spaces apart.

    NEW  brainwash  used  2021  National University of Defense Technology (CN, military; US Entity List)  Title
    FAILED  brainwash  s2  citations of End-to-end people detection  server error 503

Every field passes through `one_line`, so a title holding a newline or an escape sequence
cannot forge a line of its own or drive the reader's terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracer.cli.text import one_line
from tracer.store import Store
from tracer.store.cron_queries import affiliations, level

SEP = "  "
SOURCES = ("s2", "openalex")
TITLE_LIMIT = 200
INSTITUTION_LIMIT = 120
MESSAGE_LIMIT = 240


def _join(*fields: object) -> str:
    return SEP.join(one_line(f) or "-" for f in fields)


def institution_field(rows: Sequence[dict[str, Any]]) -> str:
    """The paper's most telling institution: a flagged one first, then a military one, then
    the first named; with its country, sector and flags, and how many others there are."""
    named: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = one_line(row.get("institution_name") or row.get("institution_id"))
        if not name:
            continue
        seen = named.setdefault(name, {**row, "flags": []})
        for flag in row.get("flags") or []:
            label = flag.get("label") or flag.get("list") if isinstance(flag, dict) else flag
            if label and label not in seen["flags"]:
                seen["flags"].append(label)
    if not named:
        return "-"
    ranked = sorted(
        named.items(),
        key=lambda item: (not item[1]["flags"], item[1].get("sector") != "military"),
    )
    name, row = ranked[0]
    facts = ", ".join(one_line(v) for v in (row.get("country"), row.get("sector")) if v)
    if row["flags"]:
        facts += ("; " if facts else "") + "; ".join(one_line(f) for f in row["flags"])
    text = one_line(name, limit=INSTITUTION_LIMIT) + (f" ({facts})" if facts else "")
    others = len(named) - 1
    return text + (f" +{others} more" if others else "")


_ORDER = {"used": 0, "cited": 1, "mentioned": 2}


def new_paper_lines(store: Store, dataset: str, paper_ids: Sequence[int]) -> list[str]:
    """One line per new paper: used first, then cited, then mentioned; newest first within."""
    rows = []
    for paper_id in paper_ids:
        paper = store.paper(paper_id)
        judged = level(store, dataset, paper_id) or "unjudged"
        year = paper.get("year") if isinstance(paper.get("year"), int) else None
        line = _join(
            "NEW",
            dataset,
            judged,
            year or "-",
            institution_field(affiliations(store, paper_id)),
            one_line(paper.get("title") or "untitled", limit=TITLE_LIMIT),
        )
        rows.append((_ORDER.get(judged, 3), -(year or 0), paper_id, line))
    return [line for *_, line in sorted(rows)]


def failure_line(dataset: str, failure: str) -> str:
    """`source: step: message` as the core records it, `step: message` for a step of the
    command line (reports, index.html), else a failure of the refresh as a whole."""
    source, step, message = "-", "refresh", failure
    parts = [p.strip() for p in failure.split(":", 2)]
    if len(parts) == 3 and parts[0] in SOURCES:
        source, step, message = parts
    elif len(parts) >= 2 and parts[0] and " " not in parts[0]:  # "reports: ...", "index.html: ..."
        step, message = parts[0], failure.split(":", 1)[1].strip()
    return _join(
        "FAILED",
        dataset,
        source,
        one_line(step, limit=80),
        one_line(message, limit=MESSAGE_LIMIT),
    )


def facet_lines(dataset: str, kind: str, names: Sequence[str]) -> list[str]:
    """New countries, institutions or flagged institutions, one line each."""
    return [_join("NEW", dataset, kind, one_line(n, limit=INSTITUTION_LIMIT)) for n in names]
