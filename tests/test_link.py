from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agenda.link import Linker
from agenda.link_result import Evidence

ROOT = Path(__file__).resolve().parent.parent


def codes(result, kind: str) -> set[str]:  # noqa: ANN001
    return {link.code for link in getattr(result, kind)}


@pytest.mark.parametrize(
    "spelling",
    [
        "Biobío",
        "Bio Bio",
        "BIOBÍO",
        "Bío Bío",
        "BIOBIO",
        "Bío-Bío",
        "Región del Biobío",
        "VIII Región",
        "Octava Región",
    ],
)
def test_biobio_spellings_all_link_to_region_08(linker: Linker, spelling: str) -> None:
    result = linker.link(f"Lluvias intensas en {spelling} durante la noche.")
    assert codes(result, "regions") == {"08"}


def test_nuble_keeps_its_enye_in_evidence(linker: Linker) -> None:
    text = "El Gobierno Regional de Ñuble aprobó fondos."
    region = linker.link(text).regions[0]
    assert region.code == "16" and region.name == "Ñuble"
    assert region.evidence[0].text == "Ñuble"


def test_evidence_offsets_point_at_the_matched_text(linker: Linker) -> None:
    text = "Vecinos de Quilpué y de Viña del Mar marchan; en Temuco, la lluvia."
    result = linker.link(text)
    assert codes(result, "communes") == {"05801", "05109", "09101"}
    for link in result.all_links():
        for evidence in link.evidence:
            assert text[evidence.start : evidence.end] == evidence.text


def test_region_phrase_links_region_not_commune(linker: Linker) -> None:
    result = linker.link("La Región de Valparaíso decretó alerta.")
    assert codes(result, "regions") == {"05"}
    assert codes(result, "communes") == set()
    city = linker.link("Un temporal afectó a Valparaíso y Concepción.")
    assert codes(city, "communes") == {"05101", "08101"}


@pytest.mark.parametrize(
    "text",
    [
        "El ministro Valdivia anunció cambios en el gabinete.",
        "Un choque en calle Victoria dejó dos heridos.",
        "La victoria del equipo fue celebrada por la hinchada.",
        "Celebraremos la Navidad en familia y la primavera llegó.",
        "Se reformará la Constitución según el acuerdo.",
        "Un incendio afectó Los Angeles, California.",
        "Peregrinos llegan a Santiago de Compostela.",
        "Don Aníbal Pinto fue recordado por historiadores.",
    ],
)
def test_traps_do_not_link(linker: Linker, text: str) -> None:
    assert codes(linker.link(text), "regions") == set(), text


def test_ambiguous_name_needs_evidence(linker: Linker) -> None:
    assert codes(
        linker.link("Vecinos de la comuna de Victoria piden agua potable."), "communes"
    ) == {"09211"}
    # with no trigger, no other place and no source prior: not linked
    assert codes(linker.link("Lautaro gana la elección del club."), "communes") == set()
    # the source's region is a prior for ambiguous names
    assert codes(
        linker.link("Lautaro gana la elección del club.", source_region="09"), "communes"
    ) == {"09108"}
    # a common noun ("victoria") needs more: a trigger, and another place of its region
    assert (
        codes(linker.link("Victoria gana la elección del club.", source_region="09"), "communes")
        == set()
    )
    assert codes(linker.link("En Victoria y Angol hubo cortes de luz."), "communes") == {
        "09211",
        "09201",
    }


def test_person_and_foreign_evidence(linker: Linker) -> None:
    assert codes(
        linker.link("El ministro del Interior, Tomás Valdivia, llegó a Temuco."), "communes"
    ) == {"09101"}
    assert codes(linker.link("Pinto afirmó que el proyecto avanza."), "communes") == set()
    assert codes(linker.link("Santiago Ramírez marcó dos goles."), "communes") == set()
    assert (
        codes(linker.link("La ciudad de Concepción, en el norte de Paraguay, crece."), "communes")
        == set()
    )
    # once foreign in a text, foreign throughout (unless a strong trigger says otherwise)
    assert (
        codes(
            linker.link("Incendios en Los Ángeles\n\nVecinos de Los Ángeles, California, evacuan."),
            "communes",
        )
        == set()
    )
    assert codes(linker.link("Antofagasta de la Sierra atrae turistas."), "communes") == set()
    # a first name and "de" before a name: a person's only after a title in lowercase
    text = "La biografía del mariscal José de Santa Cruz, presentada ayer, vuelve a Santa Cruz."
    assert codes(linker.link(text), "communes") == set()
    assert codes(linker.link("La feria de Santa María de Arica abrió."), "communes") == {"15101"}
    text = "Vecinos del sector San Pedro de Quillota piden un semáforo."
    assert codes(linker.link(text), "communes") == {"05501"}


def test_own_evidence_beats_a_reading_elsewhere(linker: Linker) -> None:
    # a region's short name with a commune's own trigger is the commune
    assert codes(
        linker.link("El alcalde de Maule, Patricio Cancino, acusó atrasos."), "communes"
    ) == {"07105"}
    assert codes(linker.link("Lluvias en Maule y Ñuble."), "communes") == set()
    # a name followed by its own region or province is the Chilean place, though foreign later
    text = "Nacida en Los Ángeles, en la Región del Biobío, estudiará en Los Ángeles, California."
    assert codes(linker.link(text), "communes") == {"08301"}
    text = "Productores de Victoria (Malleco) viajaron a Victoria, en Canadá."
    assert codes(linker.link(text), "communes") == {"09211"}
    # ... and not by another one ("victoria" is also a common noun: it needs such evidence)
    text = "La victoria de Victoria, en la Región de Ñuble, sorprendió."
    assert codes(linker.link(text), "communes") == set()


def test_brands_and_far_foreign_markers(linker: Linker) -> None:
    assert codes(linker.link("La Hyundai Santa Cruz lidera las ventas."), "communes") == set()
    text = "La banda tocó en Linares, Nuevo León, y en Nogales, en la frontera con Arizona."
    assert codes(linker.link(text), "communes") == set()
    text = "Turistas llegan a la isla de Providencia, en el Caribe colombiano."
    assert codes(linker.link(text), "communes") == set()


def test_lists_and_natural_features(linker: Linker) -> None:
    assert codes(
        linker.link("Pescadores de Talcahuano, Hualpén, Penco y Tomé protestaron."), "communes"
    ) == {"08110", "08112", "08107", "08111"}
    result = linker.link("Aumentan los rescates en el volcán Osorno.")
    assert codes(result, "regions") == {"10"} and codes(result, "communes") == set()
    regions = linker.link(
        "Conaf refuerza brigadas en las regiones de Valparaíso, O'Higgins, Maule y Biobío."
    )
    assert (
        codes(regions, "regions") == {"05", "06", "07", "08"}
        and codes(regions, "communes") == set()
    )


def test_hyphenated_pair_links_both(linker: Linker) -> None:
    result = linker.link("El tren Santiago-Chillán suma frecuencias.")
    assert {"13101", "16101"} <= codes(result, "communes")


def test_commitment_by_alias_and_alert_in_same_sentence(linker: Linker) -> None:
    text = (
        "Las obras del Hospital de Quilpué están paralizadas "
        "desde octubre. Otro tema: retraso en trenes."
    )
    result = linker.link(text)
    commitment = next(
        candidate for candidate in result.commitments if candidate.code == "hospital-marga-marga"
    )
    assert commitment.at_risk
    assert commitment.risk_evidence[0].text.startswith(
        "Las obras del Hospital de Quilpué están paralizadas"
    )
    assert "retraso" not in commitment.risk_evidence[0].text


def test_commitment_by_facility_word_plus_commune(linker: Linker) -> None:
    result = linker.link("El nuevo hospital que se construye en Quilpué tendrá 300 camas.")
    assert "hospital-marga-marga" in codes(result, "commitments")
    other = linker.link("El hospital de Temuco amplía su urgencia. Quilpué celebra su aniversario.")
    assert "hospital-marga-marga" not in codes(other, "commitments")


def test_generic_word_alone_never_links_a_commitment(linker: Linker) -> None:
    assert (
        codes(linker.link("Los hospitales del país enfrentan alta demanda."), "commitments")
        == set()
    )


def test_priorities_tagged(linker: Linker) -> None:
    result = linker.link("Carabineros detuvo a una banda por robos con violencia.")
    assert "seguridad" in codes(result, "priorities")


def test_link_command_reads_and_writes_json_lines(tmp_path: Path) -> None:
    lines = [
        {"title": "Temporal en Bío Bío", "summary": "Daños en Talcahuano y Coronel.", "id": 7},
        {"title": "Cumbre en Ginebra", "text": "Sin lugares chilenos."},
        {"text": "Obras del Hospital de Quilpué paralizadas."},
    ]
    agenda = Path(sys.executable).parent / "agenda"
    done = subprocess.run(
        [str(agenda), "link", "--keywords", str(ROOT / "keywords")],
        input="\n".join(json.dumps(item, ensure_ascii=False) for item in lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 3
    assert out[0]["id"] == 7  # other fields pass through
    assert {r["code"] for r in out[0]["regions"]} == {"08"}
    assert {c["code"] for c in out[0]["communes"]} == {"08110", "08102"}
    text = "Temporal en Bío Bío\n\nDaños en Talcahuano y Coronel."
    for commune in out[0]["communes"]:
        for evidence in commune["evidence"]:
            assert text[evidence["start"] : evidence["end"]] == evidence["text"]
    assert out[1]["regions"] == [] and out[1]["communes"] == []
    assert out[2]["commitments"][0]["id"] == "hospital-marga-marga"
    assert out[2]["commitments"][0]["at_risk"] is True


@pytest.mark.parametrize(
    "text",
    [
        "".join(chr(c) for c in range(0x20, 0x2000) if len(chr(c).lower()) == 1),
        "".join(chr(c) for c in range(0x20, 0x100)),  # all Latin-1: folded by a byte table
        "Ñandú en el «Biobío»",
        "\u1ffd\u00b4 y \u00b4\u1ffd",  # oxia folds to the acute accent, which folds again
    ],
)
def test_fold_is_the_table_one_character_at_a_time(text: str) -> None:
    """fold replaces each distinct accented letter of a text at once, or folds Latin-1 text by a
    byte table; what it gives is still the fold table applied to each character, in one pass."""
    from agenda.textnorm import FOLD_TABLE, fold

    expected = "".join(FOLD_TABLE.get(ord(c), c) for c in text)
    assert fold(text) == expected
    assert len(fold(text)) == len(text)


def test_trie_alternatives_match_what_the_plain_alternation_matches() -> None:
    """The foreign-marker pattern is written as a tree of common beginnings: it must accept
    exactly the strings the plain alternation of the same phrases accepts."""
    import itertools
    import re

    from agenda.link import _trie_alternatives

    phrases = ["ee.uu.", "eeuu", "a", "ab", "abc", "b c", "ba", "peru", "peruana", "peruano"]
    plain = re.compile("|".join(map(re.escape, phrases)))
    tree = re.compile(_trie_alternatives(phrases))
    candidates = {"".join(p) for n in range(6) for p in itertools.product("abce.u p", repeat=n)}
    candidates |= set(phrases) | {"peruan", "ee.uu", "perua"}
    for text in candidates:
        assert bool(plain.fullmatch(text)) == bool(tree.fullmatch(text)), text
        assert bool(plain.match(text)) == bool(tree.match(text)), text
    assert re.compile(_trie_alternatives([])).match("") is None  # no phrase: never matches


def test_link_results_pickle_and_copy(linker: Linker) -> None:
    """LinkResult and Link write their own __init__ (a native constructor when compiled by mypyc):
    pickle and copy still rebuild them whole."""
    import copy
    import pickle

    result = linker.link("Lluvias en Bio Bio y en Valparaíso; alerta por el hospital de Ancud.")
    assert result.regions
    for twin in (pickle.loads(pickle.dumps(result)), copy.copy(result), copy.deepcopy(result)):
        assert twin == result
        assert twin.as_dict() == result.as_dict()
    link = result.regions[0]
    assert copy.copy(link) == link and pickle.loads(pickle.dumps(link)) == link
    # evidence is equal and hashed by value (evaluate dedups it with dict.fromkeys)
    evidence = link.evidence[0]
    same = Evidence(evidence.text, evidence.start, evidence.end)
    assert same == evidence and hash(same) == hash(evidence) and same is not evidence
    assert list(dict.fromkeys([evidence, same])) == [evidence]
    assert same != Evidence(evidence.text, evidence.start, evidence.end + 1)
    assert copy.copy(evidence) == evidence and pickle.loads(pickle.dumps(evidence)) == evidence
