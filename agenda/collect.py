"""Collect: fetch every enabled source concurrently with an injected ``httpx.AsyncClient``.

The client is an argument so tests can point it at a loopback server or an
``httpx.MockTransport``. Each source yields a ``FetchResult``; a failure is a result with a
reason an analyst understands, never an exception that stops the batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpx

from agenda import __version__
from agenda.errors import FetchError, FetchTooLarge
from agenda.sources import Source

USER_AGENT = f"agenda/{__version__} (Agenda Regional news monitor; +https://github.com/agenda-regional)"
DEFAULT_CONCURRENCY = 16
DEFAULT_PER_HOST = 2
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=20.0, write=10.0, pool=60.0)
DEFAULT_TOTAL_SECONDS = 60.0  # a slow drip still ends


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

    @property
    def ok(self) -> bool:
        return self.status != "error"


@dataclass(frozen=True)
class FetchLimits:
    concurrency: int = DEFAULT_CONCURRENCY
    per_host: int = DEFAULT_PER_HOST
    max_bytes: int = DEFAULT_MAX_BYTES
    total_seconds: float = DEFAULT_TOTAL_SECONDS


def make_client(timeout: httpx.Timeout = DEFAULT_TIMEOUT, **kwargs: object) -> httpx.AsyncClient:
    """The production client: our User-Agent, redirects followed (at most 5), sane timeouts."""
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=5,
        headers={"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, application/xml, text/xml, text/html;q=0.8, */*;q=0.5"},
        **kwargs,  # type: ignore[arg-type]
    )


async def fetch_source(
    client: httpx.AsyncClient, source: Source, state: FetchState, limits: FetchLimits = FetchLimits()
) -> FetchResult:
    """Fetch one source with conditional GET; never raises for network or HTTP trouble."""
    started = time.monotonic()
    try:
        result = await asyncio.wait_for(_fetch(client, source, state, limits), timeout=limits.total_seconds)
    except FetchError as exc:
        result = FetchResult(source, "error", error=exc.reason)
    except asyncio.TimeoutError:
        result = FetchResult(source, "error", error=f"timed out after {limits.total_seconds:.0f} s in total")
    result.elapsed_seconds = time.monotonic() - started
    return result


async def _fetch(client: httpx.AsyncClient, source: Source, state: FetchState, limits: FetchLimits) -> FetchResult:
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    try:
        async with client.stream("GET", source.url, headers=headers) as response:
            if response.status_code == 304:
                return FetchResult(
                    source, "not_modified", http_status=304, final_url=str(response.url),
                    etag=response.headers.get("etag", state.etag),
                    last_modified=response.headers.get("last-modified", state.last_modified),
                )
            if response.status_code >= 400:
                raise FetchError(source.id, f"HTTP {response.status_code} {response.reason_phrase}".strip())
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise FetchTooLarge(source.id, f"body of {int(declared):,} bytes is over the {limits.max_bytes:,}-byte limit")
            chunks: list[bytes] = []
            received = 0
            async for chunk in response.aiter_bytes():  # decompressed: caps gzip bombs too
                received += len(chunk)
                if received > limits.max_bytes:
                    raise FetchTooLarge(source.id, f"body went over the {limits.max_bytes:,}-byte limit; cut")
                chunks.append(chunk)
            return FetchResult(
                source, "ok", body=b"".join(chunks), http_status=response.status_code,
                content_type=response.headers.get("content-type"), final_url=str(response.url),
                etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"),
            )
    except FetchError:
        raise
    except httpx.TooManyRedirects as exc:
        raise FetchError(source.id, "too many redirects") from exc
    except httpx.TimeoutException as exc:
        raise FetchError(source.id, f"timed out ({type(exc).__name__})") from exc
    except httpx.ConnectError as exc:
        raise FetchError(source.id, f"could not connect ({exc})") from exc
    except httpx.HTTPError as exc:
        raise FetchError(source.id, f"{type(exc).__name__}: {exc}") from exc


async def fetch_all(
    client: httpx.AsyncClient,
    sources: Iterable[Source],
    states: dict[str, FetchState],
    limits: FetchLimits = FetchLimits(),
    on_result: Callable[[FetchResult], Awaitable[None] | None] | None = None,
) -> list[FetchResult]:
    """Fetch many sources at once: at most ``limits.concurrency`` in flight, ``per_host`` per host.

    ``on_result`` is called as each source finishes (the pipeline stores it right away, so a
    crash later in the run loses nothing already fetched).
    """
    overall = asyncio.Semaphore(limits.concurrency)
    per_host: dict[str, asyncio.Semaphore] = {}

    async def one(source: Source) -> FetchResult:
        host_gate = per_host.setdefault(source.host, asyncio.Semaphore(limits.per_host))
        async with host_gate, overall:
            result = await fetch_source(client, source, states.get(source.id, FetchState()), limits)
        if on_result is not None:
            maybe = on_result(result)
            if asyncio.iscoroutine(maybe):
                await maybe
        return result

    return list(await asyncio.gather(*(one(s) for s in sources)))
