"""Which OpenAlex ids and DOIs a snapshot run looks for, per catalog key."""

from __future__ import annotations

from collections.abc import Iterable

from tracer.catalog import Catalog, Dataset

KIND = "snapshot"  # the kind of run a snapshot scan records


def catalog_origins(
    catalog: Catalog, datasets: Iterable[Dataset]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per catalog key (each dataset and its derivatives): the W ids the catalog gives, and the
    DOIs (the arXiv one included) to resolve in the snapshot for every other version."""
    origins: dict[str, list[str]] = {}
    dois: dict[str, list[str]] = {}
    for dataset in datasets:
        for entry in [dataset, *(catalog.get(k) for k in dataset.derivatives)]:
            for paper in entry.origin_papers:
                ids = origins.setdefault(entry.key, [])
                if paper.openalex and paper.openalex not in ids:
                    ids.append(paper.openalex)
                for doi in paper.dois():
                    if doi not in dois.setdefault(entry.key, []):
                        dois[entry.key].append(doi)
    return origins, dois
