"""A source's articles get their stories as one batch (``StoryIndex.assign_many``): exactly the
stories that looking each one up and indexing it before the next would give, on the labelled
pairs' texts (so on the near-duplicates the gate is measured on)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from agenda.stories import SIGNATURE_SIZE, Fingerprint, MinHasher, StoryIndex, _Day, band_keys
from tests.test_cluster import load_pairs

DAY = 740_000  # a date ordinal: the loaded day, the next two get the new articles


def texts() -> list[tuple[str, str]]:
    """Every pair's first side, then every pair's second side: the first sides of the first
    half are the loaded day, and the second sides find them there or among the new ones."""
    pairs = load_pairs()
    return [(p[side]["title"], p[side]["summary"]) for side in ("a", "b") for p in pairs]


def places(k: int) -> frozenset[str]:
    """Some articles name a region (two of three regions), some none: the region rule applies."""
    return frozenset() if k % 4 == 0 else frozenset({f"0{k % 3 + 5}"})


def counter(start: int) -> Iterator[int]:
    yield from range(start, 10**9)


def index_with_a_loaded_day(fingerprints: list[Fingerprint | None], loaded: int) -> StoryIndex:
    """An index whose first day (read back from the store: the sorted bulk) holds the first
    ``loaded`` articles, one story each, as a restarted process has it."""
    index = StoryIndex()
    kept = [k for k in range(loaded) if fingerprints[k] is not None]
    index.load_day(
        DAY,
        [k + 1 for k in kept],
        [k + 1 for k in kept],
        np.stack([fingerprints[k].signature for k in kept]).reshape(-1, SIGNATURE_SIZE),  # type: ignore[union-attr]
        [fingerprints[k].features.tobytes() for k in kept],  # type: ignore[union-attr]
        [places(k) for k in kept],
    )
    for day in (DAY + 1, DAY + 2):
        index.load_day(day, [], [], np.empty((0, SIGNATURE_SIZE), dtype=np.uint32), [], [])
    return index


def test_a_batch_fingerprints_as_one_article_at_a_time() -> None:
    hasher = MinHasher()
    many = hasher.many([*texts()[:40], ("", ""), ("de la", "y")])
    assert many[-2] is None and many[-1] is None  # no content word: cannot be compared
    for (title, summary), batched in zip(texts()[:40], many, strict=False):
        alone = hasher.of(title, summary)
        assert alone is not None and batched is not None
        assert np.array_equal(alone.signature, batched.signature)
        assert np.array_equal(alone.features, batched.features)


@pytest.mark.parametrize("batch", [1, 7, 30])
def test_a_batch_gets_the_stories_of_one_article_at_a_time(
    batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Day, "MERGE_EVERY", 50)  # merges happen between batches too
    hasher = MinHasher()
    every = texts()
    fingerprints = hasher.many(every)
    loaded = len(every) // 4
    new = range(loaded, len(every))
    days = [DAY + (k % 3) for k in new]

    alone = index_with_a_loaded_day(fingerprints, loaded)
    fresh = counter(10**6)
    expected = []
    for k, day in zip(new, days, strict=True):
        story = alone.find(fingerprints[k], places(k), day)
        story = next(fresh) if story is None else story
        alone.add(k + 1, story, fingerprints[k], places(k), day)
        expected.append(story)

    together = index_with_a_loaded_day(fingerprints, loaded)
    fresh = counter(10**6)
    got: list[int] = []
    for start in range(0, len(new), batch):
        chunk = list(new[start : start + batch])
        got += together.assign_many(
            [k + 1 for k in chunk],
            [fingerprints[k] for k in chunk],
            [places(k) for k in chunk],
            days[start : start + batch],
            lambda: next(fresh),
        )
    assert got == expected
    joined = sum(1 for story in expected if story < 10**6)  # joined a loaded article's story
    started = len({story for story in expected if story >= 10**6})
    assert joined > 50 and started < len(expected) - joined - 20  # new stories grew too


def test_merging_new_articles_keeps_the_bulk_as_one_sort_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the articles added since the last merge are sorted and inserted: the bulk is the
    (band key, slot) order of sorting every article at once, buckets oldest first."""
    monkeypatch.setattr(_Day, "MERGE_EVERY", 37)
    fingerprints = [f for f in MinHasher().many(texts()) if f is not None]
    index = index_with_a_loaded_day(fingerprints, 100)
    for number, fingerprint in enumerate(fingerprints[100:], start=101):
        index.add(number, number, fingerprint, frozenset(), DAY)
    day = index.days[DAY]
    day._merge()
    keys = band_keys(day.signatures[: len(day)]).astype(np.uint64)
    slots = np.arange(len(day), dtype=np.uint64)[:, None]
    entries = np.sort(((keys << np.uint64(32)) | slots).ravel())
    assert np.array_equal(day.sorted_keys, (entries >> np.uint64(32)).astype(np.uint32))
    assert np.array_equal(day.sorted_slots, (entries & np.uint64(0xFFFFFFFF)).astype(np.uint32))


def test_crowded_buckets_give_a_batch_the_stories_of_one_article_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Articles from a small vocabulary share band keys by the dozen: the newest
    ``CROWDED_BUCKET`` of a bucket are taken over the recent run and the batch's own rows
    together, as one lookup after another would take them."""
    from agenda.stories import CROWDED_BUCKET

    monkeypatch.setattr(_Day, "MERGE_EVERY", 120)
    rng = np.random.default_rng(20261202)
    words = [f"palabra{n}" for n in range(40)]
    bodies = [" ".join(rng.choice(words, size=10)) for _ in range(500)]
    for k in range(0, 500, 5):  # a rewrite of an earlier article, now and then
        bodies[k] = bodies[int(rng.integers(0, k + 1))] + " " + words[k % 40]
    fingerprints = MinHasher().many([(body, "") for body in bodies])
    loaded = 100
    new = range(loaded, 500)

    alone = index_with_a_loaded_day(fingerprints, loaded)
    fresh = counter(10**6)
    expected = []
    for k in new:
        story = alone.find(fingerprints[k], places(k), DAY)
        story = next(fresh) if story is None else story
        alone.add(k + 1, story, fingerprints[k], places(k), DAY)
        expected.append(story)
    day = alone.days[DAY]
    keys = np.concatenate([day.sorted_keys, day.recent_keys])
    assert np.unique(keys, return_counts=True)[1].max() > 2 * CROWDED_BUCKET  # crowded indeed

    together = index_with_a_loaded_day(fingerprints, loaded)
    fresh = counter(10**6)
    got: list[int] = []
    for start in range(0, len(new), 45):
        chunk = list(new[start : start + 45])
        got += together.assign_many(
            [k + 1 for k in chunk],
            [fingerprints[k] for k in chunk],
            [places(k) for k in chunk],
            [DAY] * len(chunk),
            lambda: next(fresh),
        )
    assert got == expected
    assert sum(1 for story in expected if story < 10**6) > 20  # some join loaded stories
