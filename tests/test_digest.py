from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlite_utils import Database

from agenda.collect import FetchResult
from agenda.extract import Article
from agenda.keywords import Keywords
from agenda.link import Linker
from agenda.reports.chart import LABEL_PX, WIDTH, region_chart
from agenda.reports.digest import (
    Edition,
    build_digest,
    build_stories,
    make_digest,
    render_email,
    render_html,
    render_text,
    spanish_date,
    write_digest,
)
from agenda.sources import Source
from agenda.store import Store

DAY = date(2026, 11, 24)
NOON = datetime(2026, 11, 24, 15, tzinfo=UTC)
LITORAL = Source(
    id="litoral", name="El Litoral", url="https://l.cl/f", kind="rss", region_code="05"
)
SUR = Source(id="sur", name="El Sur", url="https://s.cl/f", kind="rss", region_code="08")
BROKEN = Source(id="caida", name="Radio Caída", url="https://c.cl/f", kind="rss", region_code="03")


def art(source: Source, url: str, title: str, summary: str = "", when: datetime = NOON) -> Article:
    return Article(
        url=url,
        title=title,
        summary=summary,
        source_id=source.id,
        outlet=source.name,
        source_region=source.region_code,
        published_at_utc=when,
    )


def stored(linker: Linker, articles: list[Article]) -> Store:
    store = Store(Database(memory=True))
    store.sync_sources([LITORAL, SUR, BROKEN])
    for source in (LITORAL, SUR):
        mine = [a for a in articles if a.source_id == source.id]
        store.record_fetch(
            FetchResult(source, "ok"), mine, [linker.link(a.link_text()) for a in mine]
        )
    store.record_fetch(
        FetchResult(
            BROKEN, "error", error="el servidor respondió con un error (500); se reintentó 3 veces"
        )
    )
    return store


ARTICLES = [
    art(
        LITORAL,
        "https://l.cl/1",
        "Obras del Hospital de Quilpué siguen paralizadas",
        "Las obras del Hospital de Quilpué están paralizadas desde octubre.",
    ),
    art(
        LITORAL,
        "https://l.cl/2",
        "Puerto Exterior de San Antonio avanza",
        "El Puerto Exterior de San Antonio obtuvo permisos ambientales.",
    ),
    art(
        LITORAL,
        "https://l.cl/3",
        "Temporal deja 300 familias aisladas en Temuco y Padre Las Casas",
        "Las lluvias en Temuco y Padre Las Casas dejaron 300 familias aisladas y cortes de luz.",
    ),
    art(
        SUR,
        "https://s.cl/9",
        "Temporal aísla a 300 familias en Temuco y Padre Las Casas",
        "Trescientas familias quedaron aisladas en Temuco y "
        "Padre Las Casas por las lluvias, con cortes de luz.",
    ),
    art(
        SUR,
        "https://s.cl/10",
        "Carabineros detiene a banda de portonazos en Concepción",
        "La banda operaba en Concepción y Talcahuano.",
    ),
    art(
        SUR,
        "https://s.cl/11",
        "Cumbre climática en Ginebra",
        "Delegados de 190 países se reúnen en Suiza.",
    ),
]


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (date(2026, 11, 24), "martes 24 de noviembre de 2026"),
        (date(2027, 1, 3), "domingo 3 de enero de 2027"),
    ],
)
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
    digest = build_digest(
        build_stories(DAY, store.articles_on(DAY), keywords), store.source_health(), keywords
    )
    assert digest.date_words == "martes 24 de noviembre de 2026"
    assert [m.id for m in digest.critical] == ["hospital-marga-marga"]
    assert (
        digest.critical[0].sentence
        == "Las obras del Hospital de Quilpué están paralizadas desde octubre."
    )
    quilpue = digest.critical[0].lead
    assert quilpue is not None and quilpue.why.startswith("compromiso en situación crítica")
    assert quilpue not in digest.top_stories  # shown in its card, not again
    assert [s.code for s in digest.regions][:1] == ["05"]  # most stories
    assert [s.title for s in digest.regions[-1].stories] == [
        "Cumbre climática en Ginebra"
    ]  # "Nacional", last
    assert [row.code for row in digest.coverage][:3] == ["15", "01", "02"]  # north to south
    assert "Ñuble" in digest.uncovered_regions and "La Araucanía" in digest.thin_regions
    assert [s.name for s in digest.failing_sources] == ["Radio Caída"]
    assert (
        digest.subject
        == "Agenda Regional — martes 24 de noviembre de 2026 · 1 compromiso en situación crítica"
    )
    text = render_text(digest)
    assert (
        text.index("COMPROMISOS EN SITUACIÓN CRÍTICA")
        < text.index("LO PRINCIPAL")
        < text.index("POR REGIÓN")
        < text.index("COBERTURA")
    )
    assert "«Las obras del Hospital de Quilpué están paralizadas desde octubre.»" in text
    assert "6 notas · 5 temas · 2 medios · 3 regiones" in text and "historia" not in text
    assert "1 fuente con fallas de 3." in text
    html = render_email(digest)
    for section in (
        'id="criticos"',
        'id="principal"',
        'id="region-09"',
        'id="cobertura"',
        'href="2026-11-24.html#region-09"',
        'href="compromisos/hospital-marga-marga.html"',
        'href="2026-11-24.html#fuentes"',
    ):
        assert section in html, section
    assert (
        "<script" not in html
        and 'src="http' not in html
        and "<link" not in html
        and "<img" not in html
    )
    web = render_html(digest)
    assert "Radio Caída" in web and "1 falla consecutiva" in web and 'id="fuentes"' in web


def test_story_lines_bold_matched_words_and_say_why_in_plain_words(
    linker: Linker, keywords: Keywords
) -> None:
    store = stored(linker, ARTICLES)
    digest = build_digest(
        build_stories(DAY, store.articles_on(DAY), keywords), store.source_health(), keywords
    )
    storm = next(s for s in digest.top_stories if "Temuco" in s.title)
    note = digest.notes[storm.id]
    assert {text for text, bold in note.snippet if bold} >= {"Temuco", "Padre Las Casas"}
    assert "<b>Temuco</b>" in render_email(digest)
    assert "la publican 2 medios" in note.why and ";" not in storm.title
    port = next(s for s in digest.stories if "Puerto Exterior" in s.title)
    assert digest.notes[port.id].why.startswith(
        "Sigue el compromiso Puerto Exterior de San Antonio"
    )


def test_feedback_link_names_the_article_and_the_command(
    linker: Linker, keywords: Keywords
) -> None:
    from urllib.parse import parse_qs, unquote, urlsplit

    from agenda.settings import DigestSettings

    store = stored(linker, ARTICLES)
    digest = build_digest(
        build_stories(DAY, store.articles_on(DAY), keywords), store.source_health(), keywords
    )
    html = render_email(digest, DigestSettings(feedback_to="analistas@example.cl"))
    links = [
        unquote(h).replace("&amp;", "&")
        for h in __import__("re").findall(r'href="(mailto:[^"]+)"', html)
    ]
    assert len(links) == len(digest.top_stories)
    port = next(s for s in digest.top_stories if "Puerto Exterior" in s.title)
    query = parse_qs(urlsplit(next(href for href in links if f"nota {port.id}:" in href)).query)
    assert urlsplit(links[0]).path == "analistas@example.cl"
    assert query["subject"][0].startswith(
        f"Error en la nota {port.id}: Puerto Exterior de San Antonio avanza"
    )
    assert query["subject"][0].endswith(f"agenda feedback {port.id} --not 05601")  # San Antonio
    assert render_email(digest).count("¿Error?") == 0  # no address, no link


def test_regional_edition_only_has_its_regions(linker: Linker, keywords: Keywords) -> None:
    store = stored(linker, ARTICLES)
    stories = build_stories(DAY, store.articles_on(DAY), keywords)
    edition = build_digest(
        stories,
        store.source_health(),
        keywords,
        Edition("Edición Biobío y La Araucanía", ("08", "09")),
    )
    assert [s.code for s in edition.regions] == ["08", "09"] or [
        s.code for s in edition.regions
    ] == ["09", "08"]
    assert edition.critical == []  # the Quilpué hospital is in Valparaíso
    assert all(set(s.region_codes) & {"08", "09"} for s in edition.top_stories)
    assert (
        edition.subject
        == "Agenda Regional · Edición Biobío y La Araucanía — martes 24 de noviembre de 2026 · "
        "sin compromisos críticos"
    )


def test_day_boundary_is_santiago(linker: Linker, keywords: Keywords) -> None:
    late = art(
        SUR,
        "https://s.cl/late",
        "Corte de luz en Chillán",
        when=datetime(2026, 11, 25, 2, 40, tzinfo=UTC),
    )  # 23:40 in Chile
    next_day = art(
        SUR,
        "https://s.cl/next",
        "Feria en Talca",
        when=datetime(2026, 11, 25, 3, 10, tzinfo=UTC),
    )
    store = stored(linker, [late, next_day])
    titles = [s.title for s in build_stories(DAY, store.articles_on(DAY), keywords).stories]
    assert titles == ["Corte de luz en Chillán"]


def test_hostile_titles_are_text_not_markup(linker: Linker, keywords: Keywords) -> None:
    store = stored(
        linker,
        [
            art(
                LITORAL,
                "https://l.cl/x",
                'Alerta en Quilpué <script>alert("x")</script>',
                '"><img src=x onerror=alert(1)> en Viña del Mar',
            ),
            art(LITORAL, "javascript:alert(1)", "Enlace hostil en Quilpué"),
        ],
    )
    digest = build_digest(
        build_stories(DAY, store.articles_on(DAY), keywords), store.source_health(), keywords
    )
    for html in (render_html(digest), render_email(digest)):
        assert (
            "<script>alert" not in html and "<img src=x" not in html and "javascript:" not in html
        )
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_empty_day_says_so_in_one_sentence(keywords: Keywords, tmp_path) -> None:  # noqa: ANN001
    store = Store(Database(memory=True))
    digest = build_digest(build_stories(DAY, [], keywords), store.source_health(), keywords)
    assert digest.empty and digest.article_count == 0
    sentence = "Sin notas para el martes 24 de noviembre de 2026."
    text = render_text(digest)
    assert text.split("\n\n", 1)[1].strip() == sentence  # after the title, one sentence
    for html in (render_email(digest), render_html(digest)):
        assert (
            sentence in html
            and "0 fuentes" not in html
            and "<img" not in html
            and "<svg" not in html  # no chart of zeros
            and "Lo principal" not in html
        )
    assert region_chart(digest) == ""
    files = write_digest(digest, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (files.html, files.text, files.index)
    )  # the web edition, the e-mail's text and the archive: nothing else
    # with sources failing, the same one sentence says how many
    store.sync_sources([BROKEN])
    store.record_fetch(FetchResult(BROKEN, "error", error="no respondió en 20 s"))
    digest = build_digest(build_stories(DAY, [], keywords), store.source_health(), keywords)
    assert "Sin notas para el martes 24 de noviembre de 2026; 1 fuente con fallas." in render_text(
        digest
    )


def test_chart_is_drawn_for_a_phone(linker: Linker, keywords: Keywords) -> None:
    """One bar per region with notes, north to south, red where a commitment is critical, each
    counted in Chilean style; 13 px labels in a chart shown at its own width (web.html.j2)."""
    import html
    import re

    store = stored(linker, ARTICLES + many_in_valparaiso(1200))
    digest = build_digest(
        build_stories(DAY, store.articles_on(DAY), keywords), store.source_health(), keywords
    )
    svg = region_chart(digest)
    assert svg.startswith(f'<svg class="chart" viewBox="0 0 {WIDTH} ') and svg.endswith("</svg>")
    assert 'role="img"' in svg and "<title>Notas por región, de norte a sur</title>" in svg
    bars = re.findall(r'<rect [^>]*fill="(#[0-9a-f]+)"><title>([^:<]+): ([^<]+)</title>', svg)
    counted = {row.name: row for row in digest.coverage if row.articles}
    assert [name for _, name, _ in bars] == list(counted)  # one bar per region, north to south
    assert [name for _, name, _ in bars] == ["Valparaíso", "Biobío", "La Araucanía"]
    colours = {name: colour for colour, name, _ in bars}
    assert colours["Valparaíso"] == "#c5221f" != colours["Biobío"] == colours["La Araucanía"]
    valparaiso = counted["Valparaíso"]
    assert valparaiso.articles > 1000 and valparaiso.critical == 1
    what = f"{valparaiso.articles // 1000}.{valparaiso.articles % 1000:03d} notas, 1 compromiso"
    assert dict((name, said) for _, name, said in bars)["Valparaíso"] == what + " crítico"
    texts = re.findall(r'<text [^>]*font-size="(\d+)"[^>]*>([^<]*)</text>', svg)
    shown = [html.unescape(text) for _, text in texts]  # O&#39;Higgins: escaped in the markup
    assert shown[0] == "Notas por región" and shown[1::2] == [r.name for r in digest.coverage]
    counts = [f"{r.articles:,}".replace(",", ".") for r in digest.coverage]
    assert shown[2::2] == counts  # every region its count, "1.2xx" in Chilean style; 0 has no bar
    assert all(int(size) >= LABEL_PX for size, _ in texts)  # no smaller print
    label = re.search(r'aria-label="([^"]+)"', svg)
    assert label and f"Valparaíso: {what} crítico" in label.group(1)
    assert "<script" not in svg


def many_in_valparaiso(count: int) -> list[Article]:
    """Short notes about Valparaíso's port: a count past a thousand (1.2xx on the chart)."""
    return [
        art(LITORAL, f"https://l.cl/puerto-{n}", f"Movimiento {n} en el puerto de Valparaíso")
        for n in range(count)
    ]


def test_each_story_is_shown_once_and_every_article_link_at_most_once(
    linker: Linker, keywords: Keywords, tmp_path
) -> None:  # noqa: ANN001
    from tests.days import demo_day

    store = Store(Database(memory=True))
    demo_day(linker, store, tmp_path)
    day_stories, digest = make_digest(store, keywords, DAY)
    urls = [a["url"] for a in store.articles_on(DAY)]
    html, text = render_email(digest), render_text(digest)
    for url in urls:
        assert html.count(f'href="{url}"') <= 1, url
        assert text.count(url) <= 1, url
    # the train to Chillán is about three regions: one line under "Varias regiones", not three
    train = next(s for s in digest.stories if "Santiago-Chillán" in s.title)
    assert len(train.region_codes) == 3
    assert [r.code for r in digest.regions if train in r.stories] == ["varias"]
    assert sum(html.count(t) for t in [train.title]) == 1
    # headlines appear once in the e-mail (the Quilpué hospital was shown four times)
    for story in digest.stories:
        assert html.count(f">{story.title}<") <= 1, story.title
    # section counts count what the section lists
    for section in digest.regions:
        assert f"<b>{section.name}</b> · {section.story_count} tema" in html.replace("&#39;", "'")
    web = render_html(digest)
    assert (
        web.count('id="tema-') == len(digest.top_stories) + digest.story_count
    )  # "Lo principal", then each section


def test_web_edition_links_every_article_of_the_day(
    linker: Linker, keywords: Keywords, tmp_path
) -> None:  # noqa: ANN001
    from tests.days import demo_day

    store = Store(Database(memory=True))
    demo_day(linker, store, tmp_path)
    _, digest = make_digest(store, keywords, DAY)
    files = write_digest(digest, tmp_path / "digests")
    web = files.html.read_text(encoding="utf-8")
    urls = [a["url"] for a in store.articles_on(DAY)]
    assert len(urls) == 47
    missing = [url for url in urls if f'href="{url}"' not in web]
    assert missing == []
    for section in digest.regions:
        assert f'href="#{section.anchor}"' in web and f'id="{section.anchor}"' in web  # navigation
    assert "Los Ángeles" in web and "Los Angeles" not in web  # official names with their accents


def test_archive_url_and_feedback_to_come_from_agenda_yaml(
    linker: Linker, keywords: Keywords, tmp_path
) -> None:  # noqa: ANN001
    from agenda.errors import ConfigError
    from agenda.settings import load_settings

    config = tmp_path / "agenda.yaml"
    config.write_text(
        "mail:\n  from: agenda@example.cl\ndigest:\n"
        "  archive_url: https://agenda.example.cl/digests/\n",
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})
    assert settings.digest.archive_url == "https://agenda.example.cl/digests/"
    assert (
        settings.digest.feedback_to == "agenda@example.cl"
    )  # replies go to the sender unless said
    store = stored(linker, ARTICLES)
    digest = build_digest(
        build_stories(DAY, store.articles_on(DAY), keywords), store.source_health(), keywords
    )
    html = render_email(digest, settings.digest)
    assert 'href="https://agenda.example.cl/digests/2026-11-24.html#region-05"' in html
    assert 'href="https://agenda.example.cl/digests/compromisos/hospital-marga-marga.html"' in html
    assert "mailto:agenda@example.cl?subject=" in html
    config.write_text("digest:\n  feedback_to: analistas\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="feedback_to"):
        load_settings(config, environ={})
    config.write_text("digest:\n  archive_url: ftp://x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config, environ={})
    assert ":2" in str(info.value) and "archive_url" in str(info.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://www.elmercurio.cl/nota-1", True),
        ("HTTP://Diario.cl/a?b=1#c", True),
        ("http://diario.cl", True),
        ("https:///sin-servidor", False),
        ("http://", False),
        ("javascript:alert(1)", False),
        ("JavaScript://diario.cl/%0aalert(1)", False),
        (" data:text/html,<script>", False),
        ("file:///etc/passwd", False),
        ("ftp://diario.cl/a", False),
    ],
)
def test_only_web_addresses_are_shown_as_links(url: str, shown: bool) -> None:
    from agenda.common import is_web_url

    assert is_web_url(url) is shown
