"""The matcher's shortcuts give the answers of the plain route.

Per-piece memos (what a piece holds once its slips are corrected, its bag of stems, its
translated names, the start of longer names it begins with) must be functions of the piece
alone: the same piece written in another string, beside another country or other neighbours,
must get that string's answer, not the first string's. The strings here are written for these
tests; each is classified by a fresh classifier (nothing remembered from another string) and by
one classifier that has seen every other string first, in both orders.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.affiliation_fixtures import ror_index  # noqa: F401
from tracer.affiliations import Classifier
from tracer.affiliations.classify import _SEAM, _has_seam
from tracer.affiliations.gazetteer import Gazetteer
from tracer.affiliations.normalize import bag, bag_of, stems

# The same pieces in several contexts: another country, another city, another neighbour.
STRINGS = [
    # a slip of the keyboard (the misspelling pass)
    "Department of Physics, Univresity of Oxford, Oxford, UK",
    "Department of Physics, Univresity of Oxford, Mississippi, USA",
    "Univresity of Oxford",
    "Faculty of Law, Univresity of Toronto, Toronto, Canada",
    # words in another order, or across two pieces (the bag pass)
    "Dept. of Mech. Eng., Univ. Duisburg-Essen, Duisburg, Germany",
    "Univ. Duisburg-Essen, Paris, France",
    "Univ. Duisburg-Essen",
    "Department of Biology, The University of North Carolina - Chapel Hill, NC 27599, USA",
    "The University of North Carolina - Chapel Hill, Germany",
    # another language (the translation pass)
    "Institut für Organische Chemie, Universität Göttingen, 37077 Göttingen, Germany",
    "Institut für Physikalische Chemie der Universität Göttingen, Göttingen, Germany",
    "Universität Göttingen, Austria",
    "Universität Göttingen",
    # the start of longer names, completed by the city (the prefix pass)
    "Washington University, Department of Chemistry, One Brookings Drive, St. Louis, MO, USA",
    "Washington University, Department of Chemistry, Seattle, WA, USA",
    "Washington University, Department of Chemistry",
    "Department of Physics, Indian Institute of Technology, Kharagpur 721302, India",
    "Department of Physics, Indian Institute of Technology, Bombay, India",
    "Indian Institute of Technology, India",
    # words glued together, or not (the seam test)
    "School of Computer Science and EngineeringNanjing University, Nanjing, China",
    "Department of Chemistry, McGill University, Montreal, Canada",
    "EPFL, Lausanne1015Switzerland",
    "GlaxoSmithKline, Stevenage, UK",
]


def answers(classifier: Classifier, text: str) -> list[dict[str, object]]:
    return [aff.to_dict() for aff in classifier.classify_text(text)]


def test_answers_do_not_depend_on_the_strings_before(
    ror_index: tuple[Gazetteer, Path],  # noqa: F811
) -> None:
    gaz = ror_index[0]
    for text in STRINGS:
        plain = answers(Classifier(gaz), text)
        # Every other string first, in both orders: each of the piece's other contexts has
        # been met before, first or last.
        for order in (STRINGS, STRINGS[::-1]):
            warm = Classifier(gaz)
            for other in order:
                if other != text:
                    warm.classify_text(other)
            assert answers(warm, text) == plain, text


def test_each_shortcut_is_taken_and_still_answers(
    ror_index: tuple[Gazetteer, Path],  # noqa: F811
) -> None:
    """The strings above reach the passes they are written for (else the test above proves
    nothing), and a piece's context still decides."""
    classifier = Classifier(ror_index[0])

    def names(text: str) -> list[str | None]:
        return [a.institution_name for a in classifier.classify_text(text)]

    assert "University of Oxford" in names(STRINGS[0])
    assert "University of Oxford" not in names(STRINGS[1])  # Oxford, Mississippi
    assert "University of Duisburg-Essen" in names(STRINGS[4])
    assert "University of Duisburg-Essen" not in names(STRINGS[5])  # in France: no
    assert "University of North Carolina at Chapel Hill" in names(STRINGS[7])
    assert "University of Göttingen" in names(STRINGS[9])
    assert "University of Göttingen" in names(STRINGS[10])
    assert "University of Göttingen" not in names(STRINGS[11])  # in Austria: no
    assert "Washington University in St. Louis" in names(STRINGS[13])
    assert "Washington University in St. Louis" not in names(STRINGS[14])
    assert "Indian Institute of Technology Kharagpur" in names(STRINGS[16])
    assert "Indian Institute of Technology Kharagpur" not in names(STRINGS[17])
    assert "Nanjing University" in names(STRINGS[19])


def test_seam_test_is_the_pattern() -> None:
    """_has_seam answers as _SEAM.search does, on strings of every class of character the
    pattern knows (ASCII and Latin-1 letters and digits, other digits, other scripts)."""
    alphabet = "abcxyzABCXYZ0159 -,.ßàéöÿ÷ÀÉÖ×ØÞ١٢０中é"
    rng = random.Random(19)
    written = ["EngineeringNanjing", "Lausanne1015Switzerland", "Dept1234", "1234Abc",
               "McGill", "GlaxoSmithKline", "Zürich8092Schweiz", "Universität١٢٣٤Ab"]
    made = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(20000)]
    # Runs that the pattern looks for, built in: four lower-case letters then a capital and
    # a lower-case letter, three letters then four digits, four digits then a capital word.
    runs = ["abcdEf", "àéöÿÀé", "xyz0159", "ÿÿÿ١٢٣٤", "0159Ab", "١٢٣٤Éé", "abcDe", "ab0159"]
    made += [rng.choice(made) + rng.choice(runs) + rng.choice(made) for _ in range(5000)]
    for text in written + made:
        assert _has_seam(text) == (_SEAM.search(text) is not None), text
    assert sum(_has_seam(t) for t in made) > 1000  # both answers were tested


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (["university", "of", "north", "carolina"], ["chapel", "hill"]),
        (["univ", "duisburg", "essen"], []),
        (["of", "and"], ["de", "in"]),
        (["technological", "university"], ["technology", "of", "dresden"]),
    ],
)
def test_bag_of_two_pieces_is_the_bag_of_their_stems(first: list[str], second: list[str]) -> None:
    assert bag(first + second) == bag_of(stems(first) | stems(second))
