"""How readers' Spanish is written: dates, lists, the regions' north-to-south order. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

WEEKDAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MONTHS = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]
# Regions from north to south, the order a reader holds in mind (coverage table and chart).
NORTH_TO_SOUTH = (
    "15",
    "01",
    "02",
    "03",
    "04",
    "05",
    "13",
    "06",
    "07",
    "16",
    "08",
    "09",
    "14",
    "10",
    "11",
    "12",
)


def spanish_date(day: date) -> str:
    """A day in words, as readers write it.

    >>> spanish_date(date(2026, 11, 24))
    'martes 24 de noviembre de 2026'
    """
    return f"{WEEKDAYS[day.weekday()]} {day.day} de {MONTHS[day.month - 1]} de {day.year}"


def spanish_list(items: Sequence[str]) -> str:
    """Items joined with commas and a final "y".

    >>> spanish_list(["Biobío", "Ñuble", "Maule"])
    'Biobío, Ñuble y Maule'
    """
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " y " + items[-1]


def spanish_number(value: float, decimals: int = 0) -> str:
    """Chilean style: a point between thousands, a comma before decimals.

    >>> spanish_number(2000), spanish_number(8.1, 1), spanish_number(999)
    ('2.000', '8,1', '999')
    """
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def count_words(value: int, singular: str, plural: str | None = None) -> str:
    """A count and its noun, singular or plural, the number in Chilean style.

    >>> count_words(1, "nota"), count_words(2000, "nota"), count_words(3, "región", "regiones")
    ('1 nota', '2.000 notas', '3 regiones')
    """
    return f"{spanish_number(value)} {singular if value == 1 else plural or singular + 's'}"


def spanish_period(first: date, last: date) -> str:
    """A period as a title says it, naming the month and year once where they are shared.

    >>> spanish_period(date(2026, 11, 18), date(2026, 11, 24))
    '18 al 24 de noviembre de 2026'
    >>> spanish_period(date(2026, 10, 28), date(2026, 11, 3))
    '28 de octubre al 3 de noviembre de 2026'
    >>> spanish_period(date(2026, 11, 24), date(2026, 11, 24))
    '24 de noviembre de 2026'
    """
    end = f"{last.day} de {MONTHS[last.month - 1]} de {last.year}"
    if first == last:
        return end
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day} al {end}"
    if first.year == last.year:
        return f"{first.day} de {MONTHS[first.month - 1]} al {end}"
    return f"{first.day} de {MONTHS[first.month - 1]} de {first.year} al {end}"


# "Región del Biobío", "Región Metropolitana": the article the official names use
_REGION_PREFIX = {"Maule": "Región del ", "Biobío": "Región del ", "Metropolitana": "Región "}


def region_title(name: str) -> str:
    """A region's name as a title writes it.

    >>> region_title("Valparaíso"), region_title("Biobío")
    ('Región de Valparaíso', 'Región del Biobío')
    """
    return _REGION_PREFIX.get(name, "Región de ") + name
