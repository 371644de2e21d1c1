"""Stories assigned at ingest: ``StoryKeeper`` puts a source's new articles in stories, inside
the transaction that stores them, and ``backfill_stories`` does the same for a database that
has articles without one.

A source's new articles are assigned together (``assign_many``): one vectorised fingerprint and
index search for the batch, the decisions taken one article after the other (an article may
join the story the previous one just started), and what the batch adds to each story folded in
Python and written with a few ``executemany`` (the per-article statements were most of the cost
of stories at ingest). The index is kept in memory for the life of the ``Store``: read back from
``article_signatures`` once, then only grown.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import date
from typing import NamedTuple

import numpy as np
from sqlite_utils import Database

from agenda.common import cyclic_gc_paused
from agenda.stories import DEFAULT_WINDOW_DAYS, PLACE_KINDS, SIGNATURE_SIZE, MinHasher, StoryIndex

log = logging.getLogger("agenda")
# Articles looked up together: the batch's candidate pairs are held at once (a feed has tens of
# items; a back-filled day has thousands).
BATCH = 256


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


def _places(text: str) -> frozenset[str]:
    """The place codes stored as "06,06101"."""
    return frozenset(text.split(",")) if text else frozenset()


class _Growth:
    """What one batch adds to one story, folded as the per-article statements would have
    folded it: counts, first and last seen, the lead (most links, then the earliest), outlets
    and links (the first name of a code, its highest ``at_risk``)."""

    def __init__(self, new: NewArticle) -> None:
        self.count = 0
        self.first_seen = self.last_seen = new.seen_at_utc
        self.first_day = self.last_day = new.local_date
        self.lead = new
        self.outlets: dict[str, None] = {}  # ordered, unique
        self.links: dict[tuple[str, str], list[str | int]] = {}
        self.add(new)

    def add(self, new: NewArticle) -> None:
        self.count += 1
        self.first_seen = min(self.first_seen, new.seen_at_utc)
        self.last_seen = max(self.last_seen, new.seen_at_utc)
        self.first_day = min(self.first_day, new.local_date)
        self.last_day = max(self.last_day, new.local_date)
        lead = self.lead
        if len(new.links) > len(lead.links) or (
            len(new.links) == len(lead.links) and new.id < lead.id
        ):
            self.lead = new
        self.outlets[new.outlet] = None
        for kind, code, name, at_risk in new.links:
            known = self.links.setdefault((kind, code), [name, at_risk])
            known[1] = max(int(known[1]), at_risk)

    def link_rows(self, story_id: int) -> list[tuple[int, str, str, str | int, str | int]]:
        return [
            (story_id, kind, code, name, risk) for (kind, code), (name, risk) in self.links.items()
        ]


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

    def assign_many(self, news: list[NewArticle]) -> list[int]:
        """Put just-stored articles (their links stored too), in the order they were stored,
        in stories; returns each one's story."""
        stories: list[int] = []
        for start in range(0, len(news), BATCH):
            stories += self._assign_batch(news[start : start + BATCH])
        return stories

    # The index adds a small list per band key of each new article (64 per article): with the
    # collector running, each few articles set off a collection over the linker's large heap.
    @cyclic_gc_paused()
    def _assign_batch(self, news: list[NewArticle]) -> list[int]:
        if not news:
            return []
        for local_date in sorted({new.local_date for new in news}):
            self.load_window(local_date)
        index = self.index
        assert index is not None
        ordinals = [date.fromisoformat(new.local_date).toordinal() for new in news]
        places = [
            frozenset(code for kind, code, _, _ in new.links if kind in PLACE_KINDS) for new in news
        ]
        fingerprints = self.hasher.many([(new.title, new.summary or "") for new in news])
        conn = self.db.conn
        # ids given here, not by each insert: the batch's stories are written together. Read
        # inside the source's write transaction, after its articles: no other writer can race.
        last_id = conn.execute("select coalesce(max(id), 0) from stories").fetchone()[0]
        first_new = last_id + 1

        def new_story() -> int:
            nonlocal last_id
            last_id += 1
            return last_id

        stories = index.assign_many(
            [new.id for new in news], fingerprints, places, ordinals, new_story
        )
        growth: dict[int, _Growth] = {}
        for story_id, new in zip(stories, news, strict=True):
            if story_id in growth:
                growth[story_id].add(new)
            else:
                growth[story_id] = _Growth(new)
        _write_started(conn, {s: g for s, g in growth.items() if s >= first_new})
        _write_joined(conn, {s: g for s, g in growth.items() if s < first_new})
        conn.executemany(
            "update articles set story_id = ? where id = ?",
            [(story_id, new.id) for story_id, new in zip(stories, news, strict=True)],
        )
        conn.executemany(
            "insert or replace into article_signatures (article_id, local_date, signature,"
            " features, places) values (?, ?, ?, ?, ?)",
            [
                (new.id, new.local_date, *fingerprint.to_bytes(), ",".join(sorted(where)))
                for new, fingerprint, where in zip(news, fingerprints, places, strict=True)
                if fingerprint is not None
            ],
        )
        self.newest_article_id = max(self.newest_article_id, max(new.id for new in news))
        return stories

    def places_changed(self, article_id: int) -> None:
        """An article's region or commune links changed: its stored places and the index
        follow (later look-ups use the new ones)."""
        row = self.db.execute(
            "select local_date from articles where id = ?", [article_id]
        ).fetchone()
        if row is None:
            return
        kinds = ", ".join(f"'{kind}'" for kind in PLACE_KINDS)
        places = frozenset(
            r[0]
            for r in self.db.execute(
                f"select code from links where article_id = ? and kind in ({kinds})",
                [article_id],
            )
        )
        self.db.execute(
            "update article_signatures set places = ? where article_id = ?",
            [",".join(sorted(places)), article_id],
        )
        if self.index is not None:
            self.index.set_places(article_id, date.fromisoformat(row[0]).toordinal(), places)


def _write_started(conn: sqlite3.Connection, growth: dict[int, _Growth]) -> None:
    """The stories this batch started, whole."""
    conn.executemany(
        "insert into stories (id, title, url, lead_article_id, lead_link_count,"
        " first_seen_at_utc, last_seen_at_utc, first_local_date, last_local_date, article_count,"
        " outlet_count) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                story_id,
                g.lead.title,
                g.lead.url,
                g.lead.id,
                len(g.lead.links),
                g.first_seen,
                g.last_seen,
                g.first_day,
                g.last_day,
                g.count,
                len(g.outlets),
            )
            for story_id, g in growth.items()
        ],
    )
    conn.executemany(
        "insert into story_outlets (story_id, outlet) values (?, ?)",
        [(story_id, outlet) for story_id, g in growth.items() for outlet in g.outlets],
    )
    conn.executemany(
        "insert into story_links (story_id, kind, code, name, at_risk) values (?, ?, ?, ?, ?)",
        [row for story_id, g in growth.items() for row in g.link_rows(story_id)],
    )


def _write_joined(conn: sqlite3.Connection, growth: dict[int, _Growth]) -> None:
    """Count a batch's articles in stories that existed before it, without re-reading the
    stories' other articles (a story followed for weeks has hundreds)."""
    if not growth:
        return
    # the lead: the article with most links, then the earliest
    better = "(lead_link_count < :links or (lead_link_count = :links and lead_article_id > :id))"
    conn.executemany(
        "update stories set article_count = article_count + :count,"
        " first_seen_at_utc = min(first_seen_at_utc, :first_seen),"
        " last_seen_at_utc = max(last_seen_at_utc, :last_seen),"
        " first_local_date = min(first_local_date, :first_day),"
        " last_local_date = max(last_local_date, :last_day),"
        f" title = case when {better} then :title else title end,"
        f" url = case when {better} then :url else url end,"
        f" lead_article_id = case when {better} then :id else lead_article_id end,"
        f" lead_link_count = case when {better} then :links else lead_link_count end"
        " where id = :story",
        [
            {
                "count": g.count,
                "first_seen": g.first_seen,
                "last_seen": g.last_seen,
                "first_day": g.first_day,
                "last_day": g.last_day,
                "title": g.lead.title,
                "url": g.lead.url,
                "id": g.lead.id,
                "links": len(g.lead.links),
                "story": story_id,
            }
            for story_id, g in growth.items()
        ],
    )
    conn.executemany(
        "insert or ignore into story_outlets (story_id, outlet) values (?, ?)",
        [(story_id, outlet) for story_id, g in growth.items() for outlet in g.outlets],
    )
    conn.executemany(
        "update stories set outlet_count = (select count(*) from story_outlets where story_id"
        " = :story) where id = :story",
        [{"story": story_id} for story_id in growth],
    )
    conn.executemany(
        "insert into story_links (story_id, kind, code, name, at_risk) values (?, ?, ?, ?, ?)"
        " on conflict (story_id, kind, code) do update set at_risk = max(at_risk,"
        " excluded.at_risk)",
        [row for story_id, g in growth.items() for row in g.link_rows(story_id)],
    )


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
    keeper.assign_many(
        [
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
            for article_id, title, summary, url, seen, outlet, source_name in rows
        ]
    )
    return len(rows)
