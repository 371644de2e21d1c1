"""Digest: one America/Santiago day of stored articles -> the Spanish Regional Agenda. Pure.

``build_stories`` clusters the day's articles into stories (one story, one item, every outlet
listed) and ranks them; ``build_digest`` shapes an edition (national, or some regions) from the
stories: "Lo principal", "Compromisos en situación crítica", one section per region ordered by
activity, and "Cobertura" (articles per region, thin regions, failing sources).
``render_html`` (autoescaped: titles from the web are text, never markup) and ``render_text`` turn
it into the e-mail's two parts.

Ranking is explainable: every story carries the reasons that gave it its score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from agenda.cluster import ClusterInput, cluster
from agenda.reports.chart import render_chart
from agenda.keywords import Keywords
from agenda.reports.spanish import NORTH_TO_SOUTH, spanish_date, spanish_list

if TYPE_CHECKING:
    from agenda.store import Store

SANTIAGO = ZoneInfo("America/Santiago")
TOP_STORIES = 5  # "Lo principal"
STORIES_PER_REGION = 6
THIN_COVERAGE = 2  # a region with this many articles or fewer is thinly covered
# Ranking weights (score = sum of the parts; each part is shown as a reason)
OUTLET_WEIGHT = 2.0  # per additional outlet carrying the story
OUTLET_CAP = 8.0
COMMITMENT_WEIGHT = 3.0
AT_RISK_WEIGHT = 6.0
PRIORITY_CAP = 6.0
RECENCY_WEIGHT = 1.0


@dataclass(frozen=True)
class Edition:
    """Who a digest is for: the whole country (``region_codes`` empty) or some regions."""

    name: str = "Edición nacional"
    region_codes: tuple[str, ...] = ()

    @property
    def national(self) -> bool:
        return not self.region_codes

    @property
    def key(self) -> str:
        return "national" if self.national else "-".join(self.region_codes)


NATIONAL = Edition()


@dataclass(slots=True)
class StoryArticle:
    id: int
    title: str
    url: str
    outlets: list[str]


@dataclass(slots=True)
class Story:
    id: int  # the lead article's id
    title: str
    url: str
    outlets: list[str]
    articles: list[StoryArticle]
    region_codes: list[str]
    places: list[str]
    priorities: list[str]
    commitment_ids: list[str]
    commitments: list[str]
    at_risk: bool
    published_at_utc: str | None
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)


@dataclass
class CommitmentMention:
    id: str
    title: str
    region_code: str
    region_name: str
    ministry: str | None
    at_risk: bool
    evidence: list[str]  # sentences with a trouble term
    stories: list[Story]


@dataclass
class RegionSection:
    code: str
    name: str
    stories: list[Story]
    story_count: int
    article_count: int
    commitments: list[CommitmentMention]
    priorities: list[tuple[str, int]]

    @property
    def more(self) -> int:
        return self.story_count - len(self.stories)


@dataclass
class CoverageRow:
    code: str
    name: str
    articles: int
    stories: int
    critical: int  # commitments of this region with alert evidence


@dataclass
class SourceProblem:
    name: str
    error: str
    error_count: int
    since: str | None
    next_attempt: str | None = None  # America/Santiago, "25/11 03:00": a failing source rests


@dataclass
class DayStories:
    """Everything about a day that does not depend on the edition (clustered once)."""

    day: date
    stories: list[Story]
    article_count: int
    commitments: dict[str, CommitmentMention]
    region_articles: Counter[str]


@dataclass
class Digest:
    day: date
    date_words: str
    edition: Edition
    article_count: int
    story_count: int
    outlet_count: int
    top_stories: list[Story]
    critical: list[CommitmentMention]
    commitments: list[CommitmentMention]
    regions: list[RegionSection]
    national_stories: list[Story]
    coverage: list[CoverageRow]
    uncovered_regions: list[str]
    thin_regions: list[str]
    priorities: list[tuple[str, int]]
    failing_sources: list[SourceProblem]
    source_count: int

    @property
    def subject(self) -> str:
        edition = "" if self.edition.national else f" · {self.edition.name}"
        count = len(self.critical)
        critical = f" · {count} compromiso{'s' if count != 1 else ''} en situación crítica" if count else " · sin compromisos críticos"
        return f"Agenda Regional{edition} — {self.date_words}{critical}"


def build_stories(day: date, articles: list[dict[str, Any]], keywords: Keywords) -> DayStories:
    """Cluster a day's stored articles (``Store.articles_on``) into ranked stories."""
    groups = cluster([
        ClusterInput(a["title"], a.get("summary") or "", frozenset(l.code for l in a["links"] if l.kind == "region"))
        for a in articles
    ])
    commitments: dict[str, CommitmentMention] = {}
    region_articles: Counter[str] = Counter()
    stories = []
    for group in groups:
        members = [articles[i] for i in group]
        story = _story(members, keywords)
        _rank(story, day, keywords)
        stories.append(story)
        for member in members:
            region_articles.update({l.code for l in member["links"] if l.kind == "region"})
        for member in members:
            for link in member["links"]:
                if link.kind != "commitment" or link.code not in keywords.commitments:
                    continue
                commitment = keywords.commitments[link.code]
                mention = commitments.get(commitment.id)
                if mention is None:
                    mention = commitments[commitment.id] = CommitmentMention(
                        commitment.id, commitment.title, commitment.region_code,
                        keywords.region_name(commitment.region_code), commitment.ministry, False, [], [],
                    )
                if link.at_risk:
                    mention.at_risk = True
                    mention.evidence.extend(t for t in link.risk_sentences if t not in mention.evidence)
                if story not in mention.stories:
                    mention.stories.append(story)
    stories.sort(key=lambda s: (-s.score, s.title))
    return DayStories(day, stories, len(articles), commitments, region_articles)


def _story(members: list[dict[str, Any]], keywords: Keywords) -> Story:
    # The lead is the article with the most links (the fullest account), then the earliest.
    lead = max(members, key=lambda a: (len(a["links"]), -(a["id"])))
    outlets = list(dict.fromkeys(o for a in members for o in a["outlets"]))
    links = [l for a in members for l in a["links"]]
    region_codes = sorted({l.code for l in links if l.kind == "region"})
    commitment_ids = list(dict.fromkeys(l.code for l in links if l.kind == "commitment" and l.code in keywords.commitments))
    published = [a["published_at_utc"] for a in members if a["published_at_utc"]]
    return Story(
        id=lead["id"],
        title=lead["title"],
        url=lead["url"],
        outlets=outlets,
        articles=[StoryArticle(a["id"], a["title"], a["url"], a["outlets"]) for a in members],
        region_codes=region_codes,
        places=_place_names(links),
        priorities=list(dict.fromkeys(l.name for l in links if l.kind == "priority")),
        commitment_ids=commitment_ids,
        commitments=[keywords.commitments[c].title for c in commitment_ids],
        at_risk=any(l.at_risk for l in links if l.kind == "commitment"),
        published_at_utc=max(published) if published else None,
    )


def _rank(story: Story, day: date, keywords: Keywords) -> None:
    """Score a story and say why, in Spanish, part by part."""
    parts: list[tuple[float, str]] = []
    if len(story.outlets) > 1:
        parts.append((min(OUTLET_CAP, OUTLET_WEIGHT * (len(story.outlets) - 1)), f"{len(story.outlets)} medios"))
    if story.at_risk:
        parts.append((AT_RISK_WEIGHT, "compromiso en situación crítica"))
    if story.commitments:
        parts.append((COMMITMENT_WEIGHT * min(2, len(story.commitments)), "compromiso: " + spanish_list(story.commitments)))
    weights = {p.name: p.weight for p in keywords.priorities.values()}
    priority_score = min(PRIORITY_CAP, sum(weights.get(name, 1) for name in story.priorities))
    if priority_score:
        parts.append((priority_score, "prioridades: " + spanish_list(story.priorities)))
    if story.published_at_utc:
        local = datetime.fromisoformat(story.published_at_utc).astimezone(SANTIAGO)
        if local.date() == day:
            fraction = (local.hour * 60 + local.minute) / (24 * 60)
            parts.append((RECENCY_WEIGHT * fraction, f"publicada a las {local:%H:%M}"))
    story.score = round(sum(score for score, _ in parts), 2)
    story.reasons = [reason for _, reason in sorted(parts, key=lambda p: -p[0])]


def build_digest(
    day_stories: DayStories,
    sources: list[dict[str, Any]],
    keywords: Keywords,
    edition: Edition = NATIONAL,
) -> Digest:
    """Shape one edition of a day's digest."""
    day = day_stories.day
    wanted = set(edition.region_codes)

    def in_edition(story: Story) -> bool:
        return edition.national or bool(wanted.intersection(story.region_codes))

    stories = [s for s in day_stories.stories if in_edition(s)]
    commitments = [
        m for m in day_stories.commitments.values() if edition.national or m.region_code in wanted
    ]
    commitments.sort(key=lambda m: (not m.at_risk, -len(m.stories), m.title))
    sections = []
    by_region: dict[str, list[Story]] = {}
    for story in day_stories.stories:
        for code in story.region_codes:
            by_region.setdefault(code, []).append(story)
    for code, region_stories in by_region.items():
        if not edition.national and code not in wanted:
            continue
        priorities: Counter[str] = Counter(p for s in region_stories for p in s.priorities)
        sections.append(
            RegionSection(
                code=code, name=keywords.region_name(code), stories=region_stories[:STORIES_PER_REGION],
                story_count=len(region_stories), article_count=day_stories.region_articles[code],
                commitments=[m for m in commitments if m.region_code == code],
                priorities=priorities.most_common(),
            )
        )
    sections.sort(key=lambda s: (-s.story_count, -s.article_count, s.code))
    coverage = [
        CoverageRow(
            r.code, r.name, day_stories.region_articles[r.code], len(by_region.get(r.code, [])),
            sum(1 for m in day_stories.commitments.values() if m.region_code == r.code and m.at_risk),
        )
        for r in sorted(keywords.regions(), key=lambda r: NORTH_TO_SOUTH.index(r.code))
    ]
    national = [s for s in day_stories.stories if not s.region_codes] if edition.national else []
    failing = [
        SourceProblem(row["name"], row["last_error"] or "error", row["error_count"] or 0, row["last_error_at_utc"], _local_time(row.get("next_attempt_at_utc")))
        for row in sources
        if row.get("enabled", 1) and (row.get("error_count") or 0) > 0
    ]
    article_ids = {a.id for s in stories for a in s.articles}
    return Digest(
        day=day,
        date_words=spanish_date(day),
        edition=edition,
        article_count=len(article_ids) if not edition.national else day_stories.article_count,
        story_count=len(stories),
        outlet_count=len({o for s in stories for o in s.outlets}),
        top_stories=stories[:TOP_STORIES],
        critical=[m for m in commitments if m.at_risk],
        commitments=commitments,
        regions=sections,
        national_stories=national[:STORIES_PER_REGION],
        coverage=coverage,
        uncovered_regions=[row.name for row in coverage if row.articles == 0],
        thin_regions=[row.name for row in coverage if 0 < row.articles <= THIN_COVERAGE],
        priorities=Counter(p for s in stories for p in s.priorities).most_common(),
        failing_sources=failing,
        source_count=sum(1 for row in sources if row.get("enabled", 1)),
    )


def _local_time(moment: str | None) -> str | None:
    return datetime.fromisoformat(moment).astimezone(SANTIAGO).strftime("%d/%m %H:%M") if moment else None


def _place_names(links: Iterable[dict[str, Any]]) -> list[str]:
    """Communes, then provinces named without any of their communes, then regions."""
    links = list(links)
    communes = [l for l in links if l.kind == "commune"]
    commune_provinces = {l.code[:3] for l in communes}
    provinces = [f"provincia de {l.name}" for l in links if l.kind == "province" and l.code not in commune_provinces]
    regions = [l.name for l in links if l.kind == "region"]
    return list(dict.fromkeys([l.name for l in communes] + provinces + regions))


def safe_url(url: str) -> str:
    """Only http(s) links reach a reader: a feed's "javascript:" link becomes a dead one."""
    return url if url.lower().startswith(("http://", "https://")) else "#"


def bar_width(value: int, largest: int) -> int:
    """Percentage width of a coverage bar (at least 2% so a non-zero bar stays visible)."""
    if not value or not largest:
        return 0
    return max(2, round(100 * value / largest))


_environment = Environment(
    loader=PackageLoader("agenda.reports", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["spanish_list"] = spanish_list
_environment.filters["safe_url"] = safe_url
_environment.globals["bar_width"] = bar_width


def render_html(digest: Digest, chart_src: str | None = None) -> str:
    """The HTML part. ``chart_src``: "cid:..." in the e-mail, a file name in the archive."""
    return _environment.get_template("digest.html.j2").render(d=digest, chart_src=chart_src)


def render_text(digest: Digest) -> str:
    return _environment.get_template("digest.txt.j2").render(d=digest)


def render_index(entries: list[tuple[str, str, str]]) -> str:
    """digests/index.html: (file name, date in words, summary line), newest first."""
    return _environment.get_template("index.html.j2").render(entries=entries)


# -- files -------------------------------------------------------------------------------
@dataclass
class DigestFiles:
    html: Path
    text: Path
    chart: Path
    index: Path


def make_digest(store: Store, keywords: Keywords, day: date) -> tuple[DayStories, Digest]:
    """The day's stories (clustered once) and its national edition."""
    day_stories = build_stories(day, store.articles_on(day), keywords)
    return day_stories, build_digest(day_stories, store.source_health(), keywords)


def write_digest(digest: Digest, directory: Path) -> tuple[DigestFiles, bytes]:
    """Write digests/YYYY-MM-DD.html, .txt and .png atomically, and refresh digests/index.html."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = digest.day.isoformat()
    chart = render_chart(digest)
    files = DigestFiles(directory / f"{stem}.html", directory / f"{stem}.txt", directory / f"{stem}.png", directory / "index.html")
    _write(files.chart, chart)
    _write(files.html, render_html(digest, chart_src=files.chart.name).encode("utf-8"))
    _write(files.text, render_text(digest).encode("utf-8"))
    _write(files.index, render_index(_archive_entries(directory)).encode("utf-8"))
    return files, chart


def _write(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    temporary.replace(path)


def _archive_entries(directory: Path) -> list[tuple[str, str, str]]:
    entries = []
    for path in sorted(directory.glob("????-??-??.html"), reverse=True):
        try:
            day = date.fromisoformat(path.stem)
        except ValueError:
            continue
        text_path = path.with_suffix(".txt")
        first_lines = text_path.read_text(encoding="utf-8").splitlines()[3:5] if text_path.exists() else []
        entries.append((path.name, spanish_date(day), " ".join(line for line in first_lines if line)))
    return entries
