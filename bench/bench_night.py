#!/usr/bin/env python3
"""A night of 50,000 articles from 500 sources, end to end, as `agenda run` does it.

500 RSS feeds of 100 items each (synthetic Spanish news text with the gold items' word
statistics, places from the gazetteer) served on loopback; one `agenda run` process collects,
links, stores, writes the digest and queues/sends the e-mail to the file outbox. Reports the
wall time of each stage (from the run's own record) and the run process's peak RSS.
"""

from __future__ import annotations

import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCES = 500
ITEMS = 100
RSS_TARGET_MB = 500


def write_feeds(folder: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_digest import synthetic_articles  # same synthetic text as the digest bench

    from agenda.keywords import load_keywords

    keywords = load_keywords(ROOT / "keywords")
    communes = [(p.code, p.name) for p in keywords.places.values() if p.kind == "commune"]
    rng = random.Random(500)
    (folder / "feeds").mkdir(parents=True)
    for feed in range(SOURCES):
        items = []
        for number, (title, summary, *_rest) in enumerate(
            synthetic_articles(rng, communes, ITEMS, duplicate_share=0.05)
        ):
            minute = rng.randrange(60)
            items.append(
                f"<item><title>{escape(title)}</title><link>https://medio{feed}.cl/{number}</link>"
                f"<guid>https://medio{feed}.cl/{number}</guid>"
                f"<description>{escape(summary)}</description>"
                "<pubDate>Tue, 24 Nov 2026 "
                f"{6 + number % 16:02d}:{minute:02d}:00 -0300</pubDate></item>"
            )
        (folder / "feeds" / f"m{feed}.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Medio {feed}</title>{''.join(items)}</channel></rss>",
            encoding="utf-8",
        )


def main() -> int:
    from agenda.sampleserver import serve

    sys.path.insert(0, str(ROOT / "bench"))
    with tempfile.TemporaryDirectory(prefix="agenda-night-") as temporary:
        work = Path(temporary)
        write_feeds(work / "site")
        with serve(work / "site") as server:
            lines = ["sources:"]
            for feed in range(SOURCES):
                lines += [
                    f"  - id: medio-{feed}",
                    f"    name: Medio {feed}",
                    f"    url: {server.base_url}/feeds/m{feed}.xml",
                    "    kind: rss",
                    "    region: national",
                ]
            (work / "sources.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
            # one loopback host stands for 500 outlets: lift the per-host cap to the global one
            (work / "agenda.yaml").write_text(
                f"mail:\n  outbox: {work / 'outbox'}\nfetch:\n  concurrency: 16\n"
                "  per_host: 16\n  allow_private_networks: true\n",
                encoding="utf-8",
            )
            started = time.perf_counter()
            done = subprocess.run(
                [
                    str(Path(sys.executable).parent / "agenda"),
                    "run",
                    "--sources",
                    str(work / "sources.yaml"),
                    "--db",
                    str(work / "agenda.db"),
                    "--digests",
                    str(work / "digests"),
                    "--config",
                    str(work / "agenda.yaml"),
                    "--keywords",
                    str(ROOT / "keywords"),
                    "--date",
                    "2026-11-24",
                ],
                capture_output=True,
                text=True,
            )
            wall = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-2000:])
            return 1
        db = sqlite3.connect(work / "agenda.db")
        counts = json.loads(
            db.execute("select counts from runs order by id desc limit 1").fetchone()[0]
        )
        articles = db.execute("select count(*) from articles").fetchone()[0]
        db.close()
    print(
        f"night of {articles:,} articles from {SOURCES} "
        f"sources, one `agenda run` process, wall {wall:.1f} s:"
    )
    for key in ("seconds_linker_setup", "seconds_collect_link_store", "seconds_digest_and_send"):
        print(
            f"  {key.removeprefix('seconds_').replace('_', ' ')}: "
            f"{counts.get(key, float('nan')):.1f} s "
            f"({counts.get(key, 0) / wall:.0%} of the wall time)"
        )
    print(
        "  process start-up and the rest: "
        f"{wall - sum(counts.get(k, 0) for k in counts if k.startswith('seconds_')):.1f} s"
    )
    print(
        f"  throughput: {articles / counts['seconds_collect_link_store']:,.0f} "
        "articles/s through collect+link+store"
    )
    print(
        f"  peak RSS of the run process: {peak_mb:.0f} MB (target <= "
        f"{RSS_TARGET_MB} MB): {'met' if peak_mb <= RSS_TARGET_MB else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
