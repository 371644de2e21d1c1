from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlite_utils import Database

from agenda.reports.chart import render_chart
from agenda.collect import FetchResult
from agenda.reports.digest import Edition, build_digest, build_stories, render_html, render_text, spanish_date
from agenda.extract import Article
from agenda.keywords import Keywords
from agenda.link import Linker
from agenda.sources import Source
from agenda.store import Store

DAY = date(2026, 11, 24)
NOON = datetime(2026, 11, 24, 15, tzinfo=timezone.utc)
LITORAL = Source(id="litoral", name="El Litoral", url="https://l.cl/f", kind="rss", region_code="05")
SUR = Source(id="sur", name="El Sur", url="https://s.cl/f", kind="rss", region_code="08")
BROKEN = Source(id="caida", name="Radio Caída", url="https://c.cl/f", kind="rss", region_code="03")


def art(source: Source, url: str, title: str, summary: str = "", when: datetime = NOON) -> Article:
    return Article(url=url, title=title, summary=summary, source_id=source.id, outlet=source.name, source_region=source.region_code, published_at_utc=when)


def stored(linker: Linker, articles: list[Article]) -> Store:
    store = Store(Database(memory=True))
    store.sync_sources([LITORAL, SUR, BROKEN])
    for source in (LITORAL, SUR):
        mine = [a for a in articles if a.source_id == source.id]
        store.record_fetch(FetchResult(source, "ok"), mine, [linker.link(a.link_text()) for a in mine])
    store.record_fetch(FetchResult(BROKEN, "error", error="HTTP 500 Internal Server Error"))
    return store


ARTICLES = [
    art(LITORAL, "https://l.cl/1", "Obras del Hospital de Quilpué siguen paralizadas", "Las obras del Hospital de Quilpué están paralizadas desde octubre."),
    art(LITORAL, "https://l.cl/2", "Puerto Exterior de San Antonio avanza", "El Puerto Exterior de San Antonio obtuvo permisos ambientales."),
    art(LITORAL, "https://l.cl/3", "Temporal deja 300 familias aisladas en Temuco y Padre Las Casas", "Las lluvias en Temuco y Padre Las Casas dejaron 300 familias aisladas y cortes de luz."),
    art(SUR, "https://s.cl/9", "Temporal aísla a 300 familias en Temuco y Padre Las Casas", "Trescientas familias quedaron aisladas en Temuco y Padre Las Casas por las lluvias, con cortes de luz."),
    art(SUR, "https://s.cl/10", "Carabineros detiene a banda de portonazos en Concepción", "La banda operaba en Concepción y Talcahuano."),
    art(SUR, "https://s.cl/11", "Cumbre climática en Ginebra", "Delegados de 190 países se reúnen en Suiza."),
]


@pytest.mark.parametrize(("day", "words"), [(date(2026, 11, 24), "martes 24 de noviembre de 2026"), (date(2027, 1, 3), "domingo 3 de enero de 2027")])
def test_spanish_date(day: date, words: str) -> None:
    assert spanish_date(day) == words


def test_one_story_one_item_with_every_outlet(linker: Linker, keywords: Keywords) -> None:
    store = stored(linker, ARTICLES)
    day = build_stories(DAY, store.articles_on(DAY), keywords)
    assert day.article_count == 6 and len(day.stories) == 5
    storm = next(s for s in day.stories if "Temuco" in s.title)
    assert sorted(storm.outlets) == ["El Litoral", "El Sur"] and len(storm.articles) == 2
    assert "2 medios" in storm.reasons


def test_national_digest_structure_and_ranking(linker: Linker, keywords: Keywords) -> None:
    store = stored(linker, ARTICLES)
    digest = build_digest(build_stories(DAY, store.articles_on(DAY), keywords), store.source_health(), keywords)
    assert digest.date_words == "martes 24 de noviembre de 2026"
    assert [m.id for m in digest.critical] == ["hospital-marga-marga"]
    assert digest.top_stories[0].title.startswith("Obras del Hospital de Quilpué")  # critical first
    assert digest.top_stories[0].why.startswith("compromiso en situación crítica")
    assert [s.code for s in digest.regions][:1] == ["05"]  # most stories
    assert [s.title for s in digest.national_stories] == ["Cumbre climática en Ginebra"]
    assert [row.code for row in digest.coverage][:3] == ["15", "01", "02"]  # north to south
    assert "Ñuble" in digest.uncovered_regions and "La Araucanía" in digest.thin_regions
    assert [(s.name, s.error) for s in digest.failing_sources] == [("Radio Caída", "HTTP 500 Internal Server Error")]
    assert digest.subject == "Agenda Regional — martes 24 de noviembre de 2026 · 1 compromiso en situación crítica"
    text = render_text(digest)
    assert text.index("COMPROMISOS EN SITUACIÓN CRÍTICA") < text.index("LO PRINCIPAL") < text.index("== VALPARAÍSO") < text.index("COBERTURA")
    assert "«Las obras del Hospital de Quilpué están paralizadas desde octubre.»" in text
    html = render_html(digest, chart_src="cid:grafico-regiones")
    for section in ('id="criticos"', 'id="principal"', 'id="region-09"', 'id="cobertura"', 'src="cid:grafico-regiones"'):
        assert section in html
    assert "<script" not in html and 'src="http' not in html and "<link" not in html


def test_regional_edition_only_has_its_regions(linker: Linker, keywords: Keywords) -> None:
    store = stored(linker, ARTICLES)
    stories = build_stories(DAY, store.articles_on(DAY), keywords)
    edition = build_digest(stories, store.source_health(), keywords, Edition("Edición Biobío y La Araucanía", ("08", "09")))
    assert [s.code for s in edition.regions] == ["08", "09"] or [s.code for s in edition.regions] == ["09", "08"]
    assert edition.critical == []  # the Quilpué hospital is in Valparaíso
    assert all(set(s.region_codes) & {"08", "09"} for s in edition.top_stories)
    assert edition.subject == "Agenda Regional · Edición Biobío y La Araucanía — martes 24 de noviembre de 2026 · sin compromisos críticos"


def test_day_boundary_is_santiago(linker: Linker, keywords: Keywords) -> None:
    late = art(SUR, "https://s.cl/late", "Corte de luz en Chillán", when=datetime(2026, 11, 25, 2, 40, tzinfo=timezone.utc))  # 23:40 in Chile
    next_day = art(SUR, "https://s.cl/next", "Feria en Talca", when=datetime(2026, 11, 25, 3, 10, tzinfo=timezone.utc))
    store = stored(linker, [late, next_day])
    titles = [s.title for s in build_stories(DAY, store.articles_on(DAY), keywords).stories]
    assert titles == ["Corte de luz en Chillán"]


def test_hostile_titles_are_text_not_markup(linker: Linker, keywords: Keywords) -> None:
    store = stored(linker, [
        art(LITORAL, "https://l.cl/x", 'Alerta en Quilpué <script>alert("x")</script>', '"><img src=x onerror=alert(1)> en Viña del Mar'),
        art(LITORAL, "javascript:alert(1)", "Enlace hostil en Quilpué"),
    ])
    digest = build_digest(build_stories(DAY, store.articles_on(DAY), keywords), store.source_health(), keywords)
    html = render_html(digest)
    assert "<script>alert" not in html and "<img src=x" not in html and "javascript:" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_empty_day_still_renders(keywords: Keywords) -> None:
    store = Store(Database(memory=True))
    digest = build_digest(build_stories(DAY, [], keywords), store.source_health(), keywords)
    assert digest.article_count == 0 and len(digest.uncovered_regions) == 16
    assert "Sin noticias para esta fecha." in render_text(digest)
    assert render_chart(digest).startswith(b"\x89PNG")


def test_chart_is_a_png(linker: Linker, keywords: Keywords) -> None:
    store = stored(linker, ARTICLES)
    png = render_chart(build_digest(build_stories(DAY, store.articles_on(DAY), keywords), store.source_health(), keywords))
    assert png.startswith(b"\x89PNG") and len(png) > 5000
