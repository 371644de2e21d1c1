from __future__ import annotations

import email
import email.policy
from pathlib import Path

from sqlite_utils import Database

from agenda.deliver import FileOutbox, SmtpMailer, build_message, deliver
from agenda.store import Store

from .conftest import SmtpSink, free_port

RECIPIENTS = ("a@example.cl", "b@example.cl")


def send(store: Store, mailer, resend: bool = False):  # noqa: ANN001, ANN201
    return deliver(store, mailer, "2026-11-24", "Agenda Regional — martes 24 de noviembre de 2026 · Ñuble", "texto", "<p>html</p>",
                   "agenda@example.cl", RECIPIENTS, resend=resend)


def test_message_is_multipart_alternative_with_encoded_subject() -> None:
    message = build_message("Agenda Regional — Ñuble", "texto ñ", "<p>ñ</p>", "agenda@example.cl", "a@example.cl", "2026-11-24")
    raw = message.as_bytes()
    assert b"=?utf-8?" in raw.split(b"\n\n")[0].lower() or b"=?UTF-8?" in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert str(parsed["Subject"]) == "Agenda Regional — Ñuble"
    assert parsed["Message-ID"].startswith("<agenda-2026-11-24-")


def test_smtp_down_then_back_delivers_each_exactly_once(tmp_path: Path) -> None:
    store = Store(Database(tmp_path / "a.db"))
    sink = SmtpSink()
    mailer = SmtpMailer("127.0.0.1", sink.port, "none", timeout=3)
    down = send(store, mailer)  # nothing listening yet
    assert down.sent == [] and [r for r, _ in down.failed] == list(RECIPIENTS)
    assert {d["status"] for d in store.deliveries()} == {"failed"}
    sink.start()
    try:
        back = send(store, mailer)
        again = send(store, mailer)
    finally:
        sink.stop()
    assert back.sent == list(RECIPIENTS)
    assert again.sent == [] and again.skipped == list(RECIPIENTS)
    assert len(sink.messages) == 2
    assert {d["attempts"] for d in store.deliveries()} == {2}


def test_resend_on_purpose(tmp_path: Path) -> None:
    store = Store(Database(memory=True))
    outbox = FileOutbox(tmp_path / "outbox")
    assert len(send(store, outbox).sent) == 2
    assert send(store, outbox).skipped == list(RECIPIENTS)
    assert len(send(store, outbox, resend=True).sent) == 2
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2  # same Message-ID: same file


def test_unreachable_port_is_a_delivery_error() -> None:
    store = Store(Database(memory=True))
    report = send(store, SmtpMailer("127.0.0.1", free_port(), "none", timeout=2))
    assert "SMTP 127.0.0.1" in report.failed[0][1]
