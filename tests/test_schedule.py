from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from agenda.errors import ConfigError
from agenda.schedule import build_scheduler
from agenda.settings import ScheduleSettings, load_settings

SANTIAGO = ZoneInfo("America/Santiago")


def test_default_jobs_fire_at_night_in_santiago() -> None:
    scheduler = build_scheduler(ScheduleSettings(), lambda: None, lambda: None, BackgroundScheduler(timezone=SANTIAGO))
    collect, digest = scheduler.get_job("collect"), scheduler.get_job("digest")
    after = datetime(2026, 11, 24, 6, 10, tzinfo=SANTIAGO)
    assert digest.trigger.get_next_fire_time(None, after) == datetime(2026, 11, 24, 6, 30, tzinfo=SANTIAGO)
    assert collect.trigger.get_next_fire_time(None, after) == datetime(2026, 11, 25, 0, 0, tzinfo=SANTIAGO)
    for job in (collect, digest):
        assert job.max_instances == 1 and job.coalesce is True and job.misfire_grace_time == 3600


def test_bad_cron_in_config_names_line(tmp_path) -> None:  # noqa: ANN001
    config = tmp_path / "agenda.yaml"
    config.write_text("schedule:\n  collect: '0 25 * * *'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(config, environ={})
    assert str(info.value).startswith(f"{config}:2: field 'collect': invalid cron expression")


def test_password_only_from_environment(tmp_path) -> None:  # noqa: ANN001
    config = tmp_path / "agenda.yaml"
    config.write_text("mail:\n  smtp_host: smtp.example.cl\n  smtp_password: secreto\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="only from the environment"):
        load_settings(config, environ={})
    config.write_text("mail:\n  smtp_host: smtp.example.cl\n  security: ssl\n", encoding="utf-8")
    settings = load_settings(config, environ={"AGENDA_SMTP_PASSWORD": "s3", "AGENDA_MAIL_TO": "x@e.cl, y@e.cl"})
    assert settings.mail.smtp_password == "s3" and settings.mail.smtp_port == 465
    assert settings.mail.recipients == ("x@e.cl", "y@e.cl")
