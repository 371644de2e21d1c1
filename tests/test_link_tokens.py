"""Sentence bounds (agenda/link_tokens.py) are read by hand for speed: they must be what the rule
written as a pattern finds, and ``sentence_at`` what bisecting and stripping give."""

from __future__ import annotations

import bisect
import random
import re

from agenda.link_tokens import sentence_at, sentence_bounds

# The rule, as the pattern it was first written as (link_tokens.py's comment quotes it).
_SENTENCE_END = re.compile(r"[.!?;:\n](?:(?<=\n)\n*|(?<=[.!?;:])[\"»”)]*\s+)")
# Enders, closers, blanks of several kinds, letters: the runs the rule has to tell apart.
_PIECES = list(".!?;:\n\"»”)' \t\u00a0\u2028\u3000xÁ«(") + ["\r\n", "...", "3.5", "www.x.cl"]


def test_sentence_bounds_are_what_the_pattern_finds() -> None:
    rng = random.Random(21)
    texts = ["", "Hola.", "Uno. Dos!\n\nTres: «cuatro.» Cinco?)  seis;\nsiete...\n"]
    texts += ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 16))) for _ in range(20000)]
    for text in texts:
        expected = [0] + [m.end() for m in _SENTENCE_END.finditer(text)]
        assert sentence_bounds(text) == expected, repr(text)


def test_sentence_at_is_the_bisected_sentence_without_trailing_blanks() -> None:
    rng = random.Random(22)
    for _ in range(3000):
        text = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 16)))
        starts = sentence_bounds(text)
        for offset in range(len(text) + 1):
            index = bisect.bisect_right(starts, offset) - 1
            end = starts[index + 1] if index + 1 < len(starts) else len(text)
            if end > starts[index]:
                end = len(text[:end].rstrip())
            assert sentence_at(text, starts, offset) == (starts[index], end), (text, offset)
