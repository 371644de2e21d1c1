"""Hostile input (issue 10): control characters, impossible dates, enormous fields, non-web links,
Chilean listing dates, full text on a fresh install, and duplicates that must not rewrite evidence.
Everything goes through the real pipeline: loopback server, spaCy linker, SQLite file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from agenda.cli import main
from agenda.collect import FetchLimits, make_client
from agenda.extract import MAX_TEXT_CHARS, MAX_TITLE_CHARS, extract, parse_date
from agenda.link import Linker
from agenda.pipeline import CollectSummary, collect_and_store
from agenda.settings import Settings
from agenda.sources import Selectors, Source, SourceList
from agenda.store import Store, open_database
from agenda.textnorm import strip_controls
from tests.faultserver import RunningFaultServer, serve_faults

LOOPBACK = FetchLimits(
    host_interval_seconds=0, retries=0, total_seconds=30, allow_private_networks=True
)
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 12:00 in Santiago
LISTING = Selectors(item="article", link="a", title="a", date="time", summary="p")


@pytest.fixture
def files(tmp_path: Path) -> Iterator[tuple[Path, RunningFaultServer]]:
    root = tmp_path / "site"
    root.mkdir()
    with serve_faults(files_root=root) as server:
        yield root, server


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Diario</title>'
        + "".join(items)
        + "</channel></rss>\n"
    ).encode("utf-8")


def item(
    title: str,
    link: str,
    date: str = "Tue, 24 Nov 2026 12:00:00 -0300",
    text: str = "Vecinos piden respuestas.",
) -> str:
    return (
        f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate>"
        f"<description>{text}</description></item>"
    )


def collect(sources: list[Source], db_path: Path, linker: Linker) -> tuple[CollectSummary, Store]:
    store = Store(open_database(db_path))

    async def go() -> CollectSummary:
        async with make_client() as client:
            return await collect_and_store(
                SourceList(Path("sources.yaml"), sources),
                linker,
                client,
                store,
                Settings(fetch=LOOPBACK),
                clock=lambda: NOW,
            )

    return asyncio.run(go()), store


def source(source_id: str, url: str, **kwargs: object) -> Source:
    return Source(
        id=source_id,
        name=source_id,
        url=url,
        kind=str(kwargs.pop("kind", "rss")),
        region_code="05",
        **kwargs,
    )  # type: ignore[arg-type]


# -- 2. control characters ------------------------------------------------------------------------
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x00\x9b31m"


def test_control_characters_never_reach_the_store_nor_the_terminal(
    files, tmp_path: Path, linker: Linker, capsys: pytest.CaptureFixture[str]
) -> None:  # noqa: ANN001
    root, server = files
    (root / "feed.xml").write_bytes(
        rss(item(f"Temporal{ESCAPES} en Quilpué", "https://d.cl/1", text=f"Lluvia{ESCAPES} fuerte"))
    )
    (root / "listado.html").write_bytes(
        '<html><body><article><a href="/n/2">Corte\x1b[2J de luz\x85 en Quillota</a>'
        "<p>Bajada\x07</p></article></body></html>".encode()
    )
    sources = [
        source("feed", f"{server.base_url}/files/feed.xml"),
        source("listado", f"{server.base_url}/files/listado.html", kind="html", selectors=LISTING),
    ]
    summary, store = collect(sources, tmp_path / "a.db", linker)
    assert summary.failures == []
    for row in store.db.query("select title, summary, coalesce(text, '') as text from articles"):
        for value in row.values():
            assert value == strip_controls(value) and "\x1b" not in value and "\x00" not in value
    titles = sorted(row["title"] for row in store.db.query("select title from articles"))
    assert titles[0] == "Corte[2J de luz en Quillota"
    # feedparser reads a C1 byte as windows-1252 does (0x9b is "›"): text, no longer a control
    assert titles[1].startswith("Temporal]0;pwned[2J") and titles[1].endswith("31m en Quilpué")
    assert main(["search", "--db", str(tmp_path / "a.db"), "Quilpué"]) == 0
    out = capsys.readouterr().out
    assert "Temporal" in out and "\x1b" not in out and "\x07" not in out


# -- 3. one bad item never loses its source -------------------------------------------------------
def test_bad_items_are_repaired_and_counted_and_the_rest_lands(
    files, tmp_path: Path, linker: Linker
) -> None:  # noqa: ANN001
    root, server = files
    huge_title = (
        "Quilpué " * 125_000
    )  # 1,000,000 characters (999,999 once the last space goes): E088
    (root / "feed.xml").write_bytes(
        rss(
            item("Hospital de Quilpué avanza", "https://d.cl/ok"),
            item("Nota del año uno", "https://d.cl/year-1", date="Mon, 01 Jan 0001 00:00:00 GMT"),
            item(
                "Nota del año 9999", "https://d.cl/year-9999", date="Fri, 31 Dec 9999 23:59:59 GMT"
            ),
            item(
                "Nota con fecha imposible",
                "https://d.cl/overflow",
                date="Sat, 01 Jan 99999 00:00:00 GMT",
            ),
            item(huge_title, "https://d.cl/huge", text="texto " * 250_000),
        )
    )
    (root / "listado.html").write_bytes(
        (
            "<html><body>"
            '<article><a href="/n/ok">Puente en Temuco reabre</a>'
            "<time>24/11/2026 08:30</time></article>"
            '<article><a href="/n/9999">Fecha del fin del mundo</a>'
            "<time>31/12/9999 23:59</time></article>"
            '<article><a href="/n/0">Fecha del año cero</a>'
            '<time datetime="0001-01-01T00:00:00">1 ene 1</time></article>'
            '<article><a href="javascript:alert(document.cookie)">Enlace javascript</a></article>'
            '<article><a href="data:text/html;base64,PHNjcmlwdD4=">Enlace data</a></article>'
            '<article><a href=" JavaScript:alert(1)">Enlace con espacios</a></article>'
            "</body></html>"
        ).encode()
    )
    sources = [
        source("feed", f"{server.base_url}/files/feed.xml"),
        source("listado", f"{server.base_url}/files/listado.html", kind="html", selectors=LISTING),
    ]
    summary, store = collect(sources, tmp_path / "a.db", linker)

    assert summary.failures == [] and summary.sources_ok == 2
    rows = {row["id"]: row for row in store.source_health()}
    assert rows["feed"]["error_count"] == 0 and rows["feed"]["last_item_count"] == 5
    assert rows["listado"]["error_count"] == 0 and rows["listado"]["last_item_count"] == 3
    articles = {row["url"]: row for row in store.db.query("select * from articles")}
    assert articles["https://d.cl/ok"]["local_date"] == "2026-11-24"
    for url in ("https://d.cl/year-1", "https://d.cl/year-9999", "https://d.cl/overflow"):
        assert (
            articles[url]["published_at_utc"] is None
            and articles[url]["local_date"] == "2026-11-24"
        )  # no date: seen today
    huge = articles["https://d.cl/huge"]
    assert len(huge["title"]) == MAX_TITLE_CHARS
    assert (
        store.db.execute(
            "select count(*) from links where article_id = ?", [huge["id"]]
        ).fetchone()[0]
        > 0
    )
    listing_urls = {u for u in articles if "/n/" in u}
    assert listing_urls == {
        f"{server.base_url}/n/ok",
        f"{server.base_url}/n/9999",
        f"{server.base_url}/n/0",
    }
    assert articles[f"{server.base_url}/n/ok"]["published_at_utc"] == "2026-11-24T11:30:00+00:00"
    assert articles[f"{server.base_url}/n/9999"]["published_at_utc"] is None
    warnings = dict(summary.warnings)  # the last warning per source is enough to find them
    feed_warnings = [w for s, w in summary.warnings if s == "feed"]
    assert any("fecha imposible (1)" in w for w in feed_warnings), feed_warnings
    assert any("fecha imposible (9999)" in w for w in feed_warnings), feed_warnings
    assert any(
        w.startswith("título de 999.999 caracteres recortado a 1.000") for w in feed_warnings
    ), feed_warnings
    listing_warnings = [w for s, w in summary.warnings if s == "listado"]
    assert sum("enlace que no es web" in w for w in listing_warnings) == 3, listing_warnings
    assert (
        "título de 999.999" in rows["feed"]["last_warning"]
        or "fecha imposible" in rows["feed"]["last_warning"]
    )
    assert warnings  # both sources recorded their repairs


def test_the_caps_keep_the_linker_input_under_spacy_limit() -> None:
    from agenda.extract import MAX_SUMMARY_CHARS

    assert MAX_TITLE_CHARS + MAX_SUMMARY_CHARS + MAX_TEXT_CHARS + 10 < 1_000_000


def test_santiago_date_survives_the_ends_of_the_calendar() -> None:
    from agenda.store import santiago_date

    assert santiago_date(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01"
    assert santiago_date(datetime(9999, 12, 31, 23, 59, tzinfo=UTC)) == "9999-12-31"


# -- 5. listing dates as Chilean sites write them -------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("24 nov 2026", datetime(2026, 11, 24, 3, 0, tzinfo=UTC)),
        (
            "martes 24 de noviembre de 2026, 08:30",
            datetime(2026, 11, 24, 11, 30, tzinfo=UTC),
        ),
        ("24/11/2026 08:30", datetime(2026, 11, 24, 11, 30, tzinfo=UTC)),
        ("24-11-2026", datetime(2026, 11, 24, 3, 0, tzinfo=UTC)),
        (
            "03/04/2026",
            datetime(2026, 4, 3, 3, 0, tzinfo=UTC),
        ),  # day first: 3 April (UTC-3 until Sunday 5)
        ("Hace 3 horas", datetime(2026, 11, 24, 12, 0, tzinfo=UTC)),
        ("hace 2 días", datetime(2026, 11, 22, 15, 0, tzinfo=UTC)),
        (
            "Publicado el 24 de noviembre de 2026 | 08:30 hrs",
            datetime(2026, 11, 24, 11, 30, tzinfo=UTC),
        ),
        ("2026-11-24T09:15:00-03:00", datetime(2026, 11, 24, 12, 15, tzinfo=UTC)),
        ("31/12/9999 23:59", None),
        ("Fri, 31 Dec 9999 23:59:59", None),
        ("sin fecha", None),
        ("", None),
    ],
)
def test_listing_dates_as_chilean_sites_write_them(value: str, expected: datetime | None) -> None:
    assert parse_date(value, NOW) == expected


def test_relative_listing_dates_follow_the_run_clock() -> None:
    body = (
        b'<html><body><article><a href="/n/1">Nota</a><time>Hace 3 horas</time></article>'
        b"</body></html>"
    )
    article = extract(
        source("l", "https://d.cl/", kind="html", selectors=LISTING), body, now=NOW
    ).articles[0]
    assert article.published_at_utc == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


# -- 4. full text on a fresh install ---------------------------------------------------------------
def test_full_text_fetch_end_to_end(tmp_path: Path, linker: Linker) -> None:
    """trafilatura needs lxml_html_clean with lxml >= 5.2: a fulltext source on loopback gets the
    main text of every article page (pyproject declares it; a fresh venv installs it)."""
    import lxml_html_clean  # noqa: F401 (the import a fresh install lacked)

    with serve_faults() as server:
        summary, store = collect(
            [source("completo", f"{server.base_url}/feed/completo.xml", fulltext=True)],
            tmp_path / "a.db",
            linker,
        )
        assert server.stats.requests["/article/completo/1.html"] == 1
    assert summary.failures == [] and summary.warnings == []
    texts = [row["text"] for row in store.db.query("select text from articles order by url")]
    assert len(texts) == 3
    assert all("calendario de trabajos" in t and "Suscríbase" not in t for t in texts)


# -- 7. a duplicate from a second feed never rewrites the stored article's links -----------------
def test_a_duplicate_from_another_feed_adds_its_source_and_keeps_the_evidence(
    files, tmp_path: Path, linker: Linker
) -> None:  # noqa: ANN001
    root, server = files
    (root / "uno.xml").write_bytes(
        rss(
            item(
                "Hospital de Quilpué avanza",
                "https://otro.cl/nota",
                text="Las obras del hospital de Quilpué siguen su curso.",
            )
        )
    )
    (root / "dos.xml").write_bytes(
        rss(
            item(
                "Hospital de Quilpué avanza",
                "https://otro.cl/nota?utm_source=dos",
                text="Obras paralizadas en Temuco y Puerto Montt por falta de pago.",
            )
        )
    )
    db_path = tmp_path / "a.db"
    collect([source("uno", f"{server.base_url}/files/uno.xml")], db_path, linker)
    db = Database(db_path)
    before = list(
        db.query(
            "select kind, code, evidence, at_risk, risk_evidence from links order by kind, code"
        )
    )
    summary, _ = collect([source("dos", f"{server.base_url}/files/dos.xml")], db_path, linker)
    assert (summary.articles_new, summary.articles_seen) == (0, 1)
    assert [
        r["source_id"] for r in db.query("select source_id from article_sources order by source_id")
    ] == ["dos", "uno"]
    after = list(
        db.query(
            "select kind, code, evidence, at_risk, risk_evidence from links order by kind, code"
        )
    )
    assert after == before and before
    stored = db.execute("select title || ' ' || summary from articles").fetchone()[0]
    for row in after:
        for span in json.loads(row["evidence"]) + json.loads(row["risk_evidence"]):
            assert (
                span["text"] in stored
            )  # every evidence sentence is in the stored article's own text


class CountingLinker:
    """The real linker, counting the texts it reads."""

    def __init__(self, linker: Linker) -> None:
        self.linker = linker
        self.texts: list[str] = []

    def link(self, text: str, **kwargs: object) -> object:
        self.texts.append(text)
        return self.linker.link(text, **kwargs)  # type: ignore[arg-type]


def test_items_a_feed_lists_again_are_not_read_again(files, tmp_path: Path, linker: Linker) -> None:  # noqa: ANN001
    root, server = files
    old = item("Hospital de Quilpué avanza", "https://otro.cl/nota", text="Obras en Quilpué.")
    (root / "feed.xml").write_bytes(rss(old))
    feed = [source("uno", f"{server.base_url}/files/feed.xml")]
    db_path = tmp_path / "a.db"
    counting = CountingLinker(linker)
    collect(feed, db_path, counting)  # type: ignore[arg-type]
    links = list(Database(db_path).query("select kind, code, evidence from links order by 1, 2"))
    assert len(counting.texts) == 1 and links
    # the next night the feed lists the same item and a new one (a changed feed: no 304)
    new = item("Puente en Temuco", "https://otro.cl/nota-2", text="Un puente en Temuco.")
    (root / "feed.xml").write_bytes(rss(old, new))
    summary, _ = collect(feed, db_path, counting)  # type: ignore[arg-type]
    assert (summary.articles_new, summary.articles_seen) == (1, 1)
    assert len(counting.texts) == 2 and "Temuco" in counting.texts[-1]  # only the new item
    after = list(
        Database(db_path).query(
            "select kind, code, evidence from links where article_id ="
            " (select id from articles where url = 'https://otro.cl/nota') order by 1, 2"
        )
    )
    assert after == links  # the stored item keeps the links read from its own text
    # an item the feed now lists under another address, with the feed id it had, is known too
    with_id = (
        "<item><title>Plan de viviendas</title><link>{}</link><guid>plan-77</guid>"
        "<description>Viviendas en Angol.</description></item>"
    )
    (root / "feed.xml").write_bytes(rss(with_id.format("https://otro.cl/plan")))
    collect(feed, db_path, counting)  # type: ignore[arg-type]
    moved = extract(feed[0], rss(with_id.format("https://otro.cl/plan-nuevo"))).articles
    unknown = extract(feed[0], rss(item("Otra", "https://otro.cl/otra"))).articles
    store = Store(open_database(db_path))
    assert store.known_articles(moved + unknown) == [True, False]


def test_listing_dates_need_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """dateparser reads its Spanish data from the wheel: no download, even on a first parse."""
    import socket

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("dateparser tried the network")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert parse_date("martes 24 de noviembre de 2026, 08:30", NOW) is not None
    assert parse_date("Hace 3 horas", NOW) == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_what_full_text_and_listing_dates_import_is_declared() -> None:
    """A fresh venv installs only what pyproject declares: trafilatura's lxml_html_clean (not
    declared by trafilatura itself for lxml >= 5.2), lxml, numpy and dateparser must be there."""
    import re
    import tomllib

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    declared = {
        re.split(r"[<>=!~\[ ;]", line, maxsplit=1)[0].lower().replace("-", "_")
        for line in tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    }
    assert {"lxml", "lxml_html_clean", "numpy", "dateparser", "trafilatura"} <= declared
