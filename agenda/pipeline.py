"""Pipeline: the stages in order. One orchestrator over small stage modules.

``collect_and_store`` fetches every enabled source and, as each one finishes, extracts, links and
stores its articles in one transaction with its fetch state; one source's failure is recorded on
its row and never stops the run. ``write_digest`` renders a day; ``send_digest`` delivers it.
``run_cycle`` does all of it and returns a ``RunSummary`` whose ``exit_code`` the CLI returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import httpx

from agenda.collect import FetchResult, fetch_all
from agenda.deliver import DeliveryReport, Mailer, deliver
from agenda.digest import Digest, build_digest, render_html, render_text
from agenda.errors import ParseError
from agenda.extract import extract
from agenda.keywords import Keywords
from agenda.link import Linker
from agenda.settings import Settings
from agenda.sources import SourceList
from agenda.store import SANTIAGO, Store

log = logging.getLogger("agenda")


@dataclass
class CollectSummary:
    sources_ok: int = 0
    sources_not_modified: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (source id, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)
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
    sources: SourceList, linker: Linker, client: httpx.AsyncClient, store: Store, settings: Settings
) -> CollectSummary:
    summary = CollectSummary()
    store.sync_sources(sources.sources)
    states = store.fetch_states()

    def on_result(result: FetchResult) -> None:
        if result.status == "error":
            store.record_fetch(result)
            summary.failures.append((result.source.id, result.error or "error"))
            log.warning("source %s failed: %s", result.source.id, result.error)
            return
        if result.status == "not_modified":
            store.record_fetch(result, [], [])
            summary.sources_not_modified += 1
            return
        try:
            extraction = extract(result.source, result.body, result.final_url)
        except ParseError as exc:
            store.record_fetch(result, error=exc.reason)
            summary.failures.append((result.source.id, exc.reason))
            log.warning("source %s unreadable: %s", result.source.id, exc.reason)
            return
        links = [linker.link(a.link_text(), source_region=_prior(a.source_region)) for a in extraction.articles]
        counts = store.record_fetch(result, extraction.articles, links)
        summary.sources_ok += 1
        summary.articles_new += counts.new
        summary.articles_seen += counts.seen
        summary.links += counts.links
        summary.warnings.extend((result.source.id, w) for w in extraction.warnings)

    await fetch_all(client, sources.enabled, states, settings.fetch, on_result=on_result)
    return summary


def _prior(region_code: str) -> str | None:
    return None if region_code == "national" else region_code


def make_digest(store: Store, keywords: Keywords, day: date) -> Digest:
    return build_digest(day, store.articles_on(day), store.source_health(), keywords)


def write_digest(digest: Digest, directory: Path) -> tuple[Path, Path, str, str]:
    """Write digests/YYYY-MM-DD.html and .txt atomically; return paths and contents."""
    directory.mkdir(parents=True, exist_ok=True)
    html, text = render_html(digest), render_text(digest)
    paths = []
    for suffix, content in ((".html", html), (".txt", text)):
        path = directory / f"{digest.day.isoformat()}{suffix}"
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(content, encoding="utf-8")
        temporary.replace(path)
        paths.append(path)
    return paths[0], paths[1], html, text


def send_digest(store: Store, keywords: Keywords, mailer: Mailer, settings: Settings, day: date, resend: bool = False) -> tuple[Digest, DeliveryReport]:
    digest = make_digest(store, keywords, day)
    _, _, html, text = write_digest(digest, settings.digests_dir)
    report = deliver(
        store, mailer, day.isoformat(), digest.subject, text, html,
        settings.mail.sender, settings.mail.recipients, resend=resend,
    )
    return digest, report


async def run_cycle(
    settings: Settings,
    sources: SourceList,
    keywords: Keywords,
    client: httpx.AsyncClient,
    store: Store,
    mailer: Mailer,
    day: date | None = None,
    linker: Linker | None = None,
) -> RunSummary:
    """collect -> link -> store -> digest -> deliver, recorded as one row in ``runs``."""
    summary = RunSummary(run_id=store.start_run())
    errors: list[str] = []
    status = "failed"
    try:
        summary.collect = await collect_and_store(sources, linker or Linker(keywords), client, store, settings)
        errors += [f"{source_id}: {reason}" for source_id, reason in summary.collect.failures]
        day = day or today_in_santiago()
        digest, report = send_digest(store, keywords, mailer, settings, day)
        summary.digest_paths = [settings.digests_dir / f"{day.isoformat()}.html", settings.digests_dir / f"{day.isoformat()}.txt"]
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
        }
        assert summary.run_id is not None
        store.finish_run(summary.run_id, status, counts, errors)
    return summary
