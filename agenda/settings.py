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
    stories:
      window_days: 3            # a new article joins a story with articles up to 2 days apart
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agenda.collect import FetchLimits
from agenda.errors import ConfigError
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

    @property
    def uses_smtp(self) -> bool:
        return bool(self.smtp_host)


@dataclass(frozen=True)
class ScheduleSettings:
    collect_cron: str = "0 0-6 * * *"
    digest_cron: str = "30 6 * * *"
    weekly_cron: str = "0 7 * * mon"  # the commitment report; a day name: APScheduler counts 0 as Monday
    misfire_grace_seconds: int = 3600
    timezone: str = TIMEZONE


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
    stories: StorySettings = field(default_factory=StorySettings)


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
            raise ConfigError(str(config_path), None, None, "must be a mapping with mail:, schedule:, fetch:")
    name = str(config_path)
    mail = _mail(name, data.get("mail") or LineDict(), environ)
    schedule = _schedule(name, data.get("schedule") or LineDict())
    fetch = _fetch(name, data.get("fetch") or LineDict())
    stories = _stories(name, data.get("stories") or LineDict())
    overrides = {key: Path(value) for key, value in paths.items() if value is not None}
    return replace(settings, config_path=config_path, mail=mail, schedule=schedule, fetch=fetch,
                   stories=stories, **overrides)


def _expect(name: str, section: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = section.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool) and kind is not bool):
        raise ConfigError(name, line_of(section, key), key, f"must be {what}")
    return value


def _mail(name: str, section: Any, environ: Mapping[str, str]) -> MailSettings:
    if "smtp_password" in section or "password" in section:
        key = "smtp_password" if "smtp_password" in section else "password"
        raise ConfigError(name, line_of(section, key), key, "the SMTP password is read only from the environment variable AGENDA_SMTP_PASSWORD")
    host = environ.get("AGENDA_SMTP_HOST") or _expect(name, section, "smtp_host", str, "a host name")
    port_text = environ.get("AGENDA_SMTP_PORT")
    port = _expect(name, section, "smtp_port", int, "a port number")
    if port_text:
        if not port_text.isdigit():
            raise ConfigError("environment", None, "AGENDA_SMTP_PORT", f"'{port_text}' is not a port number")
        port = int(port_text)
    security = environ.get("AGENDA_SMTP_SECURITY") or _expect(name, section, "security", str, "starttls, ssl or none") or "starttls"
    if security not in SECURITY_MODES:
        raise ConfigError(name, line_of(section, "security"), "security", f"'{security}' is not one of {', '.join(SECURITY_MODES)}")
    recipients_env = environ.get("AGENDA_MAIL_TO")
    recipients = _expect(name, section, "to", (list, str), "a list of addresses")
    if recipients_env:
        recipients = [r.strip() for r in recipients_env.split(",") if r.strip()]
    elif isinstance(recipients, str):
        recipients = [recipients]
    for address in recipients or []:
        if not isinstance(address, str) or "@" not in address:
            raise ConfigError(name, line_of(section, "to"), "to", f"'{address}' is not an e-mail address")
    defaults = MailSettings()
    return MailSettings(
        smtp_host=host or None,
        smtp_port=port or (465 if security == "ssl" else 587 if security == "starttls" else 25),
        smtp_user=environ.get("AGENDA_SMTP_USER") or _expect(name, section, "smtp_user", str, "a user name"),
        smtp_password=environ.get("AGENDA_SMTP_PASSWORD"),
        security=security,
        sender=environ.get("AGENDA_MAIL_FROM") or _expect(name, section, "from", str, "an address") or defaults.sender,
        recipients=tuple(recipients or defaults.recipients),
        outbox_dir=Path(environ.get("AGENDA_OUTBOX") or _expect(name, section, "outbox", str, "a folder") or defaults.outbox_dir),
        first_retry_seconds=_expect(name, section, "first_retry_seconds", int, "a number of seconds") if section.get("first_retry_seconds") is not None else defaults.first_retry_seconds,
    )


def _schedule(name: str, section: Any) -> ScheduleSettings:
    from apscheduler.triggers.cron import CronTrigger

    defaults = ScheduleSettings()
    values = {}
    for key, attr in (("collect", "collect_cron"), ("digest", "digest_cron"), ("weekly", "weekly_cron")):
        cron = _expect(name, section, key, str, "a cron expression such as '30 6 * * *'")
        if cron is not None:
            try:
                CronTrigger.from_crontab(cron, timezone=TIMEZONE)
            except ValueError as exc:
                raise ConfigError(name, line_of(section, key), key, f"invalid cron expression '{cron}': {exc}") from exc
            values[attr] = cron
    grace = _expect(name, section, "misfire_grace_seconds", int, "a number of seconds")
    if grace is not None:
        values["misfire_grace_seconds"] = grace
    return replace(defaults, **values)


def _fetch(name: str, section: Any) -> FetchLimits:
    values = {}
    for key, attr in (("concurrency", "concurrency"), ("per_host", "per_host"), ("max_bytes", "max_bytes")):
        value = _expect(name, section, key, int, "a whole number")
        if value is not None:
            if value < 1:
                raise ConfigError(name, line_of(section, key), key, "must be at least 1")
            values[attr] = value
    timeout = _expect(name, section, "timeout_seconds", (int, float), "a number of seconds")
    if timeout is not None:
        values["total_seconds"] = float(timeout)
    return replace(FetchLimits(), **values)


def _stories(name: str, section: Any) -> StorySettings:
    if not isinstance(section, dict):
        raise ConfigError(name, None, "stories", "must be a mapping such as 'window_days: 3'")
    window = _expect(name, section, "window_days", int, "a whole number of days")
    if window is None:
        return StorySettings()
    if not 1 <= window <= 30:
        raise ConfigError(name, line_of(section, "window_days"), "window_days", "must be between 1 and 30 days")
    return StorySettings(window_days=window)
