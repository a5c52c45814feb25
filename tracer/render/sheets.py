"""Binary exports of the same rows as the CSV: Parquet (pyarrow) and Excel (openpyxl).

Both libraries are optional (`pip install 'tracer[export]'`); without them the command says
which to install. Columns and their meaning are the CSV's (docs/exports.md): multi-valued cells joined by `|`, booleans as booleans, years as integers.
In Excel every text cell is written as text, never as a formula: a title `=HYPERLINK(...)`
shows as written and is not evaluated.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Sequence
from typing import Any

from tracer.errors import UsageError

BINARY_FORMATS = {"parquet": "pyarrow", "xlsx": "openpyxl"}


def _library(name: str, fmt: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise UsageError(
            f"Writing {fmt} needs the {name} package, which is not installed.",
            hint="Install it with `pip install 'tracer[export]'`, or export --format csv.",
        ) from None


def to_parquet(rows: Sequence[dict[str, Any]]) -> bytes:
    pa = _library("pyarrow", "parquet")
    pq = _library("pyarrow.parquet", "parquet")
    table = pa.Table.from_pylist(list(rows)) if rows else pa.table({})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def to_xlsx(rows: Sequence[dict[str, Any]], sheet: str) -> bytes:
    openpyxl = _library("openpyxl", "xlsx")
    cells = _library("openpyxl.cell", "xlsx")
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    columns = list(rows[0].keys()) if rows else []
    ws.append(columns)
    for row in rows:
        line = []
        for key in columns:
            value = row.get(key)
            cell = cells.WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, even when it starts with "="
            line.append(cell)
        ws.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
