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
# holds it to that), read by hand around the enders str.find and str.rfind give: a pattern
# opened by a character class scans the text a character at a time, several times slower.
_SIGN_ENDERS: Final = ".!?;:"
_SENTENCE_ENDERS: Final = _SIGN_ENDERS + "\n"
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


def _next_ender(text: str, enders: str, begin: int) -> int:
    """Where the first of ``enders`` at or after ``begin`` is, -1 if none is."""
    first = len(text)
    for ender in enders:
        at = text.find(ender, begin, first)  # only up to the first found so far
        if at >= 0:
            first = at
    return first if first < len(text) else -1


def _previous_ender(text: str, enders: str, end: int) -> int:
    """Where the last of ``enders`` before ``end`` is, -1 if none is."""
    if end and text[end - 1] in enders:
        return end - 1  # "\n\n", "...": no search
    last = -1
    for ender in enders:
        at = text.rfind(ender, last + 1, end)  # only back to the last found so far
        if at > last:
            last = at
    return last


def _start_after(text: str, at: int) -> int:
    """Where the sentence after the ender at ``at`` starts; -1 when it ends none: a sign with no
    blank after it ("3.5", "a:b"), or a newline inside the blanks that ended a sentence (right
    after another newline, or after a sign, its closers and blanks)."""
    size = len(text)
    after = at + 1
    if text[at] == "\n":
        if at and text[at - 1] == "\n":
            return -1
        back = at
        while back and text[back - 1].isspace():
            back -= 1
        while back and text[back - 1] in _CLOSERS:
            back -= 1
        if back and text[back - 1] in _SIGN_ENDERS:
            return -1
        while after < size and text[after] == "\n":
            after += 1
        return after
    while after < size and text[after] in _CLOSERS:
        after += 1
    blanks = after
    while after < size and text[after].isspace():
        after += 1
    return after if after > blanks else -1


@final
class Sentences:
    """The sentences of one text, for ``around``: each found when an offset inside it is first
    asked for, from the enders around that offset (a text's topics ask for two or three of its
    ten sentences, a text whose topics need none pays nothing), and kept for the next
    questions. Compiled code calls ``around`` directly (a callable such as ``partial(...)`` is
    a generic call, its offset and answer boxed)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._found: list[tuple[int, int]] = []  # the sentences asked for
        self._bounds: list[int] = []  # where the sentence after each starts
        # the enders the text holds, looked for once ("!", "?", ";" are rare: each search for
        # one the text lacks would cost a call)
        self._enders: str | None = None

    def around(self, offset: int) -> tuple[int, int]:
        """The (start, end) of the sentence around ``offset`` (the last one from the text's
        end on), its end without trailing blanks."""
        text = self.text
        offset = min(offset, len(text))
        bounds = self._bounds
        for index, sentence in enumerate(self._found):
            if sentence[0] <= offset < bounds[index]:
                return sentence
        enders = self._enders
        if enders is None:
            enders = self._enders = "".join(e for e in _SENTENCE_ENDERS if e in text)
        # back from the offset to the ender of the sentence before: its start (an ender whose
        # blanks hold the offset gives the next sentence's start)
        begin = 0
        bound = -1
        at = offset
        while at > 0:
            at = _previous_ender(text, enders, at)
            if at < 0:
                break
            start = _start_after(text, at)
            if start > offset:
                bound = start
            elif start >= 0:
                begin = start
                break
        at = offset
        while bound < 0:
            at = _next_ender(text, enders, at)
            if at < 0:
                bound = len(text) + 1  # the last sentence
            else:
                bound = _start_after(text, at)
                at += 1
        end = min(bound, len(text))
        if end > begin:
            # what len(text[:end].rstrip()) gives, without copying the text up to here
            while end and text[end - 1].isspace():
                end -= 1
        sentence = (begin, end)
        self._found.append(sentence)
        self._bounds.append(bound)
        return sentence
