"""Semantic Scholar client against the fake server: paging, the 9,999 cap, batches, snippets."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.fakeapi import FakeApi, s2_paper
from tracer.config import load_settings
from tracer.errors import NotFoundError, SourceError
from tracer.http import HttpClient
from tracer.sources.semanticscholar import SemanticScholar


def client() -> SemanticScholar:
    return SemanticScholar(HttpClient(load_settings()))


def add_citers(api: FakeApi, count: int, start: int = 1) -> str:
    origin = api.corpus.add_s2_paper(s2_paper(0, title="The origin dataset paper"))
    for i in range(start, start + count):
        citing = api.corpus.add_s2_paper(s2_paper(i))
        api.corpus.add_s2_citation(
            origin, citing, contexts=[f"We train on X ({i})."], intents=["methodology"]
        )
    return origin


def test_paging_2500_citations_takes_3_requests(fake_api: FakeApi) -> None:
    add_citers(fake_api, 2500)
    listing = client().citations("CorpusId:100000")
    assert len(listing.items) == 2500 and not listing.capped and listing.note is None
    calls = fake_api.requests_to(r"/citations$")
    assert [(r.param("offset"), r.param("limit")) for r in calls] == [
        ("0", "1000"),
        ("1000", "1000"),
        ("2000", "1000"),
    ]
    fields = (calls[0].param("fields") or "").split(",")
    for name in ("contexts", "intents", "isInfluential", "externalIds", "abstract", "authors"):
        assert name in fields
    first = listing.items[0]
    assert first.cited == "CorpusId:100000"
    assert first.contexts == ["We train on X (1)."] and first.intents == ["methodology"]
    assert first.citing.doi == "10.5555/test.1" and first.citing.corpus_id == 100_001
    assert len({c.citing.s2_paper_id for c in listing.items}) == 2500


def test_a_list_beyond_9999_is_read_in_full_through_year_slices(fake_api: FakeApi) -> None:
    add_citers(fake_api, 10_500)
    listing = client().citations("CorpusId:100000")
    assert len(listing.items) == 10_500
    assert len({c.citing.s2_paper_id for c in listing.items}) == 10_500
    assert listing.capped is False and listing.note is None
    assert listing.slices  # coverage can show what was read
    calls = fake_api.requests_to(r"/citations$")
    assert all(int(r.param("offset") or 0) + int(r.param("limit") or 0) < 10_000 for r in calls)
    assert [c.param("publicationDateOrYear") for c in calls[:10]] == [None] * 10
    assert {c.param("publicationDateOrYear") for c in calls[10:]} == set(listing.slices)


def test_dataset_with_40000_citers_is_read_in_full_at_few_requests(fake_api: FakeApi) -> None:
    """The size of CelebA or LFW: four times what one query may list. The first query's 9,999
    rows are a sample of the citationCount's years: slices planned from it stay under the cap,
    so no slice is read to the cap and then again in parts."""
    add_citers(fake_api, 40_000)
    listing = client().citations("CorpusId:100000", expected=40_000)
    assert len(listing.items) == 40_000
    assert len({c.citing.s2_paper_id for c in listing.items}) == 40_000
    assert not listing.capped and listing.total == 40_000
    years = sorted({c.citing.year for c in listing.items if c.citing.year})
    assert years == list(range(2015, 2025))
    calls = fake_api.requests_to(r"/citations$")
    print(f"40,000 citers: {len(calls)} requests (40 pages at the least), slices {listing.slices}")
    # 10 for the capped first query, 40 for the rows, a part page per slice and the two open
    # ends; a slice read to the cap would cost 10 more.
    assert len(calls) <= 10 + 40 + len(listing.slices) + 2
    for spec in listing.slices:  # every slice read was under the cap
        asked = [c for c in calls if c.param("publicationDateOrYear") == spec]
        assert len(asked) < 10


def test_one_year_beyond_the_cap_is_reported_as_capped(fake_api: FakeApi) -> None:
    origin = fake_api.corpus.add_s2_paper(s2_paper(0, title="The origin dataset paper"))
    for i in range(1, 10_201):
        citing = fake_api.corpus.add_s2_paper(
            s2_paper(i, year=2020 if i <= 10_100 else 2021, publicationDate=None)
        )
        fake_api.corpus.add_s2_citation(origin, citing)
    listing = client().citations("CorpusId:100000")
    assert listing.capped is True
    assert listing.note is not None and "9,999" in listing.note and "2020" in listing.note
    assert len(listing.items) == 9_999 + 100  # all of 2021, the most one query gives of 2020
    assert "2021" in ",".join(listing.slices) or "2021:" in listing.slices


def test_since_is_filtered_by_the_server(fake_api: FakeApi) -> None:
    add_citers(fake_api, 100)  # years 2015..2024, ten of each
    listing = client().citations("CorpusId:100000", since=2023)
    assert {c.citing.year for c in listing.items} == {2023, 2024}
    assert len(listing.items) == 20 and listing.slices == ["2023:"]
    (call,) = fake_api.requests_to(r"/citations$")
    assert call.param("publicationDateOrYear") == "2023:"


def test_since_a_day_is_filtered_by_the_server(fake_api: FakeApi) -> None:
    """A refresh's recent window starts on a day, not on the first of January."""
    origin = fake_api.corpus.add_s2_paper(s2_paper(0, title="The origin dataset paper"))
    for n, day in enumerate(["2024-12-31", "2025-06-30", "2025-07-01", "2026-02-01"], start=1):
        citing = fake_api.corpus.add_s2_paper(s2_paper(n, publicationDate=day, year=int(day[:4])))
        fake_api.corpus.add_s2_citation(origin, citing)
    listing = client().citations("CorpusId:100000", since=date(2025, 7, 1))
    assert sorted(c.citing.publication_date or "" for c in listing.items) == [
        "2025-07-01", "2026-02-01"
    ]
    (call,) = fake_api.requests_to(r"/citations$")
    assert call.param("publicationDateOrYear") == "2025-07-01:"


def test_a_day_window_past_the_cap_is_read_by_years(fake_api: FakeApi) -> None:
    """More than one query may list since that day: every paper of those years is read, in
    slices under the cap, rather than a cut list."""
    origin = fake_api.corpus.add_s2_paper(s2_paper(0, title="The origin dataset paper"))
    for i in range(1, 11_301):
        year = 2024 if i <= 300 else 2025 + i % 2
        citing = fake_api.corpus.add_s2_paper(
            s2_paper(i, year=year, publicationDate=f"{year}-{1 + i % 12:02d}-10")
        )
        fake_api.corpus.add_s2_citation(origin, citing)
    listing = client().citations("CorpusId:100000", since=date(2025, 3, 1))
    assert not listing.capped
    years = {c.citing.year for c in listing.items}
    assert years == {2025, 2026}
    assert len(listing.items) == 11_000  # both whole years, the window's days and the rest
    assert {"2025", "2026"} <= set(listing.slices)


def test_fake_reads_publication_date_or_year_as_the_swagger_says(fake_api: FakeApi) -> None:
    import requests

    origin = fake_api.corpus.add_s2_paper(s2_paper(0))
    for n, day, year in [(1, "2019-03-05", 2019), (2, None, 2019), (3, "2020-06-30", 2020)]:
        citing = fake_api.corpus.add_s2_paper(s2_paper(n, publicationDate=day, year=year))
        fake_api.corpus.add_s2_citation(origin, citing)
    url = f"{fake_api.s2_url}/paper/{origin}/citations"

    def titles(spec: str) -> list[str]:
        params = {"fields": "title", "publicationDateOrYear": spec}
        body = requests.get(url, params=params, timeout=5).json()
        return sorted(row["citingPaper"]["title"] for row in body["data"])

    assert titles("2019") == ["Test paper 1", "Test paper 2"]
    assert titles("2019-03") == ["Test paper 1"]
    assert titles("2019-01-01") == ["Test paper 2"]  # no date: 1 January of its year
    assert titles(":2019-12") == ["Test paper 1", "Test paper 2"]
    assert titles("2020-06:") == ["Test paper 3"]
    assert titles("2016-03-05:2020-06-06") == ["Test paper 1", "Test paper 2"]
    bad = requests.get(url, params={"publicationDateOrYear": "last year"}, timeout=5)
    assert bad.status_code == 400


def test_rows_without_a_paper_id_are_counted_not_kept(fake_api: FakeApi) -> None:
    origin = add_citers(fake_api, 30)
    for n in range(3):
        fake_api.corpus.add_s2_unresolved_citation(origin, f"Working paper {n} with no record")
    listing = client().citations("CorpusId:100000")
    assert len(listing.items) == 30 and listing.unresolved == 3
    assert all(c.citing.s2_paper_id for c in listing.items)
    assert "Working paper" not in " ".join(str(c.citing.title) for c in listing.items)


def test_batch_asks_for_affiliations_which_citation_pages_never_carry(fake_api: FakeApi) -> None:
    origin = fake_api.corpus.add_s2_paper(s2_paper(0))
    citing = fake_api.corpus.add_s2_paper(
        s2_paper(
            1,
            journal={"name": "Journal of Tests", "volume": "3"},
            venue="",
            authors=[{"authorId": "7", "name": "A. Author", "affiliations": ["Uni of Tests"]}],
        )
    )
    fake_api.corpus.add_s2_citation(origin, citing)
    (listed,) = client().citations(origin).items
    assert listed.citing.authors[0].raw_affiliations == []  # AuthorInfo: id and name only
    assert listed.citing.venue == "Journal of Tests"  # `journal` is asked for now
    (work,) = client().papers([citing])
    assert work is not None and work.authors[0].raw_affiliations == ["Uni of Tests"]
    assert work.venue == "Journal of Tests"
    (batch,) = fake_api.requests_to(r"/paper/batch$", "POST")
    fields = (batch.param("fields") or "").split(",")
    assert "authors.affiliations" in fields and "journal" in fields
    (plain,) = client().papers([citing], affiliations=False)
    assert plain is not None and plain.authors[0].raw_affiliations == []


def test_fake_citations_refuse_author_affiliations(fake_api: FakeApi) -> None:
    import requests

    origin = fake_api.corpus.add_s2_paper(s2_paper(0))
    url = f"{fake_api.s2_url}/paper/{origin}/citations"
    answer = requests.get(url, params={"fields": "title,authors.affiliations"}, timeout=5)
    assert answer.status_code == 400 and "authors.affiliations" in answer.json()["error"]


def test_a_next_that_creeps_forward_fails_the_listing_at_once(fake_api: FakeApi) -> None:
    add_citers(fake_api, 3000)
    fake_api.corpus.misbehave["s2_next_step"] = 1  # `next` = offset + 1 after 1,000 rows
    with pytest.raises(SourceError, match="moved `next` on by 1 after a page of 1,000 rows"):
        client().citations("CorpusId:100000")
    assert len(fake_api.requests_to(r"/citations$")) == 1


def test_a_repeated_offset_fails_the_listing(fake_api: FakeApi) -> None:
    add_citers(fake_api, 3000)
    fake_api.inject(r"/citations$", "body", times=None, body={"offset": 0, "next": 0, "data": []})
    with pytest.raises(SourceError, match="repeated the offset 0"):
        client().citations("CorpusId:100000")
    assert len(fake_api.requests_to(r"/citations$")) == 1


def test_rows_of_the_wrong_type_are_skipped_and_counted(fake_api: FakeApi) -> None:
    origin = add_citers(fake_api, 5)
    corpus = fake_api.corpus
    bad_title = corpus.add_s2_paper(s2_paper(50, title=["a", "list"]))
    bad_ids = corpus.add_s2_paper(s2_paper(51))
    corpus.s2_papers[bad_ids]["externalIds"] = "DOI:10.1/x"
    corpus.add_s2_citation(origin, bad_title)
    corpus.add_s2_citation(origin, bad_ids)
    corpus.s2_citations[origin].append(dict(corpus.s2_citations[origin][0], intents=5))
    listing = client().citations("CorpusId:100000")
    assert len(listing.items) == 5 and listing.skipped == 3
    assert listing.note is not None and "wrong type" in listing.note
    assert "title" in listing.note and "externalIds" in listing.note and "intents" in listing.note


def test_exactly_9999_citations_are_complete_not_capped(fake_api: FakeApi) -> None:
    add_citers(fake_api, 9_999)
    listing = client().citations("CorpusId:100000")
    assert len(listing.items) == 9_999 and listing.capped is False


def test_no_citations_is_an_empty_listing(fake_api: FakeApi) -> None:
    fake_api.corpus.add_s2_paper(s2_paper(0))
    listing = client().citations("CorpusId:100000")
    assert listing.items == [] and not listing.capped


def test_citations_of_an_unknown_paper_fail_the_step_not_the_run(fake_api: FakeApi) -> None:
    """A 404 from a list endpoint is a failed step (SourceError: the run ends partial), not a
    missing record (NotFoundError: exit 3 for the whole scan)."""
    with pytest.raises(SourceError, match="Paper with id CorpusId:1 not found") as caught:
        client().citations("CorpusId:1")
    assert not isinstance(caught.value, NotFoundError) and caught.value.status == 404


def test_snippet_search_404_fails_the_step(fake_api: FakeApi) -> None:
    fake_api.inject(r"/snippet/search$", status=404, times=None)
    with pytest.raises(SourceError) as caught:
        client().snippets("brainwash")
    assert not isinstance(caught.value, NotFoundError)


@pytest.mark.parametrize(
    "ref", ["CorpusId:100007", "DOI:10.5555/test.7", "doi:10.5555/TEST.7", "ARXIV:1506.04878"]
)
def test_paper_by_any_id_form(fake_api: FakeApi, ref: str) -> None:
    fake_api.corpus.add_s2_paper(
        s2_paper(
            7,
            externalIds={"DOI": "10.5555/TEST.7", "ArXiv": "1506.04878", "CorpusId": 100_007},
        )
    )
    work = client().paper(ref)
    assert work is not None
    assert work.corpus_id == 100_007 and work.doi == "10.5555/test.7"
    assert work.arxiv_id == "1506.04878" and work.year == 2022


def test_unknown_paper_is_none(fake_api: FakeApi) -> None:
    assert client().paper("DOI:10.9999/nothing") is None


def test_sparse_records_parse(fake_api: FakeApi) -> None:
    origin = fake_api.corpus.add_s2_paper(s2_paper(0))
    sparse = fake_api.corpus.add_s2_paper(
        {
            "paperId": "f" * 40,
            "title": "Untitled draft",
            "year": None,
            "externalIds": None,
            "authors": None,
            "fieldsOfStudy": None,
            "s2FieldsOfStudy": None,
            "venue": "",
            "publicationVenue": {"name": "Fallback Venue"},
        }
    )
    fake_api.corpus.s2_citations.setdefault(origin, []).append(
        {
            "citing": sparse,
            "contexts": None,
            "intents": None,
            "contextsWithIntent": [{"context": "as in [3]", "intents": ["background"]}],
            "isInfluential": None,
        }
    )
    (citation,) = client().citations(origin).items
    assert citation.citing.title == "Untitled draft" and citation.citing.year is None
    assert citation.citing.authors == [] and citation.citing.doi is None
    assert citation.citing.venue == "Fallback Venue"
    assert citation.contexts == ["as in [3]"] and citation.intents == ["background"]
    assert citation.is_influential is None


def test_batch_lookup_takes_500_ids_per_call(fake_api: FakeApi) -> None:
    for i in range(1, 1101):
        fake_api.corpus.add_s2_paper(s2_paper(i))
    ids = [f"CorpusId:{100_000 + i}" for i in range(1, 1101)] + ["CorpusId:1"]
    works = client().papers(ids)
    assert len(works) == 1101
    assert works[-1] is None
    assert [w.corpus_id for w in works[:3] if w] == [100_001, 100_002, 100_003]
    calls = fake_api.requests_to(r"/paper/batch$", "POST")
    assert [len(json.loads(r.body)["ids"]) for r in calls] == [500, 500, 101]


def test_citation_counts_in_one_call(fake_api: FakeApi) -> None:
    fake_api.corpus.add_s2_paper(s2_paper(1, citationCount=42))
    fake_api.corpus.add_s2_paper(s2_paper(2, citationCount=7))
    counts = client().citation_counts(["CorpusId:100001", "DOI:10.5555/test.2", "CorpusId:5"])
    assert counts == {"CorpusId:100001": 42, "DOI:10.5555/test.2": 7, "CorpusId:5": None}
    (call,) = fake_api.requests
    assert call.method == "POST" and call.param("fields") == "citationCount"


def test_snippets_filter_and_carry_ref_mentions(fake_api: FakeApi) -> None:
    corpus = fake_api.corpus
    corpus.add_snippet(
        "We evaluate on the Brainwash dataset [12].",
        corpus_id=5,
        title="Head detection",
        authors=["A. One"],
        ref_corpus_ids=[100_000],
        fields_of_study=["Computer Science"],
        year=2019,
        score=0.9,
        section="Experiments",
    )
    corpus.add_snippet(
        "Brainwash dataset, in the psychological sense.",
        corpus_id=6,
        fields_of_study=["Psychology"],
        year=2019,
    )
    corpus.add_snippet(
        "An older use of the Brainwash dataset.",
        corpus_id=7,
        fields_of_study=["Computer Science"],
        year=2014,
    )
    found = client().snippets(
        "brainwash dataset", fields_of_study=["Computer Science"], year="2016-2020"
    )
    assert [s.paper.corpus_id for s in found] == [5]
    snippet = found[0]
    assert snippet.ref_corpus_ids == [100_000]
    assert snippet.section == "Experiments" and snippet.kind == "body"
    assert snippet.paper.title == "Head detection" and snippet.paper.authors[0].name == "A. One"
    assert snippet.query == "brainwash dataset" and snippet.score == 0.9
    (call,) = fake_api.requests_to(r"/snippet/search$")
    assert call.param("fieldsOfStudy") == "Computer Science"
    assert call.param("year") == "2016-2020" and call.param("limit") == "1000"


def test_snippet_limit_never_exceeds_1000(fake_api: FakeApi) -> None:
    fake_api.corpus.add_snippet("brainwash", corpus_id=1)
    assert len(client().snippets("brainwash", limit=5000)) == 1
    assert fake_api.requests[0].param("limit") == "1000"


def test_fake_bulk_search_can_end_early_with_token_null(fake_api: FakeApi) -> None:
    """The fault the real API shows under load: `token: null` before the end; `total` tells."""
    import requests

    for i in range(1, 2501):
        fake_api.corpus.add_s2_paper(s2_paper(i, title=f"Crowd counting study {i}"))
    url = f"{fake_api.s2_url}/paper/search/bulk"
    page = requests.get(url, params={"query": "crowd counting"}, timeout=5).json()
    assert page["total"] == 2500 and len(page["data"]) == 1000 and page["token"]
    fake_api.inject(r"/paper/search/bulk$", "token_null", times=1)
    page = requests.get(url, params={"query": "crowd", "token": page["token"]}, timeout=5).json()
    assert page["token"] is None and len(page["data"]) == 1000 and page["total"] == 2500
