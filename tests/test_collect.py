from __future__ import annotations

import asyncio
import gzip

import httpx

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
            return await fetch_source(client, source(), FetchState('"v1"', "Tue, 24 Nov 2026 10:00:00 GMT"))

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
    assert result.status == "error" and "limit" in (result.error or "")


def test_gzip_bomb_is_capped_on_decompressed_size() -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"})

    async def go():  # noqa: ANN202
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await fetch_source(client, source(), FetchState(), FetchLimits(max_bytes=100_000))

    assert len(bomb) < 100_000
    result = run(go())
    assert result.status == "error" and "limit" in (result.error or "")


def test_http_errors_and_network_errors_become_reasons() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down.cl":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(404)

    async def go():  # noqa: ANN202
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await fetch_all(client, [source("a", "https://down.cl/f"), source("b", "https://gone.cl/f")], {})

    down, gone = run(go())
    assert down.status == "error" and down.error.startswith("could not connect")
    assert gone.status == "error" and gone.error == "HTTP 404 Not Found"


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
            return await fetch_all(client, sources, {}, FetchLimits(per_host=2, concurrency=10, host_interval_seconds=0))

    results = run(go())
    assert all(r.status == "ok" for r in results)
    assert peak == {"a.cl": 2, "b.cl": 2}
