"""Sentence bounds (agenda/link_tokens.py) are read by hand for speed, around each offset asked
for: they must be what the rule written as a pattern finds, bisected and stripped."""

from __future__ import annotations

import bisect
import random
import re

from agenda.link_tokens import Sentences

# The rule, as the pattern it was first written as (link_tokens.py's comment quotes it).
_SENTENCE_END = re.compile(r"[.!?;:\n](?:(?<=\n)\n*|(?<=[.!?;:])[\"»”)]*\s+)")
# Enders, closers, blanks of several kinds, letters: the runs the rule has to tell apart.
_PIECES = list(".!?;:\n\"»”)' \t\u00a0\u2028\u3000xÁ«(") + ["\r\n", "...", "3.5", "www.x.cl"]


def _sentence(text: str, offset: int) -> tuple[int, int]:
    """The sentence around ``offset``: the pattern's starts bisected, its end stripped."""
    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)]
    index = bisect.bisect_right(starts, offset) - 1
    end = starts[index + 1] if index + 1 < len(starts) else len(text)
    if end > starts[index]:
        end = len(text[:end].rstrip())
    return starts[index], end


def test_sentences_around_each_offset_are_what_the_pattern_finds() -> None:
    """Every offset of the text and past its end, asked in order, in random order (the
    sentences found are kept for the next questions) and each of a text first."""
    rng = random.Random(21)
    texts = ["", "Hola.", "Uno. Dos!\n\nTres: «cuatro.» Cinco?)  seis;\nsiete...\n", "a\n \nb"]
    texts += ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 16))) for _ in range(6000)]
    for text in texts:
        offsets = list(range(len(text) + 3))
        expected = {offset: _sentence(text, offset) for offset in offsets}
        sentences = Sentences(text)
        assert [sentences.around(o) for o in offsets] == [expected[o] for o in offsets], text
        rng.shuffle(offsets)
        sentences = Sentences(text)
        assert [sentences.around(o) for o in offsets] == [expected[o] for o in offsets], text
        for offset in offsets:
            assert Sentences(text).around(offset) == expected[offset], (text, offset)
