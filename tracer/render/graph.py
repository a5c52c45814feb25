"""The report as a network for Gephi: the dataset, papers, authors, institutions and countries.

Nodes carry `type` (dataset, paper, author, institution, country) and `label`. Papers carry
`year`, `venue`, `level`, `score`, `key`, and `start` (the year again): the graph is written in
GEXF's dynamic mode, so Gephi's timeline shows papers appearing year by year. Edges carry `kind`:

- paper -> dataset: the paper's usage level, `used`, `mentioned`, `cited` or `not-judged`;
- author -> paper: `authored` (position: the author's place in the byline);
- author -> institution: `affiliated-with` (weight: papers of the report with that affiliation);
- paper -> institution: `authored-at` (weight: the institution's fractional share of the paper);
- institution -> institution: `co-affiliated` (weight: papers with authors at both; from the
  institution with the smaller key);
- institution -> country: `located-in`.

An author is one node per source id (OpenAlex, else Semantic Scholar); an author no source gave
an id for is a node of that paper alone, never merged with a namesake. GraphML and GEXF accept
only scalar attributes, so lists are joined with "|" and missing values are left out.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import networkx as nx

from tracer.errors import UsageError
from tracer.render import write_atomic
from tracer.render.tables import joined
from tracer.report import AffiliationRow, AuthorRow, PaperRow, Report, country_name, shares

GRAPH_FORMATS = (".graphml", ".gexf")


def _attrs(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _institution_node(aff: AffiliationRow) -> str | None:
    key = aff.institution_id or aff.institution_name
    return f"institution:{key}" if key else None


def _author_node(paper: PaperRow, author: AuthorRow) -> str:
    if author.author_id:
        return f"author:{author.author_id}"
    return f"author:paper{paper.paper_id}:{author.position}"


def _add_institution(graph: nx.DiGraph, node: str, aff: AffiliationRow, flagged: set[str]) -> None:
    if node in graph:
        return
    key = node.removeprefix("institution:")
    graph.add_node(
        node,
        **_attrs(
            type="institution",
            label=aff.institution_name or key,
            country=aff.country,
            sector=aff.sector,
            flags=joined(f.label for f in aff.flags),
            flag_lists=joined(dict.fromkeys(f.list for f in aff.flags)),
            flagged=int(key in flagged),
        ),
    )
    if aff.country:
        country = f"country:{aff.country}"
        if country not in graph:
            graph.add_node(
                country, type="country", label=country_name(aff.country), code=aff.country
            )
        graph.add_edge(node, country, kind="located-in")


def _add_weight(graph: nx.DiGraph, a: str, b: str, kind: str, weight: float) -> None:
    if graph.has_edge(a, b):
        graph.edges[a, b]["weight"] += weight
    else:
        graph.add_edge(a, b, kind=kind, weight=weight)


def build_graph(report: Report) -> nx.DiGraph:
    # mode=dynamic and a paper's `start` (its year) put papers on Gephi's timeline (GEXF).
    graph = nx.DiGraph(name=f"{report.header.name} usage network", mode="dynamic")
    dataset_node = f"dataset:{report.header.dataset}"
    graph.add_node(
        dataset_node,
        **_attrs(type="dataset", label=report.header.name, status=report.header.status or ""),
    )
    flagged = {i.key for i in report.flagged}
    for paper in report.papers:
        node = f"paper:{paper.paper_id}"
        graph.add_node(
            node,
            **_attrs(
                type="paper",
                label=paper.title or f"paper {paper.paper_id}",
                key=paper.key,
                year=paper.year,
                start=paper.year,
                venue=paper.venue,
                level=paper.level,
                score=paper.score,
                doi=joined(paper.ids.get("doi", [])),
                countries=joined(paper.countries),
                flags=joined(paper.flags),
                flag_lists=joined(paper.flag_lists),
                after_withdrawal=int(paper.after_withdrawal),
            ),
        )
        graph.add_edge(node, dataset_node, kind=paper.level.replace(" ", "-"), level=paper.level)
        for author in paper.authors:
            person = _author_node(paper, author)
            if person not in graph:
                graph.add_node(
                    person,
                    **_attrs(type="author", label=author.name or "?", author_id=author.author_id),
                )
            graph.add_edge(person, node, kind="authored", position=author.position)
            for aff in author.affiliations:
                inst = _institution_node(aff)
                if inst is None:
                    continue
                _add_institution(graph, inst, aff, flagged)
                _add_weight(graph, person, inst, "affiliated-with", 1.0)
        institutions: set[str] = set()
        for share_of, share in shares(paper):
            inst = _institution_node(share_of) if share_of else None
            if inst is None:
                continue
            institutions.add(inst)
            _add_weight(graph, node, inst, "authored-at", share)
        for a, b in combinations(sorted(institutions), 2):
            _add_weight(graph, a, b, "co-affiliated", 1.0)
    for _, _, data in graph.edges(data=True):
        if "weight" in data:
            data["weight"] = round(data["weight"], 4)
    return graph


def graph_text(graph: nx.DiGraph, suffix: str) -> str:
    if suffix == ".graphml":
        return "\n".join(nx.generate_graphml(graph)) + "\n"
    if suffix == ".gexf":
        return "\n".join(nx.generate_gexf(graph)) + "\n"
    raise UsageError(
        f"Cannot write a graph as {suffix or 'a file without extension'}.",
        hint="Name the file .graphml or .gexf.",
    )


def write_graph(graph: nx.DiGraph, path: Path | str) -> Path:
    target = Path(path)
    return write_atomic(target, graph_text(graph, target.suffix.lower()))
