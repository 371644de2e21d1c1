"""What a fetch leaves behind, shared by the collector (which makes it) and the store (which keeps
it), so that the store imports no stage module: the fetch's result, the state kept for the next
conditional GET, and the rule for when a failing source is tried again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from agenda.common import exponential_delay

if TYPE_CHECKING:
    from agenda.sources import Source

BACKOFF_BASE = timedelta(hours=1)
BACKOFF_CAP = timedelta(hours=48)
DUE_TOLERANCE = timedelta(
    minutes=5
)  # cron starts drift by seconds: "due at 01:00:02" runs at 01:00


def backoff_delay(consecutive_failures: int) -> timedelta:
    """How long a source rests after its n-th failure in a row: 1 h, 2 h, 4 h … at most 48 h.

    >>> [backoff_delay(n).total_seconds() / 3600 for n in (1, 2, 3, 6, 7, 20)]
    [1.0, 2.0, 4.0, 32.0, 48.0, 48.0]
    """
    return exponential_delay(consecutive_failures, BACKOFF_BASE, BACKOFF_CAP)


def next_attempt_at(
    now: datetime, consecutive_failures: int, retry_after_seconds: float | None = None
) -> datetime:
    """The earliest time a failing source is tried again (a server's Retry-After is respected)."""
    delay = backoff_delay(consecutive_failures)
    if retry_after_seconds:
        delay = max(delay, timedelta(seconds=min(retry_after_seconds, BACKOFF_CAP.total_seconds())))
    return now + delay


@dataclass(frozen=True)
class FetchState:
    """What we remember between runs for conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FetchResult:
    source: Source
    status: str  # "ok" | "not_modified" | "error"
    body: bytes = b""
    http_status: int | None = None
    content_type: str | None = None
    final_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    elapsed_seconds: float = 0.0
    attempts: int = 1
    retry_after_seconds: float | None = None  # the server asked us to wait this long

    @property
    def ok(self) -> bool:
        return self.status != "error"
