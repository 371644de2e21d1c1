"""The command line: parse options, call one pipeline function, turn errors into exit codes.

Exit codes (named in ``agenda.errors``): 0 all well; 1 the run finished but some source failed
(or a mail did not go); 2 configuration or usage error (one line naming the file or option, no
traceback); 3 another run holds the lock.

The common options (--db, --sources, --config, …) are accepted before the command and after it
(``agenda --db X status`` and ``agenda status --db X``); every command gets them in their own
help group, after its own options, without listing them itself. ``main`` turns every error a
person can cause (a folder given as a file, a damaged database, an unreadable file) into one
line and exit 2.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agenda import __version__
from agenda.cli_types import bounded_int
from agenda.cli_types import option_age as _age
from agenda.cli_types import option_date as _date
from agenda.errors import (
    EXIT_CONFIG,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    AgendaError,
    ConfigError,
    ConfigErrors,
    UsageError,
)

__all__ = ["EXIT_CONFIG", "EXIT_OK", "EXIT_PARTIAL", "build_parser", "main"]


# (flags, options) of the options every command takes; defaults live on the top-level parser.
COMMON_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (
        ("--sources",),
        {
            "type": Path,
            "default": Path("sources.yaml"),
            "help": "sources file (default: ./sources.yaml)",
        },
    ),
    (
        ("--keywords",),
        {
            "type": Path,
            "default": Path("keywords"),
            "help": "keywords folder (default: ./keywords)",
        },
    ),
    (
        ("--db",),
        {
            "type": Path,
            "default": Path("agenda.db"),
            "help": "SQLite database (default: ./agenda.db)",
        },
    ),
    (
        ("--digests",),
        {"type": Path, "default": Path("digests"), "help": "digest folder (default: ./digests)"},
    ),
    (
        ("--recipients",),
        {
            "type": Path,
            "default": None,
            "help": "who gets which edition (default: ./recipients.yaml if present, "
            "else the mail settings' addresses)",
        },
    ),
    (
        ("--config",),
        {
            "type": Path,
            "default": None,
            "help": "settings file: mail, schedule, fetch (default: ./agenda.yaml if present)",
        },
    ),
    (("-v", "--verbose"), {"action": "store_true", "default": False, "help": "log more"}),
    (
        ("--log-json",),
        {
            "action": "store_true",
            "default": False,
            "help": "log one JSON object per line (with the run id) on stderr",
        },
    ),
)
FILE_OPTIONS = ("sources", "config", "recipients", "db")  # must be files when they exist
FOLDER_OPTIONS = ("digests", "keywords")  # must be folders when they exist


def _add_common_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """The common options in their own help group. On a command they default to SUPPRESS, so
    a value given before the command is kept unless the command repeats the option."""
    group = parser.add_argument_group("common options")
    for flags, options in COMMON_OPTIONS:
        value = options if top else {**options, "default": argparse.SUPPRESS}
        group.add_argument(*flags, **value)


def _commands_of(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every command and subcommand parser under ``parser`` that runs something (a leaf)."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share a parser
                inner = _commands_of(sub)
                found.extend(inner or [sub])
    return found


def build_parser() -> argparse.ArgumentParser:
    # Kept empty on purpose: a command added with parents=[common] still gets the common
    # options, added once at the end of this function, after the command's own.
    common = argparse.ArgumentParser(add_help=False)

    parser = argparse.ArgumentParser(
        prog="agenda",
        description="Agenda Regional: collect Chile's regional press, link it to regions,"
        " commitments and priorities, and send a daily digest.",
    )
    parser.add_argument("--version", action="version", version=f"agenda {__version__}")
    _add_common_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[common], help=help_text, description=help_text)

    add("collect", "Fetch every enabled source, link and store its articles.")
    link = add(
        "link",
        "Link JSON lines from stdin (title, summary, text) to places, commitments,"
        " priorities; no database needed.",
    )
    link.add_argument(
        "--region",
        default=None,
        help="the source's region code, used as a prior for ambiguous names",
    )
    for name, help_text in (
        ("digest", "Write the day's digest (HTML and text) to the digests folder."),
        ("send", "Write the day's digest and e-mail it (or write .eml files to the outbox)."),
        (
            "run",
            "One full cycle: collect, link, store, digest, send (for cron or a systemd timer).",
        ),
    ):
        sub = add(name, help_text)
        sub.add_argument(
            "--date",
            type=_date,
            default=None,
            help="America/Santiago day YYYY-MM-DD (default: today)",
        )
        if name == "send":
            sub.add_argument(
                "--resend",
                type=_date,
                default=None,
                metavar="DATE",
                help="send DATE's digest again, also to recipients who already got it",
            )
    add(
        "schedule",
        "Run the scheduler: collect hourly 00:00-06:00,"
        " digest and send at 06:30 (America/Santiago).",
    )
    search = add("search", "Full-text search of stored articles, newest first.")
    search.add_argument("query", help="words to search for")
    search.add_argument(
        "--limit",
        type=bounded_int(1, 10_000),
        default=20,
        help="at most this many results (default 20)",
    )
    search.add_argument("--json", action="store_true", help="machine-readable output")
    evaluate = add(
        "eval", "Score the linker on a gold JSON-lines file: precision, recall, F1 per level."
    )
    evaluate.add_argument(
        "file",
        type=Path,
        help="gold file (JSON lines with id, title, text, regions, communes, commitments)",
    )
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    evaluate.add_argument(
        "--mistakes", action="store_true", help="also list every item the linker got wrong"
    )
    evaluate.add_argument(
        "--register",
        type=Path,
        help="read the commitments from this register instead of the keywords directory's"
        " commitments.yaml",
    )
    feedback = add(
        "feedback",
        "Correct an article's places: --not CODE removes a link and writes a reviewable exclusion"
        " rule to keywords/feedback.yaml; --add CODE adds one."
        " `agenda feedback inbox PATH` applies readers' replies"
        " from an mbox or Maildir, each once.",
    )
    feedback.add_argument(
        "article_id",
        help="the article's id (shown by `agenda search`), or `inbox` to read readers' replies",
    )
    feedback.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=None,
        help="with `inbox`: an mbox file or a Maildir folder",
    )
    feedback.add_argument(
        "--dry-run",
        action="store_true",
        help="with `inbox`: show what would be applied, change nothing",
    )
    feedback.add_argument(
        "--not",
        dest="not_code",
        metavar="CODE",
        help="region (2 digits), province (3) or commune (5) code the article is NOT about",
    )
    feedback.add_argument(
        "--add",
        dest="add_code",
        metavar="CODE",
        help="region, province or commune code the article IS about",
    )
    status = add(
        "status", "The last runs, failing sources, the outbox and the next scheduled times."
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument(
        "--runs",
        type=bounded_int(1, 1000),
        default=5,
        help="how many recent runs to show (default 5)",
    )
    prune = add(
        "prune",
        "Delete articles, links and runs older than a cut-off,"
        " then give the space back (incremental vacuum).",
    )
    prune.add_argument(
        "--older-than",
        required=True,
        type=_age,
        metavar="AGE",
        help="e.g. 400d (days) or 12w (weeks)",
    )
    backup = add(
        "backup", "Copy the database with SQLite's online backup API (safe while a run is writing)."
    )
    backup.add_argument("path", type=Path, help="where to write the copy (a new file)")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    report = add(
        "report",
        "Write a brief (informe) on any region, commune, commitment, priority,"
        " topic or query over a period: HTML, PDF and CSV.",
    )
    report.add_argument(
        "--region",
        action="append",
        default=[],
        metavar="CODE",
        help="two-digit region code (repeatable)",
    )
    report.add_argument("--commune", default=None, metavar="CODE", help="five-digit commune code")
    report.add_argument(
        "--commitment",
        default=None,
        metavar="ID",
        help="a commitment id of keywords/commitments.yaml",
    )
    report.add_argument(
        "--priority", default=None, metavar="ID", help="a priority id of keywords/priorities.yaml"
    )
    report.add_argument(
        "--query",
        default=None,
        help='full-text query, SQLite FTS5 syntax: sequía OR "escasez hídrica"',
    )
    report.add_argument(
        "--topic", default=None, metavar="ID", help="a standing topic of keywords/topics.yaml"
    )
    report.add_argument(
        "--from",
        dest="date_from",
        type=_date,
        default=None,
        metavar="DATE",
        help="first America/Santiago day (default: 6 days before --to)",
    )
    report.add_argument(
        "--to",
        dest="date_to",
        type=_date,
        default=None,
        metavar="DATE",
        help="last day, included (default: today)",
    )
    report.add_argument(
        "--title", default=None, help="the brief's title (default: filters and period in Spanish)"
    )
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="where to write the files (default: the digests folder's informes/)",
    )
    report.add_argument(
        "--json",
        action="store_true",
        help="print the brief's data as JSON instead of writing files",
    )
    report.add_argument(
        "--visit",
        action="store_true",
        help="with one --region: add the region's commitments and its main stories"
        " of the last 30 days",
    )
    topics = commands.add_parser(
        "topics",
        help="Work with the standing topics (keywords/topics.yaml).",
        description="Work with the standing topics (keywords/topics.yaml).",
    )
    topics_commands = topics.add_subparsers(
        dest="topics_command", required=True, metavar="SUBCOMMAND"
    )
    topics_check = topics_commands.add_parser(
        "check",
        parents=[common],
        help="Validate topics.yaml and count what each topic matched over the last 30 days.",
        description="Validate keywords/topics.yaml and run each topic's query"
        " over the last 30 days of stored articles,"
        " printing how many articles it matched.",
    )
    topics_check.add_argument(
        "--date", type=_date, default=None, help="last day of the 30 (default: today)"
    )
    sources = commands.add_parser(
        "sources", help="Work with the source list.", description="Work with the source list."
    )
    sources_commands = sources.add_subparsers(
        dest="sources_command", required=True, metavar="SUBCOMMAND"
    )
    check = sources_commands.add_parser(
        "check",
        parents=[common],
        help="Validate sources.yaml and probe every enabled source.",
        description="Validate sources.yaml, probe every enabled source"
        " concurrently and print status, items, newest item, latency and"
        " error; exit 1 if any source is unhealthy.",
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")
    add_source = sources_commands.add_parser(
        "add",
        parents=[common],
        help="Find a homepage's feeds, validate them and append the source to sources.yaml.",
        description='Find the feeds a homepage announces (<link rel="alternate">),'
        " validate them and append the best one to sources.yaml,"
        " keeping the file's comments and order.",
    )
    add_source.add_argument("url", help="the outlet's homepage (or its feed)")
    add_source.add_argument(
        "--region",
        default=None,
        metavar="CODE",
        help="two-digit region code, or national (default: national)",
    )
    add_source.add_argument(
        "--id", default=None, help="the new source's id (default: from the site's name)"
    )
    add_source.add_argument(
        "--name", default=None, help="the outlet's name (default: the feed's title)"
    )
    add_source.add_argument(
        "--dry-run", action="store_true", help="show the entry without writing the file"
    )
    _add_commitment_commands(commands, common)
    for command in _commands_of(parser):
        if "--db" not in command._option_string_actions:
            _add_common_options(command, top=False)
    return parser


def _add_commitment_commands(
    commands: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> None:
    """`agenda commitments import|report|list|show` and `agenda run --weekly` (issue 11)."""
    commands.choices["run"].add_argument(
        "--weekly",
        action="store_true",
        help="instead of the daily cycle, write last week's"
        " commitment report and e-mail it to the recipients who ask for it"
        " (compromisos-semanal)",
    )
    group = commands.add_parser(
        "commitments",
        help="The official list of commitments and their follow-up.",
        description="The official list of commitments and their follow-up.",
    )
    sub = group.add_subparsers(dest="commitments_command", required=True, metavar="SUBCOMMAND")
    importing = sub.add_parser(
        "import",
        parents=[common],
        help="Merge the office's sheet (.xlsx or .csv) into keywords/commitments.yaml.",
        description="Merge the office's sheet of commitments (.xlsx, or .csv with comma or"
        " semicolon in UTF-8 or Windows-1252) "
        "into keywords/commitments.yaml, keeping aliases, facility words and comments."
        " Any bad row: exit 2, nothing written.",
    )
    importing.add_argument("file", type=Path, help="the sheet (.xlsx or .csv)")
    importing.add_argument(
        "--skip-invalid", action="store_true", help="write the good rows, list the bad ones, exit 1"
    )
    importing.add_argument(
        "--dry-run", action="store_true", help="show what would be added and changed; write nothing"
    )
    importing.add_argument("--json", action="store_true", help="machine-readable output")
    report = sub.add_parser(
        "report",
        parents=[common],
        help="Write the commitment follow-up report (HTML and text) under <digests>/compromisos/.",
        description="Each commitment's news signal (crítico, atención, normal, sin noticias)"
        " over a period, by region from north "
        "to south, plus a timeline page per commitment."
        " Default period: the last full week (Monday to Sunday, America/Santiago).",
    )
    report.add_argument(
        "--from",
        dest="start",
        type=_date,
        default=None,
        help="first day YYYY-MM-DD (default: last week's Monday)",
    )
    report.add_argument(
        "--to",
        dest="end",
        type=_date,
        default=None,
        help="last day YYYY-MM-DD (default: last week's Sunday)",
    )
    report.add_argument(
        "--region", default=None, metavar="CODE", help="only this region (two-digit code)"
    )
    report.add_argument(
        "--json", action="store_true", help="print the report as JSON (files are written too)"
    )
    listing = sub.add_parser(
        "list",
        parents=[common],
        help="List the commitments with their official status and last week's signal.",
        description="List the commitments with their official status, due date and"
        " last week's news signal.",
    )
    listing.add_argument(
        "--region", default=None, metavar="CODE", help="only this region (two-digit code)"
    )
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    show = sub.add_parser(
        "show",
        parents=[common],
        help="A commitment's timeline in the terminal: every mention, newest first.",
        description="A commitment's timeline in the terminal: every mention in the archive,"
        " newest first, with risk flags.",
    )
    show.add_argument("id", help="the commitment's id (see `agenda commitments list`)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from agenda import logs

    logs.configure(
        json_lines=getattr(args, "log_json", False), verbose=getattr(args, "verbose", False)
    )
    try:
        _check_paths(args)
        return _dispatch(args)
    except ConfigErrors as exc:
        if len(exc.errors) == 1:
            print(f"configuration error: {exc}", file=sys.stderr)
        else:  # one line per problem, so they can all be fixed at once
            print(f"configuration error ({len(exc.errors)} problems):\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except AgendaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except sqlite3.DatabaseError as exc:  # met after opening: a file damaged further in
        print(f"error: database {getattr(args, 'db', '?')}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:
        if exc.filename is None:
            raise
        print(f"error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _check_paths(args: argparse.Namespace) -> None:
    """A folder where a file is expected (or the reverse) is named now, not met as a traceback."""
    for name in FILE_OPTIONS:
        path = getattr(args, name, None)
        if path is not None and path.is_dir():
            raise UsageError(f"--{name} {path}: is a folder, not a file")
    for name in FOLDER_OPTIONS:
        path = getattr(args, name, None)
        if path is not None and path.exists() and not path.is_dir():
            raise UsageError(f"--{name} {path}: is a file, not a folder")


def _dispatch(args: argparse.Namespace) -> int:
    from agenda import commands  # heavy imports (spaCy) only once options are parsed

    if args.command == "sources":
        from agenda.source_commands import sources_add, sources_check

        return (sources_add if args.sources_command == "add" else sources_check)(args)
    if args.command == "feedback":
        from agenda.feedback_commands import feedback

        return feedback(args)
    if args.command in ("report", "topics"):
        from agenda.brief_commands import report, topics_check

        return (report if args.command == "report" else topics_check)(args)
    if args.command == "eval":
        return commands.evaluate_gold(args)
    if args.command == "commitments":
        return commands.commitments(args)
    return int(getattr(commands, args.command)(args))


if __name__ == "__main__":
    sys.exit(main())
