"""YAML loading that remembers where every value came from.

Analysts edit these files by hand; when something is wrong we must say which file, which line and
which field. ``load_yaml`` returns plain dicts and lists, except that mappings are ``LineDict``s
that know the line of each key, so validators can point at the exact place.

Hostile files are refused before anything walks them: keys must be plain scalars (no ``? [a, b]``),
and aliases may expand to at most ``ALIAS_BUDGET`` values in all (nine levels of nine aliases
would be 387 million values the first time something printed or walked the result).
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


ALIAS_BUDGET = 10_000  # values that aliases may add by expansion; real files use a handful


class _LineLoader(yaml.SafeLoader):
    def compose_document(self) -> yaml.Node | None:
        node = super().compose_document()
        if node is not None:
            _check_alias_expansion(node, self.name)
        return node


def _check_alias_expansion(root: yaml.Node, name: str) -> None:
    """Refuse a document whose aliases expand beyond ``ALIAS_BUDGET`` values (or loop).

    Counts the values of the document as if every alias were written out, without writing them
    out: each node's expanded size is computed once (iteratively, so depth costs no recursion).
    """
    sizes: dict[int, int] = {}
    distinct = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            distinct += 1
            if sizes[key] - distinct > ALIAS_BUDGET:
                raise ConfigError(
                    name,
                    node.start_mark.line + 1,
                    None,
                    f"YAML aliases expand to more than {ALIAS_BUDGET} values; write the values out",
                )
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ConfigError(
                name,
                node.start_mark.line + 1,
                None,
                "a YAML alias refers to the value that contains it",
            )
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise ConfigError(
                key_node.start_mark.name,
                key_node.start_mark.line + 1,
                None,
                "keys must be plain words, not lists or mappings",
            )
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ConfigError(
                key_node.start_mark.name, key_node.start_mark.line + 1, str(key), "duplicate key"
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


def load_yaml(path: Path | str) -> Any:
    """Parse a YAML file; syntax errors become ``ConfigError`` with file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(str(path), None, None, "file not found") from exc
    except IsADirectoryError as exc:
        raise ConfigError(str(path), None, None, "is a folder, not a file") from exc
    except PermissionError as exc:
        raise ConfigError(str(path), None, None, "cannot be read (permission denied)") from exc
    except OSError as exc:
        raise ConfigError(str(path), None, None, f"cannot be read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), None, None, f"not UTF-8 text ({exc.reason})") from exc
    return load_yaml_text(text, str(path))


def load_yaml_text(text: str, name: str) -> Any:
    """Parse YAML text; every failure is a ``ConfigError`` naming ``name`` (and the line)."""
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
    except RecursionError as exc:
        raise ConfigError(name, None, None, "nested too deeply") from exc
    finally:
        loader.dispose()


def line_of(value: Any, key: str | None = None) -> int | None:
    """Line of ``key`` in a LineDict (or of the mapping itself), None when unknown."""
    if isinstance(value, LineDict):
        return value.line_of(key) if key is not None else value.line
    return None


# The checks every keyword file shares (agenda/keywords.py, agenda/register.py).


def top_entry(path: Path, data: Any, key: str, kind: type = list) -> Any:
    """``data[key]``, which must be there and be a ``kind`` (list, or dict for a mapping)."""
    if not isinstance(data, dict) or key not in data:
        raise ConfigError(
            str(path), line_of(data), key, f"the file must have a top-level '{key}:' entry"
        )
    value = data[key]
    if not isinstance(value, kind):
        raise ConfigError(
            str(path), line_of(data, key), key, f"must be a {'list' if kind is list else 'mapping'}"
        )
    return value


def top_mapping(path: Path, data: Any, keys: str) -> LineDict:
    """The file's top level must be a mapping (``keys:`` …); an empty file is an empty one."""
    if data is None:
        return LineDict()
    if not isinstance(data, dict):
        raise ConfigError(
            str(path),
            line_of(data),
            None,
            f"must be a mapping with {keys}, not a {type(data).__name__}",
        )
    return data  # type: ignore[return-value]


def list_of(path: Path, data: LineDict, key: str) -> list[Any]:
    """``data[key]`` as a list (absent: empty); anything else is a ConfigError naming the key."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(
            str(path), line_of(data, key), key, f"must be a list, not a {type(value).__name__}"
        )
    return value


def str_list(
    path: Path, entry: LineDict, key: str, errors: list[ConfigError], required: bool = False
) -> tuple[str, ...]:
    """``entry[key]`` as stripped non-empty texts; a problem is appended to ``errors``."""
    value = entry.get(key)
    if value is None:
        if required:
            errors.append(ConfigError(str(path), entry.line, key, "missing required field"))
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        errors.append(
            ConfigError(str(path), entry.line_of(key), key, "must be a list of non-empty texts")
        )
        return ()
    return tuple(v.strip() for v in value)
