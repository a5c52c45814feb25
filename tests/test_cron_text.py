"""One line of printable text per record: the pieces of a cron line, without the network."""

from __future__ import annotations

from tracer.cli.cron import failure_line, institution_field
from tracer.cli.text import one_line


def test_one_line_turns_every_control_into_a_space() -> None:
    hostile = "a\nb\rc\x1b[2Jd\x9be\x85f\u2028g\u2029h\u202ei\x00j\x7fk\tl"
    assert one_line(hostile) == "a b c [2Jd e f g h i j k l"
    assert one_line("  spaced\n\n  out  ") == "spaced out"
    assert one_line(None) == ""
    assert one_line("x" * 50, limit=10) == "x" * 9 + "…"


def test_the_institution_field_prefers_a_flagged_one_and_counts_the_rest() -> None:
    rows = [
        {"institution_name": "Stanford University", "country": "US", "sector": "academic", "flags": []},
        {
            "institution_name": "Megvii\n(China)",
            "country": "CN",
            "sector": "commercial",
            "flags": [{"list": "us-entity-list", "label": "US Commerce Entity List"}],
        },
        {"institution_name": "Stanford University", "country": "US", "sector": "academic", "flags": []},
    ]
    assert institution_field(rows) == "Megvii (China) (CN, commercial; US Commerce Entity List) +1 more"
    assert institution_field([]) == "-"
    military = [
        {"institution_name": "A", "country": "FR", "sector": "academic", "flags": []},
        {"institution_name": "B", "country": None, "sector": "military", "flags": []},
    ]
    assert institution_field(military) == "B (military) +1 more"


def test_a_failure_line_names_source_and_step_and_stays_short() -> None:
    line = failure_line("brainwash", "openalex: citing works: " + "HTTP 500\n" * 1000)
    fields = line.split("  ")
    assert fields[:4] == ["FAILED", "brainwash", "openalex", "citing works"]
    assert "\n" not in line and len(line) < 300
    assert failure_line("x", "reports: Cannot write").split("  ")[2:] == ["-", "reports", "Cannot write"]
    whole = failure_line("x", "Could not resolve the origin papers of x.")
    assert whole.split("  ")[2:4] == ["-", "refresh"]
