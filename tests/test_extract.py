from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from agenda.errors import ParseError
from agenda.extract import canonical_url, clean_text, extract, parse_date
from agenda.sources import Selectors, Source

SAMPLE = Path(__file__).resolve().parent.parent / "sample"


def source(kind: str = "rss", selectors: Selectors | None = None) -> Source:
    return Source(id="s", name="Fuente", url="http://127.0.0.1:9/feed", kind=kind, region_code="08", selectors=selectors)


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
    assert canonical_url("/2026/11/24/nota.html", "https://radio.cl/noticias/") == "https://radio.cl/2026/11/24/nota.html"


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
    selectors = Selectors(item="article.nota", link="a.titulo", title="a.titulo", date="time", summary="p.bajada")
    body = (SAMPLE / "site" / "noticias.html").read_bytes()
    result = extract(source("html", selectors), body, "http://127.0.0.1:9/site/noticias.html")
    assert len(result.articles) == body.count(b'<article class="nota"')
    assert all(a.url.startswith("http://127.0.0.1:9/20") for a in result.articles)
    assert all(a.published_at_utc for a in result.articles)


def test_html_selector_matching_nothing_is_a_readable_error() -> None:
    selectors = Selectors(item="div.noticia", link="a", title="a")
    with pytest.raises(ParseError, match="selector item 'div.noticia' matched nothing"):
        extract(source("html", selectors), "<html><body><p>Rediseño</p></body></html>".encode())


def test_garbage_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        extract(source(), bytes(range(256)) * 4)


def test_html_served_as_feed_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not a"):
        extract(source(), b"<!DOCTYPE html><html><head><title>Inicio</title></head><body><p>Hola</p></body></html>")


def test_windows_1252_declared_feed_keeps_accents() -> None:
    body = '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>x</title><item><title>Temporal en Ñuble y Biobío</title><link>https://x.cl/a</link></item></channel></rss>'.encode("cp1252")
    article = extract(source(), body).articles[0]
    assert article.title == "Temporal en Ñuble y Biobío"


def test_entity_in_title_is_unescaped_and_markup_stripped() -> None:
    body = b'<rss version="2.0"><channel><item><title>Obras &amp; plazos</title><link>https://x.cl/b</link><description>&lt;p&gt;Uno &lt;b&gt;dos&lt;/b&gt;&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;</description></item></channel></rss>'
    article = extract(source(), body).articles[0]
    assert article.title == "Obras & plazos"
    assert article.summary == "Uno\ndos"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-24T23:40:00-03:00", datetime(2026, 11, 25, 2, 40, tzinfo=timezone.utc)),
        ("24 de noviembre de 2026, 09:15", datetime(2026, 11, 24, 12, 15, tzinfo=timezone.utc)),
        ("24/11/2026 09:15", datetime(2026, 11, 24, 12, 15, tzinfo=timezone.utc)),
        ("2026-07-01T09:00:00", datetime(2026, 7, 1, 13, 0, tzinfo=timezone.utc)),  # winter: UTC-4
        ("mañana", None),
    ],
)
def test_parse_date_in_santiago(value: str, expected: datetime | None) -> None:
    assert parse_date(value) == expected


def test_clean_text_keeps_enye() -> None:
    assert clean_text("<p>Ñuble&nbsp;y Ñuñoa</p>") == "Ñuble y Ñuñoa"
