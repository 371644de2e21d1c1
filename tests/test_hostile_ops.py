"""Operations under pressure (issue 10): a digest is mailed once whatever runs at the same time, a
stalling SMTP server cannot hold a send past its deadline, backups never overwrite by accident,
feedback is idempotent; and the error tree and exit codes are the ones the CLI documents."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agenda.cli import main
from agenda.collect import FetchResult
from agenda.extract import Article
from agenda.keywords import load_keywords
from agenda.link import Linker
from agenda.sources import Source
from agenda.store import Store, migrations, open_database
from tests.conftest import SmtpSink

ROOT = Path(__file__).resolve().parent.parent


class SlowSmtpSink(SmtpSink):
    """aiosmtpd that holds every message at DATA until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        self.entered.set()
        while not self.release.is_set():
            await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_sink() -> Iterator[SlowSmtpSink]:
    sink = SlowSmtpSink()
    sink.start()
    yield sink
    sink.release.set()
    sink.stop()


def workspace(
    tmp_path: Path, port: int, extra: str = "", to: str = "[gabinete@example.cl]"
) -> list[str]:
    db = tmp_path / "agenda.db"
    open_database(db).close()
    config = tmp_path / "agenda.yaml"
    config.write_text(
        f"mail:\n  smtp_host: 127.0.0.1\n  smtp_port: {port}\n"
        "  security: none\n  from: agenda@example.cl\n"
        f"  to: {to}\n  outbox: {tmp_path / 'outbox'}\n{extra}",
        encoding="utf-8",
    )
    return [
        "--db",
        str(db),
        "--config",
        str(config),
        "--digests",
        str(tmp_path / "digests"),
        "--keywords",
        str(ROOT / "keywords"),
        "--date",
        "2026-11-24",
    ]


@pytest.mark.slow
def test_two_sends_at_once_mail_the_digest_once(
    slow_sink: SlowSmtpSink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = workspace(tmp_path, slow_sink.port)
    first = subprocess.Popen(
        [sys.executable, "-m", "agenda.cli", "send", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert slow_sink.entered.wait(120), "the first send never reached the server"
        # the first send is inside its SMTP session: a second one now must not mail again
        assert main(["send", *args]) == 3
        assert "another agenda run is in progress" in capsys.readouterr().err
    finally:
        slow_sink.release.set()
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert main(["send", *args]) == 0  # and afterwards: already sent
    assert "0 sent, 1 already sent" in capsys.readouterr().out
    assert len(slow_sink.messages) == 1


class TricklingServer:
    """Accepts SMTP connections and answers one byte at a time, never finishing a line: each
    read succeeds within any per-read timeout, so only a whole-send deadline ends it."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            while not self.stop.wait(0.2):
                try:
                    connection.sendall(b"2")
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def test_a_trickling_server_cannot_hold_a_send_past_its_deadline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = TricklingServer()
    try:
        args = workspace(
            tmp_path,
            server.port,
            extra="  send_deadline_seconds: 1\n",
            to="[gabinete@example.cl, seremi@example.cl]",
        )
        code = main(["send", *args])
    finally:
        server.close()
    out = capsys.readouterr().out
    assert code == 1 and "send deadline reached" in out
    store = Store(open_database(tmp_path / "agenda.db"))
    rows = {row["recipient"]: row for row in store.deliveries()}
    # the message in flight is cut and waits for a retry; the other was never started
    assert {row["status"] for row in rows.values()} == {"failed", "pending"}
    failed = next(row for row in rows.values() if row["status"] == "failed")
    assert "send deadline reached" in failed["last_error"]
    assert all(Path(row["eml_path"]).exists() for row in rows.values())  # both still queued
    assert server.connections == 1


def test_send_deadline_is_configurable_and_checked() -> None:
    from agenda.settings import load_settings

    assert load_settings(None, environ={}).mail.send_deadline_seconds == 120


def test_backup_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "agenda.db"
    open_database(db).close()
    notes = tmp_path / "informe.docx"
    notes.write_bytes(b"un documento que no es una base de datos")
    assert main(["backup", str(notes), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{notes}: already exists" in err
        and "--force" in err
        and len(err.strip().splitlines()) == 1
    )
    assert notes.read_bytes() == b"un documento que no es una base de datos"
    assert main(["backup", str(tmp_path), "--db", str(db)]) == 2  # a folder
    assert "is a folder" in capsys.readouterr().err
    assert main(["backup", str(notes), "--db", str(db), "--force"]) == 0
    assert notes.read_bytes().startswith(b"SQLite format 3\x00")


@pytest.fixture
def linked_article(tmp_path: Path) -> tuple[Path, Path]:
    keywords_dir = tmp_path / "keywords"
    shutil.copytree(
        ROOT / "keywords", keywords_dir, ignore=shutil.ignore_patterns("feedback.yaml", "dpa")
    )
    db = tmp_path / "agenda.db"
    store = Store(open_database(db))
    source = Source(
        id="diario", name="Diario", url="https://d.cl/feed", kind="rss", region_code="national"
    )
    store.sync_sources([source])
    article = Article(
        url="https://d.cl/1",
        title="Corte de luz en Temuco y Lautaro",
        summary="El alcalde de Temuco pidió explicaciones.",
        source_id="diario",
        outlet="Diario",
        source_region="national",
        published_at_utc=datetime(2026, 11, 24, 12, tzinfo=UTC),
    )
    store.record_fetch(
        FetchResult(source, "ok"),
        [article],
        [Linker(load_keywords(keywords_dir)).link(article.link_text())],
    )
    return keywords_dir, db


def test_the_same_feedback_twice_is_one_row_and_one_rule(
    linked_article: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    keywords_dir, db = linked_article
    args = ["--db", str(db), "--keywords", str(keywords_dir)]
    rules = []
    for _ in range(2):
        assert main(["feedback", "1", "--not", "09101", *args]) == 0
        assert main(["feedback", "1", "--add", "05", *args]) == 0
        rules.append((keywords_dir / "feedback.yaml").read_text(encoding="utf-8"))
    assert rules[0] == rules[1] and "code: 09101" in rules[0]  # no second copy of the rules
    out = capsys.readouterr().out
    assert out.count("was already recorded; nothing changed") == 2
    store = Store(open_database(db))
    rows = [(r["action"], r["code"]) for r in store.feedback_for(1)]
    assert sorted(rows) == [("add", "05"), ("not", "09101")]


def test_migration_m009_folds_existing_duplicate_feedback(tmp_path: Path) -> None:
    from sqlite_utils import Database

    db = Database(tmp_path / "old.db")
    migrations.apply(db, stop_before="m009_feedback_unique")
    db["articles"].insert(
        {"id": 1, "url": "https://d.cl/1", "title": "t", "local_date": "2026-11-24"}
    )
    for _ in range(3):
        db["feedback"].insert(
            {"article_id": 1, "action": "not", "kind": "commune", "code": "09101"}
        )
    migrations.apply(db)
    assert db["feedback"].count == 1
    Store(db).record_feedback(1, "not", "commune", "09101", "Temuco", [], [])
    assert db["feedback"].count == 1


# -- the error tree and exit codes -----------------------------------------------------------------
def test_every_error_the_cli_reports_is_in_the_tree_with_a_named_exit_code() -> None:
    from agenda import errors, ops
    from agenda.reports.digest import Digest

    assert ops.RunLocked is errors.RunLocked and issubclass(errors.RunLocked, errors.AgendaError)
    codes = {errors.EXIT_OK, errors.EXIT_PARTIAL, errors.EXIT_CONFIG, errors.EXIT_LOCKED}
    for name in dir(errors):
        value = getattr(errors, name)
        if isinstance(value, type) and issubclass(value, errors.AgendaError):
            assert value.exit_code in codes, name
    for module in ("cli.py", "commands.py"):
        source = (ROOT / "agenda" / module).read_text(encoding="utf-8")
        assert not re.search(r"return \d\b|return \d if|else \d\b", source), module
    assert not hasattr(ops, "holder_alive") and not hasattr(Digest, "at_risk")
    assert not hasattr(Linker, "_place_words")


def test_logging_never_writes_to_a_closed_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A handler set up while stderr was a stream that is closed later (pytest's capture between
    tests) used to print "I/O operation on closed file" on every later log line."""
    from agenda import logs

    swapped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", swapped)
    logs.configure()
    monkeypatch.setattr(sys, "stderr", sys.__stderr__)
    swapped.close()
    monkeypatch.undo()
    logging.getLogger("agenda").warning("después del cambio")
    err = capsys.readouterr().err
    assert "Logging error" not in err and "closed file" not in err
    assert "WARNING " in err and "agenda: después del cambio" in err
    logs.configure()
