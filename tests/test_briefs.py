"""Briefs on demand (`agenda report`) over the bundled sample's stored articles: filters, ranking,
files (HTML, PDF read back with pdftotext, CSV), the CLI's errors and JSON; standing topics
(validation, `agenda topics check`, the digest's "Temas solicitados")."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from agenda import cli
from agenda.errors import ConfigError, ConfigErrors
from agenda.keywords import Keywords, load_keywords
from agenda.link import Linker
from agenda.reports.brief_files import render_brief_html, render_csv, write_brief
from agenda.reports.briefs import BriefRequest, build_brief, check_request
from agenda.reports.digest import build_digest, build_stories
from agenda.reports.render import render_email, render_html, render_text
from agenda.reports.topics import topic_matches
from agenda.store import Store, open_database
from agenda.topics import Topic
from tests.days import BROKEN_SOURCE_ERROR, demo_day

ROOT = Path(__file__).resolve().parent.parent
WEEK = (date(2026, 11, 18), date(2026, 11, 24))
RUN_TIME = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # the night's run, inside the week
QUILPUE = (
    "Obras del Hospital de Quilpué siguen paralizadas y vecinos de Marga Marga exigen respuestas"
)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory, linker: Linker) -> Path:
    """The sample's feeds stored in a database file, without a network (one source fails)."""
    folder = tmp_path_factory.mktemp("briefs")
    store = Store(open_database(folder / "agenda.db"))
    demo_day(linker, store, folder, now=RUN_TIME)
    store.db.close()
    return folder / "agenda.db"


@pytest.fixture
def store(sample_db: Path) -> Store:
    return Store(open_database(sample_db))


def request(**fields: object) -> BriefRequest:
    return BriefRequest(*WEEK, **fields)  # type: ignore[arg-type]


def linked_ids(store: Store, kind: str, code: str) -> set[int]:
    """Independent of the brief's SQL: which articles carry this link."""
    return {
        r["article_id"]
        for r in store.db.query(
            "select article_id from links where kind = ? and code = ?", [kind, code]
        )
    }


def test_region_brief(store: Store, keywords: Keywords) -> None:
    brief = build_brief(store, keywords, request(region_codes=("05",)))
    assert brief.title == "Región de Valparaíso, 18 al 24 de noviembre de 2026"
    assert brief.article_count == len(linked_ids(store, "region", "05")) > 3
    assert (
        brief.main_stories[0].story.title == QUILPUE
    )  # a commitment at risk ranks first, as in the digest
    assert "compromiso en situación crítica" in brief.main_stories[0].story.reasons
    assert "paralizadas" in brief.main_stories[0].evidence
    assert [d.day for d in brief.attention] == [date(2026, 11, d) for d in range(18, 25)]
    tuesday = brief.attention[-1]
    assert tuesday.total == store.articles_per_day(*WEEK)["2026-11-24"] and 0 < tuesday.share < 1
    marga = next(c for c in brief.commitments if c.id == "hospital-marga-marga")
    assert (
        marga.signal == "crítico" and marga.at_risk_articles == 1 and marga.evidence and marga.why
    )
    assert brief.commitments[0] is marga  # the critical one first
    assert dict(brief.regions)["Valparaíso"] == brief.article_count
    assert [s.first_day for s in brief.timeline] == sorted(s.first_day for s in brief.timeline)
    assert [s["error"] for s in brief.sources_failed] == [BROKEN_SOURCE_ERROR]  # the method note
    earlier = build_brief(
        store, keywords, BriefRequest(date(2026, 11, 1), date(2026, 11, 7), ("05",))
    )
    assert earlier.sources_failed == [] and earlier.article_count == 0


def test_query_brief_folds_accents_and_case(store: Store, keywords: Keywords) -> None:
    brief = build_brief(store, keywords, request(query="HOSPITAL AND quilpue"))
    assert [s.story.title for s in brief.stories] == [QUILPUE]
    wide = build_brief(store, keywords, request(query='hospital OR "incendio forestal"'))
    assert wide.article_count > brief.article_count
    assert 'búsqueda «hospital OR "incendio forestal"»' in wide.filters


def test_commitment_and_priority_briefs(store: Store, keywords: Keywords) -> None:
    brief = build_brief(store, keywords, request(commitment_id="hospital-marga-marga"))
    assert brief.article_count == len(linked_ids(store, "commitment", "hospital-marga-marga")) == 1
    assert brief.title.startswith("Hospital Provincial Marga Marga, ")
    both = build_brief(store, keywords, request(priority_id="salud", region_codes=("05",)))
    assert {a.url for a in both.articles} and all("Valparaíso" in a.regions for a in both.articles)
    assert both.article_count == len(
        linked_ids(store, "priority", "salud") & linked_ids(store, "region", "05")
    )


def test_topic_brief_uses_its_query_and_regions(store: Store, keywords: Keywords) -> None:
    topics = {
        "incendios": Topic(
            "incendios", "Incendios en el Biobío", '"incendio forestal"', ("08",), "Gabinete"
        )
    }
    custom = dataclasses.replace(keywords, topics=topics)
    brief = build_brief(store, custom, request(topic_id="incendios"))
    assert brief.title.startswith("Incendios en el Biobío, ")
    nacimiento = (
        "Incendio forestal consume 300 hectáreas en Nacimiento y Senapred declara alerta roja"
        " para la provincia de Biobío"
    )
    # Constitución's fire (Maule) matches the query but not the topic's region
    assert [s.story.title for s in brief.stories] == [nacimiento]


def test_a_period_without_matches_says_so(store: Store, keywords: Keywords) -> None:
    brief = build_brief(store, keywords, request(query="zzzqqq"))
    assert brief.article_count == 0 and brief.stories == []
    html = render_brief_html(brief)
    assert "No se encontraron noticias" in html
    assert render_csv(brief).splitlines() == ["fecha,medio,titulo,url,regiones,comunas,compromisos"]


def test_visit_lists_every_commitment_of_the_region(store: Store, keywords: Keywords) -> None:
    brief = build_brief(store, keywords, request(region_codes=("05",), visit=True))
    assert brief.visit is not None
    expected = {c.id for c in keywords.commitments.values() if c.region_code == "05"}
    assert {c.id for c in brief.visit.commitments} == expected
    assert brief.visit.commitments[0].id == "hospital-marga-marga"  # the one in trouble first
    assert {c.id: c.signal for c in brief.visit.commitments} == {
        "hospital-marga-marga": "crítico",
        "puerto-exterior-san-antonio": "normal",
        "tren-limache-calera": "normal",
        "reconstruccion-vina-del-mar": "normal",
    }
    coquimbo = build_brief(store, keywords, request(region_codes=("04",), visit=True)).visit
    assert coquimbo is not None
    for commitment in coquimbo.commitments:  # "sin noticias" exactly for those no article names
        assert (commitment.signal == "sin noticias") == (
            not linked_ids(store, "commitment", commitment.id)
        )
    assert any(c.signal == "sin noticias" for c in coquimbo.commitments)
    assert brief.visit.stories and 'id="visita"' in render_brief_html(brief)


def test_files_pdf_names_region_and_main_story_and_csv_has_every_article(
    store: Store, keywords: Keywords, tmp_path: Path
) -> None:
    brief = build_brief(store, keywords, request(region_codes=("05",)))
    files = write_brief(brief, tmp_path / "informes")
    assert files.pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", str(files.pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "Región de Valparaíso" in flat and QUILPUE in flat and "Nota de método" in flat
    rows = list(csv.DictReader(io.StringIO(files.csv.read_text(encoding="utf-8-sig"))))
    assert len(rows) == brief.article_count and len({r["url"] for r in rows}) == len(rows)
    quilpue = next(r for r in rows if r["titulo"] == QUILPUE)
    assert quilpue["fecha"] == "2026-11-24" and "Quilpué" in quilpue["comunas"]
    assert quilpue["compromisos"] == "Hospital Provincial Marga Marga"
    html = files.html.read_text(encoding="utf-8")
    assert "<svg" in html and "<script" not in html and "http://" not in html.split("<body>")[0]


@pytest.mark.slow
def test_brief_html_fits_a_phone(store: Store, keywords: Keywords, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, CHROMIUM_FLAGS

    brief = build_brief(store, keywords, request(region_codes=("05", "08"), visit=False))
    files = write_brief(brief, tmp_path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 375, "height": 800})
            page.goto(files.html.as_uri())
            scroll_width, inner_width = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert scroll_width <= inner_width, (
                f"horizontal overflow at 375px: {scroll_width} > {inner_width}"
            )
            for section in (
                "cabecera",
                "cifras",
                "atencion",
                "principales",
                "compromisos",
                "cobertura",
                "cronologia",
                "metodo",
            ):
                box = page.locator(f"#{section}").bounding_box()
                assert (
                    box is not None
                    and box["height"] > 0
                    and box["x"] + box["width"] <= inner_width + 1
                ), section
            assert page.locator("svg.chart rect").count() >= 2
        finally:
            browser.close()


# -- the command line ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--region", "99"], "unknown region code '99'"),
        (["--commune", "99999"], "unknown commune code '99999'"),
        (["--commitment", "no-existe"], "unknown commitment 'no-existe'"),
        (["--priority", "no-existe"], "unknown priority 'no-existe'"),
        (["--topic", "no-existe"], "unknown topic 'no-existe'"),
        (["--from", "2026-11-25", "--to", "2026-11-24"], "empty period"),
        (["--query", "sequía AND"], "not a valid full-text query"),
        (["--query", '"escasez hídrica'], "not a valid full-text query"),
    ],
)
def test_report_errors_exit_2_with_one_line(
    sample_db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    message: str,
) -> None:
    code = cli.main(
        [
            "report",
            "--db",
            str(sample_db),
            "--keywords",
            str(ROOT / "keywords"),
            "--out",
            str(tmp_path),
            *options,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_report_cli_writes_files_and_json(
    sample_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [
        "report",
        "--db",
        str(sample_db),
        "--keywords",
        str(ROOT / "keywords"),
        "--region",
        "5",
        "--from",
        "2026-11-18",
        "--to",
        "2026-11-24",
    ]
    assert cli.main([*base, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".csv", ".html", ".pdf"]
    assert all(str(p) in printed for p in tmp_path.iterdir())
    assert cli.main([*base, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["title"] == "Región de Valparaíso, 18 al 24 de noviembre de 2026"
    assert (data["from"], data["to"]) == ("2026-11-18", "2026-11-24") and data["articles"] > 3
    first = data["stories"][0]
    assert first["title"] == QUILPUE and first["outlets"] and first["regions"] == ["05"]
    assert (
        first["commitments"] == ["hospital-marga-marga"]
        and first["first_seen"] == first["last_seen"] == "2026-11-24"
    )
    assert set(first) >= {
        "title",
        "outlets",
        "url",
        "first_seen",
        "last_seen",
        "regions",
        "commitments",
    }
    assert data["visit"] is None
    assert cli.main([*base, "--json", "--visit"]) == 0
    visit = json.loads(capsys.readouterr().out)["visit"]
    assert visit["region"] == "Región de Valparaíso" and visit["from"] == "2026-10-26"
    assert (visit["commitments"][0]["id"], visit["commitments"][0]["signal"]) == (
        "hospital-marga-marga",
        "crítico",
    )


def test_topics_check_counts_each_topic(
    sample_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        [
            "topics",
            "check",
            "--db",
            str(sample_db),
            "--keywords",
            str(ROOT / "keywords"),
            "--date",
            "2026-11-24",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    counts = {
        m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+(\S+)\s+(\d+)\s", out, re.MULTILINE)
    }
    assert (
        counts["sequia-coquimbo"] == 0
        and counts["incendios-forestales"] >= 2
        and counts["obras-hospitalarias"] >= 2
    )


# -- topics.yaml -----------------------------------------------------------------------------
def keywords_with(tmp_path: Path, topics_yaml: str) -> Keywords:
    folder = tmp_path / "keywords"
    folder.mkdir()
    for path in (ROOT / "keywords").glob("*.yaml"):
        if path.name != "topics.yaml":
            (folder / path.name).write_bytes(path.read_bytes())
    (folder / "topics.yaml").write_text(topics_yaml, encoding="utf-8")
    return load_keywords(folder)


def test_topics_file_errors_name_file_line_and_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigErrors) as caught:
        keywords_with(
            tmp_path,
            (
                "topics:\n"
                "  - id: sequia\n    title: Sequía\n    query: 'sequía AND'\n"
                "  - id: puertos\n    title: Puertos\n    query: puerto\n    regions: ['99']\n"
                "  - id: puertos\n    title: Otra\n    query: muelle\n    color: rojo\n"
            ),
        )
    messages = [str(e) for e in caught.value.errors]
    assert any(
        m.startswith(
            str(tmp_path / "keywords" / "topics.yaml")
            + ":4: field 'query': not a valid full-text query"
        )
        for m in messages
    )
    assert any(":8: field 'regions': unknown region code '99'" in m for m in messages)
    assert any(":9: field 'id': duplicate topic id 'puertos'" in m for m in messages)
    assert any(":12: field 'color': unknown field" in m for m in messages)


def test_repository_topics_load(keywords: Keywords) -> None:
    assert keywords.topics["sequia-coquimbo"].region_codes == ("04",)
    assert keywords.topics["sequia-coquimbo"].requested_by == "Gabinete"


def test_digest_shows_requested_topics(store: Store, keywords: Keywords) -> None:
    day = date(2026, 11, 24)
    day_stories = build_stories(day, store.articles_on(day), keywords)
    day_stories.topic_matches = topic_matches(store, keywords.topics.values(), day)
    digest = build_digest(day_stories, store.source_health(), keywords)
    sections = {t.id: t for t in digest.topics}
    assert sections["sequia-coquimbo"].stories == []
    hospitals = sections["obras-hospitalarias"]
    assert QUILPUE in [s.title for s in hospitals.all_stories] and len(hospitals.stories) <= 5
    email, web, text = render_email(digest), render_html(digest), render_text(digest)
    for html in (email, web):
        assert "Temas solicitados" in html and "Sin noticias hoy." in html
        assert "pedido por Gabinete" in html
    assert 'id="solicitado-obras-hospitalarias"' in web
    assert QUILPUE in web.split("Temas solicitados")[1]
    # the e-mail already shows the Quilpué hospital in its critical card: counted, not repeated
    assert QUILPUE not in email.split("Temas solicitados")[1].split("Por región")[0]
    assert "aparece más arriba" in email.split("Temas solicitados")[1]
    assert "TEMAS SOLICITADOS" in text and "más arriba" in text.split("TEMAS SOLICITADOS")[1]


def test_digest_topic_section_caps_at_five_and_links_the_rest(
    store: Store, keywords: Keywords
) -> None:
    day = date(2026, 11, 24)
    broad = dataclasses.replace(keywords, topics={"todo": Topic("todo", "Todo", "en OR de", ())})
    day_stories = build_stories(day, store.articles_on(day), broad)
    day_stories.topic_matches = topic_matches(store, broad.topics.values(), day)
    section = build_digest(day_stories, store.source_health(), broad).topics[0]
    assert (
        len(section.stories) == 5
        and section.more == len(day_stories.stories) - 5 - section.above > 0
    )
    digest = build_digest(day_stories, store.source_health(), broad)
    assert f'#solicitado-todo">y {section.more} más</a>' in render_email(digest)
    web = render_html(digest).split('id="solicitado-todo"')[1].split("</section>")[0]
    assert web.count("<a href=") == len(day_stories.stories)  # the web edition lists them all


def test_check_request_needs_one_region_for_a_visit(keywords: Keywords) -> None:
    with pytest.raises(ConfigError, match="exactly one --region"):
        check_request(request(visit=True), keywords)


def test_brief_groups_articles_by_the_story_kept_at_ingest(
    store: Store, keywords: Keywords
) -> None:
    brief = build_brief(store, keywords, request(query="frecuencias AND Chillán"))
    stored = {
        r["story_id"]
        for r in store.db.query("select story_id from articles where title like 'EFE confirma%'")
    }
    assert len(stored) == 1  # two outlets' rewrites, one story kept at ingest (issue 9)
    assert brief.article_count == 2 and len(brief.stories) == 1
    story = brief.stories[0]
    assert story.article_count == 2 and len(story.story.outlets) == 2
    assert story.story.story_id in stored and "2 medios" in story.story.reasons
