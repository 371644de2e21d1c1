#!/usr/bin/env python3
"""Every LinkResult the linker gives on the gold files and the bench texts, one JSON line each.

A speed change to the linker must leave this dump byte for byte the same: run it before and after
and diff (`python bench/dump_links.py > before.jsonl`). The gold items are linked as the
evaluation links them (title, summary, text joined), and also title and text alone, each without
a source region and with the region of every Chilean region (the prior for ambiguous names); the
10,000 bench texts (bench_link's) are linked without a source region and with one region each.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_link import PARAGRAPHS_PER_TEXT, TEXTS, paragraphs  # noqa: E402

from agenda.common import link_text  # noqa: E402
from agenda.compiled_linker import linker_kind  # noqa: E402
from agenda.keywords import load_keywords  # noqa: E402
from agenda.link import Linker  # noqa: E402


def main() -> int:
    keywords = load_keywords(ROOT / "keywords")
    linker = Linker(keywords)
    regions = sorted(p.code for p in keywords.places.values() if p.kind == "region")
    out = sys.stdout
    print(f"linker: {linker_kind()}", file=sys.stderr)  # compiled and pure must dump the same

    def dump(label: str, text: str, region: str | None) -> None:
        result = linker.link(text, source_region=region)
        out.write(json.dumps([label, region, result.as_dict()], ensure_ascii=False) + "\n")

    for gold in sorted((ROOT / "tests" / "gold").glob("*.jsonl")):
        for number, line in enumerate(gold.read_text(encoding="utf-8").splitlines()):
            item = json.loads(line)
            joined = link_text(
                *(str(item[k]) if item.get(k) else None for k in ("title", "summary", "text"))
            )
            for part, text in (("joined", joined), ("title", item.get("title") or "")):
                for region in [item.get("source_region"), None, *regions]:
                    dump(f"{gold.name}:{number}:{part}", text, region)
            dump(f"{gold.name}:{number}:text", item.get("text") or "", None)
    rng = random.Random(20261124)
    pool = paragraphs()
    texts = ["\n\n".join(rng.sample(pool, PARAGRAPHS_PER_TEXT)) for _ in range(TEXTS)]
    for number, text in enumerate(texts):
        dump(f"bench:{number}", text, None)
        dump(f"bench:{number}", text, regions[number % len(regions)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
