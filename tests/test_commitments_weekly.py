"""The weekly commitment report by e-mail: who asks for it (recipients.yaml), sent once through
the outbox to a real aiosmtpd server, `agenda run --weekly`, and the Monday 07:00 job."""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlite_utils import Database

from agenda.cli import main
from agenda.deliver import Recipient, load_recipients, send_weekly_report
from agenda.keywords import Keywords
from agenda.link import Linker
from agenda.reports.digest import NATIONAL, Edition
from agenda.schedule import build_scheduler
from agenda.settings import MailSettings, ScheduleSettings, Settings
from agenda.store import Store

from .commitment_articles import store_fixture_articles
from .conftest import SmtpSink

SANTIAGO = ZoneInfo("America/Santiago")
WEEK = (date(2026, 11, 23), date(2026, 11, 29))


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_weekly_report_reaches_each_asking_recipient_once(
    tmp_path: Path,
    keywords: Keywords,
    linker: Linker,
    smtp_sink: SmtpSink,
) -> None:
    store = Store(Database(tmp_path / "agenda.db"))
    store_fixture_articles(store, linker)
    settings = Settings(
        digests_dir=tmp_path / "digests",
        mail=MailSettings(
            smtp_host="127.0.0.1",
            smtp_port=smtp_sink.port,
            security="none",
            sender="agenda@example.cl",
            outbox_dir=tmp_path / "outbox",
        ),
    )
    recipients = [
        Recipient("gabinete@example.cl", NATIONAL, ("compromisos-semanal",)),
        Recipient(
            "seremi.loslagos@example.cl",
            Edition("Edición Los Lagos", ("10",)),
            ("compromisos-semanal",),
        ),
        Recipient("solo.diario@example.cl", NATIONAL),
    ]
    paths, first = send_weekly_report(
        store, keywords, _mailer(settings), settings, *WEEK, recipients
    )
    _, second = send_weekly_report(store, keywords, _mailer(settings), settings, *WEEK, recipients)
    assert len(first.sent) == 2 and second.sent == [] and len(second.skipped) == 2
    assert sorted(r for _, rcpts in smtp_sink.envelopes for r in rcpts) == [
        "gabinete@example.cl",
        "seremi.loslagos@example.cl",
    ]
    assert len(smtp_sink.messages) == 2
    by_recipient = {str(parsed(m)["To"]): parsed(m) for m in smtp_sink.messages}
    national = by_recipient["gabinete@example.cl"]
    assert str(national["Subject"]) == (
        "Compromisos regionales — semana del 23 nov 2026 al 29 nov 2026 · 2 en situación crítica"
    )
    text = national.get_body(("plain",)).get_content()
    assert "[CRÍTICO] Hospital Provincial Marga Marga" in text and "ARICA Y PARINACOTA" in text
    html = national.get_body(("html",)).get_content()
    assert "<style" not in html and "Hospital de Quilpué están paralizadas desde octubre" in html
    regional = by_recipient["seremi.loslagos@example.cl"].get_body(("plain",)).get_content()
    assert "LOS LAGOS" in regional and "VALPARAÍSO" not in regional
    keys = {row["digest_date"] for row in store.deliveries()}
    assert keys == {"compromisos-2026-W48"}
    assert {p.name for p in paths} == {"semana-2026-W48.html", "semana-2026-W48-region-10.html"}


def _mailer(settings: Settings):
    from agenda.deliver import make_mailer

    return make_mailer(settings.mail)


def test_run_weekly_for_cron_sends_once(
    tmp_path: Path, smtp_sink: SmtpSink, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "agenda.yaml"
    config.write_text(
        f"mail:\n  smtp_host: 127.0.0.1\n  smtp_port: {smtp_sink.port}\n  security: none\n"
        f"  from: agenda@example.cl\n  outbox: {tmp_path / 'outbox'}\n",
        encoding="utf-8",
    )
    recipients = tmp_path / "recipients.yaml"
    recipients.write_text(
        "recipients:\n  - address: gabinete@example.cl\n    reports: [compromisos-semanal]\n"
        "  - address: solo.diario@example.cl\n",
        encoding="utf-8",
    )
    args = [
        "run",
        "--weekly",
        "--config",
        str(config),
        "--recipients",
        str(recipients),
        "--db",
        str(tmp_path / "agenda.db"),
        "--digests",
        str(tmp_path / "digests"),
    ]
    assert main(args) == 0
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "1 sent" in out and "1 already sent" in out
    assert len(smtp_sink.messages) == 1 and smtp_sink.envelopes[0][1] == ["gabinete@example.cl"]
    assert list((tmp_path / "digests" / "compromisos").glob("semana-*.html"))


def test_recipients_ask_for_reports_by_name(tmp_path: Path, keywords: Keywords) -> None:
    path = tmp_path / "recipients.yaml"
    path.write_text(
        "recipients:\n  - address: a@example.cl\n"
        "    regions: ['08']\n    reports: [compromisos-semanal]\n"
        "  - address: b@example.cl\n",
        encoding="utf-8",
    )
    a, b = load_recipients(path, keywords)
    assert (
        a.reports == ("compromisos-semanal",)
        and a.edition.region_codes == ("08",)
        and b.reports == ()
    )
    path.write_text(
        "recipients:\n  - address: a@example.cl\n    reports: [compromisos-mensual]\n",
        encoding="utf-8",
    )
    # a bad entry is reported and left out; the others still get their mail
    found = load_recipients(path, keywords)
    assert list(found) == [] and found.rejected == [
        f"{path}:3: field 'reports': unknown report "
        "'compromisos-mensual' (known: compromisos-semanal)"
    ]


def test_weekly_job_fires_mondays_at_seven_in_santiago() -> None:
    scheduler = build_scheduler(
        ScheduleSettings(),
        lambda: None,
        lambda: None,
        BackgroundScheduler(timezone=SANTIAGO),
        weekly_job=lambda: None,
    )
    weekly = scheduler.get_job("weekly")
    after = datetime(2026, 11, 24, 8, 0, tzinfo=SANTIAGO)  # a Tuesday
    assert weekly.trigger.get_next_fire_time(None, after) == datetime(
        2026, 11, 30, 7, 0, tzinfo=SANTIAGO
    )
    assert weekly.max_instances == 1 and weekly.coalesce is True
    assert (
        build_scheduler(
            ScheduleSettings(), lambda: None, lambda: None, BackgroundScheduler(timezone=SANTIAGO)
        ).get_job("weekly")
        is None
    )
