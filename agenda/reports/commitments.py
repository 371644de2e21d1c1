"""Commitment follow-up: the official list against the archive, by region, with a news signal.

``build_report`` reads every mention of the commitments (``Store.commitment_mentions``) and gives
each commitment its signal for the period (``agenda.reports.signals``), its mentions, outlets and
at-risk evidence, and its whole timeline. ``write_report`` writes, under ``<digests>/compromisos/``,
the report (HTML and text) and one timeline page per commitment (``<id>.html``). Pure but for
the reading and the files.

Reading is a query: nothing is re-linked; articles already grouped into stories
(``articles.story_id``) count once per story in the timeline's story count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agenda.common import write_atomically
from agenda.keywords import Keywords
from agenda.register import Commitment
from agenda.reports.signals import (
    CRITICO,
    SIGNAL_NAMES,
    SIGNALS,
    Mention,
    ResolutionWording,
    explain_signal,
    is_resolving,
)
from agenda.reports.spanish import MONTHS, NORTH_TO_SOUTH, spanish_date
from agenda.reports.templating import template_environment

if TYPE_CHECKING:
    from agenda.store import Store

FOLDER = "compromisos"
WEEKLY_REPORT = "compromisos-semanal"  # the name recipients.yaml uses to ask for it


def last_full_week(today: date) -> tuple[date, date]:
    """Monday to Sunday of the last week that has ended.

    >>> last_full_week(date(2026, 12, 2))
    (datetime.date(2026, 11, 23), datetime.date(2026, 11, 29))
    """
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


def week_key(start: date) -> str:
    """The ISO week of a day, as the outbox and the file names write it.

    >>> week_key(date(2026, 11, 23))
    '2026-W48'
    """
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def short_date(day: str | date | None) -> str:
    """A day as a table cell shows it.

    >>> short_date("2026-11-24")
    '24 nov 2026'
    """
    if not day:
        return "—"
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{value.day} {MONTHS[value.month - 1][:3]} {value.year}"


@dataclass
class Evidence:
    text: str
    url: str
    outlet: str
    date: str

    def as_dict(self) -> dict[str, str]:
        return {"text": self.text, "url": self.url, "outlet": self.outlet, "date": self.date}


@dataclass
class TimelineEntry:
    article_id: int
    date: str
    title: str
    url: str
    outlets: list[str]
    at_risk: bool
    resolving: bool
    risk_kind: str | None
    evidence: list[str]
    story_id: int | None


@dataclass
class FollowUp:
    """One commitment over the period, and its whole timeline."""

    commitment: Commitment
    region_name: str
    signal: str
    why: str
    mentions: int  # articles in the period
    last_mention: str | None  # up to the period's end
    first_mention: str | None
    outlets: list[str]  # in the period
    evidence: list[Evidence]  # at-risk mentions in the period
    timeline: list[TimelineEntry]  # whole archive up to the period's end, newest first
    weeks: list[tuple[str, int]]  # (ISO week, articles), newest first
    stories: int

    @property
    def signal_name(self) -> str:
        return SIGNAL_NAMES[self.signal]

    def as_dict(self) -> dict[str, Any]:
        c = self.commitment
        return {
            "id": c.id,
            "title": c.title,
            "region": c.region_code,
            "status": c.status,
            "due": c.due,
            "signal": self.signal,
            "mentions": self.mentions,
            "last_mention": self.last_mention,
            "evidence": [e.as_dict() for e in self.evidence],
        }


@dataclass
class RegionTable:
    code: str
    name: str
    rows: list[FollowUp]
    counts: dict[str, int]


@dataclass
class CommitmentReport:
    start: date
    end: date
    region_code: str | None
    commitments: list[FollowUp]
    regions: list[RegionTable]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return "Seguimiento de compromisos regionales"

    @property
    def is_week(self) -> bool:
        return self.start.weekday() == 0 and self.end == self.start + timedelta(days=6)

    @property
    def period_noun(self) -> str:
        """ "la semana" or "el periodo", as in "ninguna mención en la semana"."""
        return "la semana" if self.is_week else "el periodo"

    @property
    def period_label(self) -> str:
        return ("Semana " if self.is_week else "Periodo ") + self.period_words

    @property
    def period_words(self) -> str:
        return f"del {spanish_date(self.start)} al {spanish_date(self.end)}"

    @property
    def subject(self) -> str:
        critical = self.counts.get(CRITICO, 0)
        tail = "ninguno en situación crítica"
        if critical:
            tail = f"{critical} en situación crítica"
        what = "semana" if self.is_week else "periodo"
        period = f"{what} del {short_date(self.start)} al {short_date(self.end)}"
        return f"Compromisos regionales — {period} · {tail}"

    @property
    def stem(self) -> str:
        """The file name: the ISO week when the period is one, else the two days."""
        base = (
            f"semana-{week_key(self.start)}"
            if self.is_week
            else f"{self.start.isoformat()}_{self.end.isoformat()}"
        )
        return base + (f"-region-{self.region_code}" if self.region_code else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "commitments": [f.as_dict() for f in self.commitments],
        }


def build_report(
    store: Store,
    keywords: Keywords,
    start: date,
    end: date,
    region_codes: tuple[str, ...] = (),
    resolution_terms: tuple[str, ...] | None = None,
) -> CommitmentReport:
    """Every commitment (of ``region_codes``, or all) with its signal over [start, end]."""
    terms = resolution_terms or tuple(keywords.resolution_terms)
    wording = ResolutionWording(terms) if terms else ResolutionWording()
    wanted = [
        c
        for c in keywords.commitments.values()
        if not region_codes or c.region_code in region_codes
    ]
    rows_by_id: dict[str, list[dict[str, Any]]] = {}
    for row in store.commitment_mentions([c.id for c in wanted], until=end):
        rows_by_id.setdefault(row["commitment_id"], []).append(row)
    follow_ups = [
        _follow_up(c, rows_by_id.get(c.id, []), keywords, start, end, wording) for c in wanted
    ]
    order = {code: index for index, code in enumerate(NORTH_TO_SOUTH)}
    follow_ups.sort(
        key=lambda f: (
            order.get(f.commitment.region_code, 99),
            SIGNALS.index(f.signal),
            -f.mentions,
            f.commitment.title,
        )
    )
    regions: list[RegionTable] = []
    for follow_up in follow_ups:
        if not regions or regions[-1].code != follow_up.commitment.region_code:
            regions.append(
                RegionTable(follow_up.commitment.region_code, follow_up.region_name, [], {})
            )
        regions[-1].rows.append(follow_up)
    for table in regions:
        table.counts = dict(Counter(f.signal for f in table.rows))
    counts = {signal: sum(1 for f in follow_ups if f.signal == signal) for signal in SIGNALS}
    region = region_codes[0] if len(region_codes) == 1 else ("-".join(region_codes) or None)
    return CommitmentReport(start, end, region, follow_ups, regions, counts)


def _follow_up(
    commitment: Commitment,
    rows: list[dict[str, Any]],
    keywords: Keywords,
    start: date,
    end: date,
    wording: ResolutionWording,
) -> FollowUp:
    mentions = [
        Mention(
            r["local_date"],
            r["at_risk"],
            None if r["resolved"] is None else bool(r["resolved"]),
            "\n".join(r[k] or "" for k in ("title", "summary", "text")),
        )
        for r in rows
    ]
    signal, why = explain_signal(mentions, start, end, commitment.status, commitment.due, wording)
    first, last = start.isoformat(), end.isoformat()
    period = [
        (r, m) for r, m in zip(rows, mentions, strict=True) if first <= r["local_date"] <= last
    ]
    evidence = [
        Evidence(text, r["url"], r["outlets"][0], r["local_date"])
        for r, m in period
        if r["at_risk"] and not is_resolving(m, wording)
        for text in (r["risk_sentences"] or [r["title"]])
    ]
    timeline = [
        TimelineEntry(
            r["article_id"],
            r["local_date"],
            r["title"],
            r["url"],
            r["outlets"],
            r["at_risk"],
            is_resolving(m, wording),
            keywords.trouble_label(r.get("risk_kind")) or None,
            r["risk_sentences"] if r["at_risk"] else [],
            r.get("story_id"),
        )
        for r, m in zip(rows, mentions, strict=True)
    ]
    timeline.reverse()
    weeks = Counter(week_key(date.fromisoformat(r["local_date"])) for r in rows)
    stories = len(
        {r["story_id"] if r.get("story_id") is not None else -r["article_id"] for r in rows}
    )
    return FollowUp(
        commitment=commitment,
        region_name=keywords.region_name(commitment.region_code),
        signal=signal,
        why=why,
        mentions=len(period),
        last_mention=rows[-1]["local_date"] if rows else None,
        first_mention=rows[0]["local_date"] if rows else None,
        outlets=list(dict.fromkeys(o for r, _ in period for o in r["outlets"])),
        evidence=evidence,
        timeline=timeline,
        weeks=sorted(weeks.items(), reverse=True),
        stories=stories,
    )


# -- rendering -------------------------------------------------------------------------------
_environment = template_environment()
_environment.filters["short_date"] = short_date
_environment.globals["SIGNAL_NAMES"] = SIGNAL_NAMES
_environment.globals["SIGNALS"] = SIGNALS


def render_html(report: CommitmentReport, timeline_prefix: str | None = "") -> str:
    """The report page. ``timeline_prefix``: where the timeline pages are, seen from the page
    ("" beside them in compromisos/); None for no links (an e-mail has no web address for them)."""
    return _environment.get_template("commitments.html.j2").render(r=report, prefix=timeline_prefix)


def render_text(report: CommitmentReport) -> str:
    return _environment.get_template("commitments.txt.j2").render(r=report)


def render_timeline(follow_up: FollowUp, report: CommitmentReport) -> str:
    return _environment.get_template("commitment_timeline.html.j2").render(f=follow_up, r=report)


def render_timeline_text(follow_up: FollowUp) -> str:
    """The timeline in the terminal (``agenda commitments show``)."""
    return _environment.get_template("commitment_timeline.txt.j2").render(f=follow_up)


@dataclass
class ReportFiles:
    html: Path
    text: Path
    timelines: list[Path]


def write_report(report: CommitmentReport, digests_dir: Path) -> ReportFiles:
    """<digests>/compromisos/<stem>.html and .txt, and compromisos/<id>.html per commitment."""
    folder = digests_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(folder / f"{report.stem}.html", folder / f"{report.stem}.txt", [])
    write_atomically(files.html, render_html(report).encode("utf-8"))
    write_atomically(files.text, render_text(report).encode("utf-8"))
    for follow_up in report.commitments:
        path = folder / f"{follow_up.commitment.id}.html"
        write_atomically(path, render_timeline(follow_up, report).encode("utf-8"))
        files.timelines.append(path)
    return files
