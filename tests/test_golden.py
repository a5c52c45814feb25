"""The store and every report of a seeded scan are what they were when the digests were written.

`tests/golden.py` scans 1,000 synthetic citers through the fake API, writes every report format
and dumps every store table, normalised; `tests/golden_digests.json` holds their sha256 and
line counts. A change that should alter the output (new rules, a new column) rewrites the file
with `python -m tests.golden --write`; one that should not (a faster path) must leave it as is.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tests import golden


def test_store_and_reports_match_the_golden_digests(tmp_path: Path) -> None:
    expected = json.loads(golden.DIGESTS.read_text(encoding="utf-8"))
    outputs = golden.produce(tmp_path / "run")
    actual = golden.digest(outputs)
    differ = [
        f"{name}: {want['lines'] if want else '-'} lines expected,"
        f" {got['lines'] if got else '-'} written"
        for name in sorted(set(expected) | set(actual))
        if (want := expected.get(name)) != (got := actual.get(name))
    ]
    if differ:
        folder = Path(tempfile.mkdtemp(prefix="tracer-golden-actual-"))
        golden.write_outputs(outputs, folder)
        raise AssertionError(
            "These outputs differ from tests/golden_digests.json:\n  " + "\n  ".join(differ)
            + f"\nThe actual normalised outputs are in {folder}; `python -m tests.golden --dump DIR`"
            " at the commit that wrote the digests gives the expected ones to diff against."
        )


def test_normaliser_blanks_what_belongs_to_the_run(tmp_path: Path) -> None:
    norm = golden.Normaliser(tmp_path)
    text = norm.text(f'scanned 2026-12-01T14:00:46+00:00 into {tmp_path}/tracer.db, "reset":35413')
    assert text == 'scanned <TIME> into <WORK>/tracer.db, "reset":"<RUN>"'
    assert norm.cell("started_at", "2026-12-01") == "<RUN>"
    assert norm.cell("pid", 123) == "<RUN>"
    assert norm.cell("score", 0.5) == "0.5"
    assert norm.text("published 2019-06-01, DOI 10.5555/syn.12") == (
        "published 2019-06-01, DOI 10.5555/syn.12"  # dates of the data stay
    )
