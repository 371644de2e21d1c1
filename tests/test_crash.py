"""A run killed with SIGKILL at several points, then started again, ends with exactly the
articles and links of an uninterrupted run: none lost, none duplicated, integrity ok.
Also: two runs started together, one runs and the other exits 3."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agenda.sampleserver import RunningServer, serve
from tests.storycheck import story_problems

ROOT = Path(__file__).resolve().parent.parent
AGENDA = str(Path(sys.executable).parent / "agenda")
FEEDS = 24
ITEMS = 15
COMMUNES = [
    "Temuco",
    "Valdivia",
    "Osorno",
    "Chillán",
    "Talca",
    "Rancagua",
    "Copiapó",
    "Arica",
    "Iquique",
    "Coyhaique",
    "Punta Arenas",
    "Quilpué",
]


def write_feeds(folder: Path) -> None:
    folder.mkdir(parents=True)
    for feed in range(FEEDS):
        items = []
        for item in range(ITEMS):
            commune = COMMUNES[(feed + item) % len(COMMUNES)]
            items.append(
                f"<item><title>Noticia {feed}-{item}: vecinos de {commune} piden mejoras</title>"
                f"<link>https://diario{feed}.cl/nota/{item}</link>"
                f"<description>En {commune} la municipalidad anunció "
                "obras de agua potable y seguridad.</description>"
                f"<pubDate>Tue, 24 Nov 2026 {8 + item % 10:02d}:15:00 -0300</pubDate></item>"
            )
        (folder / f"f{feed}.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Diario {feed}</title>{''.join(items)}</channel></rss>",
            encoding="utf-8",
        )


@pytest.fixture(scope="module")
def feed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("feeds")
    write_feeds(root / "feeds")
    with serve(root, delay_seconds=0.15) as server:
        yield server


def workspace(tmp_path: Path, server: RunningServer) -> list[str]:
    lines = ["sources:"]
    for feed in range(FEEDS):
        lines += [
            f"  - id: diario-{feed}",
            f"    name: Diario {feed}",
            f"    url: {server.base_url}/feeds/f{feed}.xml",
            "    kind: rss",
            "    region: national",
        ]
    (tmp_path / "sources.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # two sources at a time: the run lasts long enough to be killed in each phase
    (tmp_path / "agenda.yaml").write_text(
        f"mail:\n  outbox: {tmp_path / 'outbox'}\nfetch:\n"
        "  concurrency: 2\n  per_host: 2\n  allow_private_networks: true\n",
        encoding="utf-8",
    )
    return [
        "--sources",
        str(tmp_path / "sources.yaml"),
        "--db",
        str(tmp_path / "agenda.db"),
        "--digests",
        str(tmp_path / "digests"),
        "--config",
        str(tmp_path / "agenda.yaml"),
        "--keywords",
        str(ROOT / "keywords"),
    ]


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AGENDA, "run", *args, "--date", "2026-11-24"], capture_output=True, text=True, timeout=300
    )


def snapshot(db_path: Path) -> tuple[set[str], set[tuple[str, str, str]], str, int]:
    db = sqlite3.connect(db_path)
    try:
        urls = {row[0] for row in db.execute("select url from articles")}
        links = {
            row
            for row in db.execute(
                "select a.url, l.kind, l.code from links l join articles a on a.id = l.article_id"
            )
        }
        integrity = db.execute("pragma integrity_check").fetchone()[0]
        duplicates = db.execute("select count(*) - count(distinct url) from articles").fetchone()[0]
    finally:
        db.close()
    return urls, links, integrity, duplicates


def stored_sources(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute(
                "select count(*) from sources where last_fetched_at_utc is not null"
            ).fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def kill_when(args: list[str], ready: Callable[[], bool], deadline: float = 120) -> None:
    process = subprocess.Popen(
        [AGENDA, "run", *args, "--date", "2026-11-24"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = time.monotonic()
    try:
        while not ready():
            assert process.poll() is None, "the run finished before the kill point"
            assert time.monotonic() - started < deadline, "kill point never reached"
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL


def kill_while_writing(args: list[str], path: Path) -> bytes:
    """Kill the run in the middle of writing ``path``. Its temporary file (common.
    write_atomically writes PATH.tmp, then renames it) is made a FIFO that the test holds open,
    one page deep, and never reads: the writer blocks once that page is full and stays there
    until killed, whatever the machine's load. Then the FIFO becomes what a crash leaves, a
    partly written PATH.tmp. Returns the bytes written before the kill."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(temporary)
    reader = os.open(temporary, os.O_RDONLY | os.O_NONBLOCK)  # the writer's open won't wait
    try:
        fcntl.fcntl(reader, fcntl.F_SETPIPE_SZ, 4096)
        kill_when(args, lambda: bool(select.select([reader], [], [], 0)[0]))  # page written
        written = os.read(reader, 1 << 20)
    finally:
        os.close(reader)
    temporary.unlink()
    temporary.write_bytes(written)
    return written


@pytest.fixture(scope="module")
def baseline(feed_server: RunningServer, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    tmp_path = tmp_path_factory.mktemp("baseline")
    done = run(workspace(tmp_path, feed_server))
    assert done.returncode == 0, done.stderr
    return snapshot(tmp_path / "agenda.db")


@pytest.mark.slow
@pytest.mark.parametrize("point", ["during-fetch", "between-sources", "during-digest"])
def test_sigkill_then_rerun_equals_an_uninterrupted_run(
    point: str, feed_server: RunningServer, baseline, tmp_path: Path
) -> None:  # noqa: ANN001
    args = workspace(tmp_path, feed_server)
    db_path = tmp_path / "agenda.db"
    requests_before = sum(feed_server.stats.requests.values())
    if point == "during-fetch":  # requests have gone out, nothing stored yet
        kill_when(
            args,
            lambda: (
                sum(feed_server.stats.requests.values()) > requests_before
                and stored_sources(db_path) == 0
            ),
        )
    elif point == "between-sources":
        kill_when(args, lambda: FEEDS // 3 <= stored_sources(db_path) < FEEDS)
    else:  # collection is over, the web edition (the digest's first file) is being written
        web = tmp_path / "digests" / "2026-11-24.html"
        written = kill_while_writing(args, web)
        assert written.lower().startswith(b"<!doctype html>") and b"</html>" not in written
        assert not web.exists()  # cut mid-file: the edition was never put in place
    killed = snapshot(db_path) if db_path.exists() else (set(), set(), "ok", 0)
    assert killed[2] == "ok" and killed[3] == 0
    if killed[0]:  # every article stored before the kill is in exactly one story
        assert story_problems(sqlite3.connect(db_path)) == []
    done = run(args)
    assert done.returncode == 0, done.stderr
    urls, links, integrity, duplicates = snapshot(db_path)
    assert (integrity, duplicates) == ("ok", 0)
    assert urls == baseline[0] and len(urls) == FEEDS * ITEMS
    assert story_problems(sqlite3.connect(db_path)) == []
    assert links == baseline[1]
    statuses = [
        row[0] for row in sqlite3.connect(db_path).execute("select status from runs order by id")
    ]
    if point == "during-digest":  # the rerun writes the whole edition over the partial file
        assert "</html>" in web.read_text(encoding="utf-8") and not list(web.parent.glob("*.tmp"))
    assert statuses[-1] == "ok" and (
        statuses[:-1] == ["interrupted"]
        or point == "during-fetch"
        and statuses[:-1] in ([], ["interrupted"])
    )


@pytest.mark.slow
def test_two_runs_at_once_one_exits_3(feed_server: RunningServer, tmp_path: Path) -> None:
    """The test holds the lock itself (as a run in progress would), so nothing races: the run
    started meanwhile exits 3 naming the holder, and once the lock is free a run goes through."""
    from agenda.ops import RunLock

    args = workspace(tmp_path, feed_server)
    lock = RunLock.for_database(tmp_path / "agenda.db")
    lock.acquire()
    try:
        second = run(args)
    finally:
        lock.release()
    assert second.returncode == 3
    assert f"another agenda run is in progress (pid {os.getpid()}" in second.stderr
    assert "Traceback" not in second.stderr
    assert not (tmp_path / "agenda.db").exists() or stored_sources(tmp_path / "agenda.db") == 0
    after = run(args)
    assert after.returncode == 0, after.stderr
