"""The ways the press names a commitment, generated from its official title. Pure.

The office's sheet gives a title ("Construcción del Hospital Buin-Paine") and the communes; the
press writes "el Hospital Buin-Paine", "el hospital de Buin y Paine", "el nuevo hospital de
Buin-Paine". ``press_names`` writes those forms so that an imported commitment, with no
hand-written aliases, is still found; ``facility_words`` names the kind of work ("hospital").

>>> press_names("Nuevo Hospital Provincial de Ovalle", ["Ovalle"])[:4]
['Hospital Provincial de Ovalle', 'nuevo Hospital Provincial de Ovalle', 'Hospital de Ovalle', \
'nuevo hospital de Ovalle']
>>> press_names("Reposición del Puente sobre el río Toltén en Pitrufquén", ["Pitrufquén"])[:3]
['Puente sobre el río Toltén en Pitrufquén', 'nuevo Puente sobre el río Toltén en Pitrufquén', \
'Puente de Pitrufquén']
"""

from __future__ import annotations

import re

from agenda.textnorm import fold

# Openings that name the kind of work, not the work: the press drops them.
_WORK_OPENINGS = re.compile(
    r"^(?:(?:construcci[oó]n|reposici[oó]n|rehabilitaci[oó]n|normalizaci[oó]n|ampliaci[oó]n|"
    r"mejoramiento|habilitaci[oó]n|restauraci[oó]n|reconstrucci[oó]n)\s+(?:del|de\s+la|de\s+los|"
    r"de\s+las|de)\s+)?(?:(?:nuevo|nueva|nuevos|nuevas)\s+)?",
    re.IGNORECASE,
)
_RIVER = re.compile(
    r"\s+sobre\s+el\s+r[ií]o\s+([\wÁÉÍÓÚÑáéíóúñ' -]+?)(?=\s+(?:en|de)\s+|$)", re.IGNORECASE
)
_SPLIT = re.compile(r"\s+(?:de|en|del)\s+")
# Words of a title that qualify the facility without naming it: "Hospital Provincial" is not a name.
GENERIC_QUALIFIERS = frozenset(
    {
        "provincial",
        "regional",
        "comunal",
        "municipal",
        "penitenciario",
        "politecnico",
        "base",
        "intercultural",
        "clinico",
        "de",
        "del",
        "la",
        "el",
        "los",
        "las",
        "alta",
        "complejidad",
        "nuevo",
        "nueva",
        "asistencial",
        "salud",
        "familiar",
        "centro",
        "complejo",
        "recinto",
    }
)
# Words that say which kind of work a commitment is (never "ruta" or "viviendas": too common).
FACILITY_NOUNS = (
    "hospital",
    "puente",
    "liceo",
    "escuela",
    "colegio",
    "cesfam",
    "consultorio",
    "cárcel",
    "penal",
    "recinto penitenciario",
    "complejo penitenciario",
    "embalse",
    "tranque",
    "aeródromo",
    "aeropuerto",
    "teatro",
    "estadio",
    "comisaría",
    "cuartel",
    "desaladora",
    "biblioteca",
    "museo",
    "tren",
    "teleférico",
    "funicular",
    "costanera",
    "terminal",
    "muelle",
    "gimnasio",
    "centro cultural",
)
# Other words the press uses for the same kind of work ("la nueva cárcel de Talca" for the
# "Recinto Penitenciario de Talca"). Never a word with another common sense ("penal").
SYNONYMS = {
    "recinto penitenciario": ("cárcel", "complejo penitenciario"),
    "complejo penitenciario": ("cárcel", "recinto penitenciario"),
    "cárcel": ("recinto penitenciario", "complejo penitenciario"),
    "cesfam": ("consultorio", "centro de salud familiar"),
    "consultorio": ("cesfam",),
    "embalse": ("tranque",),
    "tren": ("servicio ferroviario",),
}
_FEMININE = (
    "cárcel",
    "carcel",
    "escuela",
    "comisaría",
    "comisaria",
    "desaladora",
    "biblioteca",
    "costanera",
    "planta",
    "red",
    "sala",
    "posta",
    "estación",
    "estacion",
    "ruta",
)


def facility_words(title: str) -> list[str]:
    """The facility nouns a title names ("Construcción del Hospital de Buin" -> ["hospital"])."""
    folded = fold(title)
    found = []
    for noun in FACILITY_NOUNS:
        if re.search(r"(?<!\w)" + re.escape(fold(noun)) + r"(?!\w)", folded):
            found += [noun, *SYNONYMS.get(noun, ())]
    return list(dict.fromkeys(found))


def _new(word: str) -> str:
    return "nueva" if fold(word) in {fold(f) for f in _FEMININE} else "nuevo"


def _pairs(place: str) -> list[str]:
    """'Buin-Paine' <-> 'Buin y Paine'."""
    forms = [place]
    if "-" in place:
        left, right = place.split("-", 1)
        forms.append(f"{left.strip()} y {right.strip()}")
    elif " y " in place:
        left, right = place.split(" y ", 1)
        forms.append(f"{left.strip()}-{right.strip()}")
    return forms


def _mentions_commune(place: str, commune_names: list[str]) -> bool:
    folded = fold(place)
    return any(fold(name) in folded for name in commune_names)


def _place_and_name(rest: str, commune_names: list[str]) -> tuple[str, str]:
    """Split 'San Juan de Dios de Curicó' into ('Curicó', 'San Juan de Dios'): the rightmost
    "de"/"en" whose remainder is one of the communes (or a pair of them)."""
    if not rest:
        return "", ""
    if _mentions_commune(rest, commune_names) and _only_places(rest, commune_names):
        return rest, ""  # "Buin-Paine", "Santiago-Melipilla"
    for match in reversed(list(_SPLIT.finditer(" " + rest))):
        tail = (" " + rest)[match.end() :].strip()
        if _only_places(tail, commune_names):
            return tail, (" " + rest)[: match.start()].strip()
    return "", rest


def _only_places(text: str, commune_names: list[str]) -> bool:
    remainder = fold(text)
    for name in sorted((fold(n) for n in commune_names), key=len, reverse=True):
        remainder = remainder.replace(name, " ")
    return bool(commune_names) and not re.sub(r"[\s,-]|\by\b|\be\b", "", remainder)


def press_names(title: str, commune_names: list[str]) -> list[str]:
    """The ways the press writes a commitment, from its title and the names of its communes.

    Drops "Construcción de", "Reposición de", "Rehabilitación de", "Normalización de" and
    "Nuevo"; writes "Hospital de X", "Hospital X", "Hospital Regional de X" and "nuevo hospital de
    X" for a commune X the title names; hyphenated pairs both ways ("Buin-Paine", "Buin y
    Paine"); "puente X" and "puente sobre el río X" when the title puts the bridge over river X.
    Every name has two words or more (a single word is never specific enough).
    """
    core = _WORK_OPENINGS.sub("", title.strip(), count=1).strip()
    if not core:
        return []
    folded_core = fold(core)
    noun = next(
        (
            n
            for n in sorted(FACILITY_NOUNS, key=len, reverse=True)
            if folded_core.startswith(fold(n) + " ")
        ),
        core.split()[0],
    )
    facility = core[: len(noun)]
    lower = facility.lower()
    names: list[str] = [core, f"{_new(facility)} {core}"]
    rest = core[len(noun) :].strip()
    river = _RIVER.search(" " + rest) if rest else None
    without_river = _RIVER.sub("", " " + rest).strip() if rest else ""
    place, own_name = _place_and_name(without_river, commune_names)
    generic_name = all(fold(w) in GENERIC_QUALIFIERS for w in own_name.split())
    if own_name and not generic_name:
        names += [f"{facility} {own_name}", f"{_new(facility)} {lower} {own_name}"]
    if place:
        for form in _pairs(place):
            names += [f"{facility} de {form}", f"{_new(facility)} {lower} de {form}"]
            if fold(noun) == "hospital":  # the forms the press uses for hospitals
                names += [f"{facility} {form}", f"{facility} Regional de {form}"]
            if own_name:
                names.append(f"{facility} {own_name} de {form}")
    for other in SYNONYMS.get(fold(noun), ()) + SYNONYMS.get(noun.lower(), ()):
        if own_name and not generic_name:
            names.append(f"{other} {own_name}")
        for form in _pairs(place) if place else []:
            names += [f"{other} de {form}", f"{_new(other)} {other} de {form}"]
            if (
                "-" in form
            ):  # a pair of communes names the work: "servicio ferroviario Santiago-Melipilla"
                names.append(f"{other} {form}")
    if (
        fold(noun) == "tren" and place and "-" in place
    ):  # "Tren Santiago-Melipilla": "el tren a Melipilla"
        names.append(f"tren a {place.split('-', 1)[1].strip()}")
    if river:
        river_name = river.group(1).strip()
        names += [
            f"{facility} sobre el río {river_name}",
            f"{facility} sobre el {river_name}",
            f"{_new(facility)} {facility.lower()} sobre el río {river_name}",
            f"{_new(facility)} {facility.lower()} sobre el {river_name}",
        ]
        if not own_name:  # "Puente Industrial sobre el río Biobío" is not "puente Biobío"
            names.append(f"{facility} {river_name}")
    seen: set[str] = set()
    unique = []
    for name in names:
        key = fold(" ".join(name.split()))
        if key not in seen and len(key.split()) >= 2:
            seen.add(key)
            unique.append(" ".join(name.split()))
    return unique


_ON_EXISTING = re.compile(
    r"^(?:reposici[oó]n|normalizaci[oó]n|ampliaci[oó]n|rehabilitaci[oó]n|mejoramiento|"
    r"restauraci[oó]n|remodelaci[oó]n)\b",
    re.IGNORECASE,
)


def works_on_existing(title: str) -> bool:
    """Whether the title is works on a facility that exists ("Reposición del Liceo X"): then the
    facility's plain name ("Liceo X") is also the old building's, and says little on its own.

    >>> works_on_existing("Normalización del Hospital San Juan de Dios de Curicó")
    True
    """
    return bool(_ON_EXISTING.match(title.strip()))


def own_name(title: str) -> str | None:
    """The name a title gives the project itself, when no existing facility shares it.

    "Construcción del Teatro Regional de Rancagua" -> "Teatro Regional de Rancagua"; None for
    "Nuevo Hospital Provincial de Ovalle" or "Reposición del Liceo X" (the old one's name too).

    >>> own_name("Construcción del Hospital Buin-Paine")
    'Hospital Buin-Paine'
    """
    stripped = title.strip()
    core = _WORK_OPENINGS.sub("", stripped, count=1).strip()
    opening = fold(stripped[: len(stripped) - len(core)])
    if works_on_existing(stripped) or re.search(r"\bnuev[oa]s?\b", opening) or not core:
        return None
    return core
