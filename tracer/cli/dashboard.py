"""The `index.html` of a refresh's output folder: every dataset at a glance, with its reports.

One self-contained page (no script, no network): per dataset its papers, how many used it,
its flagged institutions, what this refresh found new, its last run and status, and a link to
each report file in its folder. Every value is escaped; API text never reaches it unescaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tracer.catalog import Dataset
from tracer.cli.text import one_line

_LABELS = {".html": "HTML", ".csv": "CSV", ".json": "JSON", ".md": "Markdown", ".txt": "text"}

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;
background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:1.4em;margin:.2em 0}
p.meta{color:#555;margin:.2em 0 1em}
.scroll{overflow-x:auto;background:#fff;border:1px solid #dde1e7;border-radius:6px}
table{border-collapse:collapse;width:100%;min-width:640px}
th,td{padding:8px 10px;border-bottom:1px solid #eceff3;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ok{color:#17663a}.partial,.interrupted,.running{color:#8a5a00}.failed{color:#b3261e}
.flag{display:inline-block;background:#fde8e7;color:#8c1d18;border-radius:3px;
padding:0 4px;margin:1px 2px 1px 0;font-size:.9em}
a{color:#0b57d0}
.muted{color:#777}
"""


def _status(run: Mapping[str, Any] | None, failed: bool) -> str:
    if run is None:
        return '<span class="muted">never scanned</span>'
    status = "failed" if failed and run.get("status") == "ok" else str(run.get("status") or "?")
    when = escape(one_line(run.get("finished_at") or run.get("started_at") or ""))
    css = status if status in {"ok", "partial", "interrupted", "running", "failed"} else ""
    return f'<span class="{css}">{escape(status)}</span><br><span class="muted">{when}</span>'


def _links(root: Path, key: str) -> str:
    folder = root / key
    if not folder.is_dir() or folder.is_symlink():
        return '<span class="muted">none yet</span>'
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    links = [
        f'<a href="{escape(quote(key))}/{escape(quote(p.name))}">'
        f"{escape(_LABELS.get(p.suffix, p.suffix.lstrip('.') or p.name))}</a>"
        for p in files
    ]
    return " · ".join(links) or '<span class="muted">none yet</span>'


def render_index(
    root: Path,
    datasets: Sequence[Dataset],
    standing: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, int],
    failed: Mapping[str, bool],
) -> str:
    rows = []
    for dataset in datasets:
        info = standing.get(dataset.key) or {}
        flagged = list(info.get("flagged") or [])
        shown = "".join(f'<span class="flag">{escape(one_line(n, 80))}</span>' for n in flagged[:8])
        more = f' <span class="muted">+{len(flagged) - 8} more</span>' if len(flagged) > 8 else ""
        rows.append(
            "<tr>"
            f"<td><b>{escape(one_line(dataset.name))}</b><br>"
            f'<span class="muted">{escape(dataset.key)}</span></td>'
            f'<td class="n">{int(info.get("papers") or 0):,}</td>'
            f'<td class="n">{int(info.get("used") or 0):,}</td>'
            f'<td class="n">{len(flagged):,}</td>'
            f"<td>{shown + more or '<span class=muted>none</span>'}</td>"
            f'<td class="n">{int(new.get(dataset.key, 0)):,}</td>'
            f"<td>{_status(info.get('last_run'), failed.get(dataset.key, False))}</td>"
            f"<td>{_links(root, dataset.key)}</td>"
            "</tr>"
        )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    count = len(datasets)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>tracer reports</title><style>{_STYLE}</style></head><body><main>"
        "<h1>Dataset usage reports</h1>"
        f'<p class="meta">{count} dataset{"" if count == 1 else "s"}; refreshed {stamp}.</p>'
        '<div class="scroll"><table><thead><tr>'
        "<th>Dataset</th><th>Papers</th><th>Used it</th><th>Flagged</th>"
        "<th>Flagged institutions</th><th>New this run</th><th>Last run</th><th>Reports</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div></main></body></html>\n"
    )
