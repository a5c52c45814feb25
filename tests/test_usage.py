"""The usage judge: used / cited / mentioned with checkable evidence, and the topic filter."""

from __future__ import annotations

import json
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


# -- issue 15: per-passage intents, the subject of use, signs, fitted rules -----------------

from tests.usage_cases import CASES, DATASETS, ISSUE_PATTERNS  # noqa: E402
from tracer.usage import Passage, judge_paper, rules_version  # noqa: E402
from tracer.usage import rules as rules_module  # noqa: E402
from tracer.usage.names import _literal_first  # noqa: E402

LFW = DatasetTerms.build("LFW", ["Labeled Faces in the Wild"], [], [], ["Computer Science"])


def _case_terms(dataset: str) -> DatasetTerms:
    names = DATASETS[dataset]
    return DatasetTerms.build(names[0], names[1:])


def test_the_cases_are_half_use_and_cover_every_pattern_of_the_issue() -> None:
    assert len(CASES) >= 60
    assert sum(c.used for c in CASES) * 2 == len(CASES)
    assert ISSUE_PATTERNS <= {c.pattern for c in CASES}


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.pattern in ISSUE_PATTERNS], ids=lambda c: c.pattern
)
def test_each_pattern_named_in_the_issue_is_judged_right(case) -> None:  # type: ignore[no-untyped-def]
    j = judge(_case_terms(case.dataset), cites=True, passages=[Passage(case.text)])
    assert (j.level == "used") is case.used, (case.text, j.score, j.reasons)


def test_face_cases_reach_the_precision_and_recall_the_issue_asks() -> None:
    said = [
        judge(_case_terms(c.dataset), cites=True, passages=[Passage(c.text)]).level == "used"
        for c in CASES
    ]
    hits = sum(s and c.used for s, c in zip(said, CASES, strict=True))
    assert hits / sum(said) >= 0.90
    assert hits / sum(c.used for c in CASES) >= 0.85


def test_intent_methodology_alone_is_used_and_result_alone_is_not() -> None:
    context = "Head detection in crowded scenes has a long history [12]."
    method = judge(BRAINWASH, cites=True, passages=[Passage(context, ("methodology",))])
    result = judge(BRAINWASH, cites=True, passages=[Passage(context, ("result",))])
    assert method.level == "used"
    assert result.level == "cited"
    assert method.score > result.score


def test_result_intent_with_the_authors_result_on_the_named_dataset_is_used() -> None:
    j = judge(LFW, cites=True,
              passages=[Passage("We reach 99.1% accuracy on LFW [14].", ("result",))])
    assert j.level == "used"


def test_each_context_keeps_its_own_intents() -> None:
    """A methodology intent on one context does not lend weight to another context, and a
    context that gives the use to another work is not rescued by its own intent."""
    other = Passage("Zhang et al. [22] trained their model on LFW [14].", ("methodology",))
    plain = Passage("Face verification has a long history [14].")
    j = judge(LFW, cites=True, passages=[other, plain])
    assert j.level == "cited"
    assert "intents-overruled-by-text" in j.reasons
    # The same intents, pooled over both contexts (as stored rows without passages are read),
    # would have given the methodology intent to the plain context too.
    pooled = judge(LFW, cites=True, contexts=[other.text, plain.text], intents=["methodology"])
    assert pooled.level == "used"


def test_a_context_without_the_name_counts_only_the_authors_verb_of_use() -> None:
    not_use = judge(LFW, cites=True, passages=[
        Passage("Our results were consistent with other studies (Wang 2012)."),
        Passage("Our approach differs from theirs in the choice of the loss [3]."),
    ])
    assert not_use.level == "cited"
    use = judge(LFW, cites=True, passages=[Passage("We train on the images of [14].")])
    assert use.level == "used"


def test_literal_first_keeps_an_optional_plural_optional() -> None:
    import re

    pattern = re.compile(_literal_first(r"\bresults?\b\s+on\b"))
    assert pattern.search("our result on lfw")
    assert pattern.search("our results on lfw")
    assert not pattern.search("ourresult on lfw")
    j = judge(LFW, cites=True, passages=[Passage("Our best result on LFW [14] is 99.1%.")])
    assert "verb:result" in j.reasons and j.level == "used"
    j = judge(LFW, cites=True, passages=[Passage("We compare the performance on LFW [14].")])
    assert "verb:result" in j.reasons


def test_signs_say_which_sign_fired_on_which_sentence_with_its_weight() -> None:
    sentence = "We train our recognition network on LFW [14]."
    j = judge(LFW, cites=True, passages=[Passage("Faces matter. " + sentence, ("methodology",))])
    names = [s.name for s in j.signs]
    assert names[:2] == ["use_own_named", "intent_methodology"]
    first = j.signs[0]
    assert first.text == sentence and first.where == "context" and first.source == "s2"
    assert first.weight == rules_module.rules().weights["use_own_named"]
    body = j.to_dict()
    assert json.loads(json.dumps(body))["signs"][0]["name"] == "use_own_named"
    assert body["level"] == "used" and body["evidence"][0]["text"] == sentence


def test_snippet_from_a_method_section_counts_more_than_from_the_introduction() -> None:
    text = "The LFW [14] faces were aligned with five landmarks."
    method = judge(LFW, cites=False, passages=[
        Passage(text, route="mentions", section="4. Experiments")])
    intro = judge(LFW, cites=False, passages=[
        Passage(text, route="mentions", section="1 Introduction")])
    assert method.score > intro.score
    assert "section_method" in [s.name for s in method.signs]


def test_judge_paper_reads_passages_and_falls_back_to_contexts_of_old_rows() -> None:
    paper = {"title": "A face matcher", "abstract": None, "authors_source": "openalex"}
    row = {"route": "cites", "source": "s2", "target": "x", "via_derivative": "",
           "cites_origin": None, "contexts": ["Face verification has a long history [14]."],
           "intents": ["methodology"]}
    old = judge_paper(LFW, paper, [row])
    assert old.level == "used"  # the row's intents go to each of its contexts
    new_row = dict(row, passages=[
        {"text": "Face verification has a long history [14].", "intents": ["background"],
         "section": None, "kind": None},
    ])
    assert judge_paper(LFW, paper, [new_row]).level == "cited"
    derived = judge_paper(DUKE, paper, [dict(row, contexts=[], via_derivative="DukeMTMC-reID",
                                             intents=[])])
    assert "via-derivative:DukeMTMC-reID" in derived.reasons
    mention = {"route": "mentions", "source": "s2", "target": "q", "via_derivative": "",
               "cites_origin": None, "contexts": ["We evaluate on LFW."], "intents": []}
    j = judge_paper(LFW, paper, [mention])
    assert j.level == "used" and j.evidence[0].kind == "snippet"


def test_rules_version_is_stable_and_follows_the_rules_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracer.usage import rules as r

    first = rules_version()
    assert first == rules_version() and len(first) <= 16
    copy = tmp_path / "rules.yaml"
    copy.write_text(r.RULES_FILE.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    monkeypatch.setattr(r, "RULES_FILE", copy)
    r.rules_version.cache_clear()
    try:
        assert r.rules_version() != first
    finally:
        monkeypatch.undo()
        r.rules_version.cache_clear()
    assert rules_version() == first


def test_terms_for_a_catalog_dataset_hold_its_names_and_its_derivatives() -> None:
    from tracer.catalog import Catalog, Dataset

    child = Dataset(key="child", name="DukeMTMC-reID", mentions=(), fields_of_study=(),
                    origin_papers=(), aliases=("Duke reID",))
    parent = Dataset(key="duke", name="DukeMTMC", mentions=("Duke MTMC dataset",),
                     fields_of_study=("Computer Science",), origin_papers=(),
                     aliases=("Duke MTMC",), derivatives=("child",))
    terms = DatasetTerms.for_dataset(parent, Catalog(Path("x.yaml"), [parent, child]))
    assert terms.key == "duke"
    assert terms.names == ["DukeMTMC", "Duke MTMC", "Duke MTMC dataset"]
    assert terms.derivative_names == ["DukeMTMC-reID", "Duke reID"]
    assert terms.fields_of_study == ["Computer Science"]


def test_the_fitted_weights_are_what_the_fitting_script_gives(shared_data: Path) -> None:
    """The rules file's weights come from the script, on the training splits only."""
    pytest.importorskip("sklearn")
    from benchmarks.fit_usage import fit
    from benchmarks.usage_sets import CONTEXTS, FIT_SPLITS, HELD_OUT

    assert not any(set(FIT_SPLITS[c]) & set(HELD_OUT[c]) for c in FIT_SPLITS)
    intercept, coefs, _ = fit(CONTEXTS)
    loaded = rules_module.rules()
    assert intercept == pytest.approx(loaded.intercept, abs=1e-3)
    for sign, weight in coefs.items():
        assert weight == pytest.approx(loaded.weights[sign], abs=1e-3), sign
    text = rules_module.RULES_FILE.read_text(encoding="utf-8")
    assert "command: .venv/bin/python -m benchmarks.fit_usage" in text
    assert "multicite/train.json sha256:" in text and "commit: " in text


def test_a_snippet_from_the_abstract_is_read_as_an_abstract() -> None:
    text = "We propose a matcher. Experiments on LFW show gains."
    body = judge(LFW, cites=False, passages=[Passage(text, route="mentions", kind="body")])
    abstract = judge(LFW, cites=False,
                     passages=[Passage(text, route="mentions", kind="abstract")])
    assert abstract.signs[0].where == "abstract"
    assert abstract.level == "used"
    assert body.signs[0].where == "snippet"


def test_the_context_benchmark_counts_sentences_and_citing_papers() -> None:
    from benchmarks.usage import score_pairs, score_samples
    from benchmarks.usage_sets import Sample

    samples = [
        Sample("multicite", "x", "We train on the SQuAD corpus [3].", True, ("SQuAD",), group="a"),
        Sample("multicite", "x", "SQuAD [3] is a reading test.", False, ("SQuAD",), group="a"),
        Sample("multicite", "x", "Zhang et al. [3] trained on SQuAD.", False, ("SQuAD",),
               group="b"),
        Sample("scicite", "x", "Crowds are hard [3].", False, intents=("methodology",)),
    ]
    row = score_samples("s", samples)
    assert (row.judge.judged, row.judge.hits, row.judge.positives) == (1, 1, 1)
    assert row.every.precision == 0.25 and row.every.recall == 1.0
    assert row.intent is not None and row.intent.judged == 1 and row.intent.hits == 0
    pairs = score_pairs("p", samples[:3])
    assert (pairs.judge.total, pairs.judge.judged, pairs.judge.hits) == (2, 1, 1)
