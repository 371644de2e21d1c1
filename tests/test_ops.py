from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agenda.collect import FetchResult
from agenda.extract import Article
from agenda.link import Linker
from agenda.ops import RunLock, RunLocked, backup, prune
from agenda.sources import Source
from agenda.store import Store, open_database
from tests.storycheck import story_problems

SOURCE = Source(id="diario", name="Diario", url="https://d.cl/feed", kind="rss", region_code="08")
HOLD_LOCK = """
import sys, time
from pathlib import Path
from agenda.ops import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_second_lock_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    first = RunLock.for_database(tmp_path / "agenda.db")
    first.acquire()
    try:
        with pytest.raises(RunLocked) as info:
            RunLock.for_database(tmp_path / "agenda.db").acquire()
        assert f"pid {os.getpid()}" in str(info.value) and info.value.exit_code == 3
    finally:
        first.release()
    RunLock.for_database(tmp_path / "agenda.db").acquire()  # free again


def test_a_killed_holder_leaves_no_stuck_lock(tmp_path: Path) -> None:
    lock_path = tmp_path / "agenda.db.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLocked, match=f"pid {holder.pid}"):
            RunLock(lock_path).acquire()
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs
        holder.wait()
    lock = RunLock(lock_path)
    lock.acquire()  # the kernel dropped the dead process's lock
    lock.release()


def test_an_old_holder_is_reported_as_stuck(tmp_path: Path) -> None:
    first = RunLock(tmp_path / "x.lock")
    first.acquire(now=datetime.now(UTC) - timedelta(hours=7))
    try:
        with pytest.raises(RunLocked, match="looks stuck"):
            RunLock(tmp_path / "x.lock").acquire()
    finally:
        first.release()


def article(url: str, title: str, when: datetime) -> Article:
    return Article(
        url=url,
        title=title,
        summary="",
        source_id="diario",
        outlet="Diario",
        source_region="08",
        published_at_utc=when,
    )


def test_prune_removes_old_articles_links_and_runs_then_vacuums(
    tmp_path: Path, linker: Linker
) -> None:
    store = Store(open_database(tmp_path / "agenda.db"))
    store.sync_sources([SOURCE])
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    old = [
        article(
            f"https://d.cl/old{i}",
            f"Temporal en Temuco número {i} " + "x" * 2000,
            now - timedelta(days=500),
        )
        for i in range(200)
    ]
    new = [article("https://d.cl/new", "Feria en Concepción", now - timedelta(days=3))]
    items = old + new
    store.record_fetch(
        FetchResult(SOURCE, "ok"), items, [linker.link(a.link_text()) for a in items]
    )
    store.db["runs"].insert(
        {"started_at_utc": (now - timedelta(days=450)).isoformat(), "status": "ok"}
    )
    report = prune(store.db, timedelta(days=400), now=now)
    assert (report.articles, report.runs) == (200, 1) and report.links > 200
    assert [r["url"] for r in store.db.query("select url from articles")] == ["https://d.cl/new"]
    assert (
        store.db.execute(
            "select count(*) from links where article_id not in (select id from articles)"
        ).fetchone()[0]
        == 0
    )
    assert (
        store.count("stories") == 1 and store.count("article_signatures") == 1
    )  # the old stories went
    assert story_problems(store.db.conn) == []
    assert store.db.execute("pragma auto_vacuum").fetchone()[0] == 2 and report.freed_pages > 0
    assert (
        store.search("Temporal") == [] and len(store.search("Feria")) == 1
    )  # the FTS index followed
    assert store.db.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_backup_while_another_connection_writes(tmp_path: Path, linker: Linker) -> None:
    db_path = tmp_path / "agenda.db"
    store = Store(open_database(db_path))
    store.sync_sources([SOURCE])
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    first = [article(f"https://d.cl/{i}", f"Noticia {i} en Talca", now) for i in range(300)]
    store.record_fetch(FetchResult(SOURCE, "ok"), first, [linker.link(a.title) for a in first])
    stop = threading.Event()

    def writer() -> None:
        other = Store(open_database(db_path))
        n = 0
        while not stop.is_set():
            n += 1
            item = article(f"https://d.cl/w{n}", f"Escritura {n} en Linares", now)
            other.record_fetch(FetchResult(SOURCE, "ok"), [item], [linker.link(item.title)])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        copy = backup(db_path, tmp_path / "backups" / "agenda-copy.db")
    finally:
        stop.set()
        thread.join()
    copied = sqlite3.connect(copy)
    assert copied.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert copied.execute("select count(*) from articles").fetchone()[0] >= 300
    copied.close()
