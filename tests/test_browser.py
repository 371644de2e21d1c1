"""The digest in a real headless browser (Debian's chromium, driven by Playwright, no download).

The e-mail (CSS inlined, as sent) measured at 375 x 812, a phone screen: at most 6 screens on the
demo day and 8 on a generated day of 2,000 articles. The web edition at 375 px and 1024 px: no
horizontal overflow, every section present, the inline chart legible (its labels measured as
rendered) and inside the page. Screenshots are written
under each test's temporary folder for a person to look at.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from agenda.deliver import inline_css
from agenda.keywords import Keywords
from agenda.link import Linker
from agenda.reports.digest import Digest, make_digest, render_email, write_digest
from agenda.settings import DigestSettings
from agenda.store import Store
from tests.days import DAY, demo_day, generated_day

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECTIONS = [
    "cabecera",
    "resumen",
    "criticos",
    "principal",
    "region-05",
    "region-08",
    "region-16",
    "cobertura",
]
PHONE = {"width": 375, "height": 812}
SETTINGS = DigestSettings(archive_url=None, feedback_to="analistas@example.cl")


def _write(digest: Digest, folder: Path) -> tuple[Path, Path]:
    """The web edition and the e-mail's HTML part (CSS inlined, as the message carries it)."""
    files = write_digest(digest, folder, SETTINGS)
    email = folder / "email.html"
    email.write_text(inline_css(render_email(digest, SETTINGS)), encoding="utf-8")
    return files.html, email


@pytest.fixture(scope="module")
def demo_pages(
    tmp_path_factory: pytest.TempPathFactory, keywords: Keywords, linker: Linker
) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("demo")
    store = Store(Database(memory=True))
    demo_day(linker, store, folder)
    return _write(make_digest(store, keywords, DAY)[1], folder)


@pytest.fixture(scope="module")
def big_pages(
    tmp_path_factory: pytest.TempPathFactory, keywords: Keywords, linker: Linker
) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("big")
    store = Store(Database(memory=True))
    assert generated_day(keywords, linker, store) == 2000
    digest = make_digest(store, keywords, DAY)[1]
    assert digest.region_count == 16 and digest.article_count == 2000
    return _write(digest, folder)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (.ci/run installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS
        )  # a fresh empty profile
        try:
            yield launched
        finally:
            launched.close()


def _article_links_once(email: Path) -> None:
    """Every http(s) link of the e-mail is an article (the web edition's are relative here):
    none may appear twice."""
    hrefs = Counter(re.findall(r'href="(https?://[^"]+)"', email.read_text(encoding="utf-8")))
    assert hrefs and hrefs.most_common(1)[0][1] == 1, hrefs.most_common(3)


CHART = """() => {
    const svg = document.querySelector('#cobertura svg.chart');
    const edge = (r) => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom});
    const section = getComputedStyle(document.querySelector('#cobertura'));
    const inside = document.querySelector('#cobertura').getBoundingClientRect();
    return {
        svg: edge(svg.getBoundingClientRect()),
        content: {left: inside.left + parseFloat(section.paddingLeft),
                  right: inside.right - parseFloat(section.paddingRight)},
        texts: [...svg.querySelectorAll('text')].map((t) => ({
            text: t.textContent,
            px: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
            ...edge(t.getBoundingClientRect()),
        })),
        bars: [...svg.querySelectorAll('rect')].map((b) => edge(b.getBoundingClientRect())),
    };
}"""


def _assert_chart_legible(page: Any) -> None:
    """The chart as Chromium lays it out: inside the section, every label at least 12 px as
    rendered and within the chart, no label over a bar, a bar for each count but 0."""
    chart = page.evaluate(CHART)
    svg, content = chart["svg"], chart["content"]
    assert content["left"] - 0.5 <= svg["left"] and svg["right"] <= content["right"] + 0.5
    assert len(chart["texts"]) == 1 + 2 * 16  # the title, then each region's name and count
    counts = [text["text"] for text in chart["texts"][2::2]]
    assert len(chart["bars"]) == sum(1 for count in counts if count != "0") > 0
    for text in chart["texts"]:
        assert text["px"] >= 12 and text["bottom"] - text["top"] >= 12, text
        assert svg["left"] - 0.5 <= text["left"] and text["right"] <= svg["right"] + 0.5, text
        for bar in chart["bars"]:
            apart = (
                text["right"] <= bar["left"] + 0.5
                or bar["right"] <= text["left"] + 0.5
                or text["bottom"] <= bar["top"] + 0.5
                or bar["bottom"] <= text["top"] + 0.5
            )
            assert apart, (text, bar)


def _screens(browser: Any, page_path: Path, shot: Path) -> float:
    """The page's height in phone screens at 375 px, with no horizontal overflow; screenshot."""
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(page_path.as_uri())
        height, scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollHeight, "
            "document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width, f"horizontal overflow: {scroll_width} > {inner_width}"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    assert shot.stat().st_size > 10_000
    return height / PHONE["height"]


@pytest.mark.slow
def test_email_fits_six_phone_screens_on_the_demo_day(
    browser: Any, demo_pages: tuple[Path, Path], tmp_path: Path
) -> None:
    screens = _screens(browser, demo_pages[1], tmp_path / "email-demo-375.png")
    print(f"demo day e-mail: {screens:.2f} screens ({tmp_path / 'email-demo-375.png'})")
    assert screens <= 6
    _article_links_once(demo_pages[1])


@pytest.mark.slow
def test_email_fits_eight_phone_screens_on_a_2000_article_day(
    browser: Any, big_pages: tuple[Path, Path], tmp_path: Path
) -> None:
    screens = _screens(browser, big_pages[1], tmp_path / "email-2000-375.png")
    print(f"2,000-article e-mail: {screens:.2f} screens ({tmp_path / 'email-2000-375.png'})")
    assert screens <= 8
    _article_links_once(big_pages[1])
    html = big_pages[1].read_text(encoding="utf-8")
    assert (
        "2.000 notas" in html and "compromisos críticos más" in html
    )  # Chilean figures; cards capped
    web = big_pages[0].read_text(encoding="utf-8")
    assert (
        len(set(re.findall(r'href="(https://[^"]+/nota-\d+)"', web))) == 2000
    )  # every article linked


@pytest.mark.slow
@pytest.mark.parametrize("width", [375, 1024])
def test_web_edition_renders_without_overflow(
    browser: Any, demo_pages: tuple[Path, Path], width: int, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(demo_pages[0].as_uri())
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width, (
            f"horizontal overflow at {width}px: {scroll_width} > {inner_width}"
        )
        for section in SECTIONS:
            box = page.locator(f"#{section}").bounding_box()
            assert box is not None and box["height"] > 0, section
            assert box["x"] >= 0 and box["x"] + box["width"] <= inner_width + 1, section
        _assert_chart_legible(page)
        assert page.locator("script").count() == 0
        # the navigation stays on screen while reading a region far down the page
        page.locator("nav a[href='#region-16']").click()
        assert page.locator("nav").bounding_box()["y"] <= 1
        page.screenshot(path=str(tmp_path / f"web-{width}.png"), full_page=True)
    finally:
        page.close()
    assert (tmp_path / f"web-{width}.png").stat().st_size > 10_000


@pytest.mark.slow
def test_chart_of_a_full_day_stays_legible_on_a_phone(
    browser: Any, big_pages: tuple[Path, Path], tmp_path: Path
) -> None:
    """Every region with notes (the longest names, the widest counts): nothing clipped or
    overlapping at 375 px."""
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(big_pages[0].as_uri())
        _assert_chart_legible(page)
        assert page.locator("#cobertura svg.chart rect").count() == 16  # every region has notes
        page.locator("#cobertura svg.chart").screenshot(path=str(tmp_path / "chart-375.png"))
    finally:
        page.close()
    assert (tmp_path / "chart-375.png").stat().st_size > 5_000
