"""The messy sheet of commitments the import tests read: every region form, missing accents,
several communes, a blank row and one bad row of each kind. Written as .xlsx (openpyxl) and as
.csv in UTF-8 (semicolons) and Windows-1252 (commas), the ways spreadsheets export it."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

HEADER = [
    "N°",
    "Código",
    "Región",
    "Comuna(s)",
    "Nombre del compromiso",
    "Ministerio",
    "Eje",
    "Estado",
    "Fecha de término",
]
GOOD = [
    [
        1,
        "",
        "Región de Arica y Parinacota",
        "Arica",
        "Embalse Chironta, valle de Lluta",
        "Ministerio de Obras Públicas",
        "Infraestructura",
        "En ejecución",
        "2027-06",
    ],
    [
        2,
        "",
        "I",
        "Alto Hospicio",
        "Nueva Comisaría de Alto Hospicio",
        "Ministerio de Seguridad Pública",
        "Seguridad",
        "paralizado",
        "2025",
    ],
    [
        3,
        "",
        "Region de Antofagasta",
        "Antofagasta",
        "Centro de Salud Familiar La Portada",
        "Ministerio de Salud",
        "Salud",
        "En licitación",
        "marzo de 2027",
    ],
    [
        4,
        "",
        "Región del Libertador General Bernardo O’Higgins",
        "Rengo",
        "Hospital de Rengo",
        "Ministerio de Salud",
        "Salud",
        "En diseño",
        "2028",
    ],
    [
        5,
        "",
        "RM",
        "Puente Alto / La Florida y Penalolen",
        "Extensión Línea 4 del Metro",
        "Ministerio de Transportes",
        "Infraestructura y conectividad",
        "En ejecución",
        "15/12/2027",
    ],
    [
        6,
        "",
        "VIII Región",
        "Concepcion, Talcahuano; Hualpen",
        "Puente Industrial sobre el Biobío",
        "MOP",
        "Infraestructura",
        "Terminado",
        "2024-11-30",
    ],
    [
        7,
        "",
        "Araucania",
        "Temuco e Padre Las Casas",
        "Parque Isla Cautín",
        "MINVU",
        "Turismo",
        "En ejecución",
        "2026",
    ],
    [
        8,
        "",
        "Aysen",
        "Coyhaique",
        "Aeródromo Teniente Vidal",
        "Ministerio de Obras Públicas",
        "",
        "En licitación",
        "",
    ],
    [
        9,
        "",
        "Magallanes",
        "Cabo de Hornos",
        "Muelle multipropósito de Puerto Williams",
        "Ministerio de Obras Públicas",
        "Infraestructura",
        "en ejecución",
        "2027",
    ],
    [10, "", "O'Higgins", "Pichilemu", "Costanera de Pichilemu", "MOP", "", "", ""],
    [
        11,
        "",
        "XVI",
        "Chillan Viejo",
        "Liceo Bicentenario de Chillán Viejo",
        "Ministerio de Educación",
        "Educación",
        "En diseño",
        "2027-03-01",
    ],
    [12, "", "14", "Valdivia", "Puente Cau Cau", "MOP", "", "Paralizado", "2023"],
]
BLANK = ["", "", "", "", "", "", "", "", ""]
BAD = [
    [13, "", "Región 17", "Arica", "Hospital de Ninguna Parte", "Minsal", "Salud", "", ""],
    [14, "", "Valparaíso", "Chillán", "Centro cultural de Chillán", "Cultura", "", "", ""],
    [15, "", "Los Lagos", "Narnia", "Hospital de Narnia", "Minsal", "", "", ""],
    [16, "", "Maule", "Talca", "", "MOP", "", "", ""],
    [17, "", "", "Talca", "Hospital de Talca", "Minsal", "", "", ""],
    [
        18,
        "",
        "Coquimbo",
        "La Serena",
        "Mejoramiento de la Avenida del Mar",
        "MOP",
        "",
        "",
        "pronto",
    ],
    [
        19,
        "",
        "Region de Arica y Parinacota",
        "Arica",
        "embalse chironta,  valle de lluta",
        "MOP",
        "",
        "",
        "",
    ],
]
# Rows as the spreadsheet numbers them: the header is row 1, the blank row is row 14.
ROWS = [HEADER, *GOOD, BLANK, *BAD]
EXPECTED_ERRORS = [
    "fila 15: columna Región: 'Región 17' no es una región de Chile",
    "fila 16: columna Comuna(s): 'Chillán' es una comuna de Ñuble, no de Valparaíso",
    "fila 17: columna Comuna(s): 'Narnia' no es una comuna de Chile",
    "fila 18: columna Nombre del compromiso: falta el nombre del compromiso",
    "fila 19: columna Región: falta la región",
    "fila 20: columna Fecha de término: 'pronto' no es "
    "una fecha (AAAA, AAAA-MM, AAAA-MM-DD o DD/MM/AAAA)",
    "fila 21: columna Nombre del compromiso: 'embalse chironta, "
    "valle de lluta' repite el compromiso de la fila 2",
]


def write_xlsx(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in ROWS:
        values = list(row)
        if values[8] == "15/12/2027":
            values[8] = datetime(2027, 12, 15)  # a real date cell, as Excel keeps it
        sheet.append([None if v == "" else v for v in values])
    book.save(path)
    return path


def write_csv(path: Path, encoding: str, delimiter: str) -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(ROWS)
    return path
