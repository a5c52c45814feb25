"""`tracer classify`: institution, country, sector and flags of affiliation strings."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from tracer.affiliations.classify import Classifier
from tracer.cli import cli
from tracer.cli.common import json_option, settings_from, stderr_console, stdout_console
from tracer.errors import UsageError


@cli.command("classify")
@click.argument("affiliations", nargs=-1)
@click.option(
    "--file",
    "-f",
    "path",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Read affiliations from a file, one per line ('-' for stdin).",
)
@json_option
@click.pass_context
def classify_command(
    ctx: click.Context, affiliations: tuple[str, ...], path: str | None, as_json: bool
) -> None:
    """Resolve affiliation strings to institution (ROR), country, sector and watchlist flags.

    \b
    Examples:
      tracer classify "School of Computer, National University of Defense Technology, Changsha 410073, China"
      tracer classify --json "Megvii Inc. (Face++), Beijing"
      tracer classify --file affiliations.txt
      cut -f3 authors.tsv | tracer classify -
    """
    texts = [a for a in affiliations if a != "-"]
    if path or "-" in affiliations:
        texts.extend(_read_lines(path or "-"))
    texts = [t.strip() for t in texts if t.strip()]
    if not texts:
        raise UsageError(
            "No affiliation given.", hint='Try: tracer classify "Dept. of EE, Stanford University"'
        )
    settings = settings_from(ctx)
    classifier = Classifier.load(settings)
    if not classifier.gazetteer_available:
        stderr_console().print(
            "Note: no ROR gazetteer loaded (set TRACER_ROR_DUMP or run `tracer data update`); "
            "only the watchlist, the military rules and the country are used.",
            markup=False,
        )
    for note in classifier.notes:
        stderr_console().print(f"Note: {note}", markup=False)
    results = [(text, classifier.classify_text(text)) for text in texts]
    if as_json:
        payload = [{"input": t, "affiliations": [a.to_dict() for a in affs]} for t, affs in results]
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    table = Table(show_lines=True)
    for column in ("affiliation", "institution", "country", "sector", "flags", "method"):
        table.add_column(column)
    for text, affs in results:
        for aff in affs:
            name = aff.institution_name or "—"
            if aff.institution_id:
                name += f"\n{aff.institution_id}"
            if aff.parent_name:
                name += f"\npart of {aff.parent_name}"
            flags = "\n".join(_flag_text(f.label, f.category, f.start, f.end) for f in aff.flags)
            table.add_row(
                text,
                name,
                aff.country or "—",
                aff.sector,
                flags,
                f"{aff.method} {aff.confidence:.2f}",
            )
    stdout_console().print(table)


def _flag_text(label: str, category: str | None, start: str | None, end: str | None) -> str:
    text = label + (f" ({category})" if category else "")
    if start:
        text += f" {start}–{end or 'now'}"
    return text


def _read_lines(path: str) -> list[str]:
    if path == "-":
        return sys.stdin.read().splitlines()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror}.") from None
