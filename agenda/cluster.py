"""Near-duplicate clustering: the same story from several outlets becomes one item. Pure.

MinHash signatures over each article's word features (title + summary), locality-sensitive
hashing into bands to find candidate pairs without comparing every pair (the cost grows with
the number of articles, not its square), then a check of the estimated similarity on each
candidate pair, and union-find to group the pairs into stories.

Features: the folded content words, with the words that identify an event (numbers, and the
capitalised names: places, people, institutions) counted several times, so that
"portonazos en Maipú" and "portonazos en Puente Alto" stay apart while a rewrite of the same
story, which keeps its names and figures, comes together.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agenda.textnorm import fold

SIGNATURE_SIZE = 128
# A band bucket this full holds boilerplate shared by many articles ("Síguenos en…"), not one
# story: comparing all its pairs would be quadratic, so only neighbours in it are compared.
CROWDED_BUCKET = 40
BANDS = 64  # 64 bands of 2 rows: a pair at 0.25 similarity becomes a candidate 98% of the time
# Chosen on tests/fixtures/duplicates/pairs.jsonl (300 labelled pairs): see tests/test_cluster.py
SIMILARITY_THRESHOLD = 0.25
NAME_WEIGHT = 2
NUMBER_WEIGHT = 4
STEM = 5
LEADER_FACTOR = 0.75
COMMON_SHARE = 0.01  # a feature in more than 1% of the day's articles (and in more than …
COMMON_MINIMUM = 20  # … 20 of them) is too common to tell stories apart
_PRIME = (1 << 61) - 1
_WORD = re.compile(r"[\w']+")
_STOPWORDS = frozenset(
    """a al algo ante antes aun asi aunque cada como con contra cual cuando de del desde donde dos durante e el ella
    ellas ellos en entre era es esa ese eso esta este esto estos estas fue fueron ha han hasta hay la las le les lo
    los mas me mientras muy ni no nos o otra otro para pero por que quien se segun ser si sin sino sobre su sus tambien
    tras un una uno unos unas y ya sera seran tiene tienen dijo afirmo anuncio senalo indico este esta estos
    luego tras hoy ayer manana semana ano anos dia dias""".split()
)


@dataclass(frozen=True)
class ClusterInput:
    title: str
    summary: str
    # The regions the article was linked to: two articles about different regions are never one
    # story, however alike their words ("nuevo hospital … 200 camas … 2027" in Rengo and in Buin).
    regions: frozenset[str] = frozenset()


def _compatible(left: frozenset[str], right: frozenset[str]) -> bool:
    return not left or not right or not left.isdisjoint(right)


def features(title: str, summary: str) -> set[int]:
    """Content words (crudely stemmed) of one article, with its names and, more, its numbers
    counted several times: rewrites keep the facts, other events change them. Each feature is
    kept as a stable 61-bit hash, not a string: a day of 50,000 articles fits in little memory."""
    text = f"{title}. {summary}"
    folded = fold(text)
    # a crude stem (the first five letters) lets "dejan" meet "dejaron" and "lluvia" meet "lluvias"
    found = {w[:STEM] for w in _WORD.findall(folded) if w not in _STOPWORDS and (len(w) > 2 or w.isdigit())}
    for original, word in zip(_WORD.findall(text), _WORD.findall(folded)):
        if word in _STOPWORDS:
            continue
        copies = NUMBER_WEIGHT if word.isdigit() else NAME_WEIGHT if original[:1].isupper() else 1
        found.update(f"#{copy}{word}" for copy in range(copies - 1))
    return {_stable_hash(feature) for feature in found}


class MinHasher:
    def __init__(self, size: int = SIGNATURE_SIZE, seed: int = 20261124) -> None:
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, _PRIME, size=size, dtype=np.uint64)
        self.b = rng.integers(0, _PRIME, size=size, dtype=np.uint64)
        self.size = size

    def signature(self, feature_set: set[int] | np.ndarray) -> np.ndarray:
        if len(feature_set) == 0:
            return np.full(self.size, np.iinfo(np.uint64).max, dtype=np.uint64)
        hashes = feature_set if isinstance(feature_set, np.ndarray) else np.fromiter(feature_set, dtype=np.uint64, count=len(feature_set))
        # (a*x + b) mod p on uint64 overflows on purpose: a fast universal-ish family
        values = self.a[:, None] * hashes[None, :] + self.b[:, None]
        return values.min(axis=1)


def _stable_hash(text: str) -> int:
    """Two CRC-32s make 61 stable bits (Python's hash() is salted per process); zlib is C-fast."""
    data = text.encode("utf-8")
    return ((zlib.crc32(data) << 32) | zlib.crc32(data, 0x9E3779B9)) & _PRIME


def similarity(left: np.ndarray, right: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(left == right))


def cluster(items: Sequence[ClusterInput], threshold: float = SIMILARITY_THRESHOLD, bands: int = BANDS) -> list[list[int]]:
    """Group item indexes into stories; singletons included, each group in input order.

    >>> cluster([ClusterInput("Temporal en Temuco", "Lluvias en Temuco dejan 3 heridos"),
    ...          ClusterInput("Temporal en Temuco deja heridos", "Las lluvias en Temuco dejaron 3 heridos"),
    ...          ClusterInput("Feria en Arica", "Se inauguró la feria del libro de Arica")])
    [[0, 1], [2]]
    """
    hasher = MinHasher()
    # compact arrays, not sets: a day of 50,000 articles would otherwise hold millions of ints
    feature_arrays = [np.fromiter(features(item.title, item.summary), dtype=np.uint64) for item in items]
    # Words in many of the day's articles ("región", "municipio") say nothing about which story
    # an article tells, and they make unrelated articles collide in the LSH bands: drop them.
    common = np.empty(0, dtype=np.uint64)
    if feature_arrays:
        values, counts = np.unique(np.concatenate(feature_arrays), return_counts=True)
        common = values[counts > max(COMMON_MINIMUM, COMMON_SHARE * len(items))]
    signatures = np.empty((len(items), hasher.size), dtype=np.uint64)  # one block, no per-row objects
    for index, array in enumerate(feature_arrays):
        signatures[index] = hasher.signature(array[~np.isin(array, common)] if common.size else array)
    del feature_arrays
    rows = hasher.size // bands
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for band in range(bands):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        for index, signature in enumerate(signatures):
            buckets[signature[band * rows:(band + 1) * rows].tobytes()].append(index)
        for members in buckets.values():
            if len(members) < 2:
                continue
            crowded = len(members) > CROWDED_BUCKET
            for position, left in enumerate(members):
                partners = members[position + 1:position + 2] if crowded else members[position + 1:]
                # no memory of compared pairs (it grows with the square of a crowded day): a pair
                # met again in another band costs one more comparison, or nothing once merged
                for right in partners:
                    root_left, root_right = find(left), find(right)
                    if root_left == root_right or similarity(signatures[left], signatures[right]) < threshold:
                        continue
                    if not (_compatible(items[left].regions, items[right].regions) and _compatible(items[root_left].regions, items[root_right].regions)):
                        continue
                    # no chaining: the two stories' first articles must also be alike
                    if similarity(signatures[root_left], signatures[root_right]) >= threshold * LEADER_FACTOR:
                        parent[root_right] = root_left
    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(len(items)):
        groups[find(index)].append(index)
    return sorted(groups.values(), key=lambda group: group[0])
