"""Stories in the store: the links a story carries, and the readers.

Every stored article belongs to exactly one story (``articles.story_id``), decided when the
article is stored, in the same transaction, by ``agenda.stories`` over the articles of a sliding
window of days (``keeper.py``: ``StoryKeeper``, ``backfill_stories``). A story row keeps what
reports need without reading its articles again: the best title (the article with most links,
then the earliest), first and last seen, the count of its articles and outlets; ``story_links``
is the union of its articles' links, kept current when an article is relinked or an analyst
corrects it.

Readers for reports: ``articles_on`` / ``articles_between`` (articles with their links, outlets
and ``story_id``), ``stories_by_id``, ``stories_between``, ``story_articles``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

from sqlite_utils import Database

from agenda.common import cyclic_gc_paused
from agenda.store.chunks import in_chunks
from agenda.store.keeper import NewArticle, StoryKeeper, backfill_stories

# the writers live in keeper.py; imported from here by the store, the schema and the tests
__all__ = ["NewArticle", "StoryKeeper", "backfill_stories"]


class StoredLink(NamedTuple):
    """A link as the digest reads it back."""

    kind: str
    code: str
    name: str
    at_risk: bool
    risk_sentences: tuple[str, ...]
    risk_kind: str | None = None  # keywords/alerts.yaml kind ("delay", "contractor", ...)
    resolved: bool = False  # the article also reports the trouble solved


# What ``stored_links`` reads, from ``links l``.
LINK_COLUMNS = (
    "l.article_id, l.kind, l.code, l.name, l.at_risk,"
    " case when l.at_risk then l.risk_evidence end, l.risk_kind, l.resolved"
)  # the alert sentences only where there is an alert: most links have none to read


def stored_links(rows: Iterable[tuple[Any, ...]]) -> dict[int, list[StoredLink]]:
    """Link rows (``LINK_COLUMNS``) by article, as reports read them: no evidence spans (only
    the sentences that flag a commitment), one shared string per code and name, and one
    shared tuple per distinct link without an alert, for every article that has it: a night's
    50,000 articles have 300,000 links (40 MB as tuples of their own), a few thousand distinct."""
    links: dict[int, list[StoredLink]] = {}
    shared: dict[tuple[Any, ...], StoredLink] = {}
    for row in rows:
        article_id, kind, code, name, at_risk, risk_evidence, risk_kind, resolved = row
        if at_risk:
            link = StoredLink(
                sys.intern(kind),
                sys.intern(code),
                sys.intern(name),
                True,
                tuple(e["text"] for e in json.loads(risk_evidence)),
                risk_kind,
                bool(resolved),
            )
        else:
            key = row[1:4] + row[6:]
            link = shared.get(key)  # type: ignore[assignment]
            if link is None:
                link = shared[key] = StoredLink(
                    sys.intern(kind),
                    sys.intern(code),
                    sys.intern(name),
                    False,
                    (),
                    risk_kind,
                    bool(resolved),
                )
        found = links.get(article_id)
        if found is None:
            links[article_id] = [link]
        else:
            found.append(link)
    return links


def add_outlets(db: Database, story_id: int, article_id: int) -> None:
    """The outlets that carry an article now carry its story too."""
    db.execute(
        "insert or ignore into story_outlets (story_id, outlet) select ?, coalesce(s.name,"
        " a.outlet) from articles a"
        " left join article_sources x on x.article_id = a.id left join sources s on s.id ="
        " x.source_id where a.id = ?",
        [story_id, article_id],
    )
    db.execute(
        "update stories set outlet_count = (select count(*) from story_outlets where story_id = ?)"
        " where id = ?",
        [story_id, story_id],
    )


def refresh_story(db: Database, story_id: int) -> None:
    """Recompute a story's row and its ``story_links`` from its articles and their links."""
    lead = db.execute(
        "select a.id, a.title, a.url, (select count(*) from links l where l.article_id = a.id) as n"
        " from articles a where a.story_id = ? order by n desc, a.id limit 1",
        [story_id],
    ).fetchone()
    if lead is None:  # its articles were pruned
        db.execute("delete from story_links where story_id = ?", [story_id])
        db.execute("delete from story_outlets where story_id = ?", [story_id])
        db.execute("delete from stories where id = ?", [story_id])
        return
    stats = db.execute(
        "select count(*), min(coalesce(published_at_utc, first_seen_at_utc)),"
        " max(coalesce(published_at_utc, first_seen_at_utc)),"
        " min(local_date), max(local_date) from articles where story_id = ?",
        [story_id],
    ).fetchone()
    db.execute("delete from story_outlets where story_id = ?", [story_id])
    db.execute(
        "insert or ignore into story_outlets (story_id, outlet) select ?, coalesce(s.name,"
        " a.outlet) from articles a"
        " left join article_sources x on x.article_id = a.id left join sources s on s.id ="
        " x.source_id where a.story_id = ?",
        [story_id, story_id],
    )
    outlets = db.execute(
        "select count(*) from story_outlets where story_id = ?", [story_id]
    ).fetchone()[0]
    db.execute(
        "update stories set title = ?, url = ?, lead_article_id = ?, lead_link_count = ?,"
        " article_count = ?,"
        " first_seen_at_utc = ?, last_seen_at_utc = ?, first_local_date = ?, last_local_date = ?,"
        " outlet_count = ?"
        " where id = ?",
        [lead[1], lead[2], lead[0], lead[3], *stats, outlets, story_id],
    )
    db.execute("delete from story_links where story_id = ?", [story_id])
    db.execute(
        "insert into story_links (story_id, kind, code, name, at_risk)"
        " select ?, l.kind, l.code, min(l.name), max(l.at_risk) from links l join articles a on"
        " a.id = l.article_id"
        " where a.story_id = ? group by l.kind, l.code",
        [story_id, story_id],
    )


def forget_pruned(db: Database, story_ids: Iterable[int]) -> None:
    """After articles were deleted (``agenda prune``): stories left without articles go, the
    others (a story that straddles the cut-off) are recounted."""
    for chunk, marks in in_chunks(sorted(set(story_ids))):
        empty = (
            f"select id from stories s where s.id in ({marks})"
            " and not exists (select 1 from articles a where a.story_id = s.id)"
        )
        gone = [row[0] for row in db.execute(empty, chunk)]
        if gone:
            gone_marks = ",".join("?" * len(gone))
            for table, column in (
                ("story_links", "story_id"),
                ("story_outlets", "story_id"),
                ("stories", "id"),
            ):
                db.execute(f"delete from {table} where {column} in ({gone_marks})", gone)
        for story_id in set(chunk) - set(gone):
            refresh_story(db, story_id)


# Columns whose values repeat from article to article: one string each, not one per row (the
# digest holds a day's rows at once).
_REPEATED = ("outlet", "source_id", "source_region", "local_date")


class StoriesMixin:
    """Readers of stories and of articles with their story, for reports."""

    db: Database

    @cyclic_gc_paused()
    def _read_articles(self, where: str, params: list[Any]) -> list[dict[str, Any]]:
        """Articles matching ``where`` (over ``articles a``), each with its links (no evidence
        spans; tuples, shared strings: a day has hundreds of thousands of links) and outlets."""
        articles = list(
            self.db.query(
                # not the full text: reports show titles and summaries, and 50,000 texts weigh
                "select a.id, a.url, a.title, a.summary, a.outlet, a.source_id, a.source_region,"
                " a.published_at_utc,"
                f" a.local_date, a.story_id from articles a where {where} order by"
                " a.published_at_utc desc, a.id",
                params,
            )
        )
        if not articles:
            return []
        links = stored_links(
            self.db.execute(
                f"select {LINK_COLUMNS} from articles a join links l on l.article_id = a.id"
                f" where {where}",
                params,
            )
        )
        outlets: dict[int, list[str]] = {}
        for article_id, name in self.db.execute(
            "select x.article_id, s.name from articles a join article_sources x on x.article_id ="
            " a.id"
            f" join sources s on s.id = x.source_id where {where} order by x.first_seen_at_utc",
            params,
        ):
            outlets.setdefault(article_id, []).append(sys.intern(name) if name else name)
        shared: dict[str, str] = {}  # a night's 50,000 articles name a few hundred outlets
        for article in articles:
            for key in _REPEATED:
                value = article[key]
                if value is not None:
                    article[key] = shared.setdefault(value, value)
            article["links"] = links.get(article["id"], [])
            article["outlets"] = outlets.get(article["id"], [article["outlet"]])
        return articles

    def articles_on(self, day: date) -> list[dict[str, Any]]:
        """The articles of one America/Santiago day, each with its links, all its outlets and
        its ``story_id``; newest first."""
        return self._read_articles("a.local_date = ?", [day.isoformat()])

    def articles_between(self, first_day: date, last_day: date) -> list[dict[str, Any]]:
        """The articles of the America/Santiago days ``first_day``..``last_day`` (both
        included), as ``articles_on`` gives them (``story_id`` included); newest first."""
        return self._read_articles(
            "a.local_date between ? and ?", [first_day.isoformat(), last_day.isoformat()]
        )

    def story_articles(self, story_id: int) -> list[dict[str, Any]]:
        """One story's articles (a timeline), as ``articles_on`` gives them; newest first."""
        return self._read_articles("a.story_id = ?", [story_id])

    @cyclic_gc_paused()
    def stories_by_id(
        self, ids: Iterable[int], with_links: bool = True
    ) -> dict[int, dict[str, Any]]:
        """Story rows by id: ``id, title, url, lead_article_id, first_seen_at_utc,
        last_seen_at_utc, first_local_date, last_local_date, article_count, outlet_count`` and
        ``links`` (the union of its articles' links: dicts of kind, code, name, at_risk; left
        empty with ``with_links=False``, for a reader that has the articles' own links)."""
        wanted = json.dumps(sorted({int(i) for i in ids if i is not None}))
        stories: dict[int, dict[str, Any]] = {}
        days: dict[str, str] = {}  # one string per day, not two per story
        # the ids travel as one JSON array: a day has 20,000 stories, more than SQLite's ? limit
        for row in self.db.query(
            "select * from stories where id in (select value from json_each(?))", [wanted]
        ):
            for key in ("first_local_date", "last_local_date"):
                if row[key] is not None:
                    row[key] = days.setdefault(row[key], row[key])
            row["links"] = []
            stories[row["id"]] = row
        if with_links:
            for row in self.db.query(
                "select story_id, kind, code, name, at_risk from story_links"
                " where story_id in (select value from json_each(?)) order by kind, code",
                [wanted],
            ):
                stories[row.pop("story_id")]["links"].append(
                    {**row, "at_risk": bool(row["at_risk"])}
                )
        return stories

    def story_heads_on(self, day: date) -> dict[int, dict[str, Any]]:
        """The stories of a day's articles by id, with what a digest shows of them: ``id,
        title, url, lead_article_id`` (the headline kept over all the story's days)."""
        columns = ("id", "title", "url", "lead_article_id")
        return {
            row[0]: dict(zip(columns, row, strict=True))
            for row in self.db.execute(
                f"select {', '.join(columns)} from stories"
                " where id in (select story_id from articles where local_date = ?)",
                [day.isoformat()],
            )
        }

    def stories_between(self, first_day: date, last_day: date) -> dict[int, dict[str, Any]]:
        """The stories with an article on some day of ``first_day``..``last_day``, as
        ``stories_by_id`` gives them."""
        ids = [
            row[0]
            for row in self.db.execute(
                "select id from stories where first_local_date <= ? and last_local_date >= ?",
                [last_day.isoformat(), first_day.isoformat()],
            )
        ]
        return self.stories_by_id(ids)
