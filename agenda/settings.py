"""Settings: paths, mail, schedule and fetch limits, validated once at the edge.

Sources:   command-line options (paths) > environment (AGENDA_*) > agenda.yaml > defaults.
The SMTP password is read only from the environment (AGENDA_SMTP_PASSWORD), never from a file.

    # agenda.yaml (optional)
    mail:
      smtp_host: smtp.example.cl
      smtp_port: 587
      smtp_user: agenda
      security: starttls        # starttls | ssl | none
      from: agenda@example.cl
      to: [gabinete@example.cl]
      outbox: outbox            # where .eml files go when no SMTP host is set
      first_retry_seconds: 300  # a failed send is retried after 5 min, then 10, 20, … (max 6 h)
      send_deadline_seconds: 120  # a whole `agenda send` stops here; unsent mail stays queued
    schedule:
      collect: "0 0-6 * * *"    # cron, America/Santiago
      digest: "30 6 * * *"
      weekly: "0 7 * * mon"     # the commitment report (Mondays; write day names)
      misfire_grace_seconds: 3600
    fetch:
      concurrency: 16
      per_host: 2
      max_bytes: 5242880
      timeout_seconds: 60
      allow_private_networks: false  # true only to fetch from this machine or a private network
    digest:
      archive_url: https://agenda.example.cl/digests/   # where the digests folder is published
      feedback_to: analistas@example.cl  # readers' "¿Error?" links (default: mail from)
    stories:
      window_days: 3            # a new article joins a story with articles up to 2 days apart

Every key is checked: an unknown one (the typo ``smpt_host``) is an error naming the nearest
known key; numbers must be finite and within the range each setting documents. An invalid
recipient address does not stop the others: it is kept in ``MailSettings.rejected`` and reported
by ``agenda send``.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agenda.collect import FetchLimits
from agenda.errors import ConfigError, ConfigErrors
from agenda.stories import DEFAULT_WINDOW_DAYS
from agenda.yamlconf import LineDict, line_of, load_yaml

TIMEZONE = "America/Santiago"
SECURITY_MODES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class MailSettings:
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    security: str = "starttls"
    sender: str = "agenda@localhost"
    recipients: tuple[str, ...] = ("agenda@localhost",)
    outbox_dir: Path = Path("outbox")
    first_retry_seconds: int = 300  # a failed send waits this long, doubling each time (max 6 h)
    send_deadline_seconds: float = 120.0  # a whole send stops here; what is left stays queued
    rejected: tuple[str, ...] = ()  # "file:line: field 'to': why" for each invalid address

    @property
    def uses_smtp(self) -> bool:
        return bool(self.smtp_host)


@dataclass(frozen=True)
class ScheduleSettings:
    collect_cron: str = "0 0-6 * * *"
    digest_cron: str = "30 6 * * *"
    weekly_cron: str = (
        "0 7 * * mon"  # the commitment report; a day name: APScheduler counts 0 as Monday
    )
    misfire_grace_seconds: int = 3600
    timezone: str = TIMEZONE


@dataclass(frozen=True)
class DigestSettings:
    """Where readers' links point. ``archive_url`` unset: links relative to the digests folder."""

    archive_url: str | None = None
    feedback_to: str | None = None

    def archive_link(self, path: str) -> str:
        """Where a file of the digests folder is read from.

        >>> DigestSettings("https://a.cl/digests").archive_link("2026-11-24.html#region-05")
        'https://a.cl/digests/2026-11-24.html#region-05'
        """
        return f"{self.archive_url.rstrip('/')}/{path}" if self.archive_url else path


@dataclass(frozen=True)
class StorySettings:
    window_days: int = DEFAULT_WINDOW_DAYS


@dataclass(frozen=True)
class Settings:
    sources_path: Path = Path("sources.yaml")
    keywords_dir: Path = Path("keywords")
    db_path: Path = Path("agenda.db")
    digests_dir: Path = Path("digests")
    config_path: Path | None = None
    mail: MailSettings = field(default_factory=MailSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    fetch: FetchLimits = field(default_factory=FetchLimits)
    digest: DigestSettings = field(default_factory=DigestSettings)
    stories: StorySettings = field(default_factory=StorySettings)


class _Tracked(LineDict):
    """A section that records which keys the parsers asked for: any other key is unknown."""

    asked: set[str]

    @classmethod
    def wrap(cls, value: Any) -> _Tracked:
        tracked = cls(value)
        tracked.line = getattr(value, "line", 0)
        tracked.key_lines = dict(getattr(value, "key_lines", {}))
        tracked.asked = set()
        return tracked

    def get(self, key: Any, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(key)  # type: ignore[arg-type]
        return super().__contains__(key)


def _unknown_keys(name: str, section: _Tracked, where: str) -> list[ConfigError]:
    errors = []
    for key in dict.keys(section):
        if key in section.asked:
            continue
        known = sorted(str(k) for k in section.asked)
        nearest = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        hint = f"; did you mean '{nearest[0]}'?" if nearest else f" (known: {', '.join(known)})"
        errors.append(
            ConfigError(name, line_of(section, str(key)), str(key), f"unknown key in {where}{hint}")
        )
    return errors


def _section(name: str, data: _Tracked, key: str, what: str) -> _Tracked:
    value = data.get(key)
    if value is None:
        return _Tracked.wrap(LineDict())
    if not isinstance(value, dict):
        raise ConfigError(
            name,
            line_of(data, key),
            key,
            f"must be a mapping of settings ({what}), not a {_kind(value)}",
        )
    return _Tracked.wrap(value)


def _kind(value: Any) -> str:
    return {list: "list", str: "text", int: "number", float: "number", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def load_settings(
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **paths: Path | None,
) -> Settings:
    """Build Settings from agenda.yaml (if given or present), the environment and path options."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    if config_path is None and Path("agenda.yaml").exists():
        config_path = Path("agenda.yaml")
    data: Any = {}
    if config_path is not None:
        data = load_yaml(config_path) or {}
        if not isinstance(data, dict):
            raise ConfigError(
                str(config_path),
                None,
                None,
                "must be a mapping with mail:, schedule:, fetch:, digest:, stories:",
            )
    name = str(config_path)
    top = _Tracked.wrap(data)
    sections = {
        key: _section(name, top, key, what)
        for key, what in (
            ("mail", "smtp_host:, to:, …"),
            ("schedule", "collect:, digest:, …"),
            ("fetch", "concurrency:, timeout_seconds:, …"),
            ("digest", "archive_url:, feedback_to:"),
            ("stories", "window_days:"),
        )
    }
    mail = _mail(name, sections["mail"], environ)
    schedule = _schedule(name, sections["schedule"])
    fetch = _fetch(name, sections["fetch"])
    digest = _digest(name, sections["digest"], mail)
    stories = _stories(name, sections["stories"])
    errors = _unknown_keys(name, top, "agenda.yaml")
    for key, section in sections.items():
        errors += _unknown_keys(name, section, f"{key}:")
    if errors:
        raise ConfigErrors(errors) if len(errors) > 1 else errors[0]
    overrides = {key: Path(value) for key, value in paths.items() if value is not None}
    return replace(
        settings,
        config_path=config_path,
        mail=mail,
        schedule=schedule,
        fetch=fetch,
        digest=digest,
        stories=stories,
        **overrides,
    )


def _expect(name: str, section: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = section.get(key)
    if value is not None and (
        not isinstance(value, kind) or isinstance(value, bool) and kind is not bool
    ):
        raise ConfigError(name, line_of(section, key), key, f"must be {what}")
    return value


def _number(name: str, section: Any, key: str, low: float, high: float, whole: bool = False) -> Any:
    """A finite number in [low, high] (a whole one with ``whole``), or None when absent."""
    kind: type | tuple[type, ...] = int if whole else (int, float)
    what = "a whole number" if whole else "a number"
    value = _expect(name, section, key, kind, f"{what} between {low:g} and {high:g}")
    if value is not None and not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(
            name,
            line_of(section, key),
            key,
            f"{value!r} is out of range: must be between {low:g} and {high:g}",
        )
    return value


# One address per string, no display name, no line breaks: a header injection or a typo such
# as "a@x.cl, b@y.cl" in one entry must not reach the SMTP envelope.
_ADDRESS = re.compile(
    r"[\w.!#$%&'*+/=?^`{|}~-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*"
)


def address_problem(value: Any) -> str | None:
    """Why ``value`` is not one plain e-mail address (None when it is one)."""
    if not isinstance(value, str):
        return f"{value!r} is not an e-mail address"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return f"{value!r} contains a line break or control character"
    if "," in value or ";" in value or len(value.split()) > 1:
        return f"'{value}' holds more than one address; list each on its own"
    if not _ADDRESS.fullmatch(value.strip()) or ".." in value:
        return f"'{value}' is not an e-mail address like nombre@dominio.cl"
    return None


def _mail(name: str, section: Any, environ: Mapping[str, str]) -> MailSettings:
    if "smtp_password" in section or "password" in section:
        key = "smtp_password" if "smtp_password" in section else "password"
        raise ConfigError(
            name,
            line_of(section, key),
            key,
            "the SMTP password is read only from the environment variable AGENDA_SMTP_PASSWORD",
        )
    host = environ.get("AGENDA_SMTP_HOST") or _expect(
        name, section, "smtp_host", str, "a host name"
    )
    port_text = environ.get("AGENDA_SMTP_PORT")
    port = _number(name, section, "smtp_port", 1, 65535, whole=True)
    if port_text:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ConfigError(
                "environment", None, "AGENDA_SMTP_PORT", f"'{port_text}' is not a port number"
            )
        port = int(port_text)
    security = (
        environ.get("AGENDA_SMTP_SECURITY")
        or _expect(name, section, "security", str, "starttls, ssl or none")
        or "starttls"
    )
    if security not in SECURITY_MODES:
        raise ConfigError(
            name,
            line_of(section, "security"),
            "security",
            f"'{security}' is not one of {', '.join(SECURITY_MODES)}",
        )
    recipients_env = environ.get("AGENDA_MAIL_TO")
    recipients = _expect(name, section, "to", (list, str), "a list of addresses")
    where = (name, line_of(section, "to"))
    if recipients_env:
        recipients = [r.strip() for r in recipients_env.split(",") if r.strip()]
        where = ("environment", None)
    elif isinstance(recipients, str):
        recipients = [recipients]
    valid, rejected = [], []
    for address in recipients or []:
        problem = address_problem(address)
        if problem:
            rejected.append(
                str(
                    ConfigError(
                        where[0], where[1], "AGENDA_MAIL_TO" if recipients_env else "to", problem
                    )
                )
            )
        else:
            valid.append(address.strip())
    sender = environ.get("AGENDA_MAIL_FROM") or _expect(name, section, "from", str, "an address")
    if sender and address_problem(sender):
        raise ConfigError(name, line_of(section, "from"), "from", str(address_problem(sender)))
    defaults = MailSettings()
    retry = _number(name, section, "first_retry_seconds", 0, 6 * 3600, whole=True)
    deadline = _number(name, section, "send_deadline_seconds", 1, 24 * 3600)
    return MailSettings(
        smtp_host=host or None,
        smtp_port=port or (465 if security == "ssl" else 587 if security == "starttls" else 25),
        smtp_user=environ.get("AGENDA_SMTP_USER")
        or _expect(name, section, "smtp_user", str, "a user name"),
        smtp_password=environ.get("AGENDA_SMTP_PASSWORD"),
        security=security,
        sender=sender or defaults.sender,
        # every address rejected: nobody gets mail rather than the placeholder default
        recipients=tuple(valid) if valid or rejected else defaults.recipients,
        outbox_dir=Path(
            environ.get("AGENDA_OUTBOX")
            or _expect(name, section, "outbox", str, "a folder")
            or defaults.outbox_dir
        ),
        first_retry_seconds=retry if retry is not None else defaults.first_retry_seconds,
        send_deadline_seconds=float(deadline)
        if deadline is not None
        else defaults.send_deadline_seconds,
        rejected=tuple(rejected),
    )


def _schedule(name: str, section: Any) -> ScheduleSettings:
    from apscheduler.triggers.cron import CronTrigger

    defaults = ScheduleSettings()
    values = {}
    for key, attr in (
        ("collect", "collect_cron"),
        ("digest", "digest_cron"),
        ("weekly", "weekly_cron"),
    ):
        cron = _expect(name, section, key, str, "a cron expression such as '30 6 * * *'")
        if cron is not None:
            try:
                CronTrigger.from_crontab(cron, timezone=TIMEZONE)
            except ValueError as exc:
                raise ConfigError(
                    name, line_of(section, key), key, f"invalid cron expression '{cron}': {exc}"
                ) from exc
            values[attr] = cron
    grace = _number(name, section, "misfire_grace_seconds", 0, 24 * 3600, whole=True)
    if grace is not None:
        values["misfire_grace_seconds"] = grace
    return replace(defaults, **values)


def _fetch(name: str, section: Any) -> FetchLimits:
    values = {}
    for key, attr, high in (
        ("concurrency", "concurrency", 1000),
        ("per_host", "per_host", 100),
        ("max_bytes", "max_bytes", 1 << 30),
    ):
        value = _number(name, section, key, 1, high, whole=True)
        if value is not None:
            values[attr] = value
    timeout = _number(name, section, "timeout_seconds", 0.1, 3600)
    if timeout is not None:
        values["total_seconds"] = float(timeout)
    allow_private = _expect(name, section, "allow_private_networks", bool, "true or false")
    if allow_private is not None:
        values["allow_private_networks"] = allow_private
    return replace(FetchLimits(), **values)


def _digest(name: str, section: Any, mail: MailSettings) -> DigestSettings:
    archive_url = _expect(name, section, "archive_url", str, "an http(s) address")
    if archive_url is not None and not archive_url.lower().startswith(("http://", "https://")):
        raise ConfigError(
            name,
            line_of(section, "archive_url"),
            "archive_url",
            f"'{archive_url}' is not an http(s) address",
        )
    feedback_to = _expect(name, section, "feedback_to", str, "an e-mail address")
    if feedback_to is not None and "@" not in feedback_to:
        raise ConfigError(
            name,
            line_of(section, "feedback_to"),
            "feedback_to",
            f"'{feedback_to}' is not an e-mail address",
        )
    return DigestSettings(archive_url=archive_url or None, feedback_to=feedback_to or mail.sender)


def _stories(name: str, section: Any) -> StorySettings:
    if not isinstance(section, dict):
        raise ConfigError(name, None, "stories", "must be a mapping such as 'window_days: 3'")
    window = _expect(name, section, "window_days", int, "a whole number of days")
    if window is None:
        return StorySettings()
    if not 1 <= window <= 30:
        raise ConfigError(
            name, line_of(section, "window_days"), "window_days", "must be between 1 and 30 days"
        )
    return StorySettings(window_days=window)
