"""Text folding shared by the gazetteer, the watchlist and the classifier.

Both sides of every comparison (an affiliation string and an institution's names) go through the
same `normalize`, so abbreviations, accents, punctuation and plural/spelling variants cannot stop
an exact match. CJK characters become tokens of their own, because Chinese names have no spaces.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

# Letters that NFKD does not decompose into a base letter plus a mark.
_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ı": "i",
        "þ": "th",
        "ð": "d",
        "’": "",
        "'": "",
        "‘": "",
        "`": "",
        "&": " and ",
        "＆": " and ",
        # Arabic yeh and kaf as Persian writes them (ی, ک): one name, two keyboards.
        "\u064a": "\u06cc",
        "\u0643": "\u06a9",
        "\u0649": "\u06cc",
    }
)
# Word characters: Latin (folded), Cyrillic (Russian, Belarusian, Ukrainian names keep their
# letters: "Московский физико-технический институт"), the letters of the Arabic script with
# Persian's (سازمان انرژی اتمی ایران; no digits, marks or the Arabic comma), kana, CJK, Hangul.
_WORD = re.compile(
    r"[0-9a-z\u0430-\u045f\u0491\u0621-\u063a\u0641-\u064a\u067e\u0686\u0698\u06a9\u06af"
    r"\u06c0\u06cc\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+"
)
_CJK = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff])")
# Separators between the affiliations of one string; commas separate parts of one affiliation.
_MULTI = re.compile(r"\s*(?:;|\||\n|#N#|#TAB#|\t|<br\s*/?>)\s*", re.IGNORECASE)
_MULTI_HINT = re.compile(r"[;|\n#\t<]")  # a character every _MULTI separator holds
_CHUNK = re.compile(r"[,،()\[\]{}]|\s[-–—]\s")
_CHUNK_PLAIN = re.compile(r"[,،()\[\]{}]")
_TAGS = re.compile(r"<[^>]{1,40}>")
_STOP = frozenset({"the"})
_ALPHA = re.compile(r"[^\W\d_]")


# libyaml's parser when PyYAML was built with it: the same SafeConstructor, so the same data,
# read about eight times faster than by the pure-Python parser (the place and watchlist tables
# are read by every run that classifies).
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """`yaml.safe_load`, with libyaml's parser where it is there."""
    return yaml.load(text, Loader=_YAML_LOADER)


@lru_cache(maxsize=1)
def abbreviations() -> dict[str, str]:
    text = (
        resources.files("tracer.affiliations")
        .joinpath("data/abbreviations.yaml")
        .read_text(encoding="utf-8")
    )
    data = load_yaml(text)
    return {str(k).rstrip("."): str(v) for k, v in data.items()}


def fold(text: str) -> str:
    """Lower case, no accents, no markup: the form every comparison starts from."""
    if "&" in text and ";" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAGS.sub(" ", text)
    if text.isascii():
        # The only ASCII characters in _SPECIAL; str.translate walks a dict per character.
        if "'" in text or "`" in text:
            text = text.replace("'", "").replace("`", "")
        if "&" in text:
            text = text.replace("&", " and ")
        return text.lower()
    # After NFKD, which makes Arabic presentation forms (ﵸ) of the letters _SPECIAL maps.
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_SPECIAL)
    if not text.isascii():
        text = _CJK.sub(r" \1 ", text)
    return text.lower()


def tokens(text: str, folded: bool = False) -> list[str]:
    """Folded word tokens with abbreviations expanded and stop words dropped."""
    found = _WORD.findall(text if folded else fold(text))
    if not _STOP.isdisjoint(found):
        found = [tok for tok in found if tok not in _STOP]
    abbr = abbreviations()
    return list(map(abbr.get, found, found))  # abbr.get(tok, tok), without a Python loop


def piece_tokens(text: str) -> tuple[str, ...]:
    """`tokens` as a tuple, for the classifier's per-piece cache."""
    found = _WORD.findall(fold(text))
    if not _STOP.isdisjoint(found):
        found = [tok for tok in found if tok not in _STOP]
    abbr = abbreviations()
    return tuple(map(abbr.get, found, found))


@lru_cache(maxsize=1 << 17)
def _piece_tokens(piece: str) -> tuple[str, ...]:
    # Pieces ("Beijing 100190", "Department of Computer Science") repeat across strings.
    return tuple(tokens(piece))


def raw_pieces(text: str) -> list[str]:
    """The comma/parenthesis-separated pieces of one affiliation as written (unstripped,
    possibly empty): the keys of per-piece caches."""
    if "<" in text:
        text = _TAGS.sub(" ", text)  # before cutting: a tag may hold a separator
    if "-" in text or "\u2013" in text or "\u2014" in text:
        return _CHUNK.split(text)
    # Without a dash only the bracket/comma class can cut: a pattern that starts with a
    # character class is scanned far faster than _CHUNK's alternation.
    return _CHUNK_PLAIN.split(text)


def pieces(text: str) -> list[tuple[str, ...]]:
    """The tokens of each comma/parenthesis-separated piece of one affiliation, in order;
    empty pieces dropped."""
    out = []
    for piece in raw_pieces(text):
        toks = _piece_tokens(piece)
        if toks:
            out.append(toks)
    return out


def chunk_tokens(text: str) -> tuple[list[str], frozenset[int]]:
    """Tokens of one affiliation and the token offsets where its comma-separated chunks start
    and end: names never need to cross a chunk, watchlist aliases must not run on past one."""
    toks: list[str] = []
    bounds = {0}
    for piece in pieces(text):
        toks.extend(piece)
        bounds.add(len(toks))
    return toks, frozenset(bounds)


# Words a name can gain or lose between spellings ("University of Tel-Aviv", "Tel Aviv
# University"; "Univ. Duisburg-Essen", "University of Duisburg-Essen").
_BAG_DROP = frozenset({"of", "and", "at", "de", "di", "du", "des", "der", "la", "le", "del", "in"})


def bag(toks: tuple[str, ...] | list[str]) -> str:
    """An order-free key of a name: its words without connectors, each cut to six letters
    ("technological" and "technology" agree), sorted. Empty for fewer than two words."""
    return bag_of(stems(toks))


def stems(toks: tuple[str, ...] | list[str]) -> frozenset[str]:
    """The words `bag` keys a name by: the bag of two token lists together is the bag of
    their stems together."""
    return frozenset(tok[:6] for tok in toks if tok not in _BAG_DROP)


def bag_of(words: frozenset[str]) -> str:
    """`bag` from the stems."""
    return " ".join(sorted(words)) if len(words) >= 2 else ""


@lru_cache(maxsize=1 << 16)
def normalize(text: str) -> str:
    """One space-separated string of tokens: the key form of a name or of a string's part.
    Remembered: the rules normalise the same institution names for every answer."""
    return " ".join(tokens(text))


def split_affiliations(text: str) -> list[str]:
    """Split a string holding several affiliations (";", "|", line breaks) into its parts."""
    if _MULTI_HINT.search(text) is None:
        part = text.strip(" ,.")  # one affiliation: no need for _MULTI's slow scan
        return [part] if _ALPHA.search(part) else []
    parts = [part.strip(" ,.") for part in _MULTI.split(text)]
    return [part for part in parts if _ALPHA.search(part)]


def chunks(text: str) -> list[str]:
    """The comma/parenthesis-separated pieces of one affiliation, in order."""
    return [piece.strip() for piece in _CHUNK.split(text) if piece.strip()]
