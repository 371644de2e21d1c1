"""The exception tree, drawn once.

    AgendaError                   anything the CLI turns into a message and an exit code
    ├── ConfigError               a YAML file is wrong: names file, line and field (exit 2)
    ├── ConfigErrors              several ConfigErrors found in one pass (exit 2)
    ├── UsageError                an option or path cannot be used as given (exit 2)
    │   ├── DatabaseError         --db is missing, not SQLite, damaged, read-only or foreign
    │   └── SearchQueryError      a full-text query that SQLite cannot parse
    ├── RunLocked                 another run holds the lock (exit 3)
    ├── SourceError               one source failed: names the source and the reason
    │   ├── FetchError            it could not be fetched (network, HTTP status)
    │   │   ├── FetchTooLarge     the body went over the size cap
    │   │   └── BlockedAddress    a private or reserved address (netguard): no request sent
    │   └── ParseError            the body is not a feed / page we can read
    └── DeliveryError             the digest could not be sent (it stays in the outbox)

Lower-level errors (httpx, yaml, smtplib) are translated at the module boundary and re-raised
``from exc`` so the original cause stays in the traceback for developers.
"""

from __future__ import annotations

# Exit codes, one name each; cli.py and commands.py return these and nothing else.
EXIT_OK = 0  # all well
EXIT_PARTIAL = 1  # the run finished but some source failed, or a mail did not go
EXIT_CONFIG = 2  # configuration or usage error: one line naming the file or option
EXIT_LOCKED = 3  # another run holds the lock
EXIT_INTERRUPTED = 130  # Ctrl-C


class AgendaError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = EXIT_PARTIAL


class ConfigError(AgendaError):
    """A configuration file is invalid.

    >>> str(ConfigError("sources.yaml", 12, "kind", "unknown kind 'rdf'"))
    "sources.yaml:12: field 'kind': unknown kind 'rdf'"
    """

    exit_code = EXIT_CONFIG

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

    exit_code = EXIT_CONFIG

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class SourceError(AgendaError):
    """One source failed; ``reason`` is meant for an analyst and lands on the source's row."""

    def __init__(self, source_id: str, reason: str) -> None:
        self.source_id = source_id
        self.reason = reason
        super().__init__(f"{source_id}: {reason}")


class FetchError(SourceError):
    pass


class FetchTooLarge(FetchError):
    pass


class BlockedAddress(FetchError):
    pass


class ParseError(SourceError):
    pass


class DeliveryError(AgendaError):
    pass


class UsageError(AgendaError):
    """An option or path cannot be used as given (a directory where a file is expected, a
    backup over an existing file, a database that does not exist yet)."""

    exit_code = EXIT_CONFIG


class DatabaseError(UsageError):
    """The --db file is missing, not SQLite, damaged, read-only or another application's."""


class SearchQueryError(UsageError):
    """A full-text query SQLite cannot parse (an unclosed quote, a dangling AND)."""


class RunLocked(AgendaError):
    """Another run holds the lock (exit code 3)."""

    exit_code = EXIT_LOCKED
