"""The analysts' corrections: `agenda feedback ARTICLE_ID --not/--add CODE` and
`agenda feedback inbox PATH` (readers' "¿Error?" replies). Thin, like commands.py.
"""

from __future__ import annotations

import argparse

from agenda.commands import _settings, _store, today_in_santiago
from agenda.errors import EXIT_OK, EXIT_PARTIAL, UsageError
from agenda.keywords import load_keywords


def feedback(args: argparse.Namespace) -> int:
    from agenda.feedback import apply_feedback

    if args.article_id == "inbox":
        return feedback_inbox(args)
    if not args.article_id.isdigit() or args.path is not None:
        raise UsageError(
            "usage: agenda feedback ARTICLE_ID --not CODE | agenda feedback inbox PATH"
        )
    if not args.not_code and not args.add_code:
        raise UsageError("say what to correct: --not CODE and/or --add CODE")
    article_id = int(args.article_id)
    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    store = _store(settings)
    recorded = {(row["action"], row["code"]) for row in store.feedback_for(article_id)}
    removed, rules, path = apply_feedback(
        store, keywords, article_id, args.not_code, args.add_code, today_in_santiago()
    )
    for action, code in (("not", args.not_code), ("add", args.add_code)):
        if code and (action, code) in recorded:
            print(f"article {article_id}: --{action} {code} was already recorded; nothing changed")
    if removed:
        print(
            f"article {article_id}: removed "
            + ", ".join(f"{kind} {code}" for kind, code in removed)
        )
    if args.add_code and ("add", args.add_code) not in recorded:
        print(f"article {article_id}: added {args.add_code}")
    for rule in rules:
        context = f" after '{rule.before}'" if rule.before else ""
        print(f"rule: do not link '{rule.name}' to {rule.code}{context}")
    if path:
        print(f"rules written to {path} for review")
    return EXIT_OK


def feedback_inbox(args: argparse.Namespace) -> int:
    """Apply readers' "¿Error?" replies from an mbox file or Maildir folder, each message once."""
    from agenda.feedback import apply_inbox
    from agenda.store import iso, utc_now

    if args.path is None:
        raise UsageError(
            "say where the replies are: agenda feedback inbox PATH (mbox file or Maildir folder)"
        )
    settings = _settings(args)
    keywords = load_keywords(settings.keywords_dir)
    store = _store(settings)
    results = apply_inbox(
        store, keywords, args.path, today_in_santiago(), iso(utc_now()) or "", dry_run=args.dry_run
    )
    for result in results:
        detail = f": {result.detail}" if result.detail else ""
        print(f"{result.status:12} {result.request.message_id} ({result.request.sender}){detail}")
    counts = {
        status: sum(1 for r in results if r.status == status)
        for status in dict.fromkeys(r.status for r in results)
    }
    print(
        f"{len(results)} messages: "
        + (", ".join(f"{n} {status}" for status, n in counts.items()) or "none")
    )
    return EXIT_PARTIAL if any(r.status == "error" for r in results) else EXIT_OK
