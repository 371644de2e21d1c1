"""How readers' Spanish is written: dates, lists, the regions' north-to-south order. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

WEEKDAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
          "octubre", "noviembre", "diciembre"]
# Regions from north to south, the order a reader holds in mind (coverage table and chart).
NORTH_TO_SOUTH = ("15", "01", "02", "03", "04", "05", "13", "06", "07", "16", "08", "09", "14", "10", "11", "12")


def spanish_date(day: date) -> str:
    """>>> spanish_date(date(2026, 11, 24))
    'martes 24 de noviembre de 2026'
    """
    return f"{WEEKDAYS[day.weekday()]} {day.day} de {MONTHS[day.month - 1]} de {day.year}"


def spanish_list(items: Sequence[str]) -> str:
    """>>> spanish_list(["Biobío", "Ñuble", "Maule"])
    'Biobío, Ñuble y Maule'
    """
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " y " + items[-1]
