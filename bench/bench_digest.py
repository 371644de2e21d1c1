#!/usr/bin/env python3
"""The digest for a day with 20,000 articles from a database holding 1,000,000.

Builds (once, cached in bench/results/) a SQLite file through the project's own migrations with
1,000,000 synthetic articles spread over 50 days, 20,000 of them on the measured day, three links
each; about one article in ten on that day is a rewrite of another (a duplicate for the stories).
The bulk load drops the full-text triggers for speed (the digest does not read the index).

Stories: the measured day's articles get theirs as at ingest (``backfill_stories``, article by
article); the other days' articles one story each, in bulk (the digest reads only its day).

Then, in a fresh process: the whole digest as `agenda digest` makes it (``make_digest``: reading
the day's articles and their stories, the standing topics' matches, grouping by story, ranking;
then rendering HTML + text + chart) against one plain SELECT of the day's articles joined with
their links (sqlite3, fetchall). The topics find nothing here: the bulk load skips the full-text
index they search. Printed as
``digest time / bare read of the day's rows: N.NNx`` (target <= 3x).
"""

from __future__ import annotations

import itertools
import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"
DB_PATH = RESULTS / "digest-1m.db"
TOTAL = 1_000_000
DAY_ARTICLES = 20_000
DAYS = 50
DAY = date(2026, 11, 24)


def _vocabulary() -> tuple[list[str], list[int]]:
    """Words of the gold items with their frequencies: synthetic text with news-like word
    statistics."""
    counts: dict[str, int] = {}
    for line in (
        (ROOT / "tests" / "gold" / "linking.jsonl").read_text(encoding="utf-8").splitlines()
    ):
        item = json.loads(line)
        for word in (item["title"] + " " + item["text"]).split():
            word = word.strip('.,;:«»"()')
            if word.isalpha():
                counts[word] = counts.get(word, 0) + 1
    words = sorted(counts)
    return words, list(
        itertools.accumulate(counts[w] for w in words)
    )  # cumulative: rng.choices is fast


_VOCABULARY = None


def synthetic_articles(
    rng: random.Random, communes: list[tuple[str, str]], count: int, duplicate_share: float = 0.1
):
    """(title, summary, region, commune code, commune name); about one in ten rewrites another
    (a fifth of its words changed), the rest are independent draws from the vocabulary."""
    global _VOCABULARY
    if _VOCABULARY is None:
        _VOCABULARY = _vocabulary()
    words, cumulative = _VOCABULARY
    made: list[tuple[str, str, str, str, str]] = []
    for _ in range(count):
        if made and rng.random() < duplicate_share:
            title, summary, region, code, name = made[rng.randrange(len(made))]
            changed = summary.split()
            for position in rng.sample(range(len(changed)), len(changed) // 5):
                changed[position] = rng.choices(words, cum_weights=cumulative)[0]
            made.append((title + " (actualización)", " ".join(changed), region, code, name))
            continue
        code, name = rng.choice(communes)
        title = (
            " ".join(rng.choices(words, cum_weights=cumulative, k=9)).capitalize() + f" en {name}"
        )
        body = rng.choices(words, cum_weights=cumulative, k=40)
        summary = f"{' '.join(body[:20])} {rng.randrange(2, 900)} {' '.join(body[20:])} en {name}."
        made.append((title, summary, code[:2], code, name))
    return made


def article_row(article_id: int, title: str, summary: str, moment: str, day: date) -> tuple:
    """One bench article as ``insert_day`` stores it (one source, "Bench"; no text)."""
    return (
        article_id,
        f"https://bench.cl/{article_id}",
        title,
        summary,
        "",
        "Bench",
        "bench",
        "national",
        moment,
        moment,
        day.isoformat(),
    )


def insert_day(db, rows: list[tuple], links: list[tuple], sources: list[tuple]) -> None:  # noqa: ANN001
    """A day of synthetic articles in bulk, in one transaction: ``rows`` as (id, url, title,
    summary, text, outlet, source_id, source_region, published, first seen, local_date),
    ``links`` as (article_id, kind, code, name, evidence, at_risk, risk_evidence), ``sources``
    as (article_id, source_id, first seen)."""
    with db.atomic():
        db.conn.executemany(
            "insert into articles (id, url, title, summary, text, "
            "outlet, source_id, source_region, published_at_utc, "
            "first_seen_at_utc, local_date) values (?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        db.conn.executemany(
            "insert into links (article_id, kind, code, name, evidence, at_risk, risk_evidence)"
            " values (?,?,?,?,?,?,?)",
            links,
        )
        db.conn.executemany(
            "insert into article_sources (article_id, source_id, first_seen_at_utc)"
            " values (?,?,?)",
            sources,
        )


def build_database() -> None:
    from agenda.keywords import load_keywords
    from agenda.store import Store, open_database
    from agenda.store.stories import backfill_stories

    keywords = load_keywords(ROOT / "keywords")
    communes = [(p.code, p.name) for p in keywords.places.values() if p.kind == "commune"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    temporary = DB_PATH.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    store = Store(open_database(temporary))
    db = store.db
    for trigger in ("articles_ai", "articles_ad", "articles_au"):
        db.execute(f"drop trigger if exists {trigger}")
    db.execute(
        "insert into sources (id, name, url, kind, region_code, enabled, error_count) "
        "values ('bench', 'Bench', 'https://x.cl', 'rss', 'national', 1, 0)"
    )
    rng = random.Random(20261124)
    start = datetime(2026, 10, 6, 3, 0, tzinfo=UTC)
    other_per_day = (TOTAL - DAY_ARTICLES) // (DAYS - 1)
    article_id = 0
    for day_index in range(DAYS):
        day = (start + timedelta(days=day_index)).date()
        count = DAY_ARTICLES if day == DAY else other_per_day
        rows, links, sources = [], [], []
        for title, summary, region, code, name in synthetic_articles(rng, communes, count):
            article_id += 1
            published = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC) + timedelta(
                seconds=rng.randrange(86_000)
            )
            moment = published.isoformat(timespec="seconds")
            rows.append(article_row(article_id, title, summary, moment, day))
            evidence = json.dumps(
                [{"text": name, "start": title.find(name), "end": title.find(name) + len(name)}]
            )
            links += [
                (article_id, "region", region, keywords.region_name(region), evidence, 0, "[]"),
                (article_id, "commune", code, name, evidence, 0, "[]"),
                (
                    article_id,
                    "priority",
                    "infraestructura",
                    "Infraestructura y conectividad",
                    "[]",
                    0,
                    "[]",
                ),
            ]
            sources.append((article_id, "bench", published.isoformat(timespec="seconds")))
        insert_day(db, rows, links, sources)
    measured = DAY.isoformat()
    with db.atomic():
        # the other days' articles get one story each, in bulk: the digest reads only its day's
        db.execute(
            "insert into stories (id, title, url, lead_article_id, lead_link_count,"
            " first_seen_at_utc, last_seen_at_utc, first_local_date, last_local_date,"
            " article_count, outlet_count)"
            " select id, title, url, id, 3, published_at_utc, published_at_utc,"
            " local_date, local_date, 1, 1 from articles where local_date != ?",
            [measured],
        )
        db.execute("update articles set story_id = id where local_date != ?", [measured])
        db.execute(
            "insert into story_links (story_id, kind, code, name, at_risk)"
            " select l.article_id, l.kind, l.code, l.name, l.at_risk"
            " from links l join articles a on a.id = l.article_id where a.local_date != ?",
            [measured],
        )
        db.execute(
            "insert into story_outlets (story_id, outlet)"
            " select id, 'Bench' from articles where local_date != ?",
            [measured],
        )
    started = time.perf_counter()
    backfill_stories(db)  # the measured day: stories assigned as at ingest, article by article
    print(
        f"stories of the measured day assigned in {time.perf_counter() - started:.0f} s", flush=True
    )
    db.close()
    temporary.replace(DB_PATH)


def measure_digest() -> dict[str, float]:
    """Runs in its own process: the whole digest (read, group by story, rank, HTML with its
    inline chart + text) against one plain SELECT of the day's articles joined with their links
    (fetchall), alternated three times; the best of each."""
    import sqlite3

    from agenda.keywords import load_keywords
    from agenda.reports.digest import make_digest, render_html, render_text
    from agenda.store import Store, open_database

    keywords = load_keywords(ROOT / "keywords")
    store = Store(open_database(DB_PATH))

    def digest_once() -> tuple[float, float, int, int]:
        started = time.perf_counter()
        stories, digest = make_digest(store, keywords, DAY)  # as `agenda digest` makes it
        built = time.perf_counter()
        render_html(digest), render_text(digest)  # the web edition draws its chart itself
        return time.perf_counter() - started, built - started, stories.article_count, len(
            stories.stories
        )

    def bare_once() -> float:
        connection = sqlite3.connect(DB_PATH)
        started = time.perf_counter()
        connection.execute(
            "select a.id, a.url, a.title, a.summary, a.outlet, a.published_at_utc, a.story_id,"
            " l.kind, l.code, l.name, l.at_risk, l.risk_evidence"
            " from articles a join links l on l.article_id = a.id where a.local_date = ?",
            [DAY.isoformat()],
        ).fetchall()
        elapsed = time.perf_counter() - started
        connection.close()
        return elapsed

    bare_once()  # the day's pages into the page cache, for both
    digests, bares = [], []
    for _ in range(3):
        digests.append(digest_once())
        bares.append(bare_once())
    best = min(digests)
    return {
        "articles": best[2],
        "stories": best[3],
        "digest_seconds": best[0],
        "build_seconds": best[1],
        "bare_seconds": min(bares),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        print(json.dumps(measure_digest()))
        return 0
    if not DB_PATH.exists():
        started = time.perf_counter()
        build_database()
        print(
            f"built {DB_PATH.relative_to(ROOT)} with {TOTAL:,} articles in "
            f"{time.perf_counter() - started:.0f} s (cached for later runs)"
        )
    done = subprocess.run(
        [sys.executable, __file__, "--measure"], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"digest of {result['articles']:,} articles ({result['stories']:,} "
        f"stories) from a {TOTAL:,}-article database:"
    )
    print(
        f"  digest {result['digest_seconds']:.2f} s (of which reading, grouping and ranking "
        f"{result['build_seconds']:.2f} s, the rest rendering); "
        f"bare read {result['bare_seconds']:.2f} s; peak RSS "
        f"{result['peak_rss_mb']:.0f} MB (best of 3 each)"
    )
    print(
        "digest time / bare read of the day's rows: "
        f"{result['digest_seconds'] / result['bare_seconds']:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
