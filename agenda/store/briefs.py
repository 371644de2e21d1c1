"""The SQL of briefs on demand and standing topics: stored articles that match a filter (regions,
commune, commitment, priority, an FTS5 query, a period), their links, outlets and stories, the
day's totals for attention shares, and the sources that failed during a period.

``BriefsMixin`` is inherited by ``Store``; ``fts_query_error`` checks a query without a database.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from agenda.common import SANTIAGO

if TYPE_CHECKING:
    from sqlite_utils import Database

# The same tokenizer as articles_fts (schema m001): a query that parses here parses there.
_FTS_TOKENIZER = "unicode61 remove_diacritics 2"


@dataclass(frozen=True)
class ArticleFilter:
    """Which stored articles a brief reads; every given part must hold (AND).

    ``date_from`` and ``date_to`` are America/Santiago days, both included.
    """

    date_from: date
    date_to: date
    region_codes: tuple[str, ...] = ()
    commune_code: str | None = None
    commitment_id: str | None = None
    priority_id: str | None = None
    queries: tuple[str, ...] = ()  # FTS5 queries (a brief's --query and a topic's query)


def fts_query_error(query: str) -> str | None:
    """Why SQLite's FTS5 would refuse ``query``, or None when it parses.

    >>> fts_query_error('sequía OR "escasez hídrica"') is None
    True
    >>> fts_query_error('sequía AND') is not None
    True
    """
    if not query.strip():
        return "empty query"
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(
            "create virtual table probe using fts5(title, summary, text,"
            f" tokenize='{_FTS_TOKENIZER}')"
        )
        connection.execute("select count(*) from probe where probe match ?", [query]).fetchone()
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        connection.close()
    return None


def _where(selection: ArticleFilter) -> tuple[str, list[Any]]:
    """The WHERE clause over ``articles a`` for a filter, with its parameters."""
    clauses = ["a.local_date between ? and ?"]
    parameters: list[Any] = [selection.date_from.isoformat(), selection.date_to.isoformat()]
    if selection.region_codes:
        marks = ",".join("?" * len(selection.region_codes))
        # exists, not "a.id in (…)": the list form would gather the region's links over the
        # whole archive (60,000 rows in a million articles) before looking at the period
        clauses.append(
            "exists (select 1 from links where article_id = a.id and kind = 'region'"
            f" and code in ({marks}))"
        )
        parameters += list(selection.region_codes)
    linked = [
        (kind, code)
        for kind, code in (
            ("commune", selection.commune_code),
            ("commitment", selection.commitment_id),
            ("priority", selection.priority_id),
        )
        if code
    ]
    for kind, code in linked:
        clauses.append(
            "exists (select 1 from links where article_id = a.id and kind = ? and code = ?)"
        )
        parameters += [kind, code]
    for query in selection.queries:
        clauses.append("a.id in (select rowid from articles_fts where articles_fts match ?)")
        parameters.append(query)
    return " and ".join(clauses), parameters


class BriefsMixin:
    """Readers for briefs and topics (``Store`` inherits them)."""

    db: Database

    def brief_articles(self, selection: ArticleFilter) -> list[dict[str, Any]]:
        """The matching articles, oldest first, each with its links and all its outlets.

        The same shape as ``Store.articles_on`` (links are ``StoredLink``), plus ``story_id``
        (the story kept at ingest; minus its own id for an article without one).
        """
        from agenda.store.stories import (
            LINK_COLUMNS,
            stored_links,
        )  # stories imports nothing of briefs

        where, parameters = _where(selection)
        articles = list(
            self.db.query(
                "select a.id, a.url, a.title, a.outlet, a.source_id, a.published_at_utc,"
                " a.local_date,"
                f" coalesce(a.story_id, -a.id) as story_id from articles a where {where}"
                " order by a.local_date, a.published_at_utc, a.id",
                parameters,
            )
        )
        if not articles:
            return []
        # The ids go through a temporary table: a month of a region is more ids than SQLite
        # accepts as parameters, and a join reads the links in one pass.
        self._fill_ids("brief_ids", (a["id"] for a in articles))
        links = stored_links(
            self.db.execute(
                f"select {LINK_COLUMNS} from temp.brief_ids b join links l on l.article_id = b.id"
            )
        )
        outlets: dict[int, list[str]] = {}
        for article_id, name in self.db.execute(
            "select x.article_id, s.name from temp.brief_ids b"
            " join article_sources x on x.article_id = b.id join sources s on s.id = x.source_id"
            " order by x.article_id, x.first_seen_at_utc"
        ):
            outlets.setdefault(article_id, []).append(sys.intern(name))
        for article in articles:
            article["links"] = links.get(article["id"], [])
            article["outlets"] = outlets.get(article["id"]) or [article["outlet"]]
        return articles

    def matching_article_ids(self, selection: ArticleFilter) -> set[int]:
        """Only the ids of the matching articles (a topic's day, ``topics check``)."""
        where, parameters = _where(selection)
        return {
            row[0]
            for row in self.db.execute(f"select a.id from articles a where {where}", parameters)
        }

    def articles_per_day(self, date_from: date, date_to: date) -> dict[str, int]:
        """All stored articles per America/Santiago day: the denominator of attention shares."""
        return {
            day: count
            for day, count in self.db.execute(
                "select local_date, count(*) from articles where local_date between ? and ?"
                " group by local_date",
                [date_from.isoformat(), date_to.isoformat()],
            )
        }

    def article_passages(self, article_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """(summary, text) of a few articles: where a brief finds its evidence sentences."""
        wanted = list(dict.fromkeys(article_ids))[:500]
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        return {
            row[0]: (row[1] or "", row[2] or "")
            for row in self.db.execute(
                f"select id, summary, text from articles where id in ({marks})", wanted
            )
        }

    def stored_stories(self, story_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Story rows by id: ``id, title, url, lead_article_id, first_local_date,
        last_local_date, article_count, outlet_count``, without their links (``stories_by_id``
        reads those too, and a month of a region is tens of thousands of stories)."""
        self._fill_ids("brief_story_ids", (i for i in story_ids if i > 0))
        return {
            row["id"]: row
            for row in self.db.query(
                "select s.id, s.title, s.url, s.lead_article_id, s.first_local_date,"
                " s.last_local_date, s.article_count, s.outlet_count"
                " from temp.brief_story_ids w join stories s on s.id = w.id"
            )
        }

    def sources_failed_between(self, date_from: date, date_to: date) -> list[dict[str, Any]]:
        """Sources that failed at least once in the period (runs' errors and the sources' rows):
        id, name and the last error seen, for a brief's method note."""
        start = datetime.combine(date_from, time.min, SANTIAGO)
        end = datetime.combine(date_to + timedelta(days=1), time.min, SANTIAGO)
        start_utc, end_utc = (
            moment.astimezone(ZoneInfo("UTC")).isoformat() for moment in (start, end)
        )
        names = {row["id"]: row["name"] for row in self.db.query("select id, name from sources")}
        failed: dict[str, str] = {}
        for row in self.db.query(
            "select errors from runs where started_at_utc >= ? and started_at_utc < ? order by id",
            [start_utc, end_utc],
        ):
            for error in json.loads(row["errors"] or "[]"):
                source_id, _, reason = str(error).partition(": ")
                if source_id in names:
                    failed[source_id] = reason
        for row in self.db.query(
            "select id, last_error from sources"
            " where last_error_at_utc >= ? and last_error_at_utc < ?",
            [start_utc, end_utc],
        ):
            failed.setdefault(row["id"], row["last_error"] or "error")
        return [
            {"id": i, "name": names[i], "error": failed[i]}
            for i in sorted(failed, key=lambda i: names[i])
        ]

    def enabled_source_names(self) -> list[str]:
        return [
            row[0]
            for row in self.db.execute("select name from sources where enabled order by name")
        ]

    def _fill_ids(self, table: str, ids: Iterable[int]) -> None:
        """Fill a temporary table of ids (the connection's own; no other reader sees it)."""
        self.db.execute(f"create temp table if not exists {table} (id integer primary key)")
        self.db.execute(f"delete from temp.{table}")
        self.db.conn.executemany(
            f"insert or ignore into temp.{table} (id) values (?)", ((i,) for i in ids)
        )
