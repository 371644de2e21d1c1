"""Small helpers every stage shares, each written once: time in America/Santiago, atomic file
writes, exponential backoff, the web schemes a link may use, and the text the linker reads.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

SANTIAGO = ZoneInfo("America/Santiago")
ALLOWED_SCHEMES = ("http", "https")


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """A moment as UTC ISO text to the second, as the database stores it."""
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def santiago_date(moment: datetime) -> str:
    """The America/Santiago calendar day of a moment: the digest's notion of 'which day'.

    At the ends of the calendar (year 1, year 9999) the shift overflows: the UTC day is kept.
    """
    try:
        return moment.astimezone(SANTIAGO).date().isoformat()
    except OverflowError:
        return moment.astimezone(UTC).date().isoformat()


def write_atomically(path: Path, content: bytes | str) -> None:
    """Write a file so that a reader (or a crash) never sees it half-written."""
    temporary = path.with_name(path.name + ".tmp")
    data = content.encode("utf-8") if isinstance(content, str) else content
    temporary.write_bytes(data)
    os.replace(temporary, path)


def exponential_delay(attempt: int, first: timedelta, longest: timedelta) -> timedelta:
    """``first`` after the first failure, doubling each time, never more than ``longest``.

    >>> [exponential_delay(n, timedelta(hours=1), timedelta(hours=48)).total_seconds() / 3600
    ...  for n in (0, 1, 2, 3, 7, 40)]
    [0.0, 1.0, 2.0, 4.0, 48.0, 48.0]
    """
    if attempt < 1:
        return timedelta(0)
    exponent = min(attempt - 1, 32)  # 2**32 times any first delay is far past any cap
    return min(first * (2**exponent), longest)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Build many small objects without the cyclic collector rescanning them: a day's 20,000
    articles and stories trigger collections that each walk the whole growing heap (twice the
    digest's building time). Reference counting still frees what is dropped; cycles wait."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def long_lived_heap_frozen() -> Iterator[None]:
    """Keep what is alive now (the linker's vocabulary and patterns, the keywords: built once,
    kept for the process) out of the cyclic collector while a long stage runs. Every full
    collection of a night's collection walked all of it and found nothing to free; with it set
    aside, a full collection walks only what the stage made. Inside another such block, nothing
    changes (the outer one sets the heap free again)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


_WEB_PREFIXES = ("http://", "https://")


def is_web_url(url: str) -> bool:
    """Only http(s) addresses are fetched or shown as links (never javascript:, data:, file:)."""
    if url[:8].lower().startswith(_WEB_PREFIXES):
        # the common case without urlsplit (a digest checks 20,000 links): a host must follow
        if url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
            return True
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ALLOWED_SCHEMES and bool(parts.netloc)


def link_text(title: str | None, summary: str | None, text: str | None) -> str:
    """The one text the linker reads; evidence offsets point into it."""
    return "\n\n".join(part for part in (title, summary, text) if part)
