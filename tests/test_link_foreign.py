"""The look before the foreign marker pattern (agenda/link.py ``_foreign_clause_may_follow``)
must never say no where the pattern finds a marker: it only spares the pattern its runs."""

from __future__ import annotations

import random

from agenda.link import _FOREIGN_FILLERS, Linker, _foreign_clause_may_follow


def test_no_from_the_look_is_no_from_the_pattern(linker: Linker) -> None:
    rng = random.Random(31)
    markers = sorted(linker.rules.foreign_markers)
    fillers = sorted(_FOREIGN_FILLERS)
    # what may follow a name: openers, blanks of several kinds, fillers, markers and their
    # beginnings and endings, words in "en", word characters and punctuation
    pieces = [",", "(", "en", "entre", " ", "  ", "\n", "\t", "\u00a0", "x", "1", ".", ")", "-"]
    pieces += fillers + markers + [m[:3] for m in markers] + [m + "s" for m in markers]
    blanks = [" ", "  ", "\n", "\t", "\u00a0", ""]
    heads, size = linker._foreign_heads, linker._foreign_head_size
    found = 0
    for _ in range(60000):
        if rng.random() < 0.3:  # any run of the pieces
            text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 9)))
            end = rng.randint(0, 2)
        else:  # the pattern's own order, a piece now and then astray
            parts = [rng.choice(blanks), rng.choice([",", ",", "(", " en", "entre", "e", "x"])]
            for _ in range(rng.randint(0, 3)):
                parts += [rng.choice(blanks[:4]), rng.choice(fillers + pieces[:6])]
            parts += [rng.choice(blanks), rng.choice(markers + markers + pieces)]
            text = "x" + "".join(parts) + rng.choice(blanks + pieces)
            end = 1
        matched = linker._foreign_after(text, end) is not None
        found += matched
        assert _foreign_clause_may_follow(text, end, heads, size) or not matched, (text, end)
    assert found > 400  # the random texts do reach the markers


def test_most_clauses_need_no_pattern(linker: Linker) -> None:
    heads, size = linker._foreign_heads, linker._foreign_head_size
    for after in (
        ", dijo el ministro",
        " (foto de archivo)",
        " en la mañana",
        ", la ciudad",
        " entre",
    ):
        assert not _foreign_clause_may_follow("x" + after, 1, heads, size), after
    for after in (", California", " (Argentina)", " en el norte de Paraguay", ", EE.UU."):
        folded = ("x" + after).lower()
        assert _foreign_clause_may_follow(folded, 1, heads, size), after
        assert linker._foreign_after(folded, 1), after
