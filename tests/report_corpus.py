"""A Brainwash-like store for report tests, written through the Store's own methods.

Ten papers found for `brainwash`: authors in the US and China, NUDT (military, ASPI flag),
Megvii (commercial, US Entity List from 2019-10), Stanford; one paper without any affiliation,
papers after the 2019-06 withdrawal, a title with `<script>` and one starting with `=`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracer.catalog import Dataset, OriginPaper, Status
from tracer.records import Author, Work
from tracer.store import Store

SCRIPT_TITLE = "Counting heads <script>alert(1)</script> in crowds"
FORMULA_TITLE = '=HYPERLINK("http://evil.example/x","click") head detection'

DATASET = Dataset(
    key="brainwash",
    name="Brainwash",
    mentions=("Brainwash dataset",),
    fields_of_study=("Computer Science",),
    origin_papers=(
        OriginPaper(
            title="End-to-end people detection in crowded scenes",
            year=2016,
            doi="10.1109/cvpr.2016.255",
            arxiv="1506.04878",
            s2_corpus_id=206593654,
        ),
    ),
    licence="non-commercial research purposes only",
    licence_terms="non-commercial",
    status=Status(state="withdrawn", date="2019-06"),
)

ASPI = {
    "list": "aspi-cdut",
    "label": "ASPI China Defence Universities Tracker",
    "category": "Seven Sons of National Defence",
    "source": "https://unitracker.aspi.org.au/",
    "start": None,
    "end": None,
}
ENTITY = {
    "list": "us-entity-list",
    "label": "US Entity List",
    "category": None,
    "source": "https://www.federalregister.gov/d/2019-22210",
    "start": "2019-10",
    "end": None,
}
NUDT = {
    "raw": "National University of Defense Technology, Changsha, China",
    "institution_id": "https://ror.org/05d2yfz11",
    "institution_name": "National University of Defense Technology",
    "country": "CN",
    "sector": "military",
    "flags": [ASPI],
    "confidence": 0.97,
    "method": "ror-exact",
}
MEGVII = {
    "raw": "Megvii Inc. (Face++), Beijing, China",
    "institution_id": "I4210156212",
    "institution_name": "Megvii (China)",
    "country": "CN",
    "sector": "commercial",
    "flags": [ENTITY],
    "confidence": 0.95,
    "method": "openalex",
}
STANFORD = {
    "raw": "Stanford University, Stanford, CA 94305",
    "institution_id": "https://ror.org/00f54p054",
    "institution_name": "Stanford University",
    "country": "US",
    "sector": "academic",
    "flags": [],
    "confidence": 1.0,
    "method": "openalex",
}
TSINGHUA = {
    "raw": "Tsinghua University, Beijing",
    "institution_id": "https://ror.org/03cve4549",
    "institution_name": "Tsinghua University",
    "country": "CN",
    "sector": "academic",
    "flags": [],
    "confidence": 1.0,
    "method": "openalex",
}
UNRESOLVED = {"raw": "Dept. of Imaging, Somewhere", "sector": "unknown", "method": "none"}

# (title, year, date, level, [(author, [affiliations])], extra ids)
PAPERS: list[dict[str, Any]] = [
    dict(
        title="Crowd counting with deep heads",
        year=2017,
        level="used",
        authors=[("Li Wei", [NUDT]), ("Zhang Min", [NUDT])],
        doi="10.1000/nudt.1",
    ),
    dict(
        title="Head detection in surveillance video",
        year=2018,
        level="used",
        authors=[("Wang Fang", [NUDT, TSINGHUA]), ("Ann Lee", [STANFORD])],
        arxiv="1801.00001",
    ),
    dict(
        title="Dense pedestrian detection",
        year=2019,
        date="2019-09-12",
        level="used",
        authors=[("Sun Jian", [MEGVII]), ("Xu Li", [MEGVII]), ("Bob Ray", [STANFORD])],
        doi="10.1000/megvii.1",
        openalex="W100",
    ),
    dict(
        title=SCRIPT_TITLE,
        year=2020,
        date="2020-03-01",
        level="cited",
        authors=[("Carol Diaz", [STANFORD])],
        doi="10.1000/script.1",
    ),
    dict(
        title=FORMULA_TITLE,
        year=2018,
        level="mentioned",
        authors=[("Dan Ho", [TSINGHUA])],
        arxiv="1805.00002",
    ),
    dict(
        title="A paper without any affiliation",
        year=2019,
        date="2019-02-01",
        level="cited",
        authors=[("Eve Unknown", [])],
        doi="10.1000/noaff.1",
    ),
    dict(
        title="People tracking in cafes",
        year=2016,
        level="cited",
        authors=[("Frank Moe", [STANFORD])],
        doi="10.1000/stanford.1",
    ),
    dict(
        title="Crowd analysis with unresolved affiliation",
        year=2021,
        date="2021-05-05",
        level="mentioned",
        authors=[("Gina Roe", [UNRESOLVED]), ("Hu Bo", [MEGVII])],
        doi="10.1000/unres.1",
    ),
    dict(
        title="Scene understanding benchmark",
        year=2019,
        level="used",
        authors=[("Ivy Kim", [STANFORD])],
        doi="10.1000/year2019.1",
    ),
    dict(
        title="A paper not yet judged",
        year=2022,
        date="2022-01-10",
        level=None,
        authors=[("Jo Yu", [TSINGHUA])],
        doi="10.1000/unjudged.1",
    ),
]


def build_store(path: Path) -> Store:
    """Fill a new store at `path` with the corpus above; the caller closes it."""
    store = Store(path)
    run = store.start_run("brainwash", "scan")
    for n, spec in enumerate(PAPERS):
        work = Work(
            source="openalex",
            title=spec["title"],
            year=spec["year"],
            publication_date=spec.get("date"),
            venue="CVPR" if n % 2 else "arXiv",
            doi=spec.get("doi"),
            arxiv_id=spec.get("arxiv"),
            openalex_id=spec.get("openalex", f"W{n + 1}"),
            s2_paper_id=f"s2paper{n}",
        )
        paper_id, _ = store.upsert_work(work)
        store.link("brainwash", paper_id, run, None)
        store.add_evidence(
            "brainwash",
            paper_id,
            run,
            route="cites",
            source="s2",
            target="206593654",
            contexts=[f"We train on the Brainwash dataset ({n})."],
        )
        if spec["level"]:
            store.save_judgement(
                "brainwash",
                paper_id,
                level=spec["level"],
                score=0.5 + n / 100,
                evidence=[
                    {
                        "kind": "context",
                        "text": f"We train on the Brainwash dataset ({n}).",
                        "source": "s2",
                        "matched": "Brainwash",
                    }
                ],
                reasons=["name-in-context"],
            )
        authors = [
            Author(name=name, position=i, raw_affiliations=[a["raw"] for a in affs])
            for i, (name, affs) in enumerate(spec["authors"])
        ]
        store.save_authors(paper_id, authors, "openalex", 2)
        store.mark_looked_up(paper_id, "openalex")
        for i, (_, affs) in enumerate(spec["authors"]):
            store.save_affiliations(paper_id, i, affs)
    store.set_coverage(
        "brainwash",
        run,
        source="s2",
        route="cites",
        target="206593654",
        fetched=9,
        total=9,
        capped=False,
        note=None,
    )
    store.set_coverage(
        "brainwash",
        run,
        source="s2",
        route="mentions",
        target="Brainwash dataset",
        fetched=1000,
        total=None,
        capped=True,
        note="snippet search returns at most 1000",
    )
    store.finish_run(run, "ok", requests={"s2": {"citations": 1}, "openalex": {"works": 2}})
    return store
