"""The report as a network for Gephi: papers, institutions, countries and the dataset as nodes.

Edges: `cites` (paper -> dataset; every paper found for it, with its usage level), `authored-at`
(paper -> institution, weighted by the institution's fractional share of the paper) and
`located-in` (institution -> country). GraphML and GEXF accept only scalar attributes, so lists
are joined into strings and missing values are left out rather than written as None.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx

from tracer.errors import UsageError
from tracer.render import write_atomic
from tracer.report import AffiliationRow, Report, country_name, shares

GRAPH_FORMATS = (".graphml", ".gexf")


def _attrs(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _institution_node(aff: AffiliationRow) -> str | None:
    key = aff.institution_id or aff.institution_name
    return f"institution:{key}" if key else None


def build_graph(report: Report) -> nx.DiGraph:
    graph = nx.DiGraph(name=f"{report.header.name} usage network")
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
                year=paper.year,
                level=paper.level,
                score=paper.score,
                doi="; ".join(paper.ids.get("doi", [])),
                countries="; ".join(paper.countries),
                flags="; ".join(paper.flags),
                after_withdrawal=int(paper.after_withdrawal),
            ),
        )
        graph.add_edge(node, dataset_node, kind="cites", level=paper.level)
        for aff, share in shares(paper):
            inst = _institution_node(aff) if aff else None
            if aff is None or inst is None:
                continue
            if inst not in graph:
                key = inst.removeprefix("institution:")
                graph.add_node(
                    inst,
                    **_attrs(
                        type="institution",
                        label=aff.institution_name or key,
                        country=aff.country,
                        sector=aff.sector,
                        flags="; ".join(f.label for f in aff.flags),
                        flagged=int(key in flagged),
                    ),
                )
            if graph.has_edge(node, inst):
                graph.edges[node, inst]["weight"] += share
            else:
                graph.add_edge(node, inst, kind="authored-at", weight=share)
            if aff.country:
                country = f"country:{aff.country}"
                if country not in graph:
                    graph.add_node(
                        country, type="country", label=country_name(aff.country), code=aff.country
                    )
                graph.add_edge(inst, country, kind="located-in")
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
