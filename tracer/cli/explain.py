"""`tracer explain NAME PAPER`: why the usage judge says what it says about one stored paper."""

from __future__ import annotations

import json
import re
from typing import Any

import click

from tracer.catalog import load_catalog
from tracer.cli import cli
from tracer.cli.common import catalog_option, db_option, json_option, settings_from
from tracer.errors import NotFoundError, UsageError
from tracer.merge import canonical_ids
from tracer.records import Work
from tracer.store import Store
from tracer.usage import DatasetTerms, Judgement, judge_paper, rules_version
from tracer.usage.rules import rules

_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_ARXIV = re.compile(
    r"^(?:arxiv:|https?://arxiv\.org/abs/)?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[A-Z]{2})?/\d{7})$",
    re.IGNORECASE,
)
_S2 = re.compile(r"^(?:https?://www\.semanticscholar\.org/paper/(?:[^/]+/)?)?([0-9a-f]{40})$")
_CORPUS = re.compile(r"^corpusid:(\d+)$", re.IGNORECASE)
_OPENALEX = re.compile(r"^(?:https?://openalex\.org/)?(W\d+)$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def work_for(paper: str) -> Work | None:
    """The work an id stands for (DOI, arXiv, S2 paper id, CorpusId:N, OpenAlex W id), or None
    when PAPER is a local paper id (digits)."""
    text = paper.strip()
    if text.isdigit():
        return None
    if m := _DOI.match(text):
        work = Work(source="s2", doi=m.group(1))
    elif m := _ARXIV.match(text):
        work = Work(source="s2", arxiv_id=m.group(1))
    elif m := _S2.match(text):
        work = Work(source="s2", s2_paper_id=m.group(1))
    elif m := _CORPUS.match(text):
        work = Work(source="s2", corpus_id=int(m.group(1)))
    elif m := _OPENALEX.match(text):
        work = Work(source="openalex", openalex_id=m.group(1).upper())
    else:
        raise UsageError(
            f"Cannot read {paper!r} as a paper.",
            hint="Give a local paper id, a DOI, an arXiv id, an S2 paper id, CorpusId:N "
            "or an OpenAlex W id.",
        )
    return canonical_ids(work)


def _clean(text: Any) -> str:
    """API text on one line, without control or direction characters."""
    return _CONTROL.sub("", " ".join(str(text or "").split()))


def _find(store: Store, dataset: str, paper: str) -> int:
    work = work_for(paper)
    ids = [int(paper.strip())] if work is None else store.find_paper(work)
    linked = set(store.dataset_paper_ids(dataset))
    found = [i for i in ids if i in linked]
    if not found:
        raise NotFoundError(
            f"No paper {paper!r} is stored for {dataset}.",
            hint=f"`tracer export {dataset}` lists the stored papers with their ids.",
        )
    return found[0]


def explain(store: Store, terms: DatasetTerms, paper_id: int) -> tuple[dict[str, Any], Judgement]:
    paper = store.paper(paper_id)
    rows = store.evidence(terms.key, paper_id)
    return paper, judge_paper(terms, paper, rows)


def _as_json(paper_id: int, paper: dict[str, Any], dataset: str, verdict: Judgement) -> str:
    body = {
        "dataset": dataset,
        "paper": {"id": paper_id, "title": paper.get("title"), "year": paper.get("year")},
        "rules_version": rules_version(),
        "threshold": rules().threshold,
        **verdict.to_dict(),
    }
    return json.dumps(body, ensure_ascii=False, indent=2)


def _print(paper_id: int, paper: dict[str, Any], name: str, verdict: Judgement) -> None:
    year = f" ({paper['year']})" if paper.get("year") else ""
    click.echo(f"Paper {paper_id}: {_clean(paper.get('title')) or '(no title)'}{year}")
    click.echo(
        f"{name}: {verdict.level}, score {verdict.score:.2f} "
        f"(used from {rules().threshold:.2f}; rules {rules_version()})"
    )
    if any(s.scale == "log-odds" for s in verdict.signs):
        click.echo(
            f"A context's or snippet's log-odds start at {rules().intercept:+.2f} and add the "
            "weights below; its probability is their logistic; the paper's score is the best."
        )
    if not verdict.signs:
        click.echo("No sign of use: no stored sentence names the dataset or shows a verb of use.")
    shown: set[tuple[str, str]] = set()
    for sign in verdict.signs:
        place = (sign.where, sign.text)
        if place not in shown:
            shown.add(place)
            click.echo(f"\n[{sign.where}, {sign.source}] {_clean(sign.text) or '(no text)'}")
            for other in verdict.signs:
                if (other.where, other.text) == place:
                    unit = "log-odds" if other.scale == "log-odds" else "probability"
                    click.echo(f"    {other.name:<26}{other.weight:+.2f} {unit}")
    if verdict.reasons:
        click.echo("\nReasons: " + ", ".join(_clean(r) for r in verdict.reasons))


@cli.command("explain")
@click.argument("name")
@click.argument("paper")
@json_option
@db_option
@catalog_option
@click.pass_context
def explain_command(
    ctx: click.Context,
    /,
    name: str,
    paper: str,
    as_json: bool,
    db_path: str | None,
    catalog_path: str | None,
) -> None:
    """Show why PAPER is judged used, cited or mentioned for dataset NAME: the evidence
    sentences, each sign that fired with its weight, and the score (from the local database).

    PAPER is a local paper id, a DOI, an arXiv id, an S2 paper id, CorpusId:N or an OpenAlex
    W id.

    \b
    Examples:
      tracer explain brainwash 12
      tracer explain brainwash 10.1109/cvpr.2016.255
      tracer explain brainwash W2741809807 --json
    """
    settings = settings_from(ctx, db_path=db_path, catalog_path=catalog_path)
    catalog = load_catalog(settings.catalog_path)
    dataset = catalog.get(name)
    if not settings.database.exists():
        raise NotFoundError(
            f"There is no database at {settings.database}.",
            hint=f"Run `tracer scan {dataset.key}` first, or pass --db.",
        )
    terms = DatasetTerms.for_dataset(dataset, catalog)
    with Store(settings.database) as store:
        paper_id = _find(store, dataset.key, paper)
        record, verdict = explain(store, terms, paper_id)
    if as_json:
        click.echo(_as_json(paper_id, record, dataset.key, verdict))
    else:
        _print(paper_id, record, dataset.name, verdict)
