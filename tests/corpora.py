"""Test corpora for the fake API: a Brainwash-like world, small enough to reason about.

`add_brainwash` puts in the fake server what the real APIs hold for Brainwash's origin paper, in
miniature: the CVPR version and the arXiv version (one record in S2, two works in OpenAlex), and
citing papers of each kind the scan must tell apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fakeapi.corpus import Corpus, openalex_work, s2_paper

ORIGIN_CORPUS_ID = 206593654
ORIGIN_DOI = "10.1109/cvpr.2016.255"
ORIGIN_ARXIV = "1506.04878"
W_PROCEEDINGS = "W2963000001"
W_ARXIV = "W2963000002"

NUDT = "School of Computer, National University of Defense Technology, Changsha 410073, China"
MEGVII = "Megvii Inc. (Face++), Beijing, China"
STANFORD = "Dept. of Electrical Engineering, Stanford University, Stanford, CA 94305, USA"

USED_SENTENCE = (
    "We train and evaluate our head detector on the Brainwash dataset [12], which contains "
    "11,917 images from a cafe camera."
)
BACKGROUND_SENTENCE = "Crowd counting and detection have been studied extensively [4, 12]."
MENTION_SENTENCE = (
    "Datasets of crowded scenes such as the Brainwash dataset and Mall exist, but none of them "
    "is annotated for gaze."
)
OFF_TOPIC_SENTENCE = (
    "Model brainwashing is a backdoor attack; we build a poisoned dataset to study it."
)


BRAINWASH_CATALOG = """\
version: 1
datasets:
  - key: brainwash
    name: Brainwash
    aliases: [Brainwash dataset]
    mentions: [Brainwash dataset]
    year: 2014
    status: {state: withdrawn, date: "2019-06"}
    fields_of_study: [Computer Science]
    origin_papers:
      - title: End-to-end people detection in crowded scenes
        year: 2016
        doi: 10.1109/cvpr.2016.255
        arxiv: "1506.04878"
        s2_corpus_id: 206593654
  - key: nowhere
    name: Nowhere
    mentions: [Nowhere dataset]
    fields_of_study: [Computer Science]
    year: 2014
    origin_papers:
      - title: A paper no source knows
        year: 2014
        doi: 10.5555/does.not.exist
        s2_corpus_id: 1
"""


def use_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str = BRAINWASH_CATALOG
) -> Path:
    """Write a catalog, point TRACER_CATALOG at it and TRACER_DB beside it; the db's path."""
    catalog = tmp_path / "datasets.yaml"
    catalog.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TRACER_CATALOG", str(catalog))
    db = tmp_path / "tracer.db"
    monkeypatch.setenv("TRACER_DB", str(db))
    return db


@dataclass
class Expected:
    used: str  # titles
    cited: str
    versions: str
    mentioned: str
    off_topic: str


def _oa_authorship(raw: str, institutions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    countries = sorted({i["country_code"] for i in institutions or [] if i.get("country_code")})
    return {
        "author_position": "first",
        "author": {"id": None, "display_name": "An Author"},
        "institutions": institutions or [],
        "countries": countries,
        "raw_affiliation_strings": [raw],
    }


def add_origin(corpus: Corpus, citation_count: int) -> str:
    """The origin paper in both sources; returns its S2 paperId."""
    pid = corpus.add_s2_paper(
        s2_paper(
            0,
            corpusId=ORIGIN_CORPUS_ID,
            externalIds={"DOI": ORIGIN_DOI, "ArXiv": ORIGIN_ARXIV, "CorpusId": ORIGIN_CORPUS_ID},
            title="End-to-End People Detection in Crowded Scenes",
            year=2016,
            citationCount=citation_count,
        )
    )
    corpus.add_openalex_work(
        openalex_work(
            0,
            id=W_PROCEEDINGS,
            doi=ORIGIN_DOI,
            title="End-to-End People Detection in Crowded Scenes",
            publication_year=2016,
        )
    )
    corpus.add_openalex_work(
        openalex_work(
            1,
            id=W_ARXIV,
            doi=f"10.48550/arxiv.{ORIGIN_ARXIV}",
            title="End-to-end people detection in crowded scenes",
            publication_year=2015,
        )
    )
    return pid


def add_brainwash(corpus: Corpus) -> Expected:
    origin = add_origin(corpus, citation_count=3)

    # Used in experiments, by NUDT authors (raw affiliation only: the classifier must find it).
    used = corpus.add_s2_paper(
        s2_paper(
            1,
            title="Head detection in dense crowds",
            year=2018,
            externalIds={"DOI": "10.5555/used.1", "CorpusId": 100001},
        )
    )
    corpus.add_s2_citation(origin, used, contexts=[USED_SENTENCE], intents=["methodology"])
    corpus.add_openalex_work(
        openalex_work(
            11,
            doi="10.5555/used.1",
            title="Head detection in dense crowds",
            publication_year=2018,
            referenced_works=[W_PROCEEDINGS],
            authorships=[_oa_authorship(NUDT)],
        )
    )

    # Cited in background only, by a Megvii author (institution known to OpenAlex).
    cited = corpus.add_s2_paper(
        s2_paper(
            2,
            title="A survey of crowd analysis",
            year=2020,
            externalIds={"DOI": "10.5555/cited.2", "CorpusId": 100002},
        )
    )
    corpus.add_s2_citation(origin, cited, contexts=[BACKGROUND_SENTENCE], intents=["background"])
    megvii = {
        "id": "https://openalex.org/I4210000001",
        "display_name": "Megvii (China)",
        "ror": None,
        "country_code": "CN",
        "type": "company",
        "lineage": [],
    }
    corpus.add_openalex_work(
        openalex_work(
            12,
            doi="10.5555/cited.2",
            title="A survey of crowd analysis",
            publication_year=2020,
            referenced_works=[W_ARXIV],
            authorships=[_oa_authorship(MEGVII, [megvii])],
        )
    )

    # One paper, two versions in OpenAlex (arXiv preprint and proceedings), one record in S2.
    versions = corpus.add_s2_paper(
        s2_paper(
            3,
            title="Counting people with point supervision",
            year=2019,
            externalIds={"DOI": "10.5555/versions.3", "ArXiv": "1901.00003", "CorpusId": 100003},
        )
    )
    corpus.add_s2_citation(origin, versions, contexts=[BACKGROUND_SENTENCE], intents=["background"])
    corpus.add_openalex_work(
        openalex_work(
            13,
            doi="10.5555/versions.3",
            title="Counting People with Point Supervision",
            publication_year=2019,
            referenced_works=[W_PROCEEDINGS],
            authorships=[_oa_authorship(STANFORD)],
        )
    )
    corpus.add_openalex_work(
        openalex_work(
            14,
            doi="10.48550/arxiv.1901.00003",
            title="Counting people with point supervision",
            publication_year=2019,
            referenced_works=[W_ARXIV],
            authorships=[_oa_authorship(STANFORD)],
        )
    )

    # Named in full text without citing: mentioned.
    corpus.add_s2_paper(
        s2_paper(
            4,
            title="Gaze following in crowds",
            year=2021,
            externalIds={"DOI": "10.5555/mention.4", "CorpusId": 100004},
        )
    )
    corpus.add_snippet(
        MENTION_SENTENCE,
        corpus_id=100004,
        title="Gaze following in crowds",
        fields_of_study=["Computer Science"],
        year=2021,
    )
    corpus.add_openalex_work(
        openalex_work(
            15,
            doi="10.5555/mention.4",
            title="Gaze following in crowds",
            publication_year=2021,
            authorships=[_oa_authorship(STANFORD)],
        )
    )

    # "brainwashing" in a computer-science paper: not the dataset.
    corpus.add_s2_paper(
        s2_paper(
            5,
            title="Model brainwashing attacks",
            year=2022,
            externalIds={"DOI": "10.5555/offtopic.5", "CorpusId": 100005},
        )
    )
    corpus.add_snippet(
        OFF_TOPIC_SENTENCE,
        corpus_id=100005,
        title="Model brainwashing attacks",
        fields_of_study=["Computer Science"],
        year=2022,
    )
    # And a psychology paper, which the field-of-study filter keeps out.
    corpus.add_snippet(
        "Brainwash: a dataset of interviews with former cult members.",
        corpus_id=100006,
        title="Coercive persuasion",
        fields_of_study=["Psychology"],
        year=2019,
    )
    sync_counts(corpus)
    return Expected(
        used="Head detection in dense crowds",
        cited="A survey of crowd analysis",
        versions="Counting people with point supervision",
        mentioned="Gaze following in crowds",
        off_topic="Model brainwashing attacks",
    )


def add_citers(corpus: Corpus, origin: str, count: int, start: int = 1000) -> None:
    """`count` more citing papers, in both sources, each with one affiliation string."""
    for n in range(start, start + count):
        doi = f"10.5555/citer.{n}"
        pid = corpus.add_s2_paper(
            s2_paper(
                n,
                title=f"Citing paper number {n}",
                year=2017 + n % 6,
                externalIds={"DOI": doi, "CorpusId": 200_000 + n},
            )
        )
        corpus.add_s2_citation(origin, pid, contexts=[BACKGROUND_SENTENCE], intents=["background"])
        corpus.add_openalex_work(
            openalex_work(
                n,
                doi=doi,
                title=f"Citing paper number {n}",
                publication_year=2017 + n % 6,
                referenced_works=[W_PROCEEDINGS],
                authorships=[_oa_authorship(STANFORD)],
            )
        )
    sync_counts(corpus)


def sync_counts(corpus: Corpus) -> None:
    """Citation counts in both sources agree with the citations the corpus holds."""
    for pid, paper in corpus.s2_papers.items():
        paper["citationCount"] = len(corpus.s2_citations.get(pid, []))
    for wid, work in corpus.oa_works.items():
        work["cited_by_count"] = len(corpus.oa_cited_by.get(wid, []))
    corpus.version += 1
