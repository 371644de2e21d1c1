"""Collect: fetch every enabled source concurrently with an injected ``httpx.AsyncClient``.

The client is an argument so tests can point it at a loopback server or an
``httpx.MockTransport``. Each source yields a ``FetchResult``; a failure is a result with a
reason an analyst understands, never an exception that stops the batch.

One source, one run (``Collector.fetch``)::

    attempt ─┬─ 2xx / 304 ─────────────────────────────────────────────► result
             ├─ network error, connect/read timeout, HTTP 5xx, HTTP 429 ─► retry after
             │     base × 2^n s with jitter (or the server's Retry-After, if short), while
             │     the source's total time budget lasts
             └─ other 4xx, redirect loop, non-http redirect, body too big,
                total time budget spent (a slow drip) ──────────────────► failure, no retry

Across runs the store pushes a failing source's next attempt back by ``backoff_delay``
(1 h, 2 h, 4 h … at most 48 h, never before a long Retry-After); success resets it.

Safety: bodies are read raw and decompressed here with a bound on the output, so neither a
50 MB body nor a gzip bomb is ever held in memory beyond the cap; redirects are followed by
hand so every hop is checked (http and https only, at most ``max_redirects``, loops named);
private, loopback and reserved addresses are refused on every hop, on the address actually
connected to (``netguard``), unless ``allow_private_networks`` is set.
Politeness: our User-Agent, at most ``per_host`` requests in flight per host and
``host_interval_seconds`` between request starts to the same host (not for loopback addresses,
which are this machine: tests and the demo), conditional GET.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from agenda import __version__
from agenda.common import ALLOWED_SCHEMES, exponential_delay
from agenda.errors import FetchError, FetchTooLarge
from agenda.fetched import (  # noqa: F401 (the collector's results, re-exported)
    BACKOFF_BASE,
    BACKOFF_CAP,
    DUE_TOLERANCE,
    FetchResult,
    FetchState,
    backoff_delay,
    next_attempt_at,
)
from agenda.netguard import AddressCheck, default_check, refuse_host, trace_check
from agenda.reasons import connect_failure, number_words, seconds_words, status_words, with_retries
from agenda.sources import Source

log = logging.getLogger("agenda")
USER_AGENT = (
    f"agenda/{__version__} (Agenda Regional news monitor; +https://github.com/agenda-regional)"
)
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml,"
    " text/xml, text/html;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
ACCEPT_ENCODING = "gzip, deflate"  # only what we can decompress with a bound on the output
REDIRECT_STATUSES = (301, 302, 303, 307, 308)

DEFAULT_CONCURRENCY = 32  # sources in flight at once (each host also has its own cap below)
DEFAULT_PER_HOST = 2
DEFAULT_HOST_INTERVAL_SECONDS = (
    0.5  # between two request starts to the same host (2 per second at most)
)
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=20.0, write=10.0, pool=60.0)
DEFAULT_TOTAL_SECONDS = 60.0  # per source, retries included: a slow drip still ends
DEFAULT_MAX_REDIRECTS = 5
DEFAULT_RETRIES = 3
DEFAULT_RETRY_BASE_SECONDS = 0.5  # then 1 s, 2 s: longer outages are the next runs' business
DEFAULT_RETRY_MAX_SECONDS = 30.0
MAX_RETRY_AFTER_WAIT_SECONDS = 30.0  # a longer Retry-After is honoured by the next run instead


@dataclass(frozen=True)
class FetchLimits:
    concurrency: int = DEFAULT_CONCURRENCY
    per_host: int = DEFAULT_PER_HOST
    max_bytes: int = DEFAULT_MAX_BYTES
    total_seconds: float = DEFAULT_TOTAL_SECONDS
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    host_interval_seconds: float = DEFAULT_HOST_INTERVAL_SECONDS
    delay_loopback: bool = False  # apply host_interval_seconds to 127.0.0.0/8 and localhost too
    retries: int = DEFAULT_RETRIES
    retry_base_seconds: float = DEFAULT_RETRY_BASE_SECONDS
    retry_max_seconds: float = DEFAULT_RETRY_MAX_SECONDS
    allow_private_networks: bool = False  # agenda.yaml fetch: the demo and tests serve on loopback


def make_client(timeout: httpx.Timeout = DEFAULT_TIMEOUT, **kwargs: object) -> httpx.AsyncClient:
    """The production client: our User-Agent and sane connect/read timeouts.

    Redirects are followed by ``Collector`` itself (each hop checked), not by the client.
    """
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": FEED_ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        **kwargs,  # type: ignore[arg-type]
    )


class _Transient(Exception):
    """A failure worth retrying (network trouble, 5xx, 429)."""

    def __init__(self, reason: str, retry_after_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds


@dataclass
class _Progress:
    received: int = 0  # bytes of body so far, to tell a slow drip from silence


class HostGate:
    """At most ``per_host`` requests in flight to one host, starts at least ``interval`` apart."""

    def __init__(
        self,
        per_host: int,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._slots = asyncio.Semaphore(per_host)
        self._lock = asyncio.Lock()
        self._interval = interval
        self._next_start = 0.0
        self._clock = clock
        self._sleep = sleep

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        async with self._slots:
            async with self._lock:
                wait = self._next_start - self._clock()
                if wait > 0:
                    await self._sleep(wait)
                self._next_start = self._clock() + self._interval
            yield


class _BoundedInflater:
    """gzip / deflate decompression that never produces more than ``limit`` bytes in total."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding = encoding
        self.remaining = limit
        self.produced = 0
        self._inflater: zlib._Decompress | None = None

    def feed(self, data: bytes) -> bytes:
        if self._inflater is None:
            if self.encoding in ("gzip", "x-gzip"):
                wbits = 16 + zlib.MAX_WBITS
            else:  # "deflate" is zlib-wrapped by the standard, raw by some servers
                wbits = (
                    zlib.MAX_WBITS
                    if len(data) >= 2
                    and (data[0] * 256 + data[1]) % 31 == 0
                    and data[0] & 0x0F == 8
                    else -zlib.MAX_WBITS
                )
            self._inflater = zlib.decompressobj(wbits)
        try:
            out = self._inflater.decompress(data, self.remaining + 1)
        except zlib.error as exc:
            raise FetchError("", f"la respuesta comprimida ({self.encoding}) está dañada") from exc
        self.remaining -= len(out)
        self.produced += len(out)
        if self.remaining < 0:
            raise _OverLimit()
        if self._inflater.eof and self._inflater.unused_data:  # another gzip member follows
            rest, self._inflater = self._inflater.unused_data, None
            out += self.feed(rest)
        return out

    def finish(self) -> None:
        """A stream that produced nothing and never ended was not gzip/deflate at all."""
        if self._inflater is not None and not self._inflater.eof and self.produced == 0:
            raise FetchError("", f"la respuesta comprimida ({self.encoding}) está dañada")


class _OverLimit(Exception):
    pass


class Collector:
    """Fetches URLs for sources within ``FetchLimits``; holds the per-host gates of one run.

    ``sleep``, ``jitter`` (a ``random.random``-like function) and ``utc_now`` are injectable so
    tests of the retry schedule run instantly. ``address_check`` decides which addresses may be
    connected to (default: ``netguard.default_check``, or none with ``allow_private_networks``).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        limits: FetchLimits = FetchLimits(),
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        utc_now: Callable[[], datetime] = lambda: datetime.now(UTC),
        address_check: AddressCheck | None = None,
    ) -> None:
        self.client = client
        if address_check is None and not limits.allow_private_networks:
            address_check = default_check
        self._address_check = address_check
        self.limits = limits
        self._sleep = sleep
        self._jitter = jitter
        self._utc_now = utc_now
        self._overall = asyncio.Semaphore(limits.concurrency)
        self._hosts: dict[str, HostGate] = {}

    def gate(self, url: str) -> HostGate:
        parts = urlsplit(url)
        host = parts.netloc.lower()
        if host not in self._hosts:
            interval = self.limits.host_interval_seconds
            if _is_loopback(parts.hostname) and not self.limits.delay_loopback:
                # our own machine (tests, the demo, a local mirror) needs no politeness delay
                interval = 0.0
            self._hosts[host] = HostGate(self.limits.per_host, interval)
        return self._hosts[host]

    @asynccontextmanager
    async def _slot(self, url: str) -> AsyncIterator[None]:
        async with (
            self.gate(url).turn(),
            self._overall,
        ):  # host first: a host's queue holds no global slot
            yield

    def retry_delay(self, retry_number: int) -> float:
        """Exponential backoff with jitter: half fixed, half random ("equal jitter")."""
        ceiling = exponential_delay(
            retry_number,
            timedelta(seconds=self.limits.retry_base_seconds),
            timedelta(seconds=self.limits.retry_max_seconds),
        ).total_seconds()
        return ceiling / 2 + self._jitter() * ceiling / 2

    async def fetch(
        self,
        source: Source,
        state: FetchState = FetchState(),
        url: str | None = None,
        accept: str = FEED_ACCEPT,
    ) -> FetchResult:
        """Fetch ``url`` (default: the source's) with retries.

        Never raises for network or HTTP trouble.
        """
        url = url or source.url
        started: float | None = None  # when the first attempt got its slot: queueing is not latency
        budget = self.limits.total_seconds
        deadline: float | None = None
        retries = 0
        last_failure: _Transient | None = None
        progress = _Progress()
        while True:
            try:
                async with self._slot(url):
                    started = started or time.monotonic()
                    deadline = (
                        deadline or started + budget
                    )  # time queued for a slot is not spent budget
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError
                    async with asyncio.timeout(
                        remaining
                    ):  # no extra task per request, unlike wait_for
                        result = await self._attempt(source, url, state, accept, progress)
                break
            except TimeoutError:
                if last_failure is not None and not progress.received:
                    reason = with_retries(last_failure.reason, retries)
                    reason += f" (se acabó el plazo de {budget:g} s)"
                else:
                    reason = f"no respondió en {budget:g} s"
                    if progress.received:
                        received = number_words(progress.received)
                        reason = f"en {budget:g} s envió solo {received} bytes (demasiado lento)"
                    reason = with_retries(reason, retries)
                result = FetchResult(source, "error", error=reason)
                break
            except FetchError as exc:
                result = FetchResult(source, "error", error=with_retries(exc.reason, retries))
                break
            except _Transient as exc:
                last_failure = exc
                assert deadline is not None
                delay, stop_reason = self._retry_plan(exc, retries, deadline)
                if delay is None:
                    result = FetchResult(
                        source,
                        "error",
                        error=stop_reason,
                        retry_after_seconds=exc.retry_after_seconds,
                    )
                    break
                retries += 1
                progress.received = 0
                await self._sleep(delay)
            except Exception as exc:  # a bug or a surprise in one source must not stop the batch
                log.exception("unexpected error fetching %s", url)
                reason = f"falla inesperada al descargar ({type(exc).__name__})"
                result = FetchResult(source, "error", error=reason)
                break
        result.attempts = retries + 1
        result.elapsed_seconds = time.monotonic() - started if started is not None else 0.0
        return result

    def _retry_plan(
        self, failure: _Transient, retries: int, deadline: float
    ) -> tuple[float | None, str]:
        """How long to wait before the next attempt, or None and the reason to give up now."""
        wait = failure.retry_after_seconds
        if wait is not None and wait > MAX_RETRY_AFTER_WAIT_SECONDS:
            reason = (
                f"{failure.reason}; el servidor pidió esperar {number_words(wait)} s, "
                "se intentará en otra pasada"
            )
            return None, with_retries(reason, retries)
        if retries >= self.limits.retries:
            return None, with_retries(failure.reason, retries)
        delay = wait if wait is not None else self.retry_delay(retries + 1)
        if time.monotonic() + delay >= deadline:
            budget = self.limits.total_seconds
            return (
                None,
                f"{with_retries(failure.reason, retries)} (se acabó el plazo de {budget:g} s)",
            )
        return delay, ""

    async def _attempt(
        self, source: Source, url: str, state: FetchState, accept: str, progress: _Progress
    ) -> FetchResult:
        headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": ACCEPT_ENCODING}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        visited = [url]
        current = url
        extensions = {"trace": trace_check(self._address_check)} if self._address_check else None
        try:
            for _ in range(self.limits.max_redirects + 1):
                if self._address_check is not None:  # an address written as a number: no connection
                    parts = httpx.URL(current)
                    port = parts.port or (443 if parts.scheme == "https" else 80)
                    refuse_host(parts.host, self._address_check, port)
                async with self.client.stream(
                    "GET", current, headers=headers, follow_redirects=False, extensions=extensions
                ) as response:
                    if response.status_code in REDIRECT_STATUSES and response.headers.get(
                        "location"
                    ):
                        current = self._next_hop(current, response.headers["location"], visited)
                        continue
                    return await self._read(source, response, state, progress)
        except (FetchError, _Transient):
            raise
        except httpx.InvalidURL as exc:  # httpx reads a Location header even when not following it
            raise FetchError(
                source.id,
                "redirigió a una dirección que no se puede seguir; "
                "solo se siguen direcciones http y https",
            ) from exc
        except httpx.RemoteProtocolError as exc:
            if "location header" in str(exc).lower():
                reason = "redirigió a una dirección que no se puede seguir"
                raise FetchError(source.id, reason) from exc
            raise _Transient("la conexión se cortó") from exc
        except httpx.ConnectTimeout as exc:
            connect = seconds_words(self.client.timeout.connect)
            raise _Transient(f"no se pudo conectar en {connect}") from exc
        except httpx.ReadTimeout as exc:
            raise _Transient(f"no respondió en {seconds_words(self.client.timeout.read)}") from exc
        except httpx.PoolTimeout as exc:
            raise _Transient("no hubo una conexión libre a tiempo") from exc
        except httpx.TimeoutException as exc:
            raise _Transient("se acabó el tiempo de espera") from exc
        except httpx.ConnectError as exc:
            raise _Transient(connect_failure(exc)) from exc
        except httpx.UnsupportedProtocol as exc:
            reason = f"dirección no admitida {current[:80]} (solo http y https)"
            raise FetchError(source.id, reason) from exc
        except (httpx.ReadError, httpx.WriteError, httpx.NetworkError) as exc:
            raise _Transient("la conexión se cortó") from exc
        except httpx.HTTPError as exc:
            raise FetchError(source.id, f"falla de red ({type(exc).__name__})") from exc
        hops = self.limits.max_redirects
        raise FetchError(source.id, f"más de {hops} redirecciones; se abandonó en {current[:100]}")

    def _next_hop(self, current: str, location: str, visited: list[str]) -> str:
        target = urljoin(current, location.strip())
        scheme = urlsplit(target).scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            reason = (
                f"redirigió a {target[:80]}, rechazado: solo se siguen direcciones http y https"
            )
            raise FetchError("", reason)
        if target in visited:
            reason = f"redirecciones en círculo: tras {len(visited)} vuelve a {target[:100]}"
            raise FetchError("", reason)
        visited.append(target)
        return target

    async def _read(
        self, source: Source, response: httpx.Response, state: FetchState, progress: _Progress
    ) -> FetchResult:
        status = response.status_code
        if status == 304:
            return FetchResult(
                source,
                "not_modified",
                http_status=304,
                final_url=str(response.url),
                etag=response.headers.get("etag", state.etag),
                last_modified=response.headers.get("last-modified", state.last_modified),
            )
        if status == 429 or status >= 500:
            raise _Transient(
                status_words(response), self._retry_after(response.headers.get("retry-after"))
            )
        if status >= 300:
            raise FetchError(source.id, status_words(response))
        limit = self.limits.max_bytes
        encoding = response.headers.get("content-encoding", "").strip().lower()
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            reason = (
                f"la respuesta pesa {number_words(int(declared))} bytes, más que el límite de "
                f"{number_words(limit)}; no se descargó"
            )
            raise FetchTooLarge(source.id, reason)
        chunks: list[bytes] = []
        try:
            if encoding in ("", "identity", "gzip", "x-gzip", "deflate"):
                inflater = (
                    _BoundedInflater(encoding, limit) if encoding not in ("", "identity") else None
                )
                size = 0
                async for raw in _raw_chunks(response):
                    progress.received += len(raw)
                    chunk = inflater.feed(raw) if inflater else raw
                    size += len(chunk)
                    if size > limit:
                        raise _OverLimit()
                    chunks.append(chunk)
                if inflater:
                    inflater.finish()
            else:  # a coding we did not ask for (br, zstd): httpx decodes it, we still count
                async for chunk in response.aiter_bytes():
                    progress.received += len(chunk)
                    chunks.append(chunk)
                    if sum(map(len, chunks)) > limit:
                        raise _OverLimit()
        except _OverLimit:
            how = f" una vez descomprimida ({encoding})" if encoding not in ("", "identity") else ""
            reason = f"la respuesta supera el límite de {number_words(limit)} bytes{how}; se cortó"
            raise FetchTooLarge(source.id, reason) from None
        except FetchError as exc:
            raise FetchError(source.id, exc.reason) from exc
        if not any(chunk.strip() for chunk in chunks):  # a 200 with nothing in it: a plain failure
            raise FetchError(source.id, "respuesta vacía")
        return FetchResult(
            source,
            "ok",
            body=b"".join(chunks),
            http_status=status,
            content_type=response.headers.get("content-type"),
            final_url=str(response.url),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )

    def _retry_after(self, value: str | None) -> float | None:
        """Retry-After as seconds: '120' or an HTTP date; None when absent or unreadable."""
        if not value:
            return None
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - self._utc_now()).total_seconds())

    async def fetch_all(
        self,
        sources: Iterable[Source],
        states: dict[str, FetchState],
        on_result: Callable[[FetchResult], Awaitable[None] | None] | None = None,
    ) -> list[FetchResult]:
        """Fetch many sources at once; ``on_result`` runs as each source finishes (the pipeline
        stores it right away, so a crash later in the run loses nothing already fetched)."""

        async def one(source: Source) -> FetchResult:
            result = await self.fetch(source, states.get(source.id, FetchState()))
            if on_result is not None:
                maybe = on_result(result)
                if asyncio.iscoroutine(maybe):
                    await maybe
            return result

        return list(await asyncio.gather(*(one(s) for s in sources)))


async def _raw_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body as sent (still compressed). A response built in memory (``httpx.MockTransport``
    with ``content=``) was already read by httpx: its raw bytes are still in ``stream``."""
    if response.is_stream_consumed:
        async for chunk in response.stream:  # type: ignore[union-attr]
            yield chunk
        return
    async for chunk in response.aiter_raw():
        yield chunk


def _is_loopback(hostname: str | None) -> bool:
    if not hostname:
        return False
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


async def fetch_source(
    client: httpx.AsyncClient,
    source: Source,
    state: FetchState,
    limits: FetchLimits = FetchLimits(),
) -> FetchResult:
    """Fetch one source with conditional GET and retries.

    Never raises for network or HTTP trouble.
    """
    return await Collector(client, limits).fetch(source, state)


async def fetch_all(
    client: httpx.AsyncClient,
    sources: Iterable[Source],
    states: dict[str, FetchState],
    limits: FetchLimits = FetchLimits(),
    on_result: Callable[[FetchResult], Awaitable[None] | None] | None = None,
) -> list[FetchResult]:
    """Fetch many sources at once.

    At most ``limits.concurrency`` in flight, ``per_host`` per host.
    """
    return await Collector(client, limits).fetch_all(sources, states, on_result)
