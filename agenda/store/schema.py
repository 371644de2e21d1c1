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
    feedback_messages readers' "¿Error?" e-mails already read (by Message-ID), applied once
    stories          one row per story (near-duplicate articles over a sliding window of days):
                     best title, first and last seen, article and outlet counts
    story_links      the union of a story's articles' links (regions, communes, commitments, …)
    story_outlets    the outlets that carried a story (its ``outlet_count``)
    article_signatures  each article's fingerprint (MinHash signature, feature set) and its
                     places ("06,06101"): what the story index is rebuilt from

A new migration is a new function at the end, named ``mNNN_what_it_does``.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from agenda.errors import DatabaseError
from agenda.store.stories import backfill_stories

migrations = Migrations("agenda")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("sources").create(
        {
            "id": str,
            "name": str,
            "url": str,
            "kind": str,
            "region_code": str,
            "enabled": int,
            "etag": str,
            "last_modified": str,
            "last_fetched_at_utc": str,
            "last_success_at_utc": str,
            "last_status": str,
            "last_item_count": int,
            "error_count": int,
            "last_error": str,
            "last_error_at_utc": str,
        },
        pk="id",
        defaults={"error_count": 0},
        not_null={"name", "url", "kind"},
    )
    db.table("articles").create(
        {
            "id": int,
            "url": str,
            "guid": str,
            "title": str,
            "summary": str,
            "text": str,
            "outlet": str,
            "source_id": str,
            "source_region": str,
            "published_at_utc": str,
            "first_seen_at_utc": str,
            "local_date": str,
        },
        pk="id",
        not_null={"url", "title", "local_date"},
    )
    db.table("articles").create_index(["url"], unique=True)
    db.table("articles").create_index(["local_date"])
    db.table("article_sources").create(
        {"article_id": int, "source_id": str, "first_seen_at_utc": str},
        pk=("article_id", "source_id"),
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("links").create(
        {
            "article_id": int,
            "kind": str,
            "code": str,
            "name": str,
            "evidence": str,
            "at_risk": int,
            "risk_evidence": str,
        },
        pk=("article_id", "kind", "code"),
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("links").create_index(["kind", "code"])
    db.table("runs").create(
        {
            "id": int,
            "started_at_utc": str,
            "finished_at_utc": str,
            "status": str,
            "counts": str,
            "errors": str,
        },
        pk="id",
    )
    db.table("deliveries").create(
        {
            "digest_date": str,
            "recipient": str,
            "status": str,
            "message_id": str,
            "attempts": int,
            "last_error": str,
            "updated_at_utc": str,
            "sent_at_utc": str,
            "eml_path": str,
        },
        pk=("digest_date", "recipient"),
    )
    # Accents folded so "Nuble" finds "Ñuble".
    db.table("articles").enable_fts(
        ["title", "summary", "text"], create_triggers=True, tokenize="unicode61 remove_diacritics 2"
    )


@migrations()
def m002_source_backoff(db: Database) -> None:
    """A failing source rests until ``next_attempt_at_utc``; the row also keeps what the last
    attempt looked like (warning, attempts, latency) for ``agenda sources check`` and the digest."""
    sources = db.table("sources")
    sources.add_column("next_attempt_at_utc", str)
    sources.add_column("last_warning", str)
    sources.add_column("last_attempts", int)
    sources.add_column("last_latency_seconds", float)


@migrations()
def m003_article_guid_key(db: Database) -> None:
    """The same story under two addresses (an AMP link, a redirector) is still one article."""
    db.table("articles").add_column("guid_key", str)
    db.table("articles").create_index(["guid_key"])


@migrations()
def m004_feedback(db: Database) -> None:
    """Analysts' corrections of links ("this article is not about 09211"), kept so that a
    re-link of the article (a feed re-sending it) does not undo them."""
    db.table("feedback").create(
        {
            "id": int,
            "article_id": int,
            "action": str,
            "kind": str,
            "code": str,
            "name": str,
            "created_at_utc": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("feedback").create_index(["article_id"])


@migrations()
def m005_outbox(db: Database) -> None:
    """The outbox: which edition each recipient gets, and when a failed send is tried again."""
    db.table("deliveries").add_column("edition", str)
    db.table("deliveries").add_column("next_attempt_at_utc", str)


@migrations()
def m006_stories(db: Database) -> None:
    """Stories kept at ingest: every stored article belongs to exactly one story."""
    db.table("stories").create(
        {
            "id": int,
            "title": str,
            "url": str,
            "lead_article_id": int,
            "lead_link_count": int,
            "first_seen_at_utc": str,
            "last_seen_at_utc": str,
            "first_local_date": str,
            "last_local_date": str,
            "article_count": int,
            "outlet_count": int,
        },
        pk="id",
    )
    db.table("stories").create_index(["last_local_date"])
    db.table("stories").create_index(["first_local_date"])
    db.table("story_links").create(
        {"story_id": int, "kind": str, "code": str, "name": str, "at_risk": int},
        pk=("story_id", "kind", "code"),
    )
    db.table("story_links").create_index(["kind", "code"])
    db.table("story_outlets").create({"story_id": int, "outlet": str}, pk=("story_id", "outlet"))
    db.table("articles").add_column("story_id", int)
    db.table("articles").create_index(["story_id"])
    db.table("article_signatures").create(
        {
            "article_id": int,
            "local_date": str,
            "signature": bytes,
            "features": bytes,
            "places": str,
        },
        pk="article_id",
    )
    db.table("article_signatures").create_index(["local_date"])


@migrations(transactional=False)
def m007_stories_backfill(db: Database) -> None:
    """An existing database gets its stories, one day per transaction (``backfill_stories``):
    a year of articles is never in memory, and an interrupted back-fill resumes where it was
    (this migration is recorded only once every article has its story)."""
    backfill_stories(db)


@migrations()
def m008_link_risk_detail(db: Database) -> None:
    """Which kind of trouble put a commitment at risk.

    And whether the article reports it resolved.
    """
    db.table("links").add_column("risk_kind", str)
    db.table("links").add_column("resolved", int)


@migrations()
def m009_feedback_unique(db: Database) -> None:
    """The same correction twice is one row: ``agenda feedback`` is idempotent."""
    db.execute(
        "delete from feedback where id not in "
        "(select min(id) from feedback group by article_id, action, kind, code)"
    )
    db.table("feedback").create_index(
        ["article_id", "action", "kind", "code"], unique=True, if_not_exists=True
    )


@migrations()
def m010_feedback_inbox(db: Database) -> None:
    """Readers' "¿Error?" replies already read by ``agenda feedback inbox``, by Message-ID: a
    message is applied once, however often the mailbox is read."""
    db.table("feedback_messages").create(
        {
            "message_id": str,
            "article_id": int,
            "action": str,
            "code": str,
            "status": str,
            "detail": str,
            "sender": str,
            "processed_at_utc": str,
        },
        pk="message_id",
    )


@migrations()
def m011_fts_reindex_only_on_new_words(db: Database) -> None:
    """Re-index an article's words only when its words change. The trigger sqlite-utils made
    fires on any update: giving a new article its story (``story_id``) deleted and re-inserted
    its whole text in ``articles_fts``, a third of what stories cost at ingest."""
    db.execute("drop trigger if exists articles_au")
    db.execute(
        "create trigger articles_au after update of title, summary, text on articles begin\n"
        "  insert into articles_fts (articles_fts, rowid, title, summary, text)"
        " values ('delete', old.rowid, old.title, old.summary, old.text);\n"
        "  insert into articles_fts (rowid, title, summary, text)"
        " values (new.rowid, new.title, new.summary, new.text);\n"
        "end"
    )


SQLITE_MAGIC = b"SQLite format 3\x00"
HOW_TO_MAKE_ONE = "`agenda collect` or `agenda run` creates one; or point to one with --db PATH"


def check_database_file(path: Path, create: bool) -> None:
    """Refuse, naming ``path``, a database file that agenda must not open (or create).

    Missing (unless ``create``), a folder, not SQLite, shorter than its header says (truncated),
    not writable: each is one ``DatabaseError``. Reads only the 100-byte header: instant on a
    database of any size.
    """
    if path.is_dir():
        raise DatabaseError(f"--db {path}: is a folder, not a database file")
    if not path.exists():
        if create:
            return
        raise DatabaseError(f"--db {path}: no database there; {HOW_TO_MAKE_ONE}")
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise DatabaseError(f"--db {path}: cannot be read ({exc.strerror or exc})") from exc
    if not header:
        return  # an empty file is an empty SQLite database (sqlite3 makes exactly this)
    if not header.startswith(SQLITE_MAGIC):
        raise DatabaseError(f"--db {path}: not an SQLite database")
    if len(header) < 100:
        raise DatabaseError(f"--db {path}: truncated (shorter than an SQLite header)")
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    pages = struct.unpack(">I", header[28:32])[0]
    size_valid = header[24:28] == header[92:96]  # SQLite's rule for trusting the size field
    if pages and size_valid and path.stat().st_size < pages * page_size:
        raise DatabaseError(
            f"--db {path}: truncated ({path.stat().st_size} bytes, its header says "
            f"{pages * page_size}); "
            "restore it from a backup"
        )
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise DatabaseError(
            f"--db {path}: read-only (the file or its folder); agenda writes to its database"
        )


def _check_ours(db: Database, path: Path) -> None:
    """A database with tables but no record of agenda's migrations belongs to someone else:
    migrating it would add our tables to another application's data."""
    tables = set(db.table_names())
    if not tables:
        return
    ours = (
        "_sqlite_migrations" in tables
        and db.execute(
            "select count(*) from _sqlite_migrations where migration_set = ?", [migrations.name]
        ).fetchone()[0]
    )
    if not ours:
        raise DatabaseError(
            f"--db {path}: another application's database "
            f"(tables: {', '.join(sorted(tables)[:5])}); "
            "agenda will not change it"
        )


def open_database(path: Path | str, create: bool = True) -> Database:
    """Open (creating it only if ``create``) the database file: WAL, busy timeout, migrations
    applied. Anything wrong with the file is a ``DatabaseError`` naming it (exit 2)."""
    path = Path(path)
    check_database_file(path, create)
    try:
        db = Database(str(path))
        _check_ours(db, path)
        with db.ensure_autocommit_on():
            if not db.table_names():  # a new file: let `agenda prune` give space back incrementally
                db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA foreign_keys=ON")
        migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise  # another process holds it: not a problem with the file
        raise DatabaseError(f"--db {path}: {exc} (damaged, or not an agenda database)") from exc
    return db
