"""The analysts' source list: ``sources.yaml``, loaded and validated once.

Every problem names the file, the line and the field; all problems in the file are collected
and reported together (an analyst fixes them in one go).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agenda.common import ALLOWED_SCHEMES
from agenda.errors import ConfigError, ConfigErrors
from agenda.yamlconf import LineDict, line_of, load_yaml

KINDS = ("rss", "atom", "html")
REGION_CODES = tuple(f"{n:02d}" for n in range(1, 17))
NATIONAL = "national"
SELECTOR_FIELDS = ("item", "link", "title", "date", "summary")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_KNOWN_FIELDS = {"id", "name", "url", "kind", "region", "enabled", "tags", "selectors", "fulltext"}


@dataclass(frozen=True)
class Selectors:
    """CSS selectors for an HTML listing page; ``link``/``title``/... are relative to ``item``."""

    item: str
    link: str
    title: str
    date: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    url: str
    kind: str
    region_code: str  # "01".."16" or "national"
    enabled: bool = True
    tags: tuple[str, ...] = ()
    selectors: Selectors | None = None
    fulltext: bool = False
    line: int = 0  # where it is defined, for messages

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc.lower()


@dataclass
class SourceList:
    path: Path
    sources: list[Source] = field(default_factory=list)

    @property
    def enabled(self) -> list[Source]:
        return [s for s in self.sources if s.enabled]

    def by_id(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)


def normalise_region(value: Any) -> str | None:
    """'8', 8, '08' -> '08'; 'national' -> 'national'; anything else -> None.

    YAML reads an unquoted 05 as the integer 5, so integers are accepted on purpose.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = f"{value:02d}"
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value.lower() == NATIONAL:
        return NATIONAL
    if value.isdigit() and len(value) <= 2:
        value = value.zfill(2)
    return value if value in REGION_CODES else None


def selector_problem(selector: Any) -> str | None:
    """Why ``selector`` is not a CSS selector the extractor can use (None when it is, or absent).

    Compiled with soupsieve, the engine BeautifulSoup's ``select`` uses, so a selector that
    passes here is one the extractor can run: `sources check` must not pass a broken one.
    """
    if selector is None or selector == "":
        return None
    if not isinstance(selector, str):
        return f"must be a CSS selector in quotes, not {type(selector).__name__}"
    import soupsieve  # local: only files with html sources need it

    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as exc:
        first_line = str(exc).splitlines()[0]
        return f"'{selector}' is not a valid CSS selector ({first_line})"
    return None


def load_sources(path: Path | str) -> SourceList:
    """Read and validate a sources file, raising ``ConfigErrors`` listing every problem."""
    path = Path(path)
    data = load_yaml(path)
    name = str(path)
    errors: list[ConfigError] = []
    if not isinstance(data, dict) or "sources" not in data:
        raise ConfigError(
            name, line_of(data), "sources", "the file must have a top-level 'sources:' list"
        )
    entries = data["sources"]
    if not isinstance(entries, list):
        raise ConfigError(name, line_of(data, "sources"), "sources", "must be a list of sources")
    result = SourceList(path=path)
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        try:
            source = _parse_source(name, index, entry)
        except ConfigErrors as exc:
            errors.extend(exc.errors)
            continue
        if source.id in seen:
            errors.append(
                ConfigError(
                    name,
                    source.line,
                    "id",
                    f"duplicate id '{source.id}' (first on line {seen[source.id]})",
                )
            )
            continue
        seen[source.id] = source.line
        result.sources.append(source)
    if errors:
        raise ConfigErrors(errors)
    return result


def _parse_source(name: str, index: int, entry: Any) -> Source:
    errors: list[ConfigError] = []
    if not isinstance(entry, LineDict):
        raise ConfigErrors(
            [
                ConfigError(
                    name,
                    None,
                    f"sources[{index}]",
                    "each source must be a mapping (id:, name:, url:, ...)",
                )
            ]
        )
    line = entry.line

    def err(key: str, message: str) -> None:
        errors.append(ConfigError(name, entry.line_of(key), key, message))

    for key in entry:
        if key not in _KNOWN_FIELDS:
            err(str(key), f"unknown field (known: {', '.join(sorted(_KNOWN_FIELDS))})")
    for required in ("id", "name", "url", "kind", "region"):
        if entry.get(required) in (None, ""):
            errors.append(
                ConfigError(name, line, required, f"missing required field in source #{index + 1}")
            )

    source_id = str(entry.get("id") or "")
    if source_id and not _ID_RE.match(source_id):
        err("id", f"'{source_id}' must be lowercase letters, digits, '-' or '_'")
    url = str(entry.get("url") or "")
    if url:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (reading it validates the port: "http://x:99999" raises)
        except ValueError as exc:
            err("url", f"'{url}' is not a valid address ({exc})")
        else:
            if parts.scheme not in ALLOWED_SCHEMES or not parts.hostname:
                err("url", f"'{url}' must be an http:// or https:// address")
    kind = entry.get("kind")
    if kind is not None and kind not in KINDS:
        err("kind", f"unknown kind '{kind}' (expected one of: {', '.join(KINDS)})")
    region_code = None
    if entry.get("region") is not None:
        region_code = normalise_region(entry.get("region"))
        if region_code is None:
            err(
                "region",
                f"unknown region code '{entry.get('region')}' (expected 01..16 or 'national')",
            )
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        err("enabled", "must be true or false")
    fulltext = entry.get("fulltext", False)
    if not isinstance(fulltext, bool):
        err("fulltext", "must be true or false")
    tags = entry.get("tags", []) or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        err("tags", "must be a list of words")
        tags = []
    selectors = None
    raw_selectors = entry.get("selectors")
    if kind == "html":
        if not isinstance(raw_selectors, LineDict):
            err(
                "selectors",
                "an html source needs selectors: item, link, title (date, summary optional)",
            )
        else:
            for key in raw_selectors:
                if key not in SELECTOR_FIELDS:
                    errors.append(
                        ConfigError(
                            name,
                            raw_selectors.line_of(key),
                            f"selectors.{key}",
                            f"unknown selector (known: {', '.join(SELECTOR_FIELDS)})",
                        )
                    )
            for key in ("item", "link", "title"):
                if not raw_selectors.get(key):
                    errors.append(
                        ConfigError(
                            name,
                            raw_selectors.line,
                            f"selectors.{key}",
                            "missing required selector",
                        )
                    )
            for key in SELECTOR_FIELDS:
                problem = selector_problem(raw_selectors.get(key))
                if problem:
                    errors.append(
                        ConfigError(name, raw_selectors.line_of(key), f"selectors.{key}", problem)
                    )
            if not errors:
                selectors = Selectors(
                    item=str(raw_selectors["item"]),
                    link=str(raw_selectors["link"]),
                    title=str(raw_selectors["title"]),
                    date=raw_selectors.get("date"),
                    summary=raw_selectors.get("summary"),
                )
    elif raw_selectors is not None:
        err("selectors", "selectors only apply to sources of kind 'html'")
    if errors:
        raise ConfigErrors(errors)
    return Source(
        id=source_id,
        name=str(entry["name"]),
        url=url,
        kind=str(kind),
        region_code=region_code or NATIONAL,
        enabled=bool(enabled),
        tags=tuple(tags),
        selectors=selectors,
        fulltext=bool(fulltext),
        line=line,
    )


# -- appending a source (``agenda sources add``) --------------------------------------------------
_SEQUENCE_ITEM = re.compile(r"^( *)- ", re.M)


def suggest_id(url: str, taken: set[str]) -> str:
    """A stable id from the site's name: 'https://www.diarioelsur.cl/feed' -> 'diarioelsur'.

    >>> suggest_id("https://www.diarioelsur.cl/feed/", {"diarioelsur"})
    'diarioelsur-2'
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or re.fullmatch(
        r"[\d.]+|\[?[0-9a-f:]+\]?", host
    ):  # an address, not a name: use the path
        words = [
            w
            for w in parts.path.lower().split("/")
            if w and w not in ("feed", "rss", "home", "index.html")
        ]
        base = words[-1].rsplit(".", 1)[0] if words else "fuente"
    else:
        labels = [
            label for label in host.split(".") if label not in ("www", "m", "amp", "feeds", "rss")
        ]
        base = labels[0] if len(labels) > 1 else host
    base = re.sub(r"[^a-z0-9-]+", "-", base).strip("-") or "fuente"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def append_source(path: Path | str, entry: dict[str, Any]) -> None:
    """Append one source to the file, keeping every comment, blank line and entry as it was.

    ruamel.yaml round-trips the file; if its output does not start with the original text byte
    for byte (it reformatted something), the entry alone is rendered and appended instead.
    The result is validated with ``load_sources``; on any problem the original file is restored.
    """
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    path = Path(path)
    original = path.read_text(encoding="utf-8") if path.exists() else "sources:\n"
    if not original.strip():
        original = "sources:\n"
    first_item = _SEQUENCE_ITEM.search(original[original.find("sources:") :])
    offset = len(first_item.group(1)) if first_item else 2
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap an analyst's long lines
    yaml.indent(mapping=2, sequence=offset + 2, offset=offset)
    mapping = CommentedMap()
    for key, value in entry.items():
        if key == "region" and value != NATIONAL:
            value = DoubleQuotedScalarString(value)  # "08", not the integer 8
        mapping[key] = value
    data = yaml.load(original)
    if data.get("sources") is None:
        data["sources"] = []
    data["sources"].append(mapping)
    rendered = io.StringIO()
    yaml.dump(data, rendered)
    updated = rendered.getvalue()
    if not updated.startswith(original.rstrip("\n")):
        single = io.StringIO()
        yaml.dump([mapping], single)
        indented = "".join(
            " " * offset + line if line.strip() else line
            for line in single.getvalue().splitlines(True)
        )
        updated = original.rstrip("\n") + "\n" + indented
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(updated, encoding="utf-8")
    try:
        load_sources(temporary)
    except (ConfigError, ConfigErrors):
        temporary.unlink()
        raise
    temporary.replace(path)
