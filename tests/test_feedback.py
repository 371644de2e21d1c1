from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from agenda.cli import main
from agenda.collect import FetchResult
from agenda.extract import Article
from agenda.keywords import load_keywords
from agenda.link import Linker
from agenda.sources import Source
from agenda.store import Store, open_database

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Source(id="diario", name="Diario", url="https://d.cl/feed", kind="rss", region_code="national")
TEXT = "Vecinos de la población Los Cóndores en Temuco reclaman por la basura"


@pytest.fixture
def setup(tmp_path: Path):  # noqa: ANN201
    keywords_dir = tmp_path / "keywords"
    shutil.copytree(ROOT / "keywords", keywords_dir, ignore=shutil.ignore_patterns("feedback.yaml"))
    db_path = tmp_path / "agenda.db"
    store = Store(open_database(db_path))
    store.sync_sources([SOURCE])
    linker = Linker(load_keywords(keywords_dir))
    article = Article(url="https://d.cl/1", title="Corte de luz en Temuco y Lautaro", summary="El alcalde de Temuco pidió explicaciones.",
                      source_id="diario", outlet="Diario", source_region="national", published_at_utc=datetime(2026, 11, 24, 12, tzinfo=timezone.utc))
    store.record_fetch(FetchResult(SOURCE, "ok"), [article], [linker.link(article.link_text())])
    return keywords_dir, db_path, store, linker, article


def codes(store: Store, kind: str) -> set[str]:
    return {row["code"] for row in store.db.query("select code from links where kind = ?", [kind])}


def test_not_removes_link_at_once_and_writes_a_rule(setup, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    keywords_dir, db_path, store, linker, article = setup
    assert codes(store, "commune") == {"09101", "09108"}
    args = ["--db", str(db_path), "--keywords", str(keywords_dir)]
    assert main(["feedback", "1", "--not", "09108", *args]) == 0
    out = capsys.readouterr().out
    assert "removed commune 09108" in out
    assert codes(store, "commune") == {"09101"}
    assert codes(store, "region") == {"09"}  # Temuco still supports the region
    rules = yaml.safe_load((keywords_dir / "feedback.yaml").read_text(encoding="utf-8"))["exclusions"]
    assert [(r["name"], str(r["code"]), r["before"], r["article"]) for r in rules] == [("Lautaro", "09108", "y", 1)]
    # the rule applies to the linker from then on, in that context only
    fresh = Linker(load_keywords(keywords_dir))
    assert {l.code for l in fresh.link("Lluvias en Temuco y Lautaro").communes} == {"09101"}
    assert "09108" in {l.code for l in fresh.link("Lluvias en Lautaro y Temuco").communes}
    # a re-fetch that re-links the article keeps the correction
    store.record_fetch(FetchResult(SOURCE, "ok"), [article], [linker.link(article.link_text())])
    assert codes(store, "commune") == {"09101"}


def test_not_region_takes_its_communes_and_add_puts_one_back(setup, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    keywords_dir, db_path, store, linker, article = setup
    args = ["--db", str(db_path), "--keywords", str(keywords_dir)]
    assert main(["feedback", "1", "--not", "09", *args]) == 0
    assert codes(store, "region") == set() and codes(store, "commune") == set()
    assert main(["feedback", "1", "--add", "09101", *args]) == 0
    assert codes(store, "commune") == {"09101"} and codes(store, "region") == {"09"}


def test_feedback_errors_are_clear(setup, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    keywords_dir, db_path, store, linker, article = setup
    args = ["--db", str(db_path), "--keywords", str(keywords_dir)]
    assert main(["feedback", "99", "--not", "09", *args]) == 1
    assert "no article with id 99" in capsys.readouterr().err
    assert main(["feedback", "1", "--not", "77777", *args]) == 1
    assert "is not a region" in capsys.readouterr().err
    assert main(["feedback", "1", "--not", "05", *args]) == 1
    assert "is not linked to 05" in capsys.readouterr().err
