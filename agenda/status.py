"""``agenda status``: what happened overnight, for an analyst at 8 am (and ``--json`` for tools).

The last runs with their counts per stage, the sources that are failing (with their next attempt),
the outbox (messages waiting or failing), when the scheduler will next collect and send, and
which linker runs: compiled by mypyc or pure Python (agenda/compiled_linker.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from agenda.compiled_linker import linker_kind
from agenda.settings import Settings
from agenda.store import Store


def collect_status(
    store: Store, settings: Settings, runs: int = 5, now: datetime | None = None
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    zone = ZoneInfo(settings.schedule.timezone)
    last_runs = []
    for row in store.last_runs(runs):
        last_runs.append(
            {
                "id": row["id"],
                "started_at_utc": row["started_at_utc"],
                "finished_at_utc": row["finished_at_utc"],
                "status": row["status"],
                "counts": json.loads(row["counts"] or "{}"),
                "errors": json.loads(row["errors"] or "[]"),
            }
        )
    failing = [
        {
            "id": row["id"],
            "name": row["name"],
            "error_count": row["error_count"],
            "last_error": row["last_error"],
            "since_utc": row["last_error_at_utc"],
            "next_attempt_at_utc": row.get("next_attempt_at_utc"),
        }
        for row in store.source_health()
        if (row["error_count"] or 0) > 0 and row["enabled"]
    ]
    outbox = [
        {
            "digest_date": row["digest_date"],
            "recipient": row["recipient"],
            "status": row["status"],
            "attempts": row["attempts"],
            "last_error": row["last_error"],
            "next_attempt_at_utc": row.get("next_attempt_at_utc"),
        }
        for row in store.undelivered()
    ]
    schedule = {}
    for name, cron in (
        ("collect", settings.schedule.collect_cron),
        ("digest", settings.schedule.digest_cron),
        ("weekly", settings.schedule.weekly_cron),
    ):
        fire = CronTrigger.from_crontab(cron, timezone=zone).get_next_fire_time(
            None, now.astimezone(zone)
        )
        schedule[name] = fire.isoformat() if fire else None
    return {
        "runs": last_runs,
        "failing_sources": failing,
        "outbox": outbox,
        "next_scheduled": schedule,
        "linker": linker_kind(),
    }


def _local(value: str | None, zone: ZoneInfo) -> str:
    if not value:
        return "-"
    return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def format_status(report: dict[str, Any], timezone_name: str = "America/Santiago") -> str:
    zone = ZoneInfo(timezone_name)
    lines = ["Last runs (America/Santiago):"]
    for run in report["runs"]:
        counts = run["counts"]
        lines.append(
            f"  #{run['id']:<5} {_local(run['started_at_utc'], zone)}"
            f" → {_local(run['finished_at_utc'], zone)} "
            f" {run['status']:<8} "
            f"sources {counts.get('sources_ok', 0)} ok / {counts.get('sources_failed', 0)} failed, "
            f"articles {counts.get('articles_new', 0)} new"
            f" / {counts.get('articles_seen', 0)} seen, "
            f"links {counts.get('links', 0)},"
            f" digests {counts.get('digests_written', 0)},"
            f" e-mails {counts.get('emails_sent', 0)}"
        )
        for error in run["errors"][:5]:
            lines.append(f"         ! {error}")
    if not report["runs"]:
        lines.append("  (no runs yet)")
    lines.append(f"Failing sources: {len(report['failing_sources'])}")
    for source in report["failing_sources"]:
        lines.append(
            f"  {source['id']}: {source['last_error']} ({source['error_count']} in a row;"
            f" next attempt {_local(source['next_attempt_at_utc'], zone)})"
        )
    lines.append(f"Outbox: {len(report['outbox'])} message(s) waiting")
    for message in report["outbox"]:
        lines.append(
            f"  {message['digest_date']} → {message['recipient']}: {message['status']},"
            f" {message['attempts']} attempt(s);"
            f" next {_local(message['next_attempt_at_utc'], zone)}"
            + (f"; {message['last_error']}" if message["last_error"] else "")
        )
    lines.append(
        f"Next collect: {_local(report['next_scheduled']['collect'], zone)};"
        f" next digest: {_local(report['next_scheduled']['digest'], zone)}"
    )
    lines.append(f"Linker: {report['linker']}")
    return "\n".join(lines)
