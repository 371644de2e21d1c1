"""Store: SQLite through sqlite-utils, the only place that writes SQL. The ``Database`` is injected
(tests use a temp file or ``Database(memory=True)``); the schema is in ``schema.py``.

A source's articles, links and fetch state are written in one transaction.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from agenda.common import iso, santiago_date, utc_now
from agenda.errors import SearchQueryError
from agenda.fetched import DUE_TOLERANCE, FetchResult, FetchState, next_attempt_at
from agenda.store.briefs import BriefsMixin
from agenda.store.chunks import in_chunks
from agenda.store.commitments import CommitmentReaders
from agenda.store.inbox import FeedbackInboxMixin
from agenda.store.schema import migrations
from agenda.store.stories import (
    NewArticle,
    StoredLink,
    StoriesMixin,
    StoryKeeper,
    add_outlets,
    refresh_story,
)
from agenda.stories import DEFAULT_WINDOW_DAYS, PLACE_KINDS

if TYPE_CHECKING:  # types only: `agenda status` and `search` must not load spaCy or feedparser
    from agenda.extract import Article
    from agenda.link_result import LinkResult
    from agenda.sources import Source

# FTS5 query syntax: a query with any of it is an FTS5 expression, not a list of words
_FTS_SYNTAX = re.compile(r'["()*^:]|\b(?:AND|OR|NOT|NEAR)\b')
MAX_WARNING_CHARS = 500  # several warnings joined; the row is for people, not a log


@dataclass
class StoredCounts:
    new: int = 0
    seen: int = 0
    links: int = 0


def _link_tuples(rows: list[tuple[Any, ...]]) -> list[tuple[str, str, str, int]]:
    """(kind, code, name, at_risk) of the link rows ``_replace_links`` wrote."""
    return [(kind, code, name, at_risk) for _, kind, code, name, _, at_risk, *_ in rows]


__all__ = ["StoredLink"]  # re-exported: it lives with the readers in stories.py


class Store(StoriesMixin, BriefsMixin, CommitmentReaders, FeedbackInboxMixin):
    """The only place that writes SQL. Wraps an injected sqlite-utils ``Database``.

    ``story_window_days``: how many days back (and forward) a new article looks for its story.
    """

    def __init__(self, db: Database, story_window_days: int = DEFAULT_WINDOW_DAYS) -> None:
        self.db = db
        migrations.apply(db)
        self._feedback_ids: set[int] | None = None
        self._stories = StoryKeeper(db, story_window_days)

    # -- sources ----------------------------------------------------------------------------
    def sync_sources(self, sources: Iterable[Source]) -> None:
        """Upsert the configured sources, keeping their fetch state and health.

        A source whose address changed (an analyst fixed it) starts afresh: its ETag belongs to
        the old address, and its rest after failures would delay the fix by up to 48 h.
        """
        with self.db.atomic():
            known = {row["id"]: row["url"] for row in self.db.query("select id, url from sources")}
            for source in sources:
                if source.id in known and known[source.id] != source.url:
                    self.db.table("sources").update(
                        source.id,
                        {
                            "etag": None,
                            "last_modified": None,
                            "next_attempt_at_utc": None,
                            "error_count": 0,
                            "last_error": None,
                        },
                    )
                self.db.table("sources").upsert(
                    {
                        "id": source.id,
                        "name": source.name,
                        "url": source.url,
                        "kind": source.kind,
                        "region_code": source.region_code,
                        "enabled": int(source.enabled),
                    },
                    pk="id",
                )

    def fetch_states(self) -> dict[str, FetchState]:
        return {
            row["id"]: FetchState(row["etag"], row["last_modified"])
            for row in self.db.query("select id, etag, last_modified from sources")
        }

    def source_health(self) -> list[dict[str, Any]]:
        return list(self.db.query("select * from sources order by error_count desc, id"))

    def newest_article_by_source(self) -> dict[str, str]:
        """Each source's newest stored article (publication time, UTC ISO)."""
        return {
            row["source_id"]: row["newest"]
            for row in self.db.query(
                "select s.source_id, max(a.published_at_utc) as newest from article_sources s "
                "join articles a on a.id = s.article_id where a.published_at_utc is not null"
                " group by s.source_id"
            )
        }

    def deferred_sources(self, now: datetime) -> dict[str, datetime]:
        """Sources resting after failures: id -> next attempt time (later than ``now``).

        A next attempt within ``DUE_TOLERANCE`` of ``now`` counts as due (cron starts drift).
        """
        resting = {}
        for row in self.db.query(
            "select id, next_attempt_at_utc from sources where next_attempt_at_utc is not null"
        ):
            when = datetime.fromisoformat(row["next_attempt_at_utc"])
            if when > now + DUE_TOLERANCE:
                resting[row["id"]] = when
        return resting

    def known_articles(self, articles: Sequence[Article]) -> list[bool]:
        """Which of these articles are stored already (by address, or by feed id where they
        have one): their stored links stay, so the linker need not read them again (unless
        they bring a text to fill in)."""
        urls = self.known_article_urls(a.url for a in articles)
        guid_keys: set[str] = set()
        for chunk, placeholders in in_chunks([a.guid_key for a in articles if a.guid_key]):
            guid_keys.update(
                row[0]
                for row in self.db.execute(
                    f"select guid_key from articles where guid_key in ({placeholders})", chunk
                )
            )
        return [a.url in urls or (bool(a.guid_key) and a.guid_key in guid_keys) for a in articles]

    def known_article_urls(self, urls: Iterable[str]) -> set[str]:
        """Which of these canonical URLs are stored already (their pages need no fetching)."""
        found: set[str] = set()
        for chunk, placeholders in in_chunks(urls):
            found.update(
                row["url"]
                for row in self.db.query(
                    f"select url from articles where url in ({placeholders})", chunk
                )
            )
        return found

    # -- one source's results: one transaction ----------------------------------------------
    def record_fetch(
        self,
        result: FetchResult,
        articles: list[Article] | None = None,
        links: list[LinkResult | None] | None = None,
        error: str | None = None,
        now: datetime | None = None,
        warnings: list[str] | None = None,
    ) -> StoredCounts:
        """Store a source's articles, their links and its fetch state together, or none of it.

        ``error`` (a parse failure after a good fetch) overrides ``result.error``. A failure
        counts up ``error_count`` and sets ``next_attempt_at_utc`` by the backoff rule
        (``collect.next_attempt_at``); a success clears both.
        """
        now = now or utc_now()
        counts = StoredCounts()
        self._feedback_ids = None  # re-read once per source: an analyst may have corrected since
        error = error or result.error
        try:
            with self.db.atomic():
                self._store_articles(result.source.name, articles or [], links or [], now, counts)
                self._record_source_state(result, articles, error, now, warnings)
        except BaseException:
            self._stories.reset()  # the index may hold articles the rollback took back
            raise
        return counts

    def _store_articles(
        self,
        source_name: str,
        articles: list[Article],
        links: list[LinkResult | None],
        now: datetime,
        counts: StoredCounts,
    ) -> None:
        """Each article with its links and its story (a new article joins one or starts one).

        The new articles get their stories together once all are stored (same transaction):
        one index search and a few statements for the batch, not five per article."""
        if articles:
            self._stories.begin()
        news: dict[int, NewArticle] = {}  # by id: a feed may list an article twice
        for article, link_result in zip(articles, links, strict=True):
            article_id, is_new, text_changed, new_outlet = self._upsert_article(article, now)
            counts.new += is_new
            counts.seen += not is_new
            before = None if is_new else self._link_keys(article_id)
            rows = []
            if is_new or text_changed:  # a duplicate brings its source, never new evidence
                if link_result is None:  # ``known_articles`` said stored and it no longer is:
                    # the source fails whole (rolled back) and the next run links the article
                    raise RuntimeError(f"article {article.url} was not linked")
                rows = self._replace_links(article_id, link_result)
                counts.links += len(rows)
            if article_id in news:  # stored earlier in this batch, its story not yet given
                if text_changed:
                    news[article_id] = news[article_id]._replace(links=_link_tuples(rows))
                continue
            story = (
                None
                if is_new
                else self.db.execute(
                    "select story_id from articles where id = ?", [article_id]
                ).fetchone()[0]
            )
            if story is None:
                moment = article.published_at_utc or now
                news[article_id] = NewArticle(
                    article_id,
                    article.title,
                    article.summary,
                    article.url,
                    iso(moment) or "",
                    santiago_date(moment),
                    source_name,
                    _link_tuples(rows),
                )
                continue
            after = self._link_keys(article_id)
            if after != before:  # relinked: the story's links and lead may change
                refresh_story(self.db, story)
            elif new_outlet:
                add_outlets(self.db, story, article_id)
            if {k for k in after if k[0] in PLACE_KINDS} != {
                k for k in (before or set()) if k[0] in PLACE_KINDS
            }:
                self._stories.places_changed(article_id)
        if news:
            self._stories.assign_many(list(news.values()))

    def release_story_index(self) -> None:
        """Free the in-memory story index (a day of 50,000 articles holds about 70 MB) once the
        run has stored what it collected: the digest does not need it, and the next new article
        reads it back from the stored fingerprints."""
        self._stories.reset()

    def _link_keys(self, article_id: int) -> set[tuple[str, str, int]]:
        return {
            (kind, code, at_risk)
            for kind, code, at_risk in self.db.execute(
                "select kind, code, at_risk from links where article_id = ?", [article_id]
            )
        }

    def _record_source_state(
        self,
        result: FetchResult,
        articles: list[Article] | None,
        error: str | None,
        now: datetime,
        warnings: list[str] | None,
    ) -> None:
        update: dict[str, Any] = {
            "last_fetched_at_utc": iso(now),
            "last_status": result.status if not error else "error",
            "last_attempts": result.attempts,
            "last_latency_seconds": round(result.elapsed_seconds, 3),
        }
        if error:
            row = next(
                self.db.query(
                    "select coalesce(error_count, 0) as n from sources where id = ?",
                    [result.source.id],
                ),
                {"n": 0},
            )
            failures = int(row["n"]) + 1
            update.update(
                {
                    "error_count": failures,
                    "last_error": error,
                    "last_error_at_utc": iso(now),
                    "next_attempt_at_utc": iso(
                        next_attempt_at(now, failures, result.retry_after_seconds)
                    ),
                }
            )
        else:
            update.update(
                {
                    "error_count": 0,
                    "last_error": None,
                    "last_success_at_utc": iso(now),
                    "next_attempt_at_utc": None,
                    "etag": result.etag,
                    "last_modified": result.last_modified,
                }
            )
            if (
                result.status == "ok"
            ):  # a 304 keeps the item count and warning of the body it confirms
                update["last_item_count"] = len(articles or [])
                update["last_warning"] = (
                    "; ".join(warnings)[:MAX_WARNING_CHARS] if warnings else None
                )
        self.db.table("sources").update(result.source.id, update)

    def _upsert_article(self, article: Article, now: datetime) -> tuple[int, bool, bool, bool]:
        """Insert a new article, or add this source to a stored one. Returns (id, new, text
        changed, source new to it): the stored article's links stay computed from its own text,
        so they are replaced only when it is new, or when its empty text was just filled in by an
        article with the same title and summary (the linker then read exactly the stored text)."""
        wanted = "select id, title, summary from articles where"
        row = next(self.db.query(f"{wanted} url = ?", [article.url]), None)
        if row is None and article.guid_key:
            row = next(self.db.query(f"{wanted} guid_key = ?", [article.guid_key]), None)
        is_new = row is None
        text_changed = False
        if row is None:
            moment = article.published_at_utc or now
            # plain SQL on the hot path: sqlite-utils' insert() introspects the table every call
            inserted = self.db.conn.execute(
                "insert into articles (url, guid, guid_key, title, summary, text, outlet,"
                " source_id, source_region,"
                " published_at_utc, first_seen_at_utc, local_date)"
                " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    article.url,
                    article.guid,
                    article.guid_key,
                    article.title,
                    article.summary,
                    article.text,
                    article.outlet,
                    article.source_id,
                    article.source_region,
                    iso(article.published_at_utc),
                    iso(now),
                    santiago_date(moment),
                ],
            )
            assert inserted.lastrowid is not None  # a plain insert always has a rowid
            article_id = inserted.lastrowid
        else:
            article_id = row["id"]
            stored_words = (row["title"], row["summary"] or "")
            same_words = stored_words == (article.title, article.summary or "")
            if article.text and same_words:  # a full-text source brings the text a feed lacked
                filled = self.db.execute(
                    "update articles set text = ? where id = ? and coalesce(text, '') = ''",
                    [article.text, article_id],
                )
                text_changed = filled.rowcount == 1
        added = self.db.conn.execute(
            "insert or ignore into article_sources (article_id, source_id, first_seen_at_utc)"
            " values (?, ?, ?)",
            [article_id, article.source_id, iso(now)],
        ).rowcount
        return int(article_id), is_new, text_changed, bool(added) and not is_new

    def _replace_links(self, article_id: int, link_result: LinkResult) -> list[tuple[Any, ...]]:
        self.db.conn.execute("delete from links where article_id = ?", [article_id])
        if article_id in self._articles_with_feedback():
            link_result = self._with_feedback(article_id, link_result)
        rows = [
            (
                article_id,
                link.kind,
                link.code,
                link.name,
                json.dumps([e.as_dict() for e in link.evidence], ensure_ascii=False),
                int(link.at_risk),
                json.dumps([e.as_dict() for e in link.risk_evidence], ensure_ascii=False),
                link.risk_kind,
                int(link.resolved),
            )
            for link in link_result.all_links()
        ]
        self.db.conn.executemany(
            "insert into links (article_id, kind, code, name, evidence, at_risk, risk_evidence,"
            " risk_kind, resolved)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        return rows

    def _articles_with_feedback(self) -> set[int]:
        """Read once per store: corrections are rare, and re-applied only where they exist."""
        if self._feedback_ids is None:
            self._feedback_ids = {
                row["article_id"]
                for row in self.db.query("select distinct article_id from feedback")
            }
        return self._feedback_ids

    # -- analysts' feedback ----------------------------------------------------------------
    def article(self, article_id: int) -> dict[str, Any] | None:
        row = next(self.db.query("select * from articles where id = ?", [article_id]), None)
        if row is not None:
            row["links"] = [
                {**link, "evidence": json.loads(link["evidence"] or "[]")}
                for link in self.db.query(
                    "select * from links where article_id = ? order by kind, code", [article_id]
                )
            ]
        return row

    def record_feedback(
        self,
        article_id: int,
        action: str,
        kind: str,
        code: str,
        name: str,
        remove: list[tuple[str, str]],
        add: list[tuple[str, str, str]],
    ) -> None:
        """Store one correction and apply it to the article's links, in one transaction.

        ``remove`` lists (kind, code) links to delete; ``add`` lists (kind, code, name) to insert.
        """
        if self._feedback_ids is not None:
            self._feedback_ids.add(article_id)
        with self.db.atomic():
            self.db.table("feedback").insert(  # ignore: a unique index folds a repeated correction
                {
                    "article_id": article_id,
                    "action": action,
                    "kind": kind,
                    "code": code,
                    "name": name,
                    "created_at_utc": iso(utc_now()),
                },
                ignore=True,
            )
            for link_kind, link_code in remove:
                self.db.execute(
                    "delete from links where article_id = ? and kind = ? and code = ?",
                    [article_id, link_kind, link_code],
                )
            for link_kind, link_code, link_name in add:
                self.db.table("links").upsert(
                    {
                        "article_id": article_id,
                        "kind": link_kind,
                        "code": link_code,
                        "name": link_name,
                        "evidence": json.dumps([{"text": "feedback", "start": None, "end": None}]),
                        "at_risk": 0,
                        "risk_evidence": "[]",
                    },
                    pk=("article_id", "kind", "code"),
                )
            story = self.db.execute(
                "select story_id from articles where id = ?", [article_id]
            ).fetchone()
            if story and story[0] is not None:
                refresh_story(self.db, story[0])
            self._stories.places_changed(article_id)

    def feedback_for(self, article_id: int) -> list[dict[str, Any]]:
        return list(
            self.db.query("select * from feedback where article_id = ? order by id", [article_id])
        )

    def _with_feedback(self, article_id: int, link_result: LinkResult) -> LinkResult:
        """Re-apply an article's recorded corrections to a fresh linker result."""
        corrections = self.feedback_for(article_id) if self.db["feedback"].exists() else []
        if not corrections:
            return link_result
        from agenda.link_result import Link  # local: the store only needs it when there is feedback

        rejected = {(c["kind"], c["code"]) for c in corrections if c["action"] == "not"}
        rejected_regions = {code for kind, code in rejected if kind == "region"}
        for attribute in ("regions", "provinces", "communes"):
            kept = []
            for link in getattr(link_result, attribute):
                if (link.kind, link.code) in rejected or link.code[:2] in rejected_regions:
                    continue
                kept.append(link)
            setattr(link_result, attribute, kept)
        for correction in corrections:
            if correction["action"] == "add":
                attribute = {"region": "regions", "province": "provinces", "commune": "communes"}[
                    correction["kind"]
                ]
                if all(link.code != correction["code"] for link in getattr(link_result, attribute)):
                    getattr(link_result, attribute).append(
                        Link(correction["kind"], correction["code"], correction["name"])
                    )
        return link_result

    # -- reading (articles_on and the story readers are in stories.py) -----------------------
    def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Full-text search, newest first.

        Plain words are matched as words (each quoted, so "Biobío-Ñuble" needs no syntax). A
        query with FTS5 syntax (quotes, parentheses, AND/OR/NOT/NEAR, a trailing *) is passed as
        it is, and one SQLite cannot parse is a ``SearchQueryError``, never "no results".
        """
        raw = bool(_FTS_SYNTAX.search(query))
        if not query.strip():
            raise SearchQueryError("empty search: give one or more words")
        try:
            return list(
                self.db.table("articles").search(
                    query,
                    order_by="published_at_utc desc",
                    limit=limit,
                    quote=not raw,
                    columns=["id", "title", "outlet", "url", "published_at_utc", "local_date"],
                )
            )
        except sqlite3.OperationalError as exc:
            problems = ("fts5", "syntax", "unterminated", "no such column")
            if not any(word in str(exc) for word in problems):
                raise
            raise SearchQueryError(
                f"cannot read the search {query!r} ({exc}); close quotes and parentheses, "
                "or search plain words"
            ) from exc

    def count(self, table: str) -> int:
        return self.db[table].count

    # -- runs -------------------------------------------------------------------------------
    def start_run(self, now: datetime | None = None) -> int:
        """Open a run's row. The caller holds the run lock, so a row still "running" belongs to
        a run that was killed: it is marked "interrupted" for `agenda status`."""
        with self.db.atomic():
            self.db.execute("update runs set status = 'interrupted' where status = 'running'")
            runs = self.db.table("runs").insert(
                {"started_at_utc": iso(now or utc_now()), "status": "running"}
            )
            assert runs.last_pk is not None  # an insert without "ignore" always has a key
            return int(runs.last_pk)

    def finish_run(
        self, run_id: int, status: str, counts: dict[str, Any], errors: list[str]
    ) -> None:
        self.db.table("runs").update(
            run_id,
            {
                "finished_at_utc": iso(utc_now()),
                "status": status,
                "counts": json.dumps(counts, ensure_ascii=False),
                "errors": json.dumps(errors, ensure_ascii=False),
            },
        )

    def last_runs(self, limit: int = 5) -> list[dict[str, Any]]:
        return list(self.db.query("select * from runs order by id desc limit ?", [limit]))

    # -- deliveries (outbox state) ----------------------------------------------------------
    def delivery(self, digest_date: str, recipient: str) -> dict[str, Any] | None:
        return next(
            self.db.query(
                "select * from deliveries where digest_date = ? and recipient = ?",
                [digest_date, recipient],
            ),
            None,
        )

    def record_delivery(self, digest_date: str, recipient: str, **fields: Any) -> None:
        fields.update(
            {"digest_date": digest_date, "recipient": recipient, "updated_at_utc": iso(utc_now())}
        )
        self.db.table("deliveries").upsert(fields, pk=("digest_date", "recipient"))

    def undelivered(self) -> list[dict[str, Any]]:
        """Pending and failed messages, oldest digest first."""
        return list(
            self.db.query(
                "select * from deliveries where status in ('pending', 'failed')"
                " order by digest_date, recipient"
            )
        )

    def deliveries(self) -> Iterator[dict[str, Any]]:
        return self.db.query("select * from deliveries order by digest_date desc, recipient")
