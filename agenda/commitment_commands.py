"""The `agenda commitments ...` commands and `agenda run --weekly`: parse, call one function,
print. Kept beside commands.py so that file stays a list of short functions."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from agenda.errors import EXIT_OK, EXIT_PARTIAL, ConfigError
from agenda.keywords import load_keywords
from agenda.sources import normalise_region


def _region(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    code = normalise_region(value)
    if code is None or code == "national":
        raise ConfigError(
            "--region", None, None, f"unknown region code '{value}' (expected 01..16)"
        )
    return (code,)


def _period(args: argparse.Namespace) -> tuple[date, date]:
    from agenda.pipeline import today_in_santiago
    from agenda.reports.commitments import last_full_week

    start, end = last_full_week(today_in_santiago())
    start, end = args.start or start, args.end or end
    if args.start and not args.end:
        end = max(start, end)
    if end < start:
        raise ConfigError("--to", None, None, f"{end} is before --from {start}")
    return start, end


def import_sheet(args: argparse.Namespace) -> int:
    """Exit 0 all rows good; 1 bad rows skipped (--skip-invalid); 2 bad rows, nothing written."""
    from agenda.commitments_yaml import import_sheet as run_import

    keywords = load_keywords(args.keywords)
    result = run_import(args.file, keywords, skip_invalid=args.skip_invalid, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        bad = {str(e) for e in result.parsed.errors}
        for line in result.lines():
            print(line, file=sys.stderr if line in bad else sys.stdout)
    return result.exit_code


def report(args: argparse.Namespace) -> int:
    from agenda.commands import _settings, _store
    from agenda.reports.commitments import build_report, write_report
    from agenda.reports.signals import SIGNAL_NAMES

    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    start, end = _period(args)
    result = build_report(_store(settings), keywords, start, end, _region(args.region))
    files = write_report(result, settings.digests_dir)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    counts = ", ".join(f"{n} {SIGNAL_NAMES[name]}" for name, n in result.counts.items())
    print(f"compromisos {start} a {end}: {len(result.commitments)} ({counts})")
    print(f"  {files.html}\n  {files.text}")
    print(f"  {len(files.timelines)} líneas de tiempo en {files.html.parent}/<id>.html")
    return EXIT_OK


def listing(args: argparse.Namespace) -> int:
    from agenda.commands import _settings, _store
    from agenda.reports.commitments import build_report

    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    start, end = _period(argparse.Namespace(start=None, end=None))
    result = build_report(_store(settings), keywords, start, end, _region(args.region))
    if args.json:
        print(
            json.dumps(
                [
                    {
                        **f.as_dict(),
                        "ministry": f.commitment.ministry,
                        "priority": f.commitment.priority_id,
                    }
                    for f in result.commitments
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return EXIT_OK
    for f in result.commitments:
        c = f.commitment
        official = f"{c.status or '-':15} {c.due or '-':10}"
        print(f"{c.region_code}  {c.id:40} {f.signal_name:13} {official} {c.title}")
    return EXIT_OK


def show(args: argparse.Namespace) -> int:
    from agenda.commands import _settings, _store
    from agenda.reports.commitments import build_report, render_timeline_text

    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    commitment = keywords.commitments.get(args.id)
    if commitment is None:
        print(
            f"no commitment '{args.id}' in {settings.keywords_dir}/commitments.yaml "
            "(see `agenda commitments list`)",
            file=sys.stderr,
        )
        return EXIT_PARTIAL
    start, end = _period(argparse.Namespace(start=None, end=None))
    result = build_report(_store(settings), keywords, start, end, (commitment.region_code,))
    follow_up = next(f for f in result.commitments if f.commitment.id == args.id)
    print(render_timeline_text(follow_up), end="")
    return EXIT_OK


def run_weekly(args: argparse.Namespace) -> int:
    """`agenda run --weekly`: last week's report, e-mailed to who asks for it (for cron)."""
    from agenda.commands import _lock, _print_delivery, _recipients, _settings, _store
    from agenda.deliver import make_mailer, send_weekly_report

    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    recipients = _recipients(args, settings, keywords)
    start, end = _period(argparse.Namespace(start=None, end=None))
    with _lock(settings, create=True):  # `run` makes its database, as for the daily cycle
        paths, delivery = send_weekly_report(
            _store(settings, create=True),
            keywords,
            make_mailer(settings.mail),
            settings,
            start,
            end,
            recipients,
        )
    print(f"compromisos {start} a {end}:")
    for path in paths:
        print(f"  {path}")
    _print_delivery(settings, delivery)
    return EXIT_PARTIAL if delivery.failed else EXIT_OK


COMMANDS = {"import": import_sheet, "report": report, "list": listing, "show": show}
