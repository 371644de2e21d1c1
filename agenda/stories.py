"""Stories: which stored articles tell the same news. Pure (numpy only); the store uses it.

Each article gets a fingerprint (``agenda.fingerprint``): its word features (title + summary)
and a MinHash signature of them. An incremental LSH index over the articles of a few days
finds, for a new article, the ones that share a band of its signature (the cost of a look-up
grows with the few candidates, not with the number of articles). A candidate is accepted when
the exact Jaccard similarity of the two feature sets passes the threshold (the 128-value
estimate errs by +-0.04 right where the decision is made), the two do not name different
regions or different communes, and the new article is as alike the story's first article in
the window (no chaining from one event to the next).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

# the fingerprints are made in agenda.fingerprint; the store reads these names from here
from agenda.fingerprint import SIGNATURE_SIZE, Fingerprint, MinHasher, jaccard

__all__ = ["SIGNATURE_SIZE", "Fingerprint", "MinHasher", "jaccard"]

BANDS = 64  # 64 bands of 2 rows: a pair at 0.25 similarity becomes a candidate 98% of the time
# Chosen on the first 300 pairs of tests/fixtures/duplicates/ stored day by day (as in
# tests/test_cluster.py), over a grid of names 2..3 x numbers 2..6 x threshold 0.15..0.30: at
# threshold 0.23 / 0.24 / 0.25 / 0.26 precision 0.947 / 0.966 / 0.972 / 0.972 and recall
# 0.947 / 0.947 / 0.940 / 0.913 (a leader factor of 0.75 instead of 1.0 lost 0.006 precision).
SIMILARITY_THRESHOLD = 0.25
LEADER_FACTOR = 1.0  # a new article must be this alike (x threshold) the story's first article
PREFILTER_MARGIN = 0.08  # exact checks only where the signature estimate is within 3 sigma
MAX_EXACT_CHECKS = 8  # of the most alike by the estimate: a template repeated all day has hundreds
# A band bucket this full holds boilerplate shared by many articles ("Síguenos en…"), not one
# story: only its newest members are compared.
CROWDED_BUCKET = 20
DEFAULT_WINDOW_DAYS = 3
# The links whose codes say where (and about what) an event happened: two articles that name codes
# of these kinds, none in common at some level, are about two events (a fire in Licantén, another
# in Vichuquén; the works of one commitment stalled, and those of another).
PLACE_KINDS: tuple[str, ...] = ("region", "commune", "commitment")


def _level(code: str) -> int:
    """2 for a region code, 5 for a commune code, 0 for a commitment id."""
    return len(code) if code.isdigit() else 0


def compatible(left: frozenset[str], right: frozenset[str]) -> bool:
    """Two sets of codes allow one story: at each level (regions "06", communes "06101",
    commitment ids), either side names none, or they share one.

    >>> compatible(frozenset({"06", "06101"}), frozenset({"06"}))
    True
    >>> compatible(frozenset({"06"}), frozenset({"13"}))
    False
    >>> compatible(frozenset({"hospital-buin"}), frozenset({"hospital-rengo"}))
    False
    """
    if not left or not right or left == right:
        return True
    for level in (2, 5, 0):
        mine = {code for code in left if _level(code) == level}
        theirs = {code for code in right if _level(code) == level}
        if mine and theirs and mine.isdisjoint(theirs):
            return False
    return True


_BAND_MULTIPLIERS = np.array([0x9E3779B1, 0x85EBCA77], dtype=np.uint32)
_BAND_SALT = (np.arange(BANDS, dtype=np.uint32) + np.uint32(1)) * np.uint32(0xC2B2AE3D)
_LOW = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """One 31-bit key per band of each signature (rows x BANDS, uint32: key + 1 never wraps).

    Two signatures that agree on a band's rows get the same key; different rows share a key
    by chance (the candidate is then dismissed by its similarity, at the cost of one check).
    uint32 arithmetic wraps on purpose: a multiplicative hash, and half the memory traffic of
    uint64 when a day of 20,000 signatures is indexed at start-up."""
    rows = signatures.reshape(len(signatures), BANDS, -1)
    # in place: a day's keys are 5 MB, and each fresh temporary of that size is paid in page
    # faults as much as in arithmetic
    mixed = rows[:, :, 0] * _BAND_MULTIPLIERS[0]
    mixed += rows[:, :, 1] * _BAND_MULTIPLIERS[1]
    mixed += _BAND_SALT
    mixed >>= np.uint32(1)
    return mixed


class _Probes(NamedTuple):
    """A batch's band keys as each day of the window searches them: ``keys`` (rows x BANDS),
    all of them in ascending order (each search starts near the last) and the row of each.
    Sorted once for the batch, not once per day searched."""

    keys: np.ndarray
    ascending: np.ndarray
    rows: np.ndarray


def _probes(signatures: np.ndarray) -> _Probes:
    keys = band_keys(signatures)
    flat = keys.ravel()
    order = np.argsort(flat, kind="stable")
    return _Probes(keys, flat[order], order // BANDS)


# what a day's search gives a batch: where each row's candidates start (one more than rows),
# their slots by row then slot, their signature estimates
_Candidates = tuple[list[int], np.ndarray, np.ndarray]


def _inserted(
    keys: np.ndarray, slots: np.ndarray, new_keys: np.ndarray, new_slots: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A sorted run of (key, slot) with newer sorted entries inserted after the equal keys
    already there (their slots are older: a bucket stays by slot)."""
    if not keys.size:
        return new_keys, new_slots
    at = np.searchsorted(keys, new_keys, side="right")
    return np.insert(keys, at, new_keys), np.insert(slots, at, new_slots)


def _last_of_ranges(ends: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The positions of the last ``counts[i]`` entries before ``ends[i]``, for every i."""
    total = int(counts.sum())
    starts = np.repeat(ends - counts, counts)
    return starts + np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


def _key_ranges(sorted_keys: np.ndarray, probes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of the sorted ``probes`` starts and ends in ``sorted_keys`` (non-empty). The
    end is searched only for the keys found there (most bands of a new article match nothing),
    and a key + 1 never wraps (keys are 31-bit)."""
    low = np.searchsorted(sorted_keys, probes)
    found = np.flatnonzero(sorted_keys[np.minimum(low, sorted_keys.size - 1)] == probes)
    high = low.copy()
    high[found] = np.searchsorted(sorted_keys, probes[found] + np.uint32(1))
    return low, high


def _by_row(
    rows: int, owners: np.ndarray, slots: np.ndarray, estimates: np.ndarray, size: int
) -> _Candidates:
    """Candidate pairs (owner row, slot < ``size``) kept once each, by row then slot, with
    where each row's start: what a day's search gives a batch."""
    pairs, first = np.unique(owners * size + slots, return_index=True)
    bounds = np.searchsorted(pairs // size, np.arange(rows + 1)).tolist()
    return bounds, pairs % size, estimates[first]


def _no_candidates(rows: int) -> _Candidates:
    return [0] * (rows + 1), np.empty(0, dtype=np.int64), np.empty(0)


_NO_ROWS = np.empty(0, dtype=np.int64)
_NO_ROWS.flags.writeable = False  # shared: a look-up with no batch of its own
_PAIRS_AT_ONCE = 16384  # candidate pairs compared in one step: 2 MB of gathered low bytes


class _Day:
    """The indexed articles of one day, their band keys in two sorted runs of (band key, slot):
    the bulk (a day read back from the store, then every ``MERGE_EVERY`` articles) and the recent
    run (the articles added since, inserted after each batch: small, so cheap to insert into).
    Both are searched with numpy, a batch at a time: no Python work per band key."""

    MERGE_EVERY = 2000

    def __init__(self) -> None:
        self.article_ids: list[int] = []
        self.story_ids: list[int] = []
        self.places: list[frozenset[str]] = []
        self.features: list[bytes] = []  # sorted uint32 feature hashes, as stored
        self.signatures = np.empty((0, SIGNATURE_SIZE), dtype=np.uint32)  # grows by doubling
        self.low = np.empty((0, SIGNATURE_SIZE), dtype=np.uint8)  # their low bytes: a pre-filter
        # band keys sorted, and the slot of each: half the bytes of (key, slot) pairs to search
        self.sorted_keys = np.empty(0, dtype=np.uint32)
        self.sorted_slots = np.empty(0, dtype=np.uint32)
        self.recent_keys = np.empty(0, dtype=np.uint32)
        self.recent_slots = np.empty(0, dtype=np.uint32)
        self.merged = 0  # slots below this are in the bulk
        self.indexed = 0  # slots below this are in the bulk or the recent run
        self.first_of_story: dict[int, int] = {}  # story -> its first slot (lowest article id)
        self.slot_of: dict[int, int] = {}  # article -> slot

    def __len__(self) -> int:
        return len(self.article_ids)

    def _append(
        self,
        article_ids: list[int],
        story_ids: list[int],
        signatures: np.ndarray,
        features: list[bytes],
        places: list[frozenset[str]],
    ) -> int:
        start = len(self.article_ids)
        needed = start + len(article_ids)
        if needed > len(self.signatures):
            size = max(needed, 2 * len(self.signatures), 64)
            grown = np.empty((size, SIGNATURE_SIZE), dtype=np.uint32)
            grown[:start] = self.signatures[:start]
            grown_low = np.empty((size, SIGNATURE_SIZE), dtype=np.uint8)
            grown_low[:start] = self.low[:start]
            self.signatures, self.low = grown, grown_low
        self.signatures[start:needed] = signatures
        self.low[start:needed] = signatures.astype(np.uint8)  # the low byte of each value
        self.features += features
        self.article_ids += article_ids
        self.story_ids += story_ids
        self.places += places
        return start

    def add(
        self, article_id: int, story_id: int, fingerprint: Fingerprint, places: frozenset[str]
    ) -> None:
        """One article: a candidate for the rest of its batch at once (``young_candidates``),
        in the recent run after it (``index_new``)."""
        slot = self._append(
            [article_id],
            [story_id],
            fingerprint.signature[None, :],
            [fingerprint.features.tobytes()],  # bytes: 80 bytes less than an array, per article
            [places],
        )
        self.slot_of[article_id] = slot
        known = self.first_of_story.get(story_id)
        if known is None or article_id < self.article_ids[known]:
            self.first_of_story[story_id] = slot

    def add_many(
        self,
        article_ids: list[int],
        story_ids: list[int],
        signatures: np.ndarray,
        features: list[bytes],
        places: list[frozenset[str]],
    ) -> None:
        """Bulk load of a day read back from the database into an empty ``_Day``, its articles
        by ascending id: one sort, the slot maps built in C, no Python step per article (a day
        has 20,000); the feature sets stay bytes until a check needs one."""
        slots = range(
            self._append(article_ids, story_ids, signatures, list(features), places),
            len(self.article_ids),
        )
        self.slot_of.update(zip(article_ids, slots, strict=True))
        # by ascending id a story's first slot is its first occurrence: written in reverse, the
        # first is written last and stays
        self.first_of_story.update(zip(reversed(story_ids), reversed(slots), strict=True))
        self._merge()

    def _merge(self) -> None:
        """Move every slot added since the last merge into the bulk: only the new entries are
        sorted, then inserted (re-sorting a day of 50,000 articles every 2,000 cost seconds over
        a night, and 100 MB of temporaries at its end)."""
        start, count = self.merged, len(self.article_ids)
        self.recent_keys, self.recent_slots = self.recent_keys[:0], self.recent_slots[:0]
        self.merged = self.indexed = count
        if count > start:
            self.sorted_keys, self.sorted_slots = _inserted(
                self.sorted_keys, self.sorted_slots, *self._sorted_entries(start, count)
            )

    def index_new(self) -> None:
        """After a batch: its articles go into the recent run; every ``MERGE_EVERY`` articles,
        all of them since the last merge go into the bulk."""
        count = len(self.article_ids)
        if count - self.merged >= self.MERGE_EVERY:
            self._merge()
        elif count > self.indexed:
            self.recent_keys, self.recent_slots = _inserted(
                self.recent_keys, self.recent_slots, *self._sorted_entries(self.indexed, count)
            )
            self.indexed = count

    def _sorted_entries(self, start: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The band keys of slots [start, count) and their slots, by key then slot. One 64-bit
        array (key, slot) sorted and split in place: a day read back has 1.3 million entries, and
        every fresh temporary of 10 MB costs its page faults."""
        entries = band_keys(self.signatures[start:count]).astype(np.uint64)
        entries <<= _SHIFT
        entries |= np.arange(start, count, dtype=np.uint64)[:, None]
        entries = entries.ravel()
        entries.sort()
        slots = entries.astype(np.uint32)  # the low half
        entries >>= _SHIFT
        return entries.astype(np.uint32), slots

    def bulk_candidates(
        self, probes: _Probes, signatures: np.ndarray, least: float
    ) -> tuple[list[int], np.ndarray, np.ndarray]:
        """For several articles (their band keys and signatures), the slots of
        the sorted bulk that share a band key with each (the newest few of a crowded bucket)
        and whose signature estimate is at least ``least``: (where each row's slots start in
        the two arrays, one more than rows; slots, by row then slot; their estimates). One
        search and one comparison for a source's whole batch."""
        rows = len(probes.keys)
        if not self.sorted_keys.size or not probes.keys.size:
            return _no_candidates(rows)
        low, high = _key_ranges(self.sorted_keys, probes.ascending)
        counts = np.minimum(high - low, CROWDED_BUCKET)
        total = int(counts.sum())
        if not total:
            return _no_candidates(rows)
        # the last ``counts`` entries of each matching range, gathered in one step
        slots = self.sorted_slots[_last_of_ranges(high, counts)].astype(np.int64)
        owners = np.repeat(probes.rows, counts).astype(np.int64)
        # First on the low bytes of the signatures: they agree wherever the values do, so a
        # pair below ``least`` on them is below on the values (99% of the pairs of crowded
        # buckets), at a quarter of the memory traffic. A chunk at a time: a batch of 100
        # articles has 100,000 pairs, and gathering all their signatures at once took 100 MB.
        # Estimated before de-duplication: sorting every pair cost more than the few repeats.
        low_bytes = signatures.astype(np.uint8)
        # counted in uint8 (a third of a float mean's time); ``need`` agrees equal in the
        # estimate's own terms (count / SIGNATURE_SIZE >= least)
        need = next((c for c in range(SIGNATURE_SIZE + 1) if c / SIGNATURE_SIZE >= least), 255)
        kept = []
        for start in range(0, total, _PAIRS_AT_ONCE):
            part = slice(start, start + _PAIRS_AT_ONCE)
            agree = self.low[slots[part]] == low_bytes[owners[part]]
            kept.append(start + np.flatnonzero(agree.sum(axis=1, dtype=np.uint8) >= need))
        maybe = np.concatenate(kept)
        slots, owners = slots[maybe], owners[maybe]
        estimates = (self.signatures[slots] == signatures[owners]).mean(axis=1)
        near = estimates >= least
        return _by_row(rows, owners[near], slots[near], estimates[near], len(self.article_ids))

    def young_candidates(
        self, probes: _Probes, signatures: np.ndarray, members: np.ndarray, least: float
    ) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Like ``bulk_candidates``, among the younger articles: the recent run, and the rows
        of the batch itself that join this day (``members``, ascending: they get the next
        slots, in order) before each row. A crowded bucket gives its newest ``CROWDED_BUCKET``
        over both, as when each article was looked up after the one before was indexed."""
        rows = len(probes.keys)
        if not (self.recent_keys.size or members.size) or not rows:
            return _no_candidates(rows)
        base = len(self.article_ids)  # the members' first slot
        flat, probe_rows = probes.ascending, probes.rows
        # the batch's own: each member's keys, by (key, member number); a probe meets the
        # members before its row, and the newest of those first
        own_low = own_high = np.zeros(flat.size, dtype=np.int64)
        own_entries = np.empty(0, dtype=np.uint64)
        if members.size:
            numbers = np.arange(members.size, dtype=np.uint64)[:, None]
            own_entries = np.sort(
                ((probes.keys[members].astype(np.uint64) << _SHIFT) | numbers).ravel()
            )
            wanted = flat.astype(np.uint64) << _SHIFT
            before = np.searchsorted(members, probe_rows).astype(np.uint64)
            own_low = np.searchsorted(own_entries, wanted)
            own_high = np.searchsorted(own_entries, wanted | before)
        own = np.minimum(own_high - own_low, CROWDED_BUCKET)
        recent = np.zeros(flat.size, dtype=np.int64)
        recent_high = recent
        if self.recent_keys.size:
            recent_low, recent_high = _key_ranges(self.recent_keys, flat)
            recent = np.minimum(recent_high - recent_low, CROWDED_BUCKET - own)
        own_slots = (own_entries[_last_of_ranges(own_high, own)] & _LOW).astype(np.int64)
        slots = np.concatenate(
            [
                self.recent_slots[_last_of_ranges(recent_high, recent)].astype(np.int64),
                base + own_slots,
            ]
        )
        owners = np.concatenate([np.repeat(probe_rows, recent), np.repeat(probe_rows, own)])
        if not owners.size:
            return _no_candidates(rows)
        recent_count = int(recent.sum())
        others = np.concatenate(
            [self.signatures[slots[:recent_count]], signatures[members[own_slots]]]
        )
        estimates = (others == signatures[owners]).mean(axis=1)
        near = estimates >= least
        return _by_row(rows, owners[near], slots[near], estimates[near], base + members.size)


class StoryIndex:
    """The articles of some days, by day, for finding the story a new article belongs to.

    The store loads the days a new article's window needs (``missing_days``, ``load_day``),
    then gives a source's new articles their stories with ``assign_many`` (``find`` and ``add``
    do it for one article); ``forget_days_before`` bounds memory.
    """

    def __init__(
        self, window_days: int = DEFAULT_WINDOW_DAYS, threshold: float = SIMILARITY_THRESHOLD
    ) -> None:
        self.window_days = window_days
        self.threshold = threshold
        self.days: dict[int, _Day] = {}  # date ordinal -> its articles

    def window(self, day: int) -> range:
        """The days an article of ``day`` may share a story with (date ordinals)."""
        return range(day - self.window_days + 1, day + self.window_days)

    def missing_days(self, day: int) -> list[int]:
        return [d for d in self.window(day) if d not in self.days]

    def load_day(
        self,
        day: int,
        article_ids: list[int],
        story_ids: list[int],
        signatures: np.ndarray,
        features: list[bytes],
        places: list[frozenset[str]],
    ) -> None:
        """Index a day read back from the store (possibly empty: then it is known to be empty):
        ``signatures`` one row per article, ``features`` as ``Fingerprint.to_bytes`` gave them."""
        entry = self.days[day] = _Day()
        if article_ids:
            entry.add_many(article_ids, story_ids, signatures, features, places)

    def forget_days_before(self, day: int) -> None:
        for known in [d for d in self.days if d < day]:
            del self.days[known]

    def find(self, fingerprint: Fingerprint | None, places: frozenset[str], day: int) -> int | None:
        """The story a new article of ``day`` joins, or None for a new story (``assign_many``
        for one article that is not indexed afterwards)."""
        if fingerprint is None:
            return None
        signatures = fingerprint.signature[None, :]
        probes = _probes(signatures)
        least = self.threshold - PREFILTER_MARGIN
        candidates = {
            d: (
                entry.bulk_candidates(probes, signatures, least),
                entry.young_candidates(probes, signatures, _NO_ROWS, least),
            )
            for d, entry in self._window_days(day)
        }
        return self._find(fingerprint, places, day, 0, candidates)

    def assign_many(
        self,
        article_ids: list[int],
        fingerprints: list[Fingerprint | None],
        places: list[frozenset[str]],
        days: list[int],
        new_story: Callable[[], int],
    ) -> list[int]:
        """The story of each new article, in order (a story started by ``new_story()`` when it
        joins none), each indexed before the next is looked up: the stories are those of
        ``find`` then ``add`` one article at a time, but each day of the window is searched once
        for the whole batch (numpy calls cost per call, not per probe)."""
        rows = [k for k, fingerprint in enumerate(fingerprints) if fingerprint is not None]
        signatures = (
            np.stack([fingerprints[k].signature for k in rows])  # type: ignore[union-attr]
            if rows
            else np.empty((0, SIGNATURE_SIZE), dtype=np.uint32)
        )
        probes = _probes(signatures)
        row_of = {k: row for row, k in enumerate(rows)}
        least = self.threshold - PREFILTER_MARGIN
        # a batch's articles share their days: each day is searched once, its young articles
        # with the batch's own rows that join it
        candidates: dict[int, tuple[_Candidates, _Candidates]] = {}
        for ordinal in sorted({d for k in rows for d in self.window(days[k])}):
            entry = self.days.get(ordinal)
            if entry is not None:
                members = np.array([row_of[k] for k in rows if days[k] == ordinal], dtype=np.int64)
                candidates[ordinal] = (
                    entry.bulk_candidates(probes, signatures, least),
                    entry.young_candidates(probes, signatures, members, least),
                )
        stories = []
        for k, (article_id, fingerprint) in enumerate(zip(article_ids, fingerprints, strict=True)):
            story_id = None
            if fingerprint is not None:
                story_id = self._find(fingerprint, places[k], days[k], row_of[k], candidates)
            if story_id is None:
                story_id = new_story()
            stories.append(story_id)
            entry = self.days.get(days[k])
            if entry is not None and fingerprint is not None:
                entry.add(article_id, story_id, fingerprint, places[k])
        for ordinal in set(days):
            if ordinal in self.days:
                self.days[ordinal].index_new()
        return stories

    def _window_days(self, day: int) -> list[tuple[int, _Day]]:
        return [(d, self.days[d]) for d in self.window(day) if d in self.days and len(self.days[d])]

    def _find(
        self,
        fingerprint: Fingerprint,
        places: frozenset[str],
        day: int,
        row: int,
        candidates: dict[int, tuple[_Candidates, _Candidates]],
    ) -> int | None:
        """Among the window's articles that share a band, those alike enough and not about other
        places; of their stories, those whose first article (in the window) is also alike and
        compatible; the story of the most similar article wins. ``candidates[day]``: the batch's
        near candidates in each day's bulk and among its younger articles (``_Day``)."""
        scored: list[tuple[float, int, _Day]] = []
        window = self._window_days(day)
        for ordinal, entry in window:
            for bounds, slots, estimates in candidates.get(ordinal, ()):
                low, high = bounds[row], bounds[row + 1]
                if low == high:  # most rows meet nothing in most days: no slicing for them
                    continue
                scored += zip(
                    estimates[low:high].tolist(),
                    slots[low:high].tolist(),
                    [entry] * (high - low),
                    strict=True,
                )
        if not scored:
            return None
        tried: set[int] = set()
        checks = 0
        entries = [entry for _, entry in window]
        # the most alike first (by the estimate), checked exactly: its story is the one to join
        for _, slot, entry in sorted(scored, key=lambda match: -match[0]):
            story_id = entry.story_ids[slot]
            if story_id in tried or not compatible(places, entry.places[slot]):
                continue
            checks += 1
            if checks > MAX_EXACT_CHECKS:
                break
            if jaccard(fingerprint.features, entry.features[slot]) < self.threshold:
                continue
            tried.add(story_id)
            first_places, first_features = self._first_article(story_id, entries)
            alike_first = (
                jaccard(fingerprint.features, first_features) >= self.threshold * LEADER_FACTOR
            )
            if alike_first and compatible(places, first_places):
                return story_id
        return None

    @staticmethod
    def _first_article(
        story_id: int, window: list[_Day]
    ) -> tuple[frozenset[str], np.ndarray | bytes]:
        """Places and features of the story's first article within the window."""
        first: tuple[int, _Day, int] | None = None
        for entry in window:
            slot = entry.first_of_story.get(story_id)
            if slot is not None and (first is None or entry.article_ids[slot] < first[0]):
                first = (entry.article_ids[slot], entry, slot)
        assert first is not None  # the story has the candidate article, at least
        _, entry, slot = first
        return entry.places[slot], entry.features[slot]

    def add(
        self,
        article_id: int,
        story_id: int,
        fingerprint: Fingerprint | None,
        places: frozenset[str],
        day: int,
    ) -> None:
        """Index a stored article (one without features is never a candidate)."""
        entry = self.days.get(day)
        if entry is None or fingerprint is None:
            return
        entry.add(article_id, story_id, fingerprint, places)
        entry.index_new()

    def set_places(self, article_id: int, day: int, places: frozenset[str]) -> None:
        """An article's places changed (feedback, a relink): later look-ups use the new ones."""
        entry = self.days.get(day)
        if entry is not None and article_id in entry.slot_of:
            entry.places[entry.slot_of[article_id]] = places
