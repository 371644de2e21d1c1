"""One function per CLI command: load configuration, call the pipeline, print a short report.

Kept apart from cli.py so ``agenda --help`` stays instant (spaCy loads only here).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import threading
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from agenda import commitment_commands, logs
from agenda.collect import make_client
from agenda.deliver import make_mailer
from agenda.keywords import Keywords, load_commitments, load_keywords
from agenda.link import Linker
from agenda.ops import RunLock, RunLocked
from agenda.ops import backup as ops_backup
from agenda.ops import prune as ops_prune
from agenda.deliver import Recipient, load_recipients, national_recipients, send_digest
from agenda.pipeline import RunSummary, collect_and_store, run_cycle, today_in_santiago
from agenda.reports.digest import make_digest, write_digest
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
    return Store(open_database(settings.db_path), story_window_days=settings.stories.window_days)


def _print_collect(summary: Any) -> None:
    print(
        f"sources: {summary.sources_ok} ok, {summary.sources_not_modified} unchanged (304), {len(summary.failures)} failed, "
        f"{len(summary.deferred)} resting after failures; "
        f"articles: {summary.articles_new} new, {summary.articles_seen} already stored; links: {summary.links}"
    )
    for source_id, reason in summary.failures:
        print(f"  FAILED {source_id}: {reason}")
    for source_id, next_attempt in summary.deferred:
        print(f"  RESTING {source_id}: next attempt {next_attempt.isoformat()} (see `agenda sources check`)")


class _TerminalProgress:
    """A rich progress bar on stderr when a person watches a terminal; nothing in cron."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if self._progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                      console=Console(stderr=True), transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=total)
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def collect(args: argparse.Namespace) -> int:
    settings, sources, keywords = _load(args)
    with RunLock.for_database(settings.db_path):
        store = _store(settings)
        progress = _TerminalProgress("collecting")

        async def go() -> Any:
            async with make_client() as client:
                return await collect_and_store(sources, Linker(keywords), client, store, settings, progress=progress)

        run_id = store.start_run()  # a collect-only run is audited like a full one
        logs.run_id.set(run_id)
        status, summary = "failed", None
        try:
            summary = asyncio.run(go())
            status = "partial" if summary.failures else "ok"
        finally:
            progress.close()
            counts = {} if summary is None else {
                "sources_ok": summary.sources_ok, "sources_not_modified": summary.sources_not_modified,
                "sources_failed": len(summary.failures), "articles_new": summary.articles_new,
                "articles_seen": summary.articles_seen, "links": summary.links, "digests_written": 0, "emails_sent": 0,
            }
            errors = [] if summary is None else [f"{source_id}: {reason}" for source_id, reason in summary.failures]
            store.finish_run(run_id, status, counts, errors)
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
    _, result = make_digest(store, keywords, _day(args))
    files, _ = write_digest(result, settings.digests_dir, settings.digest)
    print(f"digest for {result.date_words}: {result.article_count} articles in {result.story_count} stories, {result.region_count} regions, {len(result.critical)} critical commitments")
    print("\n".join(f"  {path}" for path in (files.html, files.text, files.chart, files.index) if path))
    return 0


def _recipients(args: argparse.Namespace, settings: Settings, keywords: Keywords) -> list[Recipient]:
    """recipients.yaml (--recipients, or ./recipients.yaml if present), else the mail settings' addresses."""
    path = args.recipients or (Path("recipients.yaml") if Path("recipients.yaml").exists() else None)
    if path is None:
        return national_recipients(settings.mail.recipients)
    return load_recipients(path, keywords)


def send(args: argparse.Namespace) -> int:
    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    store = _store(settings)
    day = args.resend or _day(args)
    recipients = _recipients(args, settings, keywords)
    result, report = send_digest(store, keywords, make_mailer(settings.mail), settings, day, recipients, resend=args.resend is not None)
    _print_delivery(settings, report)
    return 1 if report.failed else 0


def _print_delivery(settings: Settings, report: Any) -> None:
    where = f"SMTP {settings.mail.smtp_host}:{settings.mail.smtp_port}" if settings.mail.uses_smtp else f"outbox {settings.mail.outbox_dir}"
    waiting = f", {len(report.waiting)} waiting to retry" if report.waiting else ""
    print(f"e-mail ({where}): {len(report.sent)} sent, {len(report.skipped)} already sent, {len(report.failed)} failed{waiting}")
    for destination in report.destinations:
        print(f"  {destination}")
    for recipient, reason in report.failed:
        print(f"  FAILED {recipient}: {reason} (kept; the next run retries)")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "weekly", False):
        return commitment_commands.run_weekly(args)
    settings, sources, keywords = _load(args)
    recipients = _recipients(args, settings, keywords)
    with RunLock.for_database(settings.db_path):
        summary = asyncio.run(_run(settings, sources, keywords, args.date, recipients))
    _print_collect(summary.collect)
    print("digest:")
    for path in summary.digest_paths:
        print(f"  {path}")
    if summary.delivery:
        _print_delivery(settings, summary.delivery)
    return summary.exit_code


async def _run(settings: Settings, sources: SourceList, keywords: Keywords, day: date | None, recipients: list[Recipient]) -> RunSummary:
    store = _store(settings)
    progress = _TerminalProgress("collecting")
    try:
        async with make_client() as client:
            return await run_cycle(settings, sources, keywords, client, store, make_mailer(settings.mail), day, recipients=recipients, progress=progress)
    finally:
        progress.close()


def schedule(args: argparse.Namespace) -> int:
    settings, sources, keywords = _load(args)  # fail now, not at 3 am
    linker = Linker(keywords)

    stopping = threading.Event()

    def collect_job() -> None:
        async def go() -> None:
            store = _store(settings)
            async with make_client() as client:
                work = asyncio.ensure_future(collect_and_store(load_sources(settings.sources_path), linker, client, store, settings))
                # SIGTERM: sources already stored stay stored (one transaction each); those in
                # flight are abandoned whole and fetched again by the next run
                while not work.done():
                    await asyncio.wait({work}, timeout=0.5)
                    if stopping.is_set():
                        work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work

        _locked_job("collect", lambda: asyncio.run(go()))

    recipients = _recipients(args, settings, keywords)

    def digest_job() -> None:
        _locked_job("digest", lambda: send_digest(_store(settings), keywords, make_mailer(settings.mail), settings, today_in_santiago(), recipients))

    def _locked_job(name: str, job: Callable[[], object]) -> None:
        try:
            with RunLock.for_database(settings.db_path):
                job()
        except RunLocked as exc:
            logging.getLogger("agenda").warning("%s skipped: %s", name, exc)

    def weekly_job() -> None:
        from agenda.deliver import send_weekly_report
        from agenda.reports.commitments import last_full_week

        start, end = last_full_week(today_in_santiago())
        _locked_job("weekly", lambda: send_weekly_report(
            _store(settings), keywords, make_mailer(settings.mail), settings, start, end, recipients))

    scheduler = build_scheduler(settings.schedule, collect_job, digest_job, weekly_job=weekly_job)

    def on_sigterm(*_: object) -> None:
        stopping.set()
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}).start()

    signal.signal(signal.SIGTERM, on_sigterm)
    print(f"scheduler running ({settings.schedule.timezone}): collect '{settings.schedule.collect_cron}', digest '{settings.schedule.digest_cron}', "
          f"commitment report '{settings.schedule.weekly_cron}'")
    scheduler.start()
    return 0


def status(args: argparse.Namespace) -> int:
    """What happened overnight, at a glance: runs, failing sources, outbox, next schedule."""
    from agenda.status import collect_status, format_status

    settings = _settings(args)
    report = collect_status(_store(settings), settings, runs=args.runs)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_status(report))
    return 0


def prune(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with RunLock.for_database(settings.db_path):
        report = ops_prune(_store(settings).db, args.older_than)
    print(f"pruned {report.articles} articles, {report.links} links and {report.runs} runs older than {args.older_than.days} days; "
          f"{report.freed_pages} pages given back")
    return 0


def backup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not settings.db_path.exists():
        print(f"error: no database at {settings.db_path}", file=sys.stderr)
        return 1
    path = ops_backup(settings.db_path, args.path)
    print(f"backup written to {path} (integrity ok)")
    return 0


def evaluate_gold(args: argparse.Namespace) -> int:
    from agenda import evaluate as gold

    keywords = load_keywords(args.keywords)
    if getattr(args, "register", None):
        keywords.commitments.clear()
        load_commitments(args.register, keywords)
    items = gold.read_gold(args.file, required=("id",))
    if gold.is_commitment_gold(items):
        items = gold.read_gold(args.file, required=gold.COMMITMENT_FIELDS)
        scored = gold.evaluate_commitments(Linker(keywords), items)
        report = gold.format_commitment_report(scored)
    else:
        items = gold.read_gold(args.file)
        scored = gold.evaluate(Linker(keywords), items)  # type: ignore[assignment]
        report = gold.format_report(scored)  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(scored.as_dict(), indent=2))
    else:
        print(report)
    if args.mistakes:
        for mistake in scored.mistakes:
            print(gold.format_mistake(mistake), file=sys.stderr if args.json else sys.stdout)
    return 0


def feedback(args: argparse.Namespace) -> int:
    from agenda.feedback import apply_feedback

    if args.article_id == "inbox":
        return feedback_inbox(args)
    if not args.article_id.isdigit() or args.path is not None:
        print("usage: agenda feedback ARTICLE_ID --not CODE | agenda feedback inbox PATH", file=sys.stderr)
        return 2
    if not args.not_code and not args.add_code:
        print("say what to correct: --not CODE and/or --add CODE", file=sys.stderr)
        return 2
    article_id = int(args.article_id)
    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    store = _store(settings)
    removed, rules, path = apply_feedback(store, keywords, article_id, args.not_code, args.add_code, today_in_santiago())
    if removed:
        print(f"article {article_id}: removed " + ", ".join(f"{kind} {code}" for kind, code in removed))
    if args.add_code:
        print(f"article {article_id}: added {args.add_code}")
    for rule in rules:
        context = f" after '{rule.before}'" if rule.before else ""
        print(f"rule: do not link '{rule.name}' to {rule.code}{context}")
    if path:
        print(f"rules written to {path} for review")
    return 0


def feedback_inbox(args: argparse.Namespace) -> int:
    """Apply readers' "¿Error?" replies from an mbox file or Maildir folder, each message once."""
    from agenda.feedback import apply_inbox
    from agenda.store import iso, utc_now

    if args.path is None:
        print("say where the replies are: agenda feedback inbox PATH (mbox file or Maildir folder)", file=sys.stderr)
        return 2
    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    store = _store(settings)
    results = apply_inbox(store, keywords, args.path, today_in_santiago(), iso(utc_now()) or "", dry_run=args.dry_run)
    for result in results:
        detail = f": {result.detail}" if result.detail else ""
        print(f"{result.status:12} {result.request.message_id} ({result.request.sender}){detail}")
    counts = {status: sum(1 for r in results if r.status == status) for status in dict.fromkeys(r.status for r in results)}
    print(f"{len(results)} messages: " + (", ".join(f"{n} {status}" for status, n in counts.items()) or "none"))
    return 1 if any(r.status == "error" for r in results) else 0


def search(args: argparse.Namespace) -> int:
    store = _store(_settings(args))
    rows = store.search(args.query, limit=args.limit)
    for row in rows:
        print(f"{row['published_at_utc'] or '?':25}  #{row['id']:<6} {row['title']}  ({row['outlet']})\n{'':33}{row['url']}")
    if not rows:
        print("no results")
    return 0


def sources_check(args: argparse.Namespace) -> int:
    """Validate sources.yaml, probe every enabled source concurrently and print a table.

    Exit 1 if any source is unhealthy, 2 if the file is invalid. The progress bar goes to stderr,
    and only when it is a terminal (never in cron or CI).
    """
    from agenda.curation import format_table, probe_sources

    settings = _settings(args)
    sources = load_sources(settings.sources_path)
    known = _known_state(settings)

    progress = _TerminalProgress("probing sources")
    probed = 0

    def advance(_: object) -> None:
        nonlocal probed
        probed += 1
        progress(probed, len(sources.enabled))

    async def go() -> list[Any]:
        async with make_client() as client:
            return await probe_sources(client, sources, settings.fetch, known, on_result=advance)

    try:
        rows = asyncio.run(go())
    finally:
        progress.close()
    if args.json:
        print(json.dumps([row.as_dict() for row in rows], ensure_ascii=False, indent=2))
    else:
        print(format_table(rows))
    return 1 if any(row.status == "failed" for row in rows) else 0


def _known_state(settings: Settings) -> Any:
    """What an existing database remembers about the sources; nothing (and no new file) otherwise."""
    from agenda.curation import KnownState

    if not settings.db_path.exists():
        return KnownState()
    store = _store(settings)
    return KnownState(store.fetch_states(), {row["id"]: row for row in store.source_health()}, store.newest_article_by_source())


def sources_add(args: argparse.Namespace) -> int:
    """Find the feeds of a homepage, validate them and append the best one to sources.yaml.

    Exit 0 when added (or shown, with --dry-run), 1 when no working feed was found or the feed
    is already listed, 2 for an invalid sources.yaml or region code.
    """
    from agenda.curation import discover, new_entry
    from agenda.errors import ConfigError
    from agenda.extract import canonical_url
    from agenda.sources import append_source, normalise_region

    settings = _settings(args)
    path = settings.sources_path
    sources = load_sources(path) if path.exists() else SourceList(path)
    region = normalise_region(args.region) if args.region is not None else "national"
    if region is None:
        raise ConfigError("--region", None, None, f"unknown region code '{args.region}' (expected 01..16 or 'national')")
    if args.id and args.id in {s.id for s in sources.sources}:
        raise ConfigError(str(path), sources.by_id(args.id).line, "id", f"'{args.id}' is already used")

    async def go() -> Any:
        async with make_client() as client:
            return await discover(client, args.url, settings.fetch)

    discovery = asyncio.run(go())
    for candidate in discovery.candidates:
        verdict = f"ok, {candidate.items} items" if candidate.ok else candidate.reason
        print(f"  {candidate.how:9} {candidate.url}: {verdict}")
    chosen = discovery.chosen
    if chosen is None:
        print(f"no working feed found for {args.url}", file=sys.stderr)
        return 1
    listed = {canonical_url(s.url): s for s in sources.sources}
    if canonical_url(chosen.url) in listed:
        same = listed[canonical_url(chosen.url)]
        print(f"{chosen.url} is already in {path} as '{same.id}' (line {same.line})", file=sys.stderr)
        return 1
    entry = new_entry(chosen, sources, region, args.id, args.name)
    if args.dry_run:
        print(f"would add to {path}: " + json.dumps(entry, ensure_ascii=False))
        return 0
    append_source(path, entry)
    print(f"added '{entry['id']}' ({entry['name']}, {entry['kind']}, region {entry['region']}) to {path}")
    return 0


def report(args: argparse.Namespace) -> int:
    """Write a brief (HTML, PDF, CSV) or print its data (--json). Exit 2 for a request that
    cannot be a brief (unknown code, empty period, malformed query), with one line."""
    from datetime import timedelta

    from agenda.errors import ConfigError
    from agenda.reports.briefs import BriefRequest, brief_json, build_brief, check_request
    from agenda.sources import normalise_region

    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    date_to = args.date_to or today_in_santiago()
    date_from = args.date_from or date_to - timedelta(days=6)
    request = BriefRequest(
        date_from, date_to, tuple(normalise_region(c) or c for c in args.region), args.commune,
        args.commitment, args.priority, args.query, args.topic, args.title, args.visit,
    )
    try:
        check_request(request, keywords)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not settings.db_path.exists():
        print(f"error: no database at {settings.db_path}", file=sys.stderr)
        return 2
    brief = build_brief(_store(settings), keywords, request)
    if args.json:
        print(json.dumps(brief_json(brief), ensure_ascii=False, indent=2))
        return 0
    from agenda.reports.brief_files import write_brief

    files = write_brief(brief, args.out or settings.digests_dir / "informes")
    print(f"brief '{brief.title}': {brief.article_count} articles in {brief.story_count} stories from {brief.outlet_count} outlets")
    print(f"  {files.html}\n  {files.pdf}\n  {files.csv}")
    return 0


def topics_check(args: argparse.Namespace) -> int:
    """Validate keywords/topics.yaml and count each topic's matches over the last 30 days."""
    from datetime import timedelta

    from agenda.store.briefs import ArticleFilter

    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)  # a malformed topic stops here (exit 2)
    if not keywords.topics:
        print(f"no topics in {settings.keywords_dir / 'topics.yaml'}")
        return 0
    date_to = args.date or today_in_santiago()
    date_from = date_to - timedelta(days=29)
    store = _store(settings)
    print(f"articles matched from {date_from} to {date_to}:")
    for topic in keywords.topics.values():
        matched = store.matching_article_ids(ArticleFilter(date_from, date_to, topic.region_codes, queries=(topic.query,)))
        regions = f" (regions {', '.join(topic.region_codes)})" if topic.region_codes else ""
        print(f"  {topic.id:28} {len(matched):6}  {topic.title}{regions}")
    return 0


def commitments(args: argparse.Namespace) -> int:
    """`agenda commitments import|report|list|show` (agenda/commitment_commands.py)."""
    return commitment_commands.COMMANDS[args.commitments_command](args)
