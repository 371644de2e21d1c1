"""``agenda commitments import FILE``: the office's sheet of commitments into commitments.yaml.

    read_sheet      .xlsx (openpyxl) or .csv (comma or semicolon; UTF-8 or Windows-1252)
                    -> (row number as the spreadsheet shows it, cells by field)
    parse_rows      headers matched ignoring case, accents and punctuation, with synonyms;
                    region and communes resolved (agenda.sheet_places); one Spanish message per
                    bad row: "fila 12: columna Región: 'Región 17' no es una región de Chile"
    plan_import     merge into the YAML (agenda.commitments_yaml): what is added and changed

Nothing is written while any row is bad, unless ``skip_invalid``. Blank rows are skipped silently.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from agenda.errors import ConfigError
from agenda.keywords import Keywords
from agenda.register import parse_due
from agenda.reports.spanish import MONTHS
from agenda.sheet_places import SheetPlaces
from agenda.textnorm import fold

# Header synonyms, as header_key() writes them (folded, letters and digits only).
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "codigo", "cod", "codigocompromiso", "idcompromiso"),
    "title": (
        "compromiso",
        "nombre",
        "iniciativa",
        "proyecto",
        "nombredelcompromiso",
        "nombredelproyecto",
        "nombredelainiciativa",
    ),
    "region": ("region",),
    "communes": ("comuna", "comunas"),
    "ministry": ("ministerio", "sector", "servicio", "institucion"),
    "priority": ("eje", "prioridad", "area", "ejeprioritario", "ejedegobierno"),
    "status": ("estado", "estadoactual", "situacion"),
    "due": ("fechacomprometida", "plazo", "fechadetermino", "fechatermino", "fechacompromiso"),
    "source": ("fuente", "origen", "dondesecomprometio"),
}
REQUIRED = ("title", "region")
# Official statuses, written the way commitments.yaml keeps them; another the sheet uses is kept.
STATUSES = ("en diseño", "en licitación", "en ejecución", "paralizado", "terminado")
_MONTHS = {name: number for number, name in enumerate(MONTHS, start=1)}
_MONTHS.update({name[:3]: number for name, number in list(_MONTHS.items())})
_MONTHS["setiembre"] = _MONTHS["sept"] = 9
HEADER_SEARCH_ROWS = 5  # a title line or two above the header is common in office sheets


def header_key(text: object) -> str:
    """A header as the synonyms are written: folded, letters and digits only.

    >>> header_key("Comuna(s)"), header_key("Fecha de término"), header_key("N°")
    ('comunas', 'fechadetermino', 'n')
    """
    return re.sub(r"[^a-z0-9]", "", fold(str(text or "")))


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"fila {self.row}: columna {self.column}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message, "line": str(self)}


@dataclass
class SheetCommitment:
    """One good row of the sheet; None means the sheet says nothing (the YAML keeps its value)."""

    row: int
    title: str
    region_code: str
    id: str | None = None
    commune_codes: tuple[str, ...] | None = None
    ministry: str | None = None
    priority_id: str | None = None
    status: str | None = None
    due: str | None = None
    source: str | None = None


@dataclass
class ParsedSheet:
    commitments: list[SheetCommitment] = field(default_factory=list)
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)


# -- reading ---------------------------------------------------------------------------------
def read_sheet(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cell values) of the first worksheet or of a CSV file; row 1 is the first."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise ConfigError(str(path), None, None, "file not found")
    if suffix in (".xlsx", ".xlsm"):
        yield from _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        yield from enumerate(_read_csv(path), start=1)
    else:
        raise ConfigError(str(path), None, None, "not a sheet: use .xlsx or .csv")


def _read_xlsx(path: Path) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise ConfigError(str(path), None, None, f"not a readable .xlsx file ({exc})") from exc
    try:
        for number, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            yield number, list(values)
    finally:
        book.close()


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


# -- parsing ---------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", " ", str(value)).strip()


def _find_header(
    rows: list[tuple[int, list[Any]]], path: Path
) -> tuple[int, dict[str, tuple[int, str]]]:
    """The header row's index in ``rows`` and field -> (column index, header as written)."""
    for index, (_number, values) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, tuple[int, str]] = {}
        for column, value in enumerate(values):
            key = header_key(value)
            for name, synonyms in HEADERS.items():
                if key in synonyms and name not in columns:
                    columns[name] = (column, _cell(value))
        if all(name in columns for name in REQUIRED):
            return index, columns
    missing = " y ".join(
        "Compromiso (o Nombre, Iniciativa, Proyecto)" if n == "title" else "Región"
        for n in REQUIRED
    )
    raise ConfigError(
        str(path), None, None, f"fila 1: no se encontró la fila de encabezados ({missing})"
    )


def parse_sheet(path: Path, keywords: Keywords) -> ParsedSheet:
    """Every row of the sheet, good or bad (with its Spanish message)."""
    rows = list(read_sheet(path))
    header_index, columns = _find_header(rows, path)
    places = SheetPlaces(keywords)
    parsed = ParsedSheet()
    seen: dict[tuple[str, str], int] = {}
    seen_ids: dict[str, int] = {}
    for number, values in rows[header_index + 1 :]:
        cells = {
            name: _cell(values[column]) if column < len(values) else ""
            for name, (column, _) in columns.items()
        }
        raw = {
            name: values[column] if column < len(values) else None
            for name, (column, _) in columns.items()
        }
        if not any(cells.values()):
            continue  # a blank row
        label = {name: header for name, (_, header) in columns.items()}
        problems: list[RowProblem] = []
        item = _parse_row(number, cells, raw, label, places, keywords, problems, parsed.warnings)
        if item is not None:
            key = (fold(" ".join(item.title.split())), item.region_code)
            earlier = seen.get(key) or (seen_ids.get(item.id) if item.id else None)
            if earlier:
                problems.append(
                    RowProblem(
                        number,
                        label["title"],
                        f"'{item.title}' repite el compromiso de la fila {earlier}",
                    )
                )
            else:
                seen[key] = number
                if item.id:
                    seen_ids[item.id] = number
        if problems:
            parsed.errors.extend(problems)
        elif item is not None:
            parsed.commitments.append(item)
    return parsed


def _parse_row(
    number: int,
    cells: dict[str, str],
    raw: dict[str, Any],
    label: dict[str, str],
    places: SheetPlaces,
    keywords: Keywords,
    problems: list[RowProblem],
    warnings: list[RowProblem],
) -> SheetCommitment | None:
    def problem(name: str, message: str) -> None:
        problems.append(RowProblem(number, label[name], message))

    if not cells["title"]:
        problem("title", "falta el nombre del compromiso")
    region_code = None
    if not cells["region"]:
        problem("region", "falta la región")
    else:
        region_code = places.region(raw["region"])
        if region_code is None:
            problem("region", f"'{cells['region']}' no es una región de Chile")
    item = SheetCommitment(number, cells["title"], region_code or "")
    if cells.get("id"):
        item.id = cells["id"]
    if cells.get("communes") and region_code:
        lookup = places.communes(cells["communes"], region_code)
        for message in lookup.problems:
            problem("communes", message)
        item.commune_codes = lookup.codes
    if cells.get("due"):
        item.due = sheet_due(raw["due"])
        if item.due is None:
            problem(
                "due", f"'{cells['due']}' no es una fecha (AAAA, AAAA-MM, AAAA-MM-DD o DD/MM/AAAA)"
            )
    if cells.get("priority"):
        item.priority_id = _priority(cells["priority"], keywords)
        if item.priority_id is None:
            known = ", ".join(p.name for p in keywords.priorities.values())
            warnings.append(
                RowProblem(
                    number,
                    label["priority"],
                    f"'{cells['priority']}' no es un eje conocido "
                    f"({known}); el compromiso queda sin prioridad",
                )
            )
    if cells.get("status"):
        item.status = next(
            (s for s in STATUSES if fold(s) == fold(cells["status"])), cells["status"]
        )
    item.ministry = cells.get("ministry") or None
    item.source = cells.get("source") or None
    return None if problems else item


def _priority(value: str, keywords: Keywords) -> str | None:
    wanted = header_key(value)
    for priority in keywords.priorities.values():
        if wanted in (header_key(priority.id), header_key(priority.name)):
            return priority.id
    for priority in keywords.priorities.values():  # "Seguridad" for "Seguridad pública"
        if header_key(priority.name).startswith(wanted) and len(wanted) >= 4:
            return priority.id
    return None


def sheet_due(value: Any) -> str | None:
    """A due date as sheets write it -> "2027", "2027-03" or "2027-03-15"; None if not a date.

    >>> sheet_due("15/03/2027"), sheet_due("03-2027"), sheet_due("marzo de 2027"), sheet_due(2027.0)
    ('2027-03-15', '2027-03', '2027-03', '2027')
    """
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = fold(_cell(value))
    if parse_due(text):
        return parse_due(text)
    if match := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text):
        day, month, year = match.groups()
        return parse_due(f"{year}-{int(month):02d}-{int(day):02d}")
    if match := re.fullmatch(r"(\d{1,2})[/.-](\d{4})", text):
        month, year = match.groups()
        return parse_due(f"{year}-{int(month):02d}")
    if match := re.fullmatch(r"([a-z]+)\.?(?:\s+de|\s*[-/])?\s*(\d{4})", text):
        month_name, year = match.groups()
        if month_name in _MONTHS:
            return f"{year}-{_MONTHS[month_name]:02d}"
    return None
