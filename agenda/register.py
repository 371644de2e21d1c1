"""The register of commitments (keywords/commitments.yaml), read and validated.

Each commitment made to a region: its title, region and communes, the names the press calls it
by, its priority and the office's official fields (status, due date, source, ministry).
``agenda eval --register`` and ``agenda commitments import`` read registers the same way.
Every problem names the file, the line and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agenda.commitment_names import facility_words
from agenda.errors import ConfigError, ConfigErrors
from agenda.sources import normalise_region
from agenda.yamlconf import LineDict, load_yaml, str_list, top_entry

if TYPE_CHECKING:
    from agenda.keywords import Keywords


@dataclass(frozen=True)
class Commitment:
    id: str
    title: str
    region_code: str
    commune_codes: tuple[str, ...]
    aliases: tuple[str, ...]
    facility_words: tuple[str, ...]
    priority_id: str | None
    ministry: str | None
    status: str | None = None  # the official status as the office's sheet writes it
    due: str | None = None  # "2027", "2027-03" or "2027-03-15"
    source: str | None = None  # where it was promised

    # Press names written by `agenda commitments import` (agenda/commitment_names.py): matched
    # like aliases, kept apart so an analyst sees which names were written by hand.
    generated_aliases: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        """Every name the commitment is matched by: hand-written aliases, then generated ones."""
        return tuple(dict.fromkeys(self.aliases + self.generated_aliases))


def load_commitments(path: Path, keywords: Keywords) -> None:
    """Read a register of commitments into ``keywords`` (places and priorities already loaded).

    The keywords directory's commitments.yaml is read this way; ``agenda eval --register`` reads
    another register over the same places.
    """
    read_commitments(path, load_yaml(path), keywords)


def read_commitments(path: Path, data: Any, keywords: Keywords) -> None:
    """Validate commitments.yaml's parsed ``data`` into ``keywords.commitments`` (also used by
    the import to check the file it is about to write)."""
    errors: list[ConfigError] = []
    for entry in top_entry(path, data, "commitments"):
        if not isinstance(entry, LineDict):
            errors.append(
                ConfigError(str(path), None, "commitments", "each commitment must be a mapping")
            )
            continue
        before = len(errors)
        for required in ("id", "title", "region"):
            if not entry.get(required):
                errors.append(
                    ConfigError(str(path), entry.line, required, "missing required field")
                )
        region_code = normalise_region(entry.get("region"))
        if entry.get("region") and (region_code is None or region_code == "national"):
            errors.append(
                ConfigError(
                    str(path),
                    entry.line_of("region"),
                    "region",
                    f"unknown region code '{entry.get('region')}'",
                )
            )
        communes = str_list(path, entry, "communes", errors)
        for code in communes:
            place = keywords.places.get(f"commune:{code}")
            if place is None:
                errors.append(
                    ConfigError(
                        str(path),
                        entry.line_of("communes"),
                        "communes",
                        f"unknown commune code '{code}'",
                    )
                )
            elif region_code and place.region_code != region_code:
                errors.append(
                    ConfigError(
                        str(path),
                        entry.line_of("communes"),
                        "communes",
                        f"commune {code} ({place.name}) is not in region {region_code}",
                    )
                )
        generated = str_list(path, entry, "generated_aliases", errors)
        aliases = str_list(path, entry, "aliases", errors, required=not generated)
        for key, names in (("aliases", aliases), ("generated_aliases", generated)):
            for alias in names:
                if len(alias.split()) < 2:
                    errors.append(
                        ConfigError(
                            str(path),
                            entry.line_of(key),
                            key,
                            f"alias '{alias}' is a single word; use a specific phrase",
                        )
                    )
        # No facility list: the kind of work the title names ("Hospital ..." -> hospital).
        if "facility" in entry:
            facility = str_list(path, entry, "facility", errors)
        else:
            facility = tuple(facility_words(str(entry.get("title") or "")))
        priority_id = entry.get("priority")
        if priority_id is not None and not isinstance(priority_id, str):
            known = ", ".join(keywords.priorities)
            errors.append(
                ConfigError(
                    str(path),
                    entry.line_of("priority"),
                    "priority",
                    f"must be one priority id (known: {known})",
                )
            )
        elif priority_id is not None and priority_id not in keywords.priorities:
            errors.append(
                ConfigError(
                    str(path),
                    entry.line_of("priority"),
                    "priority",
                    f"unknown priority '{priority_id}' (known: {', '.join(keywords.priorities)})",
                )
            )
        official = _official_fields(path, entry, errors)
        commitment_id = str(entry.get("id") or "")
        if commitment_id in keywords.commitments:
            errors.append(
                ConfigError(
                    str(path),
                    entry.line_of("id"),
                    "id",
                    f"duplicate commitment id '{commitment_id}'",
                )
            )
        if len(errors) > before:
            continue
        keywords.commitments[commitment_id] = Commitment(
            id=commitment_id,
            title=str(entry["title"]),
            region_code=str(region_code),
            commune_codes=communes,
            aliases=aliases,
            facility_words=facility,
            priority_id=priority_id,
            ministry=official.get("ministry"),
            status=official.get("status"),
            due=official.get("due"),
            source=official.get("source"),
            generated_aliases=generated,
        )
    if errors:
        raise ConfigErrors(errors)


_DUE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_due(value: Any) -> str | None:
    """A commitment's due date as written in commitments.yaml, checked; None when invalid.

    >>> parse_due("2027-03"), parse_due(2027), parse_due("2027-02-30")
    ('2027-03', '2027', None)
    """
    if isinstance(value, date):  # YAML reads an unquoted 2027-03-15 as a date
        return value.isoformat()[:10]
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    match = _DUE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    try:
        date(year or 0, month or 1, day or 1)
    except ValueError:
        return None
    return value.strip()


def due_end(due: str) -> date:
    """The last day a due date allows: "2027" -> 2027-12-31, "2027-02" -> 2027-02-28."""
    parts = [int(part) for part in due.split("-")]
    if len(parts) == 3:
        return date(*parts)
    if len(parts) == 2:
        year, month = parts
        return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return date(parts[0], 12, 31)


def _official_fields(path: Path, entry: LineDict, errors: list[ConfigError]) -> dict[str, str]:
    """status, due, source and ministry: optional texts from the office's list."""
    found: dict[str, str] = {}
    for key in ("status", "source", "ministry"):
        value = entry.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            errors.append(
                ConfigError(str(path), entry.line_of(key), key, "must be a non-empty text")
            )
            continue
        found[key] = value.strip()
    if entry.get("due") is not None:
        due = parse_due(entry["due"])
        if due is None:
            errors.append(
                ConfigError(
                    str(path),
                    entry.line_of("due"),
                    "due",
                    f"'{entry['due']}' is not a date like 2027, 2027-03 or 2027-03-15",
                )
            )
        else:
            found["due"] = due
    return found
