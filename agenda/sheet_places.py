"""Regions and communes as people write them in a spreadsheet, resolved to official codes. Pure.

A region may be its official name with or without "Región de/del", a Roman numeral (with or
without "Región"), RM / Metropolitana, the code, or a short form ("Araucanía", "Aysén",
"O'Higgins" with either apostrophe). Names come from the gazetteer (``Keywords.places``), so a
spelling added to keywords/aliases.yaml is understood here too.

>>> roman_number("XIV"), roman_number("iv"), roman_number("IIII")
(14, 4, None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agenda.keywords import Keywords
from agenda.sources import normalise_region
from agenda.textnorm import fold

# Words that carry no identity in a region's name ("Región de la Araucanía" = "Araucanía").
_REGION_FILLER = {"region", "de", "del", "la", "y", "e"}
# Commune lists: "Arica, Putre; Camarones / General Lagos y Ñuñoa e Isla de Maipo".
_LIST_SEPARATORS = re.compile(r"\s*[,;/]\s*")
_AND = re.compile(r"\s+(?:y|e)\s+", re.IGNORECASE)
_ROMAN = {"i": 1, "v": 5, "x": 10}
_COMMUNE_PREFIX = re.compile(r"^(?:comuna|municipalidad)\s+de\s+", re.IGNORECASE)


def roman_number(text: str) -> int | None:
    """The value of a Roman numeral from I to XVI written the usual way; None otherwise."""
    text = text.lower()
    if not text or any(c not in _ROMAN for c in text):
        return None
    total = 0
    for index, char in enumerate(text):
        value = _ROMAN[char]
        following = _ROMAN[text[index + 1]] if index + 1 < len(text) else 0
        total += -value if value < following else value
    return total if _to_roman(total) == text else None


def _to_roman(number: int) -> str:
    out = ""
    for value, letters in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while number >= value:
            out += letters
            number -= value
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", fold(text).replace("'", ""))


def region_key(text: str) -> str:
    """A region name with its filler words, accents and punctuation dropped.

    >>> region_key("Región del Libertador Gral. Bernardo O’Higgins")
    'libertadorgralbernardoohiggins'
    >>> region_key("Libertador Gral Bernardo OHiggins")
    'libertadorgralbernardoohiggins'
    """
    return "".join(w for w in _words(text) if w not in _REGION_FILLER)


def commune_key(text: str) -> str:
    """Case, accents, spaces and punctuation do not count; nor does y for i ("Aysén", "Aisén").

    >>> commune_key("Con Cón") == commune_key("Concón")
    True
    >>> commune_key("Coyhaique") == commune_key("Coihaique")
    True
    """
    return "".join(_words(_COMMUNE_PREFIX.sub("", text.strip()))).replace("y", "i")


@dataclass
class CommuneLookup:
    codes: tuple[str, ...]
    problems: list[str]  # Spanish, one per name that could not be used


class SheetPlaces:
    """Resolves a sheet's region and commune cells against the gazetteer."""

    def __init__(self, keywords: Keywords) -> None:
        self.keywords = keywords
        self._regions: dict[str, str] = {}
        self._communes: dict[str, list[str]] = {}
        for place in keywords.places.values():
            if place.kind == "region":
                for name in (place.name, *place.aliases):
                    self._regions.setdefault(region_key(name), place.code)
            elif place.kind == "commune":
                for name in (place.name, *place.aliases):
                    codes = self._communes.setdefault(commune_key(name), [])
                    if place.code not in codes:
                        codes.append(place.code)

    def region(self, value: object) -> str | None:
        """The two-digit code of a region cell, or None when it names no region of Chile."""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int):
            code = normalise_region(value)
            return code if code != "national" else None
        text = str(value or "").strip()
        words = [w for w in _words(text) if w not in _REGION_FILLER]
        if len(words) == 1 and (words[0].isdigit() or roman_number(words[0])):
            number = int(words[0]) if words[0].isdigit() else roman_number(words[0])
            code = normalise_region(number)
            return code if code != "national" else None
        return self._regions.get(region_key(text)) if words else None

    def communes(self, value: object, region_code: str) -> CommuneLookup:
        """Every commune named in a cell, each checked to be in the row's region."""
        codes: list[str] = []
        problems: list[str] = []
        for piece in _LIST_SEPARATORS.split(str(value or "").strip()):
            if not piece:
                continue
            names = [piece] if self._find(piece) else [p for p in _AND.split(piece) if p]
            for name in names:
                found = self._find(name)
                if not found:
                    problems.append(f"'{name}' no es una comuna de Chile")
                    continue
                inside = [code for code in found if code[:2] == region_code]
                if not inside:
                    place = self.keywords.place("commune", found[0])
                    region = self.keywords.region_name(place.region_code)
                    problems.append(
                        f"'{name}' es una comuna de {region}, no de "
                        f"{self.keywords.region_name(region_code)}"
                    )
                    continue
                if inside[0] not in codes:
                    codes.append(inside[0])
        return CommuneLookup(tuple(codes), problems)

    def _find(self, name: str) -> list[str]:
        return self._communes.get(commune_key(name), [])
