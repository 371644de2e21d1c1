"""Standing topics (``keywords/topics.yaml``): subjects the authorities follow every day.

    topics:
      - id: sequia-coquimbo
        title: Sequía en Coquimbo
        query: sequía OR "escasez hídrica" OR "camiones aljibe"   # SQLite FTS5 syntax
        regions: ["04"]            # optional
        requested_by: Gabinete     # optional, shown in the digest

Validated like the other keyword files (file, line, field); a query FTS5 cannot parse is a
configuration error. The file is optional: no file, no topics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agenda.errors import ConfigError, ConfigErrors
from agenda.sources import normalise_region
from agenda.yamlconf import LineDict, line_of, load_yaml

if TYPE_CHECKING:
    from agenda.keywords import Keywords

TOPICS_FILE = "topics.yaml"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_KNOWN_FIELDS = {"id", "title", "query", "regions", "requested_by"}


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    query: str
    region_codes: tuple[str, ...] = ()
    requested_by: str | None = None


def load_topics(directory: Path, keywords: Keywords) -> None:
    """Read ``directory/topics.yaml`` into ``keywords.topics``; raises ``ConfigErrors``."""
    from agenda.store.briefs import (
        fts_query_error,  # the store imports the linker, which imports keywords
    )

    path = directory / TOPICS_FILE
    if not path.exists():
        return
    data = load_yaml(path) or {}
    if not isinstance(data, dict) or not isinstance(data.get("topics", []), list):
        raise ConfigError(
            str(path), line_of(data), "topics", "the file must have a top-level 'topics:' list"
        )
    errors: list[ConfigError] = []
    seen: set[str] = set()
    for entry in data.get("topics") or []:
        if not isinstance(entry, LineDict):
            errors.append(
                ConfigError(
                    str(path), line_of(data, "topics"), "topics", "each topic must be a mapping"
                )
            )
            continue
        before = len(errors)
        for unknown in sorted(set(entry) - _KNOWN_FIELDS):
            errors.append(
                ConfigError(
                    str(path),
                    entry.line_of(unknown),
                    unknown,
                    f"unknown field (known: {', '.join(sorted(_KNOWN_FIELDS))})",
                )
            )
        for required in ("id", "title", "query"):
            if not isinstance(entry.get(required), str) or not entry[required].strip():
                errors.append(
                    ConfigError(
                        str(path), entry.line_of(required), required, "missing required text"
                    )
                )
        topic_id = str(entry.get("id") or "").strip()
        if topic_id and not _ID_RE.match(topic_id):
            errors.append(
                ConfigError(
                    str(path),
                    entry.line_of("id"),
                    "id",
                    f"'{topic_id}' must be lowercase letters, digits, '-' or '_'",
                )
            )
        elif topic_id in seen:
            errors.append(
                ConfigError(
                    str(path), entry.line_of("id"), "id", f"duplicate topic id '{topic_id}'"
                )
            )
        seen.add(topic_id)
        query = entry.get("query")
        if isinstance(query, str) and query.strip():
            problem = fts_query_error(query)
            if problem:
                errors.append(
                    ConfigError(
                        str(path),
                        entry.line_of("query"),
                        "query",
                        f"not a valid full-text query ({problem}): {query}",
                    )
                )
        regions = entry.get("regions") or []
        if not isinstance(regions, list):
            errors.append(
                ConfigError(
                    str(path), entry.line_of("regions"), "regions", "must be a list of region codes"
                )
            )
            regions = []
        codes = []
        for value in regions:
            code = normalise_region(value)
            if code is None or code == "national":
                errors.append(
                    ConfigError(
                        str(path),
                        entry.line_of("regions"),
                        "regions",
                        f"unknown region code '{value}'",
                    )
                )
            else:
                codes.append(code)
        requested_by = entry.get("requested_by")
        if requested_by is not None and not isinstance(requested_by, str):
            errors.append(
                ConfigError(
                    str(path), entry.line_of("requested_by"), "requested_by", "must be a text"
                )
            )
        if len(errors) > before:
            continue
        keywords.topics[topic_id] = Topic(
            topic_id,
            entry["title"].strip(),
            str(query).strip(),
            tuple(codes),
            requested_by,
        )
    if errors:
        raise ConfigErrors(errors)
