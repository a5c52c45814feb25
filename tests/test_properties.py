"""Properties of the parts that take arbitrary text from APIs and users, checked by hypothesis;
and untrusted text carried end to end (API -> store -> HTML/CSV/Markdown).
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.corpora import ORIGIN_CORPUS_ID, add_brainwash, sync_counts, use_catalog
from tests.fakeapi.corpus import openalex_work, s2_paper
from tests.fakeapi.server import FakeApi
from tests.fault_table import record
from tests.helpers import run_cli
from tests.report_corpus import DATASET
from tracer.affiliations.countries import detect_country
from tracer.affiliations.normalize import fold, normalize, split_affiliations
from tracer.catalog import Catalog, parse_catalog
from tracer.errors import CatalogError
from tracer.merge import MIN_TITLE_KEY, canonical_ids, normalize_title, title_key
from tracer.records import Author, Work
from tracer.render.html import render_html
from tracer.render.tables import FORMULA_START, to_csv
from tracer.report import build_report
from tracer.store import Store

FAST = settings(max_examples=150, deadline=None)
HOSTILE = st.text(
    # Lone surrogates cannot come from a source: the HTTP layer replaces them (test_faults).
    alphabet=st.sampled_from(list("<>&\"'=+-@\t\r\n/;`aZé中 "))
    | st.characters(blacklist_categories=["Cs"]),
    max_size=60,
)

# -- titles and merging -----------------------------------------------------------------------


@FAST
@given(st.text())
def test_title_normalisation_is_idempotent_and_plain(title: str) -> None:
    norm = normalize_title(title)
    assert normalize_title(norm) == norm
    assert re.fullmatch(r"(?:[0-9a-z]+(?: [0-9a-z]+)*)?", norm)


@FAST
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)))
def test_title_normalisation_ignores_case_and_accents(title: str) -> None:
    assert normalize_title(title.upper()) == normalize_title(title.lower())
    accented = title.replace("e", "é").replace("a", "à")
    assert normalize_title(accented.lower()) == normalize_title(title.lower())


@FAST
@given(st.text())
def test_title_key_is_specific_or_absent(title: str) -> None:
    key = title_key(Work(source="s2", title=title))
    assert key is None or (len(key) >= MIN_TITLE_KEY and key == normalize_title(title))


@FAST
@given(
    doi=st.from_regex(r"10\.[0-9]{4,5}/[A-Za-z0-9._-]{1,20}", fullmatch=True),
    arxiv=st.from_regex(r"[0-9]{4}\.[0-9]{4,5}", fullmatch=True),
)
def test_canonical_ids_are_idempotent(doi: str, arxiv: str) -> None:
    work = canonical_ids(Work(source="openalex", doi=f"https://doi.org/{doi}"))
    again = canonical_ids(Work(source="openalex", doi=work.doi, arxiv_id=work.arxiv_id))
    assert (again.doi, again.arxiv_id) == (work.doi, work.arxiv_id)
    assert work.doi == doi.lower()
    preprint = canonical_ids(Work(source="openalex", doi=f"10.48550/arXiv.{arxiv}"))
    assert preprint.doi is None and preprint.arxiv_id == arxiv


@settings(max_examples=60, deadline=None)
@given(
    suffix=st.from_regex(r"[A-Za-z0-9._-]{1,20}", fullmatch=True),
    title=st.text(max_size=80),
    prefix=st.sampled_from(["", "https://doi.org/", "doi:", "http://dx.doi.org/"]),
)
def test_the_same_doi_in_any_dress_is_one_paper(suffix: str, title: str, prefix: str) -> None:
    doi = f"10.5555/{suffix}"
    with Store(":memory:") as store:
        first, _ = store.upsert_work(Work(source="s2", title=title, doi=doi, year=2020))
        second, _ = store.upsert_work(
            Work(source="openalex", title=title.upper(), doi=prefix + doi.upper(), year=2020)
        )
        assert first == second
        assert store.conn.execute("SELECT count(*) FROM papers").fetchone()[0] == 1


# -- affiliations -----------------------------------------------------------------------------


@FAST
@given(st.text())
@example(text="\ufd78")  # an Arabic presentation-form ligature: its alef maksura folds on NFKD
def test_affiliation_normalisation_never_fails_and_is_stable(text: str) -> None:
    norm = normalize(text)
    assert norm == norm.strip() and "  " not in norm
    assert norm == norm.lower() or not norm.isascii()
    assert normalize(norm) == norm
    assert all(part.strip() for part in split_affiliations(text))
    assert isinstance(fold(text), str)


COUNTRY_CODE = re.compile(r"[A-Z]{2}")


@FAST
@given(st.text())
def test_country_detection_answers_a_code_or_nothing(text: str) -> None:
    found = detect_country(text)
    assert found is None or COUNTRY_CODE.fullmatch(found)
    assert detect_country(f"  {text}  ") == found


@FAST
@given(
    lab=st.text(alphabet=st.sampled_from(list("Lab of Vision Robotics ")), max_size=30),
    country=st.sampled_from([("Germany", "DE"), ("Japan", "JP"), ("Brazil", "BR")]),
)
def test_a_named_country_is_found_whatever_precedes_it(lab: str, country: tuple[str, str]) -> None:
    assert detect_country(f"{lab}, {country[0]}") == country[1]


# -- CSV and HTML -----------------------------------------------------------------------------


@FAST
@given(st.lists(st.lists(HOSTILE, min_size=2, max_size=2), max_size=5))
def test_csv_cells_round_trip_and_never_start_a_formula(cells: list[list[str]]) -> None:
    rows = [{"a": a, "b": b} for a, b in cells]
    text = to_csv(rows, ["a", "b"])
    assert text.startswith("\ufeff")
    parsed = list(csv.DictReader(io.StringIO(text[1:], newline="")))
    assert len(parsed) == len(rows)
    for row, back in zip(rows, parsed, strict=True):
        for key in ("a", "b"):
            assert not back[key].startswith(FORMULA_START)
            expected = "'" + row[key] if row[key].startswith(FORMULA_START) else row[key]
            assert back[key] == expected


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(title=HOSTILE, venue=HOSTILE, raw=HOSTILE)
def test_html_shows_api_text_only_as_text(title: str, venue: str, raw: str) -> None:
    with Store(":memory:") as store:
        run = store.start_run("brainwash", "scan")
        work = Work(source="openalex", title="<b>" + title, venue=f"V{venue}</script>", year=2020)
        paper_id, _ = store.upsert_work(work)
        store.link("brainwash", paper_id, run, None)
        store.save_authors(paper_id, [Author(name=raw, position=0, raw_affiliations=[raw])], "s2")
        store.save_affiliations(
            paper_id, 0, [{"raw": raw, "institution_name": "<i>" + raw, "sector": "unknown"}]
        )
        store.save_judgement(
            "brainwash",
            paper_id,
            level="used",
            score=1.0,
            evidence=[{"kind": "context", "source": "s2", "text": "<img src=x>" + raw}],
            reasons=[],
        )
        store.finish_run(run, "ok", requests={})
        page = render_html(build_report(store, DATASET))
    for planted in ("<b>" + title, "<i>" + raw, "<img src=x>" + raw):
        assert planted not in page
    assert f"V{venue}</script>" not in page
    # Only the page's own script blocks: text from the store never closes or opens one.
    assert page.count("<script") == page.count("</script>")


# -- catalog ----------------------------------------------------------------------------------


def _check_parse(text: str) -> None:
    try:
        catalog = parse_catalog(text, Path("datasets.yaml"))
    except CatalogError as exc:
        assert exc.message and "\n" not in exc.message.strip()
    else:
        assert isinstance(catalog, Catalog)


@FAST
@given(st.text())
def test_catalog_parsing_fails_only_with_catalog_errors(text: str) -> None:
    _check_parse(text)


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "key",
                    "name",
                    "datasets",
                    "origin_papers",
                    "doi",
                    "year",
                    "mentions",
                    "status",
                    "aliases",
                    "derivatives",
                    "title",
                    "s2_corpus_id",
                    "version",
                    "x",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@FAST
@given(YAML_VALUES)
def test_catalog_of_any_yaml_shape_fails_only_with_catalog_errors(value: object) -> None:
    _check_parse(yaml.safe_dump(value))
    _check_parse(yaml.safe_dump({"version": 1, "datasets": [value]}))


# -- untrusted text, end to end ---------------------------------------------------------------

SQL_TITLE = "x'); DROP TABLE papers;-- a study of crowd counting"
SCRIPT_TITLE = 'Crowds <script>alert("t")</script> and heads'
FORMULA_TITLE = "=cmd|' /C calc'!A0 detecting heads"
HOSTILE_AFFILIATION = '<img src=x onerror=alert(1)> Lab, "Quoted" Univ; Robert\'); DROP TABLE--'


def test_hostile_api_text_is_stored_verbatim_and_shown_harmless(
    tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = use_catalog(tmp_path, monkeypatch)
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-hostile-key")
    corpus = fake_api.corpus
    add_brainwash(corpus)
    origin = corpus.resolve_s2(f"CorpusId:{ORIGIN_CORPUS_ID}")
    assert origin is not None
    for n, title in enumerate((SQL_TITLE, SCRIPT_TITLE, FORMULA_TITLE), start=500):
        doi = f"10.5555/hostile.{n}"
        pid = corpus.add_s2_paper(
            s2_paper(
                n,
                title=title,
                venue="<svg onload=alert(2)>",
                externalIds={"DOI": doi, "CorpusId": 300_000 + n},
            )
        )
        corpus.add_s2_citation(
            origin,
            pid,
            contexts=["We train on the Brainwash dataset <script>x()</script>."],
            intents=["methodology"],
        )
        corpus.add_openalex_work(
            openalex_work(
                n,
                doi=doi,
                title=title,
                referenced_works=["W2963000001"],
                authorships=[
                    {
                        "author_position": "first",
                        "author": {"id": None, "display_name": "<b>Mallory</b>"},
                        "institutions": [],
                        "countries": [],
                        "raw_affiliation_strings": [HOSTILE_AFFILIATION],
                    }
                ],
            )
        )
    sync_counts(corpus)
    assert run_cli("scan", "brainwash", "--quiet").code == 0

    conn = sqlite3.connect(db)
    titles = {row[0] for row in conn.execute("SELECT title FROM papers")}
    raws = {row[0] for row in conn.execute("SELECT raw FROM affiliations")}
    assert conn.execute("SELECT count(*) FROM papers").fetchone()[0] >= 7  # table still there
    conn.close()
    assert {SQL_TITLE, SCRIPT_TITLE, FORMULA_TITLE} <= titles  # stored as given, not mangled
    assert any(r and "DROP TABLE" in r for r in raws)

    page = run_cli("report", "brainwash", "--format", "html")
    assert page.code == 0, page.err
    for planted in (SCRIPT_TITLE, "<svg onload", "<script>x()", "<img src=x", "<b>Mallory"):
        assert planted not in page.out
    assert "&lt;script&gt;" in page.out or "\\u003cscript" in page.out

    exported = run_cli("export", "brainwash", "--format", "csv")
    assert exported.code == 0, exported.err
    rows = list(csv.DictReader(io.StringIO(exported.out.lstrip("\ufeff"), newline="")))
    assert any(r["title"] == "'" + FORMULA_TITLE for r in rows)
    for row in rows:
        for value in row.values():
            assert not (value or "").startswith(FORMULA_START), value
    markdown = run_cli("report", "brainwash", "--format", "md")
    assert markdown.code == 0 and "<script>" not in markdown.out
    record(
        "faults", "hostile API text (SQL, HTML, CSV)", "scan+report", "stored as is, shown inert", 0
    )
