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
    scheduler = build_scheduler(
        ScheduleSettings(), lambda: None, lambda: None, BackgroundScheduler(timezone=SANTIAGO)
    )
    collect, digest = scheduler.get_job("collect"), scheduler.get_job("digest")
    after = datetime(2026, 11, 24, 6, 10, tzinfo=SANTIAGO)
    assert digest.trigger.get_next_fire_time(None, after) == datetime(
        2026, 11, 24, 6, 30, tzinfo=SANTIAGO
    )
    assert collect.trigger.get_next_fire_time(None, after) == datetime(
        2026, 11, 25, 0, 0, tzinfo=SANTIAGO
    )
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
    config.write_text(
        "mail:\n  smtp_host: smtp.example.cl\n  smtp_password: secreto\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="only from the environment"):
        load_settings(config, environ={})
    config.write_text("mail:\n  smtp_host: smtp.example.cl\n  security: ssl\n", encoding="utf-8")
    settings = load_settings(
        config, environ={"AGENDA_SMTP_PASSWORD": "s3", "AGENDA_MAIL_TO": "x@e.cl, y@e.cl"}
    )
    assert settings.mail.smtp_password == "s3" and settings.mail.smtp_port == 465
    assert settings.mail.recipients == ("x@e.cl", "y@e.cl")


class FakeClock:
    """Stands in for APScheduler's clock: the scheduler and its executor read ``now`` from here."""

    def __init__(self, start: datetime) -> None:
        self.current = start
        clock = self

        class FakeDatetime(datetime):
            @classmethod
            def now(cls, tz=None):  # noqa: ANN001, ANN206
                return clock.current.astimezone(tz) if tz else clock.current.replace(tzinfo=None)

        self.datetime = FakeDatetime


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    import apscheduler.executors.base
    import apscheduler.schedulers.base

    fake = FakeClock(datetime(2026, 11, 24, 5, 0, tzinfo=SANTIAGO))
    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", fake.datetime)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", fake.datetime)
    return fake


def run_scheduler(
    clock: FakeClock, collect_job, digest_job, grace: int = 3600
) -> BackgroundScheduler:  # noqa: ANN001
    from apscheduler.executors.pool import ThreadPoolExecutor

    scheduler = BackgroundScheduler(timezone=SANTIAGO, executors={"default": ThreadPoolExecutor(4)})
    build_scheduler(
        ScheduleSettings(misfire_grace_seconds=grace), collect_job, digest_job, scheduler
    )
    scheduler.start()
    return scheduler


def wait_until(condition, limit: float = 60.0) -> None:  # noqa: ANN001
    """Wait for the scheduler's thread to reach a state (a condition, not a guess at a delay)."""
    import time

    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "the scheduler did not get there"
        time.sleep(0.01)


def advance(scheduler: BackgroundScheduler, clock: FakeClock, to: datetime) -> None:
    """Move the clock and wait until the scheduler has acted on it: every job's next run time
    is then after ``to`` (run, skipped as misfired, or skipped as overlapping)."""
    clock.current = to
    scheduler.wakeup()
    wait_until(
        lambda: all(
            job.next_run_time is None or job.next_run_time > to for job in scheduler.get_jobs()
        )
    )


def test_misfire_within_grace_runs_once_when_the_machine_wakes(clock: FakeClock) -> None:
    digests: list[datetime] = []
    scheduler = run_scheduler(clock, lambda: None, lambda: digests.append(clock.current))
    try:
        # asleep from 05:00 to 07:10: the 06:30 digest is 40 min late, within the 60 min grace
        advance(scheduler, clock, datetime(2026, 11, 24, 7, 10, tzinfo=SANTIAGO))
        advance(scheduler, clock, datetime(2026, 11, 24, 7, 20, tzinfo=SANTIAGO))
    finally:
        scheduler.shutdown(wait=True)
    assert len(digests) == 1


def test_misfire_beyond_grace_is_skipped_not_run_late(clock: FakeClock) -> None:
    digests: list[datetime] = []
    scheduler = run_scheduler(clock, lambda: None, lambda: digests.append(clock.current))
    try:
        advance(scheduler, clock, datetime(2026, 11, 24, 8, 0, tzinfo=SANTIAGO))  # 90 min late
        assert digests == []
        assert scheduler.get_job("digest").next_run_time == datetime(
            2026, 11, 25, 6, 30, tzinfo=SANTIAGO
        )
    finally:
        scheduler.shutdown(wait=True)


def test_jobs_never_overlap(clock: FakeClock) -> None:
    import threading

    release = threading.Event()
    started: list[datetime] = []

    def slow_collect() -> None:
        started.append(clock.current)
        release.wait(10)

    clock.current = datetime(2026, 11, 24, 0, 59, tzinfo=SANTIAGO)
    scheduler = run_scheduler(clock, slow_collect, lambda: None)
    try:
        advance(
            scheduler, clock, datetime(2026, 11, 24, 1, 0, 5, tzinfo=SANTIAGO)
        )  # 01:00 collect starts
        wait_until(lambda: len(started) == 1)
        advance(
            scheduler, clock, datetime(2026, 11, 24, 2, 0, 5, tzinfo=SANTIAGO)
        )  # 02:00: still running
        assert len(started) == 1
        release.set()
        executor = scheduler._lookup_executor("default")
        wait_until(lambda: not executor._instances.get("collect"))  # the 01:00 run has ended
        advance(
            scheduler, clock, datetime(2026, 11, 24, 3, 0, 5, tzinfo=SANTIAGO)
        )  # 03:00: free again
        wait_until(lambda: len(started) == 2)
    finally:
        release.set()
        scheduler.shutdown(wait=True)
