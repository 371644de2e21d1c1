"""Stories kept at ingest: an article joins a story over a window of days, in the same
transaction; story rows and story_links follow the articles' links; old databases get their
stories when opened."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from agenda.collect import FetchResult
from agenda.errors import ConfigError
from agenda.extract import Article
from agenda.link import Linker
from agenda.settings import load_settings
from agenda.sources import Source
from agenda.store import Store, open_database
from agenda.store.keeper import StoryKeeper, _backfill_day
from agenda.store.schema import migrations
from tests.storycheck import story_problems

MONDAY = datetime(2026, 11, 23, 15, tzinfo=UTC)
SOURCES = [
    Source(
        id=f"medio{i}",
        name=f"Medio {i}",
        url=f"https://m{i}.cl/feed",
        kind="rss",
        region_code="national",
    )
    for i in range(4)
]
STRIKE = (
    "Paro portuario en San Antonio cumple 3 días y 40 camiones esperan",
    "Los trabajadores del Puerto de San Antonio mantienen el paro; 40 camiones esperan en la ruta"
    " 78.",
)
STRIKE_LATER = (
    "Paro en el Puerto de San Antonio sigue: ya son 40 camiones en espera en la ruta 78",
    "El paro de los trabajadores del Puerto de San Antonio continúa y los 40 camiones siguen en la"
    " ruta 78.",
)
HOSPITAL = (
    "Nuevo hospital abrirá en 2027 con 200 camas",
    "El nuevo hospital tendrá 200 camas, pabellones y urgencia desde 2027, informó el Servicio de"
    " Salud.",
)


def art(n: int, title: str, summary: str, when: datetime, source: int = 0) -> Article:
    s = SOURCES[source]
    return Article(
        url=f"https://m{source}.cl/{n}",
        title=title,
        summary=summary,
        source_id=s.id,
        outlet=s.name,
        source_region="national",
        published_at_utc=when,
    )


def put(
    store: Store,
    linker: Linker,
    articles: list[Article],
    source: int = 0,
    regions: list[str] | None = None,
) -> None:
    links = []
    for position, a in enumerate(articles):
        a.source_id, a.outlet = SOURCES[source].id, SOURCES[source].name  # stored from this source
        a.url = f"https://m{source}.cl/{a.url.rsplit('/', 1)[1]}"
        result = linker.link(a.link_text())
        if regions is not None:  # the test decides the region: the texts name none
            from agenda.link import Link

            result.regions = [Link("region", regions[position], "Región")]
        links.append(result)
    store.record_fetch(FetchResult(SOURCES[source], "ok"), articles, links)


def story_of(store: Store, url: str) -> int:
    return store.db.execute("select story_id from articles where url = ?", [url]).fetchone()[0]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(open_database(tmp_path / "agenda.db"))
    s.sync_sources(SOURCES)
    return s


def test_the_same_story_on_monday_and_wednesday_is_one_story(store: Store, linker: Linker) -> None:
    put(store, linker, [art(1, *STRIKE, MONDAY)], source=0)
    put(store, linker, [art(2, *STRIKE_LATER, MONDAY + timedelta(days=2))], source=1)
    put(store, linker, [art(3, *HOSPITAL, MONDAY + timedelta(days=2))], source=1)
    assert (
        story_of(store, "https://m0.cl/1")
        == story_of(store, "https://m1.cl/2")
        != story_of(store, "https://m1.cl/3")
    )
    story = store.stories_by_id([story_of(store, "https://m0.cl/1")])[
        story_of(store, "https://m0.cl/1")
    ]
    assert (story["first_local_date"], story["last_local_date"]) == ("2026-11-23", "2026-11-25")
    assert story["article_count"] == 2 and story["outlet_count"] == 2
    places = {(link["kind"], link["code"]) for link in story["links"]}
    assert ("commune", "05601") in places  # San Antonio
    assert story_problems(store.db.conn) == []


def test_one_feed_gets_its_stories_together(store: Store, linker: Linker) -> None:
    """A source's new articles are assigned as one batch: the second joins the story the first
    just started, an article the feed lists twice is stored and counted once, and the story
    row is what one article at a time would have left (lead, counts, links)."""
    put(store, linker, [art(1, *HOSPITAL, MONDAY)], source=0)
    first, again = art(2, *STRIKE, MONDAY), art(2, *STRIKE, MONDAY)
    put(store, linker, [first, art(3, *STRIKE_LATER, MONDAY), again], source=1)
    strike = story_of(store, "https://m1.cl/2")
    assert strike == story_of(store, "https://m1.cl/3") != story_of(store, "https://m0.cl/1")
    story = store.stories_by_id([strike])[strike]
    assert story["article_count"] == 2 and story["outlet_count"] == 1
    more_links = max(
        (2, 3),
        key=lambda n: (
            store.db.execute(
                "select count(*) from links l join articles a on a.id = l.article_id"
                " where a.url = ?",
                [f"https://m1.cl/{n}"],
            ).fetchone()[0],
            -n,
        ),
    )
    assert story["url"] == f"https://m1.cl/{more_links}"
    assert story_problems(store.db.conn) == []


def test_outside_the_window_a_story_starts_again(tmp_path: Path, linker: Linker) -> None:
    store = Store(open_database(tmp_path / "agenda.db"), story_window_days=2)
    store.sync_sources(SOURCES)
    put(store, linker, [art(1, *STRIKE, MONDAY)], source=0)
    put(store, linker, [art(2, *STRIKE_LATER, MONDAY + timedelta(days=2))], source=1)
    assert story_of(store, "https://m0.cl/1") != story_of(store, "https://m1.cl/2")


def test_a_new_process_rebuilds_the_index_from_stored_signatures(
    tmp_path: Path, linker: Linker
) -> None:
    first = Store(open_database(tmp_path / "agenda.db"))
    first.sync_sources(SOURCES)
    put(first, linker, [art(1, *STRIKE, MONDAY)], source=0)
    first.db.close()
    second = Store(open_database(tmp_path / "agenda.db"))
    put(second, linker, [art(2, *STRIKE_LATER, MONDAY + timedelta(days=1))], source=1)
    assert story_of(second, "https://m0.cl/1") == story_of(second, "https://m1.cl/2")


def test_another_writer_does_not_leave_the_index_stale(tmp_path: Path, linker: Linker) -> None:
    one = Store(open_database(tmp_path / "agenda.db"))
    one.sync_sources(SOURCES)
    put(one, linker, [art(9, *HOSPITAL, MONDAY)], source=2)  # this store's index is warm
    other = Store(open_database(tmp_path / "agenda.db"))
    put(other, linker, [art(1, *STRIKE, MONDAY)], source=0)
    put(one, linker, [art(2, *STRIKE_LATER, MONDAY)], source=1)
    assert story_of(one, "https://m0.cl/1") == story_of(one, "https://m1.cl/2")


def test_never_one_story_across_different_regions(store: Store, linker: Linker) -> None:
    put(store, linker, [art(1, *HOSPITAL, MONDAY)], source=0, regions=["06"])
    put(store, linker, [art(2, *HOSPITAL, MONDAY)], source=1, regions=["13"])
    put(store, linker, [art(3, *HOSPITAL, MONDAY)], source=2, regions=["06"])
    assert story_of(store, "https://m0.cl/1") != story_of(store, "https://m1.cl/2")
    assert story_of(store, "https://m0.cl/1") == story_of(store, "https://m2.cl/3")


def test_never_one_story_across_different_commitments(store: Store, linker: Linker) -> None:
    # the same wording about two commitments' works, with no place to tell them apart
    from agenda.link import Link

    def about(n: int, source: int, commitment: str) -> None:
        article = art(n, *HOSPITAL, MONDAY)
        article.source_id, article.outlet = SOURCES[source].id, SOURCES[source].name
        article.url = f"https://m{source}.cl/{n}"
        result = linker.link(article.link_text())
        result.regions, result.communes = [], []
        result.commitments = [Link("commitment", commitment, commitment)]
        store.record_fetch(FetchResult(SOURCES[source], "ok"), [article], [result])

    about(1, 0, "hospital-buin-paine")
    about(2, 1, "hospital-rengo")
    about(3, 2, "hospital-buin-paine")
    assert story_of(store, "https://m0.cl/1") != story_of(store, "https://m1.cl/2")
    assert story_of(store, "https://m0.cl/1") == story_of(store, "https://m2.cl/3")


def test_best_title_is_the_article_with_most_links_then_the_earliest(
    store: Store, linker: Linker
) -> None:
    fewer_links = (
        "Los trabajadores portuarios mantienen el paro; 40 camiones esperan en la ruta 78."
    )
    put(
        store,
        linker,
        [art(1, "Paro portuario cumple 3 días y 40 camiones esperan", fewer_links, MONDAY)],
        source=0,
    )
    put(store, linker, [art(2, *STRIKE, MONDAY)], source=1)
    put(store, linker, [art(3, *STRIKE, MONDAY)], source=2)
    ids = {story_of(store, f"https://m{i}.cl/{i + 1}") for i in range(3)}
    assert len(ids) == 1
    story = store.stories_by_id(ids)[ids.pop()]
    counts = {
        row[0]: row[1]
        for row in store.db.execute("select article_id, count(*) from links group by article_id")
    }
    assert counts[2] > counts.get(1, 0)
    assert story["title"] == STRIKE[0] and story["url"] == "https://m1.cl/2"  # not the later copy
    assert story["article_count"] == 3 and story["outlet_count"] == 3


def test_feedback_updates_the_story_links(tmp_path: Path, linker: Linker) -> None:
    store = Store(open_database(tmp_path / "agenda.db"))
    store.sync_sources(SOURCES)
    put(store, linker, [art(1, *STRIKE, MONDAY)], source=0)
    put(store, linker, [art(2, *STRIKE_LATER, MONDAY)], source=1)
    story = story_of(store, "https://m0.cl/1")
    article_ids = [
        row[0] for row in store.db.execute("select id from articles where story_id = ?", [story])
    ]
    for article_id in article_ids:
        store.record_feedback(
            article_id, "not", "commune", "05601", "San Antonio", [("commune", "05601")], []
        )
    links = {(link["kind"], link["code"]) for link in store.stories_by_id([story])[story]["links"]}
    assert ("commune", "05601") not in links
    store.record_feedback(
        article_ids[0],
        "add",
        "commune",
        "05602",
        "Algarrobo",
        [],
        [("commune", "05602", "Algarrobo")],
    )
    assert ("commune", "05602") in {
        (link["kind"], link["code"]) for link in store.stories_by_id([story])[story]["links"]
    }
    assert story_problems(store.db.conn) == []


def test_a_failure_mid_source_leaves_every_stored_article_in_one_story(
    store: Store, linker: Linker
) -> None:
    put(store, linker, [art(1, *STRIKE, MONDAY)], source=0)
    good = art(2, *STRIKE_LATER, MONDAY)
    broken = art(3, *HOSPITAL, MONDAY)
    broken.title = None  # type: ignore[assignment]  # the articles table refuses a NULL title
    with pytest.raises(Exception):  # noqa: B017, PT011 (sqlite's IntegrityError)
        store.record_fetch(
            FetchResult(SOURCES[1], "ok"),
            [good, broken],
            [linker.link(good.link_text()), linker.link("")],
        )
    assert store.count("articles") == 1 and story_problems(store.db.conn) == []
    put(store, linker, [good], source=1)  # the index forgot what the rollback took back
    assert story_of(store, "https://m0.cl/1") == story_of(store, "https://m1.cl/2")
    assert store.count("stories") == 1 and story_problems(store.db.conn) == []


def test_readers_articles_between_and_stories_between(store: Store, linker: Linker) -> None:
    put(store, linker, [art(1, *STRIKE, MONDAY)], source=0)
    put(
        store,
        linker,
        [
            art(2, *STRIKE_LATER, MONDAY + timedelta(days=1)),
            art(3, *HOSPITAL, MONDAY + timedelta(days=3)),
        ],
        source=1,
    )
    tuesday = date(2026, 11, 24)
    articles = store.articles_between(date(2026, 11, 23), tuesday)
    assert [a["url"] for a in articles] == ["https://m1.cl/2", "https://m0.cl/1"]
    assert len({a["story_id"] for a in articles}) == 1 and articles[0]["outlets"] == ["Medio 1"]
    assert set(store.stories_between(tuesday, tuesday)) == {articles[0]["story_id"]}
    assert [a["url"] for a in store.story_articles(articles[0]["story_id"])] == [
        "https://m1.cl/2",
        "https://m0.cl/1",
    ]


def old_database(path: Path, linker: Linker, stop_before: str = "m006_stories") -> Database:
    """A database as the code before stories left it: articles and links, no story."""
    db = Database(path)
    migrations.apply(db, stop_before=stop_before)
    rows = [
        (1, "https://m0.cl/1", *STRIKE, "2026-11-23"),
        (2, "https://m1.cl/2", *STRIKE_LATER, "2026-11-25"),
        (3, "https://m1.cl/3", *HOSPITAL, "2026-11-25"),
        (4, "https://m2.cl/4", *STRIKE, "2026-12-10"),
    ]
    for article_id, url, title, summary, day in rows:
        db.execute(
            "insert into articles (id, url, title, summary, outlet, source_id, local_date,"
            " published_at_utc)"
            " values (?, ?, ?, ?, 'Medio', 'medio0', ?, ?)",
            [article_id, url, title, summary, day, f"{day}T12:00:00+00:00"],
        )
        for link in linker.link(f"{title}\n\n{summary}").all_links():
            db.execute(
                "insert into links (article_id, kind, code, name, evidence, at_risk,"
                " risk_evidence) values (?, ?, ?, ?, '[]', 0, '[]')",
                [article_id, link.kind, link.code, link.name],
            )
    db.conn.commit()
    return db


def test_an_old_database_gets_its_stories_on_opening(tmp_path: Path, linker: Linker) -> None:
    old_database(tmp_path / "old.db", linker).close()
    store = Store(open_database(tmp_path / "old.db"))
    store.sync_sources(SOURCES)
    assert story_problems(store.db.conn) == []
    stories = [row[0] for row in store.db.execute("select story_id from articles order by id")]
    assert stories[0] == stories[1] and len(set(stories)) == 3  # the December copy is a new story
    put(store, linker, [art(5, *STRIKE_LATER, datetime(2026, 12, 11, 15, tzinfo=UTC))], source=3)
    assert story_of(store, "https://m3.cl/5") == stories[3]


def test_an_interrupted_backfill_resumes_where_it_was(tmp_path: Path, linker: Linker) -> None:
    db = old_database(tmp_path / "old.db", linker, stop_before="m007_stories_backfill")
    keeper = StoryKeeper(db)
    with db.atomic():  # the first day was done when the process was killed
        _backfill_day(db, keeper, "2026-11-23")
    first = db.execute("select story_id from articles where id = 1").fetchone()[0]
    db.close()
    store = Store(open_database(tmp_path / "old.db"))
    assert story_problems(store.db.conn) == []
    assert story_of(store, "https://m0.cl/1") == first == story_of(store, "https://m1.cl/2")


def test_the_window_is_a_setting_checked_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "agenda.yaml"
    config.write_text("mail:\n  outbox: out\nstories:\n  window_days: 5\n", encoding="utf-8")
    assert load_settings(config, environ={}).stories.window_days == 5
    config.write_text("mail:\n  outbox: out\nstories:\n  window_days: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"agenda.yaml:4: field 'window_days': must be between 1"):
        load_settings(config, environ={})
    config.write_text("stories:\n  window_days: tres\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a whole number of days"):
        load_settings(config, environ={})
    assert load_settings(None, environ={}).stories.window_days == 3
