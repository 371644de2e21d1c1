"""Logging: readable lines for people, one JSON object per line for machines (``--log-json``),
and the run id on every line either way, so a morning's grep finds one night's story.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime

run_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("run_id", default=None)


class _RunIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = run_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "run_id": getattr(record, "run_id", None),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class LineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        run = getattr(record, "run_id", None)
        prefix = f"[run {run}] " if run is not None else ""
        line = f"{record.levelname} {prefix}{record.name}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not the one at setup: a
    test harness (or anything) that swaps and closes stderr never leaves a dead stream behind
    ("I/O operation on closed file")."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # noqa: ANN001
        pass  # always the current sys.stderr


def configure(json_lines: bool = False, verbose: bool = False, stream=None) -> None:  # noqa: ANN001
    """Set up the root logger (stderr by default). Called again, it replaces its own handler
    and leaves other handlers (pytest's capture, an embedding application's) alone."""
    handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderr()
    handler.setFormatter(JsonFormatter() if json_lines else LineFormatter())
    handler.addFilter(_RunIdFilter())
    handler._agenda = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_agenda", False):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose or json_lines else logging.WARNING)
    for noisy in ("httpx", "httpcore", "apscheduler.executors", "trafilatura"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
