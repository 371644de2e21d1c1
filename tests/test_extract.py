from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agenda.errors import ParseError
from agenda.extract import canonical_url, clean_text, extract, parse_date
from agenda.sources import Selectors, Source

SAMPLE = Path(__file__).resolve().parent.parent / "sample"


def source(kind: str = "rss", selectors: Selectors | None = None) -> Source:
    return Source(
        id="s",
        name="Fuente",
        url="http://127.0.0.1:9/feed",
        kind=kind,
        region_code="08",
        selectors=selectors,
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Diario.cl/nota/?utm_source=rss&utm_medium=feed", "https://diario.cl/nota"),
        ("https://diario.cl/nota#comentarios", "https://diario.cl/nota"),
        ("https://diario.cl/nota?b=2&a=1&fbclid=x", "https://diario.cl/nota?a=1&b=2"),
        ("https://diario.cl:443/", "https://diario.cl/"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_relative_links_resolve_against_the_page() -> None:
    assert (
        canonical_url("/2026/11/24/nota.html", "https://radio.cl/noticias/")
        == "https://radio.cl/2026/11/24/nota.html"
    )


def test_rss_sample_feed() -> None:
    result = extract(source(), (SAMPLE / "feeds" / "el-sur.xml").read_bytes())
    assert len(result.articles) >= 6
    article = result.articles[0]
    assert article.title and article.url.startswith("https://")
    assert article.published_at_utc is not None and article.published_at_utc.tzinfo is not None
    assert "<" not in article.summary


def test_atom_sample_feed() -> None:
    result = extract(source("atom"), (SAMPLE / "feeds" / "cronica-austral.xml").read_bytes())
    assert len(result.articles) >= 6
    assert all(a.published_at_utc for a in result.articles)


def test_html_listing_uses_selectors_and_skips_page_chrome() -> None:
    selectors = Selectors(
        item="article.nota", link="a.titulo", title="a.titulo", date="time", summary="p.bajada"
    )
    body = (SAMPLE / "site" / "noticias.html").read_bytes()
    result = extract(source("html", selectors), body, "http://127.0.0.1:9/site/noticias.html")
    assert len(result.articles) == body.count(b'<article class="nota"')
    assert all(a.url.startswith("http://127.0.0.1:9/20") for a in result.articles)
    assert all(a.published_at_utc for a in result.articles)


def test_html_selector_matching_nothing_is_a_readable_error() -> None:
    selectors = Selectors(item="div.noticia", link="a", title="a")
    with pytest.raises(ParseError, match="el selector de noticias 'div.noticia' no encontró nada"):
        extract(source("html", selectors), "<html><body><p>Rediseño</p></body></html>".encode())


def test_garbage_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        extract(source(), bytes(range(256)) * 4)


def test_html_served_as_feed_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="la dirección no entrega un feed legible"):
        extract(
            source(),
            b"<!DOCTYPE html><html><head><title>Inicio</title>"
            b"</head><body><p>Hola</p></body></html>",
        )


def test_windows_1252_declared_feed_keeps_accents() -> None:
    body = (
        '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0">'
        "<channel><title>x</title><item><title>Temporal en Ñuble y Biobío</title>"
        "<link>https://x.cl/a</link></item></channel></rss>"
    ).encode("cp1252")
    article = extract(source(), body).articles[0]
    assert article.title == "Temporal en Ñuble y Biobío"


def test_entity_in_title_is_unescaped_and_markup_stripped() -> None:
    body = (
        b'<rss version="2.0"><channel><item><title>Obras &amp; plazos</title>'
        b"<link>https://x.cl/b</link><description>&lt;p&gt;Uno "
        b"&lt;b&gt;dos&lt;/b&gt;&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;</description>"
        b"</item></channel></rss>"
    )
    article = extract(source(), body).articles[0]
    assert article.title == "Obras & plazos"
    assert article.summary == "Uno\ndos"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-24T23:40:00-03:00", datetime(2026, 11, 25, 2, 40, tzinfo=UTC)),
        ("24 de noviembre de 2026, 09:15", datetime(2026, 11, 24, 12, 15, tzinfo=UTC)),
        ("24/11/2026 09:15", datetime(2026, 11, 24, 12, 15, tzinfo=UTC)),
        ("2026-07-01T09:00:00", datetime(2026, 7, 1, 13, 0, tzinfo=UTC)),  # winter: UTC-4
        ("sin fecha", None),
    ],
)
def test_parse_date_in_santiago(value: str, expected: datetime | None) -> None:
    assert parse_date(value) == expected


def test_clean_text_keeps_enye() -> None:
    assert clean_text("<p>Ñuble&nbsp;y Ñuñoa</p>") == "Ñuble y Ñuñoa"


# -- canonical addresses and GUIDs: one article, however it is linked ---------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://diario.cl/2026/11/nota/amp/", "https://diario.cl/2026/11/nota"),
        ("https://diario.cl/amp/2026/11/nota", "https://diario.cl/2026/11/nota"),
        ("https://diario.cl/nota.amp.html", "https://diario.cl/nota.html"),
        ("https://amp.diario.cl/nota?amp=1", "https://diario.cl/nota"),
        ("https://diario.cl/nota?outputType=amp&id=4", "https://diario.cl/nota?id=4"),
        ("https://diario.cl/nota?gclid=1&_ga=2&mc_cid=3&id=9", "https://diario.cl/nota?id=9"),
        (
            "https://diario.cl/amplificador/ampliacion",
            "https://diario.cl/amplificador/ampliacion",
        ),  # words that start with amp stay
        (
            "https://diario.cl/amp",
            "https://diario.cl/amp",
        ),  # a page called /amp is not an AMP variant of anything
    ],
)
def test_canonical_url_drops_amp_variants(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_guid_keys() -> None:
    from agenda.extract import guid_key

    assert (
        guid_key("https://diario.cl/?p=12&utm_source=rss", "https://diario.cl/feed")
        == "https://diario.cl/?p=12"
    )
    assert guid_key("tag:diario.cl,2026:12", "https://x.cl/feed") == "tag:diario.cl,2026:12"
    assert (
        guid_key("12", "https://Diario.cl/feed") == "diario.cl#12"
    )  # a bare number is only unique on its site
    assert (
        guid_key("https://diario.cl/", "https://diario.cl/feed") is None
    )  # "every item is the homepage"
    assert guid_key("  ", "https://diario.cl/feed") is None


def test_a_guid_repeated_in_one_feed_is_not_used_to_merge() -> None:
    body = b'<rss version="2.0"><channel><item><title>A</title><link>https://x.cl/a</link><guid>same</guid></item><item><title>B</title><link>https://x.cl/b</link><guid>same</guid></item><item><title>C</title><link>https://x.cl/c</link><guid>c</guid></item></channel></rss>'
    articles = extract(source(), body).articles
    assert [a.guid_key for a in articles] == [None, None, "127.0.0.1:9#c"]


# -- hostile XML -------------------------------------------------------------------------------
def test_entity_declarations_are_refused_except_one_character_ones() -> None:
    from tests.faultserver import BILLION_LAUGHS, EXTERNAL_ENTITY

    with pytest.raises(
        ParseError, match=r"feed rechazado: declara una entidad XML propia \('lol1'\)"
    ):
        extract(source(), BILLION_LAUGHS)
    with pytest.raises(ParseError, match="entidad XML externa 'secret'"):
        extract(source(), EXTERNAL_ENTITY)
    parameter = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % p '
        b'SYSTEM "http://evil/x.dtd"> %p;]><rss version="2.0"/>'
    )
    with pytest.raises(ParseError, match="entidad XML externa 'p'"):
        extract(source(), parameter)
    utf16 = BILLION_LAUGHS.decode().encode("utf-16")  # the check reads UTF-16 too
    with pytest.raises(ParseError, match="feed rechazado"):
        extract(source(), utf16)
    harmless = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY nbsp "&#160;"> <!ENTITY ndash "&#x2013;">]>'
        b'<rss version="2.0"><channel><item><title>Uno&nbsp;&ndash; dos</title>'
        b"<link>https://x.cl/1</link></item></channel></rss>"
    )
    assert extract(source(), harmless).articles[0].title == "Uno – dos"


# -- encodings: feeds (feedparser) and pages (decode_html) -----------------------------------------
TITLE = "Temporal en Ñuble y Biobío: “alerta” en Curicó"


@pytest.mark.parametrize(
    ("body", "content_type", "warned"),
    [
        (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><item>'
            f"<title>{TITLE}</title><link>https://x.cl/1</link></item></channel></rss>".encode(
                "cp1252"
            ),
            "application/rss+xml; charset=utf-8",
            True,
        ),
        (
            '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><item>'
            f"<title>{TITLE}</title><link>https://x.cl/1</link></item></channel></rss>".encode(),
            "text/xml; charset=windows-1252",
            True,
        ),
        (
            b"\xef\xbb\xbf"
            + f'<rss version="2.0"><channel><item><title>{TITLE}</title><link>https://x.cl/1</link></item></channel></rss>'.encode(),
            None,
            False,
        ),
        (
            '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><item>'
            f"<title>{TITLE}</title><link>https://x.cl/1</link></item></channel></rss>".encode(
                "utf-16"
            ),
            None,
            False,
        ),
    ],
    ids=["cp1252-declared-utf8", "utf8-declared-cp1252", "utf8-bom", "utf16-bom"],
)
def test_feed_encodings_are_repaired(body: bytes, content_type: str | None, warned: bool) -> None:
    result = extract(source(), body, content_type=content_type)
    assert result.articles[0].title == TITLE
    assert any("codificación" in w for w in result.warnings) == warned


@pytest.mark.parametrize(
    ("body", "content_type", "warning"),
    [
        (
            f'<meta charset="utf-8"><p>{TITLE}</p>'.encode("cp1252"),
            None,
            "declara utf-8 y no está en UTF-8; se leyó como windows-1252",
        ),
        (
            f"<p>{TITLE}</p>".encode("cp1252"),
            "text/html; charset=UTF-8",
            "declara utf-8 y no está en UTF-8",
        ),
        (
            f'<meta charset="windows-1252"><p>{TITLE}</p>'.encode(),
            None,
            "declara cp1252 pero está en UTF-8",
        ),
        (f"<p>{TITLE}</p>".encode("cp1252"), None, "no declara codificación y no está en UTF-8"),
        (
            b"\xef\xbb\xbf" + f'<meta charset="windows-1252"><p>{TITLE}</p>'.encode(),
            None,
            None,
        ),  # the BOM wins
        (
            f"<p>{TITLE}</p>".encode("iso-8859-1", errors="replace"),
            "text/html; charset=iso-8859-1",
            None,
        ),
    ],
)
def test_pages_are_decoded_by_what_their_bytes_are(
    body: bytes, content_type: str | None, warning: str | None
) -> None:
    from agenda.extract import decode_html

    text, warnings = decode_html(body, content_type)
    expected = (
        TITLE
        if "iso-8859-1" not in (content_type or "")
        else TITLE.encode("iso-8859-1", errors="replace").decode("iso-8859-1")
    )
    assert expected in text
    assert (warning in warnings[0]) if warning else warnings == []


def test_html_listing_with_a_wrong_charset_keeps_accents() -> None:
    selectors = Selectors(item="article", link="a", title="a")
    body = (
        '<html><head><meta charset="utf-8"></head><body><article>'
        f'<a href="/n">{TITLE}</a></article></body></html>'
    ).encode("cp1252")
    result = extract(source("html", selectors), body, "https://x.cl/")
    assert result.articles[0].title == TITLE and "windows-1252" in result.warnings[0]


def test_malformed_feed_keeps_what_was_recovered_with_a_warning() -> None:
    from tests.faultserver import MALFORMED

    result = extract(source(), MALFORMED)
    assert [a.title for a in result.articles] == [
        "Primera nota en Talca",
        "Segunda nota en Linares",
    ]
    assert any(
        w.startswith("feed mal formado") and w.endswith("se guardó lo que se pudo leer")
        for w in result.warnings
    )


def test_a_recognised_but_broken_empty_feed_is_not_an_error() -> None:
    result = extract(source(), b'<rss version="2.0">\n</rss')
    assert result.articles == [] and "mal formado" in result.warnings[0]


def test_entries_with_non_web_links_are_skipped() -> None:
    body = b'<rss version="2.0"><channel><item><title>Uno</title><link>javascript:alert(1)</link></item><item><title>Dos</title><link>https://x.cl/2</link></item></channel></rss>'
    result = extract(source(), body)
    assert [a.url for a in result.articles] == [
        "https://x.cl/2"
    ] and "enlace que no es web" in result.warnings[0]


# -- article pages and homepages -----------------------------------------------------------------
def test_article_page_main_text_and_canonical() -> None:
    from agenda.extract import extract_page
    from tests.faultserver import article_html

    page = extract_page(
        article_html("https://radio.cl", "sur", 2),
        "https://radio.cl/article/sur/2.html?utm_source=fb",
    )
    assert (
        "calendario de trabajos" in page.text and "La comunidad pidió mesas de trabajo" in page.text
    )
    assert (
        "Horóscopo" not in page.text
        and "derechos reservados" not in page.text
        and "Deportes" not in page.text
    )
    assert page.canonical_url == "https://radio.cl/article/sur/2.html"


def test_a_canonical_pointing_at_the_homepage_is_ignored() -> None:
    from agenda.extract import extract_page

    page = extract_page(
        b'<html><head><link rel="canonical" href="https://radio.cl/">'
        b"</head><body><p>x</p></body></html>",
        "https://radio.cl/nota",
    )
    assert page.canonical_url is None


def test_discover_feeds_reads_link_alternate() -> None:
    from agenda.extract import discover_feeds

    html = (
        b'<html><head><link rel="alternate" type="application/rss+xml" '
        b'title="Diario &raquo; Feed" href="/feed/">'
        b'<link rel="alternate" type="application/atom+xml" href="https://diario.cl/atom.xml">'
        b'<link rel="alternate" hreflang="en" href="/en/"><link rel="stylesheet" href="/s.css">'
        b'<link rel="alternate" type="application/rss+xml" href="javascript:void(0)"></head></html>'
    )
    feeds = discover_feeds(html, "https://diario.cl/inicio")
    assert [(f.url, f.type) for f in feeds] == [
        ("https://diario.cl/feed/", "application/rss+xml"),
        ("https://diario.cl/atom.xml", "application/atom+xml"),
    ]
    assert feeds[0].title == "Diario » Feed"
