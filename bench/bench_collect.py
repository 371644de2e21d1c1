#!/usr/bin/env python3
"""Collector throughput and conditional-GET savings on 500 feeds behind 200 ms of latency.

Setup: a separate process serves 500 feeds, one per loopback address (127.0.1.x, 127.0.2.x),
so each feed is its own outlet as in real life (the per-host cap and delay then never bind; the
global concurrency does). Every response, 200 or 304, waits 200 ms before it is written. The
server counts every byte it writes (status line, headers, body).

Reported, all measured in this one run:
  - fetch wall time / ideal (N x latency / concurrency), for the configured concurrency;
  - sequential time / concurrent time: the sequential loop (same Collector, one feed after the
    other) is timed on the first 50 feeds and scaled to 500 (said so in the output);
  - second-run bytes / first-run bytes, with the real pipeline (collect_and_store into SQLite),
    whose second run sends the stored ETags;
  - the full pipeline's first-run wall time (fetch + parse + link + store), for information.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FEEDS = 500
LATENCY_SECONDS = 0.2
SEQUENTIAL_SAMPLE = 50
ITEMS_PER_FEED = 10


def address(index: int) -> str:
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


def feed_body(index: int) -> bytes:
    items = "".join(
        f"<item><title>Noticia {k} del medio {index}: obras en Temuco y Chillán</title>"
        f"<link>https://medio-{index}.example.cl/2026/11/24/noticia-{k}</link>"
        f"<guid>medio-{index}-{k}</guid>"
        f"<pubDate>Tue, 24 Nov 2026 {k:02d}:00:00 -0300</pubDate>"
        "<description>El gobierno regional informó avances "
        "en el hospital y el puente; vecinos de la comuna "
        "pidieron plazos claros y mesas de trabajo con la seremi. "
        f"Nota {k} del medio {index}.</description></item>"
        for k in range(1, ITEMS_PER_FEED + 1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0">'
        f"<channel><title>Medio {index}</title>"
        f"<link>https://medio-{index}.example.cl/</link>"
        f"<description>Noticias</description>{items}</channel></rss>"
    ).encode()


# -- the server process ---------------------------------------------------------------------------
def serve(control: Connection) -> None:
    asyncio.run(_serve(control))


async def _serve(control: Connection) -> None:
    sent = [0]
    bodies = {i: feed_body(i) for i in range(FEEDS)}
    etags = {i: '"' + hashlib.sha1(body).hexdigest()[:16] + '"' for i, body in bodies.items()}

    def handler(index: int):  # noqa: ANN202
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    lines = head.decode("latin-1").split("\r\n")
                    headers = {
                        k.strip().lower(): v.strip()
                        for k, _, v in (line.partition(":") for line in lines[1:] if line)
                    }
                    await asyncio.sleep(LATENCY_SECONDS)
                    if headers.get("if-none-match") == etags[index]:
                        response = (
                            "HTTP/1.1 304 Not Modified\r\n"
                            f"ETag: {etags[index]}\r\nContent-Length: 0\r\n\r\n"
                        ).encode()
                    else:
                        body = bodies[index]
                        response = (
                            "HTTP/1.1 200 OK\r\n"
                            "Content-Type: application/rss+xml; charset=utf-8\r\n"
                            f"ETag: {etags[index]}\r\nContent-Length: {len(body)}\r\n\r\n"
                        ).encode() + body
                    writer.write(response)
                    sent[0] += len(response)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        return handle

    servers = [
        await asyncio.start_server(handler(i), address(i), 0, backlog=64) for i in range(FEEDS)
    ]
    control.send([s.sockets[0].getsockname()[1] for s in servers])
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, control.recv)
        if command == "bytes":
            control.send(sent[0])
        elif command == "stop":
            break


# -- the measurements -----------------------------------------------------------------------------
def main() -> int:
    from agenda.collect import DEFAULT_CONCURRENCY, Collector, FetchLimits, make_client
    from agenda.keywords import load_keywords
    from agenda.link import Linker
    from agenda.pipeline import collect_and_store
    from agenda.settings import Settings
    from agenda.sources import Source, SourceList
    from agenda.store import Store, open_database

    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(theirs,), daemon=True)
    server.start()
    ports = ours.recv()
    sources = [
        Source(
            id=f"medio-{i}",
            name=f"Medio {i}",
            url=f"http://{address(i)}:{ports[i]}/feed.xml",
            kind="rss",
            region_code="09",
        )
        for i in range(FEEDS)
    ]
    limits = FetchLimits(allow_private_networks=True)  # the bench's outlets are on loopback
    concurrency = limits.concurrency
    ideal = FEEDS * LATENCY_SECONDS / concurrency

    async def fetch_concurrently() -> float:
        async with make_client() as client:
            started = time.perf_counter()
            results = await Collector(client, limits).fetch_all(sources, {})
            elapsed = time.perf_counter() - started
        assert all(r.status == "ok" for r in results), [r.error for r in results if r.error][:3]
        return elapsed

    async def fetch_sequentially() -> float:
        async with make_client() as client:
            collector = Collector(client, limits)
            started = time.perf_counter()
            for source in sources[:SEQUENTIAL_SAMPLE]:
                assert (await collector.fetch(source)).status == "ok"
            return time.perf_counter() - started

    concurrent_seconds = asyncio.run(fetch_concurrently())
    sample_seconds = asyncio.run(fetch_sequentially())
    sequential_estimate = sample_seconds * FEEDS / SEQUENTIAL_SAMPLE

    linker = Linker(load_keywords(ROOT / "keywords"))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(open_database(Path(tmp) / "bench.db"))  # WAL, as in production
        settings = Settings(fetch=limits)

        async def pipeline_run() -> tuple[float, int, object]:
            ours.send("bytes")
            before = ours.recv()
            async with make_client() as client:
                started = time.perf_counter()
                summary = await collect_and_store(
                    SourceList(Path("bench"), sources), linker, client, store, settings
                )
                elapsed = time.perf_counter() - started
            ours.send("bytes")
            return elapsed, ours.recv() - before, summary

        first_seconds, first_bytes, first = asyncio.run(pipeline_run())
        second_seconds, second_bytes, second = asyncio.run(pipeline_run())
    ours.send("stop")
    server.join(timeout=5)

    print(
        f"feeds: {FEEDS} on {FEEDS} loopback addresses, "
        f"{LATENCY_SECONDS * 1000:.0f} ms latency per response, "
        f"{ITEMS_PER_FEED} items per feed; configured concurrency "
        f"{concurrency} (DEFAULT_CONCURRENCY={DEFAULT_CONCURRENCY})"
    )
    print(f"ideal N x latency / concurrency: {ideal:.3f} s")
    print(f"concurrent fetch of {FEEDS} feeds: {concurrent_seconds:.3f} s")
    print(f"wall / ideal: {concurrent_seconds / ideal:.3f} (target <= 1.3)")
    print(
        f"sequential loop: {sample_seconds:.3f} s for the first "
        f"{SEQUENTIAL_SAMPLE} feeds, scaled x{FEEDS // SEQUENTIAL_SAMPLE} "
        f"to {sequential_estimate:.3f} s (estimated, not run on all {FEEDS})"
    )
    print(
        f"sequential / concurrent: {sequential_estimate / concurrent_seconds:.1f}x (target >= 20)"
    )
    print(
        "full pipeline, first run (fetch + parse + link + store "
        f"{first.articles_new} articles): {first_seconds:.3f} s "
        f"= {first_seconds / ideal:.2f}x ideal (for information: linking is CPU work on 2 cores)"
    )
    print(
        f"full pipeline, second run ({second.sources_not_modified} x 304): {second_seconds:.3f} s"
    )
    print(f"bytes sent by the server: first run {first_bytes:,}, second run {second_bytes:,}")
    print(f"second / first bytes: {second_bytes / first_bytes:.4f} (target <= 0.10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
