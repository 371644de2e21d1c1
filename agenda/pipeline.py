"""Pipeline: the stages in order. One orchestrator over small stage modules.

``collect_and_store`` fetches every enabled source that is due (a source resting after failures
is counted as deferred, not tried) and, as each one finishes, extracts, links and stores its
articles in one transaction with its fetch state; sources with ``fulltext: true`` also get their
new articles' pages. One source's failure is recorded on its row and never stops the run. The
digest itself is written by ``reports.digest`` and sent by ``deliver.send_digest``.
``run_cycle`` does all of it and returns a ``RunSummary`` whose ``exit_code`` the CLI returns.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import httpx

from agenda import logs
from agenda.collect import PAGE_ACCEPT, Collector, FetchResult
from agenda.common import long_lived_heap_frozen
from agenda.deliver import DeliveryReport, Mailer, Recipient, send_digest
from agenda.errors import ParseError
from agenda.extract import Article, extract, extract_page
from agenda.keywords import Keywords
from agenda.link import Linker
from agenda.link_result import LinkResult
from agenda.settings import Settings
from agenda.sources import Source, SourceList
from agenda.store import SANTIAGO, Store, utc_now

log = logging.getLogger("agenda")
MAX_FULLTEXT_PAGES_PER_SOURCE = 30  # new articles per source per run whose page is fetched


@dataclass
class CollectSummary:
    sources_ok: int = 0
    sources_not_modified: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (source id, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    deferred: list[tuple[str, datetime]] = field(
        default_factory=list
    )  # resting after failures: not tried
    articles_new: int = 0
    articles_seen: int = 0
    links: int = 0


@dataclass
class RunSummary:
    run_id: int | None = None
    collect: CollectSummary = field(default_factory=CollectSummary)
    digest_paths: list[Path] = field(default_factory=list)
    delivery: DeliveryReport | None = None

    @property
    def exit_code(self) -> int:
        """0 all well; 1 finished, but some source failed or a message could not be sent."""
        failed_delivery = bool(self.delivery and self.delivery.failed)
        return 1 if self.collect.failures or failed_delivery else 0


def today_in_santiago(now: datetime | None = None) -> date:
    return (now or datetime.now(SANTIAGO)).astimezone(SANTIAGO).date()


async def collect_and_store(
    sources: SourceList,
    linker: Linker,
    client: httpx.AsyncClient,
    store: Store,
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    collector: Collector | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CollectSummary:
    """Fetch every enabled source that is due, and store each one as it finishes.

    A source resting after failures (its next attempt time is later than now) is not tried and
    is counted as deferred, not failed. ``clock`` is read once: the run's time for every record
    and for the backoff schedule. Nothing a source does can stop the run.
    """
    summary = CollectSummary()
    now = clock()
    store.sync_sources(sources.sources)
    states = store.fetch_states()
    resting = store.deferred_sources(now)
    due = []
    for source in sources.enabled:
        if source.id in resting:
            summary.deferred.append((source.id, resting[source.id]))
        else:
            due.append(source)
    collector = collector or Collector(client, settings.fetch)

    def fail(result: FetchResult, reason: str) -> None:
        store.record_fetch(result, error=reason, now=now)
        summary.failures.append((result.source.id, reason))
        log.warning("source %s failed: %s", result.source.id, reason)

    done = 0

    async def on_result(result: FetchResult) -> None:
        nonlocal done
        try:
            await _store_result(result)
        except Exception as exc:  # noqa: BLE001 (one source's surprise must not stop the night)
            log.exception("source %s: unexpected error", result.source.id)
            fail(result, f"falla interna al leer o guardar la fuente ({type(exc).__name__})")
        done += 1
        if progress is not None:
            progress(done, len(due))

    async def _store_result(result: FetchResult) -> None:
        if result.status == "error":
            return fail(result, result.error or "falla sin detalle")
        if result.status == "not_modified":
            store.record_fetch(result, [], [], now=now)
            summary.sources_not_modified += 1
            return
        try:
            extraction = extract(
                result.source, result.body, result.final_url, result.content_type, now=now
            )
        except ParseError as exc:
            return fail(result, exc.reason)
        if result.source.fulltext and extraction.articles:
            extraction.warnings += await add_full_text(
                collector, store, result.source, extraction.articles
            )
        stored = store.known_articles(extraction.articles)
        articles, links = _linked(linker, extraction.articles, extraction.warnings, stored)
        counts = store.record_fetch(result, articles, links, now=now, warnings=extraction.warnings)
        summary.sources_ok += 1
        summary.articles_new += counts.new
        summary.articles_seen += counts.seen
        summary.links += counts.links
        summary.warnings.extend((result.source.id, w) for w in extraction.warnings)

    with long_lived_heap_frozen():
        await collector.fetch_all(due, states, on_result=on_result)
    return summary


async def add_full_text(
    collector: Collector, store: Store, source: Source, articles: list[Article]
) -> list[str]:
    """Fetch the pages of a source's new articles (same limits as feeds) and put their main text
    and ``rel=canonical`` address on the articles. Returns warnings; a bad page never fails the
    source.
    """
    known = store.known_article_urls(a.url for a in articles)
    todo = [a for a in articles if a.url not in known][:MAX_FULLTEXT_PAGES_PER_SOURCE]
    pages = await asyncio.gather(
        *(collector.fetch(source, url=a.url, accept=PAGE_ACCEPT) for a in todo)
    )
    warnings = []
    for article, page in zip(todo, pages, strict=True):
        if page.status != "ok":
            warnings.append(f"texto completo de {article.url}: {page.error or 'sin respuesta'}")
            continue
        # trafilatura is CPU work: a thread keeps the other downloads moving
        extracted = await asyncio.to_thread(
            extract_page, page.body, page.final_url or article.url, page.content_type
        )
        warnings += extracted.warnings
        if extracted.text:
            article.text = extracted.text
        else:
            warnings.append(f"texto completo de {article.url}: la página no tiene texto principal")
        if extracted.canonical_url:
            article.url = extracted.canonical_url
    return warnings


def _linked(
    linker: Linker, articles: list[Article], warnings: list[str], stored: list[bool]
) -> tuple[list[Article], list[LinkResult | None]]:
    """Link each article on its own: one the linker cannot read is skipped with a warning, and
    the source's other articles still land. An article stored already (``stored``) keeps the
    links read from its own text and is not read again (a feed lists the same items night
    after night), unless it brings a text to fill in."""
    kept: list[Article] = []
    links: list[LinkResult | None] = []
    for article, known in zip(articles, stored, strict=True):
        if known and not article.text:
            kept.append(article)
            links.append(None)
            continue
        try:
            region = _prior(article.source_region)
            links.append(linker.link(article.link_text(), source_region=region))
        except Exception as exc:  # noqa: BLE001 (one item's surprise must not lose its source)
            log.exception("article %s could not be linked", article.url)
            name = type(exc).__name__
            warnings.append(f"se omitió «{article.title[:60]}»: no se pudo analizar ({name})")
            continue
        kept.append(article)
    return kept, links


def _prior(region_code: str) -> str | None:
    return None if region_code == "national" else region_code


async def run_cycle(
    settings: Settings,
    sources: SourceList,
    keywords: Keywords,
    client: httpx.AsyncClient,
    store: Store,
    mailer: Mailer,
    day: date | None = None,
    linker: Linker | None = None,
    recipients: list[Recipient] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """collect -> link -> store -> digest -> deliver, recorded as one row in ``runs``."""
    summary = RunSummary(run_id=store.start_run())
    logs.run_id.set(summary.run_id)
    log.info("run %s started", summary.run_id)
    errors: list[str] = []
    status = "failed"
    seconds: dict[str, float] = {}
    try:
        started = time.monotonic()
        linker = linker or Linker(keywords)
        seconds["seconds_linker_setup"] = time.monotonic() - started
        started = time.monotonic()
        summary.collect = await collect_and_store(
            sources, linker, client, store, settings, progress=progress
        )
        seconds["seconds_collect_link_store"] = time.monotonic() - started
        store.release_story_index()  # its memory goes to the digest (the night's peak)
        errors += [f"{source_id}: {reason}" for source_id, reason in summary.collect.failures]
        day = day or today_in_santiago()
        started = time.monotonic()
        digest, report = send_digest(store, keywords, mailer, settings, day, recipients)
        seconds["seconds_digest_and_send"] = time.monotonic() - started
        summary.digest_paths = [
            settings.digests_dir / f"{day.isoformat()}.html",
            settings.digests_dir / f"{day.isoformat()}.txt",
        ]
        summary.delivery = report
        errors += [f"mail to {recipient}: {reason}" for recipient, reason in report.failed]
        status = "ok" if summary.exit_code == 0 else "partial"
    finally:
        counts = {
            "sources_ok": summary.collect.sources_ok,
            "sources_not_modified": summary.collect.sources_not_modified,
            "sources_failed": len(summary.collect.failures),
            "articles_new": summary.collect.articles_new,
            "articles_seen": summary.collect.articles_seen,
            "links": summary.collect.links,
            "digests_written": len(summary.digest_paths) // 2,
            "emails_sent": len(summary.delivery.sent) if summary.delivery else 0,
            **{key: round(value, 2) for key, value in seconds.items()},
        }
        assert summary.run_id is not None
        store.finish_run(summary.run_id, status, counts, errors)
    return summary
