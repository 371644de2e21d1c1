"""Curating the source list: probe every source (``agenda sources check``) and add an outlet from
its homepage (``agenda sources add``). The CLI functions in commands.py only print what these
return.

A probe is one fetch of each enabled source, with the same limits, retries and conditional GET as
the nightly run (a 304 is healthy: the items are the ones already stored), then extraction. What
the database knows (error count, next attempt time of a resting source) is shown beside it; a
probe never writes to the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from agenda.collect import PAGE_ACCEPT, Collector, FetchLimits, FetchResult, FetchState
from agenda.errors import ParseError
from agenda.extract import discover_feeds, extract, extract_feed
from agenda.sources import NATIONAL, Source, SourceList, suggest_id

FALLBACK_FEED_PATHS = (
    "/feed/",
    "/rss",
)  # WordPress and most CMSs, when a homepage announces nothing
COMMENT_FEED_WORDS = ("comment", "comentario")


@dataclass
class ProbeRow:
    """One line of ``agenda sources check``."""

    id: str
    name: str
    status: str  # "ok" | "failed" | "disabled"
    items: int = 0
    newest: str | None = None  # newest item's publication time, UTC ISO
    latency_seconds: float | None = None
    error: str | None = None
    warning: str | None = None
    not_modified: bool = False
    error_count: int = 0  # failures in a row recorded by the nightly runs
    next_attempt_at_utc: str | None = None  # set while the source rests after failures

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class KnownState:
    """What the database remembers, read once before probing (empty without a database)."""

    fetch_states: dict[str, FetchState] = field(default_factory=dict)
    health: dict[str, dict[str, Any]] = field(default_factory=dict)
    newest: dict[str, str] = field(default_factory=dict)


async def probe_sources(
    client: httpx.AsyncClient,
    sources: SourceList,
    limits: FetchLimits,
    known: KnownState | None = None,
    on_result: Callable[[FetchResult], None] | None = None,
    now: datetime | None = None,
) -> list[ProbeRow]:
    """Probe every enabled source concurrently; rows come back in the file's order."""
    known = known or KnownState()
    now = now or datetime.now(UTC)
    results = {
        r.source.id: r
        for r in await Collector(client, limits).fetch_all(
            sources.enabled, known.fetch_states, on_result
        )
    }
    rows = []
    for source in sources.sources:
        health = known.health.get(source.id, {})
        row = ProbeRow(
            source.id,
            source.name,
            "disabled" if not source.enabled else "ok",
            error_count=health.get("error_count") or 0,
        )
        resting = health.get("next_attempt_at_utc")
        if resting and datetime.fromisoformat(resting) > now:
            row.next_attempt_at_utc = resting
        if source.id in results:
            _fill(row, results[source.id], known, health)
        rows.append(row)
    return rows


def _fill(row: ProbeRow, result: FetchResult, known: KnownState, health: dict[str, Any]) -> None:
    row.latency_seconds = round(result.elapsed_seconds, 3)
    if result.status == "error":
        row.status, row.error = "failed", result.error
        return
    if result.status == "not_modified":
        row.not_modified = True
        row.items = health.get("last_item_count") or 0
        row.newest = known.newest.get(row.id)
        row.warning = health.get("last_warning")
        return
    try:
        extraction = extract(result.source, result.body, result.final_url, result.content_type)
    except ParseError as exc:
        row.status, row.error = "failed", exc.reason
        return
    row.items = len(extraction.articles)
    dates = [a.published_at_utc for a in extraction.articles if a.published_at_utc]
    row.newest = max(dates).isoformat() if dates else None
    row.warning = "; ".join(extraction.warnings) or None


def format_table(rows: list[ProbeRow]) -> str:
    """The plain-text table: status, items, newest item, latency, error.

    (And a resting source's next attempt.)
    """
    lines = [
        f"{'source':28} {'status':8} {'items':>5}  {'newest item (UTC)':25}"
        f" {'latency':>8}  error / note"
    ]
    for row in rows:
        latency = f"{row.latency_seconds:7.2f}s" if row.latency_seconds is not None else f"{'-':>8}"
        notes = [row.error or ""]
        if row.not_modified:
            notes.append("unchanged since the last run (304)")
        if row.warning and row.status == "ok":
            notes.append(f"warning: {row.warning}")
        if row.next_attempt_at_utc:
            failures = f"{row.error_count} failure{'s' if row.error_count != 1 else ''} in a row"
            notes.append(
                f"resting after {failures}; next nightly attempt {row.next_attempt_at_utc}"
            )
        newest = (row.newest or "-")[:25]
        lines.append(
            f"{row.id:28} {row.status:8} {row.items:>5}  {newest:25}"
            f" {latency}  {'; '.join(n for n in notes if n)}"
        )
    failed = sum(r.status == "failed" for r in rows)
    lines.append(
        f"{sum(r.status == 'ok' for r in rows)} ok, {failed} failed,"
        f" {sum(r.status == 'disabled' for r in rows)} disabled"
    )
    return "\n".join(lines)


# -- adding an outlet ---------------------------------------------------------------------------
@dataclass
class Candidate:
    url: str
    how: str  # "given" | "announced" | "guessed"
    ok: bool = False
    reason: str = ""
    items: int = 0
    title: str = ""
    kind: str = "rss"


@dataclass
class Discovery:
    page_url: str
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def chosen(self) -> Candidate | None:
        """The first valid feed, preferring one that is not a comments feed."""
        valid = [c for c in self.candidates if c.ok]
        plain = [
            c for c in valid if not any(w in (c.url + c.title).lower() for w in COMMENT_FEED_WORDS)
        ]
        best = plain or valid
        return best[0] if best else None


async def discover(
    client: httpx.AsyncClient, url: str, limits: FetchLimits = FetchLimits()
) -> Discovery:
    """Find and validate the feeds of ``url``: the URL itself if it is a feed, else the
    ``<link rel="alternate">`` feeds its page announces, else the usual /feed/ and /rss paths."""
    collector = Collector(client, limits)
    probe = Source(id="new", name="new", url=url, kind="rss", region_code=NATIONAL)
    discovery = Discovery(url)
    page = await collector.fetch(
        probe, accept=PAGE_ACCEPT + ", application/rss+xml, application/atom+xml"
    )
    if page.status != "ok":
        reason = page.error or "sin respuesta utilizable"
        discovery.candidates.append(Candidate(url, "given", reason=reason))
        return discovery
    given = _validate(Candidate(page.final_url or url, "given"), probe, page)
    if given.ok:
        discovery.candidates.append(given)
        return discovery
    announced = discover_feeds(page.body, page.final_url or url, page.content_type)
    candidates = [Candidate(f.url, "announced", title=f.title) for f in announced]
    if not candidates:
        candidates = [
            Candidate(urljoin(page.final_url or url, path), "guessed")
            for path in FALLBACK_FEED_PATHS
        ]
    for candidate in candidates:
        result = await collector.fetch(probe, url=candidate.url)
        discovery.candidates.append(_validate(candidate, probe, result))
    return discovery


def _validate(candidate: Candidate, probe: Source, result: FetchResult) -> Candidate:
    if result.status != "ok":
        candidate.reason = result.error or "sin respuesta utilizable"
        return candidate
    try:
        extraction = extract_feed(
            probe, result.body, result.final_url or candidate.url, result.content_type
        )
    except ParseError as exc:
        candidate.reason = exc.reason
        return candidate
    if not extraction.articles:
        candidate.reason = "es un feed, pero sin noticias"
        return candidate
    candidate.ok, candidate.items, candidate.kind = True, len(extraction.articles), extraction.kind
    candidate.title = extraction.title or candidate.title
    return candidate


def new_entry(
    chosen: Candidate,
    sources: SourceList,
    region_code: str,
    source_id: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """The sources.yaml entry for a validated feed."""
    taken = {s.id for s in sources.sources}
    return {
        "id": source_id or suggest_id(chosen.url, taken),
        "name": name or chosen.title or suggest_id(chosen.url, set()),
        "url": chosen.url,
        "kind": chosen.kind,
        "region": region_code,
        "enabled": True,
    }
