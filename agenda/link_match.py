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
from collections.abc import Iterable
from itertools import pairwise
from typing import Final, NamedTuple

import ahocorasick_rs
from spacy.matcher import PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

# A match: key, start and end (character offsets), number of tokens.
Match = tuple[str, int, int, int]
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
_BLANK: Final = re.compile(r"\s")
_NON_BLANK: Final = re.compile(r"\S")


class UnsearchablePhrase(ValueError):
    """A phrase that would have to be searched in too many forms; ``key`` says whose it is."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


class _Reading(NamedTuple):
    """One token sequence a searched string can be: its tokens' spans in the string, its keys."""

    spans: _Spans
    keys: tuple[str, ...]


class _Form(NamedTuple):
    """A searched string's readings, and the one that holds where the string is whole chunks of
    the text (None when it has none or other blanks than single spaces)."""

    readings: tuple[_Reading, ...]
    whole: _Reading | None


_UNREAD: Final = _Reading((), ())  # not in the cache of readings


class _Stretch(NamedTuple):
    """A stretch of a text tokenized: from the start of a chunk to the end of one, its tokens."""

    first: int
    last: int
    spans: set[tuple[int, int]]


class FoldedPhraseMatcher:
    """Built once from (key, folded phrases) pairs; called with a folded text, it returns what
    ``PhraseMatcher(vocab, attr="ORTH")`` holding the same phrases returns on that text's Doc,
    as character offsets plus the number of tokens."""

    def __init__(self, tokenizer: Tokenizer, phrases: Iterable[tuple[str, Iterable[str]]]) -> None:
        self.tokenizer = tokenizer
        self.phrases = [(key, list(texts)) for key, texts in phrases]
        # (string found, its offset in the chunks around it, those chunks) -> its reading there
        self._reading_in_region: dict[tuple[int, int, str], _Reading | None] = {}
        # (string found, the one character after it that ends the chunk) -> its reading there
        self._reading_before_sign: dict[tuple[int, str], _Reading | None] = {}
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
            for string, spans in forms:
                readings.setdefault(string, []).append(_Reading(spans, ordered))
        self._strings = list(readings)  # the searched strings, by the automaton's index
        self._forms: list[_Form] = []
        for string, found in readings.items():
            whole = None
            if " ".join(string.split()) == string:  # no blank but single spaces between chunks
                own = self._spans(string)
                whole = next((reading for reading in found if reading.spans == own), None)
            self._forms.append(_Form(tuple(found), whole))
        # every occurrence, overlapping ones too; the DFA searches fastest
        self._automaton = ahocorasick_rs.AhoCorasick(
            self._strings, implementation=ahocorasick_rs.Implementation.DFA
        )

    def _hash_table_order(self, tokens: tuple[str, ...], keys: list[str]) -> tuple[str, ...]:
        """The order the PhraseMatcher gives keys added in this order for one phrase."""
        vocab = self.tokenizer.vocab
        doc = Doc(vocab, words=list(tokens))
        matcher = PhraseMatcher(vocab, attr="ORTH")
        for key in keys:
            matcher.add(key, [doc])
        return tuple(vocab.strings[match_id] for match_id, _, _ in matcher(doc))

    def __call__(self, folded: str) -> list[Match]:
        matches: list[Match] = []
        size = len(folded)
        forms = self._forms
        long_stretch: list[_Stretch] = []  # the last long stretch of this text tokenized, if any
        found = self._automaton.find_matches_as_indexes(folded, overlapping=True)
        last_start = last_end = -1  # the span of the last match in ``matches``
        for index, start, end in found:
            # a token starts or ends only where a side is not a letter or digit
            before = folded[start - 1] if start else " "
            if before.isalnum() and folded[start].isalnum():
                continue
            after = folded[end] if end < size else " "
            if after.isalnum() and folded[end - 1].isalnum():
                continue
            reading = forms[index].whole
            if reading is None or not before.isspace():
                reading = self._reading_here(folded, start, end, index, long_stretch)
            elif after.isspace():
                pass  # the string is whole chunks of the text: its own reading
            elif end + 1 == size or folded[end + 1].isspace():
                # "valparaiso," (a quarter of the strings found): the chunk is the string and a sign
                reading = self._reading_before_sign.get((index, after), _UNREAD)
                if reading is _UNREAD:
                    reading = self._read_before_sign(index, after)
            else:
                reading = self._reading_here(folded, start, end, index, long_stretch)
            if reading is None:
                continue
            tokens = len(reading.spans)
            # the PhraseMatcher's order, by start then end (the keys of one span in their
            # order): the search gives them by end, so most go last, and a few (a shorter
            # phrase inside a longer one) a little before
            if start > last_start or (start == last_start and end >= last_end):
                for key in reading.keys:
                    matches.append((key, start, end, tokens))
                last_start, last_end = start, end
            else:
                at = _insertion_point(matches, start, end)
                for key in reading.keys:
                    matches.insert(at, (key, start, end, tokens))
                    at += 1
        return matches

    def _read_before_sign(self, index: int, sign: str) -> _Reading | None:
        """The reading of searched string ``index`` in the chunk it makes with the one character
        after it, ``sign`` (most often ",", "." or ":"), kept."""
        if len(self._reading_before_sign) >= _REGIONS_KEPT:
            self._reading_before_sign.clear()
        string = self._strings[index]
        reading = _made_of(set(self._spans(string + sign)), 0, self._forms[index].readings)
        self._reading_before_sign[index, sign] = reading
        return reading

    def _reading_here(
        self, folded: str, start: int, end: int, index: int, long_stretch: list[_Stretch]
    ) -> _Reading | None:
        """The reading of the string found at [start, end) whose tokens are tokens of the text,
        if any, read on the chunks around it: kept for the same chunks, or, when they are long
        (text with few blanks), for the other strings found in them in this text."""
        if long_stretch and long_stretch[0].first <= start and end <= long_stretch[0].last:
            return _made_of(long_stretch[0].spans, start, self._forms[index].readings)
        first = _region_start(folded, start)
        # to the end of the chunk (or whitespace run) the string ends in
        boundary = (_NON_BLANK if folded[end - 1].isspace() else _BLANK).search(folded, end)
        last = boundary.start() if boundary else len(folded)
        if last - first > _LONGEST_REGION_KEPT:
            tokens = self._spans(folded[first:last])
            spans = {(first + begin, first + stop) for begin, stop in tokens}
            long_stretch[:] = [_Stretch(first, last, spans)]
            return _made_of(spans, start, self._forms[index].readings)
        region = folded[first:last]
        key = (index, start - first, region)
        reading = self._reading_in_region.get(key, _UNREAD)
        if reading is _UNREAD:
            if len(self._reading_in_region) >= _REGIONS_KEPT:
                self._reading_in_region.clear()
            readings = self._forms[index].readings
            reading = _made_of(set(self._spans(region)), start - first, readings)
            self._reading_in_region[key] = reading
        return reading

    def _spans(self, text: str) -> _Spans:
        """The spans of the tokens of ``text`` alone."""
        return tuple((token.idx, token.idx + len(token.text)) for token in self.tokenizer(text))


def _insertion_point(matches: list[Match], start: int, end: int) -> int:
    """Where a match at [start, end) goes in ``matches`` (ordered by start, then end) to keep
    them so: after those with the same span."""
    at = len(matches)
    while at:
        _, other_start, other_end, _ = matches[at - 1]
        if other_start < start or (other_start == start and other_end <= end):
            break
        at -= 1
    return at


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
