"""When an article was published: the dates listing pages write ("martes 24 de noviembre de
2026, 08:30", "Hace 3 horas"), read in UTC, and which times are plausible at all.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agenda.common import SANTIAGO
from agenda.textnorm import strip_controls

# A publication time outside these years is a site's bug (year 1, year 9999): "no date".
OLDEST_YEAR, NEWEST_YEAR = 1990, 2100
DATEPARSER_SETTINGS = {  # Chilean sites: day before month, Santiago's clock, past dates
    "DATE_ORDER": "DMY",
    "TIMEZONE": "America/Santiago",
    "RETURN_AS_TIMEZONE_AWARE": True,
    "PREFER_DATES_FROM": "past",
}


def plausible(moment: datetime) -> bool:
    """A publication time a news site could really have (not year 1 nor year 9999)."""
    return OLDEST_YEAR <= moment.year <= NEWEST_YEAR


def parse_date(value: str, now: datetime | None = None) -> datetime | None:
    """A listing page's date as Chilean sites write it, in UTC; naive times are Santiago's.

    ISO 8601 first (the ``datetime`` attribute); then dateparser in Spanish, day before month:
    "24 nov 2026", "martes 24 de noviembre de 2026, 08:30", "24/11/2026 08:30", "24-11-2026",
    "Hace 3 horas" (relative to ``now``). An impossible date (year 9999) is None.

    >>> parse_date("2026-11-24T09:15:00-03:00").isoformat()
    '2026-11-24T12:15:00+00:00'
    >>> parse_date("Hace 3 horas", datetime(2026, 11, 24, 13, 0, tzinfo=timezone.utc)).isoformat()
    '2026-11-24T10:00:00+00:00'
    """
    value = strip_controls(value).strip()[:200]  # a date is short: the rest is page noise
    if not value:
        return None
    try:
        parsed: datetime | None = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = _dateparser(value, now)
    if parsed is None:
        return None
    try:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=SANTIAGO)
        parsed = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return parsed if plausible(parsed) else None


def _dateparser(value: str, now: datetime | None) -> datetime | None:
    """dateparser, imported here (only HTML listings need it); its locale data ship in the wheel,
    so it never downloads anything. A date inside a sentence is found with ``search_dates``."""
    import dateparser
    from dateparser.search import search_dates

    settings: dict[str, object] = dict(DATEPARSER_SETTINGS)
    if now is not None:
        settings["RELATIVE_BASE"] = now.astimezone(SANTIAGO).replace(tzinfo=None)
    try:
        parsed = dateparser.parse(value, languages=["es"], settings=settings)
        if parsed is None:
            found = search_dates(value, languages=["es"], settings=settings)
            parsed = found[0][1] if found else None
    except (OverflowError, ValueError, TypeError):  # year 9999 overflows inside dateparser
        return None
    return parsed
