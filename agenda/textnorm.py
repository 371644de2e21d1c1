"""Folding Spanish text for matching while keeping offsets.

``fold`` lowercases and strips accents character by character, so the folded string has exactly
the same length as the original and a span found in one is the same span in the other. We match
on the folded text and always store and show the original.

>>> fold("BIOBÍO y Ñuble")
'biobio y nuble'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for codepoint in range(0x20, 0x2000):
        char = chr(codepoint)
        lowered = char.lower()
        if len(lowered) != 1:
            continue  # a 1:1 mapping is what keeps offsets stable
        base = "".join(
            c for c in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(c)
        )
        if len(base) != 1:
            base = lowered
        if base != char:
            table[codepoint] = base
    # Typographic apostrophes and dashes fold to their ASCII forms ("O’Higgins", "Buin–Paine").
    for quote in "\u2019\u2018\u00b4\u02bc":
        table[ord(quote)] = "'"
    for dash in "\u2010\u2011\u2012\u2013\u2014":
        table[ord(dash)] = "-"
    table[0xA0] = " "
    return table


FOLD_TABLE: Final = _build_fold_table()
# After str.lower() only non-ASCII characters still need folding: a regex over those few is
# several times faster than str.translate over every character (the linker's hot path).
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]")
_NON_ASCII_FOLD: Final = {chr(k): v for k, v in FOLD_TABLE.items() if k > 127}
# Text all in Latin-1 is lowercased and folded in one pass, by a table of bytes (each Latin-1
# character lowercases and folds to a Latin-1 character).
_LATIN1_FOLD: Final = bytes(ord(FOLD_TABLE.get(byte, chr(byte))) for byte in range(256))
# Characters that fold to another folded character (Greek oxia to the acute accent, which folds
# to an apostrophe): replaced one at a time, the order would matter; with them, one pass.
_FOLDS_AGAIN: Final = frozenset(
    k for k, v in _NON_ASCII_FOLD.items() if any(c in _NON_ASCII_FOLD for c in v)
)


def _fold_char(match: re.Match[str]) -> str:
    char = match.group()
    return _NON_ASCII_FOLD.get(char, char)


def fold(text: str) -> str:
    """Lowercase and strip accents, one character for one character."""
    if text.isascii():  # most single words: nothing but lowercase to do
        return text.lower()
    try:  # Latin-1 text (Spanish without typographic quotes or dashes): a byte table, in C
        return text.encode("latin-1").translate(_LATIN1_FOLD).decode("latin-1")
    except UnicodeEncodeError:
        pass
    lowered = text.lower()
    if lowered.isascii():  # the Kelvin sign lowercases to "k"
        return lowered
    if len(lowered) != len(text):  # a rare character whose lowercase is longer ("İ")
        return text.translate(FOLD_TABLE)
    # each distinct accented letter replaced at once: a text has a handful of them ("á", "ñ"),
    # but dozens of occurrences (a Python call each through a substitution callback)
    present = set(_NON_ASCII.findall(lowered))
    if not _FOLDS_AGAIN.isdisjoint(present):
        return _NON_ASCII.sub(_fold_char, lowered)
    for char in present:
        base = _NON_ASCII_FOLD.get(char)
        if base is not None:
            lowered = lowered.replace(char, base)
    return lowered


def nfc(text: str) -> str:
    """Compose accents (feeds sometimes send 'i' + combining acute): one code point per letter."""
    return unicodedata.normalize("NFC", text)


# C0 controls except tab and newline, DEL, and C1 controls: never text, and ESC sequences in a
# title would drive the analyst's terminal when `agenda search` prints it.
_CONTROLS: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """Text without control characters (tab and newline kept).

    >>> strip_controls("Hola\\x1b]0;pwned\\x07 mundo\\x00\\x9b2J")
    'Hola]0;pwned mundo2J'
    """
    return _CONTROLS.sub("", text)
