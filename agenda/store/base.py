"""Store: SQLite through sqlite-utils, the only place that writes SQL. The ``Database`` is injected
(tests use a temp file or ``Database(memory=True)``); the schema is in ``schema.py``.

A source's articles, links and fetch state are written in one transaction.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from agenda.collect import DUE_TOLERANCE, FetchResult, FetchState, next_attempt_at
from agenda.errors import SearchQueryError
from agenda.store.schema import migrations

if TYPE_CHECKING:  # types only: `agenda status` and `search` must not load spaCy or feedparser
    from agenda.extract import Article
    from agenda.link import LinkResult
    from agenda.sources import Source

SANTIAGO = ZoneInfo("America/Santiago")
# FTS5 query syntax: a query with any of it is an FTS5 expression, not a list of words
_FTS_SYNTAX = re.compile(r'["()*^:]|\b(?:AND|OR|NOT|NEAR)\b')
MAX_WARNING_CHARS = 500  # several warnings joined; the row is for people, not a log


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds") if moment else None


def santiago_date(moment: datetime) -> str:
    """The America/Santiago calendar day of a moment: the digest's notion of 'which day'."""
    return moment.astimezone(SANTIAGO).date().isoformat()


class StoredLink(NamedTuple):
    """A link as the digest reads it back."""

    kind: str
    code: str
    name: str
    at_risk: bool
    risk_sentences: tuple[str, ...]


@dataclass
class StoredCounts:
    new: int = 0
    seen: int = 0
    links: int = 0


class Store:
    """The only place that writes SQL. Wraps an injected sqlite-utils ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        migrations.apply(db)
        self._feedback_ids: set[int] | None = None

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
                    self.db["sources"].update(source.id, {
                        "etag": None, "last_modified": None, "next_attempt_at_utc": None,
                        "error_count": 0, "last_error": None,
                    })
                self.db["sources"].upsert(
                    {"id": source.id, "name": source.name, "url": source.url, "kind": source.kind,
                     "region_code": source.region_code, "enabled": int(source.enabled)},
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
                "join articles a on a.id = s.article_id where a.published_at_utc is not null group by s.source_id"
            )
        }

    def deferred_sources(self, now: datetime) -> dict[str, datetime]:
        """Sources resting after failures: id -> next attempt time (later than ``now``).

        A next attempt within ``DUE_TOLERANCE`` of ``now`` counts as due (cron starts drift).
        """
        resting = {}
        for row in self.db.query("select id, next_attempt_at_utc from sources where next_attempt_at_utc is not null"):
            when = datetime.fromisoformat(row["next_attempt_at_utc"])
            if when > now + DUE_TOLERANCE:
                resting[row["id"]] = when
        return resting

    def known_article_urls(self, urls: Iterable[str]) -> set[str]:
        """Which of these canonical URLs are stored already (their pages need no fetching)."""
        wanted = list(dict.fromkeys(urls))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):  # SQLite's limit on ? placeholders
            chunk = wanted[start:start + 500]
            placeholders = ",".join("?" * len(chunk))
            found.update(row["url"] for row in self.db.query(f"select url from articles where url in ({placeholders})", chunk))
        return found

    # -- one source's results: one transaction ----------------------------------------------
    def record_fetch(
        self,
        result: FetchResult,
        articles: list[Article] | None = None,
        links: list[LinkResult] | None = None,
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
        with self.db.atomic():
            for article, link_result in zip(articles or [], links or [], strict=True):
                article_id, is_new = self._upsert_article(article, now)
                counts.new += is_new
                counts.seen += not is_new
                counts.links += self._replace_links(article_id, link_result)
            update: dict[str, Any] = {
                "last_fetched_at_utc": iso(now), "last_status": result.status if not error else "error",
                "last_attempts": result.attempts, "last_latency_seconds": round(result.elapsed_seconds, 3),
            }
            if error:
                row = next(self.db.query("select coalesce(error_count, 0) as n from sources where id = ?", [result.source.id]), {"n": 0})
                failures = int(row["n"]) + 1
                update.update(
                    {"error_count": failures, "last_error": error, "last_error_at_utc": iso(now),
                     "next_attempt_at_utc": iso(next_attempt_at(now, failures, result.retry_after_seconds))}
                )
            else:
                update.update(
                    {"error_count": 0, "last_error": None, "last_success_at_utc": iso(now), "next_attempt_at_utc": None,
                     "etag": result.etag, "last_modified": result.last_modified}
                )
                if result.status == "ok":  # a 304 keeps the item count and warning of the body it confirms
                    update["last_item_count"] = len(articles or [])
                    update["last_warning"] = "; ".join(warnings)[:MAX_WARNING_CHARS] if warnings else None
            self.db["sources"].update(result.source.id, update)
        return counts

    def _upsert_article(self, article: Article, now: datetime) -> tuple[int, bool]:
        row = next(self.db.query("select id from articles where url = ?", [article.url]), None)
        if row is None and article.guid_key:
            row = next(self.db.query("select id from articles where guid_key = ?", [article.guid_key]), None)
        is_new = row is None
        if is_new:
            moment = article.published_at_utc or now
            # plain SQL on the hot path: sqlite-utils' insert() introspects the table every call
            article_id = self.db.conn.execute(
                "insert into articles (url, guid, guid_key, title, summary, text, outlet, source_id, source_region,"
                " published_at_utc, first_seen_at_utc, local_date) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [article.url, article.guid, article.guid_key, article.title, article.summary, article.text, article.outlet,
                 article.source_id, article.source_region, iso(article.published_at_utc), iso(now), santiago_date(moment)],
            ).lastrowid
        else:
            article_id = row["id"]
            if article.text:  # a full-text source may bring the text another feed lacked
                self.db.execute("update articles set text = ? where id = ? and coalesce(text, '') = ''", [article.text, article_id])
        self.db.conn.execute(
            "insert or ignore into article_sources (article_id, source_id, first_seen_at_utc) values (?, ?, ?)",
            [article_id, article.source_id, iso(now)],
        )
        return int(article_id), is_new

    def _replace_links(self, article_id: int, link_result: LinkResult) -> int:
        self.db.conn.execute("delete from links where article_id = ?", [article_id])
        if article_id in self._articles_with_feedback():
            link_result = self._with_feedback(article_id, link_result)
        rows = [
            (article_id, link.kind, link.code, link.name,
             json.dumps([e.as_dict() for e in link.evidence], ensure_ascii=False), int(link.at_risk),
             json.dumps([e.as_dict() for e in link.risk_evidence], ensure_ascii=False))
            for link in link_result.all_links()
        ]
        self.db.conn.executemany(
            "insert into links (article_id, kind, code, name, evidence, at_risk, risk_evidence) values (?, ?, ?, ?, ?, ?, ?)", rows
        )
        return len(rows)

    def _articles_with_feedback(self) -> set[int]:
        """Read once per store: corrections are rare, and re-applied only where they exist."""
        if self._feedback_ids is None:
            self._feedback_ids = {row["article_id"] for row in self.db.query("select distinct article_id from feedback")}
        return self._feedback_ids

    # -- analysts' feedback ----------------------------------------------------------------
    def article(self, article_id: int) -> dict[str, Any] | None:
        row = next(self.db.query("select * from articles where id = ?", [article_id]), None)
        if row is not None:
            row["links"] = [
                {**link, "evidence": json.loads(link["evidence"] or "[]")}
                for link in self.db.query("select * from links where article_id = ? order by kind, code", [article_id])
            ]
        return row

    def record_feedback(self, article_id: int, action: str, kind: str, code: str, name: str, remove: list[tuple[str, str]], add: list[tuple[str, str, str]]) -> None:
        """Store one correction and apply it to the article's links, in one transaction.

        ``remove`` lists (kind, code) links to delete; ``add`` lists (kind, code, name) to insert.
        """
        if self._feedback_ids is not None:
            self._feedback_ids.add(article_id)
        with self.db.atomic():
            self.db["feedback"].insert(  # ignore: a unique index folds a repeated correction
                {"article_id": article_id, "action": action, "kind": kind, "code": code,
                 "name": name, "created_at_utc": iso(utc_now())},
                ignore=True,
            )
            for link_kind, link_code in remove:
                self.db.execute("delete from links where article_id = ? and kind = ? and code = ?", [article_id, link_kind, link_code])
            for link_kind, link_code, link_name in add:
                self.db["links"].upsert(
                    {"article_id": article_id, "kind": link_kind, "code": link_code, "name": link_name,
                     "evidence": json.dumps([{"text": "feedback", "start": None, "end": None}]), "at_risk": 0, "risk_evidence": "[]"},
                    pk=("article_id", "kind", "code"),
                )

    def feedback_for(self, article_id: int) -> list[dict[str, Any]]:
        return list(self.db.query("select * from feedback where article_id = ? order by id", [article_id]))

    def _with_feedback(self, article_id: int, link_result: LinkResult) -> LinkResult:
        """Re-apply an article's recorded corrections to a fresh linker result."""
        corrections = self.feedback_for(article_id) if self.db["feedback"].exists() else []
        if not corrections:
            return link_result
        from agenda.link import Link  # local: the store only needs it when there is feedback

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
                attribute = {"region": "regions", "province": "provinces", "commune": "communes"}[correction["kind"]]
                if all(link.code != correction["code"] for link in getattr(link_result, attribute)):
                    getattr(link_result, attribute).append(Link(correction["kind"], correction["code"], correction["name"]))
        return link_result

    # -- reading ----------------------------------------------------------------------------
    def articles_on(self, day: date) -> list[dict[str, Any]]:
        """The articles of one America/Santiago day, each with its links and all its outlets."""
        articles = list(
            self.db.query(
                # not the full text: the digest shows titles and summaries, and 50,000 texts weigh
                "select id, url, title, summary, outlet, source_id, source_region, published_at_utc, local_date"
                " from articles where local_date = ? order by published_at_utc desc, id", [day.isoformat()]
            )
        )
        if not articles:
            return []
        ids = [a["id"] for a in articles]
        placeholders = ",".join("?" * len(ids))
        links: dict[int, list[StoredLink]] = {}
        # No evidence spans, and tuples rather than dicts: a day of 50,000 articles has hundreds of
        # thousands of links, and the digest only needs the sentences that flag a commitment.
        for article_id, kind, code, name, at_risk, risk_evidence in self.db.execute(
            f"select article_id, kind, code, name, at_risk, risk_evidence from links where article_id in ({placeholders})", ids
        ):
            evidence = tuple(e["text"] for e in json.loads(risk_evidence)) if at_risk else ()
            # the same few hundred codes and names repeat: share one string each
            links.setdefault(article_id, []).append(StoredLink(sys.intern(kind), sys.intern(code), sys.intern(name), bool(at_risk), evidence))
        outlets: dict[int, list[str]] = {}
        for row in self.db.query(
            f"select a.article_id, s.name from article_sources a join sources s on s.id = a.source_id "
            f"where a.article_id in ({placeholders}) order by a.first_seen_at_utc",
            ids,
        ):
            outlets.setdefault(row["article_id"], []).append(row["name"])
        for article in articles:
            article["links"] = links.get(article["id"], [])
            article["outlets"] = outlets.get(article["id"], [article["outlet"]])
        return articles

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
                self.db["articles"].search(
                    query, order_by="published_at_utc desc", limit=limit, quote=not raw,
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
            return int(self.db["runs"].insert({"started_at_utc": iso(now or utc_now()), "status": "running"}).last_pk)

    def finish_run(self, run_id: int, status: str, counts: dict[str, Any], errors: list[str]) -> None:
        self.db["runs"].update(
            run_id,
            {"finished_at_utc": iso(utc_now()), "status": status,
             "counts": json.dumps(counts, ensure_ascii=False), "errors": json.dumps(errors, ensure_ascii=False)},
        )

    def last_runs(self, limit: int = 5) -> list[dict[str, Any]]:
        return list(self.db.query("select * from runs order by id desc limit ?", [limit]))

    # -- deliveries (outbox state) ----------------------------------------------------------
    def delivery(self, digest_date: str, recipient: str) -> dict[str, Any] | None:
        return next(
            self.db.query("select * from deliveries where digest_date = ? and recipient = ?", [digest_date, recipient]),
            None,
        )

    def record_delivery(self, digest_date: str, recipient: str, **fields: Any) -> None:
        fields.update({"digest_date": digest_date, "recipient": recipient, "updated_at_utc": iso(utc_now())})
        self.db["deliveries"].upsert(fields, pk=("digest_date", "recipient"))

    def undelivered(self) -> list[dict[str, Any]]:
        """Pending and failed messages, oldest digest first."""
        return list(self.db.query("select * from deliveries where status in ('pending', 'failed') order by digest_date, recipient"))

    def deliveries(self) -> Iterator[dict[str, Any]]:
        return self.db.query("select * from deliveries order by digest_date desc, recipient")
