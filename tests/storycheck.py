"""The stories invariant, checked on a database file or connection: every stored article is in
exactly one story, each story row counts its articles, and ``story_links`` is the union of its
articles' links."""

from __future__ import annotations

import sqlite3


def story_problems(db: sqlite3.Connection) -> list[str]:
    """What breaks the invariant (empty when the stories are consistent)."""
    problems = []
    orphans = db.execute(
        "select count(*) from articles a left join stories s on s.id = a.story_id where s.id is"
        " null"
    ).fetchone()[0]
    if orphans:
        problems.append(f"{orphans} articles without a story")
    wrong_counts = db.execute(
        "select count(*) from stories s where s.article_count != (select count(*) from articles a"
        " where a.story_id = s.id)"
    ).fetchone()[0]
    if wrong_counts:
        problems.append(f"{wrong_counts} stories with a wrong article count")
    union = set(
        db.execute(
            "select a.story_id, l.kind, l.code, max(l.at_risk) from links l join articles a on"
            " a.id = l.article_id"
            " group by a.story_id, l.kind, l.code"
        )
    )
    kept = set(db.execute("select story_id, kind, code, at_risk from story_links"))
    if union != kept:
        problems.append(f"story_links differ from the union of links: {sorted(union ^ kept)[:5]}")
    return problems
