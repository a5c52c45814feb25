"""The judge's fast paths give the verdicts of the plain ones.

The prefilter (tracer/usage/prefilter.py) skips a pattern when a sentence lacks every word of
one of its guard's sets; signs.py skips the patterns holding the name in a sentence without
it. Here the plain judge is kept as a reference (every pattern searched on every sentence, as
the judge did before) and compared, sign by sign and verdict by verdict, with the fast one on
texts written for these tests: every verb of use, result phrase, subject, blocker, listing
and marker, in other cases, split across hyphens, with abbreviations and non-ASCII letters
(including those Python's regex engine folds onto ASCII ones: "ſ" onto "s", "K" (Kelvin) onto
"k", "İ" onto "i").
"""

from __future__ import annotations

import bisect
import itertools
import re
import sys
from collections.abc import Iterator

import pytest

import tracer.usage.signs as signs
from tracer.usage import DatasetTerms, Passage, judge
from tracer.usage.names import _sentence_spans, _trim
from tracer.usage.prefilter import guard
from tracer.usage.rules import Rules, rules
from tracer.usage.signs import SentenceSigns

TERMS = [
    DatasetTerms.build("Brainwash", ["Brainwash dataset"], [], [], ["Computer Science"]),
    DatasetTerms.build("DukeMTMC", ["Duke MTMC"], [], ["DukeMTMC-reID"], ["Computer Science"]),
    DatasetTerms.build("MS-Celeb-1M", ["MS-Celeb", "MS1M"]),
    DatasetTerms.build("LFW", ["Labeled Faces in the Wild"]),
    DatasetTerms.build("Cafecam", ["Cafecam dataset"]),
]

# Sentences written for this test, one or more per rule; "{X}" is the dataset's name.
TEMPLATES = [
    "We train our detector on {X} and evaluate it on the test split.",
    "We re-train the model with {X} images.",
    "Images were selected for training from {X}.",
    "The training set of {X} holds 11,917 images.",
    "We pre-train on {X} and fine-tune on our data.",
    "The network is pretrained on ImageNet and fine tuned on {X}.",
    "We evaluate the method on {X} [12].",
    "{X} is used for evaluation, and Market-1501 for testing.",
    "Models are tested on {X} with the standard protocol.",
    "We validate our approach on {X}; we verify the results on [7].",
    "Experiments on {X} and two other benchmarks show consistent gains.",
    "Experimental results over {X} are in Table 3.",
    "We benchmarked the trackers using {X}.",
    "All experiments were performed with {X} images; training was carried out on GPUs.",
    "Our system is based on {X}; it was based on prior work.",
    "Faces were taken from {X} and cropped to 112x112.",
    "We randomly sample 500 identities from {X}.",
    "Images of {X} were resized; pairs from the {X} test set were aligned.",
    "We use {X} [3] and adopt its protocol.",
    "The images are normalized and then aligned.",
    "Using the {X} dataset, we measure accuracy.",
    "The detector was trained with the {X} images.",
    "Following [12], we train on {X}.",
    "Following Zhang et al. (2016), the model is trained on the data.",
    "Results on {X} show a rank-1 accuracy of 92%.",
    "Performance on {X} drops for small heads.",
    "Our accuracies across {X} and LFW are high.",
    "The mAP on {X} is 71.2, and the error rates over [4] fall.",
    "We achieve 99.5% verification accuracy on {X}.",
    "Our method outperforms the baselines on {X}.",
    "It reaches state-of-the-art performance on {X}.",
    "We report results and scores for {X}.",
    "Zhang et al. trained their network on {X}.",
    "They used {X} in their study of crowds.",
    "Previous methods achieved good results on {X}.",
    "Earlier deep networks were trained on {X} [5].",
    "[12] used {X} for training.",
    "{X} was used in research by NUDT.",
    "The model was trained on {X} in [14].",
    "Liu and Wang (2015) trained on {X}.",
    "The winners of the challenge have trained on {X}.",
    "In future work we plan to evaluate on {X}.",
    "Our method could be tested on {X}.",
    "Unlike {X}, we collect our own images.",
    "In contrast to [3], we apply it to our own data collected on {X}.",
    "We collected a new dataset instead of using {X}.",
    "As reported in [9], models trained on {X} overfit.",
    "Prior work showed that training on {X} helps.",
    "We found that training on {X} helps.",
    "We do not train on {X}.",
    "The model wasn't trained on {X} but on ours.",
    "We use datasets such as {X} and LFW for training.",
    "Benchmarks like {X}, e.g. for faces, are common.",
    "Many datasets, including {X}, exist.",
    "The {X} dataset [12] contains 10,000 faces.",
    "{X} (Zhang et al., 2016) was released in 2016.",
    "Datasets such as {X} are popular.",
    "Crowd counting and detection have been studied extensively [3, 7].",
    "The dataset of Zhang et al., 2016 is large.",
    "Head detection is hard; see Fig. 3 and Eq. 2 for details, i.e. the loss.",
    "We analyzed the data using the toolkit of Smith and Jones (2019).",
    "The features were computed in the pipeline, then implemented on FPGA.",
    "Ours is trained. We then test it on [2].",
    "This work is funded by the NSF.",
]

# The same sentences bent: case, hyphens and dashes, spaces, abbreviations, non-ASCII.
BENDS = [
    lambda s: s,
    str.upper,
    str.lower,
    str.title,
    lambda s: s.replace("train", "tra-in").replace("-", "\u2011"),
    lambda s: s.replace(" ", "-"),
    lambda s: s.replace(" on ", " on\n").replace(" with ", "  with\t"),
    lambda s: s.replace("s", "\u017f"),  # long s: the engine matches it with "s" without case
    lambda s: s.replace("k", "\u212a").replace("K", "\u212a"),  # Kelvin sign, folded onto k
    lambda s: s.replace("i", "\u0130"),  # dotted capital I: lower() gives two characters
    lambda s: s.replace("e", "\u00e9"),
    lambda s: "Résumé: " + s,
    lambda s: s.replace(".", " et al. e.g. cf. No. 5."),
    lambda s: s.replace("we ", "We ").replace("We ", "WE "),
]


def texts(terms: DatasetTerms) -> Iterator[str]:
    names = (terms.names[0], terms.names[-1], terms.names[0].upper(), "[12]")
    for i, (template, bend) in enumerate(itertools.product(TEMPLATES, BENDS)):
        yield bend(template.replace("{X}", names[i % len(names)]))


def passages(terms: DatasetTerms) -> Iterator[str]:
    """Several sentences in one passage, so that the sentence splitter is exercised too."""
    sentences = list(texts(terms))
    for i in range(0, len(sentences) - 3, 3):
        yield " ".join(sentences[i : i + 3])


# -- the plain reference: every pattern searched, as the judge did before the fast paths ----


def _plain_first(patterns: list[signs.Verb], sentence: str, low: str) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for label, pattern, as_written, _ in patterns:
        match = pattern.search(sentence if as_written else low)
        if match is not None:
            found.append((label, match.start()))
    return found


def _plain_subject(sentence: str, low: str, at: int, rules: Rules) -> str:
    own = [m.end() for m in rules.first_person.finditer(low[: at + 4])]
    other = [m.end() for m in rules.other_before.finditer(sentence[:at])]
    if own or other:
        return "own" if max(own, default=-1) >= max(other, default=-1) else "other"
    if rules.first_person.search(low):
        return "own"
    if rules.other_after.search(sentence[at:]):
        return "other"
    if rules.passive.search(low):
        return "passive"
    return "none"


def plain_sentence_signs(terms: DatasetTerms, sentence: str, rules: Rules, *, with_name: bool
                         ) -> SentenceSigns | None:
    matcher = terms._matcher
    match = matcher.any.search(sentence)
    if match is None and with_name:
        return None
    low = sentence.lower()
    uses = _plain_first(matcher.verbs, sentence, low)
    results = _plain_first(matcher.results, sentence, low)
    name: str | None = None
    derived = False
    at_name = 0
    if match is not None and match.lastindex is not None:
        name, derived, _ = matcher.groups[match.lastindex - 1]
        at_name = match.start()
    if not uses and not results:
        if name is None:
            return None
        listed = rules.listing.search(sentence[:at_name]) is not None
        sign = "named_in_listing" if listed else "named"
        return SentenceSigns(_trim(sentence, at_name), [sign], name, derived)
    at_verb = min(at for _, at in uses + results)
    subject = _plain_subject(sentence, low, at_verb, rules)
    blocked = [key for key, pattern in rules.blockers.items() if pattern.search(sentence)]
    if subject in {"own", "passive"} and "reported" in blocked:
        blocked.remove("reported")
    if subject == "other":
        blocked.insert(0, "other_subject")
    labels = list(dict.fromkeys(label for label, _ in uses + results))
    found: list[str] = []
    if name is not None:
        found.append("named")
    if blocked:
        found.extend(blocked)
        labels = []
    elif name is not None:
        if uses:
            found[-1] = "use_own_named" if subject in {"own", "passive"} else "use_named"
        elif subject in {"own", "passive"}:
            found[-1] = "result_named"
    else:
        marked = rules.marker.search(sentence) is not None
        if uses and subject in {"own", "passive"}:
            found.append("use_own_marker" if marked else "use_unmarked")
    if not found:
        return None
    return SentenceSigns(_trim(sentence, at_name if name else at_verb), found, name, derived,
                         labels)


def plain_passage_signs(terms: DatasetTerms, text: str, rules: Rules, *, with_name: bool = False
                        ) -> list[SentenceSigns]:
    spans = _sentence_spans(text, rules.abbreviations)
    if with_name:
        ends = [end for _, end in spans]
        wanted = {bisect.bisect_right(ends, m.start()) for m in terms._matcher.any.finditer(text)}
        spans = [s for i, s in enumerate(spans) if i in wanted]
    out = []
    for begin, end in spans:
        found = plain_sentence_signs(terms, text[begin:end], rules, with_name=with_name)
        if found is not None:
            out.append(found)
    return out


# -- the tests ---------------------------------------------------------------------------------


def every_pattern(terms: DatasetTerms) -> list[tuple[re.Pattern[str], bool]]:
    """Each pattern the judge searches a sentence with, and whether it reads the lower case."""
    r = rules()
    out = [(p, not as_written) for _, p, as_written, _ in terms._matcher.verbs]
    out += [(p, not as_written) for _, p, as_written, _ in terms._matcher.results]
    out += [(r.first_person, True), (r.passive, True)]
    out += [(p, False) for p in (r.other_before, r.other_after, r.listing, r.marker,
                                 *r.blockers.values())]
    return out


@pytest.mark.parametrize("terms", TERMS, ids=lambda t: t.key)
def test_a_guard_never_rules_out_a_pattern_that_matches(terms: DatasetTerms) -> None:
    patterns = [(p, on_low, guard(p)) for p, on_low in every_pattern(terms)]
    guarded = [(p, on_low, g) for p, on_low, g in patterns if g is not None]
    assert len(guarded) >= 15, "the slow patterns (no literal to skip to) all have a guard"
    ruled_out = 0
    for text in itertools.chain(texts(terms), passages(terms)):
        low = text.lower()
        for pattern, on_low, needs in guarded:
            read = low if on_low else text
            if not needs.may_match(read, low, text.isascii()):
                ruled_out += 1
                assert pattern.search(read) is None, (pattern.pattern, text)
                # Nor in any part of it (the judge searches slices too).
                assert pattern.search(read[: len(read) // 2]) is None, (pattern.pattern, text)
                assert pattern.search(read[len(read) // 3 :]) is None, (pattern.pattern, text)
    assert ruled_out > 5_000  # the guards do rule out


@pytest.mark.parametrize("terms", TERMS, ids=lambda t: t.key)
def test_fast_sentence_signs_are_the_plain_ones(terms: DatasetTerms) -> None:
    r = rules()
    compared = 0
    for text in texts(terms):
        for with_name in (False, True):
            fast = signs.sentence_signs(terms, text, r, with_name=with_name)
            plain = plain_sentence_signs(terms, text, r, with_name=with_name)
            assert fast == plain, text
            compared += fast is not None
    assert compared > 300


@pytest.mark.parametrize("terms", TERMS, ids=lambda t: t.key)
def test_fast_verdicts_are_the_plain_ones(terms: DatasetTerms, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    """Whole verdicts (level, score, evidence, reasons, signs) of contexts with and without
    intents, snippets, titles and abstracts."""
    calls = []
    for i, text in enumerate(passages(terms)):
        intents = (("methodology",), ("result",), ("background",), ())[i % 4]
        calls.append({"cites": i % 3 > 0,
                      "passages": [Passage(text, intents),
                                   Passage(text, route="mentions", section="4 Experiments")],
                      "title": text[:80], "abstract": text})
        calls.append({"cites": False, "passages": [Passage(text, route="mentions",
                                                           kind="abstract")]})
    fast = [judge(terms, **call).to_dict() for call in calls]
    monkeypatch.setattr(signs, "sentence_signs", plain_sentence_signs)
    monkeypatch.setattr(signs, "passage_signs", plain_passage_signs)
    # tracer.usage.judge is also the name of the function the package exports.
    monkeypatch.setattr(sys.modules["tracer.usage.judge"], "passage_signs", plain_passage_signs)
    plain = [judge(terms, **call).to_dict() for call in calls]
    assert fast == plain
    assert {v["level"] for v in fast} == {"used", "cited", "mentioned"}


def test_the_guards_skip_the_slow_patterns_on_a_sentence_without_their_words() -> None:
    terms = TERMS[0]
    sentence = "Crowd counting has been studied extensively [3, 7]."
    low = sentence.lower()
    slow = [p for _, p, as_written, g in terms._matcher.verbs if g is not None and not as_written]
    skipped = [p for p in slow if not guard(p).may_match(low, low, True)]  # type: ignore[union-attr]
    assert len(skipped) >= len(slow) - 2
    # Not ASCII: a set read without case rules nothing out ("ſample" matches "sample" there).
    folded = rules().blockers["negated"]
    needs = guard(folded)
    assert needs is not None and needs.folded
    assert needs.may_match("It is \u017fo.", "it is \u017fo.", False)
    assert not needs.may_match("It is so.", "it is so.", True)


# -- the passage memo: a passage seen before adds what it added the first time ---------------


def _shared_calls(terms: DatasetTerms) -> list[dict[str, object]]:
    """Papers whose passages repeat from paper to paper (in another order, beside others),
    with snippets of each kind, empty contexts with intents only, and titles and abstracts
    of their own."""
    texts_ = list(passages(terms))[:40] + [""]
    pool = []
    for i, text in enumerate(texts_):
        intents = (("methodology",), ("result",), ("background",), (), ("methodology", "result"))
        pool.append(Passage(text, intents[i % 5]))
        pool.append(Passage(text, route="mentions", section=("4 Experiments", None)[i % 2]))
        pool.append(Passage(text, route="mentions", kind=("title", "abstract", "body")[i % 3]))
        pool.append(Passage(text, intents[(i + 1) % 5], source="openalex"))
    calls: list[dict[str, object]] = []
    for n in range(400):
        picked = [pool[(n * 7 + k * 13) % len(pool)] for k in range(n % 4)]
        if n % 5 == 0:
            picked = picked + picked[:1]  # the same passage twice in one paper
        calls.append({"cites": n % 3 > 0, "passages": picked,
                      "title": texts_[n % len(texts_)][:60] if n % 2 else None,
                      "abstract": texts_[(n * 3) % len(texts_)] if n % 3 else None})
    return calls


@pytest.mark.parametrize("terms", TERMS, ids=lambda t: t.key)
@pytest.mark.parametrize("limit", [20_000, 7])
def test_verdicts_with_a_passage_memo_are_those_without(terms: DatasetTerms, limit: int) -> None:
    from tracer.usage import PassageMemo

    calls = _shared_calls(terms)
    plain = [judge(terms, **call).to_dict() for call in calls]  # type: ignore[arg-type]
    memo = PassageMemo(terms, limit=limit)
    memoised = [judge(terms, memo=memo, **call).to_dict() for call in calls]  # type: ignore[arg-type]
    assert memoised == plain
    # The passages did repeat, and were taken from the memo (less often from a small one).
    assert memo.hits > (memo.misses if limit > len(calls) else 0)
    assert len(memo.effects) <= limit
    assert {v["level"] for v in plain} == {"used", "cited", "mentioned"}


def test_judge_paper_with_a_memo_gives_the_stored_verdicts_and_refuses_another_datasets() -> None:
    from tracer.usage import PassageMemo, RowFacts, judge_paper

    terms, other = TERMS[0], TERMS[3]
    paper = {"id": 1, "title": "Counting heads", "abstract": None, "authors_source": "s2"}
    rows = [{"route": "cites", "source": "s2", "via_derivative": "", "cites_origin": None,
             "contexts": [], "intents": [], "passages": [
                 {"text": "We train on the Brainwash dataset [7].", "intents": ["methodology"]},
                 {"text": "", "intents": ["background"]}]},
            {"route": "cites", "source": "openalex", "via_derivative": "", "cites_origin": None,
             "contexts": [], "intents": [], "passages": []}]
    memo = PassageMemo(terms)
    # Rows as StoredInputs shares them between papers (a stored row seen before).
    shared = [RowFacts.of(r, shared=True) for r in rows]
    first = judge_paper(terms, paper, shared, memo).to_dict()
    # A verdict is kept from its second sighting, and taken from the memo from its third.
    again = [judge_paper(terms, dict(paper, id=i), shared, memo) for i in (2, 3)]
    assert first == again[0].to_dict() == judge_paper(terms, paper, rows).to_dict()
    assert again[1] is again[0] and len(memo.verdicts) == 1 and memo.hits == 0
    # A title naming the dataset: the paper is judged, its passages taken from the memo.
    named = dict(paper, title="Counting heads in Brainwash")
    assert (judge_paper(terms, named, shared, memo).to_dict()
            == judge_paper(terms, named, rows).to_dict())
    assert (memo.hits, len(memo.effects)) == (2, 2)
    # Rows of their own (not shared) are judged without the memo.
    assert judge_paper(terms, named, rows, memo).to_dict()["level"] == "used"
    assert memo.hits == 2
    # A passage with a field that cannot be hashed is judged, not kept.
    odd = Passage("We train on the Brainwash dataset [7].", ["methodology"])  # type: ignore[arg-type]
    assert judge(terms, cites=True, passages=[odd], memo=memo).level == "used"
    with pytest.raises(ValueError):
        judge_paper(other, paper, rows, memo)


def test_a_memo_keeps_nothing_of_passages_seen_once() -> None:
    """Contexts of their own (the usual case for real citers) leave the memo empty: it keeps
    a passage, a row or a verdict only from its second sighting."""
    from tracer.usage import PassageMemo, judge_paper

    terms = TERMS[0]
    memo = PassageMemo(terms)
    for i in range(300):
        rows = [{"route": "cites", "source": "s2", "via_derivative": "", "cites_origin": None,
                 "contexts": [f"We train on the Brainwash dataset, split {i}."],
                 "intents": ["methodology"], "passages": []}]
        paper = {"id": i, "title": f"Paper {i}", "abstract": None, "authors_source": "s2"}
        assert judge_paper(terms, paper, rows, memo).level == "used"
    assert (memo.hits, len(memo.effects), len(memo.verdicts)) == (0, 0, 0)
