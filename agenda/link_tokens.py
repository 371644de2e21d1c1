"""The linker's view of text: a lean spaCy tokenizer for folded text (its phrases match on its
tokens, agenda/link_match.py), and sentence bounds (cheap rules: punctuation and a space, newlines).
"""

from __future__ import annotations

import re
from typing import Final, final

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer

_PREFIX: Final = re.compile(r"""^[\[\("'«“‘¿¡<{*#@$%&+-]""")
_SUFFIX: Final = re.compile(r"""[\]\)"'»”’.,;:!?%>}*-]$""")
_INFIX: Final = re.compile(r"(?<=[a-z0-9])[-/](?=[a-z])|(?<=[a-z])[.,;:!?](?=[a-z])|[\u2026]")
# A sentence ends after [.!?;:] (closing quotes or brackets, then blanks) or at newlines: what
# the pattern [.!?;:\n](?:(?<=\n)\n*|(?<=[.!?;:])["»”)]*\s+) finds (tests/test_link_tokens.py
# holds it to that), read by hand from the candidates str.find gives: a pattern opened by a
# character class scans the text a character at a time, several times slower than str.find.
_SENTENCE_ENDERS: Final = ".!?;:\n"
_CLOSERS: Final = '"»”)'


def folded_nlp() -> Language:
    """``spacy.blank("es")`` with a tokenizer for folded text (no model download)."""
    nlp = spacy.blank("es")
    # Text and patterns are folded first, so a lean tokenizer for lowercase ASCII-like text
    # does: punctuation off both ends, and "santiago-chillan" / "buin-paine" split in two.
    # It is several times faster than the general Spanish rules, same tokens for our needs.
    nlp.tokenizer = Tokenizer(
        nlp.vocab,
        prefix_search=_PREFIX.search,
        suffix_search=_SUFFIX.search,
        infix_finditer=_INFIX.finditer,
    )
    return nlp


def sentence_bounds(text: str) -> list[int]:
    """Start offsets of the sentences of ``text`` (cheap rules: punctuation + space, newlines)."""
    candidates: list[int] = []
    for ender in _SENTENCE_ENDERS:
        at = text.find(ender)
        while at >= 0:
            candidates.append(at)
            at = text.find(ender, at + 1)
    candidates.sort()
    starts = [0]
    size = len(text)
    for at in candidates:
        if at < starts[-1]:
            continue  # within the blanks that ended the last sentence: "\n\n", ". \n"
        after = at + 1
        if text[at] == "\n":
            while after < size and text[after] == "\n":
                after += 1
        else:
            while after < size and text[after] in _CLOSERS:
                after += 1
            blanks = after
            while after < size and text[after].isspace():
                after += 1
            if after == blanks:
                continue  # no blank after: "3.5", "www.x.cl", "a:b"
        starts.append(after)
    return starts


def count_at_most(values: list[int], value: int) -> int:
    """How many of the sorted ``values`` are <= ``value`` (``bisect.bisect_right``), written out:
    compiled, a loop over ints costs less than a call into the bisect module."""
    low, high = 0, len(values)
    if high and values[high - 1] <= value:
        return high  # all of them (the overlap check's usual case: after the last kept match)
    while low < high:
        middle = (low + high) // 2
        if value < values[middle]:
            high = middle
        else:
            low = middle + 1
    return low


def sentence_at(text: str, starts: list[int], offset: int) -> tuple[int, int]:
    """The (start, end) of the sentence of ``text`` around ``offset``; ``starts`` from
    ``sentence_bounds``, end without trailing blanks."""
    index = count_at_most(starts, offset) - 1
    begin = starts[index]
    end = starts[index + 1] if index + 1 < len(starts) else len(text)
    if end <= begin:
        return begin, end
    # what len(text[:end].rstrip()) gives, without copying the text up to here on every call
    while end and text[end - 1].isspace():
        end -= 1
    return begin, end


@final
class Sentences:
    """The sentences of one text, for ``sentence_at``: its bounds are found on the first
    question (a text whose topics need no sentence never pays for ``sentence_bounds``), and
    compiled code calls ``around`` directly (a callable such as ``partial(sentence_at, ...)``
    is a generic call, its offset and answer boxed)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None

    def around(self, offset: int) -> tuple[int, int]:
        """``sentence_at(text, sentence_bounds(text), offset)``."""
        starts = self._starts
        if starts is None:
            starts = self._starts = sentence_bounds(self.text)
        return sentence_at(self.text, starts, offset)
