"""The briefs' commands: `agenda report` (a brief as HTML, PDF and CSV, or its data) and
`agenda topics check`. Thin, like commands.py: load configuration, call the reports layer, print.
"""

from __future__ import annotations

import argparse
import json

from agenda.commands import _settings, _store, today_in_santiago
from agenda.errors import EXIT_OK
from agenda.keywords import load_keywords


def report(args: argparse.Namespace) -> int:
    """Write a brief (HTML, PDF, CSV) or print its data (--json). Exit 2 for a request that
    cannot be a brief (unknown code, empty period, malformed query), with one line."""
    from datetime import timedelta

    from agenda.reports.briefs import BriefRequest, brief_json, build_brief, check_request
    from agenda.sources import normalise_region

    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    date_to = args.date_to or today_in_santiago()
    date_from = args.date_from or date_to - timedelta(days=6)
    request = BriefRequest(
        date_from,
        date_to,
        tuple(normalise_region(c) or c for c in args.region),
        args.commune,
        args.commitment,
        args.priority,
        args.query,
        args.topic,
        args.title,
        args.visit,
    )
    check_request(request, keywords)  # an impossible request is a ConfigError: exit 2, one line
    brief = build_brief(_store(settings), keywords, request)
    if args.json:
        print(json.dumps(brief_json(brief), ensure_ascii=False, indent=2))
        return EXIT_OK
    from agenda.reports.brief_files import write_brief

    files = write_brief(brief, args.out or settings.digests_dir / "informes")
    print(
        f"brief '{brief.title}': {brief.article_count} articles in {brief.story_count} stories"
        f" from {brief.outlet_count} outlets"
    )
    print(f"  {files.html}\n  {files.pdf}\n  {files.csv}")
    return EXIT_OK


def topics_check(args: argparse.Namespace) -> int:
    """Validate keywords/topics.yaml and count each topic's matches over the last 30 days."""
    from datetime import timedelta

    from agenda.store.briefs import ArticleFilter

    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)  # a malformed topic stops here (exit 2)
    if not keywords.topics:
        print(f"no topics in {settings.keywords_dir / 'topics.yaml'}")
        return EXIT_OK
    date_to = args.date or today_in_santiago()
    date_from = date_to - timedelta(days=29)
    store = _store(settings)
    print(f"articles matched from {date_from} to {date_to}:")
    for topic in keywords.topics.values():
        matched = store.matching_article_ids(
            ArticleFilter(date_from, date_to, topic.region_codes, queries=(topic.query,))
        )
        regions = f" (regions {', '.join(topic.region_codes)})" if topic.region_codes else ""
        print(f"  {topic.id:28} {len(matched):6}  {topic.title}{regions}")
    return EXIT_OK
