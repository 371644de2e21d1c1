"""Names shared between places (issue 14): each class of mistake is a rule in
keywords/disambiguation.yaml, and each test below holds one class on sentences not in the gold
set."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from agenda.common import link_text
from agenda.evaluate import read_gold
from agenda.link import Linker


def places(linker: Linker, text: str) -> tuple[set[str], set[str]]:
    result = linker.link(text)
    return {link.code for link in result.regions}, {link.code for link in result.communes}


@pytest.mark.parametrize(
    "text, regions, communes",
    [
        # a regional body carrying more of its own name before the place: the region
        ("La Seremi de Salud de Valparaíso cerró un local.", {"05"}, set()),
        ("El Servicio de Salud Antofagasta amplió su horario.", {"02"}, set()),
        ("El GORE Coquimbo aprobó el presupuesto.", {"04"}, set()),
        ("La Fiscalía Regional de O'Higgins formalizó a dos hombres.", {"06"}, set()),
        ("El consejo regional de Valparaíso sesionó ayer.", {"05"}, set()),
        # not a twin: the commune's own region only
        ("El Gobierno Regional de Santiago compró buses.", {"13"}, set()),
        # evidence of the city itself keeps the commune
        ("El alcalde de Valparaíso pidió recursos.", {"05"}, {"05101"}),
        ("La comuna de O'Higgins celebró su aniversario.", {"11"}, {"11302"}),
    ],
)
def test_region_and_its_capital(
    linker: Linker, text: str, regions: set[str], communes: set[str]
) -> None:
    assert places(linker, text) == (regions, communes)


def test_the_name_read_as_region_once_is_the_region_again(linker: Linker) -> None:
    text = "Antofagasta: la región que más crece\n\nLa Región de Antofagasta creció un 5%."
    assert places(linker, text) == ({"02"}, set())
    # ... unless the bare name has evidence of the city, or stands in a list of communes
    text = "La Región de Antofagasta creció. La municipalidad de Antofagasta también."
    assert places(linker, text) == ({"02"}, {"02101"})
    text = "En la provincia de Petorca, vecinos de La Ligua, Cabildo y Petorca piden agua."
    assert "05404" in places(linker, text)[1]


def test_lists_and_ranges_of_regions(linker: Linker) -> None:
    assert places(linker, "Las regiones de Santiago y Valparaíso lideran.") == ({"05", "13"}, set())
    assert places(linker, "Las provincias de Quillota y Petorca se unen.") == ({"05"}, set())
    assert places(linker, "Lloverá desde Coquimbo hasta Biobío.") == ({"04", "08"}, set())
    # a direction after a region's name shared by a city: the region's extent
    text = "Las lluvias llegarán hasta Coquimbo por el norte y hasta Los Lagos por el sur."
    assert places(linker, text) == ({"04", "10"}, set())
    assert places(linker, "Marejadas desde Antofagasta hacia el sur.") == ({"02"}, set())
    assert places(linker, "El alcalde de Coquimbo viajó hacia el norte.") == ({"04"}, {"04102"})


@pytest.mark.parametrize(
    "text, regions, communes",
    [
        ("Un choque en el Camino a Melipilla, en Maipú, dejó heridos.", {"13"}, {"13119"}),
        ("Un bus volcó en la curva Puerto Montt, cerca de Chonchi.", {"10"}, {"10203"}),
        ("Vecinos de Lo Prado piden un semáforo en avenida San Pablo.", {"13"}, {"13117"}),
        # lowercase "camino a" may be a journey: the place stays
        ("El camión iba camino a Temuco cuando volcó.", {"09"}, {"09101"}),
        # ... but with an article it names the road
        ("Un choque en el camino a Valparaíso cortó el tránsito en Curacaví.", {"13"}, {"13503"}),
        ("Taco por la ruta a Farellones.", set(), set()),
    ],
)
def test_roads_named_after_places(
    linker: Linker, text: str, regions: set[str], communes: set[str]
) -> None:
    assert places(linker, text) == (regions, communes)


@pytest.mark.parametrize(
    "text, regions, communes",
    [
        ("Sin luz en los cerros Alegre y Concepción, en Valparaíso.", {"05"}, {"05101"}),
        ("Vecinos de los cerros Florida, Bellavista y Concepción piden escaleras.", set(), set()),
        # a list with no feature's plural at its head is a list of places
        (
            "Vecinos de Talcahuano, Penco y Concepción protestan.",
            {"08"},
            {"08101", "08107", "08110"},
        ),
        ("Cerros, Penco y Concepción.", {"08"}, {"08101", "08107"}),
    ],
)
def test_lists_of_features_named_like_places(
    linker: Linker, text: str, regions: set[str], communes: set[str]
) -> None:
    assert places(linker, text) == (regions, communes)


def test_a_longer_alias_not_written_as_a_name_leaves_the_same_places_shorter_one(
    linker: Linker,
) -> None:
    result = linker.link("Los locatarios de Santiago centro cerraron temprano.")
    assert [(c.code, [e.text for e in c.evidence]) for c in result.communes] == [
        ("13101", ["Santiago"])
    ]
    # another place's shorter alias is not taken: "San Pedro" is not San Pedro de la Paz
    assert places(linker, "Vecinos de San Pedro de la paz protestan.") == (set(), set())


def test_bodies_named_after_a_zone(linker: Linker) -> None:
    assert places(linker, "La Prefectura Santiago Sur detuvo a dos sujetos en La Cisterna.") == (
        {"13"},
        {"13109"},
    )
    assert places(
        linker, "La Inspección Comunal del Trabajo Santiago Sur Oriente multó a una empresa."
    ) == ({"13"}, set())
    assert places(linker, "La Prefectura de Carabineros Osorno informó.")[1] == set()


@pytest.mark.parametrize(
    "text",
    [
        "Así lo publicó El Mercurio de Valparaíso en su edición dominical.",
        "El Mercurio de Antofagasta cumplió años.",
        "Según La Estrella de Iquique, el carnaval se suspende.",
        "El Llanquihue renovó su sitio web.",
        "Coquimbo Unido venció por dos goles.",
        "Rangers de Talca presentó a su técnico.",
        "La sanitaria Aguas Antofagasta subió sus tarifas.",
        "Según Radio Bío Bío, hubo un corte de luz.",
    ],
)
def test_names_inside_other_proper_names(linker: Linker, text: str) -> None:
    assert places(linker, text) == (set(), set())


def test_named_bodies_of_a_city_still_count(linker: Linker) -> None:
    # rule 1 of tests/gold/README.md: a local body carries its seat
    assert places(linker, "La Universidad de Concepción abrió matrículas.") == ({"08"}, {"08101"})
    assert places(linker, "La Corte de Apelaciones de Temuco falló.") == ({"09"}, {"09101"})


# -- the linker's place links on every gold file, pinned -----------------------------------------
# Speed work must not change what is linked. After a deliberate rule change, rewrite the file with
# `python tests/test_link_places.py` and read its diff.
GOLD = Path(__file__).resolve().parent / "gold"
PINNED = Path(__file__).resolve().parent / "fixtures" / "gold_place_links.json"


def place_links(linker: Linker) -> dict[str, dict[str, list[list[object]]]]:
    found = {}
    for path in sorted(GOLD.glob("*.jsonl")):
        if path.stem.startswith("commitments"):
            continue  # the commitments gold files label commitments, not places
        for item in read_gold(path):
            text = link_text(item.get("title"), item.get("summary"), item.get("text"))
            result = linker.link(text, source_region=item.get("source_region"))
            found[f"{path.stem}/{item['id']}"] = {
                kind: [
                    [link.code, *[[e.start, e.end] for e in link.evidence]]
                    for link in getattr(result, kind)
                ]
                for kind in ("regions", "provinces", "communes")
            }
    return found


def test_place_links_on_gold_files_are_pinned(linker: Linker) -> None:
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    found = json.loads(json.dumps(place_links(linker)))
    changed = sorted(
        key for key in pinned.keys() | found.keys() if pinned.get(key) != found.get(key)
    )
    assert not changed, f"place links changed on {len(changed)} gold items, first: {changed[:5]}"


if __name__ == "__main__":
    from agenda.keywords import load_keywords

    links = place_links(Linker(load_keywords(GOLD.parent.parent / "keywords")))
    PINNED.write_text(
        json.dumps(links, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
        encoding="utf-8",
    )


def test_a_title_word_on_the_next_line_is_not_part_of_the_name(linker: Linker) -> None:
    text = "Temporal en Valparaíso\n\nDeportes suspendidos por la lluvia."
    assert places(linker, text) == ({"05"}, {"05101"})


def test_lists_of_regions_after_the_words_inside_other_words(linker: Linker) -> None:
    """The list pattern runs from the first "regiones" or "provincias" of the text: one inside
    another word ("subregiones") or a list of the other kind earlier still leaves each list read."""
    text = "Las subregiones del norte crecen. Las provincias de Quillota y Petorca se unen."
    result = linker.link(text)
    assert {link.code for link in result.provinces} == {"055", "054"}
    assert {link.code for link in result.communes} == set()
    text = "Las provincias del sur esperan. Las regiones de Maule y Ñuble; en Talca llueve."
    assert places(linker, text) == ({"07", "16"}, {"07101"})


def test_fold_keeps_every_blank_in_place() -> None:
    """``_before`` reads the original word where its folded word stands: fold must map every
    blank to a blank and nothing else to one, on both of its paths (accents replaced, or the
    whole table when a lowercase is longer, "İ")."""
    from agenda.textnorm import fold

    characters = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    one_to_one = "".join(c for c in characters if len(c.lower()) == 1) + "é"
    for text in (one_to_one, one_to_one + "İ"):
        folded = fold(text)
        assert len(folded) == len(text)
        assert [c.isspace() for c in folded] == [c.isspace() for c in text]


def _word_before_by_splitting_the_text(text: str, folded: str, start: int) -> tuple[str, int, bool]:
    """What ``_before`` answered for the word before a name when it split the text's own window
    (the rule as first written): the reference for the faster reading."""
    window = max(start - 48, 0)
    words = folded[window:start].rsplit(None, 4)
    if start == 0 or not text[start - 1].isspace():
        return "", 0, False
    original = text[window:start].rsplit(None, 2)
    after_de = len(original) >= 2 and words[-1] in ("de", "del")
    word = original[-2] if after_de else (original[-1] if original else "")
    if not re.fullmatch(r"[A-ZÁÉÍÓÚÑÜ][\w'’]*", word):
        return "", 0, after_de
    return word, text.rfind(word, window, start) + len(word), after_de


def test_the_word_before_a_name_is_read_as_splitting_the_text_would(linker: Linker) -> None:
    """Awkward runs of words and blanks ("D De", "DE", tabs, no-break spaces, line separators,
    a window that cuts a word): the same word, end and "de" as splitting the text again."""
    from agenda.placecontext import _before
    from agenda.textnorm import fold

    words = ["de", "De", "DE", "del", "D", "e", "El", "Juan", "JUAN", "Ñuble", "Ángel", "x",
             "ministro", "O'Higgins", "(", ")", ",", "«La", "İstanbul", "straße", "Á", "dé", "1",
             "_", "a-b", "Camino", "a", "comuna"]  # fmt: skip
    blanks = [" ", "  ", "\n", "\t", "\u00a0", "\u2028", "\x0b", " \n ", "\r\n", "\u3000"]
    rng = random.Random(14)
    for _ in range(3000):
        text = "".join(rng.choice(words) + rng.choice(blanks) for _ in range(rng.randint(0, 14)))
        text += "Talca"
        folded = fold(text)
        for start in {len(text) - 5, rng.randint(0, len(text)), len(text)}:
            before = _before(text, folded, start, linker._phrase_flags)
            expected = _word_before_by_splitting_the_text(text, folded, start)
            assert (before.word, before.word_end, before.after_de) == expected, (text, start)


def test_region_lists_are_found_where_the_pattern_would_find_them() -> None:
    """The pattern run only where "regiones" or "provincias" stands finds what searching the
    whole text finds: lists one inside another, words inside longer ones, no "de" after."""
    from agenda.placecontext import _REGION_LIST, _region_list_matches

    pieces = ["regiones", "provincias", "de", "del", "subprovincias", "regionesde", "Maule",
              "biobio", "y", ",", ".", ";", "\n", "las", "en"]  # fmt: skip
    rng = random.Random(7)
    for _ in range(3000):
        folded = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        expected = [m.span(2) for m in _REGION_LIST.finditer(folded)]
        assert [m.span(2) for m in _region_list_matches(folded)] == expected, folded
