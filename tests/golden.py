"""Today's output, pinned: a seeded scan's every store table and every report format, as digests.

    python -m tests.golden --write        # (re)write tests/golden_digests.json from this code
    python -m tests.golden --dump DIR     # write the normalised outputs to DIR, for diffing

A seeded synthetic corpus (`benchmarks/synthetic.py`: 1,000 citers of "Cafecam" and 25 of a
companion) is served by the fake API, scanned, reported in every format `tracer report`,
`tracer export`, `tracer graph` and `tracer refresh --out` write, and the store is dumped table
by table. Everything that depends on the run rather than on the data (timestamps, process ids,
the host name, the temporary folder, today's date) is normalised away first; what is left is
hashed (sha256) with its row count. `tests/test_golden.py` compares a fresh run with the file.

The ROR index is left out (the run is offline and owes nothing to ../shared/data), so the
affiliations are resolved from OpenAlex's institutions and the strings' countries only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import socket
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from benchmarks.synthetic import Shape, Synthetic, catalog
from tests.fakeapi.server import FakeApi
from tests.helpers import run_cli

DIGESTS = Path(__file__).with_name("golden_digests.json")
CITERS = 1000
COMPANION_CITERS = 25
KEY = "cafecam"

# Columns whose values belong to the run, not to the data; and the fingerprints of the rules a
# row was classified or judged with, which change with any rule file even where no answer does
# (a changed answer still shows in the rows themselves), and the digest of a judgement's inputs,
# which holds that fingerprint.
_RUN_COLUMNS = {"pid", "host", "classified_with", "judged_with", "judged_inputs"}
_RESET = re.compile(r'"reset": ?\d+')  # seconds until a budget resets (midnight)
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| UTC)?")

# (name, argv): what each output is written by; "{out}" is a file in the work folder.
REPORTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("report.txt", ("report", KEY, "--no-pager", "--all-papers", "--quiet")),
    ("report-top.txt", ("report", KEY, "--no-pager", "--quiet")),
    ("report.json", ("report", KEY, "--format", "json", "--quiet")),
    ("report.md", ("report", KEY, "--format", "md", "--quiet")),
    ("report.csv", ("report", KEY, "--format", "csv", "--quiet")),
    ("report.html", ("report", KEY, "-o", "{out}", "--quiet")),
    ("report-used-cn.json", ("report", KEY, "--json", "--min-usage", "used", "--since", "2019",
                             "--country", "CN", "--quiet")),
    ("export-articles.csv", ("export", KEY, "--quiet")),
    ("export-articles.json", ("export", KEY, "--format", "json", "--quiet")),
    ("export-articles.bib", ("export", KEY, "--format", "bibtex", "--quiet")),
    ("export-authors.csv", ("export", KEY, "--what", "authors", "--quiet")),
    ("export-authors.json", ("export", KEY, "--what", "authors", "--format", "json", "--quiet")),
    ("export-institutions.csv", ("export", KEY, "--what", "institutions", "--quiet")),
    ("export-institutions.json", ("export", KEY, "--what", "institutions", "--format", "json",
                                  "--quiet")),
    ("export-countries.csv", ("export", KEY, "--what", "countries", "--quiet")),
    ("export-countries.json", ("export", KEY, "--what", "countries", "--format", "json",
                               "--quiet")),
    ("graph.graphml", ("graph", KEY, "-o", "{out}", "--quiet")),
    ("graph.gexf", ("graph", KEY, "-o", "{out}", "--quiet")),
)


class Normaliser:
    """Blanks what a run adds: its folder, host, timestamps, today's date, the
    seconds until an API budget resets."""

    def __init__(self, work: Path) -> None:
        self.work = str(work)
        self.host = socket.gethostname()
        self.today = datetime.now(UTC).date().isoformat()

    def text(self, value: str) -> str:
        value = value.replace(self.work, "<WORK>")
        value = _STAMP.sub("<TIME>", value)
        value = _RESET.sub('"reset":"<RUN>"', value)
        value = value.replace(self.today, "<TODAY>")
        if self.host:
            value = value.replace(self.host, "<HOST>")
        return value

    def cell(self, column: str, value: Any) -> str:
        if value is None:
            return "NULL"
        if column in _RUN_COLUMNS or column.endswith("_at"):
            return "<RUN>"
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, bytes):
            return value.hex()
        return self.text(str(value))


def dump_tables(db: Path, norm: Normaliser) -> dict[str, str]:
    """Each table's rows, normalised, one tab-separated line each, in a stable order."""
    conn = sqlite3.connect(db)
    try:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )]
        out = {}
        for name in names:
            cursor = conn.execute(f'SELECT * FROM "{name}"')  # noqa: S608 - names from the schema
            columns = [d[0] for d in cursor.description]
            lines = sorted(
                "\t".join(norm.cell(c, v) for c, v in zip(columns, row, strict=True))
                for row in cursor
            )
            out[f"table:{name}"] = "\t".join(columns) + "\n" + "".join(f"{ln}\n" for ln in lines)
        return out
    finally:
        conn.close()


@contextmanager
def _environment(work: Path, api: FakeApi) -> Iterator[None]:
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("TRACER_") or name in ("S2_API_KEY", "OPENALEX_API_KEY", "NO_COLOR"):
            del os.environ[name]
    os.environ.update(
        TRACER_DATA_DIR=str(work / "data"),
        TRACER_DB=str(work / "tracer.db"),
        TRACER_CATALOG=str(work / "catalog.yaml"),
        TRACER_CONFIG=str(work / "no-config.toml"),
        TRACER_OFFLINE="1",
        TRACER_RATE_LIMIT="0",
        TRACER_S2_API_URL=api.s2_url,
        TRACER_OPENALEX_API_URL=api.openalex_url,
        S2_API_KEY="golden-s2-key",
        OPENALEX_API_KEY="golden-oa-key",
        COLUMNS="120",
    )
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _cli(*argv: str) -> str:
    run = run_cli(*argv)
    if run.code != 0:
        raise RuntimeError(f"tracer {' '.join(argv)} exited {run.code}: {run.err.strip()}")
    return run.out


def produce(work: Path) -> dict[str, str]:
    """Scan the seeded corpus in `work` and return every normalised output by name."""
    work.mkdir(parents=True, exist_ok=True)
    norm = Normaliser(work)
    outputs: dict[str, str] = {}
    with FakeApi() as api, _environment(work, api):
        main = Synthetic(api.corpus, Shape(CITERS))
        companion = Synthetic(api.corpus, Shape(COMPANION_CITERS), index=1)
        (work / "catalog.yaml").write_text(catalog([main, companion]), encoding="utf-8")
        outputs["scan:companion.txt"] = norm.text(_cli("scan", companion.ids.key, "--quiet"))
        outputs["scan:terminal.txt"] = norm.text(_cli("scan", KEY, "--quiet"))
        for name, argv in REPORTS:
            target = work / "out" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            text = _cli(*(str(target) if a == "{out}" else a for a in argv))
            if "{out}" in argv:
                text = target.read_text(encoding="utf-8")
            outputs[f"format:{name}"] = norm.text(text)
        reports = work / "reports"
        outputs["refresh:stdout.txt"] = norm.text(_cli(
            "refresh", "--all", "--out", str(reports), "--formats", "csv,json,html,md,terminal",
            "--quiet",
        ))
        for path in sorted(p for p in reports.rglob("*") if p.is_file()):
            rel = path.relative_to(reports).as_posix()
            if rel.startswith(".") or "/." in rel:
                continue  # the lock and temporary files
            outputs[f"refresh:{rel}"] = norm.text(path.read_text(encoding="utf-8"))
    outputs.update(dump_tables(work / "tracer.db", norm))
    return outputs


def digest(outputs: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        name: {"sha256": hashlib.sha256(text.encode()).hexdigest(), "lines": text.count("\n")}
        for name, text in sorted(outputs.items())
    }


def write_outputs(outputs: dict[str, str], folder: Path) -> None:
    for name, text in outputs.items():
        path = folder / name.replace(":", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.golden", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help=f"write {DIGESTS.name}")
    parser.add_argument("--dump", type=Path, metavar="DIR", help="write the outputs to DIR")
    args = parser.parse_args(argv)
    with TemporaryDirectory(prefix="tracer-golden-") as tmp:
        outputs = produce(Path(tmp))
    if args.dump:
        write_outputs(outputs, args.dump)
        print(f"{len(outputs)} outputs written to {args.dump}")
    if args.write:
        DIGESTS.write_text(json.dumps(digest(outputs), indent=1) + "\n", encoding="utf-8")
        print(f"{len(outputs)} digests written to {DIGESTS}")
    if not (args.dump or args.write):
        parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
