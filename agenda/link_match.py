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
from operator import itemgetter
from typing import NamedTuple

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
MOST_OPTIONAL_BLANKS = 10
# Text around found strings, tokenized and kept: as many pieces as spaCy's own cache keeps, none
# so long that the cache could grow large.
_REGIONS_KEPT = 10_000
_LONGEST_REGION_KEPT = 200
_BLANK = re.compile(r"\s")
_NON_BLANK = re.compile(r"\S")
_SPAN = itemgetter(1, 2)  # a match's (start, end): the PhraseMatcher's order


class _Reading(NamedTuple):
    """One token sequence a searched string can be: its tokens' spans in the string, its keys."""

    spans: _Spans
    keys: tuple[str, ...]


class _Form(NamedTuple):
    """A searched string's readings, and the one that holds where the string is whole chunks of
    the text (None when it has none or other blanks than single spaces)."""

    readings: tuple[_Reading, ...]
    whole: _Reading | None


_UNREAD = _Reading((), ())  # not in the cache of readings


class FoldedPhraseMatcher:
    """Built once from (key, folded phrases) pairs; called with a folded text, it returns what
    ``PhraseMatcher(vocab, attr="ORTH")`` holding the same phrases returns on that text's Doc,
    as character offsets plus the number of tokens."""

    def __init__(self, tokenizer: Tokenizer, phrases: Iterable[tuple[str, Iterable[str]]]) -> None:
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
            for string, spans in _forms(tokens):
                readings.setdefault(string, []).append(_Reading(spans, ordered))
        self._forms: list[_Form] = []
        for string, found in readings.items():
            whole = None
            if " ".join(string.split()) == string:  # no blank but single spaces between chunks
                own = _doc_spans(tokenizer(string))
                whole = next((reading for reading in found if reading.spans == own), None)
            self._forms.append(_Form(tuple(found), whole))
        # every occurrence, overlapping ones too; the DFA searches fastest
        self._automaton = ahocorasick_rs.AhoCorasick(
            list(readings), implementation=ahocorasick_rs.Implementation.DFA
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
        found = self._automaton.find_matches_as_indexes(folded, overlapping=True)
        for index, start, end in found:
            # a token starts or ends only where a side is not a letter or digit
            before = folded[start - 1] if start else " "
            if before.isalnum() and folded[start].isalnum():
                continue
            after = folded[end] if end < size else " "
            if after.isalnum() and folded[end - 1].isalnum():
                continue
            reading = forms[index].whole
            if reading is None or not (before.isspace() and after.isspace()):
                reading = self._reading_here(folded, start, end, index)
                if reading is None:
                    continue
            tokens = len(reading.spans)
            for key in reading.keys:
                matches.append((key, start, end, tokens))
        matches.sort(key=_SPAN)  # stable: the keys of one span stay in their order
        return matches

    def _reading_here(self, folded: str, start: int, end: int, index: int) -> _Reading | None:
        """The reading of the string found at [start, end) whose tokens are tokens of the text,
        if any; worked out on the chunks around it, and kept for the same chunks."""
        first = _region_start(folded, start)
        # to the end of the chunk (or whitespace run) the string ends in
        boundary = (_NON_BLANK if folded[end - 1].isspace() else _BLANK).search(folded, end)
        region = folded[first : boundary.start() if boundary else len(folded)]
        key = (index, start - first, region)
        reading = self._reading_in_region.get(key, _UNREAD)
        if reading is _UNREAD:
            if len(self._reading_in_region) >= _REGIONS_KEPT:
                self._reading_in_region.clear()
            reading = self._tokens_reading(region, start - first, self._forms[index].readings)
            if len(region) <= _LONGEST_REGION_KEPT:
                self._reading_in_region[key] = reading
        return reading

    def _tokens_reading(
        self, region: str, offset: int, readings: tuple[_Reading, ...]
    ) -> _Reading | None:
        """The reading at ``offset`` in ``region`` made of the region's own tokens: tiling the
        string found but for single spaces (never a token between two tokens), they are then all
        its tokens."""
        spans = set(_doc_spans(self.tokenizer(region)))
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


def _doc_spans(doc: Doc) -> _Spans:
    return tuple((token.idx, token.idx + len(token.text)) for token in doc)


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
