"""The commitment fixture articles (tests/fixtures/commitments/articles.json) stored through the
real linker and the real Store, the way a collect run stores them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from agenda.collect import FetchResult
from agenda.extract import Article
from agenda.link import Linker
from agenda.sources import Source
from agenda.store import Store

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "commitments" / "articles.json"
OUTLETS = {
    "litoral": ("Diario El Litoral", "05"),
    "llanquihue": ("El Llanquihue", "10"),
    "maule": ("Diario El Maule", "07"),
}


def store_fixture_articles(store: Store, linker: Linker) -> dict[str, int]:
    """Store every fixture article; return article id by the fixture's key."""
    items = json.loads(FIXTURE.read_text(encoding="utf-8"))
    sources = {
        key: Source(key, name, f"https://{key}.example.cl/rss", "rss", region)
        for key, (name, region) in OUTLETS.items()
    }
    store.sync_sources(sources.values())
    ids: dict[str, int] = {}
    for item in items:
        source = sources[item["source"]]
        url = f"https://{source.id}.example.cl/noticias/{item['key']}.html"
        article = Article(
            url,
            item["title"],
            "",
            source.id,
            source.name,
            source.region_code,
            datetime.fromisoformat(item["date"]),
            text=item["text"],
        )
        store.record_fetch(
            FetchResult(source, "ok"),
            [article],
            [linker.link(article.link_text(), source.region_code)],
        )
        ids[item["key"]] = next(store.db.query("select id from articles where url = ?", [url]))[
            "id"
        ]
    return ids
