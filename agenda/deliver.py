"""Deliver: the digest as a multipart/alternative e-mail (plain text + HTML).

A ``Mailer`` has one method, ``send(message)``. ``SmtpMailer`` talks SMTP (STARTTLS, SSL or
plain, password from the environment); ``FileOutbox`` writes ``.eml`` files and is the embedded
default when no SMTP host is configured. ``deliver`` records a state per (digest date, recipient)
in the store, so a failed send is retried by the next run and a sent one is never sent twice
unless ``resend`` is asked for.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from agenda.errors import DeliveryError
from agenda.settings import MailSettings
from agenda.store import Store, iso, utc_now


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Send one message; return where it went (for messages to people). Raise DeliveryError."""


def message_id(digest_date: str, recipient: str, domain: str = "agenda.local") -> str:
    """Stable per (digest, recipient): a resent copy is recognisably the same digest."""
    token = hashlib.sha256(f"{digest_date}|{recipient}".encode()).hexdigest()[:16]
    return f"<agenda-{digest_date}-{token}@{domain}>"


def build_message(subject: str, text: str, html: str, sender: str, recipient: str, digest_date: str, now: datetime | None = None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject  # EmailMessage applies RFC 2047 to non-ASCII headers
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(now or datetime.now(timezone.utc))
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "agenda.local"
    message["Message-ID"] = message_id(digest_date, recipient, domain)
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


@dataclass
class SmtpMailer:
    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, mail: MailSettings) -> SmtpMailer:
        assert mail.smtp_host
        return cls(mail.smtp_host, mail.smtp_port, mail.security, mail.smtp_user, mail.smtp_password)

    def send(self, message: EmailMessage) -> str:
        try:
            if self.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if self.user:
                    client.login(self.user, self.password or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc}") from exc
        return f"smtp://{self.host}:{self.port}"


@dataclass
class FileOutbox:
    directory: Path

    def send(self, message: EmailMessage) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        recipient = re.sub(r"[^A-Za-z0-9@._-]", "_", str(message["To"]))
        mid = re.sub(r"[^A-Za-z0-9-]", "", str(message["Message-ID"]).split("@")[0])
        path = self.directory / f"{mid}-{recipient}.eml"
        temporary = path.with_suffix(".eml.tmp")
        temporary.write_bytes(message.as_bytes())
        temporary.replace(path)  # atomic: never a half-written .eml
        return str(path)


def make_mailer(mail: MailSettings) -> Mailer:
    return SmtpMailer.from_settings(mail) if mail.uses_smtp else FileOutbox(mail.outbox_dir)


@dataclass
class DeliveryReport:
    sent: list[str]
    skipped: list[str]
    failed: list[tuple[str, str]]
    destinations: list[str]


def deliver(
    store: Store,
    mailer: Mailer,
    digest_date: str,
    subject: str,
    text: str,
    html: str,
    sender: str,
    recipients: tuple[str, ...],
    resend: bool = False,
) -> DeliveryReport:
    """Send the digest once to each recipient; state lives in the store's deliveries table."""
    report = DeliveryReport([], [], [], [])
    for recipient in recipients:
        previous = store.delivery(digest_date, recipient)
        if previous and previous["status"] == "sent" and not resend:
            report.skipped.append(recipient)
            continue
        attempts = (previous["attempts"] if previous else 0) + 1
        message = build_message(subject, text, html, sender, recipient, digest_date)
        try:
            destination = mailer.send(message)
        except DeliveryError as exc:
            store.record_delivery(digest_date, recipient, status="failed", attempts=attempts, last_error=str(exc), message_id=message["Message-ID"])
            report.failed.append((recipient, str(exc)))
            continue
        store.record_delivery(
            digest_date, recipient, status="sent", attempts=attempts, last_error=None,
            message_id=message["Message-ID"], sent_at_utc=iso(utc_now()),
            eml_path=destination if destination.endswith(".eml") else None,
        )
        report.sent.append(recipient)
        report.destinations.append(destination)
    return report
