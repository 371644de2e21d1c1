"""Near-duplicate stories measured on the labelled pairs written for the project
(tests/fixtures/duplicates/: wire copies, rewrites, updates, retitled stories, stories followed
over days; and hard non-duplicates: same place and topic, different event).

Measured the way stories are made: every article is stored through ``Store.record_fetch``, day
by day, one outlet's articles at a time, with the real linker's links (so the region rule
applies); a pair counts as "together" when both articles ended in the same story. A false merge
across pairs counts too. `pytest -s tests/test_cluster.py` prints the figures.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agenda.collect import FetchResult
from agenda.extract import Article
from agenda.link import Linker
from agenda.sources import Source
from agenda.store import Store
from agenda.store.schema import open_database

PAIRS = Path(__file__).resolve().parent / "fixtures" / "duplicates" / "pairs.jsonl"
MINIMUM_PRECISION = 0.97
MINIMUM_RECALL = 0.90
FIRST_DAY = datetime(2026, 11, 2, 14, tzinfo=UTC)  # a Monday, 11:00 in Santiago
SPREAD_DAYS = 5  # the pairs are spread over a working week


def load_pairs() -> list[dict]:
    return [
        json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def stored_together(pairs: list[dict], linker: Linker, store: Store) -> list[bool]:
    """Store both sides of every pair as a week of ingest and say, per pair, whether they share
    a story. Pair i's first side is published on day i mod 5; its second side the same day, or
    ``days_apart`` days later (an update is published the next day)."""
    plan: dict[int, list[tuple[str, int, dict]]] = {}  # day -> (outlet, position, article)
    for number, pair in enumerate(pairs):
        day = number % SPREAD_DAYS
        later = pair.get("days_apart", 1 if pair["kind"] == "update" else 0)
        for side, offset in (("a", 0), ("b", later)):
            plan.setdefault(day + offset, []).append(
                (pair[side]["outlet"], 2 * number + (side == "b"), pair[side])
            )
    rng = random.Random(20261102)
    url_of: dict[int, str] = {}
    for day in sorted(plan):
        by_outlet: dict[str, list[tuple[int, dict]]] = {}
        for outlet, position, side in plan[day]:
            by_outlet.setdefault(outlet, []).append((position, side))
        outlets = sorted(by_outlet)
        rng.shuffle(outlets)  # outlets finish in no particular order
        for outlet in outlets:
            source = Source(
                id=f"s{abs(hash(outlet)) % 10**8}",
                name=outlet,
                url=f"https://{len(outlet)}.cl/feed",
                kind="rss",
                region_code="national",
            )
            store.sync_sources([source])
            articles = []
            for position, side in by_outlet[outlet]:
                url_of[position] = f"https://medio.cl/{position}"
                moment = FIRST_DAY + timedelta(days=day, minutes=position % 300)
                articles.append(
                    Article(
                        url=url_of[position],
                        title=side["title"],
                        summary=side["summary"],
                        source_id=source.id,
                        outlet=outlet,
                        source_region="national",
                        published_at_utc=moment,
                    )
                )
            links = [linker.link(a.link_text()) for a in articles]
            store.record_fetch(
                FetchResult(source, "ok"),
                articles,
                links,
                now=FIRST_DAY + timedelta(days=day, hours=8),
            )
    story = {
        row["url"]: row["story_id"] for row in store.db.query("select url, story_id from articles")
    }
    return [story[url_of[2 * i]] == story[url_of[2 * i + 1]] for i in range(len(pairs))]


def precision_recall(pairs: list[dict], together: list[bool]) -> tuple[float, float]:
    true_positives = sum(
        1 for pair, same in zip(pairs, together, strict=True) if same and pair["duplicate"]
    )
    false_positives = sum(
        1 for pair, same in zip(pairs, together, strict=True) if same and not pair["duplicate"]
    )
    false_negatives = sum(
        1 for pair, same in zip(pairs, together, strict=True) if not same and pair["duplicate"]
    )
    return true_positives / (true_positives + false_positives), true_positives / (
        true_positives + false_negatives
    )


def test_pairs_precision_and_recall(linker: Linker, tmp_path: Path) -> None:
    pairs = load_pairs()
    assert len({p["id"] for p in pairs}) == len(pairs) >= 300
    assert any(p.get("days_apart") for p in pairs if p["duplicate"]) and any(
        p.get("days_apart") for p in pairs if not p["duplicate"]
    )
    together = stored_together(pairs, linker, Store(open_database(tmp_path / "pairs.db")))
    precision, recall = precision_recall(pairs, together)
    print(f"duplicate pairs: precision {precision:.3f}, recall {recall:.3f}")
    for pair, same in zip(pairs, together, strict=True):
        if same != pair["duplicate"]:
            print("  wrong:", pair["id"], pair["kind"], pair["a"]["title"], "|", pair["b"]["title"])
    assert precision >= MINIMUM_PRECISION and recall >= MINIMUM_RECALL
    wire = [same for pair, same in zip(pairs, together, strict=True) if pair["kind"] == "wire"]
    assert all(wire)  # agency copies always merge
