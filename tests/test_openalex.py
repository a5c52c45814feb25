"""OpenAlex client against the fake server: lookups, doi batches, cites paging, institutions."""

from __future__ import annotations

import pytest

from tests.fakeapi import FakeApi, openalex_work
from tracer.config import load_settings
from tracer.errors import AuthError, NotFoundError, SourceError
from tracer.http import HttpClient
from tracer.sources.openalex import OpenAlex

KEY = "oa-test-key-5521"


def client() -> OpenAlex:
    return OpenAlex(HttpClient(load_settings()))


def authorship(position: str, name: str, inst: dict[str, object] | None) -> dict[str, object]:
    return {
        "author_position": position,
        "author": {"id": f"https://openalex.org/A{abs(hash(name)) % 10**6}", "display_name": name},
        "institutions": [inst] if inst else [],
        "countries": [inst["country_code"]] if inst else [],
        "raw_affiliation_strings": ["National University of Defense Technology, Changsha, China"]
        if inst
        else [],
    }


NUDT = {
    "id": "https://openalex.org/I170215575",
    "display_name": "National University of Defense Technology",
    "ror": "https://ror.org/05d2yfz11",
    "country_code": "CN",
    "type": "education",
    "lineage": ["https://openalex.org/I170215575"],
}


def test_work_by_id_and_doi_forms(fake_api: FakeApi) -> None:
    fake_api.corpus.add_openalex_work(
        openalex_work(
            1,
            doi="https://doi.org/10.48550/arXiv.1506.04878",
            authorships=[authorship("first", "Wei Li", NUDT), authorship("last", "No Aff", None)],
            abstract_inverted_index={
                "We": [0],
                "count": [1],
                "heads": [2],
                "crowds": [4],
                "in": [3],
            },
        )
    )
    api = client()
    for ref in (
        "W7000001",
        "https://openalex.org/W7000001",
        "10.48550/arxiv.1506.04878",
        "doi:10.48550/ARXIV.1506.04878",
        "https://doi.org/10.48550/arXiv.1506.04878",
    ):
        work = api.work(ref)
        assert work is not None and work.openalex_id == "W7000001", ref
    assert work.doi == "10.48550/arxiv.1506.04878" and work.arxiv_id == "1506.04878"
    assert work.abstract == "We count heads in crowds"
    first, last = work.authors
    assert (first.name, first.position, last.position) == ("Wei Li", 0, 1)
    assert first.raw_affiliations == ["National University of Defense Technology, Changsha, China"]
    assert first.countries == ["CN"]
    (inst,) = first.institutions
    assert (inst.openalex_id, inst.ror, inst.type) == ("I170215575", "05d2yfz11", "education")
    assert inst.lineage == ["I170215575"]
    assert last.institutions == [] and last.raw_affiliations == []


def test_arxiv_id_from_a_location(fake_api: FakeApi) -> None:
    fake_api.corpus.add_openalex_work(
        openalex_work(2, locations=[{"landing_page_url": "https://arxiv.org/abs/1703.07402v3"}])
    )
    work = client().work("W7000002")
    assert work is not None and work.arxiv_id == "1703.07402"


def test_unknown_work_and_institution_are_none(fake_api: FakeApi) -> None:
    api = client()
    assert api.work("W1") is None and api.work("10.1/none") is None
    assert api.institution("I1") is None


def test_institution_lookup_keeps_the_funder_type_for_resolution(fake_api: FakeApi) -> None:
    fake_api.corpus.add_openalex_institution(
        {
            "id": "https://openalex.org/I27837315",
            "ror": "https://ror.org/00jmfr291",
            "display_name": "University of Michigan",
            "country_code": "us",
            "type": "funder",
            "lineage": ["https://openalex.org/I27837315"],
        }
    )
    inst = client().institution("https://openalex.org/I27837315")
    assert inst is not None
    assert (inst.ror, inst.country_code, inst.type) == ("00jmfr291", "US", "funder")


def test_doi_batches_respect_100_values_and_4096_chars(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    fake_api.require_openalex_key = KEY
    short = [f"10.5555/test.{i}" for i in range(250)]
    long = [
        f"10.5555/a-rather-long-doi-suffix-of-a-proceedings-paper-{'x' * 20}.{i}"
        for i in range(250, 400)
    ]
    for i, doi in enumerate(short + long):
        fake_api.corpus.add_openalex_work(openalex_work(i, doi=doi))
    works = client().works_by_doi(short + long + ["10.9999/absent"])
    assert {w.doi for w in works} == set(short + long)
    calls = fake_api.requests_to(r"^/openalex/works$")
    for call in calls:
        values = (call.param("filter") or "").removeprefix("doi:").split("|")
        assert len(values) <= 100
        assert len(fake_api.base_url + call.url) < 4096
        assert call.param("per_page") == "100" and call.param("cursor") == "*"
    assert max(len(fake_api.base_url + c.url) for c in calls) > 3500  # the URL bound bit
    assert len(calls) >= 6  # 250 short ones need 3 calls; the long ones more than 100 chars each


def test_doi_lookups_without_a_key_fall_back_to_free_single_records(fake_api: FakeApi) -> None:
    fake_api.require_openalex_key = KEY  # lists would be refused
    for i in range(3):
        fake_api.corpus.add_openalex_work(openalex_work(i))
    works = client().works_by_doi(["10.5555/test.0", "https://doi.org/10.5555/TEST.1", "10.1/x"])
    assert [w.openalex_id for w in works] == ["W7000000", "W7000001"]
    assert fake_api.requests_to(r"^/openalex/works$") == []
    assert len(fake_api.requests_to(r"^/openalex/works/doi:")) == 3


def test_citing_works_page_by_cursor_over_every_version(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    corpus = fake_api.corpus
    preprint = corpus.add_openalex_work(openalex_work(0))
    published = corpus.add_openalex_work(openalex_work(1))
    for i in range(10, 260):  # 250 cite both versions, 20 only the preprint
        corpus.add_openalex_work(openalex_work(i, referenced_works=[preprint, published]))
    for i in range(300, 320):
        corpus.add_openalex_work(openalex_work(i, referenced_works=[preprint]))
    works = list(client().citing_works([preprint, f"https://openalex.org/{published}"]))
    assert len(works) == 270 and len({w.openalex_id for w in works}) == 270
    calls = fake_api.requests_to(r"^/openalex/works$")
    assert len(calls) == 3
    assert calls[0].param("cursor") == "*" and calls[1].param("cursor") not in (None, "*")
    assert calls[0].param("filter") == f"cites:{preprint}|{published}"
    select = calls[0].param("select") or ""
    assert "." not in select and "authorships" in select


def test_truncated_authorships_are_flagged_in_lists(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    origin = fake_api.corpus.add_openalex_work(openalex_work(0))
    many = [authorship("middle", f"Person {i}", None) for i in range(130)]
    fake_api.corpus.add_openalex_work(openalex_work(1, authorships=many, referenced_works=[origin]))
    (listed,) = client().citing_works([origin])
    assert listed.authors_truncated and len(listed.authors) == 100
    single = client().work("W7000001")
    assert single is not None and not single.authors_truncated and len(single.authors) == 130


def test_cited_by_counts_in_one_call(fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    fake_api.corpus.add_openalex_work(openalex_work(1, cited_by_count=12))
    fake_api.corpus.add_openalex_work(openalex_work(2, cited_by_count=3))
    counts = client().cited_by_counts(["W7000001", "https://openalex.org/W7000002", "W1"])
    assert counts == {"W7000001": 12, "W7000002": 3}
    (call,) = fake_api.requests
    assert call.param("select") == "id,cited_by_count"
    assert call.param("filter") == "openalex:W7000001|W7000002|W1"


def test_list_refused_without_key_is_an_auth_error(fake_api: FakeApi) -> None:
    fake_api.require_openalex_key = KEY
    with pytest.raises(AuthError) as info:
        list(client().citing_works(["W7000000"]))
    assert info.value.hint is not None and "OPENALEX_API_KEY" in info.value.hint


def add_citing(api: FakeApi, count: int, *, versions: int = 1) -> list[str]:
    """`versions` origin works (W7000000...) and `count` works citing all of them."""
    origins = [api.corpus.add_openalex_work(openalex_work(v)) for v in range(versions)]
    for i in range(100, 100 + count):
        api.corpus.add_openalex_work(openalex_work(i, referenced_works=origins))
    return origins


def test_paging_stops_at_meta_count_instead_of_paying_for_an_empty_page(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    origins = add_citing(fake_api, 200)
    stream = client().citing_works(origins)
    assert len(list(stream)) == 200
    calls = fake_api.requests_to(r"^/openalex/works$")
    assert len(calls) == 2  # the real API still hands out a cursor after the last full page


def test_the_listing_total_is_its_own_count_not_the_versions_cited_by_counts(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    origins = add_citing(fake_api, 150, versions=2)
    for wid in origins:
        fake_api.corpus.oa_works[wid]["cited_by_count"] = 150  # 300 summed over versions
    stream = client().citing_works(origins)
    assert stream.total is None  # nothing asked yet: it streams
    works = list(stream)
    assert len(works) == 150 and stream.total == 150
    assert not stream.capped and stream.skipped == 0 and stream.note is None


def test_without_a_key_lists_page_by_number(fake_api: FakeApi) -> None:
    origins = add_citing(fake_api, 250)
    stream = client().citing_works(origins)
    assert len(list(stream)) == 250 and stream.total == 250
    calls = fake_api.requests_to(r"^/openalex/works$")
    assert [(c.param("page"), c.param("cursor")) for c in calls] == [
        ("1", None),
        ("2", None),
        ("3", None),
    ]
    assert all(c.param("api_key") is None for c in calls)


def test_without_a_key_a_spent_budget_propagates_and_lookups_stay_free(
    fake_api: FakeApi,
) -> None:
    from tests.fakeapi.openalex_routes import keyless_budget

    keyless_budget(fake_api, calls=2)
    origins = add_citing(fake_api, 250)
    got = []
    with pytest.raises(SourceError) as caught:
        for work in client().citing_works(origins):
            got.append(work)
    assert caught.value.status == 429 and not isinstance(caught.value, AuthError)
    assert len(got) == 200  # what came before the budget ran out was streamed
    assert client().work("W7000100") is not None  # single records cost nothing


def test_fake_refuses_keyless_cursor_paging_past_the_first_page(fake_api: FakeApi) -> None:
    import requests

    origins = add_citing(fake_api, 150)
    url = f"{fake_api.openalex_url}/works"
    first = requests.get(url, params={"filter": f"cites:{origins[0]}", "cursor": "*"}, timeout=5)
    assert first.status_code == 200
    cursor = first.json()["meta"]["next_cursor"]
    second = requests.get(
        url, params={"filter": f"cites:{origins[0]}", "cursor": cursor}, timeout=5
    )
    assert second.status_code == 401


def test_without_a_key_a_list_beyond_10000_is_capped(fake_api: FakeApi) -> None:
    from tests.fakeapi.openalex_routes import keyless_budget

    keyless_budget(fake_api, calls=1000)
    origins = add_citing(fake_api, 10_050)
    stream = client().citing_works(origins)
    assert len(list(stream)) == 10_000
    assert stream.capped and stream.total == 10_050
    assert stream.note is not None and "OPENALEX_API_KEY" in stream.note
    assert len(fake_api.requests_to(r"^/openalex/works$")) == 100


def test_a_repeating_cursor_fails_the_listing_at_once(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    origins = add_citing(fake_api, 5)
    page = {
        "meta": {"count": 5000, "next_cursor": "AAAA"},
        "results": [openalex_work(n) for n in range(500, 600)],
    }
    fake_api.inject(r"^/openalex/works$", "body", times=20, body=page)
    with pytest.raises(SourceError, match="cursor 'AAAA' a second time"):
        list(client().citing_works(origins))
    assert len(fake_api.requests_to(r"^/openalex/works$")) == 2


def test_fake_cursor_can_repeat_and_the_client_stops(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    origins = add_citing(fake_api, 450)
    fake_api.corpus.misbehave["openalex_repeat_cursor"] = True
    with pytest.raises(SourceError, match="a second time"):
        list(client().citing_works(origins))
    assert len(fake_api.requests_to(r"^/openalex/works$")) == 2  # the second gave it back


def test_rows_of_the_wrong_type_are_skipped_and_counted(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    (origin,) = add_citing(fake_api, 4)
    stored = fake_api.corpus.oa_works
    stored["W7000100"]["doi"] = 5
    stored["W7000101"]["id"] = 12
    stored["W7000102"]["authorships"] = [{"author": 5}]
    stream = client().citing_works([origin])
    works = list(stream)
    assert [w.openalex_id for w in works] == ["W7000103"]
    assert stream.skipped == 3 and stream.total == 4
    assert stream.note is not None
    for name in ("doi", "id", "author"):
        assert name in stream.note


def test_a_404_from_a_list_fails_the_step_but_a_record_404_is_none(
    fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    fake_api.inject(r"^/openalex/works$", status=404, times=None)
    with pytest.raises(SourceError) as caught:
        list(client().citing_works(["W7000000"]))
    assert not isinstance(caught.value, NotFoundError) and caught.value.status == 404
    with pytest.raises(SourceError) as caught:
        client().cited_by_counts(["W7000000"])
    assert not isinstance(caught.value, NotFoundError)
    with pytest.raises(SourceError) as caught:
        client().works_by_doi(["10.5555/test.1"])
    assert not isinstance(caught.value, NotFoundError)
    assert client().work("W7000999") is None


def test_cited_by_counts_without_a_key_spend_no_list_calls(fake_api: FakeApi) -> None:
    from tests.fakeapi.openalex_routes import keyless_budget

    keyless_budget(fake_api, calls=0)  # spent: any list call would get a 429
    fake_api.corpus.add_openalex_work(openalex_work(1, cited_by_count=12))
    counts = client().cited_by_counts(["W7000001", "W1"])
    assert counts == {"W7000001": 12}
    assert fake_api.requests_to(r"^/openalex/works$") == []
