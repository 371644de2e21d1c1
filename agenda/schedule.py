"""Schedule: APScheduler cron jobs in America/Santiago that only call pipeline functions.

By default: collect every hour from 00:00 to 06:00, digest and send at 06:30, the commitment
report on Mondays at 07:00. Jobs never overlap
(max_instances=1), a missed run is done once when the machine wakes within the grace time
(coalesce), never twice.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from agenda.settings import ScheduleSettings


def build_scheduler(
    schedule: ScheduleSettings,
    collect_job: Callable[[], object],
    digest_job: Callable[[], object],
    scheduler: BaseScheduler | None = None,
    weekly_job: Callable[[], object] | None = None,
) -> BaseScheduler:
    """Add the jobs to ``scheduler`` (a BlockingScheduler by default) and return it; the weekly
    commitment report (Mondays 07:00 by default) when ``weekly_job`` is given."""
    zone = ZoneInfo(schedule.timezone)
    scheduler = scheduler or BlockingScheduler(timezone=zone)
    common = {
        "max_instances": 1,
        "coalesce": True,
        "misfire_grace_time": schedule.misfire_grace_seconds,
    }
    scheduler.add_job(
        collect_job,
        CronTrigger.from_crontab(schedule.collect_cron, timezone=zone),
        id="collect",
        name="collect",
        **common,
    )
    scheduler.add_job(
        digest_job,
        CronTrigger.from_crontab(schedule.digest_cron, timezone=zone),
        id="digest",
        name="digest and send",
        **common,
    )
    if weekly_job is not None:
        scheduler.add_job(
            weekly_job,
            CronTrigger.from_crontab(schedule.weekly_cron, timezone=zone),
            id="weekly",
            name="weekly commitment report",
            **common,
        )
    return scheduler
