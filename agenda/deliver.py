"""Deliver: who gets which edition, the digest as e-mail, through an outbox that loses nothing
and sends nothing twice.

Recipients (``recipients.yaml``, validated once)::

    recipients:
      - address: gabinete@example.cl
        edition: national
      - address: seremi.biobio@example.cl
        regions: ["08", "16"]          # the edition for these regions

Without a recipients file, the addresses in the mail settings get the national edition.

A message is a multipart/alternative: a plain-text part, and an HTML part (CSS inlined, table
layout, no scripts, no external resources, no images: the chart is in the web edition the
e-mail links to). Each (digest date, recipient) has one row in the store's ``deliveries``
table and one file in ``<outbox>/queue/``:

    queue(...)   writes the message file and marks the row "pending" (a sent row stays sent
                 unless ``resend``)
    flush(...)   sends every due pending or failed message with the mailer; a failure marks the
                 row "failed" with the next attempt time (exponential backoff), a success "sent"

``flush`` stops at a deadline (``mail.send_deadline_seconds``, default 120 s): a server that
trickles one byte every few seconds cannot hold a send, and the run lock, for ever; the message
in flight is cut and marked failed, the rest stay pending, all of them still queued.

A ``Mailer`` has one method, ``send(message, until=None)`` (``until``: a ``time.monotonic()``
deadline). ``SmtpMailer`` talks SMTP (STARTTLS, SSL or
plain; the password comes from the environment); ``FileOutbox`` writes ``.eml`` files and is the
embedded default when no SMTP host is configured.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

import css_inline

from agenda.common import exponential_delay, write_atomically
from agenda.errors import ConfigError, DeliveryError
from agenda.keywords import Keywords
from agenda.reports.digest import (
    NATIONAL,
    Digest,
    Edition,
    build_digest,
    make_digest,
    render_email,
    render_text,
    spanish_list,
)
from agenda.reports.digest_files import write_digest
from agenda.settings import MailSettings, Settings, address_problem
from agenda.sources import normalise_region
from agenda.store import Store, iso, utc_now
from agenda.yamlconf import LineDict, line_of, load_yaml

FIRST_RETRY = timedelta(minutes=5)
LONGEST_RETRY = timedelta(hours=6)
_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


class Mailer(Protocol):
    def send(self, message: EmailMessage, until: float | None = None) -> str:
        """Send one message by ``until`` (monotonic time); return where it went. Raise
        DeliveryError."""


def message_id(digest_date: str, recipient: str, domain: str = "agenda.local") -> str:
    """Stable per (digest, recipient): a retried or resent copy is recognisably the same digest."""
    token = hashlib.sha256(f"{digest_date}|{recipient}".encode()).hexdigest()[:16]
    return f"<agenda-{digest_date}-{token}@{domain}>"


def inline_css(html: str) -> str:
    """Move the <style> rules into style attributes: many mail clients drop <style> blocks."""
    return _INLINER.inline(html)


def build_message(
    subject: str,
    text: str,
    html: str,
    sender: str,
    recipient: str,
    digest_date: str,
    now: datetime | None = None,
) -> EmailMessage:
    """multipart/alternative(text/plain, text/html)."""
    message = EmailMessage()
    message["Subject"] = subject  # EmailMessage applies RFC 2047 to non-ASCII headers
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(now or datetime.now(UTC))
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "agenda.local"
    message["Message-ID"] = message_id(digest_date, recipient, domain)
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(inline_css(html), subtype="html", charset="utf-8")
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
        return cls(
            mail.smtp_host, mail.smtp_port, mail.security, mail.smtp_user, mail.smtp_password
        )

    def send(self, message: EmailMessage, until: float | None = None) -> str:
        """One SMTP session. ``timeout`` bounds each read; ``until`` bounds the whole session: a
        timer shuts the socket down then, which a server trickling bytes cannot postpone."""
        remaining = None if until is None else until - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise DeliveryError(
                f"SMTP {self.host}:{self.port}: send deadline reached before sending"
            )
        timeout = self.timeout if remaining is None else min(self.timeout, remaining)
        if self.security == "ssl":
            context = ssl.create_default_context()
            client: smtplib.SMTP = smtplib.SMTP_SSL(timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(timeout=timeout)
        expired = threading.Event()

        def cut() -> None:
            expired.set()
            sock = client.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once
                except OSError:
                    pass

        timer = threading.Timer(remaining, cut) if remaining is not None else None
        if timer:
            timer.daemon = True
            timer.start()
        try:
            client.connect(self.host, self.port)
            with client:
                if self.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if self.user:
                    client.login(self.user, self.password or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            if expired.is_set():
                raise DeliveryError(
                    f"SMTP {self.host}:{self.port}: send deadline reached; the message stays queued"
                ) from exc
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc}") from exc
        finally:
            if timer:
                timer.cancel()
            client.close()
        return f"smtp://{self.host}:{self.port}"


@dataclass
class FileOutbox:
    """The embedded default: "sending" writes the message as an .eml file into ``directory``."""

    directory: Path

    def send(self, message: EmailMessage, until: float | None = None) -> str:  # noqa: ARG002
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / _file_name(str(message["Message-ID"]), str(message["To"]))
        write_atomically(path, message.as_bytes())
        return str(path)


def make_mailer(mail: MailSettings) -> Mailer:
    return SmtpMailer.from_settings(mail) if mail.uses_smtp else FileOutbox(mail.outbox_dir)


def _file_name(mid: str, recipient: str) -> str:
    recipient = re.sub(r"[^A-Za-z0-9@._-]", "_", recipient)
    return re.sub(r"[^A-Za-z0-9-]", "", mid.split("@")[0]) + f"-{recipient}.eml"


def retry_delay(attempts: int, first: timedelta = FIRST_RETRY) -> timedelta:
    """5 min, 10 min, 20 min, … up to 6 h between attempts."""
    return exponential_delay(max(1, attempts), first, LONGEST_RETRY)


@dataclass
class DeliveryReport:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already sent
    failed: list[tuple[str, str]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # failed before, next attempt later
    destinations: list[str] = field(default_factory=list)


def queue(
    store: Store,
    outbox_dir: Path,
    digest_date: str,
    recipient: str,
    edition: str,
    message: EmailMessage,
    resend: bool = False,
) -> bool:
    """Put one message in the outbox; False when it was sent already (and no ``resend``)."""
    previous = store.delivery(digest_date, recipient)
    if previous and previous["status"] == "sent" and not resend:
        return False
    folder = outbox_dir / "queue"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _file_name(str(message["Message-ID"]), recipient)
    write_atomically(path, message.as_bytes())
    store.record_delivery(
        digest_date,
        recipient,
        status="pending",
        edition=edition,
        eml_path=str(path),
        message_id=str(message["Message-ID"]),
        next_attempt_at_utc=iso(utc_now()),
        attempts=previous["attempts"] if previous else 0,
        last_error=None,
    )
    return True


def flush(
    store: Store,
    mailer: Mailer,
    now: datetime | None = None,
    first_retry: timedelta = FIRST_RETRY,
    deadline_seconds: float | None = None,
) -> DeliveryReport:
    """Send every due message in the outbox, oldest digest first, within ``deadline_seconds``
    (None: no deadline); what the deadline leaves unsent stays queued for the next send."""
    now = now or utc_now()
    until = None if deadline_seconds is None else time.monotonic() + deadline_seconds
    report = DeliveryReport()
    for row in store.undelivered():
        label = f"{row['recipient']} ({row['digest_date']})"
        due = (
            row["next_attempt_at_utc"] is None
            or datetime.fromisoformat(row["next_attempt_at_utc"]) <= now
        )
        if not due or until is not None and time.monotonic() >= until:
            report.waiting.append(label if due is False else f"{label}: send deadline reached")
            continue
        attempts = (row["attempts"] or 0) + 1
        try:
            message = message_from_bytes(Path(row["eml_path"]).read_bytes(), policy=policy.default)
            destination = mailer.send(message, until=until)  # type: ignore[arg-type]
        except (DeliveryError, OSError) as exc:
            store.record_delivery(
                row["digest_date"],
                row["recipient"],
                status="failed",
                attempts=attempts,
                last_error=str(exc),
                next_attempt_at_utc=iso(now + retry_delay(attempts, first_retry)),
            )
            report.failed.append((label, str(exc)))
            continue
        store.record_delivery(
            row["digest_date"],
            row["recipient"],
            status="sent",
            attempts=attempts,
            last_error=None,
            sent_at_utc=iso(now),
            next_attempt_at_utc=None,
        )
        report.sent.append(label)
        report.destinations.append(destination)
    return report


# -- recipients ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipient:
    address: str
    edition: Edition
    reports: tuple[str, ...] = ()  # other reports asked for: "compromisos-semanal"


KNOWN_REPORTS = ("compromisos-semanal",)


def national_recipients(addresses: tuple[str, ...]) -> list[Recipient]:
    return [Recipient(address, NATIONAL) for address in addresses]


class RecipientList(list):  # type: ignore[type-arg]
    """The valid recipients, and in ``rejected`` one "file:line: field …: why" per bad entry:
    one bad address must not stop the mail to the others."""

    rejected: list[str]


def load_recipients(path: Path, keywords: Keywords) -> RecipientList:
    """Read recipients.yaml. A file that is not a recipients list raises ``ConfigError``; a bad
    entry (address, edition, regions) is left out and reported in ``rejected``."""
    data = load_yaml(path)
    name = str(path)
    if not isinstance(data, dict) or not isinstance(data.get("recipients"), list):
        raise ConfigError(
            name, line_of(data), "recipients", "the file must have a top-level 'recipients:' list"
        )
    errors: list[ConfigError] = []
    recipients: list[Recipient] = []
    seen: set[str] = set()
    for entry in data["recipients"]:
        if not isinstance(entry, LineDict):
            errors.append(
                ConfigError(
                    name,
                    line_of(data, "recipients"),
                    "recipients",
                    "each recipient must be a mapping with address: and edition: or regions:",
                )
            )
            continue
        address = entry.get("address")
        problem = address_problem(address)
        if problem:
            errors.append(ConfigError(name, entry.line_of("address"), "address", problem))
            continue
        address = str(address).strip()
        if address.lower() in seen:
            errors.append(
                ConfigError(
                    name, entry.line_of("address"), "address", f"'{address}' is listed twice"
                )
            )
            continue
        seen.add(address.lower())
        reports = _reports(name, entry, errors)
        if reports is None:
            continue
        regions = entry.get("regions")
        edition_name = entry.get("edition")
        if regions is None:
            if edition_name not in (None, "national", "nacional"):
                errors.append(
                    ConfigError(
                        name,
                        entry.line_of("edition"),
                        "edition",
                        f"unknown edition '{edition_name}' (use 'national' or a regions: list)",
                    )
                )
                continue
            recipients.append(Recipient(address, NATIONAL, reports))
            continue
        if not isinstance(regions, list) or not regions:
            errors.append(
                ConfigError(
                    name,
                    entry.line_of("regions"),
                    "regions",
                    'must be a list of region codes like ["08", "16"]',
                )
            )
            continue
        codes = []
        for value in regions:
            code = normalise_region(value)
            if code is None or code == "national":
                errors.append(
                    ConfigError(
                        name, entry.line_of("regions"), "regions", f"unknown region code '{value}'"
                    )
                )
                break
            codes.append(code)
        else:
            codes = sorted(set(codes))
            title = "Edición " + spanish_list([keywords.region_name(code) for code in codes])
            recipients.append(Recipient(address, Edition(title, tuple(codes)), reports))
    valid = RecipientList(recipients)
    valid.rejected = [str(error) for error in errors]
    return valid


def _reports(name: str, entry: LineDict, errors: list[ConfigError]) -> tuple[str, ...] | None:
    """A recipient's ``reports:`` list (None when invalid, with the error recorded)."""
    value = entry.get("reports")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(
            ConfigError(
                name,
                entry.line_of("reports"),
                "reports",
                f"must be a list like [{KNOWN_REPORTS[0]}]",
            )
        )
        return None
    unknown = [v for v in value if v not in KNOWN_REPORTS]
    if unknown:
        errors.append(
            ConfigError(
                name,
                entry.line_of("reports"),
                "reports",
                f"unknown report '{unknown[0]}' (known: {', '.join(KNOWN_REPORTS)})",
            )
        )
        return None
    return tuple(dict.fromkeys(value))


# -- one day's digest to every recipient -------------------------------------------------------
def send_digest(
    store: Store,
    keywords: Keywords,
    mailer: Mailer,
    settings: Settings,
    day: date,
    recipients: list[Recipient] | None = None,
    resend: bool = False,
) -> tuple[Digest, DeliveryReport]:
    """Write the day's digest, queue one message per recipient with their edition, and flush
    the outbox (which also retries earlier failed messages that are due)."""
    day_stories, national = make_digest(store, keywords, day)
    write_digest(
        national, settings.digests_dir, settings.digest
    )  # the web edition the e-mail links to
    sources = store.source_health()
    editions: dict[str, Digest] = {NATIONAL.key: national}
    already_sent: list[str] = []
    for recipient in (
        recipients if recipients is not None else national_recipients(settings.mail.recipients)
    ):
        digest = editions.get(recipient.edition.key)
        if digest is None:
            digest = editions[recipient.edition.key] = build_digest(
                day_stories, sources, keywords, recipient.edition
            )
        message = build_message(
            digest.subject,
            render_text(digest, settings.digest),
            render_email(digest, settings.digest),
            settings.mail.sender,
            recipient.address,
            day.isoformat(),
        )
        if not queue(
            store,
            settings.mail.outbox_dir,
            day.isoformat(),
            recipient.address,
            recipient.edition.key,
            message,
            resend=resend,
        ):
            already_sent.append(f"{recipient.address} ({day.isoformat()})")
    report = flush(
        store,
        mailer,
        first_retry=timedelta(seconds=settings.mail.first_retry_seconds),
        deadline_seconds=settings.mail.send_deadline_seconds,
    )
    report.skipped = already_sent
    return national, report


# -- the weekly commitment report ------------------------------------------------------------
def send_weekly_report(
    store: Store,
    keywords: Keywords,
    mailer: Mailer,
    settings: Settings,
    start: date,
    end: date,
    recipients: list[Recipient],
    resend: bool = False,
) -> tuple[list[Path], DeliveryReport]:
    """Write the commitment report for [start, end] and e-mail it to every recipient whose
    ``reports`` list asks for it (a regional recipient gets their regions), through the outbox:
    one row per ("compromisos-<ISO week>", recipient), so it goes once and is retried."""
    from agenda.reports.commitments import (
        WEEKLY_REPORT,
        CommitmentReport,
        build_report,
        week_key,
        write_report,
    )
    from agenda.reports.commitments import render_html as report_html
    from agenda.reports.commitments import render_text as report_text

    national = build_report(store, keywords, start, end)
    paths = [write_report(national, settings.digests_dir).html]
    reports: dict[tuple[str, ...], CommitmentReport] = {(): national}
    key = f"compromisos-{week_key(start)}" if national.is_week else f"compromisos-{start}_{end}"
    already_sent: list[str] = []
    for recipient in recipients:
        if WEEKLY_REPORT not in recipient.reports:
            continue
        codes = recipient.edition.region_codes
        if codes not in reports:
            reports[codes] = build_report(store, keywords, start, end, codes)
            paths.append(write_report(reports[codes], settings.digests_dir).html)
        report = reports[codes]
        message = build_message(
            report.subject,
            report_text(report),
            report_html(report, timeline_prefix=None),
            settings.mail.sender,
            recipient.address,
            key,
        )
        if not queue(
            store,
            settings.mail.outbox_dir,
            key,
            recipient.address,
            recipient.edition.key,
            message,
            resend=resend,
        ):
            already_sent.append(f"{recipient.address} ({key})")
    delivery = flush(
        store, mailer, first_retry=timedelta(seconds=settings.mail.first_retry_seconds)
    )
    delivery.skipped = already_sent
    return paths, delivery
