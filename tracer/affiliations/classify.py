"""The classifier: authorships and free-text affiliations -> institution, country, sector, flags.

Route per affiliation string: split into affiliations, tokenise each (chunk by chunk, so the
comma boundaries are known), detect the country, find every ROR name in one pass, keep the
longest names, keep only candidates of the detected country, and answer "no match" when a name
still points at several organisations. The watchlist and the military rules then set sector and
flags. Without a ROR dump the same route runs on the watchlist, the rules and the country alone.
"""

from __future__ import annotations

import hashlib
import html
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

from tracer.affiliations import gazetteer as gz
from tracer.affiliations import rules
from tracer.affiliations.countries import CITY, COUNTRY, CountryDetector, Vote
from tracer.affiliations.deletions import Deletions, forms_of
from tracer.affiliations.model import Affiliation, Flag
from tracer.affiliations.normalize import (
    abbreviations,
    bag,
    bag_of,
    chunks,
    normalize,
    piece_tokens,
    raw_pieces,
    split_affiliations,
    stems,
    tokens,
)
from tracer.affiliations.rules import (
    cut_glued_links,
    ends_with_legal_form,
    joined_affiliations,
    military_domain,
    military_rule,
    military_rule_normalized,
    police_elsewhere,
    police_elsewhere_normalized,
    qualified,
    sector_for,
    security_country,
    security_rule,
    security_rule_normalized,
    tidy,
    translated_key,
    translated_word,
    translated_words,
    unit_tail,
    unresolved_sector,
)
from tracer.affiliations.watchlist import (
    Entry,
    Watchlist,
    carried,
    default_watchlist,
    domains_in,
    implied_sector,
    name_key,
    same_country,
    strip_suffix,
    university_of_follows,
)
from tracer.config import Settings
from tracer.records import Author, SourceInstitution
from tracer.versions import classifier_version

# Words after a name that make it the start of a longer name, and before it the end of one.
_CONTINUES = frozenset({"of", "for", "de", "di", "du", "des", "der", "fur"})
_PRECEDED = frozenset({"for", "fur"})
_MEMO_SIZE = 200_000  # strings remembered by classify_text before the memo starts over
_PIECES_SIZE = 1 << 17  # pieces remembered before that cache starts over
_CACHES = ("_memo", "_pieces", "_records", "_resolved", "_slips", "_loose",
           "_corrections")  # not pickled: rebuilt as used
# Words that make a one-word name too common to trust anywhere but at the head of a part.
_MIN_SINGLE = 4
POLICE_LIST = "police-security"
POLICE_LABEL = "Police or public-security body"


class _Piece(NamedTuple):
    toks: tuple[str, ...]
    key: str  # the tokens joined by spaces (the gazetteer's key form)
    names: tuple[tuple[int, int, int], ...]  # ROR names inside the piece (gazetteer.find)
    runs_on: bool  # the whole piece begins a longer ROR name
    votes: tuple[Vote, ...]  # its places, for country detection
    # The longest run of its first tokens that begins some ROR name, when that is two tokens
    # or more and no whole name (for _prefix_matches); "" and 0 otherwise.
    head: str
    head_size: int
    unit_size: int  # how many of its last tokens name a unit of a university (rules.unit_tail)


# A name found in a piece once its slips are corrected: (first token, end token, name index,
# the name's tokens as corrected).
_Slip = tuple[int, int, int, tuple[str, ...]]


class _Known(NamedTuple):
    sector: str  # from the record's types and name
    parent_id: str | None
    parent_name: str | None
    entry: Entry | None  # the watchlist entry of the record or of an ancestor
    military: bool  # the record's name meets a military rule


class Classifier:
    def __init__(
        self,
        gazetteer: gz.Gazetteer | None = None,
        watchlist: Watchlist | None = None,
        *,
        levels: str = "parent",
    ) -> None:
        self.gazetteer = gazetteer
        self.watchlist = watchlist or default_watchlist()
        self.detector = _detector(gazetteer)
        # Data tables read once here, not inside the first strings classified.
        abbreviations()
        rules.prepare()
        # When a string names a unit and the organisation it belongs to ("ICT, Chinese Academy
        # of Sciences"): "parent" reports the organisation (departments roll up), "unit" the
        # most specific one, "both" each of them. A unit named alone keeps its parent_id.
        if levels not in {"parent", "unit", "both"}:
            raise ValueError(f"levels must be parent, unit or both, not {levels!r}")
        self.levels = levels
        # What a report should say about the reference data behind these answers.
        self.notes: list[str] = []
        # Which reference data it was loaded with (the gazetteer, the fetched lists), so that
        # what it classified can be classified again when they change.
        self.reference = ""
        self._memo: dict[str, list[Affiliation]] = {}
        self._weak_country = False  # the current string's country rests on a city name only
        self._placed: frozenset[str] = frozenset()  # countries some place of a weak string names
        self._hint: str | None = None  # the country the current string's names agree on
        self._pieces: dict[str, _Piece] = {}
        self._records: dict[int, _Known] = {}
        self._resolved: dict[tuple[int, str | None], tuple[bool, gz.Record | None]] = {}
        # Per piece (by its key), what the fallback passes find in it alone.
        self._slips: dict[str, tuple[_Slip, ...]] = {}
        self._loose: dict[str, tuple[frozenset[str], tuple[int, ...]]] = {}
        self._corrections: dict[str, str] = {}  # per word: what _misspelt_matches reads it as

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k not in _CACHES}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        for name in _CACHES:
            setattr(self, name, {})

    def forget(self) -> None:
        """Drop the remembered classify_text answers (for measuring, or after a data change)."""
        self._memo.clear()

    @property
    def gazetteer_available(self) -> bool:
        return self.gazetteer is not None

    @classmethod
    def load(cls, settings: Settings) -> Classifier:
        """With the ROR index from TRACER_ROR_DUMP, else from `tracer data update`, else none;
        and the packaged watchlist with the official lists that `tracer data update` fetched
        merged in. `notes` says what was missing."""
        from tracer.affiliations.reference import LISTINGS_FILE, lists_dir, load_watchlist

        gazetteer = load_gazetteer(settings)
        watchlist, fetched = load_watchlist(settings, gazetteer)
        classifier = cls(gazetteer, watchlist)
        listings = lists_dir(settings) / LISTINGS_FILE
        classifier.reference = "|".join(
            (
                gazetteer.source if gazetteer else "",
                str(len(gazetteer)) if gazetteer else "",
                str(listings.stat().st_mtime_ns) if fetched and listings.exists() else "",
            )
        )
        if not fetched:
            classifier.notes.append(
                "Flags come from the packaged watchlist only, a selection written by hand: "
                "the official lists (Entity List, 1260H, ASPI tracker, FCC Covered List) have "
                "not been fetched, and what they list beyond that selection is not flagged "
                "(run `tracer data update`)."
            )
        return classifier

    # -- authors --------------------------------------------------------------------------
    def classify_author(self, author: Author) -> list[Affiliation]:
        """One Affiliation per distinct institution: the source's institutions first, then
        what the raw strings add; bare countries when nothing else is known.

        A raw-string match that is the same institution as a source institution (same ROR id,
        same watchlist entry or same name) is merged into it rather than reported twice."""
        out: list[Affiliation] = []
        keys: list[set[str]] = []
        for inst in author.institutions:
            aff = self.from_institution(inst)
            ident = self._identity(aff)
            if ident and any(ident & k for k in keys):
                continue
            out.append(aff)
            keys.append(ident)
        from_source = len(out)
        for raw in author.raw_affiliations:
            for aff in self.classify_text(raw):
                ident = self._identity(aff)
                same = next((i for i, k in enumerate(keys) if ident & k), None)
                if same is not None:
                    if same < from_source:
                        self._merge(out[same], aff)
                        keys[same] |= ident
                    continue
                if not ident and author.institutions:
                    continue  # the source already resolved this author; keep its answer
                out.append(aff)
                keys.append(ident)
        countries = {a.country for a in out if a.country}
        for code in author.countries:
            if code and code.upper() not in countries:
                countries.add(code.upper())
                out.append(
                    Affiliation(
                        raw=None, country=code.upper(), confidence=0.5, method="country-only"
                    )
                )
        return out

    def _identity(self, aff: Affiliation) -> set[str]:
        """The keys under which two answers are the same institution: the id, the watchlist
        entry, the normalised name (without an OpenAlex country suffix)."""
        if not aff.matched:
            return set()
        ident: set[str] = set()
        if aff.institution_id:
            ident.add(aff.institution_id)
        entry = self.watchlist.for_ror(aff.institution_id) or self.watchlist.named(
            aff.institution_name
        )
        if entry is not None and same_country(entry.country, aff.country):
            ident.add(f"watchlist:{entry.key}")
        if aff.institution_name:
            ident.add(f"name:{normalize(strip_suffix(aff.institution_name))}")
        return ident

    def _merge(self, into: Affiliation, other: Affiliation) -> None:
        """Fold a raw-string match into the source's answer for the same institution: the
        string is the better `raw`, a ROR id beats an OpenAlex id, flags are the union."""
        if other.raw:
            into.raw = other.raw
        if other.institution_id and "ror.org" in other.institution_id:
            if not (into.institution_id and "ror.org" in into.institution_id):
                into.institution_id = other.institution_id
                into.parent_id = other.parent_id or into.parent_id
                into.parent_name = other.parent_name or into.parent_name
        into.country = into.country or other.country
        if into.sector == "unknown" or other.sector == "military":
            into.sector = other.sector
        for flag in other.flags:
            if flag not in into.flags:
                into.flags.append(flag)
        into.confidence = max(into.confidence, other.confidence)

    def from_institution(self, inst: SourceInstitution) -> Affiliation:
        ror = (
            f"{gz.ROR_PREFIX}{inst.ror}"
            if inst.ror and not inst.ror.startswith("http")
            else inst.ror
        )
        country = (inst.country_code or "").upper() or None
        record = self.gazetteer.record(ror) if (self.gazetteer and ror) else None
        if record is None and not ror and inst.display_name and self.gazetteer:
            # No ROR id from the source: the display name may still be a ROR name exactly.
            record = self._name_record(inst.display_name, country)
            if record is not None:
                ror = record.id
        types = [inst.type] + (list(record.types) if record else [])
        aff = Affiliation(
            raw=inst.display_name,
            institution_id=ror
            or (f"I{inst.openalex_id.lstrip('I')}" if inst.openalex_id else None),
            institution_name=inst.display_name or (record.name if record else None),
            country=country or (record.country if record else None),
            sector=sector_for(types, inst.display_name),
            confidence=0.95,
            method="openalex",
        )
        if record:
            self._set_parent(aff, record)
        elif len(inst.lineage) > 1:
            aff.parent_id = inst.lineage[-1].rsplit("/", 1)[-1]
        entry = self._entry_for(record) if record else self.watchlist.for_ror(ror)
        if entry is None:
            entry = self.watchlist.named(inst.display_name)
            if entry is not None and not (
                entry.worldwide or same_country(entry.country, aff.country)
            ):
                entry = None  # same name, another country's institution
        return self._finish(aff, entry, [inst.display_name])

    def _name_record(self, name: str, country: str | None) -> gz.Record | None:
        """The ROR record whose name is exactly this whole name, in this country."""
        gaz = self.gazetteer
        assert gaz is not None
        for form in dict.fromkeys((name, strip_suffix(name))):
            toks = tokens(form)
            index = gaz.lookup.get(" ".join(toks), -1)
            if index >= 0:
                record = self._resolve(gaz.entries[index], country, toks)
                if record is not None:
                    return record
        return None

    # -- free text ------------------------------------------------------------------------
    def classify_text(self, text: str) -> list[Affiliation]:
        """Every affiliation a free-text string names (several when it holds several).

        Answers are remembered by the exact string (a scan meets the same strings again and
        again); callers get copies, so changing one never changes a later answer."""
        known = self._memo.get(text)
        if known is None:
            known = self._classify_text(text)
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[text] = known
        return [_copy(aff) for aff in known]

    def _classify_text(self, text: str) -> list[Affiliation]:
        out: list[Affiliation] = []
        seen: set[str] = set()
        if "&" in text and ";" in text:
            # "Texas A &amp; M": an entity's ";" is no separator between affiliations.
            text = html.unescape(text)
        if "\n" in text and self.gazetteer is not None:
            text = self._rejoin(text)
        for part in split_affiliations(text) or ([text] if text.strip() else []):
            for aff in self._classify_part(part):
                key = aff.institution_id or aff.institution_name or f"?{part}"
                if key not in seen:
                    seen.add(key)
                    out.append(aff)
        return out

    def _rejoin(self, text: str) -> str:
        """Lines that a name runs across ("Norwegian\\n Computing Center", "Natural
        Resources\\nCanada") joined again: a line break is a separator between affiliations
        only where the words on both sides of it begin no ROR name together."""
        lines = text.split("\n")
        out = [lines[0]]
        lookup = self.gazetteer.lookup if self.gazetteer is not None else {}
        for line in lines[1:]:
            before, after = tokens(out[-1])[-2:], tokens(line)[:1]
            joined = [" ".join(before[i:] + after) for i in range(len(before))]
            if after and out[-1].rstrip()[-1:] not in ",;." and any(
                key in lookup for key in joined
            ):
                out[-1] = out[-1].rstrip() + " " + line.lstrip()
            else:
                out.append(line)
        return "\n".join(out)

    def _piece(self, raw: str) -> _Piece:
        """What one piece ("Beijing 100190") holds, computed once (the caller looks in
        self._pieces first): pieces repeat across strings. Tuples throughout: a cached piece
        of tuples of atoms is soon untracked by the garbage collector, which otherwise walks
        every cached piece again at each full collection."""
        toks = piece_tokens(raw)
        key = " ".join(toks)
        gaz = self.gazetteer
        if toks:
            head, head_size = "", 0
            if gaz is not None:
                lookup = gaz.lookup
                names = tuple(gaz.find(toks))
                # A name runs on past the piece only when the whole piece begins one.
                runs_on = key in lookup
                if runs_on:
                    head, size = key, len(toks)
                else:
                    head, size = toks[0], 1
                    while size < len(toks) and (longer := head + " " + toks[size]) in lookup:
                        head, size = longer, size + 1
                if size >= 2 and lookup.get(head, -1) < 0:
                    head_size = size
                else:
                    head = ""
            else:
                names, runs_on = (), False
            votes = tuple(self.detector.piece_votes(toks))
        else:
            names, runs_on, votes, head, head_size = (), False, (), "", 0
        piece = _Piece(toks, key, names, runs_on, votes, head, head_size, unit_tail(toks))
        cache = self._pieces
        if len(cache) >= _PIECES_SIZE:
            cache.clear()
        cache[raw] = piece
        return piece

    def _classify_part(self, part: str) -> list[Affiliation]:
        sides = joined_affiliations(part)
        if len(sides) > 1 and all(
            self._ends_placed(side) or ends_with_legal_form(side) for side in sides[:-1]
        ):
            out: list[Affiliation] = []
            for side in sides:
                for aff in self._classify_part(side):
                    aff.raw = part
                    if aff.institution_id is None or all(
                        a.institution_id != aff.institution_id for a in out
                    ):
                        out.append(aff)
            found = [a for a in out if a.matched]
            return found or out[:1]
        written = part
        part = self._unglue(tidy(part))
        cut: list[_Piece] = []
        ranges: list[tuple[int, int]] = []  # each piece's tokens in toks
        toks: list[str] = []
        bounds = {0}
        votes: list[Vote] = []
        cache = self._pieces
        for raw in raw_pieces(part):
            raw = raw.strip()
            piece = cache.get(raw) or self._piece(raw)
            if not piece.toks:
                continue
            cut.append(piece)
            offset = len(toks)
            if piece.votes:
                votes.extend((k, offset + s, c) for k, s, c in piece.votes)
            toks.extend(piece.toks)
            bounds.add(len(toks))
            ranges.append((offset, len(toks)))
        frozen = frozenset(bounds)
        country, strength = self.detector.detect_votes(part, votes, len(toks))
        self._weak_country = strength == CITY
        # Below a country's name, every country the string's places may be in.
        self._placed = (
            frozenset(c for _k, _s, codes in votes for c in codes)
            if strength < COUNTRY
            else frozenset()
        )
        listed = [
            (s, e, entry)
            # A name that another country's institution shares ("Hebei University" is one
            # place, but a string naming another country is about something else) is
            # dropped by find(); a company's brand name holds everywhere.
            for s, e, entry in self.watchlist.find(toks, part, frozen, country)
        ]
        if not listed:
            listed = self._listed_misspelt(toks, part, frozen, country)
        if listed:
            listed = self._numbered_units(part, listed)
        picks = self._ror_matches(toks, frozen, country, part, cut) if self.gazetteer else []
        if listed:
            listed, picks = self._without_groups_inside_units(listed, picks)
        if picks and listed:
            # A listed name written out exactly beats a loose match over the same words
            # ("Changsha Institute of Technology" is the NUDT's old name, not Changshu's).
            exact = {(s, e) for s, e, _ in listed}
            picks = [p for p in picks if p[3] > 0.7 or (p[0], p[1]) not in exact]
        results: list[Affiliation] = []
        answered: set[str] = set()  # the entries the ROR answers took
        for start, end, record, confidence in picks:
            known = self._known(record)
            aff = _of_record(
                written, record, known, country, confidence,
                "ror-exact" if confidence >= 0.75 else "ror-fuzzy",
            )
            entry = known.entry
            if entry is None and listed:
                entry = next((e for s, t, e in listed if s >= start and t <= end), None)
            span = " ".join(toks[start:end]) if start >= 0 else ""
            results.append(self._finish(aff, entry, [], span, known.military))
            if entry is not None:
                answered.add(entry.key)
        if picks and any(r.sector != "military" for r in results):
            if self._military_unit(part, cut, ranges, picks):
                for aff in results:
                    aff.sector = "military"
        covered = {r.institution_id for r in results}
        for start, end, entry in listed:
            if (entry.ror and entry.ror in covered) or entry.key in answered:
                continue
            if any(
                start >= 0 and s <= start and end <= t and (s, t) != (start, end)
                for s, t, _, _ in picks
            ):
                continue  # part of a longer name that the gazetteer knows
            if any(r.flags and entry.flags and r.flags == list(entry.flags) for r in results):
                continue
            aff = Affiliation(
                raw=written,
                institution_id=entry.ror,
                institution_name=entry.name,
                country=entry.country or country,
                sector="unknown",
                confidence=0.9 if start >= 0 else 0.7,
                method="watchlist",
            )
            results.append(self._finish(aff, entry, [entry.name]))
        if results:
            return results
        by_domain = self._domain_match(part, country)
        if by_domain is not None:
            return [by_domain]
        joined = " ".join(toks)
        if (
            not military_rule_normalized(joined)
            and not security_rule_normalized(joined)
            and not police_elsewhere_normalized(joined)
        ):
            chunk_list = []  # no rule anywhere in the string: no chunk to try
        else:
            chunk_list = chunks(part)
        for chunk in chunk_list:
            # A chunk a military or (where the country's bodies are listed) security rule names,
            # or a police body's elsewhere.
            aff = Affiliation(
                raw=written, institution_name=chunk, country=country, confidence=0.6, method="rule"
            )
            self._finish(aff, None, [chunk])
            if aff.sector in {"military", "government"} or aff.flags:
                return [aff]
        if country is None and self.gazetteer is not None:
            country = self._hint
        # No institution: the string's form may still say it is a university's.
        sector = unresolved_sector(" ".join(piece.toks) for piece in cut)
        if military_domain(domains_in(part)):
            sector = "military"
        if country:
            return [
                Affiliation(raw=written, country=country, sector=sector, confidence=0.5,
                            method="country-only")
            ]
        return [Affiliation(raw=written, sector=sector)]

    @staticmethod
    def _military_unit(
        part: str,
        cut: list[_Piece],
        ranges: list[tuple[int, int]],
        picks: list[tuple[int, int, gz.Record, float]],
    ) -> bool:
        """Whether a string whose answers are ROR records names a military unit of theirs: a
        piece that no answer's name covers names a military school ("Military College of
        Signals, National University of Sciences and Technology"; a department's name such as
        "Department of Defence Studies" names none), or its e-mail domain is a military
        body's. Other military bodies in such a piece are bodies of their own, not the
        answer's units ("..., Stanford University, and Army Research Laboratory"; a "military
        hospital department" of a civilian hospital)."""
        for piece, (first, last) in zip(cut, ranges, strict=True):
            if any(start < last and first < end for start, end, _r, _c in picks if start >= 0):
                continue
            if military_rule_normalized(piece.key) in _MILITARY_SCHOOLS:
                return True
        return military_domain(domains_in(part))

    def _ends_placed(self, text: str) -> bool:
        """Whether an affiliation ends with its place: a postcode, a city, a region or a
        country in its last piece (not "Department of Earth, Atmospheric, and ...")."""
        last = text.rsplit(",", 1)[-1]
        return any(ch.isdigit() for ch in last) or bool(
            self.detector.piece_votes(tuple(tokens(last)))
        )

    def _unglue(self, text: str) -> str:
        """Words that lost the comma or space between them ("EngineeringNanjing University",
        "Lausanne1015Switzerland") cut apart, unless the glued word is itself the start of a
        ROR or watchlist name ("GlaxoSmithKline"); a name's word glued to the link word after
        it is cut from it too ("Universityof"). Without the ROR index, only the watchlist's
        names are kept whole."""
        if not _has_seam(text):
            return text
        lookup = self.gazetteer.lookup if self.gazetteer is not None else {}

        def cut(match: re.Match[str]) -> str:
            word = match.group(0)
            if _SEAM.search(word) is None or normalize(word) in lookup:
                return word
            if self.watchlist.has_word(word) or self.watchlist.find(tokens(word), word):
                return word  # a listed brand ("CloudWalk"), or a word of a listed name
            # A listed brand glued to the next word stays whole ("SenseTimeResearch" is
            # "SenseTime Research", not "Sense TimeResearch").
            camel = _CAMEL.split(word)
            for j in range(len(camel) - 1, 0, -1):
                head = "".join(camel[:j])
                if self.watchlist.find(tokens(head), head):
                    return head + " " + cut_glued_links(_SEAM.sub(" ", "".join(camel[j:])))
            return cut_glued_links(_SEAM.sub(" ", word))

        return _GLUED.sub(cut, text)

    def _domain_match(self, part: str, country: str | None) -> Affiliation | None:
        """The institution an e-mail or web domain in the string names: a listed one's own
        domain first, then a ROR record's (its `domains` and website links)."""
        # The string's country, where its words say it (not the address's own top-level
        # domain: "wang@comac.cc" says nothing of the Cocos Islands).
        tlds = {self.detector._domain_country(d) for d in domains_in(part)}
        written = country if country not in tlds else None
        entry = self.watchlist.for_domains(part)
        if entry is not None and written and not entry.worldwide:
            if not same_country(entry.country, written):
                entry = None  # a domain of a listed body in a string of another country
        if entry is not None:
            aff = Affiliation(
                raw=part,
                institution_id=entry.ror,
                institution_name=entry.name,
                country=entry.country or country,
                confidence=0.8,
                method="watchlist",
            )
            return self._finish(aff, entry, [entry.name])
        gaz = self.gazetteer
        if gaz is None or not gaz.domains:
            return None
        for domain in domains_in(part):
            index = gaz.domains.get(domain, -1)
            if index < 0:
                continue
            record = gaz.record(index)
            implied = self.detector._domain_country(domain)
            if record is None or not same_country(record.country, implied):
                continue  # ROR's own data can be wrong: a .edu domain on a Chinese record
            if written and not same_country(record.country, written):
                continue  # or a Brazilian company's domain on a Chinese record (cloudwalk.io)
            known = self._known(record)
            aff = _of_record(part, record, known, country, 0.8, "ror-exact")
            return self._finish(aff, known.entry, [record.name], "", known.military)
        return None

    def _numbered_units(
        self, part: str, listed: list[tuple[int, int, Entry]]
    ) -> list[tuple[int, int, Entry]]:
        """A listed group and an institute's number in another piece of the same affiliation
        (Web of Science's "China Acad Space Technol, Res Inst 502", "China Elect Technol Grp
        Corp, Res Inst 58"): the group's listed unit of that number, where it has one."""
        numbers = {next(g for g in m.groups() if g) for m in _INSTITUTE_NUMBER.finditer(part)}
        if len(numbers) != 1:
            return listed
        (number,) = numbers
        out = []
        for s, e, entry in listed:
            unit = None if entry.parent else self.watchlist.numbered_unit(entry, number)
            out.append((s, e, unit or entry))
        return out

    def _listed_misspelt(
        self, toks: list[str], part: str, bounds: frozenset[int], country: str | None
    ) -> list[tuple[int, int, Entry]]:
        """Listed names found once a misspelt word is read as the listed word it stands for
        ("Tianjin Phytuim Information Technology"): only words that no ROR name holds either,
        and only a letter left out or two swapped (Watchlist.slip)."""
        known = self._known_words()
        fixed = list(toks)
        for i, tok in enumerate(toks):
            if len(tok) >= 7 and tok not in known:
                fixed[i] = self.watchlist.slip(tok) or tok
        if fixed == toks:
            return []
        return self.watchlist.find(fixed, part, bounds, country)

    def _known_words(self) -> dict[str, int]:
        return self.gazetteer.words()[0] if self.gazetteer is not None else {}

    def _without_groups_inside_units(
        self,
        listed: list[tuple[int, int, Entry]],
        picks: list[tuple[int, int, gz.Record, float]],
    ) -> tuple[list[tuple[int, int, Entry]], list[tuple[int, int, gz.Record, float]]]:
        """Listed units and their listed group, whose name is part of theirs ("CETC 16th
        Research Institute", "The 41st Research Institute of China Electronics Technology
        Group Corporation") or written beside it in the same affiliation ("771 Research
        Institute, 9th Academy of CASC"): the unit is the answer, the group its parent, not a
        second answer. ROR's record of the group is dropped only where its name is inside the
        unit's ("China Academy of Space Technology 502 Research Institute"): written beside it,
        it stays an answer (ROR's own labels name the university beside its laboratory)."""
        units = [(s, e, self.watchlist.by_key[u.parent]) for s, e, u in listed if u.parent and s >= 0]
        if not units:
            return listed, picks
        parents = {id(g) for _s, _e, g in units}
        wl = self.watchlist

        def inside(start: int, end: int, group: Entry | None, ror: str) -> bool:
            return any(
                (g is group or g.ror == ror) and s <= start and end <= e and (s, e) != (start, end)
                for s, e, g in units
            )

        return (
            [(s, e, x) for s, e, x in listed if id(x) not in parents],
            [
                p
                for p in picks
                # ROR's record of the group, or of a body the watchlist holds as the group's
                # (CASC's China Academy of Space Technology inside "... 502 Research Institute")
                if not inside(p[0], p[1], wl.named(p[2].name), p[2].id)
            ],
        )

    def _ror_matches(
        self,
        toks: list[str],
        bounds: frozenset[int],
        country: str | None,
        raw: str,
        cut: list[_Piece],
    ) -> list[tuple[int, int, gz.Record, float]]:
        gaz = self.gazetteer
        assert gaz is not None
        found = self._find_names(toks, cut)
        found.sort(key=lambda m: (m[0] - m[1], m[0]))
        kept: list[tuple[int, int, int]] = []
        count = len(toks)
        for start, end, index in found:
            if any(start < e and s < end for s, e, _ in kept):
                continue  # inside or across a longer name already kept
            if end - start == 1 and (
                start not in bounds
                or (len(toks[start]) < _MIN_SINGLE and not self._formal(toks, bounds, end, index))
            ):
                continue  # a lone common word inside a phrase ("Physics", "Energy")
            if start not in bounds and any(start < b < end for b in bounds):
                continue  # "Medical Science, (The) University of Tokyo" is no "Science
                # University of Tokyo": a name runs across a comma only from a piece's start
            if end not in bounds and self._splits_place(toks, bounds, start, end):
                continue  # "Manchester, United Kingdom" is no "Manchester United"
            if end < count and end not in bounds and toks[end] in _CONTINUES:
                continue  # the start of a longer name ("Faculty of ...", "X University of Y")
            if university_of_follows(toks, end, bounds):
                continue  # Web of Science's "Zhejiang Univ Technol" (University of Technology)
            if _PRECEDED and start > 0 and start not in bounds and toks[start - 1] in _PRECEDED:
                continue  # the end of a longer name ("Institute for Physical Science")
            if start > 0 and start not in bounds and qualified(toks[start - 1], toks[start]):
                continue  # "Technical University of X" is no "University of X"
            if (
                start > 0 and start not in bounds and end - start > 2
                and toks[start + 1] in _CONTINUES
                and any(e2 == start + 1 and s2 < start for s2, e2, _i in found)
            ):
                continue  # "Anchor University of Lagos" is Anchor University (Lagos), whose
                # own name "Anchor University" goes on with "of": no "University of Lagos"
            if end - start == 1 and self._lone_word_doubtful(toks, bounds, start, index):
                continue
            kept.append((start, end, index))
        if len(kept) > 1:
            # "Department of Biotechnology, Indian Institute of Technology Guwahati": a
            # department named before an institution is that institution's department, even
            # where a ministry bears the same name.
            final = max(s for s, _e, _i in kept)
            kept = [k for k in kept if k[0] == final or toks[k[0]] not in _UNIT_WORDS] or kept
        picks: list[tuple[int, int, gz.Record, float]] = []
        self._hint = None
        countries = gaz.columns["country"]
        norm = " " + " ".join(toks) + " "
        cities = gaz.columns["city"]
        for start, end, index in sorted(kept):
            record = self._resolve_name(index, country, toks, start, end)
            if end - start > 1 and (
                record is None
                or not record.city
                or f" {_city_key(record.city)} " not in norm
            ):
                # A name more organisations' names begin with, and a city after it that is
                # not this one's: the organisation of that city ("Indian Institute of
                # Technology, ..., Kharagpur").
                other = self._completion(" ".join(toks[start:end]), country, toks)
                if other is not None and cities[other.index]:
                    record = other
                elif record is not None and self._shared_alias(index, record.index):
                    # "National Institute of Technology" is one institute's other name and
                    # others' own name: without its city, the string may mean another.
                    record = None

            if record is not None:
                confidence = 0.9 if country else 0.75
                picks.append((start, end, record, confidence))
            elif country is None and end - start > 1:
                # Several organisations of that name, all in one country: no institution,
                # but the country is known.
                named = {countries[i] for i, _kind in gaz.entries[index]}
                if len(named) == 1:
                    self._hint = next(iter(named))
        if country is None and len({p[2].country for p in picks}) > 1:
            # No place named, organisations of several countries: the one named last (strings
            # run from the unit to the institution) sets the country, the others must agree.
            last = max(picks, key=lambda p: p[1])[2].country
            picks = [p for p in picks if p[2].country == last]
        if len(picks) > 1:
            picks = [p for p in picks if not self._stray_unit(p, picks, toks, norm)]
        picks = [p for p in picks if not self._tail_of_longer(p, bounds, toks, norm)]
        whole = self._parents_inside(found, picks, bounds, country, toks)
        for pick in picks:
            if pick[0] > 0 and toks[pick[0] - 1] == "of":
                whole.update(self._units_of(found, picks, toks))
                break
        picks.extend(self._prefix_matches(toks, cut, country, picks))
        picks.extend(self._unit_matches(toks, cut, country, picks))
        if not picks:
            picks.extend(self._loose_matches(toks, cut, country))
        if not picks:
            picks.extend(self._misspelt_matches(toks, cut, country))
        if not picks:
            picks.extend(self._tail_matches(toks, bounds, country, norm))
        if not picks and country:
            picks.extend(self._acronym_matches(raw, country))
        if self.levels != "both" and len(picks) > 1:
            if self.levels == "unit":
                drop = {a for p in picks for a in self._ancestors(p[2])}
            else:
                # A unit rolls up into its parent named beside it, unless the unit is on a
                # list itself and the parent is not the entry it answers to (the CAS's
                # Institute of Physics is listed, the CAS is not): then both are answers.
                named = {p[2].index for p in picks}
                drop = {
                    p[2].index
                    for p in picks
                    if p[2].index not in whole
                    and named.intersection(self._ancestors(p[2]))
                    and not self._listed_unit(p[2])
                }
            picks = [p for p in picks if p[2].index not in drop] or picks
        return picks

    def _find_names(self, toks: list[str], cut: list[_Piece]) -> list[tuple[int, int, int]]:
        """Every ROR name in the string: those inside a piece from the piece's cache, those
        running on past a piece only from its start (see _ror_matches)."""
        gaz = self.gazetteer
        assert gaz is not None
        count = len(toks)
        lookup = gaz.lookup
        out: list[tuple[int, int, int]] = []
        start = 0
        for piece in cut:
            end = start + len(piece.toks)
            if piece.names:
                if start:
                    out.extend([(start + s, start + e, i) for s, e, i in piece.names])
                else:
                    out.extend(piece.names)
            if piece.runs_on and end < count:
                # The names that run on past the piece: the walk goes on from the piece's
                # own key, known to be a prefix of some name.
                key, stop = piece.key, end
                while stop < count:
                    key = key + " " + toks[stop]
                    stop += 1
                    value = lookup.get(key)
                    if value is None:
                        break
                    if value >= 0:
                        out.append((start, stop, value))
            start = end
        return out

    def _resolve_name(
        self, index: int, country: str | None, toks: list[str], start: int, end: int
    ) -> gz.Record | None:
        """`_resolve` for the name `index` found at toks[start:end], remembered by name and
        country where the rest of the string cannot change the answer."""
        key = (index, country)
        known = self._resolved.get(key)
        if known is None:
            known = self._settle(index, country)
            if len(self._resolved) >= _PIECES_SIZE:
                self._resolved.clear()
            self._resolved[key] = known
        settled, record = known
        if settled:
            return record
        gaz = self.gazetteer
        assert gaz is not None
        return self._resolve(gaz.entries[index], country, toks, tuple(toks[start:end]))

    def _settle(self, index: int, country: str | None) -> tuple[bool, gz.Record | None]:
        """(True, answer) when `_resolve` answers from the name and the country alone; (False,
        None) when the string's words may decide (a city named beside it, a weak country)."""
        gaz = self.gazetteer
        assert gaz is not None
        entries = gaz.entries[index]
        countries = gaz.columns["country"]
        cands = [c for c in entries if countries[c[0]] == country] if country else list(entries)
        if not cands:
            return (False, None) if country and len(entries) == 1 else (True, None)
        if len({i for i, _kind in cands}) > 1:
            return False, None  # a city the string names may pick one (see _resolve)
        best_kind = min(kind for _, kind in cands)
        ids = [i for i, kind in cands if kind == best_kind]
        if len(ids) > 1:
            status = gaz.columns["status"]
            ids = [i for i in ids if status[i] == "active"] or ids
        if len(ids) > 1:
            return False, None
        return True, gaz.record(ids[0])

    def _resolve(
        self,
        entries: tuple[tuple[int, int], ...],
        country: str | None,
        toks: list[str],
        span: tuple[str, ...] = (),
    ) -> gz.Record | None:
        gaz = self.gazetteer
        assert gaz is not None
        countries = gaz.columns["country"]
        cands = list(entries)
        if country:
            cands = [c for c in cands if countries[c[0]] == country]
            if not cands and self._weak_country and len(entries) == 1 and self._names_city(span):
                cands = list(entries)  # the city that set the country is inside this name
            elif not cands and len(entries) == 1 and countries[entries[0][0]] in self._placed:
                # No country named, and a place of the string may be in the one country this
                # name's organisation is in ("Royal Perth Hospital, Perth, WA": WA is a US
                # state's code and an Australian state's).
                cands = list(entries)
        if not cands:
            return None
        cities = gaz.columns["city"]
        if len({i for i, _kind in cands}) > 1:
            # One of them in a city the string names, whatever the kind of name it holds
            # ("City of Hope, Duarte": another's name, the Duarte centre's other name).
            norm = " " + " ".join(toks) + " "
            named = {i for i, _k in cands if cities[i] and f" {_city_key(cities[i])} " in norm}
            if len(named) == 1:
                return gaz.record(named.pop())
        best_kind = min(kind for _, kind in cands)
        ids = [i for i, kind in cands if kind == best_kind]
        if len(ids) > 1:
            status = gaz.columns["status"]
            active = [i for i in ids if status[i] == "active"]
            ids = active or ids
        if len(ids) > 1:
            norm = " " + " ".join(toks) + " "
            local = [i for i in ids if cities[i] and f" {_city_key(cities[i])} " in norm]
            ids = local if len(local) == 1 else ids
        if len(ids) > 1:
            parents = gaz.columns["parent"]
            roots = [i for i in ids if parents[i] not in ids]
            ids = (
                roots
                if len(roots) == 1 and all(parents[i] in roots for i in ids if i not in roots)
                else ids
            )
        return gaz.record(ids[0]) if len(ids) == 1 else None

    def _stray_unit(
        self,
        pick: tuple[int, int, gz.Record, float],
        picks: list[tuple[int, int, gz.Record, float]],
        toks: list[str],
        norm: str,
    ) -> bool:
        """Whether a pick is a unit of some organisation by a name any organisation's unit may
        bear ("Institute of Robotics", the Bulgarian Academy's, written beside a university
        in Ruse): every word common to many ROR names and none a place, its parent not
        among the picks and its city not written. Beside another organisation the string
        names, such a name is that one's unit, not a unit elsewhere. Funders and
        universities stand on their own and are kept."""
        start, end, record, _confidence = pick
        if record.parent < 0 or not record.city or any(
            kind in record.types for kind in _STANDALONE
        ):
            return False
        if any(p[2].index == record.parent for p in picks):
            return False
        return self._common_elsewhere(record, toks[start:end], norm)

    def _tail_of_longer(
        self,
        pick: tuple[int, int, gz.Record, float],
        bounds: frozenset[int],
        toks: list[str],
        norm: str,
    ) -> bool:
        """Whether a pick is a name of common words at the end of a longer one that ROR does
        not hold ("Cancer Research Center" in "Holden Cancer Research Center"): found inside
        a piece after a word that is no link ("and", "of") and no acronym of its parent
        ("CSIR-National Physical Laboratory"), its city not written. Funders and
        universities are kept."""
        start, end, record, _confidence = pick
        if start <= 0 or start in bounds or toks[start - 1] in _LINK_BEFORE:
            return False
        if not record.city or any(kind in record.types for kind in _STANDALONE):
            return False
        gaz = self.gazetteer
        assert gaz is not None
        owners = gaz.acronyms.get(toks[start - 1].upper(), ())
        if record.parent >= 0 and record.parent in owners:
            return False
        if record.city and f" {_city_key(record.city)} " not in norm:
            # After another organisation's acronym of the same country ("UT Southwestern
            # Medical Center" is no "Southwestern Medical Center" of Lawton).
            countries = gaz.columns["country"]
            if any(
                countries[i] == record.country and i != record.index for i in owners
            ):
                return True
        return self._common_elsewhere(record, toks[start:end], norm)

    def _common_elsewhere(self, record: gz.Record, span: list[str], norm: str) -> bool:
        """Whether a name is made of words common to many ROR names, none a place, and its
        record's city is not written in the string."""
        if not record.city or f" {_city_key(record.city)} " in norm:
            return False
        gaz = self.gazetteer
        assert gaz is not None
        known, _shorter = gaz.words()
        words = tuple(t for t in span if t not in _BAG_DROP)
        if not words or self.detector.piece_places(words):
            return False
        return all(known.get(t, 0) >= _COMMON for t in words)

    def _shared_alias(self, index: int, record: int) -> bool:
        """Whether the name `index` is only another name (an alias, a label) of `record` and
        the name itself of some other organisation."""
        entries = self.gazetteer.entries[index] if self.gazetteer else ()
        mine = [kind for i, kind in entries if i == record]
        return bool(mine) and min(mine) > 0 and any(i != record and k == 0 for i, k in entries)

    def _alias_left(self, span: list[str], record: int) -> bool:
        """Whether a span as written is only an alias of `record` and the own name of two
        other organisations or more ("National Institute of Technology"), which the exact route
        leaves unresolved without the city: the same words in another order or language are
        no surer."""
        gaz = self.gazetteer
        assert gaz is not None
        exact = gaz.lookup.get(" ".join(span), -1)
        if exact < 0:
            return False
        # A label with its country cut off ("Électricité de France (France)") is its own.
        mine = [kind for i, kind in gaz.entries[exact] if i == record]
        if gz.ALIAS not in mine or gz.LABEL in mine:
            return False
        # Two organisations or more bearing it as their own make it a generic name; one may
        # be a translation ("Air Force Institute of Technology", a Polish institute's English
        # name and the American institute's other name).
        owners = {i for i, kind in gaz.entries[exact] if kind == gz.LABEL and i != record}
        return len(owners) >= 2

    def _splits_place(
        self, toks: list[str], bounds: frozenset[int], start: int, end: int
    ) -> bool:
        """Whether a name that runs on past a comma ends inside a place named after it."""
        cut = max((b for b in bounds if start < b < end), default=-1)
        if cut < 0:
            return False
        stop = min((b for b in bounds if b > end), default=len(toks))
        for first, last, _values in self.detector.piece_places(tuple(toks[cut:stop])):
            if cut + first < end < cut + last:
                return True
        return False

    def _formal(self, toks: list[str], bounds: frozenset[int], end: int, index: int) -> bool:
        """Whether a short one-word name at a piece's head, that only companies hold, is
        followed in its piece by a company's form ("BMW AG", "NEC Corporation")."""
        if end >= len(toks) or end in bounds or toks[end] not in _COMPANY_WORDS:
            return False
        gaz = self.gazetteer
        assert gaz is not None
        types = gaz.columns["types"]
        return all("company" in types[i] for i, _kind in gaz.entries[index])

    def _lone_word_doubtful(
        self, toks: list[str], bounds: frozenset[int], start: int, index: int
    ) -> bool:
        """A one-word name that is no label of its own (an alias, or a label without its
        parenthesis: "Providence", "Shell"), or that only companies hold ("Bell"), and that
        is a city's name, or that a piece goes on after with a word that is no company's form
        and no place ("Shell Development Company", "Bell Helicopter Textron"): the word is a
        place or the start of another name."""
        gaz = self.gazetteer
        assert gaz is not None
        types = gaz.columns["types"]
        if min(kind for _i, kind in gaz.entries[index]) == gz.LABEL and not all(
            "company" in types[i].split() for i, _kind in gaz.entries[index]
        ):
            return False
        if self._names_city((toks[start],)):
            return True
        stop = min((b for b in bounds if b > start), default=len(toks))
        if start + 1 >= stop:
            return False
        after = toks[start + 1]
        # A company's form, a web address (".com") or the place it is in.
        if after in _COMPANY_WORDS:
            return False
        places = self.detector.piece_places(tuple(toks[start + 1 : stop]))
        return not any(first == 0 for first, _end, _values in places)

    def _prefix_matches(
        self,
        toks: list[str],
        cut: list[_Piece],
        country: str | None,
        picks: list[tuple[int, int, gz.Record, float]],
    ) -> list[tuple[int, int, gz.Record, float]]:
        """A piece that begins with the start of longer names only ("Washington University
        Department of Physics, ..., St. Louis"): the one of them that goes on with its own
        city, which the string names (see _completion). The start is the piece's own
        (_Piece.head)."""
        out: list[tuple[int, int, gz.Record, float]] = []
        end = 0
        for piece in cut:
            start, end = end, end + len(piece.toks)
            if not piece.head_size or any(s < end and start < e for s, e, _r, _c in picks):
                continue
            record = self._completion(piece.head, country, toks)
            if record is not None and all(p[2].index != record.index for p in picks + out):
                out.append((start, start + piece.head_size, record, 0.7))
        return out

    def _parents_inside(
        self,
        found: list[tuple[int, int, int]],
        picks: list[tuple[int, int, gz.Record, float]],
        bounds: frozenset[int],
        country: str | None,
        toks: list[str],
    ) -> set[int]:
        """A unit whose own name goes on past a comma with its parent's name ("Institute of
        Nuclear Physics, Polish Academy of Sciences"), or with a university's name where ROR
        links no parent ("Earthquake Research Institute, University of Tokyo"): the parent or
        university is named too, and is added to `picks`. Returns the units so named, which
        stay beside it."""
        whole: set[int] = set()
        for start, end, record, confidence in list(picks):
            cuts = [b for b in bounds if start < b < end]
            if not cuts:
                continue
            ancestors = self._ancestors(record)
            for s, e, index in found:
                if e != end or s not in cuts:
                    continue
                parent = self._resolve_name(index, country, toks, s, e)
                if parent is None or parent.index == record.index:
                    continue
                if parent.index in ancestors or (
                    e - s > 1 and "education" in parent.types and "education" not in record.types
                ):
                    picks.append((s, e, parent, confidence))
                    whole.add(record.index)
                    break
        return whole

    def _units_of(
        self,
        found: list[tuple[int, int, int]],
        picks: list[tuple[int, int, gz.Record, float]],
        toks: list[str],
    ) -> set[int]:
        """A unit written "X of (the) Y" where Y is a pick and X a name of one of Y's
        children ("Queens College of the City University of New York"): the unit is named
        too, and added to `picks` beside its parent. Returns the units so named."""
        gaz = self.gazetteer
        assert gaz is not None
        parents = gaz.columns["parent"]
        whole: set[int] = set()
        after = {p[0]: p for p in picks if p[0] > 0}
        if not after:
            return whole
        lookup = gaz.lookup
        for start, pick in after.items():
            if toks[start - 1] != "of":
                continue
            mine: set[int] = set()
            span = (start, start)
            for s, e, index in found:
                if e == start - 1:
                    mine = {i for i, _kind in gaz.entries[index] if parents[i] == pick[2].index}
                    span = (s, e)
                    break
            if not mine:
                # ROR writes the unit's name and the parent's as one ("Queens College City
                # University of New York").
                tail = " ".join(toks[start : pick[1]])
                for s in range(max(0, start - 6), start - 1):
                    index = lookup.get(" ".join(toks[s : start - 1]) + " " + tail, -1)
                    if index >= 0:
                        mine = {
                            i for i, _kind in gaz.entries[index] if parents[i] == pick[2].index
                        }
                        span = (s, pick[1])
                        break
            if len(mine) == 1:
                record = gaz.record(mine.pop())
                if record is not None and all(p[2].index != record.index for p in picks):
                    picks.append((span[0], span[1], record, pick[3]))
                    whole.add(record.index)
        return whole

    def _unit_matches(
        self,
        toks: list[str],
        cut: list[_Piece],
        country: str | None,
        picks: list[tuple[int, int, gz.Record, float]],
    ) -> list[tuple[int, int, gz.Record, float]]:
        """Pieces that name a unit of a university by its tail words ("Harvard Medical School",
        "Washington University School of Medicine") and that no name covers: the university
        their head names, written as is, with "university" or "college" added, with "of"
        after a leading "university" ("University Cologne Medical School"), or as the start of
        exactly one name whose city the string names."""
        out: list[tuple[int, int, gz.Record, float]] = []
        end = 0
        for piece in cut:
            start, end = end, end + len(piece.toks)
            size = piece.unit_size
            if not size:
                continue
            # The head starts after a name found earlier in the piece, or after "and"
            # ("Massachusetts General Hospital and Harvard Medical School").
            first = start
            for s, e, _r, _c in picks:
                if s < end and start < e:
                    first = max(first, e)
            for i in range(first, end - size):
                if toks[i] == "and":
                    first = i + 1
            if first >= end - size:
                continue
            head = toks[first : end - size]
            record = self._head_record(head, country, toks)
            if record is not None and all(p[2].index != record.index for p in picks + out):
                out.append((first, end - size, record, 0.7))
        return out

    def _head_record(
        self, head: list[str], country: str | None, toks: list[str]
    ) -> gz.Record | None:
        gaz = self.gazetteer
        assert gaz is not None
        key = " ".join(head)
        forms = [key, key + " university", "university of " + key, key + " college"]
        if len(head) > 1 and translated_word(head[0]) == "university":
            forms.append("university of " + " ".join(head[1:]))  # "University Cologne"
        for form in forms:
            index = gaz.lookup.get(form, -1)
            if index >= 0:
                record = self._resolve(gaz.entries[index], country, toks, tuple(form.split()))
                if record is not None:
                    return record
        return self._completion(key, country, toks)

    def _completion(self, key: str, country: str | None, toks: list[str]) -> gz.Record | None:
        """The one record whose name is `key` and its own city, which the string names
        ("Washington University" + "in St. Louis", "Indian Institute of Technology" +
        "Kharagpur")."""
        gaz = self.gazetteer
        assert gaz is not None
        tails = _completions(gaz, key, country)
        if not tails:
            return None  # most keys: no name goes on with a city
        norm = " " + " ".join(toks) + " "
        found = {i for place, i in tails if f" {place} " in norm}
        return gaz.record(next(iter(found))) if len(found) == 1 else None

    def _loose_matches(
        self, toks: list[str], cut: list[_Piece], country: str | None
    ) -> list[tuple[int, int, gz.Record, float]]:
        """Pieces (or two neighbouring pieces: "University of North Carolina - Chapel Hill")
        whose words, in any order and cut to their stems, are exactly one organisation's
        name in the string's country ("Univ. Duisburg-Essen")."""
        gaz = self.gazetteer
        assert gaz is not None
        if not gaz.bags or country is None:
            return []
        countries = gaz.columns["country"]
        loose = [self._loose_of(piece) for piece in cut]
        edges = [0]
        for piece in cut:
            edges.append(edges[-1] + len(piece.toks))
        # Each piece alone, then each two neighbours (bag() of their tokens together is the
        # bag of their stems together).
        spans: list[tuple[int, int, tuple[int, ...]]] = [
            (edges[n], edges[n + 1], ids) for n, (_stems, ids) in enumerate(loose)
        ]
        for n in range(len(cut) - 1):
            key = bag_of(loose[n][0] | loose[n + 1][0])
            spans.append((edges[n], edges[n + 2], gaz.bags.get(key, ())))
        out: list[tuple[int, int, gz.Record, float]] = []
        taken: set[int] = set()
        for start, end, found in spans:
            if start in taken or not found:
                continue
            ids = tuple(i for i in found if countries[i] == country)
            if len(ids) == 1 and self._alias_left(toks[start:end], ids[0]):
                continue
            if len(ids) == 1 and self._stems_agree(toks[start:end], ids[0]):
                record = gaz.record(ids[0])
                if record is not None:
                    out.append((start, end, record, 0.7))
                    taken.add(start)
        if not out:
            out.extend(self._translated_matches(toks, cut, country))
        return out

    def _loose_of(self, piece: _Piece) -> tuple[frozenset[str], tuple[int, ...]]:
        """A piece's stems as bag() takes them, and the records whose names are its bag."""
        known = self._loose.get(piece.key)
        if known is None:
            gaz = self.gazetteer
            assert gaz is not None
            words = stems(piece.toks)
            known = (words, gaz.bags.get(bag_of(words), ()))
            if len(self._loose) >= _PIECES_SIZE:
                self._loose.clear()
            self._loose[piece.key] = known
        return known

    def _translated_matches(
        self, toks: list[str], cut: list[_Piece], country: str
    ) -> list[tuple[int, int, gz.Record, float]]:
        """Pieces that are one organisation's name in another language or spelling, in the
        string's country ("Universität Göttingen", "Technical University of Dresden"), or
        whose tail from a word for "university" is ("Institut für Chemie der Universität
        Göttingen")."""
        gaz = self.gazetteer
        assert gaz is not None
        table = gaz.derived("translated names", _tables_stamp(), lambda: gaz.keyed(translated_key))
        countries, status = gaz.columns["country"], gaz.columns["status"]
        out: list[tuple[int, int, gz.Record, float]] = []
        end = 0
        for piece in cut:
            start, end = end, end + len(piece.toks)
            tries = [start] + [
                i
                for i in range(start + 1, end - 1)
                if translated_word(toks[i]) == "university" and not qualified(toks[i - 1], toks[i])
            ]
            for first in tries:
                ids = [
                    i
                    for i in table.get(translated_key(toks[first:end]), ())
                    if countries[i] == country
                ]
                if len(ids) > 1:
                    ids = [i for i in ids if status[i] == "active"]
                if len(ids) != 1 or not self._translations_agree(toks[first:end], ids[0]):
                    continue
                if first == start and self._alias_left(toks[start:end], ids[0]):
                    continue
                record = gaz.record(ids[0])
                if record is not None:
                    out.append((first, end, record, 0.7))
                    break
        return out

    def _translations_agree(self, toks: list[str], index: int) -> bool:
        """_stems_agree for translated words: "Northwest" is still not "Northwestern"."""
        gaz = self.gazetteer
        assert gaz is not None
        mine = set(translated_words(toks))
        for name in gaz.names_of(index):
            theirs = set(translated_words(name.split(" ")))
            if all(
                any(b[:6] == a[:6] and self._word_agrees(a, b) for b in theirs) for a in mine
            ):
                return True
        return False

    def _misspelt_matches(
        self, toks: list[str], cut: list[_Piece], country: str | None
    ) -> list[tuple[int, int, gz.Record, float]]:
        """Names written with one slip of the keyboard ("Univcrsity", "Hosptial", "Datyon"):
        a word of five letters or more that no ROR name holds, one edit away from one word
        that names hold (or from one far more common than any other), is read as that word,
        and the piece is looked at again. Only a name of two words or more holding a
        corrected word counts."""
        gaz = self.gazetteer
        assert gaz is not None
        out: list[tuple[int, int, gz.Record, float]] = []
        memo = self._slips
        end = 0
        for piece in cut:
            start, end = end, end + len(piece.toks)
            found = memo.get(piece.key)
            if found is None:
                found = self._slipped_names(piece.toks)
                if len(memo) >= _PIECES_SIZE:
                    memo.clear()
                memo[piece.key] = found
            for s, e, index, span in found:
                record = self._resolve(gaz.entries[index], country, toks, span)
                if record is not None:
                    out.append((start + s, start + e, record, 0.6))
                    break
        return out

    def _slipped_names(self, toks: tuple[str, ...]) -> tuple[_Slip, ...]:
        """The names one piece holds once its slips are corrected (see _misspelt_matches), in
        the order they are tried: (first token, end token, name index, the name's tokens).
        A function of the piece's tokens alone, so remembered by piece."""
        gaz = self.gazetteer
        assert gaz is not None
        known, shorter = gaz.words()
        fixed = list(toks)
        changed = set()
        corrections = self._corrections
        for i, tok in enumerate(fixed):
            seen = known.get(tok, 0)
            if len(tok) < 5 or seen > 2 or not tok.isalpha():
                continue
            # Words recur far more than pieces: each one's correction is worked out once.
            word = corrections.get(tok)
            if word is None:
                word = _corrected(tok, seen, known, shorter)
                if len(corrections) >= _PIECES_SIZE:
                    corrections.clear()
                corrections[tok] = word
            if word:
                fixed[i] = word
                changed.add(i)
        if not changed:
            return ()
        found = sorted(gaz.find(fixed), key=lambda m: (m[0] - m[1], m[0]))
        return tuple(
            (s, e, index, tuple(fixed[s:e]))
            for s, e, index in found
            if e - s >= 2 and any(s <= i < e for i in changed)
        )

    def _tail_matches(
        self, toks: list[str], bounds: frozenset[int], country: str | None, norm: str
    ) -> list[tuple[int, int, gz.Record, float]]:
        """A piece that is the end of one organisation's longer name, three words or more,
        whose city the string names ("MD Anderson Cancer Center, Houston": "The University of
        Texas MD Anderson Cancer Center"; "Naval Research Laboratory, ..., Washington": the
        United States one): the name as it is said, without its owner's or country's name in
        front. Without the city such tails are generic ("Research Institute")."""
        gaz = self.gazetteer
        assert gaz is not None
        edges = sorted(bounds)
        out: list[tuple[int, int, gz.Record, float]] = []
        table: dict[str, tuple[int, ...]] | None = None
        countries, cities = gaz.columns["country"], gaz.columns["city"]
        for start, end in zip(edges, edges[1:], strict=False):
            # The whole piece: a tail inside one ("Great Ormond Street Hospital for Children")
            # is as often the end of another organisation's name of the same city.
            if end - start < 3 or self.detector.is_place(tuple(toks[start:end])):
                continue  # short, or a place's name ("Republic of Belarus") and no tail
            if table is None:
                table = gaz.derived("name tails", _tables_stamp(), lambda: _name_tails(gaz))
            ids = {
                i
                for i in table.get(" ".join(toks[start:end]), ())
                if (country is None or countries[i] == country)
                and cities[i]
                and f" {_city_key(cities[i])} " in norm
            }
            if len(ids) == 1:
                record = gaz.record(ids.pop())
                if record is not None and all(p[2].index != record.index for p in out):
                    out.append((start, end, record, 0.7))
        return out

    def _stems_agree(self, toks: list[str], index: int) -> bool:
        """Whether the piece's words, cut to six letters, are the record's by more than the
        cut: a word that is another plus a syllable ("Northwest" and "Northwestern") is a
        different name."""
        gaz = self.gazetteer
        assert gaz is not None
        mine = {t for t in toks if t not in _BAG_DROP}
        key = bag(toks)
        for name in gaz.names_of(index):
            theirs = {t for t in name.split(" ") if t not in _BAG_DROP}
            if bag(tuple(theirs)) != key:
                continue  # another of its names, whose words are not these
            if all(
                any(b[:6] == a[:6] and self._word_agrees(a, b) for b in theirs) for a in mine
            ):
                return True
        return False

    def _word_agrees(self, a: str, b: str) -> bool:
        if a == b:
            return True
        short, long = (a, b) if len(a) <= len(b) else (b, a)
        if not long.startswith(short):
            # Two endings of one stem ("technology", "technological"), not a compound that
            # only begins like it ("Universitätsklinikum" is no "University").
            return len(long) <= len(short) + 4
        rest = long[len(short) :]
        # A short tail that is no ending makes another word; a long one is a word glued on
        # ("ResearchHeidelberg").
        return not rest or rest in _ENDINGS or len(rest) > 4

    def _names_city(self, span: tuple[str, ...]) -> bool:
        return any(
            kind == CITY
            for _s, _e, values in self.detector.piece_places(span)
            for _c, kind in values
        )

    def _acronym_matches(self, raw: str, country: str) -> list[tuple[int, int, gz.Record, float]]:
        gaz = self.gazetteer
        assert gaz is not None
        out = []
        parts = chunks(raw)
        last = len(parts) - 1
        countries = gaz.columns["country"]
        for n, chunk in enumerate(parts):
            word = chunk.strip(" .")
            if len(word) < 3 or not word.isupper():
                continue
            ids = [i for i in gaz.acronyms.get(word, ()) if countries[i] == country]
            if len(ids) != 1:
                continue
            if n and n == last and self.detector.piece_votes(tuple(tokens(parts[n - 1]))):
                continue  # after the place that ends an address: initials, not a name
            record = gaz.record(ids[0])
            if record is not None:
                out.append((-1, -1, record, 0.6))
        return out

    # -- shared ---------------------------------------------------------------------------
    def _ancestors(self, record: gz.Record) -> list[int]:
        gaz = self.gazetteer
        out: list[int] = []
        parent = record.parent
        while gaz is not None and parent >= 0 and parent not in out and len(out) < 8:
            out.append(parent)
            parent = gaz.columns["parent"][parent]
        return out

    def _set_parent(self, aff: Affiliation, record: gz.Record) -> None:
        gaz = self.gazetteer
        if gaz is not None and record.parent >= 0:
            parent = gaz.record(record.parent)
            if parent is not None:
                aff.parent_id, aff.parent_name = parent.id, parent.name

    def _listed_unit(self, record: gz.Record) -> bool:
        """Whether a record that has a parent is on a list by its own ROR id, apart from
        whatever its parent's entry carries."""
        if record.parent < 0:
            return False
        own = self.watchlist.for_ror(record.id)
        return own is not None and bool(own.flags) and own is not self._entry_for_parent(record)

    def _entry_for_parent(self, record: gz.Record) -> Entry | None:
        gaz = self.gazetteer
        if gaz is None:
            return None
        for index in self._ancestors(record):
            entry = self.watchlist.for_ror(gaz.columns["id"][index])
            if entry is not None:
                return entry
        return None

    def _entry_for(self, record: gz.Record) -> Entry | None:
        """The watchlist entry of a record or of the organisation it belongs to."""
        entry = self.watchlist.for_ror(record.id)
        if entry is None and self.gazetteer is not None:
            for index in self._ancestors(record):
                entry = self.watchlist.for_ror(self.gazetteer.columns["id"][index])
                if entry is not None:
                    break
        return entry

    def _known(self, record: gz.Record) -> _Known:
        """What a record always brings to an answer, worked out once per record."""
        known = self._records.get(record.index)
        if known is None:
            parent = self.gazetteer.record(record.parent) if self.gazetteer else None
            known = _Known(
                sector=sector_for(record.types, record.name),
                parent_id=parent.id if parent is not None and record.parent >= 0 else None,
                parent_name=parent.name if parent is not None and record.parent >= 0 else None,
                entry=self._entry_for(record),
                military=military_rule(record.name) is not None,
            )
            self._records[record.index] = known
        return known

    def _is_company(self, ident: str) -> bool:
        """Whether ROR types the record of this id a company."""
        record = self.gazetteer.record(ident) if self.gazetteer is not None else None
        return record is not None and "company" in record.types

    def _finish(
        self,
        aff: Affiliation,
        entry: Entry | None,
        names: list[str | None],
        norm: str = "",
        military: bool = False,
    ) -> Affiliation:
        """Sector and flags from the watchlist entry and the military rules (`military`: a
        rule already met by one of the names)."""
        if entry is not None:
            # Flags are frozen: the answer shares them, in a list of its own.
            ident = aff.institution_id
            if (
                ident and ident.startswith(gz.ROR_PREFIX) and ident != entry.ror
                and (
                    (aff.institution_name and name_key(aff.institution_name) in entry.units)
                    or (entry.ror is not None and self._is_company(ident))
                )
            ):
                # ROR's record of one of the entry's units (CASC's CAST), or of a company of
                # the entry's (a ROR child of CETC's): part of the entry, with the listings it
                # carries as the entry's.
                aff.flags = [f for f in entry.flags if carried(f)]
                if aff.parent_name is None:
                    aff.parent_id, aff.parent_name = entry.ror, entry.name
            else:
                aff.flags = list(entry.flags)
            sector = entry.sector or (implied_sector(entry) if aff.sector == "unknown" else None)
            if sector:
                aff.sector = sector
            if aff.country is None:
                aff.country = entry.country
            if aff.institution_id is None and entry.ror:
                aff.institution_id = entry.ror
            if entry.parent and aff.parent_name is None:
                # A listed unit of a listed group (CETC's numbered institutes) is the group's,
                # as a ROR unit is its parent's.
                group = self.watchlist.by_key[entry.parent]
                if group.ror is None or group.ror != aff.institution_id:
                    aff.parent_id, aff.parent_name = group.ror, group.name
            if aff.method in {"none", "country-only"}:
                aff.method = "watchlist"
        if aff.sector != "military" and (
            military or military_rule(*names) or (norm and military_rule_normalized(norm))
        ):
            aff.sector = "military"
        category = None
        if security_country(aff.country):
            category = security_rule(*names) or (security_rule_normalized(norm) if norm else None)
            if category is None and aff.institution_name and not names:
                category = security_rule(aff.institution_name)
        if category and aff.sector != "military":
            if not any(flag.list == POLICE_LIST for flag in aff.flags):
                aff.flags.append(_police_flag(category))
            aff.sector = "government"
        elif (
            category is None
            and not security_country(aff.country)
            and aff.sector in {"unknown", "academic"}
            and (police_elsewhere(*names) or (norm and police_elsewhere_normalized(norm)))
        ):
            aff.sector = "government"
        return aff


# An institute's number written apart from its group's name: "Res Inst 502", "Research
# Institute 58", "Inst. 14", "No. 41 Research Institute", "58th Research Institute".
_INSTITUTE_NUMBER = re.compile(
    r"\b(?:Res(?:earch)?\.?\s+Inst(?:itute)?\.?|Inst(?:itute)?\.?)\s+(?:No\.?\s*)?(\d{1,3})\b"
    r"|\bNo\.?\s*(?=\d)(\d{1,3})\s+Res(?:earch)?\.?\s+Inst"
    r"|\b(\d{1,3})(?:st|nd|rd|th)?\s+Res(?:earch)?\.?\s+Inst",
    re.IGNORECASE,
)

# The military rules' labels (data/military_rules.yaml) that name schools: a unit of a
# university's answer ("Military College of Signals") makes it military.
_MILITARY_SCHOOLS = frozenset({"military academy or university"})

# Where two words were glued together: a lower-case run then a capitalised word, or letters
# and a postcode.
_SEAM = re.compile(
    r"(?<=[a-zß-ÿ]{4})(?=[A-ZÀ-ÖØ-Þ][a-zß-ÿ])|(?<=[a-zß-ÿ]{3})(?=\d{4})|(?<=\d{4})(?=[A-ZÀ-ÖØ-Þ][a-zß-ÿ])"
)
_GLUED = re.compile(r"[^\W_]{8,}")
# Where a lower-case letter meets a capital: the heads of a glued word tried as a listed brand.
_CAMEL = re.compile(r"(?<=[a-zß-ÿ])(?=[A-ZÀ-ÖØ-Þ])")
# Each Latin-1 character by the class of _SEAM's it is in: "a" lower-case letter, "A" capital,
# "0" digit, " " none (taken from _SEAM's own classes, so the two cannot disagree).
_SHAPES = bytes(
    ord("a") if re.match("[a-zß-ÿ]", chr(i)) else ord("A") if re.match("[A-ZÀ-ÖØ-Þ]", chr(i))
    else ord("0") if re.match(r"\d", chr(i)) else ord(" ")
    for i in range(256)
)


def _has_seam(text: str) -> bool:
    """`_SEAM.search(text) is not None`, by three substring tests on the string's shapes
    where it is Latin-1 (a fifth of the regex's cost: its look-behinds are tried at every
    character of every string)."""
    try:
        shapes = text.encode("latin-1").translate(_SHAPES)
    except UnicodeEncodeError:
        return _SEAM.search(text) is not None  # other digits than 0-9 are \d too
    return b"aaaaAa" in shapes or b"aaa0000" in shapes or b"0000Aa" in shapes

# Words after a one-word company name that keep it the company ("Megvii Inc.").
_COMPANY_WORDS = frozenset(
    {"inc", "ltd", "limited", "co", "corp", "corporation", "company", "gmbh", "ag", "sa", "spa",
     "plc", "llc", "bv", "nv", "kk", "group", "holdings", "srl", "ab", "as", "oy", "pty", "pvt",
     "private", "incorporated", "se", "kg", "com"}
)
# A word that this many ROR names hold is common enough to make up any unit's name.
_COMMON = 20
# Kinds of organisation that no string names as another's unit (see _stray_unit).
_STANDALONE = ("funder", "education")
# Words before a name inside a piece that join it to what comes before, not lengthen it.
_LINK_BEFORE = frozenset({"and", "the", "of", "at", "in", "for", "de", "y", "et", "und"})
# First words of a name that make it a unit ("Department of ...", "Faculty of ...").
_UNIT_WORDS = frozenset({"department", "faculty", "division", "section"})
# Words between a name and its city ("University of Arkansas at Little Rock").
_LINKS = frozenset({"in", "at", "of"})
_BAG_DROP = frozenset({"of", "and", "at", "de", "di", "du", "des", "der", "la", "le", "del", "in"})
# Endings by which two spellings of one word differ (English, and the Romance and German
# forms of "university", "technology" and the like, accents folded).
_ENDINGS = frozenset(
    {"", "s", "es", "y", "ies", "ic", "ics", "ical", "al", "e", "a", "o", "at", "ad", "dad",
     "ade", "idad", "ity", "ita", "ite", "ia", "ie", "ique", "ica", "ico", "isch", "ische", "i"}
)


def _corrected(
    tok: str, seen: int, known: dict[str, int], shorter: Deletions
) -> str:
    """The word a token that `seen` names hold is read as (see _misspelt_matches), "" when
    none."""
    near = sorted(((known[w], w) for w in _one_edit(tok, shorter)), reverse=True)
    # One word, or one far more common than the next (ROR's names hold slips too: a word two
    # names hold is read as one a hundred times as common).
    if seen and (not near or near[0][0] < 100 * seen):
        return ""
    if near and (len(near) == 1 or near[0][0] >= 5 * near[1][0]):
        return near[0][1]
    return ""


def _one_edit(word: str, shorter: Deletions) -> set[str]:
    """The words of `shorter` (Gazetteer.words) one deletion, insertion, replacement or swap
    of neighbours away from `word`: those that share a form with one letter left out, or
    that are one."""
    forms = forms_of(word)
    found = set(shorter.get(word))  # one letter more than the word
    for form in forms:
        found.update(shorter.get(form))  # a letter replaced, or two swapped
    found.discard(word)
    return {w for w in found if _one_apart(word, w) or w in forms}


def _one_apart(a: str, b: str) -> bool:
    """One edit (Damerau) between two words whose lengths differ by at most one."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return len(long) == len(short) + 1 and any(
        long[:i] + long[i + 1 :] == short for i in range(len(long))
    )


@lru_cache(maxsize=8)
def _police_flag(category: str) -> Flag:
    return Flag(list=POLICE_LIST, label=POLICE_LABEL, category=category)


@lru_cache(maxsize=2)
def _detector(gazetteer: gz.Gazetteer | None) -> CountryDetector:
    # Built once per gazetteer: the dump's cities take a moment to normalise.
    return CountryDetector(gazetteer.city_countries() if gazetteer else ())


def _of_record(
    raw: str, record: gz.Record, known: _Known, country: str | None, confidence: float,
    method: str,
) -> Affiliation:
    """The affiliation a string names through a ROR record: its id, name, parent and sector."""
    return Affiliation(
        raw=raw,
        institution_id=record.id,
        institution_name=record.name,
        parent_id=known.parent_id,
        parent_name=known.parent_name,
        country=record.country or country,
        sector=known.sector,
        confidence=confidence,
        method=method,
    )


def _copy(aff: Affiliation) -> Affiliation:
    # A bare instance given a copy of the fields: several times faster than copy.copy or
    # dataclasses.replace; flags get a list of their own.
    out: Affiliation = object.__new__(Affiliation)
    fields = aff.__dict__.copy()
    fields["flags"] = list(aff.flags)
    out.__dict__ = fields
    return out


@lru_cache(maxsize=1 << 14)
def _city_key(city: str) -> str:
    return normalize(city)


def _completions(
    gaz: gz.Gazetteer, key: str, country: str | None
) -> list[tuple[str, int]]:
    """(city, record) for each name that is `key` and its record's own city, with "in", "at"
    or "of" between ("washington university in saint louis"), in `country` when given."""
    found = gaz.derived("city tails", _tables_stamp(), lambda: _city_tails(gaz)).get(key, ())
    if not found:
        return []
    countries = gaz.columns["country"]
    return [(place, i) for place, i in found if country is None or countries[i] == country]


def _city_tails(gaz: gz.Gazetteer) -> dict[str, list[tuple[str, int]]]:
    """Names that end with their record's own city, by what comes before the city (link
    words left out): "washington university" -> [("saint louis", record)]."""
    cities = gaz.columns["city"]
    out: dict[str, list[tuple[str, int]]] = {}
    for name, entries in zip(gaz.names, gaz.entries, strict=True):
        for i, _kind in entries:
            city = cities[i]
            if not city:
                continue
            place = _city_key(city)
            if not place:
                continue
            # A city is also written by its first word ("Freiburg" for Freiburg im Breisgau,
            # "Frankfurt" for Frankfurt am Main), and names end with that.
            short = place.split(" ", 1)[0]
            for form in (place, short) if short != place and len(short) >= 4 else (place,):
                if not name.endswith(" " + form):
                    continue
                head = name[: -len(form) - 1].split(" ")
                while head and head[-1] in _LINKS:
                    head.pop()
                if head:
                    out.setdefault(" ".join(head), []).append((form, i))
                break
    return out


def _name_tails(gaz: gz.Gazetteer) -> dict[str, tuple[int, ...]]:
    """The ends of names of four words or more (labels and aliases), three words or more
    long, that are no name themselves and begin with no link word -> the records."""
    found: dict[str, set[int]] = {}
    lookup = gaz.lookup
    for name, entries in zip(gaz.names, gaz.entries, strict=True):
        parts = name.split(" ")
        if len(parts) < 4:
            continue
        ids = [i for i, kind in entries if kind <= gz.ALIAS]
        if not ids:
            continue
        for k in range(1, len(parts) - 2):
            if parts[k] in _LINK_BEFORE:
                continue
            tail = " ".join(parts[k:])
            if lookup.get(tail, -1) >= 0:
                continue
            found.setdefault(tail, set()).update(ids)
    return gz.sorted_sets(found)


@cache
def _tables_stamp() -> str:
    """What the tables this module derives from the index depend on: its code, the rules'
    code and the rule files."""
    from tracer.affiliations import rules

    code = Path(__file__).read_bytes() + Path(rules.__file__).read_bytes()
    return classifier_version(hashlib.sha256(code).hexdigest())


def prepare(gaz: gz.Gazetteer) -> gz.Gazetteer:
    """Derive the tables the matcher needs (a few seconds, once per index and rules: they are
    saved with the index, so later runs only load them)."""
    stamp = _tables_stamp()
    gaz.derived("translated names", stamp, lambda: gaz.keyed(translated_key))
    gaz.derived("city tails", stamp, lambda: _city_tails(gaz))
    gaz.derived("name tails", stamp, lambda: _name_tails(gaz))
    gaz.words()
    gaz.save_tables()
    return gaz


def load_gazetteer(settings: Settings) -> gz.Gazetteer | None:
    """The ROR index, with the matcher's tables: from settings.ror_dump (cached by name and
    mtime), else the index that `tracer data update` built, else the newest dump in the data
    dir, else None."""
    gaz = _find_gazetteer(settings)
    return None if gaz is None else prepare(gaz)


def _find_gazetteer(settings: Settings) -> gz.Gazetteer | None:
    if settings.ror_dump is not None:
        return gz.load_or_build(settings.data_dir, Path(settings.ror_dump))
    if settings.ror_index.exists():
        loaded = gz.Gazetteer.load(settings.ror_index)
        if loaded is not None:
            return loaded
    dumps = sorted(settings.ror_dump_dir.glob("*.zip"), key=lambda p: p.stat().st_mtime)
    if dumps:
        return gz.load_or_build(settings.data_dir, dumps[-1])
    return None


__all__ = ["Affiliation", "Classifier", "Flag", "load_gazetteer"]
