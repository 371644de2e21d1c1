"""`agenda commitments import`: the messy sheet (xlsx and csv in both encodings), its error lines,
exit codes, --dry-run, --skip-invalid, --json, merging into commitments.yaml and idempotence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agenda.cli import main
from agenda.commitments_import import parse_sheet
from agenda.errors import ConfigErrors
from agenda.keywords import Keywords, load_keywords

from .commitments_sheet import EXPECTED_ERRORS, write_csv, write_xlsx

ROOT = Path(__file__).resolve().parent.parent
# Row -> (region code, commune codes) the sheet's many ways of writing them must give.
EXPECTED_PLACES = {
    2: ("15", ("15101",)),
    3: ("01", ("01107",)),
    4: ("02", ("02101",)),
    5: ("06", ("06115",)),
    6: ("13", ("13201", "13110", "13122")),
    7: ("08", ("08101", "08110", "08112")),
    8: ("09", ("09101", "09112")),
    9: ("11", ("11101",)),
    10: ("12", ("12201",)),
    11: ("06", ("06201",)),
    12: ("16", ("16103",)),
    13: ("14", ("14101",)),
}


def sheet(kind: str, folder: Path) -> Path:
    if kind == "xlsx":
        return write_xlsx(folder / "compromisos.xlsx")
    if kind == "csv-utf8":
        return write_csv(folder / "compromisos.csv", "utf-8", ";")
    return write_csv(folder / "compromisos-excel.csv", "cp1252", ",")


@pytest.fixture
def keywords_dir(tmp_path: Path) -> Path:
    """A copy of the real keywords folder: the import rewrites commitments.yaml."""
    return Path(shutil.copytree(ROOT / "keywords", tmp_path / "keywords"))


@pytest.mark.parametrize("kind", ["xlsx", "csv-utf8", "csv-cp1252"])
def test_messy_sheet_parses_every_form(kind: str, tmp_path: Path, keywords: Keywords) -> None:
    path = sheet(kind, tmp_path)
    if kind == "csv-cp1252":
        assert "Región".encode("cp1252") in path.read_bytes()  # really Windows-1252, not UTF-8
    parsed = parse_sheet(path, keywords)
    assert [str(e) for e in parsed.errors] == EXPECTED_ERRORS
    assert {c.row: (c.region_code, c.commune_codes) for c in parsed.commitments} == EXPECTED_PLACES
    by_row = {c.row: c for c in parsed.commitments}
    assert by_row[2].status == "en ejecución" and by_row[2].due == "2027-06"
    assert by_row[4].due == "2027-03" and by_row[4].priority_id == "salud"
    assert by_row[6].due == "2027-12-15" and by_row[6].priority_id == "infraestructura"
    assert by_row[12].due == "2027-03-01" and by_row[12].priority_id == "educacion"
    assert by_row[3].priority_id == "seguridad" and by_row[3].status == "paralizado"
    assert by_row[8].priority_id is None and by_row[9].priority_id is None
    assert by_row[2].id is None  # the "N°" column is row numbers, not ids
    assert [str(w) for w in parsed.warnings] == [
        (
            "fila 8: columna Eje: 'Turismo' no es un eje conocido "
            "(Seguridad pública, Salud, Vivienda y ciudad, "
            "Educación, Empleo y desarrollo productivo, "
            "Infraestructura y conectividad, Emergencias y medio "
            "ambiente); el compromiso queda sin prioridad"
        )
    ]


def test_bad_rows_exit_2_and_write_nothing(
    tmp_path: Path, keywords_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (keywords_dir / "commitments.yaml").read_bytes()
    assert (
        main(
            ["commitments", "import", str(sheet("xlsx", tmp_path)), "--keywords", str(keywords_dir)]
        )
        == 2
    )
    captured = capsys.readouterr()
    assert captured.err.splitlines() == EXPECTED_ERRORS
    assert "no se escribió nada" in captured.out
    assert (keywords_dir / "commitments.yaml").read_bytes() == before


def test_dry_run_shows_and_writes_nothing(
    tmp_path: Path, keywords_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (keywords_dir / "commitments.yaml").read_bytes()
    path = sheet("csv-utf8", tmp_path)
    assert (
        main(
            [
                "commitments",
                "import",
                str(path),
                "--keywords",
                str(keywords_dir),
                "--skip-invalid",
                "--dry-run",
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "+ extension-linea-4-metro: Extensión Línea 4 del Metro (región 13, fila 6)" in out
    assert (
        "~ embalse-chironta (fila 2): status: None -> 'en ejecución'; due: None -> '2027-06'" in out
    )
    assert "--dry-run: no se escribió" in out
    assert (keywords_dir / "commitments.yaml").read_bytes() == before


def test_skip_invalid_merges_keeps_analysts_work_and_is_idempotent(
    tmp_path: Path,
    keywords_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = keywords_dir / "commitments.yaml"
    original = target.read_text(encoding="utf-8")
    path = sheet("csv-cp1252", tmp_path)
    assert (
        main(
            ["commitments", "import", str(path), "--keywords", str(keywords_dir), "--skip-invalid"]
        )
        == 1
    )
    capsys.readouterr()
    merged = target.read_text(encoding="utf-8")
    for line in original.splitlines():
        if line.lstrip().startswith("#"):
            assert line in merged  # every comment kept
    keywords = load_keywords(keywords_dir)  # still a valid register
    chironta = keywords.commitments["embalse-chironta"]
    assert (chironta.status, chironta.due) == ("en ejecución", "2027-06")
    assert chironta.aliases == (
        "embalse Chironta",
        "embalse de Chironta",
        "embalse del valle de Lluta",
    )
    assert chironta.facility_words == ("embalse",)
    assert (
        "  # --- Tarapacá ---\n  - id: comisaria-alto-hospicio" in merged
    )  # the section comment stays between entries
    hospicio = keywords.commitments["comisaria-alto-hospicio"]
    assert (hospicio.status, hospicio.due, hospicio.priority_id) == (
        "paralizado",
        "2025",
        "seguridad",
    )
    metro = keywords.commitments["extension-linea-4-metro"]
    assert metro.title == "Extensión Línea 4 del Metro" and metro.region_code == "13"
    assert (
        metro.commune_codes == ("13201", "13110", "13122")
        and "Extensión Línea 4 del Metro" in metro.aliases
    )
    assert keywords.commitments["parque-isla-cautin"].priority_id is None  # unknown Eje: a warning
    # "Hospital de Rengo" is not the entry "Nuevo Hospital de Rengo": a new one, its id kept
    # distinct
    assert keywords.commitments["hospital-rengo-06"].title == "Hospital de Rengo"
    assert keywords.commitments["hospital-rengo"].title == "Nuevo Hospital de Rengo"
    # the same sheet again, in another format: nothing changes
    for again in (path, sheet("xlsx", tmp_path), sheet("csv-utf8", tmp_path)):
        assert (
            main(
                [
                    "commitments",
                    "import",
                    str(again),
                    "--keywords",
                    str(keywords_dir),
                    "--skip-invalid",
                ]
            )
            == 1
        )
        assert "0 nuevos, 0 con cambios, 12 sin cambios" in capsys.readouterr().out
        assert target.read_text(encoding="utf-8") == merged


def test_merge_by_id_and_by_title_ignoring_accents_and_spacing(
    tmp_path: Path, keywords_dir: Path
) -> None:
    path = tmp_path / "cambios.csv"
    path.write_text(
        "ID;Proyecto;Región;Comunas;Sector;Estado;Plazo\n"
        "carcel-calama;Cárcel de Calama (nombre nuevo);"
        "II Región;Calama;Justicia;En licitación;2028\n"
        ";  nuevo   HOSPITAL de rengo ;O´Higgins;Rengo;Minsal;Terminado;2026-10\n",
        encoding="utf-8",
    )
    assert (
        main(["commitments", "import", str(path), "--keywords", str(keywords_dir), "--json"]) == 0
    )
    keywords = load_keywords(keywords_dir)
    calama = keywords.commitments["carcel-calama"]
    assert (
        calama.title == "Nuevo Centro Penitenciario de Calama"
    )  # matched by id: the title is kept
    assert (calama.status, calama.due, calama.ministry) == ("en licitación", "2028", "Justicia")
    rengo = keywords.commitments["hospital-rengo"]
    assert (rengo.status, rengo.due, rengo.ministry) == ("terminado", "2026-10", "Minsal")
    assert len(keywords.commitments) == 31  # nothing added


def test_json_output(
    tmp_path: Path, keywords_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sheet("xlsx", tmp_path)
    assert (
        main(["commitments", "import", str(path), "--keywords", str(keywords_dir), "--json"]) == 2
    )
    data = json.loads(capsys.readouterr().out)
    assert data["written"] is False and [e["line"] for e in data["errors"]] == EXPECTED_ERRORS
    assert data["errors"][0] == {
        "row": 15,
        "column": "Región",
        "message": "'Región 17' no es una región de Chile",
        "line": EXPECTED_ERRORS[0],
    }
    assert len(data["added"]) == 9 and len(data["changed"]) == 3 and data["warnings"][0]["row"] == 8


def test_sheet_without_a_title_column_is_a_config_error(
    tmp_path: Path, keywords_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Región,Comuna\nRM,Santiago\n", encoding="utf-8")
    assert main(["commitments", "import", str(path), "--keywords", str(keywords_dir)]) == 2
    assert "no se encontró la fila de encabezados" in capsys.readouterr().err


def test_register_fields_are_validated_with_file_line_and_field(
    keywords_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = keywords_dir / "commitments.yaml"
    text = target.read_text(encoding="utf-8")
    text = text.replace(
        "    ministry: Ministerio de Obras Públicas\n",
        "    ministry: Ministerio de Obras Públicas\n"
        "    status: en ejecución\n    due: 2027-13\n    source: [Cuenta Pública]\n",
        1,
    )
    target.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigErrors) as info:
        load_keywords(keywords_dir)
    messages = [str(e) for e in info.value.errors]
    assert messages == [
        f"{target}:21: field 'source': must be a non-empty text",
        f"{target}:20: field 'due': '2027-13' is not a date like 2027, 2027-03 or 2027-03-15",
    ]
    assert (
        main(
            [
                "commitments",
                "list",
                "--keywords",
                str(keywords_dir),
                "--db",
                str(keywords_dir / "a.db"),
            ]
        )
        == 2
    )
    assert f"{target}:20: field 'due'" in capsys.readouterr().err


def test_new_entries_get_the_press_names_when_the_generator_is_there(
    tmp_path: Path,
    keywords_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys
    import types

    # agenda.commitment_names arrives with issue 15; until then the title is the only alias
    fake = types.ModuleType("agenda.commitment_names")
    fake.press_names = lambda title, communes: [title, f"obras de {communes[0]}"]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "agenda.commitment_names", fake)
    path = tmp_path / "nuevo.csv"
    path.write_text(
        "Compromiso,Región,Comuna\nParque Costanera de Lebu,Biobío,Lebu\n", encoding="utf-8"
    )
    assert main(["commitments", "import", str(path), "--keywords", str(keywords_dir)]) == 0
    text = (keywords_dir / "commitments.yaml").read_text(encoding="utf-8")
    assert (
        "    aliases:\n      - Parque Costanera de Lebu\n"
        "    generated_aliases:\n      - obras de Lebu\n" in text
    )
    monkeypatch.delitem(sys.modules, "agenda.commitment_names")
    monkeypatch.setitem(sys.modules, "agenda.commitment_names", None)  # not installed: ImportError
    path.write_text("Compromiso,Región,Comuna\nPlaza de Cañete,VIII,Cañete\n", encoding="utf-8")
    assert main(["commitments", "import", str(path), "--keywords", str(keywords_dir)]) == 0
    text = (keywords_dir / "commitments.yaml").read_text(encoding="utf-8")
    assert text.endswith("    aliases:\n      - Plaza de Cañete\n")
