"""Digest: one America/Santiago day of stored articles -> the Spanish Regional Agenda. Pure.

``build_stories`` groups the day's articles by their stored story (one story, one item, every
outlet listed) and ranks them; ``build_digest`` shapes an edition (national, or some regions) from
the stories. Each story belongs to one section: its region, "Varias regiones" when it is about
several, or "Nacional" when it names none. Two renderings of the same day (``render``):

- the e-mail, short: the day in one line of figures, the critical commitments (one card each),
  "Lo principal" (five stories not already shown), one line per region, coverage in two lines;
  every article link at most once;
- the web edition (``digests/YYYY-MM-DD.html``): everything, every article of the day linked.

The files are written by ``agenda.reports.digest_files``.

Ranking is explainable: every story carries the reasons that gave it its score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from agenda.common import SANTIAGO, cyclic_gc_paused
from agenda.keywords import Keywords
from agenda.reports.digest_files import write_digest  # noqa: F401 (re-exported for tests)
from agenda.reports.highlight import (
    Segment,
    TermIndex,
    commune_index,
    place_code,
    plain_why,
    snippet,
    story_terms,
)
from agenda.reports.render import (  # noqa: F401 (re-exported: tests, bench, deliver.py)
    render_email,
    render_html,
    render_text,
)
from agenda.reports.spanish import NORTH_TO_SOUTH, spanish_date, spanish_list
from agenda.reports.topics import TopicSection, topic_matches, topic_sections

if TYPE_CHECKING:
    from agenda.store import Store
    from agenda.store.stories import StoredLink

TOP_STORIES = 5  # "Lo principal"
EMAIL_CRITICAL = 5  # commitment cards in the e-mail; the web edition has them all
SEVERAL_REGIONS, NO_REGION = "varias", "nacional"  # the two sections that are not a region
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
    # shared with every story of the same links (immutable: a day has 20,000 stories)
    region_codes: tuple[str, ...]
    places: tuple[str, ...]
    priorities: tuple[str, ...]
    commitment_ids: tuple[str, ...]
    commitments: tuple[str, ...]
    at_risk: bool
    published_at_utc: str | None
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    summary: str = ""  # the lead article's summary: the e-mail's one or two lines
    story_id: int | None = None  # the stored story (``stories.id``)

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
    troubles: list[str] = field(default_factory=list)  # Spanish labels of the kinds of trouble

    @property
    def lead(self) -> Story | None:
        """The story its card links: the first with the alert, else the first."""
        first = self.stories[0] if self.stories else None
        return next((s for s in self.stories if s.at_risk), first)

    @property
    def sentence(self) -> str:
        """The card's one evidence sentence: one that is not just the headline again."""
        lead = self.lead
        title = " ".join(lead.title.split()).casefold() if lead else ""
        return next(
            (e for e in self.evidence if " ".join(e.split()).casefold() != title),
            self.evidence[0] if self.evidence else "",
        )

    @property
    def outlets(self) -> list[str]:
        return list(dict.fromkeys(o for s in self.stories for o in s.outlets))


@dataclass
class RegionSection:
    """A region's stories (or "varias" / "nacional"); each story of the day is in one section."""

    code: str
    name: str
    stories: list[Story]  # every story of the section, best first: the web edition lists them all
    commitments: list[CommitmentMention]
    priorities: list[tuple[str, int]]
    headline: Story | None = None  # the e-mail's line: its best story not shown above it

    @property
    def story_count(self) -> int:
        return len(self.stories)

    @property
    def article_count(self) -> int:
        return sum(len(s.articles) for s in self.stories)

    @property
    def anchor(self) -> str:
        return f"region-{self.code}"

    @property
    def is_region(self) -> bool:
        return self.code not in (SEVERAL_REGIONS, NO_REGION)


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
    """Everything about a day that does not depend on the edition (grouped once)."""

    day: date
    stories: list[Story]
    article_count: int
    commitments: dict[str, CommitmentMention]
    region_articles: Counter[str]
    topic_matches: dict[str, set[int]] = field(
        default_factory=dict
    )  # standing topic -> article ids


@dataclass(slots=True)
class StoryNote:
    """What a reader sees under a headline: a snippet with matched words in bold, why it ranks,
    and the code an "¿Error?" reply would most likely reject."""

    snippet: list[Segment]
    why: str
    place_code: str | None


class StoryNotes:
    """Story id -> ``StoryNote``, each made when a rendering first asks for it: a day has
    20,000 stories and the renderings show a note under a few hundred of them."""

    def __init__(self, stories: Iterable[Story], keywords: Keywords) -> None:
        self._stories = {s.id: s for s in stories}
        self._terms = TermIndex(keywords)
        self._communes = commune_index(keywords)
        self._notes: dict[int, StoryNote] = {}

    def __getitem__(self, story_id: int) -> StoryNote:
        note = self._notes.get(story_id)
        if note is None:
            story = self._stories[story_id]
            note = self._notes[story_id] = StoryNote(
                snippet(story.summary, story.title, story_terms(story, self._terms)),
                plain_why(story),
                place_code(story, self._communes),
            )
        return note

    def get(self, story_id: int, default: StoryNote | None = None) -> StoryNote | None:
        return self[story_id] if story_id in self._stories else default


@dataclass
class Digest:
    day: date
    date_words: str
    edition: Edition
    article_count: int
    story_count: int
    outlet_count: int
    region_count: int  # regions with at least one article
    top_stories: list[Story]  # "Lo principal": the best stories not in a critical card
    critical: list[CommitmentMention]
    commitments: list[CommitmentMention]
    regions: list[RegionSection]  # regions by activity, then "Varias regiones", then "Nacional"
    coverage: list[CoverageRow]
    uncovered_regions: list[str]
    thin_regions: list[str]
    priorities: list[tuple[str, int]]
    failing_sources: list[SourceProblem]
    source_count: int
    notes: StoryNotes  # story id -> note, made on demand
    topics: list[TopicSection] = field(default_factory=list)  # "Temas solicitados"

    @property
    def empty(self) -> bool:
        return self.article_count == 0

    @property
    def email_critical(self) -> list[CommitmentMention]:
        return self.critical[:EMAIL_CRITICAL]

    @property
    def web_file(self) -> str:
        """The web edition's file name in the digests folder."""
        return f"{self.day.isoformat()}.html"

    @property
    def stories(self) -> list[Story]:
        """Every story of the edition, each once, section by section."""
        return [s for section in self.regions for s in section.stories]

    @property
    def subject(self) -> str:
        edition = "" if self.edition.national else f" · {self.edition.name}"
        count = len(self.critical)
        critical = (
            f" · {count} compromiso{'s' if count != 1 else ''} en situación crítica"
            if count
            else " · sin compromisos críticos"
        )
        return f"Agenda Regional{edition} — {self.date_words}{critical}"


@cyclic_gc_paused()
def build_stories(
    day: date,
    articles: list[dict[str, Any]],
    keywords: Keywords,
    stored: Mapping[int, Mapping[str, Any]] | None = None,
) -> DayStories:
    """Group a day's stored articles (``Store.articles_on``) by their story, and rank them.

    A story's items are its articles of that day; its title and link come from ``stored``
    (``Store.stories_by_id``: the best title over all its days) when given."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for article in articles:
        # an article without a story (none should be) stands alone
        key = article.get("story_id")
        groups.setdefault(key if key is not None else -article["id"], []).append(article)
    commitments: dict[str, CommitmentMention] = {}
    region_articles: Counter[str] = Counter()
    stories = []
    stored = stored or {}
    profiles = LinkProfiles(keywords)
    articles_per_profile: Counter[_Profile] = Counter()
    for key, members in groups.items():
        story = _story(members, profiles, stored.get(key), day)
        stories.append(story)
        for member in members:
            articles_per_profile[profiles.of(tuple(member["links"]))] += 1
        if story.commitment_ids:
            _mention(story, members, keywords, commitments)
    for profile, count in articles_per_profile.items():
        for code in profile.region_codes:
            region_articles[code] += count
    stories.sort(key=lambda s: (-s.score, s.title))
    return DayStories(day, stories, len(articles), commitments, region_articles)


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: one object per link set
class _Profile:
    """What a set of links says of any story that has them (a day has 20,000 stories but far
    fewer distinct sets of links): its places, priorities and commitments, and the parts of
    its score that come from them."""

    region_codes: tuple[str, ...]
    places: tuple[str, ...]
    priorities: tuple[str, ...]
    commitment_ids: tuple[str, ...]
    commitments: tuple[str, ...]
    at_risk: bool
    parts: tuple[tuple[float, str], ...]


class LinkProfiles:
    """Link profiles, each computed once (for a day's digest or a brief's period)."""

    def __init__(self, keywords: Keywords) -> None:
        self.keywords = keywords
        self.weights = {p.name: p.weight for p in keywords.priorities.values()}
        self._known: dict[tuple[StoredLink, ...], _Profile] = {}

    def of(self, links: tuple[StoredLink, ...]) -> _Profile:
        profile = self._known.get(links)
        if profile is None:
            profile = self._known[links] = self._profile(links)
        return profile

    def _profile(self, links: tuple[StoredLink, ...]) -> _Profile:
        regions: set[str] = set()
        commitment_ids: dict[str, None] = {}
        priorities: dict[str, None] = {}
        at_risk = False
        known_commitments = self.keywords.commitments
        for link in links:
            kind = link.kind
            if kind == "region":
                regions.add(link.code)
            elif kind == "commitment":
                if link.code in known_commitments:
                    commitment_ids[link.code] = None
                at_risk = at_risk or link.at_risk
            elif kind == "priority":
                priorities[link.name] = None
        titles = tuple(known_commitments[c].title for c in commitment_ids)
        parts: list[tuple[float, str]] = []
        if at_risk:
            parts.append((AT_RISK_WEIGHT, "compromiso en situación crítica"))
        if titles:
            parts.append(
                (COMMITMENT_WEIGHT * min(2, len(titles)), "compromiso: " + spanish_list(titles))
            )
        priority_score = min(PRIORITY_CAP, sum(self.weights.get(n, 1) for n in priorities))
        if priority_score:
            parts.append((priority_score, "prioridades: " + spanish_list(list(priorities))))
        return _Profile(
            tuple(sorted(regions)),
            tuple(_place_names(links)),
            tuple(priorities),
            tuple(commitment_ids),
            titles,
            at_risk,
            tuple(parts),
        )


def _mention(
    story: Story,
    members: list[dict[str, Any]],
    keywords: Keywords,
    commitments: dict[str, CommitmentMention],
) -> None:
    """Record the story under each commitment its articles name (with any alert sentences)."""
    for member in members:
        for link in member["links"]:
            if link.kind != "commitment" or link.code not in keywords.commitments:
                continue
            commitment = keywords.commitments[link.code]
            mention = commitments.get(commitment.id)
            if mention is None:
                mention = commitments[commitment.id] = CommitmentMention(
                    commitment.id,
                    commitment.title,
                    commitment.region_code,
                    keywords.region_name(commitment.region_code),
                    commitment.ministry,
                    False,
                    [],
                    [],
                )
            if link.at_risk:
                mention.at_risk = True
                mention.evidence.extend(t for t in link.risk_sentences if t not in mention.evidence)
                label = keywords.trouble_label(link.risk_kind)
                if label and label not in mention.troubles:
                    mention.troubles.append(label)
            if story not in mention.stories:
                mention.stories.append(story)


def _story(
    members: list[dict[str, Any]],
    profiles: LinkProfiles,
    stored: Mapping[str, Any] | None,
    day: date,
) -> Story:
    """A story from its articles (of a day, or of a brief's period), ranked as on ``day``."""
    if stored is not None and stored.get("lead_article_id") is not None:
        # the store keeps the lead over all the story's days
        lead: Mapping[str, Any] = stored
        lead_id = stored["lead_article_id"]
    else:
        # the lead is the article with the most links (the fullest account), then the earliest
        lead = max(members, key=lambda a: (len(a["links"]), -(a["id"])))
        lead_id = lead["id"]
    if len(members) == 1:
        only = members[0]
        links = tuple(only["links"])
        outlets = only["outlets"]  # the article's own list: nothing changes it
        published = only["published_at_utc"]
        summary = (only.get("summary") or "") if only["id"] == lead_id else ""
    else:
        links = tuple(link for a in members for link in a["links"])
        outlets = list(dict.fromkeys(o for a in members for o in a["outlets"]))
        published = max(
            (a["published_at_utc"] for a in members if a["published_at_utc"]), default=None
        )
        summary = next((a.get("summary") or "" for a in members if a["id"] == lead_id), "")
    profile = profiles.of(links)
    story = Story(
        id=lead_id,
        title=lead["title"],
        url=lead["url"],
        outlets=outlets,
        articles=[StoryArticle(a["id"], a["title"], a["url"], a["outlets"]) for a in members],
        region_codes=profile.region_codes,
        places=profile.places,
        priorities=profile.priorities,
        commitment_ids=profile.commitment_ids,
        commitments=profile.commitments,
        at_risk=profile.at_risk,
        published_at_utc=published,
        story_id=members[0].get("story_id"),
        summary=summary,
    )
    _rank(story, profile, day)
    return story


def _rank(story: Story, profile: _Profile, day: date) -> None:
    """Score a story and say why, in Spanish, part by part."""
    parts: list[tuple[float, str]] = []
    if len(story.outlets) > 1:
        parts.append(
            (
                min(OUTLET_CAP, OUTLET_WEIGHT * (len(story.outlets) - 1)),
                f"{len(story.outlets)} medios",
            )
        )
    parts += profile.parts
    if story.published_at_utc:
        local = datetime.fromisoformat(story.published_at_utc).astimezone(SANTIAGO)
        if local.date() == day:
            minutes = local.hour * 60 + local.minute
            parts.append(
                (
                    RECENCY_WEIGHT * minutes / (24 * 60),
                    f"publicada a las {local.hour:02}:{local.minute:02}",
                )
            )
    total = 0.0
    for score, _ in parts:
        total += score
    story.score = round(total, 2)
    if len(parts) > 1:
        parts.sort(key=_by_score)
    story.reasons = [reason for _, reason in parts]


def _by_score(part: tuple[float, str]) -> float:
    return -part[0]


@cyclic_gc_paused()
def build_digest(
    day_stories: DayStories,
    sources: list[dict[str, Any]],
    keywords: Keywords,
    edition: Edition = NATIONAL,
) -> Digest:
    """Shape one edition of a day's digest: each story in one section, and what the e-mail shows
    (cards, "Lo principal", one headline per section) chosen so no story appears twice."""
    day = day_stories.day
    wanted = set(edition.region_codes)

    def in_edition(story: Story) -> bool:
        return edition.national or bool(wanted.intersection(story.region_codes))

    stories = [s for s in day_stories.stories if in_edition(s)]
    commitments = [
        m for m in day_stories.commitments.values() if edition.national or m.region_code in wanted
    ]
    commitments.sort(key=lambda m: (not m.at_risk, -len(m.stories), m.title))
    critical = [m for m in commitments if m.at_risk]
    shown = {m.lead.id for m in critical[:EMAIL_CRITICAL] if m.lead}
    top = [s for s in stories if s.id not in shown][:TOP_STORIES]
    shown.update(s.id for s in top)
    topics = topic_sections(stories, keywords.topics.values(), day_stories.topic_matches, shown)
    sections = _sections(stories, commitments, keywords, shown)
    region_stories = Counter(code for s in stories for code in s.region_codes)
    region_critical = Counter(m.region_code for m in day_stories.commitments.values() if m.at_risk)
    coverage = [
        CoverageRow(
            r.code,
            r.name,
            day_stories.region_articles[r.code],
            region_stories[r.code],
            region_critical[r.code],
        )
        for r in sorted(keywords.regions(), key=lambda r: NORTH_TO_SOUTH.index(r.code))
        if edition.national or r.code in wanted
    ]
    failing = [
        SourceProblem(
            row["name"],
            row["last_error"] or "error",
            row["error_count"] or 0,
            row["last_error_at_utc"],
            _local_time(row.get("next_attempt_at_utc")),
        )
        for row in sources
        if row.get("enabled", 1) and (row.get("error_count") or 0) > 0
    ]
    return Digest(
        day=day,
        date_words=spanish_date(day),
        edition=edition,
        article_count=(
            day_stories.article_count
            if edition.national
            else len({a.id for s in stories for a in s.articles})
        ),
        story_count=len(stories),
        outlet_count=len({o for s in stories for o in s.outlets}),
        region_count=sum(1 for row in coverage if row.articles),
        top_stories=top,
        critical=critical,
        commitments=commitments,
        regions=sections,
        coverage=coverage,
        uncovered_regions=[row.name for row in coverage if row.articles == 0],
        thin_regions=[row.name for row in coverage if 0 < row.articles <= THIN_COVERAGE],
        priorities=Counter(p for s in stories for p in s.priorities).most_common(),
        failing_sources=failing,
        source_count=sum(1 for row in sources if row.get("enabled", 1)),
        notes=StoryNotes(stories, keywords),
        topics=topics,
    )


def _sections(
    stories: list[Story], commitments: list[CommitmentMention], keywords: Keywords, shown: set[int]
) -> list[RegionSection]:
    """One section per region with news, then "Varias regiones", then "Nacional": a story about
    several regions is listed once, not under each."""
    by_code: dict[str, list[Story]] = {}
    for story in stories:
        codes = story.region_codes
        code = codes[0] if len(codes) == 1 else SEVERAL_REGIONS if codes else NO_REGION
        by_code.setdefault(code, []).append(story)
    names = {SEVERAL_REGIONS: "Varias regiones", NO_REGION: "Nacional"}
    sections = []
    for code, members in by_code.items():
        priorities: Counter[str] = Counter(p for s in members for p in s.priorities)
        sections.append(
            RegionSection(
                code=code,
                name=names.get(code) or keywords.region_name(code),
                stories=members,
                commitments=[m for m in commitments if m.region_code == code],
                priorities=priorities.most_common(),
                headline=next((s for s in members if s.id not in shown), None),
            )
        )
    last = {SEVERAL_REGIONS: 1, NO_REGION: 2}
    sections.sort(key=lambda s: (last.get(s.code, 0), -s.story_count, -s.article_count, s.code))
    return sections


def _local_time(moment: str | None) -> str | None:
    return (
        datetime.fromisoformat(moment).astimezone(SANTIAGO).strftime("%d/%m %H:%M")
        if moment
        else None
    )


def _place_names(links: Iterable[StoredLink]) -> list[str]:
    """Communes, then provinces named without any of their communes, then regions."""
    links = list(links)
    communes = [link for link in links if link.kind == "commune"]
    commune_provinces = {link.code[:3] for link in communes}
    provinces = [
        f"provincia de {link.name}"
        for link in links
        if link.kind == "province" and link.code not in commune_provinces
    ]
    regions = [link.name for link in links if link.kind == "region"]
    return list(dict.fromkeys([link.name for link in communes] + provinces + regions))


@cyclic_gc_paused()
def make_digest(store: Store, keywords: Keywords, day: date) -> tuple[DayStories, Digest]:
    """The day's stories (grouped once) and its national edition."""
    day_stories = build_stories(day, store.articles_on(day), keywords, store.story_heads_on(day))
    day_stories.topic_matches = topic_matches(store, keywords.topics.values(), day)
    return day_stories, build_digest(day_stories, store.source_health(), keywords)
