"""A synthetic corpus for the benchmarks: one dataset's origin paper and N citing papers.

The shape follows what the real APIs hold for a face dataset: the origin paper is one record in
Semantic Scholar and two works in OpenAlex (proceedings and arXiv); most citers are in both
sources, a few in one only, some OpenAlex citers exist twice (preprint and proceedings), some
papers only name the dataset in full text. Citing papers have 1 to 12 authors (mean about 4),
with affiliation strings written the way papers print them: universities, companies and
laboratories in many countries, a few of them military or on a sanctions list (the facts that
the classifier must catch). OpenAlex resolves most authors' institutions; the rest carry the raw
string only, as in real data. Everything is drawn from a seeded generator, so a size always
gives the same corpus.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from tests.fakeapi.corpus import Corpus

# (display name, printed as, city and postcode line, country code, OpenAlex type)
INSTITUTIONS: list[tuple[str, str, str, str, str]] = [
    ("Stanford University", "Stanford University", "Stanford, CA 94305, USA", "US", "education"),
    ("Massachusetts Institute of Technology", "MIT", "Cambridge, MA 02139, USA", "US", "education"),
    ("Carnegie Mellon University", "Carnegie Mellon University", "Pittsburgh, PA 15213, USA", "US", "education"),
    ("University of California, Berkeley", "UC Berkeley", "Berkeley, CA 94720, USA", "US", "education"),
    ("Tsinghua University", "Tsinghua University", "Beijing 100084, China", "CN", "education"),
    ("Peking University", "Peking University", "Beijing 100871, P.R. China", "CN", "education"),
    ("Zhejiang University", "Zhejiang University", "Hangzhou 310027, China", "CN", "education"),
    ("Shanghai Jiao Tong University", "Shanghai Jiao Tong University", "Shanghai 200240, China", "CN", "education"),
    ("National University of Defense Technology", "National University of Defense Technology", "Changsha 410073, China", "CN", "education"),
    ("Harbin Institute of Technology", "Harbin Institute of Technology", "Harbin 150001, China", "CN", "education"),
    ("Beihang University", "Beihang University", "Beijing 100191, China", "CN", "education"),
    ("Institute of Automation, Chinese Academy of Sciences", "Institute of Automation, Chinese Academy of Sciences", "Beijing 100190, China", "CN", "facility"),
    ("Megvii (China)", "Megvii Inc. (Face++)", "Beijing, China", "CN", "company"),
    ("SenseTime Group (China)", "SenseTime Research", "Shenzhen, China", "CN", "company"),
    ("Hikvision (China)", "Hangzhou Hikvision Digital Technology Co., Ltd.", "Hangzhou, China", "CN", "company"),
    ("Baidu (China)", "Baidu Research", "Beijing, China", "CN", "company"),
    ("Huawei Technologies (China)", "Huawei Noah's Ark Lab", "Shenzhen, China", "CN", "company"),
    ("University of Oxford", "University of Oxford", "Oxford OX1 3PJ, UK", "GB", "education"),
    ("University College London", "University College London", "London WC1E 6BT, United Kingdom", "GB", "education"),
    ("ETH Zurich", "ETH Zürich", "8092 Zürich, Switzerland", "CH", "education"),
    ("Technical University of Munich", "Technische Universität München", "80333 München, Germany", "DE", "education"),
    ("Max Planck Institute for Informatics", "Max Planck Institute for Informatics", "Saarbrücken, Germany", "DE", "facility"),
    ("French Institute for Research in Computer Science and Automation", "Inria", "Grenoble, France", "FR", "government"),
    ("University of Tokyo", "The University of Tokyo", "Tokyo 113-8656, Japan", "JP", "education"),
    ("RIKEN Center for Advanced Intelligence Project", "RIKEN AIP", "Tokyo, Japan", "JP", "facility"),
    ("Seoul National University", "Seoul National University", "Seoul 08826, Republic of Korea", "KR", "education"),
    ("Korea Advanced Institute of Science and Technology", "KAIST", "Daejeon 34141, South Korea", "KR", "education"),
    ("Indian Institute of Technology Bombay", "IIT Bombay", "Mumbai 400076, India", "IN", "education"),
    ("University of São Paulo", "Universidade de São Paulo", "São Paulo, SP, Brazil", "BR", "education"),
    ("University of Toronto", "University of Toronto", "Toronto, ON M5S, Canada", "CA", "education"),
    ("University of Melbourne", "The University of Melbourne", "Parkville VIC 3010, Australia", "AU", "education"),
    ("National University of Singapore", "National University of Singapore", "Singapore 117583", "SG", "education"),
    ("Tel Aviv University", "Tel Aviv University", "Tel Aviv, Israel", "IL", "education"),
    ("Google (United States)", "Google Research", "Mountain View, CA, USA", "US", "company"),
    ("Microsoft Research Asia (China)", "Microsoft Research Asia", "Beijing, China", "CN", "company"),
    ("Meta (United States)", "Facebook AI Research", "Menlo Park, CA, USA", "US", "company"),
    ("NVIDIA (United States)", "NVIDIA", "Santa Clara, CA, USA", "US", "company"),
    ("United States Army Research Laboratory", "U.S. Army Research Laboratory", "Adelphi, MD 20783, USA", "US", "government"),
    ("Naval Postgraduate School", "Naval Postgraduate School", "Monterey, CA 93943, USA", "US", "education"),
    ("Polytechnic University of Milan", "Politecnico di Milano", "20133 Milano, Italy", "IT", "education"),
    ("University of Amsterdam", "University of Amsterdam", "Amsterdam, The Netherlands", "NL", "education"),
    ("Moscow Institute of Physics and Technology", "Moscow Institute of Physics and Technology", "Dolgoprudny, Russia", "RU", "education"),
    ("University of Tehran", "University of Tehran", "Tehran, Iran", "IR", "education"),
    ("Cairo University", "Cairo University", "Giza, Egypt", "EG", "education"),
]
# Popular institutions appear more often, as in real citer lists.
WEIGHTS = [5 if i < 17 else 2 for i in range(len(INSTITUTIONS))]
DEPARTMENTS = [
    "Department of Computer Science",
    "School of Computer Science and Engineering",
    "Dept. of Electrical Engineering",
    "State Key Laboratory of Pattern Recognition",
    "School of Information Science and Technology",
    "Department of Automation",
    "",
]
# Authors per paper, 1 to 12: weights give a mean of about 4 (CV papers' usual team size).
AUTHOR_COUNTS = list(range(1, 13))
AUTHOR_WEIGHTS = [10, 18, 21, 17, 12, 8, 5, 3, 2, 2, 1, 1]

WORDS = (
    "robust crowd head detection counting tracking pedestrian person re-identification deep "
    "attention network dense scene occlusion real-time multi-scale transformer video "
    "surveillance weakly supervised density estimation"
).split()
USED = (
    "We train and evaluate our detector on the {name} dataset [7], which contains 11,917 "
    "images from a cafe camera."
)
EXPERIMENTS = "Experiments on {name} and two other benchmarks show consistent gains."
BACKGROUND = "Crowd counting and detection have been studied extensively [3, 7]."

NAMES = ("Cafecam", "Lobbycam", "Platformcam", "Campuscam")  # one per synthetic dataset


@dataclass(frozen=True)
class OriginIds:
    """The ids of synthetic dataset number `index`: its origin paper in both sources."""

    index: int

    @property
    def name(self) -> str:
        return NAMES[self.index]

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def doi(self) -> str:
        return f"10.5555/synthetic.origin.{self.index}"

    @property
    def arxiv(self) -> str:
        return f"1506.9999{self.index}"

    @property
    def corpus_id(self) -> int:
        return 999_000_001 + self.index

    @property
    def proceedings(self) -> str:
        return f"W99900000{self.index}1"

    @property
    def preprint(self) -> str:
        return f"W99900000{self.index}2"

    @property
    def title(self) -> str:
        return f"{self.name}: people detection in a crowded place"


@dataclass
class Shape:
    """How the citers spread over the sources; the defaults follow real face datasets."""

    citers: int
    s2_only: float = 0.04  # in S2 only: OpenAlex must be asked by DOI
    openalex_only: float = 0.04
    openalex_twice: float = 0.05  # preprint and proceedings both cite the origin in OpenAlex
    cite_arxiv: float = 0.25  # OpenAlex citers that cite the arXiv version of the origin
    resolved: float = 0.7  # authors whose institution OpenAlex resolved
    mentions: float = 0.01  # papers that only name the dataset in full text
    seed: int = 2026


@dataclass
class Facts:
    """What the corpus holds, for the lower bound: counted from the corpus, not assumed."""

    papers: int = 0  # distinct citing papers
    authors: int = 0
    s2_citations: int = 0
    openalex_citing_works: int = 0
    s2_only_dois: int = 0  # S2 citers OpenAlex's cites list does not carry
    mention_only: int = 0
    mention_phrases: int = 1
    origin_dois: int = 2
    next_number: int = 0  # the next paper number add_citers will use
    rng_state: Any = field(default=None, repr=False)


class Synthetic:
    """Builds and grows the corpus; `facts` follows every change."""

    def __init__(self, corpus: Corpus, shape: Shape, index: int = 0) -> None:
        self.corpus = corpus
        self.shape = shape
        self.ids = OriginIds(index)
        self.rng = random.Random(shape.seed + index)
        self.facts = Facts(next_number=index * 100_000)
        self.origin = _add_origin(corpus, self.ids)
        self.add_citers(shape.citers)
        self.add_mentions(max(2, round(shape.citers * shape.mentions)))

    def add_citers(self, count: int, years: tuple[int, int] = (2016, 2025)) -> None:
        """`count` more citing papers, published in `years` (first and last, inclusive)."""
        rng, shape = self.rng, self.shape
        for _ in range(count):
            n = self.facts.next_number
            self.facts.next_number += 1
            roll = rng.random()
            in_s2 = roll >= shape.openalex_only
            in_oa = not (shape.openalex_only <= roll < shape.openalex_only + shape.s2_only)
            authors = self._authors()
            title = self._title()
            year = rng.randint(*years)
            doi = f"10.5555/syn.{n}"
            arxiv = f"{17 + n % 8}{(n // 100_000) % 12 + 1:02d}.{n % 100_000:05d}"
            if in_s2:
                self._add_s2(n, title, year, doi, arxiv, authors)
                self.facts.s2_citations += 1
                if not in_oa:
                    self.facts.s2_only_dois += 1
            if in_oa:
                target = self.ids.preprint if rng.random() < shape.cite_arxiv else self.ids.proceedings
                self._add_oa(f"W8{n:09d}", doi, title, year, authors, target)
                self.facts.openalex_citing_works += 1
                if rng.random() < shape.openalex_twice:
                    self._add_oa(f"W7{n:09d}", f"10.48550/arxiv.{arxiv}", title, year - 1,
                                 authors, self.ids.preprint)
                    self.facts.openalex_citing_works += 1
            self.facts.papers += 1
            self.facts.authors += len(authors)
        _sync_counts(self.corpus, self.origin, self.ids)

    def add_mentions(self, count: int) -> None:
        """Papers that name the dataset in full text without citing it (S2 snippets)."""
        for _ in range(count):
            n = self.facts.next_number
            self.facts.next_number += 1
            title, year = self._title(), self.rng.randint(2016, 2025)
            self._add_s2(n, title, year, f"10.5555/syn.{n}", None, self._authors(), cites=False)
            self.corpus.add_snippet(
                f"Datasets of crowded scenes such as the {self.ids.name} dataset exist, but none has gaze.",
                corpus_id=_corpus_id(n), title=title, fields_of_study=["Computer Science"],
                year=year,
            )
            self.facts.mention_only += 1
            self.facts.papers += 1

    # -- pieces ---------------------------------------------------------------------------

    def _title(self) -> str:
        words = self.rng.sample(WORDS, self.rng.randint(4, 8))
        return " ".join(words).capitalize()

    def _authors(self) -> list[tuple[str, int, str]]:
        """(name, institution index, printed affiliation) per author."""
        rng = self.rng
        count = rng.choices(AUTHOR_COUNTS, AUTHOR_WEIGHTS)[0]
        home = rng.choices(range(len(INSTITUTIONS)), WEIGHTS)[0]
        out = []
        for _ in range(count):
            idx = home if rng.random() < 0.7 else rng.choices(range(len(INSTITUTIONS)), WEIGHTS)[0]
            _, printed, place, _, _ = INSTITUTIONS[idx]
            dept = rng.choice(DEPARTMENTS)
            raw = ", ".join(p for p in (dept, printed, place) if p)
            name = f"{rng.choice('ABCDEFGHJKLMNPRSTWXYZ')}. {rng.choice(SURNAMES)}"
            out.append((name, idx, raw))
        return out

    def _add_s2(
        self,
        n: int,
        title: str,
        year: int,
        doi: str,
        arxiv: str | None,
        authors: list[tuple[str, int, str]],
        *,
        cites: bool = True,
    ) -> None:
        ext: dict[str, Any] = {"DOI": doi, "CorpusId": _corpus_id(n)}
        if arxiv:
            ext["ArXiv"] = arxiv
        pid = hashlib.sha1(f"syn-{n}".encode()).hexdigest()
        self.corpus.add_s2_paper({
            "paperId": pid,
            "corpusId": _corpus_id(n),
            "externalIds": ext,
            "url": f"https://www.semanticscholar.org/paper/{pid}",
            "title": title,
            "abstract": f"We study {title.lower()}.",
            "venue": "Synthetic Vision Conference",
            "publicationVenue": None,
            "year": year,
            "publicationDate": f"{year}-06-01",
            "citationCount": 0,
            "fieldsOfStudy": ["Computer Science"],
            "s2FieldsOfStudy": [{"category": "Computer Science", "source": "s2-fos-model"}],
            "authors": [
                {"authorId": str(50_000_000 + n * 16 + i), "name": name,
                 "affiliations": [raw] if i == 0 and n % 5 == 0 else []}
                for i, (name, _, raw) in enumerate(authors)
            ],
        })
        if not cites:
            return
        roll = self.rng.random()
        if roll < 0.35:
            contexts, intents = [USED.format(name=self.ids.name)], ["methodology"]
        elif roll < 0.5:
            contexts, intents = [EXPERIMENTS.format(name=self.ids.name)], ["result"]
        else:
            contexts, intents = [BACKGROUND], ["background"]
        self.corpus.add_s2_citation(self.origin, pid, contexts=contexts, intents=intents)

    def _add_oa(
        self,
        wid: str,
        doi: str,
        title: str,
        year: int,
        authors: list[tuple[str, int, str]],
        cites: str,
    ) -> None:
        authorships = []
        for pos, (name, idx, raw) in enumerate(authors):
            display, _, _, country, kind = INSTITUTIONS[idx]
            institutions = []
            if self.rng.random() < self.shape.resolved:
                institutions = [{
                    "id": f"https://openalex.org/I{4_000_000_000 + idx}",
                    "display_name": display,
                    "ror": None,
                    "country_code": country,
                    "type": kind,
                    "lineage": [f"https://openalex.org/I{4_000_000_000 + idx}"],
                }]
            authorships.append({
                "author_position": "first" if pos == 0 else "middle",
                "author": {"id": f"https://openalex.org/A{wid[1:]}{pos:02d}", "display_name": name},
                "institutions": institutions,
                "countries": [country] if institutions else [],
                "raw_affiliation_strings": [raw],
            })
        self.corpus.add_openalex_work({
            "id": wid,
            "doi": doi,
            "title": title,
            "display_name": title,
            "publication_year": year,
            "publication_date": f"{year}-06-01",
            "type": "article",
            "ids": {"openalex": f"https://openalex.org/{wid}", "doi": f"https://doi.org/{doi}"},
            "primary_location": {"source": {"display_name": "Synthetic Vision Conference"}},
            "locations": [],
            "authorships": authorships,
            "cited_by_count": 0,
            "abstract_inverted_index": None,
            "referenced_works": [cites],
        })


SURNAMES = (
    "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo Lin Kim Lee Park Sato "
    "Suzuki Tanaka Smith Johnson Brown Garcia Miller Davis Müller Schmidt Rossi Silva Dubois "
    "Kumar Sharma Singh Cohen Ivanov Hosseini Nguyen Tran Okafor Mensah Andersson"
).split()


def _corpus_id(n: int) -> int:
    return 300_000_000 + n


def _add_origin(corpus: Corpus, ids: OriginIds) -> str:
    pid = corpus.add_s2_paper({
        "paperId": hashlib.sha1(f"syn-origin-{ids.index}".encode()).hexdigest(),
        "corpusId": ids.corpus_id,
        "externalIds": {"DOI": ids.doi, "ArXiv": ids.arxiv, "CorpusId": ids.corpus_id},
        "title": ids.title,
        "year": 2016,
        "citationCount": 0,
        "authors": [{"authorId": str(1 + ids.index), "name": "R. Stewart"}],
        "fieldsOfStudy": ["Computer Science"],
    })
    for wid, doi, year in ((ids.proceedings, ids.doi, 2016),
                           (ids.preprint, f"10.48550/arxiv.{ids.arxiv}", 2015)):
        corpus.add_openalex_work({
            "id": wid, "doi": doi, "title": ids.title, "display_name": ids.title,
            "publication_year": year, "type": "article", "authorships": [],
            "cited_by_count": 0, "referenced_works": [],
        })
    return pid


def _sync_counts(corpus: Corpus, origin: str, ids: OriginIds) -> None:
    """The origin's citation counts in both sources agree with what the corpus holds."""
    corpus.s2_papers[origin]["citationCount"] = len(corpus.s2_citations.get(origin, []))
    for wid in (ids.proceedings, ids.preprint):
        corpus.oa_works[wid]["cited_by_count"] = len(corpus.oa_cited_by.get(wid, []))
    corpus.version += 1


def catalog_entry(ids: OriginIds) -> str:
    """The catalog entry (YAML) that names a synthetic dataset's origin paper."""
    return f"""\
  - key: {ids.key}
    name: {ids.name}
    aliases: [{ids.name} dataset]
    mentions: [{ids.name} dataset]
    year: 2015
    status: {{state: withdrawn, date: "2019-06"}}
    fields_of_study: [Computer Science]
    origin_papers:
      - title: "{ids.title}"
        year: 2016
        doi: {ids.doi}
        arxiv: "{ids.arxiv}"
        s2_corpus_id: {ids.corpus_id}
"""


def catalog(datasets: list[Synthetic]) -> str:
    return "version: 1\ndatasets:\n" + "".join(catalog_entry(d.ids) for d in datasets)
