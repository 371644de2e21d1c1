"""Failure reasons reach the reader in Spanish (issues 10 and 13): a collect against loopback
sources that fail in each way, then the day's digest (HTML and text) is read for English."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlite_utils import Database

from agenda.collect import Collector, FetchLimits, make_client
from agenda.keywords import Keywords
from agenda.link import Linker
from agenda.netguard import blocked_reason
from agenda.pipeline import collect_and_store
from agenda.reports.digest import make_digest
from agenda.reports.render import render_email, render_html, render_text
from agenda.settings import Settings
from agenda.sources import Source, SourceList
from agenda.store import Store
from tests.faultserver import serve_faults

DAY = date(2026, 11, 24)
# The old reasons and what httpx, expat and the OS say: none of it may reach a reader.
ENGLISH = (
    "retried",
    "retry",
    "timed out",
    "timeout",
    "Internal Server",
    "HTTP",
    "not a feed",
    "could not",
    "refused",
    "blocked",
    "empty",
    "body",
    "server",
    "gave up",
    "redirect",
    "unexpected",
    "connection",
    "limit",
    "Not Found",
    "Service Unavailable",
    "error:",
    "failed",
    "malformed",
    "bytes of",
)
EXPECTED = {
    "roto": "el servidor respondió con un error (500); se reintentó 3 veces",
    "lento": "no respondió en 2 s",
    "pagina": "la dirección no entrega un feed legible: devolvió una página web (HTML)",
    "basura": "la dirección no entrega un feed legible (XML mal formado, línea",
    "vacio": "respuesta vacía",
    "metadatos": "dirección bloqueada: red privada (169.254.169.254)",
    "no-existe": "la página no existe (404)",
    "apagado": "no se pudo conectar: el servidor rechazó la conexión",
}


def test_every_failure_reads_in_spanish_in_the_digest(
    tmp_path: Path, linker: Linker, keywords: Keywords
) -> None:
    with serve_faults(slow_seconds=30.0) as faults:
        base = faults.base_url
        urls = {
            "roto": f"{base}/fault/500",
            "lento": f"{base}/fault/timeout",
            "pagina": f"{base}/fault/html",
            "basura": f"{base}/fault/garbage",
            "vacio": f"{base}/fault/empty",
            "metadatos": "http://0xa9fea9fe/latest/",
            "no-existe": f"{base}/fault/404",
            "apagado": "http://127.0.0.1:9/feed.xml",
            "bueno": f"{base}/feed/bueno.xml",
        }
        sources = [
            Source(id=i, name=f"Diario {i}", url=u, kind="rss", region_code="05")
            for i, u in urls.items()
        ]
        store = Store(Database(tmp_path / "a.db"))

        def loopback_only(ip: str, port: int) -> str | None:  # loopback stands for the public web
            return None if ip == "127.0.0.1" else blocked_reason(ip)

        async def go(chosen: list[Source], seconds: float):  # noqa: ANN202
            limits = FetchLimits(
                host_interval_seconds=0, retry_base_seconds=0.01, total_seconds=seconds
            )
            async with make_client(timeout=httpx.Timeout(60.0)) as client:
                collector = Collector(client, limits, sleep=_no_wait, address_check=loopback_only)
                return await collect_and_store(
                    SourceList(Path("sources.yaml"), chosen),
                    linker,
                    client,
                    store,
                    Settings(fetch=limits),
                    collector=collector,
                    clock=lambda: datetime(2026, 11, 24, 15, tzinfo=UTC),
                )

        # the slow one alone with a 2 s budget (its server sleeps 30 s); the rest with a long one
        slow = asyncio.run(go([s for s in sources if s.id == "lento"], 2.0))
        summary = asyncio.run(go([s for s in sources if s.id != "lento"], 60.0))
        summary.failures += slow.failures
    reasons = dict(summary.failures)
    for source_id, words in EXPECTED.items():
        assert reasons[source_id].startswith(words), (source_id, reasons[source_id])
    assert "bueno" not in reasons

    _, digest = make_digest(store, keywords, DAY)
    # the web edition names each failing source and its reason; the e-mail counts them
    failures = _failure_section(render_html(digest))
    for words in EXPECTED.values():
        assert words.replace("(", "").split(";")[0][:25] in failures.replace("(", ""), words
    for output in (failures, _visible_text(render_email(digest)), render_text(digest)):
        output = re.sub(r"https?://\S+", " ", output)  # addresses are not words
        english = [w for w in ENGLISH if re.search(rf"\b{re.escape(w)}\b", output, re.I)]
        assert english == [], (english, output)


async def _no_wait(seconds: float) -> None:
    return None


def _visible_text(html: str) -> str:
    """What a reader sees of a page: no markup, no style sheet."""
    return re.sub(r"<[^>]*>", " ", re.sub(r"<style.*?</style>", " ", html, flags=re.S))


def _failure_section(output: str) -> str:
    """The part of the digest that names failing sources (from the first failing outlet on)."""
    start = min(output.index(f"Diario {source_id}") for source_id in EXPECTED)
    return re.sub(r"<[^>]*>", " ", output[start:])  # what is read, not the markup around it
