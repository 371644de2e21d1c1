"""The exception tree, drawn once.

    AgendaError                   anything the CLI turns into a message and an exit code
    ├── ConfigError               a YAML file is wrong: names file, line and field (exit 2)
    ├── FetchError                a source could not be fetched: names the source and the reason
    │   └── FetchTooLarge         the body went over the size cap
    ├── ParseError                a fetched body is not a feed / page we can read
    └── DeliveryError             the digest could not be sent (it stays in the outbox)

Lower-level errors (httpx, yaml, smtplib) are translated at the module boundary and re-raised
``from exc`` so the original cause stays in the traceback for developers.
"""

from __future__ import annotations


class AgendaError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = 1


class ConfigError(AgendaError):
    """A configuration file is invalid.

    >>> str(ConfigError("sources.yaml", 12, "kind", "unknown kind 'rdf'"))
    "sources.yaml:12: field 'kind': unknown kind 'rdf'"
    """

    exit_code = 2

    def __init__(self, path: str, line: int | None, field: str | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        if self.field:
            return f"{where}: field '{self.field}': {self.message}"
        return f"{where}: {self.message}"


class ConfigErrors(AgendaError):
    """Several configuration errors found in one pass, so an analyst fixes them all at once."""

    exit_code = 2

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class FetchError(AgendaError):
    """A source could not be fetched; ``reason`` is meant for an analyst."""

    def __init__(self, source_id: str, reason: str) -> None:
        self.source_id = source_id
        self.reason = reason
        super().__init__(f"{source_id}: {reason}")


class FetchTooLarge(FetchError):
    pass


class ParseError(AgendaError):
    def __init__(self, source_id: str, reason: str) -> None:
        self.source_id = source_id
        self.reason = reason
        super().__init__(f"{source_id}: {reason}")


class DeliveryError(AgendaError):
    pass
