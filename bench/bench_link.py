#!/usr/bin/env python3
"""Linker throughput on 10,000 article-sized texts, as a ratio to the bare spaCy tokenizer.

Texts are built from the bundled sample feeds and the gold items (Spanish regional news written for
the project), shuffled into article-sized pieces of several paragraphs. Only the gold items up to
g426 are used: the pool stays the same as gold items are added, so the line compares across
changes. The tokenizer baseline is
`spacy.blank("es").make_doc` over the same texts, timed in the same process, best of 3. The first
line says which linker was measured: compiled by mypyc or pure Python (agenda/compiled_linker.py).
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import spacy  # noqa: E402

from agenda.compiled_linker import linker_kind  # noqa: E402
from agenda.extract import extract  # noqa: E402
from agenda.keywords import load_keywords  # noqa: E402
from agenda.link import Linker  # noqa: E402
from agenda.sources import Source  # noqa: E402
from agenda.textnorm import fold  # noqa: E402

TEXTS = 10_000
PARAGRAPHS_PER_TEXT = 5
LAST_GOLD_ITEM = 426  # the bench's texts: gold items g001-g426 (see the docstring)


def paragraphs() -> list[str]:
    found = []
    for feed in sorted((ROOT / "sample" / "feeds").glob("*.xml")):
        source = Source(
            id="x", name="x", url="http://127.0.0.1/", kind="rss", region_code="national"
        )
        for article in extract(source, feed.read_bytes()).articles:
            found += [article.title, article.summary]
    gold = ROOT / "tests" / "gold" / "linking.jsonl"
    if gold.exists():
        for line in gold.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if int(item["id"].lstrip("g")) <= LAST_GOLD_ITEM:
                found += [item["title"], item["text"]]
    return [p for p in found if p]


def best_of(runs: int, fn) -> float:  # noqa: ANN001
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    rng = random.Random(20261124)
    pool = paragraphs()
    texts = ["\n\n".join(rng.sample(pool, PARAGRAPHS_PER_TEXT)) for _ in range(TEXTS)]
    characters = sum(len(t) for t in texts)
    linker = Linker(load_keywords(ROOT / "keywords"))
    nlp = spacy.blank("es")

    def tokenize() -> None:
        for text in texts:
            nlp.make_doc(text)

    def link() -> None:
        for text in texts:
            linker.link(text)

    def matching() -> None:  # the linker's floor: fold and the phrase matcher
        for text in texts:
            linker._matcher(fold(text))

    print(f"linker: {linker_kind()}", flush=True)
    tokenizer_seconds = best_of(3, tokenize)
    linker_seconds = best_of(3, link)
    matching_seconds = best_of(3, matching)
    print(
        f"texts: {TEXTS:,}, mean {characters // TEXTS:,} "
        f"characters, {len(pool)} distinct paragraphs"
    )
    print(
        "linker time / bare tokenizer time: "
        f"{linker_seconds / tokenizer_seconds:.2f}x  (target <= 1.5x)"
    )
    print(
        f"of which fold + phrase matcher: {matching_seconds / tokenizer_seconds:.2f}x, "
        f"rules: {(linker_seconds - matching_seconds) / tokenizer_seconds:.2f}x"
    )
    print(
        f"linker throughput: {TEXTS / linker_seconds:,.0f} articles/s "
        f" (tokenizer alone: {TEXTS / tokenizer_seconds:,.0f}/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
