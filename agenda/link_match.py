"""The linker's phrase matching: spaCy's ``PhraseMatcher`` answers on folded text, without a Doc.

A phrase matches where the linker's tokenizer (agenda/link_tokens.py) cuts the text into the
phrase's tokens. Tokenizing every text cost more than all the rest of matching, so phrases are
found as strings, all at once in C (Aho-Corasick), and a string found is kept only if it is made of
the phrase's tokens, which is checked on the few whitespace-separated chunks around it. What spaCy
does that this relies on (spacy/tokenizer.pyx, spacy/matcher/phrasematcher.pyx):
  - text is cut at whitespace into chunks, each tokenized on its own (prefixes, suffixes, infixes);
    a single ' ' after a chunk belongs to its last token, the rest of a whitespace run is a token;
  - the tokenizer never cuts between two letters or digits (its prefixes, suffixes and infixes are
    punctuation), so a matched span is the phrase's tokens with "" or " " between each two, and ""
    only where a side is not alphanumeric: each such form is searched ("bio-bio", "bio - bio");
  - matches come ordered by their first token, then their last, then (one span under several keys,
    "hospital" as a facility and a priority) in the order of the PhraseMatcher's hash table for
    that phrase, which is read once from a PhraseMatcher holding that phrase alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from itertools import pairwise
from typing import Final, NamedTuple, cast, final

import ahocorasick_rs
from spacy.matcher import PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

# A match: key, start and end (character offsets), number of tokens.
Match = tuple[str, int, int, int]
# An occurrence of a searched string: its index, start and end (character offsets).
Occurrence = tuple[int, int, int]
# A Match as the matcher builds it, of the search's own int objects for its start and end:
# compiled, ints typed as such are native numbers, boxed anew (allocated) for every tuple made.
_BoxedMatch = tuple[str, object, object, int]
_Boxes = tuple[object, object, object]  # an Occurrence's int objects
# Token spans, as (start, end) character offsets.
_Spans = tuple[tuple[int, int], ...]

# A phrase with more places where a blank may or may not stand would be searched in too many
# forms (two per place): such keywords are refused when the matcher is built.
MOST_OPTIONAL_BLANKS: Final = 10
# Readings of found strings in the chunks around them, kept: as many as spaCy's own cache keeps
# chunks, for stretches this short (the cache stays small; a longer one, in text with few blanks,
# is tokenized once per text).
_REGIONS_KEPT: Final = 10_000
_LONGEST_REGION_KEPT: Final = 200
# Readings of one searched string before a sign, kept: a text may bring any character.
_SIGNS_KEPT: Final = 64
_BLANK: Final = re.compile(r"\s")
_NON_BLANK: Final = re.compile(r"\S")


class UnsearchablePhrase(ValueError):
    """A phrase that would have to be searched in too many forms; ``key`` says whose it is."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@final
class _Reading:
    """One token sequence a searched string can be: its tokens' spans in the string, its keys
    (places and the others apart, each in the PhraseMatcher's order) and number of tokens."""

    # a plain class, not a NamedTuple: compiled, its fields are read without a lookup
    __slots__ = ("spans", "place_keys", "other_keys", "tokens")

    def __init__(
        self, spans: _Spans, place_keys: tuple[str, ...], other_keys: tuple[str, ...]
    ) -> None:
        self.spans = spans
        self.place_keys = place_keys
        self.other_keys = other_keys
        self.tokens = len(spans)


@final
class _Form:
    """A searched string, what is known of it before any text: its readings, the one that holds
    where the string is whole chunks of the text (None when it has none or other blanks than
    single spaces), whether its ends are letters or digits; and its readings before a sign."""

    __slots__ = ("string", "readings", "whole", "first_alnum", "last_alnum", "before_sign")

    def __init__(self, string: str, readings: tuple[_Reading, ...], whole: _Reading | None) -> None:
        self.string = string
        self.readings = readings
        self.whole = whole
        self.first_alnum = string[0].isalnum()
        self.last_alnum = string[-1].isalnum()
        # the one character after the string that ends its chunk ("valparaiso,") -> its reading
        self.before_sign: dict[str, _Reading | None] = {}


_UNREAD: Final = _Reading((), (), ())  # not in a cache of readings


class _Stretch(NamedTuple):
    """A stretch of a text tokenized: from the start of a chunk to the end of one, its tokens."""

    first: int
    last: int
    spans: set[tuple[int, int]]


@final
class OverlappingSearch:
    """Every occurrence of some strings in a text, overlapping ones too ("obra" inside "obras"),
    in one pass in C (Aho-Corasick; its DFA searches fastest). Text all in Latin-1 (nearly all
    text, folded) is searched as its bytes in that encoding, whose offsets are its characters':
    a str is searched in UTF-8 and its offsets mapped back to characters, a map built per text
    that costs a third of the search."""

    def __init__(self, strings: list[str]) -> None:
        dfa = ahocorasick_rs.Implementation.DFA
        self._in_text = ahocorasick_rs.AhoCorasick(strings, implementation=dfa) if strings else None
        self._in_latin1: ahocorasick_rs.BytesAhoCorasick | None = None
        if strings and all(max(string, default="") <= "\xff" for string in strings):
            self._in_latin1 = ahocorasick_rs.BytesAhoCorasick(
                [string.encode("latin-1") for string in strings], implementation=dfa
            )

    def find(self, text: str) -> list[Occurrence]:
        """(string index, start, end) of each occurrence."""
        if self._in_latin1 is not None:
            try:
                latin1 = text.encode("latin-1")
            except UnicodeEncodeError:
                pass
            else:
                return self._in_latin1.find_matches_as_indexes(latin1, overlapping=True)
        if self._in_text is None:
            return []
        return self._in_text.find_matches_as_indexes(text, overlapping=True)


class FoldedPhraseMatcher:
    """Built once from (key, folded phrases) pairs and the keys that are places; called with a
    folded text, it returns what ``PhraseMatcher(vocab, attr="ORTH")`` holding the same phrases
    returns on that text's Doc, as character offsets plus the number of tokens: the matches of
    places, then the others, in two lists (each in the PhraseMatcher's order). Other strings
    (``also_found``) are looked for in the same pass, for another reader of the text: their
    occurrences come as the search gives them, in a third list."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        phrases: Iterable[tuple[str, Iterable[str]]],
        place_keys: AbstractSet[str] = frozenset(),
        also_found: Sequence[str] = (),
    ) -> None:
        self.tokenizer = tokenizer
        self.phrases = [(key, list(texts)) for key, texts in phrases]
        # (string found, its offset in the chunks around it, those chunks) -> its reading there
        self._reading_in_region: dict[tuple[int, int, str], _Reading | None] = {}
        keys_by_tokens: dict[tuple[str, ...], list[str]] = {}
        for key, texts in self.phrases:
            for text in texts:
                tokens = tuple(token.text for token in tokenizer(text))
                if tokens:  # spaCy skips an empty pattern
                    keys = keys_by_tokens.setdefault(tokens, [])
                    if key not in keys:
                        keys.append(key)
        readings: dict[str, list[_Reading]] = {}
        for tokens, keys in keys_by_tokens.items():
            ordered = tuple(keys) if len(keys) == 1 else self._hash_table_order(tokens, keys)
            try:
                forms = _forms(tokens)
            except ValueError as exc:
                raise UnsearchablePhrase(ordered[0], str(exc)) from None
            places = tuple(key for key in ordered if key in place_keys)
            others = tuple(key for key in ordered if key not in place_keys)
            for string, spans in forms:
                readings.setdefault(string, []).append(_Reading(spans, places, others))
        self._forms: list[_Form] = []  # by their index in the search, after the other strings
        for string, found in readings.items():
            whole = None
            if " ".join(string.split()) == string:  # no blank but single spaces between chunks
                own = self._spans(string)
                whole = next((reading for reading in found if reading.spans == own), None)
            self._forms.append(_Form(string, tuple(found), whole))
        # one pass for both: the other strings first, so their occurrences keep their index
        self._also_count = len(also_found)
        self._search = OverlappingSearch(list(also_found) + list(readings))

    def _hash_table_order(self, tokens: tuple[str, ...], keys: list[str]) -> tuple[str, ...]:
        """The order the PhraseMatcher gives keys added in this order for one phrase."""
        vocab = self.tokenizer.vocab
        doc = Doc(vocab, words=list(tokens))
        matcher = PhraseMatcher(vocab, attr="ORTH")
        for key in keys:
            matcher.add(key, [doc])
        return tuple(vocab.strings[match_id] for match_id, _, _ in matcher(doc))

    def __call__(self, folded: str) -> tuple[list[Match], list[Match], list[Occurrence]]:
        place_matches: list[_BoxedMatch] = []
        other_matches: list[_BoxedMatch] = []
        also_found: list[object] = []
        size = len(folded)
        forms = self._forms
        also_count = self._also_count
        long_stretch: list[_Stretch] = []  # the last long stretch of this text tokenized, if any
        last_start = last_end = -1  # the span of the last match kept
        # each occurrence kept as the search made it (see _BoxedMatch), its ints read as numbers
        for occurrence in cast("list[object]", self._search.find(folded)):
            index, start, end = cast(Occurrence, occurrence)
            if index < also_count:
                also_found.append(occurrence)
                continue
            index -= also_count
            form = forms[index]
            reading = form.whole
            # most strings found are whole chunks, a space (or the text's edge) on each side:
            # their own reading, decided on two characters compared (no string made)
            if reading is None or not (start == 0 or folded[start - 1] == " "):
                reading = self._reading_at(folded, start, end, form, index, long_stretch)
            elif not (end == size or folded[end] == " "):
                reading = self._reading_after_blank(folded, start, end, form, index, long_stretch)
            if reading is None:
                continue
            tokens = reading.tokens
            _, start_box, end_box = cast(_Boxes, occurrence)
            # the PhraseMatcher's order, by start then end (the keys of one span in their
            # order): the search gives them by end, so most go last, and a few (a shorter
            # phrase inside a longer one) a little before
            if start > last_start or (start == last_start and end >= last_end):
                for key in reading.place_keys:
                    place_matches.append((key, start_box, end_box, tokens))
                for key in reading.other_keys:
                    other_matches.append((key, start_box, end_box, tokens))
                last_start, last_end = start, end
            else:
                _insert(place_matches, reading.place_keys, start_box, end_box, tokens)
                _insert(other_matches, reading.other_keys, start_box, end_box, tokens)
        return (
            cast("list[Match]", place_matches),
            cast("list[Match]", other_matches),
            cast("list[Occurrence]", also_found),
        )

    def _reading_at(
        self,
        folded: str,
        start: int,
        end: int,
        form: _Form,
        index: int,
        long_stretch: list[_Stretch],
    ) -> _Reading | None:
        """The reading of ``form``'s string found at [start, end) whose tokens are tokens of the
        text, if any."""
        # a token starts or ends only where a side is not a letter or digit
        before = folded[start - 1] if start else " "
        if form.first_alnum and before.isalnum():
            return None
        if form.whole is not None and before.isspace():
            return self._reading_after_blank(folded, start, end, form, index, long_stretch)
        if form.last_alnum and end < len(folded) and folded[end].isalnum():
            return None
        return self._reading_here(folded, start, end, form, index, long_stretch)

    def _reading_after_blank(
        self,
        folded: str,
        start: int,
        end: int,
        form: _Form,
        index: int,
        long_stretch: list[_Stretch],
    ) -> _Reading | None:
        """The same, for a string that has a reading as whole chunks, found after a blank (or at
        the text's start)."""
        if end == len(folded):
            return form.whole
        after = folded[end]
        if form.last_alnum and after.isalnum():
            return None
        if after.isspace():
            return form.whole  # the string is whole chunks of the text: its own reading
        if end + 1 == len(folded) or folded[end + 1].isspace():
            # "valparaiso," (a quarter of the strings found): the chunk is the string and a sign
            reading = form.before_sign.get(after, _UNREAD)
            if reading is _UNREAD:
                reading = self._read_before_sign(form, after)
            return reading
        return self._reading_here(folded, start, end, form, index, long_stretch)

    def _read_before_sign(self, form: _Form, sign: str) -> _Reading | None:
        """The reading of ``form``'s string in the chunk it makes with the one character after it,
        ``sign`` (most often ",", "." or ":"), kept."""
        if len(form.before_sign) >= _SIGNS_KEPT:
            form.before_sign.clear()
        reading = _made_of(set(self._spans(form.string + sign)), 0, form.readings)
        form.before_sign[sign] = reading
        return reading

    def _reading_here(
        self,
        folded: str,
        start: int,
        end: int,
        form: _Form,
        index: int,
        long_stretch: list[_Stretch],
    ) -> _Reading | None:
        """The reading of the string found at [start, end) whose tokens are tokens of the text,
        if any, read on the chunks around it: kept for the same chunks, or, when they are long
        (text with few blanks), for the other strings found in them in this text."""
        if long_stretch and long_stretch[0].first <= start and end <= long_stretch[0].last:
            return _made_of(long_stretch[0].spans, start, form.readings)
        first = _region_start(folded, start)
        # to the end of the chunk (or whitespace run) the string ends in
        boundary = (_NON_BLANK if folded[end - 1].isspace() else _BLANK).search(folded, end)
        last = boundary.start() if boundary else len(folded)
        if last - first > _LONGEST_REGION_KEPT:
            tokens = self._spans(folded[first:last])
            spans = {(first + begin, first + stop) for begin, stop in tokens}
            long_stretch[:] = [_Stretch(first, last, spans)]
            return _made_of(spans, start, form.readings)
        region = folded[first:last]
        key = (index, start - first, region)
        reading = self._reading_in_region.get(key, _UNREAD)
        if reading is _UNREAD:
            if len(self._reading_in_region) >= _REGIONS_KEPT:
                self._reading_in_region.clear()
            reading = _made_of(set(self._spans(region)), start - first, form.readings)
            self._reading_in_region[key] = reading
        return reading

    def _spans(self, text: str) -> _Spans:
        """The spans of the tokens of ``text`` alone."""
        return tuple((token.idx, token.idx + len(token.text)) for token in self.tokenizer(text))


def _insert(
    matches: list[_BoxedMatch], keys: tuple[str, ...], start: object, end: object, tokens: int
) -> None:
    """Put the matches of ``keys`` at [start, end) in ``matches`` (ordered by start, then end)
    where they keep them so: after those with the same span."""
    at = len(matches)
    while at:
        _, other_start, other_end, _ = matches[at - 1]
        if cast(int, other_start) < cast(int, start) or (
            cast(int, other_start) == cast(int, start) and cast(int, other_end) <= cast(int, end)
        ):
            break
        at -= 1
    for key in keys:
        matches.insert(at, (key, start, end, tokens))
        at += 1


def _made_of(
    spans: set[tuple[int, int]], offset: int, readings: tuple[_Reading, ...]
) -> _Reading | None:
    """The reading whose tokens, moved by ``offset``, are all tokens (``spans``) of the text: as
    they tile the string found but for single spaces (never a token between two tokens), they are
    then all its tokens."""
    for reading in readings:
        if all((begin + offset, stop + offset) in spans for begin, stop in reading.spans):
            return reading
    return None


def _region_start(folded: str, position: int) -> int:
    """Where tokenizing may start to give the text's own tokens from ``position`` on: the start of
    the chunk holding it, or of the one before a whitespace run (whose tokens depend on it)."""
    if folded[position].isspace():
        while position and folded[position - 1].isspace():
            position -= 1
    if not position or folded[position - 1].isspace():  # most often
        return position
    # the last blank before, found in C: a text with no blank for long is then no slower
    blank = max(folded.rfind(" ", 0, position), folded.rfind("\n", 0, position))
    for other in _BLANK.finditer(folded, blank + 1, position):
        blank = other.start()
    return blank + 1


def _forms(tokens: tuple[str, ...]) -> list[tuple[str, _Spans]]:
    """Every string the tokens can stand as in a text, with the tokens' spans in it: " " between
    two tokens, or also "" where a side is not alphanumeric ("santiago-chillan")."""
    optional = sum(1 for left, right in pairwise(tokens) if not (left[-1] + right[0]).isalnum())
    if optional > MOST_OPTIONAL_BLANKS:
        raise ValueError(
            f"keyword {' '.join(tokens)!r}: {optional} places where a blank is optional, "
            f"at most {MOST_OPTIONAL_BLANKS} (too many forms to search)"
        )
    forms: list[tuple[str, _Spans]] = [(tokens[0], ((0, len(tokens[0])),))]
    for left, token in pairwise(tokens):
        blanks = (" ", "") if not (left[-1] + token[0]).isalnum() else (" ",)
        grown = []
        for string, spans in forms:
            for blank in blanks:
                start = len(string) + len(blank)
                grown.append((string + blank + token, spans + ((start, start + len(token)),)))
        forms = grown
    return forms
