from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agenda.errors import ConfigErrors
from agenda.keywords import Keywords, load_keywords

ROOT = Path(__file__).resolve().parent.parent


def test_gazetteer_is_complete(keywords: Keywords) -> None:
    kinds = [p.kind for p in keywords.places.values()]
    assert kinds.count("region") == 16
    assert kinds.count("province") == 56
    assert kinds.count("commune") == 346


def test_commitments_priorities_alerts_meet_the_brief(keywords: Keywords) -> None:
    assert len(keywords.commitments) >= 20
    assert len({c.region_code for c in keywords.commitments.values()}) >= 10
    assert {
        "seguridad",
        "salud",
        "vivienda",
        "educacion",
        "empleo",
        "infraestructura",
        "emergencias",
    } <= set(keywords.priorities)
    assert {"delay", "stoppage", "contractor", "legal", "money"} <= set(keywords.alert_kinds)
    assert {"retras*", "paraliz*", "quiebra", "licitación desierta", "sobrecosto*"} <= set(
        keywords.alert_terms
    )
    assert all(kind.label for kind in keywords.alert_kinds.values())
    assert {"sin", "descartó"} <= set(
        keywords.alert_negations
    ) and "retomaron las obras" in keywords.alert_resolutions


@pytest.fixture
def keyword_copy(tmp_path: Path) -> Path:
    target = tmp_path / "keywords"
    shutil.copytree(ROOT / "keywords", target)
    return target


def test_bad_commune_code_in_commitments_names_file_line_field(keyword_copy: Path) -> None:
    path = keyword_copy / "commitments.yaml"
    text = path.read_text(encoding="utf-8")
    first = text.index('communes: ["')
    broken = (
        text[:first]
        + 'communes: ["99999"'
        + text[text.index('"', first + len('communes: ["')) + 1 :]
    )
    path.write_text(broken, encoding="utf-8")
    line = broken[:first].count("\n") + 1
    with pytest.raises(ConfigErrors) as info:
        load_keywords(keyword_copy)
    message = str(info.value)
    assert f"{path}:{line}: field 'communes': unknown commune code '99999'" in message


def test_single_word_alias_rejected(keyword_copy: Path) -> None:
    path = keyword_copy / "commitments.yaml"
    text = path.read_text(encoding="utf-8")
    first = text.index("aliases:\n") + len("aliases:\n")
    indent = text[first:].index("-")
    path.write_text(text[:first] + " " * indent + "- hospital\n" + text[first:], encoding="utf-8")
    with pytest.raises(ConfigErrors, match="alias 'hospital' is a single word"):
        load_keywords(keyword_copy)


def test_unknown_priority_rejected(keyword_copy: Path) -> None:
    path = keyword_copy / "commitments.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("priority: salud", "priority: saludd", 1), encoding="utf-8")
    with pytest.raises(ConfigErrors, match="field 'priority': unknown priority 'saludd'"):
        load_keywords(keyword_copy)


def test_generated_gazetteer_matches_the_script(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_gazetteer", ROOT / "scripts" / "build_gazetteer.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import yaml

    committed = yaml.safe_load((ROOT / "keywords" / "gazetteer.yaml").read_text(encoding="utf-8"))
    assert committed == module.build(), (
        "run `make gazetteer` after changing the DPA tables or the script"
    )


def test_official_names_keep_their_accents_and_match_without_them(keywords: Keywords) -> None:
    from agenda.link import Linker

    names = {p.code: p.name for p in keywords.places.values() if p.kind == "commune"}
    assert (
        names["08206"] == "Los Álamos"
        and names["08301"] == "Los Ángeles"
        and names["16206"] == "Ránquil"
    )
    # every name the DPA table lost an accent in is corrected (the data file is the list)
    import csv

    with open(ROOT / "keywords" / "dpa" / "official_names.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            assert names[row["id"]] == row["official_name"] != row["dpa_name"]
    linker = Linker(keywords)
    for text in (
        "Nuevo hospital en Los Angeles, provincia de Biobío",
        "Nuevo hospital en LOS ÁNGELES, Biobío",
    ):
        assert "08301" in {commune.code for commune in linker.link(text).communes}, text
