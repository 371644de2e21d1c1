from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime

import pytest
from sqlite_utils import Database

from agenda.collect import FetchResult
from agenda.extract import Article
from agenda.link import Linker
from agenda.sources import Source
from agenda.store import Store, santiago_date

SOURCE = Source(id="diario", name="Diario", url="https://d.cl/feed", kind="rss", region_code="05")


def article(url: str, title: str, when: datetime) -> Article:
    return Article(
        url=url,
        title=title,
        summary="",
        source_id="diario",
        outlet="Diario",
        source_region="05",
        published_at_utc=when,
    )


@pytest.fixture
def store() -> Store:
    s = Store(Database(memory=True))
    s.sync_sources([SOURCE])
    return s


def test_day_boundary_is_santiago() -> None:
    late = datetime(2026, 11, 25, 2, 40, tzinfo=UTC)  # 23:40 on the 24th in Chile (UTC-3)
    assert santiago_date(late) == "2026-11-24"
    assert santiago_date(datetime(2026, 11, 25, 3, 0, tzinfo=UTC)) == "2026-11-25"
    assert santiago_date(datetime(2026, 7, 1, 3, 30, tzinfo=UTC)) == "2026-06-30"  # winter: UTC-4


def test_storing_twice_stores_once(store: Store, linker: Linker) -> None:
    articles = [
        article("https://d.cl/1", "Temporal en Quilpué", datetime(2026, 11, 24, 12, tzinfo=UTC))
    ]
    links = [linker.link(a.link_text()) for a in articles]
    ok = FetchResult(SOURCE, "ok", etag='"e"')
    first = store.record_fetch(ok, articles, links)
    second = store.record_fetch(ok, articles, links)
    assert (first.new, second.new, second.seen) == (1, 0, 1)
    assert store.count("articles") == 1
    assert (
        store.count("links") == first.links and second.links == 0
    )  # a stored article keeps its links


def test_a_failing_write_leaves_nothing_half_done(store: Store, linker: Linker) -> None:
    good = article("https://d.cl/ok", "Lluvia en Temuco", datetime(2026, 11, 24, 12, tzinfo=UTC))
    bad = article("https://d.cl/bad", None, datetime(2026, 11, 24, 12, tzinfo=UTC))  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        store.record_fetch(
            FetchResult(SOURCE, "ok", etag='"new"'),
            [good, bad],
            [linker.link("Temuco"), linker.link("")],
        )
    assert store.count("articles") == 0 and store.count("links") == 0
    assert store.fetch_states()["diario"].etag is None  # fetch state not advanced either


def test_errors_count_up_and_reset_on_success(store: Store) -> None:
    failure = FetchResult(SOURCE, "error", error="HTTP 500 Internal Server Error")
    store.record_fetch(failure)
    store.record_fetch(failure)
    row = store.source_health()[0]
    assert row["error_count"] == 2 and row["last_error"] == "HTTP 500 Internal Server Error"
    store.record_fetch(FetchResult(SOURCE, "ok"), [], [])
    row = store.source_health()[0]
    assert row["error_count"] == 0 and row["last_error"] is None and row["last_success_at_utc"]


def test_articles_on_a_day_with_links_and_outlets(store: Store, linker: Linker) -> None:
    items = [
        article(
            "https://d.cl/late",
            "Corte de luz en Ñuble",
            datetime(2026, 11, 25, 2, 40, tzinfo=UTC),
        ),
        article("https://d.cl/next", "Feria en Talca", datetime(2026, 11, 25, 4, 0, tzinfo=UTC)),
    ]
    store.record_fetch(
        FetchResult(SOURCE, "ok"), items, [linker.link(a.link_text()) for a in items]
    )
    day = store.articles_on(date(2026, 11, 24))
    assert [a["title"] for a in day] == ["Corte de luz en Ñuble"]
    assert {(link.kind, link.code) for link in day[0]["links"]} >= {("region", "16")}
    assert day[0]["outlets"] == ["Diario"]


def test_a_days_articles_share_their_plain_links(store: Store, linker: Linker) -> None:
    """Two articles naming the same place read back one shared link (a night has 300,000), and
    equal to what each would have alone."""
    when = datetime(2026, 11, 24, 15, tzinfo=UTC)
    items = [
        article("https://d.cl/1", "Lluvias en Temuco", when),
        article("https://d.cl/2", "Corte de agua en Temuco", when),
    ]
    store.record_fetch(
        FetchResult(SOURCE, "ok"), items, [linker.link(a.link_text()) for a in items]
    )
    first, second = (
        {(link.kind, link.code): link for link in a["links"]}
        for a in store.articles_on(date(2026, 11, 24))
    )
    assert first[("commune", "09101")] is second[("commune", "09101")]
    assert first[("commune", "09101")] == ("commune", "09101", "Temuco", False, (), None, False)


def test_full_text_search_folds_accents_newest_first(store: Store, linker: Linker) -> None:
    items = [
        article("https://d.cl/a", "Lluvias en Ñuble", datetime(2026, 11, 23, 12, tzinfo=UTC)),
        article(
            "https://d.cl/b",
            "Nuble: puente reparado",
            datetime(2026, 11, 24, 12, tzinfo=UTC),
        ),
        article("https://d.cl/c", "Feria en Arica", datetime(2026, 11, 24, 13, tzinfo=UTC)),
    ]
    store.record_fetch(
        FetchResult(SOURCE, "ok"), items, [linker.link(a.link_text()) for a in items]
    )
    assert [r["url"] for r in store.search("ñuble")] == ["https://d.cl/b", "https://d.cl/a"]


def test_the_search_index_follows_an_articles_words_only(store: Store, linker: Linker) -> None:
    """Giving an article its story leaves its search index alone (a trigger on any update
    re-indexed the whole text of every new article); filling in its text re-indexes it."""
    when = datetime(2026, 11, 24, 12, tzinfo=UTC)
    ok = FetchResult(SOURCE, "ok")
    bare = article("https://d.cl/1", "Obras en la región", when)
    store.record_fetch(ok, [bare], [linker.link(bare.link_text())])
    before = store.db.conn.total_changes
    store.db.execute("update articles set story_id = story_id")
    assert store.db.conn.total_changes - before == 1  # the row only, no re-indexing
    assert store.search("quilpue") == []
    full = article("https://d.cl/1", "Obras en la región", when)
    full.text = "El hospital de Quilpué supera el 80 por ciento de avance."
    store.record_fetch(ok, [full], [linker.link(full.link_text())])
    assert [row["url"] for row in store.search("quilpue")] == ["https://d.cl/1"]


def test_links_follow_the_stored_text_only(store: Store, linker: Linker) -> None:
    """A stored article's links change only when its own text does: filled in by a full-text
    fetch of the same title and summary, yes; a repeat with other words, never."""
    when = datetime(2026, 11, 24, 12, tzinfo=UTC)
    ok = FetchResult(SOURCE, "ok")
    bare = article("https://d.cl/1", "Obras en la región", when)
    store.record_fetch(ok, [bare], [linker.link(bare.link_text())])
    assert store.count("links") == 0  # nothing to link in a bare title

    other = article("https://d.cl/1", "Obras en Temuco", when)  # another feed's words
    other.text = "El puente de Temuco sigue cerrado."
    counts = store.record_fetch(ok, [other], [linker.link(other.link_text())])
    assert counts.links == 0 and store.count("links") == 0
    assert store.db.execute("select coalesce(text, '') from articles").fetchone()[0] == ""

    full = article("https://d.cl/1", "Obras en la región", when)
    full.text = "El hospital de Quilpué supera el 80 por ciento de avance."
    counts = store.record_fetch(ok, [full], [linker.link(full.link_text())])
    assert counts.links > 0
    assert {
        row["code"] for row in store.db.query("select code from links where kind = 'commune'")
    } == {"05801"}
