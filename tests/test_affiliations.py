"""Affiliation classification as a user sees it: the institution, country, sector and flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.affiliation_fixtures import DUMP, ror_index, seed_cache  # noqa: F401
from tests.helpers import run_cli
from tracer.affiliations import Affiliation, Classifier
from tracer.affiliations.countries import detect_country
from tracer.affiliations.gazetteer import Gazetteer
from tracer.affiliations.normalize import normalize, split_affiliations
from tracer.errors import ExitCode
from tracer.records import Author, SourceInstitution

NUDT = "School of Computer, National University of Defense Technology, Changsha 410073, China"
MEGVII = "Megvii Inc. (Face++), Beijing"
STANFORD = "Dept. of EE, Stanford University, CA 94305"


@pytest.fixture
def classifier(ror_index: tuple[Gazetteer, Path]) -> Classifier:  # noqa: F811
    return Classifier(ror_index[0])


def one(affs: list[Affiliation]) -> Affiliation:
    assert len(affs) == 1, affs
    return affs[0]


def test_the_three_examples_on_the_command_line(
    ror_index: tuple[Gazetteer, Path],  # noqa: F811
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACER_ROR_DUMP", str(DUMP))
    seed_cache(isolated_env, ror_index[1])
    result = run_cli("classify", "--json", NUDT, MEGVII, STANFORD)
    assert result.code == 0, result.err
    rows = {item["input"]: item["affiliations"] for item in json.loads(result.out)}
    nudt = rows[NUDT][0]
    assert nudt["institution_id"] == "https://ror.org/05d2yfz11"
    assert (nudt["country"], nudt["sector"]) == ("CN", "military")
    assert {"pla-university", "aspi-cdut"} <= {f["list"] for f in nudt["flags"]}
    megvii = rows[MEGVII][0]
    assert megvii["institution_id"] == "https://ror.org/040b32p69"
    assert (megvii["country"], megvii["sector"]) == ("CN", "commercial")
    entity = [f for f in megvii["flags"] if f["list"] == "us-entity-list"]
    assert entity and entity[0]["start"] == "2019-10" and entity[0]["end"] is None
    dod = [f for f in megvii["flags"] if f["list"] == "dod-1260h"]
    assert dod and (dod[0]["start"], dod[0]["end"]) == ("2024-01-31", "2025-01-07")
    stanford = rows[STANFORD][0]
    assert stanford["institution_id"] == "https://ror.org/00f54p054"
    assert (stanford["country"], stanford["sector"], stanford["flags"]) == ("US", "academic", [])


def test_table_output_and_input_from_stdin(
    ror_index: tuple[Gazetteer, Path],  # noqa: F811
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRACER_ROR_DUMP", str(DUMP))
    monkeypatch.setenv("COLUMNS", "200")
    seed_cache(isolated_env, ror_index[1])
    result = run_cli("classify", "-", input=f"{MEGVII}\n\n{STANFORD}\n")
    assert result.code == 0, result.err
    assert "Megvii" in result.out and "Stanford University" in result.out
    assert "Entity List" in result.out


def test_file_input_and_missing_file(tmp_path: Path) -> None:
    listing = tmp_path / "affs.txt"
    listing.write_text(f"{NUDT}\n", encoding="utf-8")
    result = run_cli("classify", "--json", "--file", str(listing))
    assert result.code == 0
    assert json.loads(result.out)[0]["affiliations"][0]["sector"] == "military"
    assert "no ROR gazetteer" in result.err
    missing = run_cli("classify", "--file", str(tmp_path / "nope.txt"))
    assert missing.code == ExitCode.USAGE and "Traceback" not in missing.err


def test_no_input_is_a_usage_error() -> None:
    result = run_cli("classify")
    assert result.code == ExitCode.USAGE and "No affiliation given" in result.err


def test_without_a_gazetteer_the_watchlist_and_country_still_answer() -> None:
    bare = Classifier(None)
    assert not bare.gazetteer_available
    nudt = one(bare.classify_text(NUDT))
    assert (nudt.institution_id, nudt.country, nudt.sector) == (
        "https://ror.org/05d2yfz11",
        "CN",
        "military",
    )
    assert nudt.method == "watchlist"
    megvii = one(bare.classify_text(MEGVII))
    assert megvii.sector == "commercial" and megvii.flags
    stanford = one(bare.classify_text(STANFORD))
    assert stanford.institution_id is None and stanford.country == "US"
    assert stanford.method == "country-only"


def test_classifier_load_without_dump_reports_missing_gazetteer() -> None:
    from tracer.config import load_settings

    assert Classifier.load(load_settings()).gazetteer_available is False


def test_a_name_inside_a_longer_name_is_not_that_institution(classifier: Classifier) -> None:
    nju = one(classifier.classify_text("Department of Physics, Nanjing University, Nanjing, China"))
    # Nanjing University is on the ASPI tracker in its own right (Civilian), never as NUAA.
    assert nju.institution_name == "Nanjing University"
    assert [(f.list, f.category) for f in nju.flags] == [("aspi-cdut", "Civilian")]
    nuaa = one(
        classifier.classify_text(
            "College of Automation, Nanjing University of Aeronautics and Astronautics, Nanjing, China"
        )
    )
    assert nuaa.institution_id == "https://ror.org/01scyh794"
    assert [f.category for f in nuaa.flags] == ["Seven sons of national defence"]
    bare = Classifier(None)
    bare_nju = one(bare.classify_text("Nanjing University, Nanjing 210093, China"))
    assert [f.category for f in bare_nju.flags] == ["Civilian"]


@pytest.mark.parametrize("with_gazetteer", [True, False])
def test_a_name_shared_with_another_country_is_not_flagged(
    ror_index: tuple[Gazetteer, Path],  # noqa: F811
    with_gazetteer: bool,
) -> None:
    classifier = Classifier(ror_index[0] if with_gazetteer else None)
    for text in (
        "Khoury College of Computer Sciences, Northeastern University, Boston, MA 02115, USA",
        "Department of Computer Science, Southeast University, Dhaka, Bangladesh",
    ):
        assert all(not a.flags for a in classifier.classify_text(text)), text
    shenyang = classifier.classify_text("东北大学, 沈阳 110819, 中国")
    assert any(f.category == "Civilian" for a in shenyang for f in a.flags)


def test_a_pla_academy_added_from_the_tracker_is_military(classifier: Classifier) -> None:
    aff = one(classifier.classify_text("Dalian Naval Academy, Dalian 116018, China"))
    assert aff.sector == "military"
    assert {f.list for f in aff.flags} == {"pla-university", "aspi-cdut"}


def test_department_rolls_up_and_parent_is_named(ror_index: tuple[Gazetteer, Path]) -> None:  # noqa: F811
    text = "Inst. of Comput. Technol., Chinese Acad. of Sci., Beijing, China"
    cas, ict = "https://ror.org/034t30j35", "https://ror.org/0090r4d87"
    rolled = one(Classifier(ror_index[0]).classify_text(text))
    assert rolled.institution_id == cas and rolled.country == "CN"
    unit = one(Classifier(ror_index[0], levels="unit").classify_text(text))
    assert (unit.institution_id, unit.parent_id, unit.parent_name) == (
        ict,
        cas,
        "Chinese Academy of Sciences",
    )
    both = Classifier(ror_index[0], levels="both").classify_text(text)
    assert {a.institution_id for a in both} == {cas, ict}
    alone = one(Classifier(ror_index[0]).classify_text("Inst. of Comput. Technol., Beijing, China"))
    assert (alone.institution_id, alone.parent_id) == (ict, cas)
    with pytest.raises(ValueError, match="levels"):
        Classifier(None, levels="all")


def test_a_name_running_across_a_comma_must_start_the_piece(classifier: Classifier) -> None:
    # "... Medical Science, The University of Tokyo": no "Science University of Tokyo".
    aff = one(
        classifier.classify_text(
            "The Institute of Medical Science, The University of Tokyo, Tokyo 108-8639, Japan"
        )
    )
    assert aff.institution_name == "The University of Tokyo"


def test_hong_kong_written_with_china_is_hong_kong(classifier: Classifier) -> None:
    assert detect_country("Kowloon, Hong Kong, China") == "HK"
    aff = one(
        classifier.classify_text(
            "Dept. of Computer Science, Hong Kong Univ. of Sci. & Technol., Kowloon, Hong Kong, China"
        )
    )
    assert aff.institution_name == "Hong Kong University of Science and Technology"


def test_words_in_another_order_match_only_in_the_right_country(classifier: Classifier) -> None:
    aff = one(
        classifier.classify_text("Dept. of Mech. Eng., Univ. Duisburg-Essen, Duisburg, Germany")
    )
    assert aff.institution_name == "University of Duisburg-Essen" and aff.method == "ror-fuzzy"
    assert all(
        a.institution_id is None
        for a in classifier.classify_text("Univ. Duisburg-Essen, Paris, France")
    )
    unc = one(
        classifier.classify_text(
            "Department of Biology, The University of North Carolina - Chapel Hill, NC 27599, USA"
        )
    )
    assert unc.institution_name == "University of North Carolina at Chapel Hill"


def test_a_name_two_countries_share_is_no_match_without_a_place(classifier: Classifier) -> None:
    # Northwestern University is in the US and in the Philippines.
    assert (
        one(classifier.classify_text("Feinberg School of Medicine, Northwestern University")).method
        == "none"
    )
    evanston = one(classifier.classify_text("Northwestern University, Evanston, IL 60208"))
    assert (evanston.institution_name, evanston.country) == ("Northwestern University", "US")


def test_several_affiliations_in_one_string(classifier: Classifier) -> None:
    affs = classifier.classify_text(
        "Department of Physics, Harvard University, Cambridge, MA 02138; "
        "Google Research, Mountain View, CA, USA"
    )
    assert [a.institution_id for a in affs] == [
        "https://ror.org/03vek6s52",
        "https://ror.org/00njsd438",
    ]
    assert [a.sector for a in affs] == ["academic", "commercial"]


def test_no_guess_when_nothing_is_known(classifier: Classifier) -> None:
    aff = one(classifier.classify_text("Department of Applied Mathematics"))
    assert aff.institution_id is None and aff.country is None and aff.method == "none"


def test_country_consistency_drops_a_same_name_elsewhere(classifier: Classifier) -> None:
    # "National Defense University" exists in several countries: the country decides.
    us = one(classifier.classify_text("National Defense University, Washington, DC 20319, USA"))
    assert us.institution_id == "https://ror.org/01nqk4x38" and us.sector == "military"
    unknown = classifier.classify_text("National Defense University")
    assert all(a.institution_id is None for a in unknown)


@pytest.mark.parametrize(
    "text",
    [
        "Army Engineering University of PLA, Nanjing 210007, China",
        "Air Force Research Laboratory, Wright-Patterson AFB, OH 45433, USA",
        "Naval Postgraduate School, Monterey, CA 93943",
        "US Army Research Laboratory, Adelphi, MD 20783, USA",
        "Defence Science and Technology Laboratory, Porton Down, Salisbury, UK",
    ],
)
def test_military_bodies_on_no_list_are_military(classifier: Classifier, text: str) -> None:
    affs = classifier.classify_text(text)
    assert affs and affs[0].sector == "military", affs
    bare = Classifier(None).classify_text(text)
    assert bare and bare[0].sector == "military", bare


def test_openalex_funder_type_is_resolved(shared_data: Path) -> None:
    work = json.loads((shared_data / "openalex" / "work_W2741809807_singleton.json").read_text())
    classifier = Classifier(None)
    seen = []
    for authorship in work["authorships"]:
        author = Author(
            name=authorship["author"]["display_name"],
            raw_affiliations=authorship.get("raw_affiliation_strings") or [],
            institutions=[
                SourceInstitution(
                    openalex_id=i["id"].rsplit("/", 1)[-1],
                    ror=(i.get("ror") or "").rsplit("/", 1)[-1] or None,
                    display_name=i["display_name"],
                    country_code=i.get("country_code"),
                    type=i.get("type"),
                )
                for i in authorship["institutions"]
            ],
        )
        seen.extend(classifier.classify_author(author))
    montreal = next(a for a in seen if a.institution_name == "Université de Montréal")
    assert montreal.sector == "academic" and montreal.country == "CA"
    assert montreal.institution_id == "https://ror.org/0161xgx34" and montreal.method == "openalex"
    assert all(a.sector != "funder" for a in seen)
    assert any(a.sector == "commercial" for a in seen)


def test_author_with_only_raw_strings_and_countries(classifier: Classifier) -> None:
    author = Author(name="A", raw_affiliations=[MEGVII], countries=["US"])
    affs = classifier.classify_author(author)
    assert affs[0].institution_id == "https://ror.org/040b32p69"
    assert affs[-1].method == "country-only" and affs[-1].country == "US"


MEGVII_OPENALEX = SourceInstitution(
    openalex_id="I4210135211", display_name="Megvii (China)", country_code="CN", type="company"
)


@pytest.mark.parametrize("with_gazetteer", [True, False])
def test_openalex_institution_and_raw_string_are_one_affiliation(
    ror_index: tuple[Gazetteer, Path],  # noqa: F811
    with_gazetteer: bool,
) -> None:
    # OpenAlex gives no ROR id and suffixes the country; the raw string names the same company.
    classifier = Classifier(ror_index[0] if with_gazetteer else None)
    author = Author(
        name="A",
        raw_affiliations=["Megvii Inc. (Face++), Beijing, China"],
        institutions=[MEGVII_OPENALEX],
    )
    megvii = one(classifier.classify_author(author))
    assert megvii.institution_id == "https://ror.org/040b32p69"
    assert (megvii.country, megvii.sector, megvii.method) == ("CN", "commercial", "openalex")
    assert {f.list for f in megvii.flags} == {"us-entity-list", "dod-1260h", "us-cmic"}
    assert megvii.raw == "Megvii Inc. (Face++), Beijing, China"


def test_openalex_institution_alone_gets_its_flags_and_ror_id(classifier: Classifier) -> None:
    megvii = one(classifier.classify_author(Author(name="A", institutions=[MEGVII_OPENALEX])))
    assert megvii.institution_id == "https://ror.org/040b32p69"
    assert megvii.flags and megvii.flags[0].list == "us-entity-list"


def test_same_ror_id_from_both_routes_is_merged(classifier: Classifier) -> None:
    author = Author(
        name="A",
        raw_affiliations=[STANFORD, "Google Research, Mountain View, CA, USA"],
        institutions=[
            SourceInstitution(
                openalex_id="I97018004",
                ror="00f54p054",
                display_name="Stanford University",
                country_code="US",
                type="funder",
            )
        ],
    )
    affs = classifier.classify_author(author)
    assert [a.institution_id for a in affs] == [
        "https://ror.org/00f54p054",
        "https://ror.org/00njsd438",
    ]
    assert affs[0].sector == "academic" and affs[0].raw == STANFORD


def test_a_same_name_in_another_country_is_not_merged_or_flagged() -> None:
    other = SourceInstitution(
        openalex_id="I1",
        display_name="National University of Defense Technology (Elsewhere)",
        country_code="NZ",
        type="education",
    )
    aff = one(Classifier(None).classify_author(Author(name="A", institutions=[other])))
    assert aff.flags == [] and aff.institution_id == "I1"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Beijing 100044 P.R. China", "CN"),
        ("Nanjing 210093 (P.R. China)", "CN"),
        ("Dept. of EE, Stanford, CA 94305", "US"),
        ("Atlanta, Georgia", "US"),
        ("Cambridge CB3 0WA, United Kingdom", "GB"),
        ("Hsinchu, Taiwan (ROC)", "TW"),
        ("Lab X, e-mail: someone@cs.tsinghua.edu.cn", "CN"),
        ("Universität Wien, Österreich", "AT"),
        ("Department of Applied Mathematics", None),
    ],
)
def test_country_detection(text: str, code: str | None) -> None:
    assert detect_country(text) == code


def test_normalisation_and_splitting() -> None:
    assert normalize("Inst. of Comput. Technol., Chinese Acad. of Sci.") == (
        "institute of computing technology chinese academy of science"
    )
    assert normalize("Université de Montréal") == "universite de montreal"
    assert normalize("Aerospace Science &#x0026; Industry") == "aerospace science and industry"
    assert split_affiliations("A, Paris; B, Lyon | C, Nice#TAB#") == [
        "A, Paris",
        "B, Lyon",
        "C, Nice",
    ]


def test_classifier_pickles(classifier: Classifier) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(Classifier(None)))
    assert copy.classify_text(NUDT)[0].sector == "military"


def test_to_dict_is_json_ready(classifier: Classifier) -> None:
    data = classifier.classify_text(MEGVII)[0].to_dict()
    assert json.loads(json.dumps(data))["flags"][0]["list"] == "us-entity-list"


def test_remembered_answers_are_copies(classifier: Classifier) -> None:
    first = classifier.classify_text(MEGVII)
    first[0].flags.clear()
    first[0].sector = "changed"
    again = classifier.classify_text(MEGVII)
    assert again[0].sector == "commercial" and again[0].flags
    classifier.forget()
    assert classifier.classify_text(MEGVII) == again


# -- the labelled hard cases (benchmarks/data/hard_affiliations.yaml) -------------------------
def test_hard_cases_flags_institutions_and_sectors(ror_index: tuple[Gazetteer, Path]) -> None:  # noqa: F811
    from benchmarks.hard_cases import score_hard

    scores = score_hard(Classifier(ror_index[0]))
    assert scores.cases >= 80
    assert scores.precision == 1.0, scores.misses
    assert scores.recall >= 0.95, scores.misses
    assert scores.institution_ok / scores.institution_rows >= 0.9, scores.misses
    assert scores.sector_ok / scores.sector_rows >= 0.9, scores.misses


def test_hard_case_flags_hold_without_the_gazetteer() -> None:
    from benchmarks.hard_cases import score_hard

    scores = score_hard(Classifier())
    assert scores.precision == 1.0, scores.misses
    assert scores.recall >= 0.95, scores.misses


@pytest.mark.parametrize(
    ("text", "key", "lists"),
    [
        ("Huawei Noah's Ark Lab, Shenzhen, China", "huawei", {"us-entity-list", "dod-1260h"}),
        ("SenseTime Group Limited, Hong Kong", "sensetime", {"us-entity-list"}),
        ("wang.lei@nudt.edu.cn", "nudt", {"us-entity-list", "aspi-cdut"}),
        ("Nanjing Research Institute of Electronics Technology, Nanjing", "cetc", {"aspi-cdut"}),
        (
            "Urumqi Municipal Public Security Bureau, Xinjiang",
            "xuar-psb-urumqi",
            {"police-security"},
        ),
    ],
)
def test_issue_examples_resolve_to_the_listed_organisation(
    text: str, key: str, lists: set[str]
) -> None:
    classifier = Classifier()
    (aff,) = classifier.classify_text(text)
    entry = classifier.watchlist.by_key[key]
    assert aff.institution_name == entry.name
    assert lists <= {flag.list for flag in aff.flags}
    assert aff.sector != "unknown"


def test_lookalikes_stay_apart() -> None:
    classifier = Classifier()
    (nju,) = classifier.classify_text("Nanjing University, Nanjing, China")
    (nuaa,) = classifier.classify_text("Nanjing University of Aeronautics and Astronautics, China")
    assert nju.institution_name == "Nanjing University"
    assert [f.category for f in nju.flags] == ["Civilian"]
    assert nuaa.institution_name == "Nanjing University of Aeronautics and Astronautics"
    assert [f.category for f in nuaa.flags] == ["Seven sons of national defence"]
    for text in (
        "National Defense University, Washington, DC, USA",
        "Defence Science and Technology Group, Edinburgh, Australia",
        "Northwest University, Kirkland, WA, USA",
        "Instituto de Neurociencias, CSIC-Universidad Miguel Hernandez, Spain",
    ):
        assert all(not aff.flags for aff in classifier.classify_text(text)), text
    # A Chinese name inside a longer one is not that institution (UESTC inside Xidian's name).
    (xidian,) = classifier.classify_text("西安电子科技大学")
    assert xidian.institution_name == "Xidian University"


def test_police_rule_flags_an_unlisted_public_security_body() -> None:
    (aff,) = Classifier().classify_text(
        "Third Research Institute of the Ministry of Public Security, Shanghai"
    )
    assert aff.sector == "government"
    assert [(f.list, f.category) for f in aff.flags] == [
        ("police-security", "Ministry of public security")
    ]


def test_a_ror_domain_on_the_wrong_country_is_not_trusted(
    ror_index: tuple[Gazetteer, Path],  # noqa: F811
) -> None:
    classifier = Classifier(ror_index[0])
    # ROR gives the Chinese Northeastern University the domain neu.edu; a .edu address is US.
    assert all(not aff.flags for aff in classifier.classify_text("j.smith@neu.edu"))
    (nudt,) = classifier.classify_text("li@nudt.edu.cn")
    assert nudt.institution_id == "https://ror.org/05d2yfz11"


STANFORD_ID = "https://ror.org/00f54p054"


@pytest.mark.parametrize(
    "text",
    [
        "1Stanford University, Stanford, CA 94305, USA",  # a footnote number glued on
        "a Stanford University, Stanford, CA 94305, USA",  # a footnote letter
        "From the Stanford University, Stanford, CA 94305, USA",  # lead-in words
        "Department of Computer ScienceStanford UniversityStanford CA94305USA",  # no commas
    ],
)
def test_marks_and_lost_separators_do_not_hide_the_name(classifier: Classifier, text: str) -> None:
    assert one(classifier.classify_text(text)).institution_id == STANFORD_ID


def test_a_glued_word_that_is_a_name_is_not_cut(classifier: Classifier) -> None:
    aff = one(classifier.classify_text("GlaxoSmithKline, Stevenage, UK"))
    assert aff.institution_name == "GlaxoSmithKline (United Kingdom)"


def test_an_html_entity_is_no_separator(classifier: Classifier) -> None:
    aff = one(
        classifier.classify_text(
            "Department of Physics, Texas A &amp; M University, College Station, TX 77843, USA"
        )
    )
    assert aff.institution_id == "https://ror.org/01f5ytq51"  # Texas A&M University


@pytest.mark.parametrize(
    ("text", "ror"),
    [
        ("Department of Genetics, Harvard Medical School, Boston, MA 02115, USA", "03vek6s52"),
        ("Department of Surgery, Yale School of Medicine, New Haven, CT, USA", "03v76x132"),
        # The head is the start of one name that goes on with the city the string names.
        (
            "Department of Medicine, Washington University School of Medicine, St. Louis, "
            "MO 63110, USA",
            "01yc7t268",
        ),
        # A college's school: the head with "college" (Dartmouth College).
        ("Section of Infectious Disease, Dartmouth Medical School, Hanover, NH", "049s0rh22"),
        # "University X" for "University of X" (University of Cologne).
        ("Clinic of Dermatology, University Cologne Medical School, Cologne", "00rcxh774"),
    ],
)
def test_a_school_of_a_university_is_that_university(
    classifier: Classifier, text: str, ror: str
) -> None:
    assert one(classifier.classify_text(text)).institution_id == f"https://ror.org/{ror}"


def test_a_school_head_needs_the_city_of_a_longer_name(classifier: Classifier) -> None:
    # "Washington University" alone names no organisation: without its city, no guess.
    affs = classifier.classify_text("Washington University School of Medicine, Missouri, USA")
    assert all(a.institution_id != "https://ror.org/01yc7t268" for a in affs)


@pytest.mark.parametrize(
    "text",
    [
        "Institut für Organische Chemie, Universität Göttingen, 37077 Göttingen, Germany",
        # The university named in the genitive at the end of an institute's name.
        "Institut für Physikalische Chemie der Universität Göttingen, Göttingen, Germany",
    ],
)
def test_a_name_in_another_language_is_the_same_organisation(
    classifier: Classifier, text: str
) -> None:
    aff = one(classifier.classify_text(text))
    assert aff.institution_name == "University of Göttingen"


def test_translated_names_keep_their_words_apart(classifier: Classifier) -> None:
    dresden = one(classifier.classify_text("Technical University of Dresden, Dresden, Germany"))
    assert dresden.institution_name == "Technische Universität Dresden"
    tuebingen = one(classifier.classify_text("University of Tuebingen, Tuebingen, Germany"))
    assert tuebingen.institution_name == "University of Tübingen"
    # "Universität" is no "Universitätsmedizin": no key cut to a stem joins the two.
    assert all(
        a.institution_name != "Universitätsmedizin Göttingen"
        for a in classifier.classify_text("Universität Göttingen, Germany")
    )


def test_a_lone_word_that_is_a_city_or_begins_another_name_is_no_match(
    classifier: Classifier,
) -> None:
    # "Providence" is an alias of Providence College and the city Brown University is in.
    brown = one(classifier.classify_text("Department of Physics, Brown University, Providence, RI"))
    assert brown.institution_name == "Brown University"
    # "Shell" is a company's name; "Shell Global Solutions" is another name that starts so.
    assert all(
        a.institution_id is None
        for a in classifier.classify_text("Shell Global Solutions, Amsterdam, The Netherlands")
    )
    shell = one(classifier.classify_text("Shell Ltd, London, UK"))  # a company's form after it
    assert shell.institution_name == "Shell (United Kingdom)"


def test_a_department_before_an_institution_is_its_department(classifier: Classifier) -> None:
    # India's Department of Biotechnology is a ministry in ROR; here it is IIT Madras's.
    aff = one(
        classifier.classify_text(
            "Department of Biotechnology, Indian Institute of Technology Madras, Chennai, India"
        )
    )
    assert aff.institution_name == "Indian Institute of Technology Madras"


@pytest.mark.parametrize(
    "text",
    [
        "Department of Physics, Stanford Univresity, Stanford, CA",  # two letters swapped
        "Department of Physics, Stanford Univesity, Stanford, CA",  # a slip ROR's names hold too
    ],
)
def test_a_slip_of_the_keyboard_still_finds_the_name(classifier: Classifier, text: str) -> None:
    aff = one(classifier.classify_text(text))
    assert (aff.institution_id, aff.method) == (STANFORD_ID, "ror-fuzzy")


def test_a_state_code_two_countries_use_does_not_hide_a_name(classifier: Classifier) -> None:
    # "WA" is Washington's code and Western Australia's: the hospital is Australian.
    aff = one(classifier.classify_text("Fiona Stanley Hospital, Perth, WA."))
    assert (aff.institution_name, aff.country) == ("Fiona Stanley Hospital", "AU")


def test_a_unit_whose_name_holds_its_parent_names_both(classifier: Classifier) -> None:
    affs = classifier.classify_text(
        "Institute of Nuclear Physics, Polish Academy of Sciences, Kraków, Poland"
    )
    assert {a.institution_name for a in affs} == {
        "Institute of Nuclear Physics, Polish Academy of Sciences",
        "Polish Academy of Sciences",
    }


def test_a_name_across_a_comma_does_not_end_inside_a_place(classifier: Classifier) -> None:
    # "Manchester, United Kingdom" holds "Manchester United" across the comma.
    aff = one(
        classifier.classify_text("School of Physics and Astronomy, Manchester, United Kingdom")
    )
    assert (aff.institution_id, aff.country) == (None, "GB")
    berkeley = one(
        classifier.classify_text("Department of Physics, University of California, Berkeley CA")
    )
    assert berkeley.institution_name == "University of California, Berkeley"


def test_two_affiliations_joined_by_and_keep_their_own_countries(
    classifier: Classifier,
) -> None:
    affs = classifier.classify_text(
        "Department of Chemistry, Stanford University, Stanford, CA 94305, and Department of "
        "Chemistry, University of Toronto, Toronto, Ontario M5S 3H6, Canada"
    )
    assert [(a.institution_name, a.country) for a in affs] == [
        ("Stanford University", "US"),
        ("University of Toronto", "CA"),
    ]
    # A list of subjects with a serial comma is one affiliation.
    mit = one(
        classifier.classify_text(
            "Department of Earth, Atmospheric, and Planetary Sciences, "
            "Massachusetts Institute of Technology, Cambridge, MA"
        )
    )
    assert mit.institution_name == "Massachusetts Institute of Technology"


def test_rules_tidy_strips_marks_and_lead_ins() -> None:
    from tracer.affiliations.rules import tidy

    assert tidy("1Department of Physics") == "Department of Physics"
    assert tidy("b   Institute of Physics") == "Institute of Physics"
    assert tidy("Contribution from the Department of Chemistry") == "Department of Chemistry"
    assert tidy("3M Company, St. Paul, MN") == "3M Company, St. Paul, MN"  # a name, not a mark


def test_a_school_after_and_is_its_university(classifier: Classifier) -> None:
    affs = classifier.classify_text(
        "Massachusetts General Hospital and Harvard Medical School, Boston, MA 02114, USA"
    )
    assert [a.institution_name for a in affs] == [
        "Massachusetts General Hospital",
        "Harvard University",
    ]


def test_a_shared_name_and_a_city_after_it_are_the_organisation_of_that_city(
    classifier: Classifier,
) -> None:
    # "Indian Institute of Technology" begins the names of many institutes, one per city.
    aff = one(
        classifier.classify_text(
            "Department of Physics, Indian Institute of Technology, Kharagpur 721302, India"
        )
    )
    assert aff.institution_name == "Indian Institute of Technology Kharagpur"


def test_the_united_states_named_in_portuguese(classifier: Classifier) -> None:
    aff = one(classifier.classify_text("Departamento de Física, Universidade de Harvard, EUA"))
    assert (aff.institution_name, aff.country) == ("Harvard University", "US")


def test_the_start_of_a_name_and_its_city_later_in_the_string(classifier: Classifier) -> None:
    # "Washington University" alone is no ROR name, and no "University of Washington".
    aff = one(
        classifier.classify_text(
            "Washington University, Department of Chemistry, One Brookings Drive, St. Louis, "
            "Missouri, USA"
        )
    )
    assert aff.institution_name == "Washington University in St. Louis"


def test_a_line_break_inside_a_name_is_no_separator(classifier: Classifier) -> None:
    affs = classifier.classify_text(
        "Department of Informatics, University of Oslo, Norway, Norwegian\n"
        "   Computing Center, Oslo, Norway"
    )
    assert [a.institution_name for a in affs] == [
        "University of Oslo",
        "Norwegian Computing Center",
    ]
    # Between two affiliations a line break still separates them.
    two = classifier.classify_text(
        "Stanford University, Stanford, CA, USA\nHarvard University, USA"
    )
    assert [a.institution_name for a in two] == ["Stanford University", "Harvard University"]


def test_a_qualifier_before_university_makes_another_name(classifier: Classifier) -> None:
    # Politechnika Wrocławska, once written "Technical University of Wrocław", is not the
    # University of Wrocław, whose name is its tail.
    poly = classifier.classify_text("Faculty of Chemistry, Technical University of Wrocław, Poland")
    assert all(a.institution_name != "University of Wrocław" for a in poly)
    plain = one(classifier.classify_text("Faculty of Chemistry, University of Wrocław, Poland"))
    assert plain.institution_name == "University of Wrocław"


def test_a_name_that_is_one_body_s_other_name_and_others_own_needs_its_city(
    classifier: Classifier,
) -> None:
    # "Institute of Chemistry" is another name of the Slovak Academy's institute (Bratislava)
    # and the own name of institutes elsewhere: in Košice it is the university's institute.
    kosice = classifier.classify_text(
        "Institute of Chemistry, Faculty of Science, Pavol Jozef Šafárik University, Košice, "
        "Slovakia"
    )
    assert "University of Pavol Jozef Šafárik" in {a.institution_name for a in kosice}
    # Where its city is written, the other name is still that body's.
    warsaw = classifier.classify_text("Institute of Geophysics, Polish Academy of Sciences, Warsaw")
    assert "Institute of Geophysics Polish Academy of Sciences" in {
        a.institution_name for a in warsaw
    }


def test_the_city_written_picks_among_organisations_sharing_a_name(
    classifier: Classifier,
) -> None:
    # "City of Hope" is one organisation's own name (Lancaster) and the other name of the
    # cancer centre in Duarte, California: the city written decides.
    duarte = one(classifier.classify_text("Division of Hematology, City of Hope, Duarte, California"))
    assert duarte.institution_name == "City Of Hope National Medical Center"
    lancaster = one(classifier.classify_text("City of Hope, Lancaster, Pennsylvania"))
    assert lancaster.institution_name == "City of Hope"


def test_a_unit_named_with_its_university_after_a_comma_names_both(
    classifier: Classifier,
) -> None:
    # ROR names the Warsaw centre with its university after a comma, but links no parent:
    # the string still names the university.
    affs = classifier.classify_text(
        "Polish Centre of Mediterranean Archaeology, University of Warsaw, Warsaw, Poland"
    )
    assert {a.institution_name for a in affs} == {
        "Polish Centre of Mediterranean Archaeology, University of Warsaw",
        "University of Warsaw",
    }


def test_a_name_that_goes_on_with_of_is_not_the_name_inside_it(classifier: Classifier) -> None:
    # Anchor University is in Lagos; "Anchor University of Lagos" holds "University of
    # Lagos", another university, which the string does not name.
    affs = classifier.classify_text("Department of Economics, Anchor University of Lagos, Nigeria")
    assert [a.institution_name for a in affs] == ["Anchor University Lagos"]


def test_a_common_unit_name_beside_another_organisation_is_that_one_s_unit(
    classifier: Classifier,
) -> None:
    # ROR's "Institute of Robotics" is the Bulgarian Academy of Sciences' institute in Sofia;
    # at the university in Ruse an institute of that name is the university's own.
    ruse = classifier.classify_text("Institute of Robotics, University of Ruse, Ruse, Bulgaria")
    assert [a.institution_name for a in ruse] == ["Angel Kanchev University of Ruse"]
    # Its parent or its city written, the name is still the academy's institute.
    sofia = one(classifier.classify_text("Institute of Robotics, Sofia, Bulgaria"))
    assert sofia.parent_name == "Bulgarian Academy of Sciences"


def test_a_common_name_at_the_end_of_a_longer_one_is_not_that_organisation(
    classifier: Classifier,
) -> None:
    # ROR's "Cancer Research Center" is in Columbia, Missouri; a centre whose longer name ends
    # so, in another city, is not it.
    affs = classifier.classify_text("Holden Cancer Research Center, Iowa City, Iowa")
    assert all(a.institution_name != "Cancer Research Center" for a in affs)
    # At the head of its piece, or with its city written, it still is.
    columbia = one(classifier.classify_text("Cancer Research Center, Columbia, Missouri"))
    assert columbia.institution_name == "Cancer Research Center"


def test_a_company_s_one_word_name_that_a_piece_goes_on_after_is_another_name(
    classifier: Classifier,
) -> None:
    # "Bell" is a label of Bell Canada; Bell Helicopter is another company.
    affs = classifier.classify_text("Bell Helicopter Textron, Fort Worth, Texas")
    assert all(a.institution_name != "Bell (Canada)" for a in affs)
    # The word alone in its piece, or with a company's form after it, is still the company.
    alone = one(classifier.classify_text("Bell, Montreal, Quebec, Canada"))
    assert alone.institution_name == "Bell (Canada)"
    formal = one(classifier.classify_text("Bell Inc., Montreal, Canada"))
    assert formal.institution_name == "Bell (Canada)"


def test_iso4_abbreviations_are_read_out(classifier: Classifier) -> None:
    aff = one(classifier.classify_text("Dept. of Neurology, Oregon Hlth. & Sci. Univ., Portland, OR"))
    assert aff.institution_name == "Oregon Health & Science University"


def test_the_end_of_a_longer_name_with_its_city_is_that_organisation(
    classifier: Classifier,
) -> None:
    # ROR holds the Houston centre only as "The University of Texas MD Anderson Cancer
    # Center"; papers write "MD Anderson Cancer Center". Two other centres' names end so too:
    # the city written picks one.
    houston = one(classifier.classify_text("MD Anderson Cancer Center, Houston, Texas, USA"))
    assert houston.institution_name == "The University of Texas MD Anderson Cancer Center"
    florida = one(classifier.classify_text("MD Anderson Cancer Center, Jacksonville, FL, USA"))
    assert florida.institution_name == "Baptist MD Anderson Cancer Center"
    # Without a city, the tail names none of them.
    assert not one(classifier.classify_text("MD Anderson Cancer Center, USA")).institution_id


def test_a_college_of_a_university_system_is_named_beside_it(classifier: Classifier) -> None:
    # "X College of the City University of New York": the college (ROR's child of CUNY) and
    # the university are both named.
    affs = classifier.classify_text("Baruch College of the City University of New York, NY")
    assert {a.institution_name for a in affs} == {"Baruch College", "City University of New York"}
    # ROR writes Queens College's name with the university's after it, without "of".
    affs = classifier.classify_text("Queens College of the City University of New York")
    assert {a.institution_name for a in affs} == {
        "Queens College, CUNY",
        "City University of New York",
    }


def test_a_shared_alias_is_not_read_again_in_another_word_order(classifier: Classifier) -> None:
    # "National Institute of Technology" is an alias of the Maulana Azad institute in Bhopal
    # and the own name of institutes elsewhere; India has some thirty of that name. Without a
    # city the exact route names none, and the order-free route must not name Bhopal's.
    aff = one(classifier.classify_text("Department of Physics, National Institute of Technology, India"))
    assert aff.institution_id is None and aff.country == "IN"
    # With its city the alias is Bhopal's; another city names that city's institute.
    bhopal = one(classifier.classify_text("National Institute of Technology, Bhopal, India"))
    assert bhopal.institution_name == "Maulana Azad National Institute of Technology"
    sikkim = one(classifier.classify_text("National Institute of Technology, Sikkim, India"))
    assert sikkim.institution_name == "National Institute of Technology Sikkim"


def test_a_short_company_name_with_its_company_form_is_the_company(classifier: Classifier) -> None:
    # Three letters alone are too often an acronym of something else; "AG" after them says
    # a company is meant, and only companies bear the name.
    aff = one(classifier.classify_text("BMW AG, Research and Innovation Centre, Munich"))
    assert aff.institution_name == "BMW (Germany)"


def test_initials_after_the_address_are_no_acronym(classifier: Classifier) -> None:
    # Medical journals put the authors' initials in brackets after each address; "RCS" is
    # also the Royal College of Surgeons' acronym.
    aff = one(classifier.classify_text("Department of Surgery, Harrogate, UK (RCS)"))
    assert aff.institution_id is None and aff.country == "GB"
    # At the head of the affiliation it is still the college.
    head = one(classifier.classify_text("RCS, London, UK"))
    assert head.institution_name == "Royal College of Surgeons of England"


def test_a_name_after_another_organisation_s_acronym_is_the_end_of_a_longer_name(
    classifier: Classifier,
) -> None:
    # "UT" (a University of Texas acronym) before "Southwestern Medical Center": the Dallas
    # centre, not the hospital of that name in Lawton, Oklahoma.
    dallas = one(classifier.classify_text("UT Southwestern Medical Center, Dallas, Texas"))
    assert dallas.institution_name == "The University of Texas Southwestern Medical Center"
    lawton = one(classifier.classify_text("Southwestern Medical Center, Lawton, Oklahoma"))
    assert lawton.institution_name == "Southwestern Medical Center"


def test_words_in_another_order_must_be_the_words_of_one_name(classifier: Classifier) -> None:
    # Jena University Hospital's German name "Universitätsklinikum Jena" cuts to the same
    # stems as "University of Jena" (the Friedrich Schiller University, not in the partial
    # dump); the hospital is not the university.
    aff = one(classifier.classify_text("Institute of Physical Chemistry, University of Jena, Germany"))
    assert aff.institution_name != "Jena University Hospital"
    hospital = one(classifier.classify_text("Universitätsklinikum Jena, Germany"))
    assert hospital.institution_name == "Jena University Hospital"
    # Words in another order are still read: "Univ. Duisburg-Essen".
    essen = one(classifier.classify_text("Univ. Duisburg-Essen, Germany"))
    assert essen.institution_name == "University of Duisburg-Essen"


def test_iso4_geological_is_read_out(classifier: Classifier) -> None:
    # ISO 4 writes "geological" as "Geol."; journals print the Survey's name so.
    aff = one(classifier.classify_text("Branch of Marine Geology, U.S. Geol. Surv., Menlo Park, CA"))
    assert aff.institution_name == "United States Geological Survey"


def test_a_city_written_by_its_first_word_completes_a_name(classifier: Classifier) -> None:
    # ROR's city is "Freiburg im Breisgau"; its name "Albert-Ludwigs-Universität Freiburg"
    # ends with the city as people write it.
    aff = one(
        classifier.classify_text(
            "Albert-Ludwigs-Universität, Hermann-Herder-Str. 3, 79104 Freiburg, Germany"
        )
    )
    assert aff.institution_name == "University of Freiburg"
    # Without the city the start of the name is no one's.
    alone = one(classifier.classify_text("Albert-Ludwigs-Universität, Germany"))
    assert alone.institution_id is None



UNKNOWN_NAMES = [
    ("Department of Physics, Fenwick Valley University, Ontario", "academic"),
    ("School of Informatics, Lindqvist Polytechnic", "academic"),
    ("长河大学计算机学院", "academic"),
    # A company that carries a university's word is no university: its legal form makes it a
    # company; a "group" alone says neither.
    ("Fenwick Valley University Press Co., Ltd.", "commercial"),
    ("Lindqvist College Consulting Group, Ontario", "unknown"),
    ("Harrowgate Instruments Ltd., Leeds, UK", "commercial"),
    ("长河智能科技有限公司, 北京", "commercial"),
    # A hospital that is a company in law is no company's lab.
    ("Klinik für Neurologie, Kreiskrankenhaus Wexmoor GmbH, Deutschland", "unknown"),
    # "CO" is Colorado as well as "Co.": no legal form.
    ("Wexmoor Field Station, Boulder, CO 80301, USA", "unknown"),
    ("Department of Applied Mathematics", "unknown"),
    # A company's legal form names a company, where no piece names a university.
    ("Shenzhen Quillfeather Technology Co., Ltd., Shenzhen 518057, China", "commercial"),
    ("Quillfeather Robotics Inc., Boston, MA, USA", "commercial"),
    ("Vantorel Sensorik GmbH, 80331 München, Germany", "commercial"),
    ("深圳市羽笔科技有限公司", "commercial"),
    ("株式会社羽笔研究所, 東京", "commercial"),
    # Letters that only look like one: a state, a Dutch postcode, an Indian town.
    ("Quillfeather Field Station, Boulder, CO 80305, USA", "unknown"),
    ("Vantorel Laboratory, Nijenborgh 4, 9747 AG Groningen, The Netherlands", "unknown"),
    ("Quillfeather Research Centre, S.A.S. Nagar, Punjab 160062, India", "unknown"),
    # A hospital's piece is where its author works, before the university it teaches for; a
    # foundation with no other kind of body is a nonprofit.
    ("Department of Surgery, Wexmoor General Hospital, Lindqvist Medical University, Ontario", "healthcare"),
    ("Quillfeather Provincial People's Hospital, Hangzhou, China", "healthcare"),
    ("Vantorel Foundation, Hannover, Germany", "nonprofit"),
    ("Vantorel Foundation Ltd., Leeds, UK", "commercial"),
]


def _sector_of_unknown(found: Classifier, text: str) -> str:
    # Names nobody lists and no ROR record holds: the form of the name is all there is.
    aff = one(found.classify_text(text))
    assert aff.institution_id is None and aff.institution_name is None, aff
    return aff.sector


@pytest.mark.parametrize(("text", "sector"), UNKNOWN_NAMES)
def test_an_unknown_university_is_academic_by_its_name(text: str, sector: str) -> None:
    assert _sector_of_unknown(Classifier(), text) == sector


@pytest.mark.parametrize(("text", "sector"), UNKNOWN_NAMES)
def test_an_unknown_university_is_academic_by_its_name_beside_ror(
    classifier: Classifier, text: str, sector: str
) -> None:
    assert _sector_of_unknown(classifier, text) == sector


def test_a_pla_university_stays_military_not_academic() -> None:
    aff = one(Classifier().classify_text("Army Engineering University of PLA, Nanjing, China"))
    assert aff.sector == "military"


def test_a_listed_brand_glued_to_the_next_word_is_cut_after_the_brand(classifier: Classifier) -> None:
    aff = one(classifier.classify_text("SenseTimeResearch,Beijing,China"))
    assert {f.list for f in aff.flags} >= {"us-entity-list"}
    assert aff.institution_name == "SenseTime"


@pytest.mark.parametrize("with_ror", [True, False])
def test_words_glued_with_their_link_words_are_cut(
    ror_index: tuple[Gazetteer, Path],  # noqa: F811
    with_ror: bool,
) -> None:
    # "Universityof", "Scienceand": a name's word glued to the "of" or "and" after it, as PDF
    # extraction writes them; with the ROR index or without it.
    classifier = Classifier(ror_index[0] if with_ror else None)
    aff = one(classifier.classify_text("NationalUniversityofDefenseTechnology, Changsha, China"))
    assert aff.institution_name == "National University of Defense Technology"
    assert aff.sector == "military"
    aff = one(
        classifier.classify_text("SchoolofComputerScienceandTechnology,HarbinInstituteofTechnology")
    )
    assert "us-entity-list" in {f.list for f in aff.flags}
    aff = one(classifier.classify_text("XinjiangPoliceCollege, Urumqi, China"))
    assert "police-security" in {f.list for f in aff.flags}
    # A country's name ending in "land" is no link word.
    assert one(classifier.classify_text("University of Helsinki, Helsinki, Finland")).country == "FI"


def test_a_country_written_out_is_no_tail_of_an_organisations_name(classifier: Classifier) -> None:
    # "Republic of Belarus" ends the name of Belarus's standards committee in ROR; as a piece of
    # its own it is the country, not that committee.
    (aff,) = classifier.classify_text("Some Lab, Minsk, Republic of Belarus")
    assert aff.institution_id is None and aff.country == "BY"


def test_the_central_military_commission_is_military(classifier: Classifier) -> None:
    # ROR types the CMC as a government body; it commands the PLA.
    for aff in classifier.classify_text(
        "Intelligence Bureau of the Joint Staff Department, Central Military Commission, Beijing"
    ):
        assert aff.sector == "military", aff
    assert one(Classifier().classify_text("中央军委联合参谋部, 北京")).sector == "military"


# Defence bodies on no list, in the languages they write their names in (made-up units and
# real bodies' forms: Web of Science's "Mil", Turkish, Polish, Romanian, Spanish, French).
UNLISTED_DEFENCE = [
    "Defence Research and Development Laboratory, Hyderabad 500058, India",
    "Defence Research and Development Establishment, Gwalior, India",
    "Centre for Fire, Explosive and Environment Safety, DRDO, Delhi, India",
    "Israel Defense Forces, Tel Aviv, Israel",
    "Japan Ground Self-Defense Force, Tokyo, Japan",
    "Kara Harp Okulu, Ankara, Türkiye",
    "Milli Savunma Üniversitesi, Deniz Harp Okulu, İstanbul, Türkiye",
    "Mil Acad, Dept Chem, Belgrade, Serbia",
    "Mil Univ Technol, Fac Mechatron, Warsaw, Poland",
    "Wojskowy Instytut Medyczny, Warszawa, Polska",
    "Military Technical Academy, Bucharest, Romania",
    "Academia Tehnică Militară, București, România",
    "Academia General Militar, Zaragoza, Spain",
    "Centro Universitario de la Defensa, Marín, Spain",
    "DGA Techniques navales, Toulon, France",
    "Direction générale de l'armement, Paris, France",
    "Hôpital d'instruction des armées Percy, Clamart, France",
    "Forsvarets forskningsinstitutt, Kjeller, Norway",
    "Totalförsvarets forskningsinstitut, Stockholm, Sverige",
]


@pytest.mark.parametrize("text", UNLISTED_DEFENCE)
def test_defence_bodies_no_list_names_are_military(classifier: Classifier, text: str) -> None:
    for found in (classifier, Classifier()):
        affs = found.classify_text(text)
        assert affs and affs[0].sector == "military", (text, affs)


@pytest.mark.parametrize(
    "text",
    [
        "Military College of Signals, National University of Sciences and Technology, Rawalpindi, Pakistan",
        "Natl Univ Sci & Technol, Mil Coll Signals, Rawalpindi, Pakistan",
        "Department of Computer Science, NUST, Rawalpindi, Pakistan (e-mail: someone@mcs.edu.pk)",
    ],
)
def test_a_military_college_inside_a_university_is_military(
    classifier: Classifier, text: str
) -> None:
    # The university's ROR record may be the answer; its military unit decides the sector.
    for found in (classifier, Classifier()):
        affs = found.classify_text(text)
        assert affs and affs[0].sector == "military", (text, affs)


@pytest.mark.parametrize(
    "text",
    [
        "Department of Defence Studies, King's College London, London, UK",
        "Centre for Defence and Security Studies, University of Manitoba, Winnipeg, Canada",
        "Department of Defense Technology, Some University of Technology, Lahore, Pakistan",
        "Department of Electrical Engineering, Air University, Islamabad, Pakistan",
        "Bahria University, Karachi Campus, Karachi, Pakistan",
        "Institute of Military History, University of Vienna, Vienna, Austria",
    ],
)
def test_a_civilian_university_with_a_defence_word_stays_academic(
    classifier: Classifier, text: str
) -> None:
    for found in (classifier, Classifier()):
        affs = found.classify_text(text)
        assert affs and affs[0].sector == "academic", (text, affs)


@pytest.mark.parametrize(
    "text",
    [
        "Israel Aerospace Industries, Lod, Israel",
        "Quillfeather Heavy Industries, Ulsan, Korea",
        "ASELSAN A.S., Ankara, Turkey",
        "Quillfeather Savunma Sanayi A.Ş., Ankara, Türkiye",
        "Quillfeather Systems a.s., Brno, Czech Republic",
    ],
)
def test_defence_companies_are_commercial_by_their_legal_form(text: str) -> None:
    assert _sector_of_unknown(Classifier(), text) == "commercial"


def test_a_company_trail_needs_a_name_before_it() -> None:
    # "A.S. Rao Nagar" is a place in Hyderabad; "Ministry of Industries" is no company.
    assert _sector_of_unknown(Classifier(), "Quillfeather Centre, A.S. Rao Nagar, Hyderabad, India") == "unknown"
    assert _sector_of_unknown(Classifier(), "Ministry of Industries, Quillfeather") == "unknown"


@pytest.mark.parametrize(
    "text",
    [
        "Первый Московский государственный медицинский университет им. И.М. Сеченова, Москва",
        "Минский государственный лингвистический университет, Минск, Беларусь",
        "Київський національний університет, Київ, Україна",
        "دانشگاه علوم پزشکی تهران، تهران، ایران",
        "دانشکده مهندسی کامپیوتر، دانشگاه اصفهان، اصفهان، ایران",
        "جامعة دمشق، كلية الهندسة المعلوماتية، دمشق، سوريا",
    ],
)
def test_a_university_in_cyrillic_persian_or_arabic_is_academic(text: str) -> None:
    (aff,) = Classifier().classify_text(text)
    assert aff.institution_id is None and aff.sector == "academic", aff


def test_academies_of_sciences_and_research_institutes_are_no_universities() -> None:
    for text in (
        "Институт проблем управления РАН, Москва",
        "پژوهشگاه دانش‌های بنیادی، تهران، ایران",
        "جامعة الدول العربية، القاهرة",
    ):
        (aff,) = Classifier().classify_text(text)
        assert aff.sector != "academic", (text, aff)


def test_military_rules_tried_word_by_word_find_what_a_search_finds() -> None:
    from tracer.affiliations.rules import _military, military_rule_normalized

    pattern, labels = _military()
    for text in (
        "school of computer national university of defense technology changsha",
        "department of defence studies kings college london",
        "mil university technology institute optoelect warsaw",
        "centro universitario de la defensa academia general militar zaragoza",
        "中 央 军 委 联 合 参 谋 部",
        "stanford university",
    ):
        found = pattern.search(text)
        wanted = labels[int(found.lastgroup[1:])] if found and found.lastgroup else None
        assert military_rule_normalized(text) == wanted, text


def test_only_a_military_school_makes_a_universitys_answer_military(
    classifier: Classifier,
) -> None:
    # Another military body written beside the university is no unit of it.
    (aff,) = classifier.classify_text(
        "Department of Computer Science, Stanford University, Stanford, CA, USA and Army "
        "Research Laboratory, Adelphi, MD, USA"
    )
    assert aff.institution_id == STANFORD_ID and aff.sector == "academic"
    (aff,) = classifier.classify_text(
        "Military Hospital Department, Peking University Third Hospital, Beijing, China"
    )
    assert aff.sector == "healthcare"


def test_a_company_by_its_legal_form_at_the_end_of_its_name() -> None:
    # French, Luxembourgish, German, Italian, Dutch and Finnish legal forms; a state's
    # abbreviation before a postcode is none.
    for text in (
        "Parrot SA, 75010 Paris, France",
        "Cargolux Airlines International S.A., Luxembourg",
        "Deutsche Telekom AG, Bonn, Germany",
        "Leonardo S.p.A., Rome, Italy",
    ):
        assert Classifier().classify_text(text)[0].sector == "commercial", text
    assert Classifier().classify_text("School of Physics, Adelaide, SA 5005, Australia")[0].sector == (
        "unknown"
    )


def test_a_university_of_police_is_a_public_security_body() -> None:
    for text in (
        "Hubei University of Police, Wuhan, China",
        "Forensic Laboratory, Hubei Univ Police, Wuhan, Peoples R China",
        "Hubei Univ Police, Dept Criminal Invest, Wuhan, Peoples R China",
        "Tianjin Public Security Professional College, Tianjin, China",
    ):
        (aff,) = Classifier().classify_text(text)
        assert aff.sector == "government" and [f.list for f in aff.flags] == ["police-security"]
