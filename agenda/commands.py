"""One function per CLI command: load configuration, call the pipeline, print a short report.

Kept apart from cli.py so ``agenda --help`` stays instant. Heavy libraries (spaCy through the
linker, trafilatura through the pipeline) are imported inside the commands that need them:
`agenda status`, `search` and `sources check` start without them (a test checks). Commands
that only read refuse a database that does not exist; only collect, run and schedule create
one. Groups of commands have their own modules: source_commands.py, feedback_commands.py,
brief_commands.py, commitment_commands.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agenda import commitment_commands, logs
from agenda.collect import make_client
from agenda.common import link_text
from agenda.errors import EXIT_CONFIG, EXIT_OK, EXIT_PARTIAL, RunLocked
from agenda.keywords import Keywords, load_keywords
from agenda.ops import RunLock
from agenda.ops import backup as ops_backup
from agenda.ops import prune as ops_prune
from agenda.register import load_commitments
from agenda.settings import Settings, load_settings
from agenda.sources import SourceList, load_sources
from agenda.store import Store, open_database
from agenda.store.schema import check_database_file

if TYPE_CHECKING:
    from agenda.deliver import Recipient
    from agenda.pipeline import RunSummary

MAX_LINK_LINE_BYTES = 2_000_000  # `agenda link`: a longer line is reported and skipped
MAX_LINK_TEXT_CHARS = 1_000_000  # spaCy's own limit (E088) on one text


def today_in_santiago() -> date:
    from agenda.pipeline import today_in_santiago as today

    return today()


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        args.config,
        sources_path=args.sources,
        keywords_dir=args.keywords,
        db_path=args.db,
        digests_dir=args.digests,
    )


def _load(args: argparse.Namespace) -> tuple[Settings, SourceList, Keywords]:
    settings = _settings(args)
    return settings, load_sources(settings.sources_path), load_keywords(settings.keywords_dir)


def _store(settings: Settings, create: bool = False) -> Store:
    """The database; only commands that collect pass ``create`` (reading ones refuse a missing
    file rather than leave an empty ./agenda.db behind)."""
    return Store(
        open_database(settings.db_path, create=create),
        story_window_days=settings.stories.window_days,
    )


def _lock(settings: Settings, create: bool = False) -> RunLock:
    """The run lock, after checking the database file: a command refused for a missing or
    damaged database leaves nothing behind, not even a lock file."""
    check_database_file(settings.db_path, create)
    return RunLock.for_database(settings.db_path)


def _print_collect(summary: Any) -> None:
    print(
        f"sources: {summary.sources_ok} ok, {summary.sources_not_modified} unchanged (304),"
        f" {len(summary.failures)} failed, "
        f"{len(summary.deferred)} resting after failures; "
        f"articles: {summary.articles_new} new, {summary.articles_seen} already stored;"
        f" links: {summary.links}"
    )
    for source_id, reason in summary.failures:
        print(f"  FAILED {source_id}: {reason}")
    for source_id, next_attempt in summary.deferred:
        print(
            f"  RESTING {source_id}: next attempt {next_attempt.isoformat()}"
            " (see `agenda sources check`)"
        )


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
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=total)
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def collect(args: argparse.Namespace) -> int:
    from agenda.link import Linker
    from agenda.pipeline import collect_and_store

    settings, sources, keywords = _load(args)
    with _lock(settings, create=True):
        store = _store(settings, create=True)
        progress = _TerminalProgress("collecting")

        async def go() -> Any:
            async with make_client() as client:
                return await collect_and_store(
                    sources, Linker(keywords), client, store, settings, progress=progress
                )

        run_id = store.start_run()  # a collect-only run is audited like a full one
        logs.run_id.set(run_id)
        status, summary = "failed", None
        try:
            summary = asyncio.run(go())
            status = "partial" if summary.failures else "ok"
        finally:
            progress.close()
            counts = (
                {}
                if summary is None
                else {
                    "sources_ok": summary.sources_ok,
                    "sources_not_modified": summary.sources_not_modified,
                    "sources_failed": len(summary.failures),
                    "articles_new": summary.articles_new,
                    "articles_seen": summary.articles_seen,
                    "links": summary.links,
                    "digests_written": 0,
                    "emails_sent": 0,
                }
            )
            errors = (
                []
                if summary is None
                else [f"{source_id}: {reason}" for source_id, reason in summary.failures]
            )
            store.finish_run(run_id, status, counts, errors)
    _print_collect(summary)
    return EXIT_PARTIAL if summary.failures else EXIT_OK


def link(args: argparse.Namespace) -> int:
    """JSON lines in, JSON lines out. A bad line (not UTF-8, not a JSON object, nested too
    deeply, a lone surrogate, too long) is reported on stderr with its number; the next goes on."""
    from agenda.link import Linker

    keywords = load_keywords(args.keywords)
    linker = Linker(keywords)
    status = EXIT_OK
    for number, raw in enumerate(_lines(sys.stdin.buffer, MAX_LINK_LINE_BYTES), start=1):
        try:
            item = _link_item(raw)
            text = link_text(
                *(str(item[k]) if item.get(k) else None for k in ("title", "summary", "text"))
            )
            if len(text) > MAX_LINK_TEXT_CHARS:
                raise ValueError(
                    f"text of {len(text)} characters; the limit is {MAX_LINK_TEXT_CHARS}"
                )
            item.update(linker.link(text, source_region=args.region).as_dict())
            out = json.dumps(item, ensure_ascii=False)
        except _Blank:
            continue
        except (ValueError, RecursionError) as exc:
            print(f"stdin line {number}: skipped: {exc}", file=sys.stderr, flush=True)
            status = EXIT_PARTIAL
            continue
        if out:
            print(out, flush=True)
    return status


class _Blank(Exception):
    """A blank input line: skipped silently."""


def _lines(stream: Any, limit: int) -> Any:
    """Lines of a binary stream; a line longer than ``limit`` bytes is read in pieces and
    yielded as None (never held whole), blank lines as b""."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # drop the rest of the long line
                line = stream.readline(limit + 1)
            yield None
            continue
        yield line


def _link_item(raw: bytes | None) -> dict[str, Any]:
    """One input line as a JSON object, or ValueError saying what is wrong with it."""
    if raw is None:
        raise ValueError(f"line longer than {MAX_LINK_LINE_BYTES} bytes")
    if not raw.strip():
        raise _Blank
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        item = json.loads(line)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(item, dict):
        raise ValueError("not a JSON object")
    try:
        line.encode("utf-8")
        json.dumps(item, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("holds a lone surrogate (\\ud800-\\udfff), not text") from None
    return item


def _day(args: argparse.Namespace) -> date:
    return args.date or today_in_santiago()


def digest(args: argparse.Namespace) -> int:
    from agenda.reports.digest import make_digest
    from agenda.reports.digest_files import write_digest

    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    store = _store(settings)
    _, result = make_digest(store, keywords, _day(args))
    files = write_digest(result, settings.digests_dir, settings.digest)
    print(
        f"digest for {result.date_words}: {result.article_count} articles"
        f" in {result.story_count} stories,"
        f" {result.region_count} regions,"
        f" {len(result.critical)} critical commitments"
    )
    print("\n".join(f"  {path}" for path in (files.html, files.text, files.index)))
    return EXIT_OK


def _recipients(
    args: argparse.Namespace, settings: Settings, keywords: Keywords
) -> list[Recipient]:
    """recipients.yaml (--recipients, or ./recipients.yaml if present).

    Else the mail settings' addresses.
    """
    from agenda.deliver import load_recipients, national_recipients

    path = args.recipients or (
        Path("recipients.yaml") if Path("recipients.yaml").exists() else None
    )
    if path is None:
        return national_recipients(settings.mail.recipients)
    return load_recipients(path, keywords)


def _report_rejected(settings: Settings, recipients: Any) -> bool:
    """Print every refused recipient address (one line each); True when there was one."""
    rejected = list(getattr(recipients, "rejected", ())) or list(settings.mail.rejected)
    for problem in rejected:
        print(
            f"configuration error: {problem} (no mail goes to it; the others get theirs)",
            file=sys.stderr,
        )
    return bool(rejected)


def send(args: argparse.Namespace) -> int:
    """Write the day's digest and send it. Holds the run lock: two sends (or a send during a
    run) never mail the same digest twice; the second is refused with exit 3."""
    from agenda.deliver import make_mailer, send_digest

    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    day = args.resend or _day(args)
    recipients = _recipients(args, settings, keywords)
    with _lock(settings):
        store = _store(settings)
        result, report = send_digest(
            store,
            keywords,
            make_mailer(settings.mail),
            settings,
            day,
            recipients,
            resend=args.resend is not None,
        )
    _print_delivery(settings, report)
    rejected = _report_rejected(settings, recipients)
    return EXIT_PARTIAL if report.failed else EXIT_CONFIG if rejected else EXIT_OK


def _print_delivery(settings: Settings, report: Any) -> None:
    waiting = f", {len(report.waiting)} waiting to retry" if report.waiting else ""
    if settings.mail.uses_smtp:
        where = f"SMTP {settings.mail.smtp_host}:{settings.mail.smtp_port}"
        print(
            f"e-mail ({where}): {len(report.sent)} sent, {len(report.skipped)} already sent, "
            f"{len(report.failed)} failed{waiting}"
        )
    else:  # nothing left the machine: say so rather than "1 sent"
        print(
            f"e-mail: {len(report.sent)} escrito en el outbox {settings.mail.outbox_dir} "
            "(no SMTP host: nothing was sent), "
            f"{len(report.skipped)} already written, {len(report.failed)} failed{waiting}"
        )
    for destination in report.destinations:
        print(f"  {destination}")
    for recipient, reason in report.failed:
        print(f"  FAILED {recipient}: {reason} (kept; the next run retries)")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "weekly", False):
        return commitment_commands.run_weekly(args)
    settings, sources, keywords = _load(args)
    recipients = _recipients(args, settings, keywords)
    with _lock(settings, create=True):
        summary = asyncio.run(_run(settings, sources, keywords, args.date, recipients))
    _print_collect(summary.collect)
    print("digest:")
    for path in summary.digest_paths:
        print(f"  {path}")
    if summary.delivery:
        _print_delivery(settings, summary.delivery)
    if _report_rejected(settings, recipients) and summary.exit_code == EXIT_OK:
        return EXIT_CONFIG
    return summary.exit_code


async def _run(
    settings: Settings,
    sources: SourceList,
    keywords: Keywords,
    day: date | None,
    recipients: list[Recipient],
) -> RunSummary:
    from agenda.deliver import make_mailer
    from agenda.pipeline import run_cycle

    store = _store(settings, create=True)
    progress = _TerminalProgress("collecting")
    try:
        async with make_client() as client:
            return await run_cycle(
                settings,
                sources,
                keywords,
                client,
                store,
                make_mailer(settings.mail),
                day,
                recipients=recipients,
                progress=progress,
            )
    finally:
        progress.close()


def schedule(args: argparse.Namespace) -> int:
    from agenda.deliver import make_mailer, send_digest
    from agenda.link import Linker
    from agenda.pipeline import collect_and_store
    from agenda.schedule import build_scheduler

    settings, sources, keywords = _load(args)  # fail now, not at 3 am
    check_database_file(settings.db_path, create=True)
    linker = Linker(keywords)

    stopping = threading.Event()

    def collect_job() -> None:
        async def go() -> None:
            store = _store(settings, create=True)
            async with make_client() as client:
                work = asyncio.ensure_future(
                    collect_and_store(
                        load_sources(settings.sources_path), linker, client, store, settings
                    )
                )
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
    _report_rejected(settings, recipients)  # said once at start; the valid ones get their mail

    def digest_job() -> None:
        _locked_job(
            "digest",
            lambda: send_digest(
                _store(settings, create=True),
                keywords,
                make_mailer(settings.mail),
                settings,
                today_in_santiago(),
                recipients,
            ),
        )

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
        _locked_job(
            "weekly",
            lambda: send_weekly_report(
                _store(settings),
                keywords,
                make_mailer(settings.mail),
                settings,
                start,
                end,
                recipients,
            ),
        )

    scheduler = build_scheduler(settings.schedule, collect_job, digest_job, weekly_job=weekly_job)

    def on_sigterm(*_: object) -> None:
        stopping.set()
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}).start()

    signal.signal(signal.SIGTERM, on_sigterm)
    print(
        f"scheduler running ({settings.schedule.timezone}):"
        f" collect '{settings.schedule.collect_cron}',"
        f" digest '{settings.schedule.digest_cron}', "
        f"commitment report '{settings.schedule.weekly_cron}'"
    )
    scheduler.start()
    return EXIT_OK


def status(args: argparse.Namespace) -> int:
    """What happened overnight, at a glance: runs, failing sources, outbox, next schedule."""
    from agenda.status import collect_status, format_status

    settings = _settings(args)
    report = collect_status(_store(settings), settings, runs=args.runs)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_status(report))
    return EXIT_OK


def prune(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _lock(settings):
        report = ops_prune(_store(settings).db, args.older_than)
    print(
        f"pruned {report.articles} articles, {report.links} links and {report.runs} runs"
        f" older than {args.older_than.days} days; "
        f"{report.freed_pages} pages given back"
    )
    return EXIT_OK


def backup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _store(settings)  # refuses a missing, damaged or foreign database, naming it
    path = ops_backup(settings.db_path, args.path, overwrite=args.force)
    print(f"backup written to {path} (integrity ok)")
    return EXIT_OK


def evaluate_gold(args: argparse.Namespace) -> int:
    from agenda import evaluate as gold
    from agenda.link import Linker

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
    return EXIT_OK


def search(args: argparse.Namespace) -> int:
    store = _store(_settings(args))
    rows = store.search(args.query, limit=args.limit)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    for row in rows:
        print(
            f"{row['published_at_utc'] or '?':25}  #{row['id']:<6} {row['title']}"
            f"  ({row['outlet']})\n{'':33}{row['url']}"
        )
    if not rows:
        print("no results")
    return EXIT_OK


def commitments(args: argparse.Namespace) -> int:
    """`agenda commitments import|report|list|show` (agenda/commitment_commands.py)."""
    return commitment_commands.COMMANDS[args.commitments_command](args)
