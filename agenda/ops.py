"""Operations: one run at a time, housekeeping, backups, and the morning status.

``RunLock`` is an advisory ``flock`` on ``<db>.lock``: the kernel drops it when its process dies,
so a crashed or SIGKILLed run never leaves it stuck. The file also records who holds it (pid,
host, start time), so a second run can say who is running and for how long, and can tell a holder
that has gone on for too long (``STALE_AFTER``) from a normal one.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from agenda.errors import AgendaError, RunLocked, UsageError
from agenda.store.stories import forget_pruned

STALE_AFTER = timedelta(hours=6)  # an overnight run that takes longer than this is stuck
BACKUP_PAGES_PER_STEP = 1024


@dataclass
class RunLock:
    path: Path
    _handle: Any = None

    @classmethod
    def for_database(cls, db_path: Path) -> RunLock:
        return cls(db_path.with_name(db_path.name + ".lock"))

    def acquire(self, now: datetime | None = None) -> None:
        """Take the lock or raise ``RunLocked`` naming the holder."""
        now = now or datetime.now(UTC)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(self.path)
            handle.close()
            raise RunLocked(_describe_holder(holder, now)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started_at_utc": now.isoformat(timespec="seconds"),
                }
            )
        )
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _describe_holder(holder: dict[str, Any], now: datetime) -> str:
    if not holder.get("pid"):
        return "another agenda run holds the lock; try again when it has finished"
    started = (
        datetime.fromisoformat(holder["started_at_utc"]) if holder.get("started_at_utc") else now
    )
    age = now - started
    minutes = int(age.total_seconds() // 60)
    message = (
        f"another agenda run is in progress (pid {holder['pid']} on {holder.get('host', '?')},"
        f" started {minutes} min ago)"
    )
    if age > STALE_AFTER:
        message += (
            f"; it has run for more than {int(STALE_AFTER.total_seconds() // 3600)} h"
            " and looks stuck: check that process"
        )
    return message


@dataclass
class PruneReport:
    articles: int
    links: int
    runs: int
    freed_pages: int


def prune(db: Database, older_than: timedelta, now: datetime | None = None) -> PruneReport:
    """Delete articles (with their links, sources and feedback) and runs older than the cut-off,
    then give the freed pages back to the file system with an incremental vacuum."""
    now = now or datetime.now(UTC)
    cutoff = (now - older_than).isoformat(timespec="seconds")
    condition = "coalesce(published_at_utc, first_seen_at_utc) < ?"
    with db.atomic():
        old = f"select id from articles where {condition}"
        stories = [
            row[0]
            for row in db.execute(
                f"select distinct story_id from articles where {condition}"
                " and story_id is not null",
                [cutoff],
            )
        ]
        db.execute(f"delete from article_signatures where article_id in ({old})", [cutoff])
        links = db.execute(f"delete from links where article_id in ({old})", [cutoff]).rowcount
        db.execute(f"delete from article_sources where article_id in ({old})", [cutoff])
        if db["feedback"].exists():
            db.execute(f"delete from feedback where article_id in ({old})", [cutoff])
        articles = db.execute(f"delete from articles where {condition}", [cutoff]).rowcount
        forget_pruned(db, stories)
        runs = db.execute("delete from runs where started_at_utc < ?", [cutoff]).rowcount
    before = db.execute("pragma freelist_count").fetchone()[0]
    ensure_incremental_vacuum(db)
    db.execute("pragma incremental_vacuum")
    after = db.execute("pragma freelist_count").fetchone()[0]
    return PruneReport(articles, links, runs, max(0, before - after))


def ensure_incremental_vacuum(db: Database) -> None:
    """auto_vacuum=INCREMENTAL only takes effect after a full VACUUM; do that once."""
    if db.execute("pragma auto_vacuum").fetchone()[0] != 2:
        with db.ensure_autocommit_on():
            db.execute("pragma auto_vacuum = incremental")
            db.execute("vacuum")


def backup(
    db_path: Path,
    destination: Path,
    progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
) -> Path:
    """Copy the database with SQLite's online backup API, safe while a run writes to it.

    An existing file at ``destination`` is replaced only with ``overwrite`` (``--force``): a
    mistyped path must not destroy a document or another database.
    """
    if destination.is_dir():
        raise UsageError(f"{destination}: is a folder; give the backup's file name")
    if destination.exists() and not overwrite:
        raise UsageError(f"{destination}: already exists; choose another path or add --force")
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(destination.name + ".tmp")
    temporary.unlink(missing_ok=True)
    source = sqlite3.connect(str(db_path), timeout=30)
    target = sqlite3.connect(str(temporary))
    try:
        source.backup(
            target,
            pages=BACKUP_PAGES_PER_STEP,
            progress=(lambda status, remaining, total: progress(total - remaining, total))
            if progress
            else None,
        )
        check = target.execute("pragma integrity_check").fetchone()[0]
        if check != "ok":
            raise AgendaError(f"backup failed its integrity check: {check}")
    finally:
        target.close()
        source.close()
    temporary.replace(destination)
    return destination
