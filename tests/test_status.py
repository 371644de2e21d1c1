from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agenda.cli import main
from agenda.collect import FetchResult
from agenda.compiled_linker import linker_kind
from agenda.deliver import build_message, queue
from agenda.extract import Article
from agenda.link import Linker
from agenda.sources import Source
from agenda.store import Store, open_database

GOOD = Source(id="diario", name="Diario", url="https://d.cl/feed", kind="rss", region_code="08")
BROKEN = Source(
    id="caida", name="Radio Caída", url="https://c.cl/feed", kind="rss", region_code="03"
)


@pytest.fixture
def db_path(tmp_path: Path, linker: Linker) -> Path:
    path = tmp_path / "agenda.db"
    store = Store(open_database(path))
    store.sync_sources([GOOD, BROKEN])
    run_id = store.start_run()
    item = Article(
        url="https://d.cl/1",
        title="Temporal en Concepción",
        summary="",
        source_id="diario",
        outlet="Diario",
        source_region="08",
        published_at_utc=datetime(2020, 1, 1, 12, tzinfo=UTC),
    )
    store.record_fetch(FetchResult(GOOD, "ok"), [item], [linker.link(item.title)])
    store.record_fetch(FetchResult(BROKEN, "error", error="HTTP 500 Internal Server Error"))
    store.finish_run(
        run_id,
        "partial",
        {"sources_ok": 1, "sources_failed": 1, "articles_new": 1},
        ["caida: HTTP 500 Internal Server Error"],
    )
    message = build_message("Agenda", "texto", "<p>html</p>", "a@e.cl", "b@e.cl", "2026-11-24")
    queue(store, tmp_path / "outbox", "2026-11-24", "b@e.cl", "national", message)
    return path


def test_status_json_shows_runs_failures_outbox_and_schedule(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--json", "--db", str(db_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (
        report["runs"][0]["status"] == "partial"
        and report["runs"][0]["counts"]["sources_failed"] == 1
    )
    assert [s["id"] for s in report["failing_sources"]] == ["caida"]
    assert report["failing_sources"][0]["last_error"] == "HTTP 500 Internal Server Error"
    assert [(m["recipient"], m["status"]) for m in report["outbox"]] == [("b@e.cl", "pending")]
    assert report["next_scheduled"]["digest"].endswith(
        "06:30:00-03:00"
    )  # America/Santiago, summer time
    assert report["linker"] == linker_kind()  # compiled (mypyc) or pure Python, as it runs


def test_status_text(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert (
        "partial" in out
        and "caida: HTTP 500" in out
        and "Outbox: 1 message(s) waiting" in out
        and "Next collect:" in out
    )
    assert f"Linker: {linker_kind()}\n" in out  # compiled (mypyc) or pure Python, as it runs


def test_prune_and_backup_commands(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backup", str(tmp_path / "copy.db"), "--db", str(db_path)]) == 0
    assert "integrity ok" in capsys.readouterr().out
    assert main(["prune", "--older-than", "400d", "--db", str(db_path)]) == 0
    assert "pruned 1 articles" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["prune", "--older-than", "soon", "--db", str(db_path)])


def test_log_json_lines_carry_the_run_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agenda import logs

    logs.configure(json_lines=True)
    token = logs.run_id.set(42)
    try:
        logging.getLogger("agenda").warning("source %s failed", "caida")
    finally:
        logs.run_id.reset(token)
        logs.configure()
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (
        line["run_id"] == 42
        and line["message"] == "source caida failed"
        and line["level"] == "warning"
    )
