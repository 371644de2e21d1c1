"""End to end on real components: loopback HTTP server, SQLite file, aiosmtpd SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import gc
from datetime import date
from pathlib import Path

import pytest
from sqlite_utils import Database

from agenda.cli import main
from agenda.collect import FetchLimits, make_client
from agenda.deliver import SmtpMailer
from agenda.keywords import Keywords
from agenda.link import Linker
from agenda.pipeline import collect_and_store, run_cycle
from agenda.sampleserver import RunningServer
from agenda.settings import MailSettings, Settings
from agenda.sources import load_sources
from agenda.store import Store, open_database

from .conftest import SmtpSink, free_port

SAMPLE_DAY = date(2026, 11, 24)


def settings_for(tmp_path: Path, sources: Path, sink: SmtpSink | None = None) -> Settings:
    mail = MailSettings(
        smtp_host="127.0.0.1" if sink else None,
        smtp_port=sink.port if sink else 25,
        security="none",
        sender="agenda@example.cl",
        recipients=("gabinete@example.cl", "seremi@example.cl"),
        outbox_dir=tmp_path / "outbox",
    )
    return Settings(
        sources_path=sources,
        keywords_dir=Path(__file__).resolve().parent.parent / "keywords",
        db_path=tmp_path / "agenda.db",
        digests_dir=tmp_path / "digests",
        mail=mail,
        fetch=FetchLimits(total_seconds=2.0, allow_private_networks=True),
    )


@pytest.mark.slow
def test_full_run_delivers_a_spanish_digest_over_smtp(
    tmp_path: Path, sample_sources: Path, keywords: Keywords, linker: Linker, smtp_sink: SmtpSink
) -> None:
    settings = settings_for(tmp_path, sample_sources, smtp_sink)
    store = Store(open_database(settings.db_path))

    async def go():  # noqa: ANN202
        async with make_client() as client:
            return await run_cycle(
                settings,
                load_sources(sample_sources),
                keywords,
                client,
                store,
                SmtpMailer("127.0.0.1", smtp_sink.port, "none"),
                SAMPLE_DAY,
                linker,
            )

    summary = asyncio.run(go())
    assert summary.exit_code == 1  # the sample's broken source
    assert [f[0] for f in summary.collect.failures] == ["radio-caida-demo"]
    assert summary.collect.articles_new >= 40

    # one message per recipient, text + HTML, naming the sample's regions
    assert sorted(r for _, rcpts in smtp_sink.envelopes for r in rcpts) == [
        "gabinete@example.cl",
        "seremi@example.cl",
    ]
    message = email.message_from_bytes(smtp_sink.messages[0], policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert "24 de noviembre de 2026" in str(message["Subject"])
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for region in (
        "Biobío",
        "Valparaíso",
        "Ñuble",
        "La Araucanía",
        "Aysén",
        "Metropolitana",
        "Atacama",
        "Maule",
    ):
        assert region in text, region
        assert region in html, region
    assert "Hospital Provincial Marga Marga" in text and "COMPROMISOS EN SITUACIÓN CRÍTICA" in text
    assert (
        "1 fuente con fallas" in text and 'href="2026-11-24.html#fuentes"' in html
    )  # source health, in short
    web = (settings.digests_dir / "2026-11-24.html").read_text(encoding="utf-8")
    assert (
        "Radio Caída" in web
        and "el servidor respondió con un error (500)" in web
        and 'id="fuentes"' in web
    )  # the detail, one tap away
    assert message["Message-ID"] and message["Date"]

    # digest files written; the run recorded
    assert (settings.digests_dir / "2026-11-24.html").exists()
    assert (settings.digests_dir / "2026-11-24.txt").read_text(encoding="utf-8") == text.replace(
        "\r\n", "\n"
    )
    run = store.last_runs(1)[0]
    assert run["status"] == "partial" and '"emails_sent": 2' in run["counts"]

    # the database is a real file another connection can read
    db = Database(settings.db_path)
    assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert db["articles"].count == summary.collect.articles_new


@pytest.mark.slow
def test_second_collection_gets_304s_and_stores_nothing_twice(
    tmp_path: Path,
    sample_sources: Path,
    sample_server: RunningServer,
    keywords: Keywords,
    linker: Linker,
) -> None:
    settings = settings_for(tmp_path, sample_sources)
    store = Store(open_database(settings.db_path))
    sources = load_sources(sample_sources)

    async def collect():  # noqa: ANN202
        async with make_client() as client:
            return await collect_and_store(sources, linker, client, store, settings)

    first = asyncio.run(collect())
    articles, links = store.count("articles"), store.count("links")
    bytes_first = sample_server.stats.bytes_sent
    second = asyncio.run(collect())
    bytes_second = sample_server.stats.bytes_sent - bytes_first
    assert first.articles_new == articles > 0
    assert second.articles_new == 0
    assert second.sources_not_modified == first.sources_ok  # every good source answered 304
    assert sample_server.stats.statuses[304] == first.sources_ok
    assert store.count("articles") == articles and store.count("links") == links
    assert bytes_second < bytes_first * 0.1
    # ETag stored per source
    row = next(
        store.db.query("select etag, last_modified from sources where id = 'diario-el-sur-demo'")
    )
    assert row["etag"] and row["last_modified"]


@pytest.mark.slow
def test_same_story_from_two_feeds_is_stored_once_with_both_sources(
    tmp_path: Path, sample_sources: Path, keywords: Keywords, linker: Linker
) -> None:
    settings = settings_for(tmp_path, sample_sources)
    store = Store(open_database(settings.db_path))

    async def collect():  # noqa: ANN202
        async with make_client() as client:
            return await collect_and_store(
                load_sources(sample_sources), linker, client, store, settings
            )

    asyncio.run(collect())
    rows = list(
        store.db.query(
            "select a.url, count(*) n from articles a join article_sources "
            "s on s.article_id = a.id group by a.id having n > 1"
        )
    )
    assert len(rows) == 1
    assert "utm_" not in rows[0]["url"]


def test_collection_keeps_the_long_lived_heap_out_of_the_collector_and_gives_it_back(
    tmp_path: Path, sample_sources: Path, linker: Linker
) -> None:
    """While sources are stored, the objects alive before (the linker's) are frozen: full
    collections skip them. After the run, and after a run that fails, nothing stays frozen."""
    settings = settings_for(tmp_path, sample_sources)
    store = Store(open_database(settings.db_path))
    frozen_during: list[int] = []

    async def collect(progress):  # noqa: ANN001, ANN202
        async with make_client() as client:
            return await collect_and_store(
                load_sources(sample_sources), linker, client, store, settings, progress=progress
            )

    summary = asyncio.run(collect(lambda done, total: frozen_during.append(gc.get_freeze_count())))
    assert summary.sources_ok > 0 and len(frozen_during) == summary.sources_ok + len(
        summary.failures
    )
    assert min(frozen_during) > 10_000  # the linker's vocabulary and patterns, at least
    assert gc.get_freeze_count() == 0

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt  # an operator's Ctrl-C in the middle of the night

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(collect(stop))
    assert gc.get_freeze_count() == 0


FAULTY = """\
sources:
  - id: good
    name: Buena
    url: "{base}/feeds/el-sur.xml"
    kind: rss
    region: "08"
  - id: broken-500
    name: Rota 500
    url: "{base}/fault/500"
    kind: rss
    region: "05"
  - id: slow
    name: Lenta
    url: "{base}/fault/timeout"
    kind: rss
    region: "09"
  - id: garbage
    name: Basura
    url: "{base}/fault/garbage"
    kind: atom
    region: national
  - id: html-page
    name: Página
    url: "{base}/site/noticias.html"
    kind: html
    region: "11"
    selectors:
      item: article.nota
      link: a.titulo
      title: a.titulo
      date: time
      summary: p.bajada
"""


@pytest.mark.slow
def test_failures_are_recorded_and_the_rest_lands(
    tmp_path: Path, sample_server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(FAULTY.format(base=sample_server.base_url), encoding="utf-8")
    config = tmp_path / "agenda.yaml"
    config.write_text(
        f"mail:\n  outbox: {tmp_path / 'outbox'}\nfetch:\n"
        "  timeout_seconds: 1.5\n  allow_private_networks: true\n",
        encoding="utf-8",
    )
    db_path = tmp_path / "agenda.db"
    code = main(
        ["collect", "--sources", str(sources), "--db", str(db_path), "--config", str(config)]
    )
    out = capsys.readouterr().out
    assert code == 1
    db = Database(db_path)
    health = {row["id"]: row for row in db.query("select * from sources")}
    assert health["broken-500"]["last_error"].startswith(
        "el servidor respondió con un error (500)"
    )  # "; se reintentó N veces"
    assert "no respondió en" in health["slow"]["last_error"]
    assert "la dirección no entrega un feed legible" in health["garbage"]["last_error"]
    for failing in ("broken-500", "slow", "garbage"):
        assert health[failing]["error_count"] == 1 and health[failing]["last_error_at_utc"]
        assert failing in out
    assert health["good"]["error_count"] == 0 and health["good"]["last_item_count"] >= 6
    assert health["html-page"]["error_count"] == 0 and health["html-page"]["last_item_count"] >= 5
    per_source = dict(
        db.execute("select source_id, count(*) from article_sources group by source_id").fetchall()
    )
    assert per_source["good"] == health["good"]["last_item_count"]
    assert per_source["html-page"] == health["html-page"]["last_item_count"]


@pytest.mark.slow
def test_cli_run_writes_digest_and_eml_to_outbox(
    tmp_path: Path, sample_sources: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "agenda.yaml"
    config.write_text(
        f"mail:\n  to: [a@example.cl]\n  outbox: {tmp_path / 'outbox'}\n"
        "fetch:\n  allow_private_networks: true\n",
        encoding="utf-8",
    )
    args = [
        "--sources",
        str(sample_sources),
        "--db",
        str(tmp_path / "agenda.db"),
        "--digests",
        str(tmp_path / "digests"),
        "--config",
        str(config),
    ]
    assert main(["run", *args, "--date", "2026-11-24"]) == 1
    emls = list((tmp_path / "outbox").glob("*.eml"))
    assert len(emls) == 1
    message = email.message_from_bytes(emls[0].read_bytes(), policy=email.policy.default)
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    # sending again is idempotent; --resend sends on purpose
    capsys.readouterr()
    assert main(["send", *args, "--date", "2026-11-24"]) == 0
    assert "0 escrito en el outbox" in capsys.readouterr().out  # and 1 already written
    assert main(["send", *args, "--resend", "2026-11-24"]) == 0
    out = capsys.readouterr().out
    assert "1 escrito en el outbox" in out and "nothing was sent" in out and "sent," not in out
    # search uses the full-text index, accent-insensitive
    assert main(["search", *args, "Quilpue"]) == 0
    assert "Hospital de Quilpué" in capsys.readouterr().out


@pytest.mark.slow
def test_editions_per_recipient_and_smtp_outage(
    tmp_path: Path, sample_sources: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    config = tmp_path / "agenda.yaml"
    config.write_text(
        f"mail:\n  smtp_host: 127.0.0.1\n  smtp_port: {port}\n"
        "  security: none\n  from: agenda@example.cl\n"
        f"  outbox: {tmp_path / 'outbox'}\n  first_retry_seconds: 0\n"
        "fetch:\n  timeout_seconds: 2\n  allow_private_networks: true\n",
        encoding="utf-8",
    )
    recipients = tmp_path / "recipients.yaml"
    recipients.write_text(
        "recipients:\n"
        "  - address: gabinete@example.cl\n    edition: national\n"
        '  - address: seremi.sur@example.cl\n    regions: ["08", "16"]\n'
        '  - address: delegado.norte@example.cl\n    regions: ["03"]\n',
        encoding="utf-8",
    )
    args = [
        "--sources",
        str(sample_sources),
        "--db",
        str(tmp_path / "agenda.db"),
        "--digests",
        str(tmp_path / "digests"),
        "--config",
        str(config),
        "--recipients",
        str(recipients),
    ]
    # SMTP down: the run ends with exit 1 and the three messages wait in the outbox
    assert main(["run", *args, "--date", "2026-11-24"]) == 1
    out = capsys.readouterr().out
    assert "0 sent" in out and "3 failed" in out
    assert len(list((tmp_path / "outbox" / "queue").glob("*.eml"))) == 3
    # SMTP back: each message is delivered exactly once, even if `send` runs again
    sink = SmtpSink(port)
    sink.start()
    try:
        assert main(["send", *args, "--date", "2026-11-24"]) == 0
        assert main(["send", *args, "--date", "2026-11-24"]) == 0
    finally:
        sink.stop()
    assert len(sink.messages) == 3
    by_recipient = {}
    for raw, (_, rcpts) in zip(sink.messages, sink.envelopes, strict=True):
        message = email.message_from_bytes(raw, policy=email.policy.default)
        by_recipient[rcpts[0]] = (
            str(message["Subject"]),
            message.get_body(("plain",)).get_content(),
        )
    national_subject, national_text = by_recipient["gabinete@example.cl"]
    south_subject, south_text = by_recipient["seremi.sur@example.cl"]
    north_subject, north_text = by_recipient["delegado.norte@example.cl"]
    assert (
        "Edición" not in national_subject
        and "1 compromiso en situación crítica" in national_subject
    )
    assert "Edición Biobío y Ñuble" in south_subject and "sin compromisos críticos" in south_subject
    assert (
        "- Biobío · " in south_text
        and "- Ñuble · " in south_text
        and "- Valparaíso · " not in south_text
    )
    assert "- Atacama · " in north_text and "- Biobío · " not in north_text
    assert "- Valparaíso · " in national_text and "- Magallanes · " in national_text
    # the archive lists the digest
    index = (tmp_path / "digests" / "index.html").read_text(encoding="utf-8")
    assert "2026-11-24.html" in index and "Martes 24 de noviembre de 2026" in index
