from __future__ import annotations

import asyncio
import gzip

import httpx
import pytest

from agenda.collect import FetchLimits, FetchState, fetch_all, fetch_source
from agenda.sources import Source


def source(source_id: str = "s", url: str = "https://a.cl/feed") -> Source:
    return Source(id=source_id, name=source_id, url=url, kind="rss", region_code="08")


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(coro)


def test_conditional_get_sends_stored_validators_and_handles_304() -> None:
    seen: dict[str, str | None] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["inm"] = request.headers.get("if-none-match")
        seen["ims"] = request.headers.get("if-modified-since")
        return httpx.Response(304, headers={"ETag": '"v1"'})

    async def go():  # noqa: ANN202
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await fetch_source(
                client, source(), FetchState('"v1"', "Tue, 24 Nov 2026 10:00:00 GMT")
            )

    result = run(go())
    assert seen == {"inm": '"v1"', "ims": "Tue, 24 Nov 2026 10:00:00 GMT"}
    assert result.status == "not_modified" and result.etag == '"v1"' and result.body == b""


def test_body_over_the_cap_is_cut_and_recorded() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 50_000)

    async def go():  # noqa: ANN202
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await fetch_source(client, source(), FetchState(), FetchLimits(max_bytes=10_000))

    result = run(go())
    assert result.status == "error" and "límite" in (result.error or "")


def test_gzip_bomb_is_capped_on_decompressed_size() -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"})

    async def go():  # noqa: ANN202
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await fetch_source(
                client, source(), FetchState(), FetchLimits(max_bytes=100_000)
            )

    assert len(bomb) < 100_000
    result = run(go())
    assert result.status == "error" and "límite" in (result.error or "")


def test_http_errors_and_network_errors_become_reasons() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down.cl":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(404)

    async def go():  # noqa: ANN202
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await fetch_all(
                client,
                [source("a", "https://down.cl/f"), source("b", "https://gone.cl/f")],
                {},
                FetchLimits(retry_base_seconds=0.01),
            )

    down, gone = run(go())
    assert down.status == "error" and down.error.startswith("no se pudo conectar")
    assert gone.status == "error" and gone.error == "la página no existe (404)"


def test_per_host_cap_is_respected() -> None:
    in_flight: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        in_flight[host] = in_flight.get(host, 0) + 1
        peak[host] = max(peak.get(host, 0), in_flight[host])
        await asyncio.sleep(0.02)
        in_flight[host] -= 1
        return httpx.Response(200, content=b"<rss/>")

    sources = [source(f"s{i}", f"https://{'a' if i % 2 else 'b'}.cl/{i}") for i in range(12)]

    async def go():  # noqa: ANN202
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await fetch_all(
                client,
                sources,
                {},
                FetchLimits(per_host=2, concurrency=10, host_interval_seconds=0),
            )

    results = run(go())
    assert all(r.status == "ok" for r in results)
    assert peak == {"a.cl": 2, "b.cl": 2}


# -- redirects, decompression, Retry-After, backoff rule ------------------------------------------
import zlib  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from agenda.collect import BACKOFF_CAP, Collector, HostGate, backoff_delay, next_attempt_at  # noqa: E402

FEED = b'<rss version="2.0"><channel><item><title>t</title><link>https://a.cl/1</link></item></channel></rss>'


def collector_for(handler, **kwargs):  # noqa: ANN001, ANN201
    async def go():  # noqa: ANN202
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await Collector(client, FetchLimits(host_interval_seconds=0), **kwargs).fetch(
                source()
            )

    return run(go())


def test_relative_redirects_are_followed_and_the_final_address_kept() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/feed":
            return httpx.Response(301, headers={"Location": "/rss/nuevo.xml"})
        return httpx.Response(200, content=FEED, headers={"ETag": '"n"'})

    result = collector_for(handler)
    assert (
        result.status == "ok"
        and result.final_url == "https://a.cl/rss/nuevo.xml"
        and result.etag == '"n"'
    )


@pytest.mark.parametrize(
    "location", ["data:text/xml,<rss/>", "javascript:alert(1)", "file:///etc/passwd"]
)
def test_redirects_to_non_web_addresses_are_refused(location: str) -> None:
    result = collector_for(lambda request: httpx.Response(302, headers={"Location": location}))
    assert (
        result.status == "error"
        and "solo se siguen direcciones http y https" in str(result.error)
        and result.attempts == 1
    )


@pytest.mark.parametrize("wrapped", [True, False], ids=["zlib-deflate", "raw-deflate"])
def test_deflate_bodies_either_way(wrapped: bool) -> None:
    compressor = zlib.compressobj(wbits=zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
    body = compressor.compress(FEED) + compressor.flush()
    result = collector_for(
        lambda request: httpx.Response(200, content=body, headers={"Content-Encoding": "deflate"})
    )
    assert result.status == "ok" and result.body == FEED


def test_a_corrupt_gzip_body_is_a_readable_failure() -> None:
    result = collector_for(
        lambda request: httpx.Response(
            200, content=b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"}
        )
    )
    assert result.status == "error" and "respuesta comprimida (gzip) está dañada" in str(
        result.error
    )


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    result = collector_for(
        lambda request: httpx.Response(
            503, headers={"Retry-After": "Tue, 24 Nov 2026 03:00:20 GMT"}
        ),
        sleep=sleep,
        utc_now=lambda: now,
    )
    assert (
        delays == [20.0, 20.0, 20.0]
        and result.error == "el servidor respondió con un error (503); se reintentó 3 veces"
    )


def test_backoff_rule() -> None:
    assert [backoff_delay(n) / timedelta(hours=1) for n in range(0, 9)] == [
        0,
        1,
        2,
        4,
        8,
        16,
        32,
        48,
        48,
    ]
    assert backoff_delay(10_000) == BACKOFF_CAP
    now = datetime(2026, 11, 24, tzinfo=UTC)
    assert next_attempt_at(now, 1, retry_after_seconds=7200) == now + timedelta(
        hours=2
    )  # the server's wish, if longer
    assert (
        next_attempt_at(now, 1, retry_after_seconds=10 * 86400) == now + BACKOFF_CAP
    )  # never more than 48 h
    assert next_attempt_at(now, 3, retry_after_seconds=60) == now + timedelta(hours=4)


def test_host_gate_spaces_request_starts() -> None:
    clock = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    async def go() -> None:
        gate = HostGate(per_host=1, interval=0.5, clock=lambda: clock[0], sleep=sleep)
        for _ in range(3):
            async with gate.turn():
                clock[0] += 0.1  # the request itself

    run(go())
    assert waits == pytest.approx([0.4, 0.4])


def test_the_project_user_agent_is_sent_even_by_a_bare_client() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        return httpx.Response(200, content=FEED)

    collector_for(handler)
    assert seen["user-agent"].startswith("agenda/") and seen["accept-encoding"] == "gzip, deflate"


def test_a_surprise_in_one_source_never_stops_the_batch() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "bug.cl":
            raise RuntimeError("a bug somewhere below us")
        return httpx.Response(200, content=FEED)

    async def go():  # noqa: ANN202
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await fetch_all(
                client, [source("bug", "https://bug.cl/f"), source("fine", "https://fine.cl/f")], {}
            )

    bug, fine = run(go())
    assert bug.status == "error" and bug.error == "falla inesperada al descargar (RuntimeError)"
    assert fine.status == "ok"


def test_loopback_hosts_get_no_politeness_delay_unless_asked() -> None:
    client = httpx.AsyncClient()
    polite = Collector(client, FetchLimits(host_interval_seconds=0.5))
    assert polite.gate("https://www.diario.cl/feed")._interval == 0.5
    assert polite.gate("http://127.0.0.1:8000/feed")._interval == 0
    assert polite.gate("http://localhost/feed")._interval == 0
    assert (
        Collector(client, FetchLimits(host_interval_seconds=0.5, delay_loopback=True))
        .gate("http://127.0.0.1:8000/f")
        ._interval
        == 0.5
    )
