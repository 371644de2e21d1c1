from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

from sqlite_utils import Database

from agenda.deliver import (
    FileOutbox,
    SmtpMailer,
    build_message,
    flush,
    queue,
    retry_delay,
)
from agenda.store import Store, utc_now

from .conftest import SmtpSink, free_port

RECIPIENTS = ("a@example.cl", "b@example.cl")
HTML = "<html><head><style>p { color: #c5221f; }</style></head><body><p>Ñuble</p></body></html>"


def message(recipient: str):  # noqa: ANN201
    return build_message(
        "Agenda Regional — martes 24 de noviembre de 2026 · Ñuble",
        "texto ñ",
        HTML,
        "agenda@example.cl",
        recipient,
        "2026-11-24",
    )


def queue_all(store: Store, outbox: Path, resend: bool = False) -> list[bool]:
    return [
        queue(store, outbox, "2026-11-24", r, "national", message(r), resend=resend)
        for r in RECIPIENTS
    ]


def test_message_structure_headers_and_inlined_css() -> None:
    raw = message("a@example.cl").as_bytes()
    headers = raw.split(b"\n\n")[0]
    assert b"=?utf-8?" in headers.lower()  # RFC 2047 subject
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert str(parsed["Subject"]).endswith("· Ñuble")
    assert parsed["Message-ID"].startswith("<agenda-2026-11-24-") and parsed["Date"]
    text, html_part = parsed.get_payload()  # no image: the chart is in the web edition
    assert text.get_content_type() == "text/plain" and html_part.get_content_type() == "text/html"
    html = html_part.get_content()
    assert (
        "<style" not in html and 'style="color: #c5221f;"' in html
    )  # CSS inlined for mail clients


def test_smtp_down_then_back_delivers_each_exactly_once(tmp_path: Path) -> None:
    store = Store(Database(tmp_path / "a.db"))
    sink = SmtpSink()
    mailer = SmtpMailer("127.0.0.1", sink.port, "none", timeout=3)
    queue_all(store, tmp_path / "outbox")
    down = flush(store, mailer)  # nothing listening yet
    assert down.sent == [] and len(down.failed) == 2
    assert {d["status"] for d in store.deliveries()} == {"failed"}
    assert len(list((tmp_path / "outbox" / "queue").glob("*.eml"))) == 2  # the messages wait
    sink.start()
    try:
        too_soon = flush(store, mailer)  # backoff: not due yet
        assert too_soon.sent == [] and len(too_soon.waiting) == 2
        later = utc_now() + retry_delay(1) + timedelta(seconds=1)
        back = flush(store, mailer, now=later)
        again = flush(store, mailer, now=later + timedelta(hours=1))
        assert queue_all(store, tmp_path / "outbox") == [False, False]  # a re-run queues nothing
        after_rerun = flush(store, mailer, now=later + timedelta(hours=2))
    finally:
        sink.stop()
    assert len(back.sent) == 2 and again.sent == [] and after_rerun.sent == []
    assert len(sink.messages) == 2
    assert sorted(r for _, rcpts in sink.envelopes for r in rcpts) == list(RECIPIENTS)
    assert {d["attempts"] for d in store.deliveries()} == {2}


def test_backoff_grows_and_is_capped() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=20),
    ]
    assert retry_delay(30) == timedelta(hours=6)


def test_resend_on_purpose(tmp_path: Path) -> None:
    store = Store(Database(memory=True))
    outbox = FileOutbox(tmp_path / "outbox")
    queue_all(store, tmp_path / "outbox")
    assert len(flush(store, outbox).sent) == 2
    assert queue_all(store, tmp_path / "outbox") == [False, False]
    assert queue_all(store, tmp_path / "outbox", resend=True) == [True, True]
    assert len(flush(store, outbox).sent) == 2
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2  # same Message-ID: same file


def test_unreachable_port_is_a_delivery_error(tmp_path: Path) -> None:
    store = Store(Database(memory=True))
    queue_all(store, tmp_path)
    report = flush(store, SmtpMailer("127.0.0.1", free_port(), "none", timeout=2))
    assert "SMTP 127.0.0.1" in report.failed[0][1]
