"""Stories in the store: assignment at ingest, the links a story carries, and the readers.

Every stored article belongs to exactly one story (``articles.story_id``), decided when the
article is stored, in the same transaction, by ``agenda.stories`` over the articles of a sliding
window of days. A story row keeps what reports need without reading its articles again: the best
title (the article with most links, then the earliest), first and last seen, the count of its
articles and outlets; ``story_links`` is the union of its articles' links, kept current when an
article is relinked or an analyst corrects it.

Readers for reports: ``articles_on`` / ``articles_between`` (articles with their links, outlets
and ``story_id``), ``stories_by_id``, ``stories_between``, ``story_articles``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

import numpy as np
from sqlite_utils import Database

from agenda.common import cyclic_gc_paused
from agenda.store.chunks import in_chunks
from agenda.stories import DEFAULT_WINDOW_DAYS, PLACE_KINDS, SIGNATURE_SIZE, MinHasher, StoryIndex

log = logging.getLogger("agenda")
_PLACE_KINDS_SQL = "(" + ", ".join(f"'{kind}'" for kind in PLACE_KINDS) + ")"


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
    the sentences that flag a commitment), and one shared object per distinct link without
    alert (a day of 20,000 articles has 60,000 links but a few thousand distinct ones)."""
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


def _places(text: str) -> frozenset[str]:
    """The place codes stored as "06,06101"."""
    return frozenset(text.split(",")) if text else frozenset()


class StoryKeeper:
    """Assigns stories to new articles of one database (one per ``Store``). Not thread-safe."""

    def __init__(self, db: Database, window_days: int = DEFAULT_WINDOW_DAYS) -> None:
        self.db = db
        self.window_days = window_days
        self.hasher = MinHasher()
        self.index: StoryIndex | None = None
        self.newest_article_id = 0  # another writer (a second process) makes the index stale

    def reset(self) -> None:
        """Forget the in-memory index (after a rolled-back transaction): rebuilt on next use."""
        self.index = None

    def begin(self) -> None:
        """Called inside a source's transaction: drop the index if another writer added
        articles since (it would miss them), and keep memory bounded to recent days."""
        newest = self.db.execute("select coalesce(max(id), 0) from articles").fetchone()[0]
        if self.index is None or newest != self.newest_article_id:
            self.index = StoryIndex(self.window_days)
            self.newest_article_id = newest
        elif len(self.index.days) > 6 * self.window_days:
            self.index.forget_days_before(max(self.index.days) - 2 * self.window_days)

    def _load_days(self, index: StoryIndex, days: list[int]) -> None:
        for ordinal in days:
            day = date.fromordinal(ordinal).isoformat()
            rows = self.db.execute(
                "select s.article_id, a.story_id, s.signature, s.features, s.places"
                " from article_signatures s join articles a on a.id = s.article_id"
                " where s.local_date = ? order by s.article_id",
                [day],
            ).fetchall()
            shared: dict[str, frozenset[str]] = {"": frozenset()}  # a few hundred distinct sets
            index.load_day(
                ordinal,
                [r[0] for r in rows],
                [r[1] for r in rows],
                np.frombuffer(b"".join(r[2] for r in rows), dtype=np.uint32).reshape(
                    len(rows), SIGNATURE_SIZE
                ),
                [r[3] for r in rows],
                [shared.get(r[4] or "") or shared.setdefault(r[4], _places(r[4])) for r in rows],
            )

    def load_window(self, local_date: str) -> StoryIndex:
        """The index, holding every day an article of ``local_date`` may share a story with
        (read back from the stored fingerprints the first time they are needed)."""
        if self.index is None:
            self.begin()
        index = self.index
        assert index is not None
        self._load_days(index, index.missing_days(date.fromisoformat(local_date).toordinal()))
        return index

    def assign(self, new: NewArticle) -> int:
        """Put a just-stored article (its links stored too) in a story; returns the story."""
        index = self.load_window(new.local_date)
        ordinal = date.fromisoformat(new.local_date).toordinal()
        places = frozenset(code for kind, code, _, _ in new.links if kind in PLACE_KINDS)
        fingerprint = self.hasher.of(new.title, new.summary or "")
        story_id = index.find(fingerprint, places, ordinal)
        conn = self.db.conn
        if story_id is None:
            story_id = _start_story(conn, new)
        else:
            _join_story(conn, story_id, new)
        conn.execute("update articles set story_id = ? where id = ?", [story_id, new.id])
        if fingerprint is not None:
            conn.execute(
                "insert or replace into article_signatures (article_id, local_date, signature,"
                " features, places) values (?, ?, ?, ?, ?)",
                [new.id, new.local_date, *fingerprint.to_bytes(), ",".join(sorted(places))],
            )
        index.add(new.id, story_id, fingerprint, places, ordinal)
        self.newest_article_id = max(self.newest_article_id, new.id)
        return story_id

    def places_changed(self, article_id: int) -> None:
        """An article's region or commune links changed: its stored places and the index
        follow (later look-ups use the new ones)."""
        row = self.db.execute(
            "select local_date from articles where id = ?", [article_id]
        ).fetchone()
        if row is None:
            return
        places = frozenset(
            r[0]
            for r in self.db.execute(
                f"select code from links where article_id = ? and kind in {_PLACE_KINDS_SQL}",
                [article_id],
            )
        )
        self.db.execute(
            "update article_signatures set places = ? where article_id = ?",
            [",".join(sorted(places)), article_id],
        )
        if self.index is not None:
            self.index.set_places(article_id, date.fromisoformat(row[0]).toordinal(), places)


class NewArticle(NamedTuple):
    """What a story needs of a just-stored article (no re-read from the database)."""

    id: int
    title: str
    summary: str
    url: str
    seen_at_utc: str  # its publication time, or first seen when the feed gives none
    local_date: str
    outlet: str
    links: list[tuple[str, str, str, int]]  # kind, code, name, at_risk


def _start_story(conn: sqlite3.Connection, new: NewArticle) -> int:
    story_id = int(
        conn.execute(
            "insert into stories (title, url, lead_article_id, lead_link_count, first_seen_at_utc,"
            " last_seen_at_utc,"
            " first_local_date, last_local_date, article_count, outlet_count) values (?, ?, ?, ?,"
            " ?, ?, ?, ?, 1, 1)",
            [
                new.title,
                new.url,
                new.id,
                len(new.links),
                new.seen_at_utc,
                new.seen_at_utc,
                new.local_date,
                new.local_date,
            ],
        ).lastrowid
        or 0
    )
    conn.execute(
        "insert into story_outlets (story_id, outlet) values (?, ?)", [story_id, new.outlet]
    )
    conn.executemany(
        "insert into story_links (story_id, kind, code, name, at_risk) values (?, ?, ?, ?, ?)",
        [(story_id, *link) for link in new.links],
    )
    return story_id


def _join_story(conn: sqlite3.Connection, story_id: int, new: NewArticle) -> None:
    """Count an article in its story's row, outlets and links without re-reading the story's
    other articles (a story followed for weeks has hundreds)."""
    # the lead: the article with most links, then the earliest
    better = "(lead_link_count < :links or (lead_link_count = :links and lead_article_id > :id))"
    conn.execute(
        "update stories set article_count = article_count + 1,"
        " first_seen_at_utc = min(first_seen_at_utc, :seen), last_seen_at_utc ="
        " max(last_seen_at_utc, :seen),"
        " first_local_date = min(first_local_date, :day), last_local_date = max(last_local_date,"
        " :day),"
        f" title = case when {better} then :title else title end, url = case when {better} then"
        " :url else url end,"
        f" lead_article_id = case when {better} then :id else lead_article_id end,"
        f" lead_link_count = case when {better} then :links else lead_link_count end where id ="
        " :story",
        {
            "seen": new.seen_at_utc,
            "day": new.local_date,
            "title": new.title,
            "url": new.url,
            "id": new.id,
            "links": len(new.links),
            "story": story_id,
        },
    )
    if conn.execute(
        "insert or ignore into story_outlets (story_id, outlet) values (?, ?)",
        [story_id, new.outlet],
    ).rowcount:
        conn.execute("update stories set outlet_count = outlet_count + 1 where id = ?", [story_id])
    conn.executemany(
        "insert into story_links (story_id, kind, code, name, at_risk) values (?, ?, ?, ?, ?)"
        " on conflict (story_id, kind, code) do update set at_risk = max(at_risk,"
        " excluded.at_risk)",
        [(story_id, *link) for link in new.links],
    )


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


def backfill_stories(db: Database, window_days: int = DEFAULT_WINDOW_DAYS) -> int:
    """Give a story to every article that has none, day by day in the order they were stored,
    holding only the window's days in memory (a year of articles is never read at once).
    Returns how many articles were assigned."""
    keeper = StoryKeeper(db, window_days)
    days = [
        row[0]
        for row in db.execute(
            "select distinct local_date from articles where story_id is null order by local_date"
        )
    ]
    assigned = 0
    for day in days:
        with db.atomic():  # a day at a time: an interrupted back-fill resumes where it was
            assigned += _backfill_day(db, keeper, day)
        if keeper.index is not None:
            keeper.index.forget_days_before(date.fromisoformat(day).toordinal() - window_days)
    if assigned:
        log.info("stories: %d articles assigned to stories", assigned)
    return assigned


def _backfill_day(db: Database, keeper: StoryKeeper, day: str) -> int:
    """Stories for one day's articles without one, in the order they were stored."""
    keeper.begin()
    rows = db.execute(
        "select a.id, a.title, a.summary, a.url, coalesce(a.published_at_utc,"
        " a.first_seen_at_utc), a.outlet,"
        " (select s.name from article_sources x join sources s on s.id = x.source_id where"
        " x.article_id = a.id"
        "  order by x.first_seen_at_utc limit 1)"
        " from articles a where a.local_date = ? and a.story_id is null order by a.id",
        [day],
    ).fetchall()
    links: dict[int, list[tuple[str, str, str, int]]] = {}
    for article_id, kind, code, name, at_risk in db.execute(
        "select l.article_id, l.kind, l.code, l.name, l.at_risk from articles a join links l"
        " on l.article_id = a.id"
        " where a.local_date = ? and a.story_id is null",
        [day],
    ):
        links.setdefault(article_id, []).append((kind, code, name, at_risk))
    for article_id, title, summary, url, seen, outlet, source_name in rows:
        keeper.assign(
            NewArticle(
                article_id,
                title,
                summary or "",
                url,
                seen or "",
                day,
                source_name or outlet or "",
                links.get(article_id, []),
            )
        )
    return len(rows)


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
            outlets.setdefault(article_id, []).append(name)
        for article in articles:
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
        # the ids travel as one JSON array: a day has 20,000 stories, more than SQLite's ? limit
        for row in self.db.query(
            "select * from stories where id in (select value from json_each(?))", [wanted]
        ):
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
