"""The database's schema, as ``Migrations`` applied in order, and opening a database file.

Tables
    sources          config + fetch state (ETag, Last-Modified) + health (error count, last error,
                     next attempt time of a failing source, last warning, latency)
    articles         unique by canonical URL (and by GUID, ``guid_key``); times in UTC plus the
                     America/Santiago day
    article_sources  every source an article was seen in (same story, two feeds, stored once)
    links            article x (kind, code) with evidence JSON
    runs             one row per run: times, status, counts per stage, errors
    deliveries       one row per (digest date, recipient): the outbox state
    feedback         analysts' corrections of links

A new migration is a new function at the end, named ``mNNN_what_it_does``.
"""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("agenda")


@migrations()
def m001_initial(db: Database) -> None:
    db["sources"].create(
        {
            "id": str, "name": str, "url": str, "kind": str, "region_code": str, "enabled": int,
            "etag": str, "last_modified": str, "last_fetched_at_utc": str, "last_success_at_utc": str,
            "last_status": str, "last_item_count": int, "error_count": int, "last_error": str,
            "last_error_at_utc": str,
        },
        pk="id",
        defaults={"error_count": 0},
        not_null={"name", "url", "kind"},
    )
    db["articles"].create(
        {
            "id": int, "url": str, "guid": str, "title": str, "summary": str, "text": str,
            "outlet": str, "source_id": str, "source_region": str, "published_at_utc": str,
            "first_seen_at_utc": str, "local_date": str,
        },
        pk="id",
        not_null={"url", "title", "local_date"},
    )
    db["articles"].create_index(["url"], unique=True)
    db["articles"].create_index(["local_date"])
    db["article_sources"].create(
        {"article_id": int, "source_id": str, "first_seen_at_utc": str},
        pk=("article_id", "source_id"),
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["links"].create(
        {
            "article_id": int, "kind": str, "code": str, "name": str, "evidence": str,
            "at_risk": int, "risk_evidence": str,
        },
        pk=("article_id", "kind", "code"),
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["links"].create_index(["kind", "code"])
    db["runs"].create(
        {"id": int, "started_at_utc": str, "finished_at_utc": str, "status": str, "counts": str, "errors": str},
        pk="id",
    )
    db["deliveries"].create(
        {
            "digest_date": str, "recipient": str, "status": str, "message_id": str, "attempts": int,
            "last_error": str, "updated_at_utc": str, "sent_at_utc": str, "eml_path": str,
        },
        pk=("digest_date", "recipient"),
    )
    # Accents folded so "Nuble" finds "Ñuble".
    db["articles"].enable_fts(["title", "summary", "text"], create_triggers=True, tokenize="unicode61 remove_diacritics 2")


@migrations()
def m002_source_backoff(db: Database) -> None:
    """A failing source rests until ``next_attempt_at_utc``; the row also keeps what the last
    attempt looked like (warning, attempts, latency) for ``agenda sources check`` and the digest."""
    sources = db["sources"]
    sources.add_column("next_attempt_at_utc", str)
    sources.add_column("last_warning", str)
    sources.add_column("last_attempts", int)
    sources.add_column("last_latency_seconds", float)


@migrations()
def m003_article_guid_key(db: Database) -> None:
    """The same story under two addresses (an AMP link, a redirector) is still one article."""
    db["articles"].add_column("guid_key", str)
    db["articles"].create_index(["guid_key"])


@migrations()
def m004_feedback(db: Database) -> None:
    """Analysts' corrections of links ("this article is not about 09211"), kept so that a
    re-link of the article (a feed re-sending it) does not undo them."""
    db["feedback"].create(
        {"id": int, "article_id": int, "action": str, "kind": str, "code": str, "name": str, "created_at_utc": str},
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["feedback"].create_index(["article_id"])


@migrations()
def m005_outbox(db: Database) -> None:
    """The outbox: which edition each recipient gets, and when a failed send is tried again."""
    db["deliveries"].add_column("edition", str)
    db["deliveries"].add_column("next_attempt_at_utc", str)


def open_database(path: Path | str) -> Database:
    """Open (creating if needed) the database file: WAL, busy timeout, migrations applied."""
    db = Database(str(path))
    with db.ensure_autocommit_on():
        if not db.table_names():  # a new file: let `agenda prune` give space back incrementally
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=30000")
    db.execute("PRAGMA foreign_keys=ON")
    migrations.apply(db)
    return db


@migrations()
def m007_link_risk_detail(db: Database) -> None:
    """Which kind of trouble put a commitment at risk, and whether the article reports it resolved."""
    db["links"].add_column("risk_kind", str)
    db["links"].add_column("resolved", int)
