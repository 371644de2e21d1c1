from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlite_utils import Database

from agenda.collect import FetchResult
from agenda.digest import build_digest, render_html, render_text, spanish_date
from agenda.extract import Article
from agenda.keywords import Keywords
from agenda.link import Linker
from agenda.sources import Source
from agenda.store import Store

DAY = date(2026, 11, 24)
NOON = datetime(2026, 11, 24, 15, tzinfo=timezone.utc)
GOOD = Source(id="litoral", name="El Litoral", url="https://l.cl/f", kind="rss", region_code="05")
BROKEN = Source(id="caida", name="Radio Caída", url="https://c.cl/f", kind="rss", region_code="03")


def stored(linker: Linker, articles: list[Article]) -> Store:
    store = Store(Database(memory=True))
    store.sync_sources([GOOD, BROKEN])
    store.record_fetch(FetchResult(GOOD, "ok"), articles, [linker.link(a.link_text()) for a in articles])
    store.record_fetch(FetchResult(BROKEN, "error", error="HTTP 500 Internal Server Error"))
    return store


def art(url: str, title: str, summary: str = "") -> Article:
    return Article(url=url, title=title, summary=summary, source_id="litoral", outlet="El Litoral", source_region="05", published_at_utc=NOON)


@pytest.mark.parametrize(("day", "words"), [(date(2026, 11, 24), "martes 24 de noviembre de 2026"), (date(2027, 1, 3), "domingo 3 de enero de 2027")])
def test_spanish_date(day: date, words: str) -> None:
    assert spanish_date(day) == words


def test_digest_sections_risk_first_and_source_health(linker: Linker, keywords: Keywords) -> None:
    store = stored(linker, [
        art("https://l.cl/1", "Obras del Hospital de Quilpué siguen paralizadas", "Las obras del Hospital de Quilpué están paralizadas desde octubre."),
        art("https://l.cl/2", "Puerto Exterior de San Antonio avanza", "El Puerto Exterior de San Antonio obtuvo permisos."),
        art("https://l.cl/3", "Lluvias en Temuco y Padre Las Casas"),
        art("https://l.cl/4", "Cumbre climática en Ginebra"),
    ])
    digest = build_digest(DAY, store.articles_on(DAY), store.source_health(), keywords)
    assert digest.date_words == "martes 24 de noviembre de 2026"
    assert [m.id for m in digest.at_risk] == ["hospital-marga-marga"]
    assert digest.commitments[0].id == "hospital-marga-marga"  # at-risk first
    assert "Las obras del Hospital de Quilpué están paralizadas desde octubre." in digest.at_risk[0].evidence
    assert [s.code for s in digest.regions] == ["05", "09"]  # by activity
    assert [a.title for a in digest.national_articles] == ["Cumbre climática en Ginebra"]
    assert "Ñuble" in digest.uncovered_regions
    assert [(s.name, s.error) for s in digest.failing_sources] == [("Radio Caída", "HTTP 500 Internal Server Error")]
    assert "1 compromiso en riesgo" in digest.subject
    text, html = render_text(digest), render_html(digest)
    assert text.index("COMPROMISOS EN RIESGO") < text.index("== VALPARAÍSO")
    assert "«Las obras del Hospital de Quilpué están paralizadas desde octubre.»" in text
    assert 'id="region-09"' in html and "La Araucanía" in html
    assert "Radio Caída" in html and "HTTP 500" in html


def test_hostile_titles_are_text_not_markup(linker: Linker, keywords: Keywords) -> None:
    store = stored(linker, [
        art("https://l.cl/x", 'Alerta en Quilpué <script>alert("x")</script>', '"><img src=x onerror=alert(1)> en Viña del Mar'),
    ])
    html = render_html(build_digest(DAY, store.articles_on(DAY), store.source_health(), keywords))
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_empty_day_still_renders(keywords: Keywords) -> None:
    store = Store(Database(memory=True))
    digest = build_digest(DAY, store.articles_on(DAY), store.source_health(), keywords)
    assert digest.article_count == 0 and len(digest.uncovered_regions) == 16
    assert "0 noticias" in render_text(digest)
