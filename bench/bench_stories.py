#!/usr/bin/env python3
"""Stories at ingest: what assigning stories costs the collector, how fast the index comes back
after a restart, and how right the stories are.

Setup (built once, cached in bench/results/): a SQLite file with three days of 20,000
synthetic articles (bench_digest's generator: news-like words, one article in ten a rewrite of
another), each given its story by ``backfill_stories`` as at ingest.

Reported, all measured in this run:
  - ``ingest time with stories / without``: 100 feeds of 30 new articles each, served on loopback
    with no added latency, go through the real pipeline (``collect_and_store``: fetch, parse,
    link, store) into a copy of that database, once with story assignment and once with it
    stubbed out; five rounds alternated, the best of each (the loopback server shares the
    process, and on a shared machine single rounds of the same code spread by +-5%);
  - the index rebuilt from the stored fingerprints of the 3-day window (60,000 articles), as a
    restarted process does before its first new article;
  - ``pairs precision P, recall R`` on tests/fixtures/duplicates/ stored day by day as in
    tests/test_cluster.py, and the same without the common-word list (its effect on the gate).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_digest import article_row, insert_day, synthetic_articles  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WINDOW_DB = RESULTS / "stories-60k.db"
DAYS = [date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 23)]
NEW_DAY = date(2026, 11, 24)
PER_DAY = 20_000
FEEDS = 100
ITEMS = 30
INGEST_ROUNDS = 5


def communes() -> list[tuple[str, str]]:
    from agenda.keywords import load_keywords

    keywords = load_keywords(ROOT / "keywords")
    return [(p.code, p.name) for p in keywords.places.values() if p.kind == "commune"]


def build_window_database() -> None:
    """Three days of articles with their links and stories, as ingest leaves them."""
    import json

    from agenda.keywords import load_keywords
    from agenda.store import Store, open_database
    from agenda.store.stories import backfill_stories

    keywords = load_keywords(ROOT / "keywords")
    RESULTS.mkdir(parents=True, exist_ok=True)
    temporary = WINDOW_DB.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    db = Store(open_database(temporary)).db
    db.execute(
        "insert into sources (id, name, url, kind, region_code, enabled, error_count) values"
        " ('bench', 'Bench', 'https://x.cl', 'rss', 'national', 1, 0)"
    )
    rng = random.Random(20261121)
    article_id = 0
    for day in DAYS:
        rows, links, sources = [], [], []
        for title, summary, region, code, name in synthetic_articles(rng, communes(), PER_DAY):
            article_id += 1
            published = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) + timedelta(
                seconds=rng.randrange(40_000)
            )
            moment = published.isoformat(timespec="seconds")
            rows.append(article_row(article_id, title, summary, moment, day))
            evidence = json.dumps([{"text": name, "start": 0, "end": len(name)}])
            links += [
                (article_id, "region", region, keywords.region_name(region), evidence, 0, "[]"),
                (article_id, "commune", code, name, evidence, 0, "[]"),
            ]
            sources.append((article_id, "bench", moment))
        insert_day(db, rows, links, sources)
    with db.atomic():
        backfill_stories(db)
    db.close()
    temporary.replace(WINDOW_DB)


def write_feeds(folder: Path) -> list:
    from agenda.sources import Source

    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261124)
    made = synthetic_articles(rng, communes(), FEEDS * ITEMS)
    for feed in range(FEEDS):
        items = []
        for k in range(ITEMS):
            title, summary, *_ = made[feed * ITEMS + k]
            moment = datetime(2026, 11, 24, 12, tzinfo=UTC) + timedelta(minutes=feed + k)
            items.append(
                f"<item><title>{escape(title)}</title><link>https://medio{feed}.cl/nota/{k}</link>"
                f"<description>{escape(summary)}</description><pubDate>{format_datetime(moment)}</pubDate></item>"
            )
        (folder / f"f{feed}.xml").write_text(
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Medio {feed}</title>{''.join(items)}</channel></rss>",
            encoding="utf-8",
        )
    return [
        Source(id=f"medio{f}", name=f"Medio {f}", url="", kind="rss", region_code="national")
        for f in range(FEEDS)
    ]


def measure_ingest() -> tuple[float, float]:
    from dataclasses import replace

    from agenda.collect import FetchLimits, make_client
    from agenda.keywords import load_keywords
    from agenda.link import Linker
    from agenda.pipeline import collect_and_store
    from agenda.sampleserver import serve
    from agenda.settings import Settings
    from agenda.sources import SourceList
    from agenda.store import Store, open_database
    from agenda.store.stories import StoryKeeper

    linker = Linker(load_keywords(ROOT / "keywords"))
    real_assign = StoryKeeper.assign_many
    timings: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        sources = write_feeds(root / "feeds")
        with serve(root) as server:
            sources = [
                replace(s, url=f"{server.base_url}/feeds/f{i}.xml") for i, s in enumerate(sources)
            ]
            for _ in range(INGEST_ROUNDS):
                for with_stories in (True, False):
                    path = root / "ingest.db"
                    shutil.copy(WINDOW_DB, path)
                    StoryKeeper.assign_many = (  # type: ignore[method-assign]
                        real_assign if with_stories else (lambda self, news: [])
                    )
                    store = Store(open_database(path))

                    async def run(store: Store = store) -> None:
                        async with make_client() as client:
                            await collect_and_store(
                                SourceList(root / "sources.yaml", sources),
                                linker,
                                client,
                                store,
                                # the bench's feeds are served on loopback
                                Settings(fetch=FetchLimits(allow_private_networks=True)),
                                clock=lambda: datetime(2026, 11, 24, 23, tzinfo=UTC),
                            )

                    started = time.perf_counter()
                    asyncio.run(run())
                    timings[with_stories].append(time.perf_counter() - started)
                    assert store.count("articles") == 3 * PER_DAY + FEEDS * ITEMS
                    store.db.close()
                    path.unlink()
    StoryKeeper.assign_many = real_assign  # type: ignore[method-assign]
    return min(timings[True]), min(timings[False])


def measure_rebuild() -> tuple[float, int]:
    """A fresh Store (as a restarted process) reads the window back: best of three."""
    from agenda.store import Store, open_database

    best, loaded = float("inf"), 0
    with tempfile.TemporaryDirectory() as folder:
        # a copy: opening a database may migrate it, and the cached one must stay as built
        path = Path(folder) / "window.db"
        shutil.copy(WINDOW_DB, path)
        for _ in range(3):
            store = Store(open_database(path))
            started = time.perf_counter()
            index = store._stories.load_window(DAYS[1].isoformat())  # its window: the three days
            best = min(best, time.perf_counter() - started)
            loaded = sum(len(day) for day in index.days.values())
            store.db.close()
    return best, loaded


def measure_pairs() -> tuple[tuple[float, float], tuple[float, float]]:
    import agenda.fingerprint as fingerprint
    from agenda.keywords import load_keywords
    from agenda.link import Linker
    from agenda.store import Store, open_database
    from tests.test_cluster import load_pairs, precision_recall, stored_together

    linker = Linker(load_keywords(ROOT / "keywords"))
    pairs = load_pairs()
    figures = []
    for common in (fingerprint.COMMON_WORDS, frozenset()):
        fingerprint.COMMON_WORDS = common
        with tempfile.TemporaryDirectory() as folder:
            figures.append(
                precision_recall(
                    pairs,
                    stored_together(pairs, linker, Store(open_database(Path(folder) / "p.db"))),
                )
            )
    return figures[0], figures[1]


def main() -> int:
    if not WINDOW_DB.exists():
        started = time.perf_counter()
        build_window_database()
        print(
            f"built {WINDOW_DB.relative_to(ROOT)}: {len(DAYS) * PER_DAY:,} articles with their"
            " stories in "
            f"{time.perf_counter() - started:.0f} s (cached for later runs)"
        )
    seconds, loaded = measure_rebuild()
    print(
        f"story index rebuilt from stored fingerprints: {loaded:,} articles in {seconds:.2f} s"
        " (best of 3)"
    )
    with_stories, without = measure_ingest()
    print(
        f"ingest of {FEEDS * ITEMS:,} new articles from {FEEDS} loopback feeds"
        f" over a {len(DAYS) * PER_DAY:,}-article window: "
        f"{with_stories:.2f} s with stories, {without:.2f} s without (best of {INGEST_ROUNDS} each)"
    )
    print(f"ingest time with stories / without: {with_stories / without:.2f}x")
    (precision, recall), (plain_precision, plain_recall) = measure_pairs()
    print(f"pairs precision {precision:.3f}, recall {recall:.3f}")
    print(
        f"  (without the common-word list: precision {plain_precision:.3f}, recall"
        f" {plain_recall:.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
