"""Fingerprints of articles, for finding near-duplicates (``agenda.stories``). Pure (numpy only).

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
from itertools import chain
from typing import NamedTuple

import numpy as np

from agenda.textnorm import fold

SIGNATURE_SIZE = 128
NAME_WEIGHT = 2
NUMBER_WEIGHT = 4
STEM = 5
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


def _excluded() -> frozenset[str]:
    """The words never counted: one set while ``COMMON_WORDS`` is the same (the bench measures
    the gate without it)."""
    if not _EXCLUDED or _EXCLUDED[0][0] is not COMMON_WORDS:
        _EXCLUDED[:] = [(COMMON_WORDS, _STOPWORDS | COMMON_WORDS)]
    return _EXCLUDED[0][1]


_EXCLUDED: list[tuple[frozenset[str], frozenset[str]]] = []  # (COMMON_WORDS, the union)


def features(title: str, summary: str, excluded: frozenset[str] | None = None) -> set[int]:
    """Content words (crudely stemmed) of one article, with its names and, more, its numbers
    counted several times: rewrites keep the facts, other events change them. Each feature is
    kept as a stable 61-bit hash, not a string. ``excluded``: ``_excluded()``, passed by a
    caller that computes many."""
    if excluded is None:
        excluded = _excluded()
    # one look-up per word as written, in C: news vocabulary repeats, and per-word Python work
    # was most of the cost of a fingerprint
    found = _word_cache(excluded).__getitem__
    return set(chain.from_iterable(map(found, _WORD.findall(f"{title}. {summary}"))))


def _word_features(word: str, capitalised: bool, excluded: frozenset[str]) -> tuple[int, ...]:
    """The hashed features one word brings: its stem first (a crude stem, the first five
    letters, lets "dejan" meet "dejaron", "lluvia" meet "lluvias"), then its extra copies (a
    number's, a name's)."""
    if word in excluded:
        return ()
    found = [word[:STEM]] if len(word) > 2 or word.isdigit() else []
    copies = NUMBER_WEIGHT if word.isdigit() else NAME_WEIGHT if capitalised else 1
    found += [f"#{copy}{word}" for copy in range(copies - 1)]
    return tuple(_stable_hash(feature) for feature in found)


class _WordFeatures(dict[str, tuple[int, ...]]):
    """The features of each word as written (its folded form, capitalised or not), made the
    first time the word is met."""

    def __init__(self, excluded: frozenset[str]) -> None:
        super().__init__()
        self.excluded = excluded

    def __missing__(self, written: str) -> tuple[int, ...]:
        # fold keeps one character for one; the rare character it turns into a separator
        # leaves more words, of which the first counts whole and the rest by their stems
        first, *rest = _WORD.findall(fold(written)) or [""]
        made = _word_features(first, written[:1].isupper(), self.excluded) if first else ()
        for word in rest:
            made += _word_features(word, False, self.excluded)[:1]
        self[written] = made
        return made


_WORDS: list[_WordFeatures] = []  # one cache, for one excluded-word list at a time
_WORDS_KEPT = 50_000  # about 10 MB; a night's vocabulary fits, a year's is not kept


def _word_cache(excluded: frozenset[str]) -> _WordFeatures:
    if not _WORDS or _WORDS[0].excluded is not excluded or len(_WORDS[0]) > _WORDS_KEPT:
        _WORDS[:] = [_WordFeatures(excluded)]
    return _WORDS[0]


def _stable_hash(text: str) -> int:
    """Two CRC-32s make 61 stable bits (Python's hash() is salted per process)."""
    data = text.encode("utf-8")
    return ((zlib.crc32(data) << 32) | zlib.crc32(data, 0x9E3779B9)) & _PRIME


class Fingerprint(NamedTuple):
    """What the index keeps of an article: its MinHash signature (``SIGNATURE_SIZE`` uint32)
    and its feature set (sorted unique uint32: the low bits of the feature hashes)."""

    signature: np.ndarray
    features: np.ndarray

    def to_bytes(self) -> tuple[bytes, bytes]:
        return self.signature.tobytes(), self.features.tobytes()

    @classmethod
    def from_bytes(cls, signature: bytes, features: bytes) -> Fingerprint:
        return cls(
            np.frombuffer(signature, dtype=np.uint32), np.frombuffer(features, dtype=np.uint32)
        )


class MinHasher:
    """Fingerprints of articles: MinHash signatures of ``SIGNATURE_SIZE`` 32-bit values."""

    def __init__(self, size: int = SIGNATURE_SIZE, seed: int = 20261124) -> None:
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, _PRIME, size=size, dtype=np.uint64)
        self.b = rng.integers(0, _PRIME, size=size, dtype=np.uint64)
        self.size = size

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        # (a*x + b) mod 2**64 overflows on purpose: a fast universal-ish family; the low 32 bits
        # of the minimum are kept (two different minima agree by chance once in 4 billion)
        values = self.a[:, None] * hashes[None, :] + self.b[:, None]
        return values.min(axis=1).astype(np.uint32)

    def of(self, title: str, summary: str) -> Fingerprint | None:
        """The article's fingerprint, or None when it has no features (it cannot be compared)."""
        return self.many([(title, summary)])[0]

    def many(self, texts: list[tuple[str, str]]) -> list[Fingerprint | None]:
        """Fingerprints of several articles (title, summary), as ``of`` gives them: one
        vectorised MinHash for all (a source's batch), not one numpy round per article."""
        excluded = _excluded()
        found = [
            np.fromiter(features(title, summary, excluded), dtype=np.uint64)
            for title, summary in texts
        ]
        sizes = [hashes.size for hashes in found]
        if not any(sizes):
            return [None] * len(texts)
        every = np.concatenate(found)
        values = self.a[:, None] * every[None, :]  # wraps on purpose, as above
        values += self.b[:, None]
        starts = np.cumsum([0, *sizes[:-1]])[np.asarray(sizes) > 0]
        minima = np.minimum.reduceat(values, starts, axis=1).astype(np.uint32).T
        # every article's feature set sorted and de-duplicated at once, as (article, feature):
        # one sort for the batch, not one ``np.unique`` per article
        owned = np.repeat(np.arange(len(texts), dtype=np.uint64), sizes) << np.uint64(32)
        unique = np.unique(owned | (every & np.uint64(0xFFFFFFFF)))
        bounds = np.searchsorted(
            unique, np.arange(len(texts) + 1, dtype=np.uint64) << np.uint64(32)
        )
        feature_sets = unique.astype(np.uint32)  # the low halves: the features
        fingerprints: list[Fingerprint | None] = []
        row = 0
        for k, hashes in enumerate(found):
            if not hashes.size:
                fingerprints.append(None)
                continue
            fingerprints.append(
                Fingerprint(minima[row].copy(), feature_sets[bounds[k] : bounds[k + 1]])
            )
            row += 1
        return fingerprints


def jaccard(left: np.ndarray | bytes, right: np.ndarray | bytes) -> float:
    """Jaccard similarity of two sorted unique feature arrays (or their bytes).

    >>> jaccard(np.array([1, 2, 3], dtype=np.uint32), np.array([2, 3, 4], dtype=np.uint32))
    0.5
    """
    if isinstance(left, bytes):
        left = np.frombuffer(left, dtype=np.uint32)
    if isinstance(right, bytes):
        right = np.frombuffer(right, dtype=np.uint32)
    if not left.size or not right.size:
        return 0.0
    positions = np.minimum(np.searchsorted(right, left), right.size - 1)
    shared = int(np.count_nonzero(right[positions] == left))
    return shared / (left.size + right.size - shared)
