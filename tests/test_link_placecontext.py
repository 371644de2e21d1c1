"""The place rules read in place (agenda/placecontext.py) answer what the rules answered when they
split the text before each name: each is held to that first reading, kept here, on many random
runs of awkward words and blanks."""

from __future__ import annotations

import random
import re

import pytest

from agenda.link import Linker
from agenda.placecontext import (
    _ARTICLES,
    _CAPITALISED_WORD,
    _CAPITALS,
    _NAME_SMALL_WORDS,
    _NEXT_PROPER_NAME,
    _NEXT_WORD,
    _ROAD_ARTICLES,
    _SMALL_WORDS,
    ROAD,
    PlaceContext,
    _Before,
    _before,
    _blank,
    _last_word,
    _upper,
    _word_before,
    before_phrases,
)
from agenda.textnorm import fold


def body_first_words(linker: Linker) -> frozenset[str]:
    """The first words of the bodies' names: what the old quick test looked for."""
    return frozenset(p.split()[0] for p in linker._zone_bodies)


WORDS = ["de", "De", "DE", "del", "la", "La", "los", "El", "el", "y", "e", "en", "a", "D", "x",
         "Seremi", "seremi", "Salud", "salud", "servicio", "Servicio", "Gobierno", "regional",
         "Regional", "región", "Región", "GORE", "Prefectura", "inspección", "comunal", "trabajo",
         "Consejo", "consejo", "Mercurio", "Diario", "Unido", "Deportes", "Camino", "camino",
         "cerros", "Alegre", "Alegre,", "Cordillera,", "comuna", "según", "Juan", "Ñuble", "Ángel",
         "O'Higgins", "(", ")", ",", "Valparaíso,", "«La", "İstanbul", "straße", "Á", "1", "_",
         "a-b", "Talca.", "Chile", "de la", "Sierra"]  # fmt: skip
BLANKS = [" ", " ", " ", "  ", "\n", "\t", "\u00a0", "\u2028", "\x0b", " \n ", "\r\n", "\u3000"]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) + rng.choice(BLANKS) for _ in range(rng.randint(0, 16)))


def test_blank_and_upper_are_isspace_and_isupper() -> None:
    for code in range(0x110000):
        char = chr(code)
        assert _blank(char, 0) == char.isspace(), hex(code)
        assert _upper(char, 0) == char.isupper(), hex(code)
        if char.isspace():
            assert not char.isalnum(), hex(code)  # what _last_word's proof by isalnum needs
        if char.isspace():
            assert not char.isalnum(), hex(code)  # what _last_word's proof by isalnum needs


def test_the_last_word_is_the_last_split_one() -> None:
    rng = random.Random(3)
    for _ in range(5000):
        text = random_text(rng) + rng.choice(WORDS) + rng.choice(["", *BLANKS])
        end = rng.randint(0, len(text))
        floor = rng.randint(0, end)
        words = text[floor:end].rsplit(None, 1)
        start, word = _last_word(text, end, floor)
        assert word == (words[-1] if words else ""), (text, floor, end)
        if word:
            assert text[start : start + len(word)] == word, (text, floor, end)


def old_before(
    text: str, folded: str, start: int, flags_of: dict[str, int]
) -> tuple[int, list[str], str, int, bool]:
    """``_before`` as it split its window: flags, words, word, word_end, after_de."""
    window = start - 48 if start > 48 else 0
    words = folded[window:start].rsplit(None, 4)
    count = len(words)
    flags = 0
    if count:
        phrase = words[count - 1]
        found = flags_of.get(phrase)
        if found is not None:
            flags = found
            for index in range(count - 2, 0 if count == 5 else -1, -1):
                phrase = f"{words[index]} {phrase}"
                found = flags_of.get(phrase)
                if found is None:
                    break
                flags |= found
    if start == 0 or not text[start - 1].isspace() or not count:
        return flags, words, "", 0, False
    after_de = count >= 2 and words[count - 1] in ("de", "del")
    last = words[count - 2] if after_de else words[count - 1]
    at = folded.rfind(words[count - 1], window, start)
    if after_de:
        at = folded.rfind(last, window, at)
    if text[at] not in _CAPITALS:
        return flags, words, "", 0, after_de
    word = text[at : at + len(last)]
    if not (word.isalnum() or _CAPITALISED_WORD.fullmatch(word)):
        return flags, words, "", 0, after_de
    return flags, words, word, text.rfind(word, window, start) + len(word), after_de


def mention_starts(rng: random.Random, text: str) -> set[int]:
    return {len(text) - 5, rng.randint(0, len(text)), len(text), max(len(text) - 60, 0)}


def test_before_reads_what_splitting_read(linker: Linker) -> None:
    rng = random.Random(21)
    flags_of = linker._phrase_flags
    words = WORDS + sorted(flags_of)[::7]  # listed phrases and their endings, some of them
    for _ in range(4000):
        text = "".join(rng.choice(words) + rng.choice(BLANKS) for _ in range(rng.randint(0, 16)))
        text += "Talca"
        folded = fold(text)
        for start in mention_starts(rng, text):
            before = _before(text, folded, start, flags_of)
            expected = old_before(text, folded, start, flags_of)
            got = (before.flags, before.words, before.word, before.word_end, before.after_de)
            assert got == expected, (text, start)
            assert before.last == (expected[1][-1] if expected[1] else ""), (text, start)


def old_own_name_word(original: str, folded: str) -> bool:
    return (original[:1].isupper() or folded in _NAME_SMALL_WORDS) and original[
        -1:
    ] not in ",.;:!?)»\"'"


def old_body_before(
    linker: Linker, text: str, folded: str, start: int, bodies: frozenset[str] | None
) -> bool:
    reach = start - 90 if start > 90 else 0
    window = text.rfind("\n", reach, start) + 1 or reach
    folds = folded[window:start].rsplit(None, 8)
    if body_first_words(linker).isdisjoint(folds):
        return False
    folds = folds[-8:]
    bodies = linker._zone_bodies if bodies is None else bodies
    originals = text[window:start].rsplit(None, len(folds))[-len(folds) :]
    size = len(folds)
    own_name_from = size
    while own_name_from > 0 and old_own_name_word(
        originals[own_name_from - 1], folds[own_name_from - 1]
    ):
        own_name_from -= 1
    for first in range(size - 1, -1, -1):
        for length in range(1, min(4, size - first) + 1):
            if (
                first + length >= own_name_from
                and " ".join(folds[first : first + length]) in bodies
            ):
                return True
    return False


def old_road_or_title(
    linker: Linker, text: str, folded: str, start: int, end: int, before: _Before, kind: str
) -> bool:
    title_words = linker.keywords.rules.title_words
    if before.flags & ROAD:
        listed = [p for p in before_phrases(before.words) if p in linker._road_before]
        phrase = max(listed, key=len)
        if text[start - len(phrase) - 1 : start - len(phrase)].isupper():
            return True
        article = before.words[-len(phrase.split()) - 1 : -len(phrase.split())]
        if article and article[0] in _ROAD_ARTICLES:
            return True
    words = before.words
    if (
        words
        and (words[-1] in ("y", "e") or words[-1].endswith(","))
        and linker._listed_after_feature(words)
    ):
        return True
    if text[end : end + 1] == " " and text[end + 1 : end + 2].isupper():
        following = _NEXT_WORD.match(folded, end + 1)
        if following and following.group() in title_words:
            return True
    if not before.word and (
        before.after_de or not before.words or before.words[-1] not in _NAME_SMALL_WORDS
    ):
        return False
    reach = start - 60 if start > 60 else 0
    window = text.rfind("\n", reach, start) + 1 or reach
    originals = text[window:start].rsplit(None, 6)[-6:]
    folds = folded[window:start].rsplit(None, 6)[-6:]
    if title_words.isdisjoint(folds) and _ARTICLES.isdisjoint(originals):
        return False
    size = len(originals)
    first = size
    while first > 0 and old_own_name_word(originals[first - 1], folds[first - 1]):
        first -= 1
    while first < size and not originals[first][:1].isupper():
        first += 1
    if first == size:
        return False
    chain = originals[first:]
    if not title_words.isdisjoint(folds[first:]):
        return True
    if chain == [chain[0]] and chain[0] in _ARTICLES and kind == "commune":
        return True
    if chain[0] in _ARTICLES:
        opening = text[: text.rfind(chain[0], window, start)].rstrip(" \t")
        return bool(opening) and opening[-1] not in '.!?:«"\n'
    return False


@pytest.mark.parametrize("seed", [1, 2])
def test_bodies_and_titles_are_read_as_splitting_read(linker: Linker, seed: int) -> None:
    """Runs of bodies' and titles' words, capitalised or not, with blanks of every kind and a
    line's start anywhere: the same answer as splitting the text's own window."""
    rng = random.Random(seed)
    for _ in range(4000):
        text = random_text(rng)
        start = len(text)
        text += rng.choice(["Talca", "Coquimbo Unido", "Valparaíso de", "Osorno"])
        end = start + 5
        folded = fold(text)
        for at in mention_starts(rng, text):
            if at and not text[at - 1].isspace():
                continue  # a name starts a word
            at_before = _before(text, folded, at, linker._phrase_flags)
            for bodies in (None, linker._region_bodies):
                assert linker._body_before(text, folded, at, at_before, bodies) == old_body_before(
                    linker, text, folded, at, bodies
                ), (text, at, bodies is None)
        before = _before(text, folded, start, linker._phrase_flags)
        for kind in ("commune", "region"):
            assert linker._road_or_title(
                text, folded, start, end, before, kind
            ) == old_road_or_title(linker, text, folded, start, end, before, kind), (text, kind)


def test_capitalised_and_longer_names_are_read_as_before() -> None:
    rng = random.Random(5)
    for _ in range(5000):
        text = random_text(rng) + rng.choice(WORDS) + rng.choice(["", "", *BLANKS])
        if not text.strip():
            continue
        start = rng.randint(0, len(text) - 1)
        end = rng.randint(start + 1, len(text))
        for kind in ("area", "commune"):
            surface = text[start:end]
            if kind == "area":
                expected = surface.isupper() or any(c.isupper() for c in surface)
            elif not surface[:1].isupper():
                expected = surface.isupper()
            else:
                words = surface.split()
                expected = (
                    len(words) == 1
                    or surface.isupper()
                    or all(w[:1].isupper() or fold(w) in _SMALL_WORDS for w in words[1:])
                )
            assert PlaceContext._capitalised(text, start, end, kind) == expected, (text, kind)
        continues = False
        if text[end : end + 1].isspace():
            match = _NEXT_PROPER_NAME.match(text, end)
            if match and match.group(1):
                continues = fold(match.group(2)) != "chile"
        assert PlaceContext._continues_as_other_name(text, end) == continues, (text, end)


def test_the_word_list_covers_the_rules(linker: Linker) -> None:
    """The random runs above hold words of each list the rules read (else they prove little)."""
    folded = {fold(w) for w in WORDS}
    assert folded & body_first_words(linker) and folded & linker.keywords.rules.title_words
    assert {w for w in WORDS if w in _ARTICLES} and re.search("de", " ".join(WORDS))


def test_words_taken_from_before_are_those_read_anew(linker: Linker) -> None:
    """A word ``_before`` read, taken again by a rule reading back from the name on its own line
    or window, is the word that rule would read."""
    rng = random.Random(8)
    for _ in range(4000):
        text = random_text(rng) + "Talca"
        folded = fold(text)
        for start in mention_starts(rng, text):
            before = _before(text, folded, start, linker._phrase_flags)
            for at in {start, before.last_start, max(before.second_start, 0)}:
                for window in {0, rng.randint(0, at), max(at - 48, 0), max(at - 60, 0), at}:
                    assert _word_before(folded, at, window, before) == _last_word(
                        folded, at, window
                    ), (text, start, at, window)
