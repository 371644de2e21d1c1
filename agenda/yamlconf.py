"""YAML loading that remembers where every value came from.

Analysts edit these files by hand; when something is wrong we must say which file, which line and
which field. ``load_yaml`` returns plain dicts and lists, except that mappings are ``LineDict``s
that know the line of each key, so validators can point at the exact place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from agenda.errors import ConfigError


class LineDict(dict):  # type: ignore[type-arg]
    """A dict that remembers the 1-based line of itself and of each of its keys."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ConfigError(
                key_node.start_mark.name, key_node.start_mark.line + 1, str(key), "duplicate key"
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping  # type: ignore[arg-type]
)


def load_yaml(path: Path | str) -> Any:
    """Parse a YAML file; syntax errors become ``ConfigError`` with file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(str(path), None, None, "file not found") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), None, None, f"not UTF-8 text ({exc.reason})") from exc
    return load_yaml_text(text, str(path))


def load_yaml_text(text: str, name: str) -> Any:
    loader = _LineLoader(text)
    loader.name = name  # marks carry this name
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise ConfigError(name, line, None, f"YAML syntax error: {problem}{context}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(name, None, None, f"YAML error: {exc}") from exc
    finally:
        loader.dispose()


def line_of(value: Any, key: str | None = None) -> int | None:
    """Line of ``key`` in a LineDict (or of the mapping itself), None when unknown."""
    if isinstance(value, LineDict):
        return value.line_of(key) if key is not None else value.line
    return None
