"""Stories: which stored articles tell the same news. Pure (numpy only); the store uses it.

Each article gets a MinHash signature over its word features (title + summary). An incremental
LSH index over the articles of a few days finds, for a new article, the earlier ones that share
a band of its signature (the cost of a look-up grows with the few candidates, not with the
number of articles); a candidate is accepted when the estimated similarity passes the
threshold, the two are not about different regions, and the new article is also alike the
story's first article within the window (no chaining from one event to the next).

Features: the folded content words, with the words that identify an event (numbers, and the
capitalised names: places, people, institutions) counted several times, so that
"portonazos en Maipú" and "portonazos en Puente Alto" stay apart while a rewrite of the same
story, which keeps its names and figures, comes together. Words common to all regional news
("comuna", "municipalidad") are left out by a fixed list (``COMMON_WORDS``): the same article
gets the same signature whatever else arrived that day.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable

import numpy as np

from agenda.textnorm import fold

SIGNATURE_SIZE = 128
BANDS = 64  # 64 bands of 2 rows: a pair at 0.25 similarity becomes a candidate 98% of the time
# Chosen on tests/fixtures/duplicates/pairs.jsonl, stored day by day: see tests/test_stories.py
SIMILARITY_THRESHOLD = 0.25
LEADER_FACTOR = 0.75  # a new article must be this alike (x threshold) the story's first article
NAME_WEIGHT = 2
NUMBER_WEIGHT = 4
STEM = 5
# A band bucket this full holds boilerplate shared by many articles ("Síguenos en…"), not one
# story: only its newest members are compared.
CROWDED_BUCKET = 40
DEFAULT_WINDOW_DAYS = 3
_PRIME = (1 << 61) - 1
_WORD = re.compile(r"[\w']+")
_STOPWORDS = frozenset(
    """a al algo ante antes aun asi aunque cada como con contra cual cuando de del desde donde dos
    durante e el ella ellas ellos en entre era es esa ese eso esta este esto estos estas fue fueron
    ha han hasta hay la las le les lo los mas me mientras muy ni no nos o otra otro para pero por
    que quien se segun ser si sin sino sobre su sus tambien tras un una uno unos unas y ya sera
    seran tiene tienen dijo afirmo anuncio senalo indico luego hoy ayer manana semana ano anos dia
    dias""".split()
)
# Words of every regional story, whatever the event: they only make unrelated articles collide.
# The most frequent content words of tests/gold/linking.jsonl (394 regional articles, none of
# them in the duplicates set), less the ones that name a topic (salud, puerto, incendio).
COMMON_WORDS = frozenset(
    """comuna comunal comunas municipal municipalidad municipio region regional regiones provincia
    provincial vecinos vecina vecino autoridad autoridades sector sectores ciudad local
    destaco destacan informo informaron indicaron explico agrego sostuvo precisaron aseguro
    senalaron comento detallo manifesto nuevo nueva nuevos nuevas ultimo ultima primer primera
    mayor personas este""".split()
)


def _excluded(word: str) -> bool:
    return word in _STOPWORDS or word in COMMON_WORDS


def features(title: str, summary: str) -> set[int]:
    """Content words (crudely stemmed) of one article, with its names and, more, its numbers
    counted several times: rewrites keep the facts, other events change them. Each feature is
    kept as a stable 61-bit hash, not a string."""
    text = f"{title}. {summary}"
    folded = fold(text)
    # a crude stem (the first five letters) lets "dejan" meet "dejaron", "lluvia" meet "lluvias"
    found = {w[:STEM] for w in _WORD.findall(folded) if not _excluded(w) and (len(w) > 2 or w.isdigit())}
    for original, word in zip(_WORD.findall(text), _WORD.findall(folded), strict=False):
        if _excluded(word):
            continue
        copies = NUMBER_WEIGHT if word.isdigit() else NAME_WEIGHT if original[:1].isupper() else 1
        found.update(f"#{copy}{word}" for copy in range(copies - 1))
    return {_stable_hash(feature) for feature in found}


def _stable_hash(text: str) -> int:
    """Two CRC-32s make 61 stable bits (Python's hash() is salted per process)."""
    data = text.encode("utf-8")
    return ((zlib.crc32(data) << 32) | zlib.crc32(data, 0x9E3779B9)) & _PRIME


class MinHasher:
    """MinHash signatures of feature sets: ``SIGNATURE_SIZE`` 32-bit values (512 bytes stored)."""

    def __init__(self, size: int = SIGNATURE_SIZE, seed: int = 20261124) -> None:
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, _PRIME, size=size, dtype=np.uint64)
        self.b = rng.integers(0, _PRIME, size=size, dtype=np.uint64)
        self.size = size

    def signature(self, feature_set: Iterable[int]) -> np.ndarray | None:
        """The signature, or None for an article with no features (it cannot be compared)."""
        hashes = np.fromiter(feature_set, dtype=np.uint64)
        if hashes.size == 0:
            return None
        # (a*x + b) mod 2**64 overflows on purpose: a fast universal-ish family; the low 32 bits
        # of the minimum are kept (two different minima agree by chance once in 4 billion)
        values = self.a[:, None] * hashes[None, :] + self.b[:, None]
        return values.min(axis=1).astype(np.uint32)

    def of(self, title: str, summary: str) -> np.ndarray | None:
        return self.signature(features(title, summary))


def similarity(left: np.ndarray, right: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(left == right))


def compatible(left: frozenset[str], right: frozenset[str]) -> bool:
    """Two region sets allow one story: either is empty, or they share a region."""
    return not left or not right or not left.isdisjoint(right)


_BAND_MULTIPLIERS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F], dtype=np.uint64)
_BAND_SALT = (np.arange(BANDS, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x165667B19E3779F9)


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """One 32-bit key per band of each signature (rows x BANDS, uint64 holding 32 bits).

    Two signatures that agree on a band's rows get the same key; different rows share a key
    by chance (the candidate is then dismissed by its similarity, at the cost of one check)."""
    rows = signatures.reshape(len(signatures), BANDS, -1).astype(np.uint64)
    mixed = rows[:, :, 0] * _BAND_MULTIPLIERS[0] + rows[:, :, 1] * _BAND_MULTIPLIERS[1] + _BAND_SALT
    return mixed >> np.uint64(32)


class _Day:
    """The indexed articles of one day: a sorted array of (band key << 32 | slot) entries for
    the bulk, and a dict for the few added since (merged into the array when it grows)."""

    MERGE_EVERY = 2000

    def __init__(self) -> None:
        self.article_ids: list[int] = []
        self.story_ids: list[int] = []
        self.regions: list[frozenset[str]] = []
        self.signatures = np.empty((0, SIGNATURE_SIZE), dtype=np.uint32)  # grows by doubling
        self.sorted_entries = np.empty(0, dtype=np.uint64)
        self.pending: dict[int, list[int]] = {}
        self.pending_count = 0
        self.first_of_story: dict[int, int] = {}  # story -> its first slot (lowest article id)
        self.slot_of: dict[int, int] = {}  # article -> slot

    def __len__(self) -> int:
        return len(self.article_ids)

    def _append(self, article_ids: list[int], story_ids: list[int], signatures: np.ndarray,
                regions: list[frozenset[str]]) -> int:
        start = len(self.article_ids)
        needed = start + len(article_ids)
        if needed > len(self.signatures):
            grown = np.empty((max(needed, 2 * len(self.signatures), 64), SIGNATURE_SIZE), dtype=np.uint32)
            grown[:start] = self.signatures[:start]
            self.signatures = grown
        self.signatures[start:needed] = signatures
        self.article_ids += article_ids
        self.story_ids += story_ids
        self.regions += regions
        for slot in range(start, needed):
            article_id, story_id = self.article_ids[slot], self.story_ids[slot]
            self.slot_of[article_id] = slot
            known = self.first_of_story.get(story_id)
            if known is None or article_id < self.article_ids[known]:
                self.first_of_story[story_id] = slot
        return start

    def add(self, article_id: int, story_id: int, signature: np.ndarray, regions: frozenset[str]) -> None:
        slot = self._append([article_id], [story_id], signature[None, :], [regions])
        for key in band_keys(signature[None, :])[0].tolist():
            self.pending.setdefault(key, []).append(slot)
        self.pending_count += 1
        if self.pending_count >= self.MERGE_EVERY:
            self._merge()

    def add_many(self, article_ids: list[int], story_ids: list[int], signatures: np.ndarray,
                 regions: list[frozenset[str]]) -> None:
        """Bulk load (a day read back from the database): one sort, no dict."""
        self._append(article_ids, story_ids, signatures, regions)
        self._merge()

    def _merge(self) -> None:
        self.pending.clear()
        self.pending_count = 0
        count = len(self.article_ids)
        if not count:
            return
        keys = band_keys(self.signatures[:count])
        slots = np.arange(count, dtype=np.uint64)[:, None]
        self.sorted_entries = np.sort(((keys << np.uint64(32)) | slots).ravel())

    def candidates(self, keys: np.ndarray) -> list[int]:
        """Slots that share a band key with ``keys`` (the newest few of a crowded bucket)."""
        found: list[int] = []
        if self.sorted_entries.size:
            low = np.searchsorted(self.sorted_entries, keys << np.uint64(32), side="left")
            high = np.searchsorted(self.sorted_entries, (keys << np.uint64(32)) | np.uint64(0xFFFFFFFF), side="right")
            for start, stop in zip(low.tolist(), high.tolist(), strict=True):
                if stop > start:
                    hits = self.sorted_entries[max(start, stop - CROWDED_BUCKET):stop]
                    found += (hits & np.uint64(0xFFFFFFFF)).tolist()
        if self.pending:
            for key in keys.tolist():
                slots = self.pending.get(key)
                if slots:
                    found += slots[-CROWDED_BUCKET:]
        return found


class StoryIndex:
    """The articles of some days, by day, for finding the story a new article belongs to.

    The store loads the days a new article's window needs (``load_day``), asks ``find`` and
    then ``add``s the article; ``forget_days_before`` bounds memory.
    """

    def __init__(self, window_days: int = DEFAULT_WINDOW_DAYS, threshold: float = SIMILARITY_THRESHOLD) -> None:
        self.window_days = window_days
        self.threshold = threshold
        self.days: dict[int, _Day] = {}  # date ordinal -> its articles

    def window(self, day: int) -> range:
        """The days an article of ``day`` may share a story with (date ordinals)."""
        return range(day - self.window_days + 1, day + self.window_days)

    def missing_days(self, day: int) -> list[int]:
        return [d for d in self.window(day) if d not in self.days]

    def load_day(self, day: int, article_ids: list[int], story_ids: list[int], signatures: np.ndarray,
                 regions: list[frozenset[str]]) -> None:
        """Index a day read back from the store (possibly empty: then it is known to be empty)."""
        entry = self.days[day] = _Day()
        if article_ids:
            entry.add_many(article_ids, story_ids, signatures, regions)

    def forget_days_before(self, day: int) -> None:
        for known in [d for d in self.days if d < day]:
            del self.days[known]

    def find(self, signature: np.ndarray | None, regions: frozenset[str], day: int) -> int | None:
        """The story a new article of ``day`` joins, or None for a new story.

        Among the window's articles that share a band, those alike enough and not about other
        regions; of their stories, those whose first article (in the window) is also alike and
        compatible; the story of the most similar article wins."""
        if signature is None:
            return None
        keys = band_keys(signature[None, :])[0]
        matches: list[tuple[float, int, _Day]] = []
        window = [self.days[d] for d in self.window(day) if d in self.days and len(self.days[d])]
        for entry in window:
            slots = entry.candidates(keys)
            if not slots:
                continue
            unique = np.unique(np.asarray(slots, dtype=np.int64))
            scores = (entry.signatures[unique] == signature).mean(axis=1)
            alike = scores >= self.threshold
            matches += zip(scores[alike].tolist(), unique[alike].tolist(), [entry] * int(alike.sum()), strict=True)
        tried: set[int] = set()
        # the most similar article first: its story is the one to join, if the rules allow
        for _, slot, entry in sorted(matches, key=lambda match: -match[0]):
            story_id = entry.story_ids[slot]
            if story_id in tried or not compatible(regions, entry.regions[slot]):
                continue
            tried.add(story_id)
            first_regions, first_signature = self._first_article(story_id, window)
            alike_first = similarity(signature, first_signature) >= self.threshold * LEADER_FACTOR
            if alike_first and compatible(regions, first_regions):
                return story_id
        return None

    @staticmethod
    def _first_article(story_id: int, window: list[_Day]) -> tuple[frozenset[str], np.ndarray]:
        """Regions and signature of the story's first article within the window."""
        first: tuple[int, _Day, int] | None = None
        for entry in window:
            slot = entry.first_of_story.get(story_id)
            if slot is not None and (first is None or entry.article_ids[slot] < first[0]):
                first = (entry.article_ids[slot], entry, slot)
        assert first is not None  # the story has the candidate article, at least
        _, entry, slot = first
        return entry.regions[slot], entry.signatures[slot]

    def add(self, article_id: int, story_id: int, signature: np.ndarray | None, regions: frozenset[str], day: int) -> None:
        """Index a stored article (one without features is never a candidate)."""
        entry = self.days.get(day)
        if entry is None or signature is None:
            return
        entry.add(article_id, story_id, signature, regions)

    def set_regions(self, article_id: int, day: int, regions: frozenset[str]) -> None:
        """An article's regions changed (feedback, a relink): later look-ups use the new ones."""
        entry = self.days.get(day)
        if entry is not None and article_id in entry.slot_of:
            entry.regions[entry.slot_of[article_id]] = regions
