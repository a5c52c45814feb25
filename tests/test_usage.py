"""The usage judge: used / cited / mentioned with checkable evidence, and the topic filter."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracer.errors import CatalogError
from tracer.usage import DatasetTerms, judge, on_topic

BRAINWASH = DatasetTerms.build(
    "Brainwash", ["Brainwash dataset"], [], [], ["Computer Science"], key="brainwash"
)
DUKE = DatasetTerms.build(
    "DukeMTMC", [], [], ["DukeMTMC-reID", "DukeMTMC-VideoReID"], ["Computer Science"]
)
EMPTY: list[str] = []


def test_background_context_is_cited() -> None:
    j = judge(
        BRAINWASH,
        cites=True,
        contexts=["Head detection in crowded scenes has a long history [12, 13]."],
        intents=["background"],
        snippets=EMPTY,
        title="Counting people",
        abstract=None,
    )
    assert j.level == "cited"
    assert j.score < 0.5
    assert "cites" in j.reasons
    assert j.evidence == []


def test_training_sentence_with_methodology_intent_is_used_with_that_sentence() -> None:
    sentence = "We train on the Brainwash dataset [12] and report results on the test split."
    j = judge(
        BRAINWASH,
        cites=True,
        contexts=["Crowd counting is hard. " + sentence],
        intents=["methodology"],
        snippets=EMPTY,
        title=None,
        abstract=None,
    )
    assert j.level == "used"
    assert j.score > 0.9
    assert j.evidence[0].text == sentence
    assert j.evidence[0].kind == "context"
    assert j.evidence[0].source == "s2"
    assert j.evidence[0].matched is not None and j.evidence[0].matched.startswith("Brainwash")
    assert {"intent:methodology", "verb:train", "name-in-context"} <= set(j.reasons)


def test_snippet_without_citation_is_mentioned() -> None:
    snippet = "Crowded scenes, as in the Brainwash dataset, make heads small and occluded."
    j = judge(
        BRAINWASH,
        cites=False,
        contexts=EMPTY,
        intents=EMPTY,
        snippets=[snippet],
        title=None,
        abstract=None,
    )
    assert j.level == "mentioned"
    assert j.evidence[0].text == snippet
    assert j.evidence[0].kind == "snippet"


def test_mention_with_verbs_of_use_is_used_even_without_citation() -> None:
    j = judge(
        BRAINWASH,
        cites=False,
        contexts=EMPTY,
        intents=EMPTY,
        snippets=["We evaluate our head detector on Brainwash and on SCUT-HEAD."],
        title=None,
        abstract=None,
    )
    assert j.level == "used"
    assert "verb:evaluate" in j.reasons


def test_negated_use_does_not_count() -> None:
    j = judge(
        BRAINWASH,
        cites=True,
        contexts=["We did not train on Brainwash [12], which has been withdrawn."],
        intents=EMPTY,
        snippets=EMPTY,
        title=None,
        abstract=None,
    )
    assert j.level == "cited"
    assert not any(r.startswith("verb:") for r in j.reasons)


def test_dataset_listed_as_an_example_is_weaker_than_named_alone() -> None:
    listed = judge(
        BRAINWASH,
        cites=True,
        intents=["methodology"],
        contexts=["Datasets such as Brainwash [12] and Mall [13] exist."],
    )
    alone = judge(
        BRAINWASH,
        cites=True,
        intents=["methodology"],
        contexts=["Brainwash [12] holds 11,917 images from a cafe camera."],
    )
    assert "listing" in listed.reasons
    assert listed.score < alone.score


def test_first_person_use_of_the_cited_work_without_the_name_is_used() -> None:
    j = judge(BRAINWASH, cites=True, contexts=["We train our detector on the images of [12]."])
    assert j.level == "used"
    assert j.evidence[0].matched is None
    assert "use-in-context" in j.reasons


def test_name_in_title_or_abstract_shows_use_and_keeps_its_source() -> None:
    j = judge(
        DUKE,
        cites=True,
        contexts=EMPTY,
        intents=EMPTY,
        snippets=EMPTY,
        title="Person re-identification: a study on DukeMTMC",
        abstract=None,
        text_source="openalex",
    )
    assert j.level == "used"
    assert j.evidence[0].kind == "title"
    assert j.evidence[0].source == "openalex"


def test_derivative_name_counts_toward_parent_and_says_so() -> None:
    abstract = (
        "Person re-identification matters. Extensive experiments on Market-1501 and "
        "DukeMTMC-reID show that our method outperforms the state of the art."
    )
    j = judge(
        DUKE,
        cites=True,
        contexts=EMPTY,
        intents=EMPTY,
        snippets=EMPTY,
        title="A part-aligned model",
        abstract=abstract,
        via_derivative="DukeMTMC-reID",
    )
    assert j.level == "used"
    assert j.evidence[0].matched == "DukeMTMC-reID"
    assert j.evidence[0].kind == "abstract"
    assert "derivative:DukeMTMC-reID" in j.reasons
    assert "via-derivative:DukeMTMC-reID" in j.reasons


@pytest.mark.parametrize(
    "written", ["DukeMTMC-reID", "DukeMTMC-ReID", "Duke MTMC reID", "dukemtmc-reid"]
)
def test_distinctive_names_match_in_any_spelling(written: str) -> None:
    j = judge(DUKE, cites=True, abstract=f"We report results on {written}.")
    assert j.evidence[0].matched == "DukeMTMC-reID"


def test_citer_without_any_text_is_cited_and_non_citer_without_name_is_mentioned() -> None:
    assert judge(BRAINWASH, cites=True).level == "cited"
    j = judge(BRAINWASH, cites=False, snippets=["Crowd counting with density maps."])
    assert j.level == "mentioned"
    assert "no-name-in-text" in j.reasons


def test_long_sentences_are_trimmed_around_the_name() -> None:
    long = "word " * 200 + "we train on Brainwash [12] " + "word " * 200
    j = judge(BRAINWASH, cites=True, contexts=[long])
    assert len(j.evidence[0].text) <= 400
    assert "Brainwash" in j.evidence[0].text


def test_psychology_brainwashing_text_is_not_on_topic() -> None:
    text = (
        "Brainwashing and coercive persuasion: prisoners of war were brainwashed. "
        "Brainwash remains a contested idea in social psychology."
    )
    assert not on_topic(BRAINWASH, text=text, fields_of_study=["Psychology"], cites=False)
    assert not on_topic(BRAINWASH, text=text, fields_of_study=[], cites=False)


@pytest.mark.parametrize(
    "text",
    [
        "Head detection results on the Brainwash dataset.",
        "We compare with detectors trained on Brainwash [12].",
        "experiments on Brainwash show",
        "as in Brainwash (Stewart et al., 2016)",
    ],
)
def test_dataset_named_as_a_dataset_is_on_topic(text: str) -> None:
    assert on_topic(BRAINWASH, text=text, fields_of_study=["Computer Science"], cites=False)


def test_off_field_mention_is_dropped_but_citers_are_always_on_topic() -> None:
    text = "Results on the Brainwash dataset."
    assert not on_topic(BRAINWASH, text=text, fields_of_study=["Sociology"], cites=False)
    assert on_topic(BRAINWASH, text="nothing here", fields_of_study=["Sociology"], cites=True)


def test_distinctive_name_is_on_topic_without_a_cue() -> None:
    assert on_topic(DUKE, text="Market-1501 and DukeMTMC", fields_of_study=[], cites=False)


def test_short_acronyms_match_only_as_written_and_as_a_dataset() -> None:
    dif = DatasetTerms.build("DiF", ["Diversity in Faces"], [], [], [])
    lfw = DatasetTerms.build("LFW", [], [], [], [])
    assert not on_topic(
        dif, text="Item bias was tested with DIF on the survey.", fields_of_study=[], cites=False
    )
    assert on_topic(dif, text="the diversity in faces annotations", fields_of_study=[], cites=False)
    assert on_topic(lfw, text="99.6% accuracy on LFW", fields_of_study=[], cites=False)
    assert not on_topic(lfw, text="LFW and its friends", fields_of_study=[], cites=False)


def test_a_dataset_without_names_is_refused() -> None:
    with pytest.raises(CatalogError):
        DatasetTerms.build("  ", [], [], [], [])


@settings(max_examples=300, deadline=None)
@given(
    contexts=st.lists(st.text(max_size=300), max_size=3),
    intents=st.lists(st.sampled_from(["background", "methodology", "result", "", "x"])),
    snippets=st.lists(st.text(max_size=300), max_size=3),
    title=st.none() | st.text(max_size=100),
    abstract=st.none() | st.text(max_size=600),
    cites=st.booleans(),
)
def test_judge_never_raises_and_score_stays_in_range(
    contexts: list[str],
    intents: list[str],
    snippets: list[str],
    title: str | None,
    abstract: str | None,
    cites: bool,
) -> None:
    for terms in (BRAINWASH, DUKE):
        j = judge(
            terms,
            cites=cites,
            contexts=contexts,
            intents=intents,
            snippets=snippets,
            title=title,
            abstract=abstract,
        )
        assert 0.0 <= j.score <= 1.0
        assert j.level in {"used", "cited", "mentioned"}
        assert cites or j.level != "cited"
        assert all(len(e.text) <= 400 for e in j.evidence)
        on_topic(terms, text=abstract or "", fields_of_study=intents, cites=cites)


def test_judging_is_fast() -> None:
    abstract = (
        "We propose a head detector for crowded scenes. It is trained end to end. "
        "Experiments on the Brainwash dataset show gains over Faster R-CNN. " * 2
    )
    plain = "We study something else entirely, with no dataset named. " * 10
    started = time.process_time()
    for i in range(2000):
        judge(
            BRAINWASH,
            cites=True,
            contexts=["Following [12], we count heads."],
            intents=["methodology"],
            title="Heads",
            abstract=abstract if i % 4 == 0 else plain,
        )
    # 2,000 papers in well under a second: 50,000 in a few seconds.
    assert time.process_time() - started < 2.0


def test_benchmark_scores_the_labelled_data(shared_data: Path) -> None:
    from benchmarks.usage import run

    scores = run(shared_data)
    assert {s.dataset for s in scores} >= {"DukeMTMC", "LFW", "MS-Celeb-1M", "all"}
    for s in scores:
        assert s.papers > 0
        assert 0.0 <= s.precision <= 1.0
        assert 0.0 <= s.recall <= 1.0
        assert 0.0 < s.baseline_precision < 1.0
    total = scores[-1]
    assert total.papers == sum(s.papers for s in scores[:-1])
    # Naming a dataset with a verb of use is a strong sign: the judge beats the baseline's
    # precision (every citer a user) by a wide margin.
    assert total.precision > total.baseline_precision + 0.2
