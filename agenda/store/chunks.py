"""Long lists of values in ``where x in (?, ?, …)`` queries, a chunk at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

CHUNK = 500  # SQLite's limit on ? placeholders is 999 in older builds


def in_chunks(values: Iterable[Any]) -> Iterator[tuple[list[Any], str]]:
    """Each chunk of the values (duplicates dropped, order kept) with its "?,?,…" placeholders.

    >>> [(chunk, marks) for chunk, marks in in_chunks(["a", "b", "a"])]
    [(['a', 'b'], '?,?')]
    """
    wanted = list(dict.fromkeys(values))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        yield chunk, ",".join("?" * len(chunk))
