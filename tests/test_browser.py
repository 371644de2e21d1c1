"""The digest in a real headless browser (Debian's chromium, driven by Playwright, no download).

At 375 px (a phone) and 1024 px: no horizontal overflow, every section present, the chart
loaded; screenshots are written under the test's temporary folder for a person to look at.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlite_utils import Database

from agenda.collect import FetchResult
from agenda.reports.digest import build_digest, build_stories
from agenda.extract import extract
from agenda.keywords import Keywords
from agenda.link import Linker
from agenda.reports.digest import write_digest
from agenda.sampleserver import write_sources
from agenda.sources import load_sources
from agenda.store import Store

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
SECTIONS = ["cabecera", "resumen", "criticos", "principal", "region-05", "region-08", "region-16", "cobertura"]


@pytest.fixture(scope="module")
def digest_page(tmp_path_factory: pytest.TempPathFactory, keywords: Keywords, linker: Linker) -> Path:
    """The sample's digest for 24 November 2026, built from the bundled feeds without a network."""
    filled = write_sources(ROOT / "sample" / "sources.yaml", "http://sample.invalid", tmp_path_factory.mktemp("sources") / "sources.yaml")
    sources = load_sources(filled)
    store = Store(Database(memory=True))
    store.sync_sources(sources.sources)
    for source in sources.enabled:
        path = ROOT / "sample" / source.url.replace("http://sample.invalid/", "")
        if not path.exists():
            store.record_fetch(FetchResult(source, "error", error="HTTP 500 Internal Server Error"))
            continue
        articles = extract(source, path.read_bytes(), "https://demo.example.cl/site/noticias.html").articles
        store.record_fetch(FetchResult(source, "ok"), articles, [linker.link(a.link_text(), source.region_code) for a in articles])
    day = date(2026, 11, 24)
    digest = build_digest(build_stories(day, store.articles_on(day), keywords), store.source_health(), keywords)
    folder = tmp_path_factory.mktemp("digest")
    files, _ = write_digest(digest, folder)
    return files.html


@pytest.mark.slow
@pytest.mark.parametrize("width", [375, 1024])
def test_digest_renders_without_overflow(digest_page: Path, width: int, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (.ci/run installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)  # Playwright gives it a fresh empty profile
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(digest_page.as_uri())
            scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll_width <= inner_width, f"horizontal overflow at {width}px: {scroll_width} > {inner_width}"
            for section in SECTIONS:
                box = page.locator(f"#{section}").bounding_box()
                assert box is not None and box["height"] > 0, section
                assert box["x"] >= 0 and box["x"] + box["width"] <= inner_width + 1, section
            assert page.evaluate("document.querySelector('img.chart').naturalWidth") > 0  # the chart loaded
            assert page.locator("script").count() == 0
            page.screenshot(path=str(tmp_path / f"digest-{width}.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / f"digest-{width}.png").stat().st_size > 10_000
