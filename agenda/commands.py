"""One function per CLI command: load configuration, call the pipeline, print a short report.

Kept apart from cli.py so ``agenda --help`` stays instant (spaCy loads only here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from datetime import date
from typing import Any

from agenda.collect import FetchState, fetch_all, make_client
from agenda.deliver import make_mailer
from agenda.errors import ParseError
from agenda.extract import extract
from agenda.keywords import Keywords, load_keywords
from agenda.link import Linker
from agenda.pipeline import RunSummary, collect_and_store, run_cycle, send_digest, today_in_santiago, make_digest, write_digest
from agenda.schedule import build_scheduler
from agenda.settings import Settings, load_settings
from agenda.sources import SourceList, load_sources
from agenda.store import Store, open_database


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        args.config, sources_path=args.sources, keywords_dir=args.keywords, db_path=args.db, digests_dir=args.digests
    )


def _load(args: argparse.Namespace) -> tuple[Settings, SourceList, Keywords]:
    settings = _settings(args)
    return settings, load_sources(settings.sources_path), load_keywords(settings.keywords_dir)


def _store(settings: Settings) -> Store:
    return Store(open_database(settings.db_path))


def _print_collect(summary: Any) -> None:
    print(
        f"sources: {summary.sources_ok} ok, {summary.sources_not_modified} unchanged (304), {len(summary.failures)} failed; "
        f"articles: {summary.articles_new} new, {summary.articles_seen} already stored; links: {summary.links}"
    )
    for source_id, reason in summary.failures:
        print(f"  FAILED {source_id}: {reason}")


def collect(args: argparse.Namespace) -> int:
    settings, sources, keywords = _load(args)
    store = _store(settings)

    async def go() -> Any:
        async with make_client() as client:
            return await collect_and_store(sources, Linker(keywords), client, store, settings)

    summary = asyncio.run(go())
    _print_collect(summary)
    return 1 if summary.failures else 0


def link(args: argparse.Namespace) -> int:
    keywords = load_keywords(args.keywords)
    linker = Linker(keywords)
    status = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            print(f"stdin line {number}: not a JSON object ({exc})", file=sys.stderr)
            status = 1
            continue
        text = "\n\n".join(str(item[k]) for k in ("title", "summary", "text") if item.get(k))
        item.update(linker.link(text, source_region=args.region).as_dict())
        print(json.dumps(item, ensure_ascii=False), flush=True)
    return status


def _day(args: argparse.Namespace) -> date:
    return args.date or today_in_santiago()


def digest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    store = _store(settings)
    result = make_digest(store, keywords, _day(args))
    html_path, text_path, _, _ = write_digest(result, settings.digests_dir)
    print(f"digest for {result.date_words}: {result.article_count} articles, {len(result.regions)} regions")
    print(f"  {html_path}\n  {text_path}")
    return 0


def send(args: argparse.Namespace) -> int:
    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    store = _store(settings)
    result, report = send_digest(store, keywords, make_mailer(settings.mail), settings, _day(args), resend=args.resend)
    _print_delivery(settings, report)
    return 1 if report.failed else 0


def _print_delivery(settings: Settings, report: Any) -> None:
    where = f"SMTP {settings.mail.smtp_host}:{settings.mail.smtp_port}" if settings.mail.uses_smtp else f"outbox {settings.mail.outbox_dir}"
    print(f"e-mail ({where}): {len(report.sent)} sent, {len(report.skipped)} already sent, {len(report.failed)} failed")
    for destination in report.destinations:
        print(f"  {destination}")
    for recipient, reason in report.failed:
        print(f"  FAILED {recipient}: {reason} (kept; the next run retries)")


def run(args: argparse.Namespace) -> int:
    settings, sources, keywords = _load(args)
    summary = asyncio.run(_run(settings, sources, keywords, args.date))
    _print_collect(summary.collect)
    print("digest:")
    for path in summary.digest_paths:
        print(f"  {path}")
    if summary.delivery:
        _print_delivery(settings, summary.delivery)
    return summary.exit_code


async def _run(settings: Settings, sources: SourceList, keywords: Keywords, day: date | None) -> RunSummary:
    store = _store(settings)
    async with make_client() as client:
        return await run_cycle(settings, sources, keywords, client, store, make_mailer(settings.mail), day)


def schedule(args: argparse.Namespace) -> int:
    settings, sources, keywords = _load(args)  # fail now, not at 3 am
    linker = Linker(keywords)

    def collect_job() -> None:
        async def go() -> None:
            store = _store(settings)
            async with make_client() as client:
                await collect_and_store(load_sources(settings.sources_path), linker, client, store, settings)
        asyncio.run(go())

    def digest_job() -> None:
        send_digest(_store(settings), keywords, make_mailer(settings.mail), settings, today_in_santiago())

    scheduler = build_scheduler(settings.schedule, collect_job, digest_job)
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=True))
    print(f"scheduler running ({settings.schedule.timezone}): collect '{settings.schedule.collect_cron}', digest '{settings.schedule.digest_cron}'")
    scheduler.start()
    return 0


def evaluate_gold(args: argparse.Namespace) -> int:
    from agenda.evaluate import evaluate, format_report, read_gold

    evaluation = evaluate(Linker(load_keywords(args.keywords)), read_gold(args.file))
    if args.json:
        print(json.dumps(evaluation.as_dict(), indent=2))
    else:
        print(format_report(evaluation))
    if args.mistakes:
        for mistake in evaluation.mistakes:
            print(f"  {mistake.item_id} {mistake.level}: missing {mistake.missing or '-'}, extra {mistake.extra or '-'}", file=sys.stderr if args.json else sys.stdout)
    return 0


def search(args: argparse.Namespace) -> int:
    store = _store(_settings(args))
    rows = store.search(args.query, limit=args.limit)
    for row in rows:
        print(f"{row['published_at_utc'] or '?':25}  #{row['id']:<6} {row['title']}  ({row['outlet']})\n{'':33}{row['url']}")
    if not rows:
        print("no results")
    return 0


def sources_check(args: argparse.Namespace) -> int:
    """Validate, then probe each enabled source once (no conditional GET) and report."""
    settings = _settings(args)
    sources = load_sources(settings.sources_path)

    async def go() -> list[Any]:
        async with make_client() as client:
            return await fetch_all(client, sources.enabled, {s.id: FetchState() for s in sources.enabled}, settings.fetch)

    rows = []
    for result in asyncio.run(go()):
        row: dict[str, Any] = {"id": result.source.id, "status": "ok", "items": 0, "newest": None,
                               "latency_seconds": round(result.elapsed_seconds, 3), "error": result.error}
        if result.status == "error":
            row["status"] = "failed"
        else:
            try:
                extraction = extract(result.source, result.body, result.final_url)
                row["items"] = len(extraction.articles)
                dates = [a.published_at_utc for a in extraction.articles if a.published_at_utc]
                row["newest"] = max(dates).isoformat() if dates else None
            except ParseError as exc:
                row["status"], row["error"] = "failed", exc.reason
        rows.append(row)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(f"{'source':32} {'status':7} {'items':>5}  {'newest':25} {'latency':>8}  error")
        for row in rows:
            print(f"{row['id']:32} {row['status']:7} {row['items']:>5}  {row['newest'] or '-':25} {row['latency_seconds']:>7.2f}s  {row['error'] or ''}")
    return 1 if any(r["status"] != "ok" for r in rows) else 0
