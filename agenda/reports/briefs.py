"""Briefs on demand (informes de contingencia): stored articles matching a request (regions,
commune, commitment, priority, full-text query, standing topic, period) -> the ``Brief`` a reader
with five minutes needs. Pure apart from reading the store; nothing is clustered or re-linked:
matching articles are grouped by the story stored at ingest, and stories are ranked by the
digest's own ranking.

``check_request`` turns a bad request into a one-line ``ConfigError`` (exit 2);
``build_brief`` assembles the data; ``brief_files`` renders it (HTML, PDF, CSV, JSON).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from agenda.common import cyclic_gc_paused
from agenda.errors import ConfigError
from agenda.reports.commitments import build_report
from agenda.reports.digest import LinkProfiles, Story, _story
from agenda.reports.signals import SIGNAL_NAMES, SIGNALS
from agenda.reports.spanish import region_title, spanish_list, spanish_period
from agenda.store.briefs import ArticleFilter, fts_query_error
from agenda.textnorm import fold

if TYPE_CHECKING:
    from agenda.keywords import Keywords
    from agenda.store import Store

DEFAULT_DAYS = 7  # a brief without --from/--to covers the last week, today included
VISIT_DAYS = 30  # --visit: the region's main stories of the last 30 days
MAIN_STORIES = 10
TIMELINE_EVENTS = 12
EVIDENCE_CHARS = 320  # one sentence, not a paragraph
_SENTENCE_END = re.compile(r"(?<=[.!?»])\s+")


@dataclass(frozen=True)
class BriefRequest:
    """What was asked (the CLI's options); every given filter must hold."""

    date_from: date
    date_to: date
    region_codes: tuple[str, ...] = ()
    commune_code: str | None = None
    commitment_id: str | None = None
    priority_id: str | None = None
    query: str | None = None
    topic_id: str | None = None
    title: str | None = None
    visit: bool = False


@dataclass
class BriefStory:
    story: Story  # the digest's story: title, url, outlets, places, commitments, score, reasons
    first_day: date
    last_day: date
    article_count: int
    evidence: str = ""


@dataclass
class DayAttention:
    day: date
    matching: int
    total: int

    @property
    def share(self) -> float:
        return self.matching / self.total if self.total else 0.0


@dataclass
class CommitmentTouched:
    id: str
    title: str
    region_name: str
    ministry: str | None
    articles: int
    at_risk_articles: int
    evidence: list[str]  # sentences with a trouble term, in the period
    signal: str  # crítico, atención, normal, sin noticias (the commitment follow-up's signal)
    why: str = ""  # the signal's reason, in Spanish
    status: str | None = None  # the official status, from the office's sheet


@dataclass
class BriefArticle:
    """One CSV row."""

    day: str
    outlets: list[str]
    title: str
    url: str
    regions: list[str]
    communes: list[str]
    commitments: list[str]


@dataclass
class Visit:
    region_name: str
    commitments: list[CommitmentTouched]
    stories: list[BriefStory]
    date_from: date
    date_to: date


@dataclass
class Brief:
    title: str
    date_from: date
    date_to: date
    period_words: str
    filters: list[str]  # each filter in words, for the method note
    article_count: int
    stories: list[BriefStory]  # every matching story, ranked
    outlets: list[tuple[str, int]]  # coverage balance: articles per outlet
    regions: list[tuple[str, int]]  # and per region
    attention: list[DayAttention]
    commitments: list[CommitmentTouched]
    articles: list[BriefArticle]
    sources_consulted: list[str]
    sources_failed: list[dict[str, str]]
    visit: Visit | None = None
    main_count: int = MAIN_STORIES

    @property
    def main_stories(self) -> list[BriefStory]:
        return self.stories[: self.main_count]

    @property
    def timeline(self) -> list[BriefStory]:
        """The main events in the order they happened."""
        events = self.stories[:TIMELINE_EVENTS]
        return sorted(
            events, key=lambda s: (s.first_day, s.story.published_at_utc or "", s.story.title)
        )

    @property
    def outlet_count(self) -> int:
        return len(self.outlets)

    @property
    def story_count(self) -> int:
        return len(self.stories)


# -- the request ------------------------------------------------------------------------
def default_period(today: date) -> tuple[date, date]:
    """The last ``DEFAULT_DAYS`` America/Santiago days, today included."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def check_request(request: BriefRequest, keywords: Keywords) -> None:
    """Raise a one-line ``ConfigError`` for what cannot be a brief (exit 2)."""
    if request.date_from > request.date_to:
        raise ConfigError(
            "--from", None, None, f"empty period: {request.date_from} is after {request.date_to}"
        )
    for code in request.region_codes:
        if f"region:{code}" not in keywords.places:
            raise ConfigError(
                "--region", None, None, f"unknown region code '{code}' (expected 01 to 16)"
            )
    if request.commune_code and f"commune:{request.commune_code}" not in keywords.places:
        raise ConfigError(
            "--commune",
            None,
            None,
            f"unknown commune code '{request.commune_code}' (5 digits, e.g. 05101)",
        )
    if request.commitment_id and request.commitment_id not in keywords.commitments:
        raise ConfigError(
            "--commitment",
            None,
            None,
            f"unknown commitment '{request.commitment_id}' (see keywords/commitments.yaml)",
        )
    if request.priority_id and request.priority_id not in keywords.priorities:
        known = ", ".join(sorted(keywords.priorities))
        raise ConfigError(
            "--priority", None, None, f"unknown priority '{request.priority_id}' (known: {known})"
        )
    if request.topic_id and request.topic_id not in keywords.topics:
        known = ", ".join(sorted(keywords.topics)) or "none in keywords/topics.yaml"
        raise ConfigError(
            "--topic", None, None, f"unknown topic '{request.topic_id}' (known: {known})"
        )
    if request.query is not None:
        problem = fts_query_error(request.query)
        if problem:
            raise ConfigError(
                "--query", None, None, f"not a valid full-text query ({problem}): {request.query}"
            )
    if request.visit and len(request.region_codes) != 1:
        raise ConfigError("--visit", None, None, "a visit brief needs exactly one --region")


def article_filter(request: BriefRequest, keywords: Keywords) -> ArticleFilter:
    """The store's filter for a request: a topic adds its query, and its regions unless the
    request names regions of its own."""
    topic = keywords.topics.get(request.topic_id) if request.topic_id else None
    queries = tuple(q for q in (request.query, topic.query if topic else None) if q)
    regions = request.region_codes or (topic.region_codes if topic else ())
    return ArticleFilter(
        request.date_from,
        request.date_to,
        regions,
        request.commune_code,
        request.commitment_id,
        request.priority_id,
        queries,
    )


def filter_words(request: BriefRequest, keywords: Keywords) -> list[str]:
    """Each filter as a reader says it: ["Región de Valparaíso", "búsqueda «sequía»"]."""
    words = []
    selection = article_filter(request, keywords)
    if selection.region_codes:
        words.append(
            spanish_list([region_title(keywords.region_name(c)) for c in selection.region_codes])
        )
    if request.commune_code:
        words.append(f"comuna de {keywords.place('commune', request.commune_code).name}")
    if request.commitment_id:
        words.append(f"compromiso «{keywords.commitments[request.commitment_id].title}»")
    if request.priority_id:
        words.append(f"prioridad {keywords.priorities[request.priority_id].name}")
    if request.topic_id:
        topic = keywords.topics[request.topic_id]
        words.append(f"tema «{topic.title}» (búsqueda: {topic.query})")
    if request.query:
        words.append(f"búsqueda «{request.query}»")
    return words


def default_title(request: BriefRequest, keywords: Keywords) -> str:
    """ "Región de Valparaíso, 18 al 24 de noviembre de 2026" """
    parts = []
    if request.topic_id:
        parts.append(keywords.topics[request.topic_id].title)
    if request.commitment_id:
        parts.append(keywords.commitments[request.commitment_id].title)
    if request.priority_id:
        parts.append(keywords.priorities[request.priority_id].name)
    if request.query:
        parts.append(f"«{request.query}»")
    if request.commune_code:
        parts.append(keywords.place("commune", request.commune_code).name)
    if request.region_codes:
        parts.append(
            spanish_list([region_title(keywords.region_name(c)) for c in request.region_codes])
        )
    subject = " · ".join(parts) or "Prensa regional"
    return f"{subject}, {spanish_period(request.date_from, request.date_to)}"


# -- the brief --------------------------------------------------------------------------
def build_brief(store: Store, keywords: Keywords, request: BriefRequest) -> Brief:
    """Read the matching articles and shape the brief (call ``check_request`` first)."""
    # a month of a region is hundreds of thousands of small objects, none in a cycle: each
    # full pass of the collector rescanned all of them (measured: half the brief's time)
    with cyclic_gc_paused():
        return _build_brief(store, keywords, request)


def _build_brief(store: Store, keywords: Keywords, request: BriefRequest) -> Brief:
    selection = article_filter(request, keywords)
    articles = store.brief_articles(selection)
    stories = rank_stories(store, keywords, articles)
    _add_evidence(store, stories[:MAIN_STORIES], _evidence_terms(request, keywords))
    totals = store.articles_per_day(request.date_from, request.date_to)
    per_day = Counter(a["local_date"] for a in articles)
    attention = [
        DayAttention(day, per_day[day.isoformat()], totals.get(day.isoformat(), 0))
        for day in _days(request.date_from, request.date_to)
    ]
    outlets: Counter[str] = Counter(o for a in articles for o in a["outlets"])
    regions: Counter[str] = Counter(
        link.name for a in articles for link in a["links"] if link.kind == "region"
    )
    visit = _visit(store, keywords, request) if request.visit else None
    return Brief(
        title=request.title or default_title(request, keywords),
        date_from=request.date_from,
        date_to=request.date_to,
        period_words=spanish_period(request.date_from, request.date_to),
        filters=filter_words(request, keywords),
        article_count=len(articles),
        stories=stories,
        outlets=outlets.most_common(),
        regions=regions.most_common(),
        attention=attention,
        commitments=commitments_touched(
            store, keywords, articles, request.date_from, request.date_to
        ),
        articles=[_row(a) for a in articles],
        sources_consulted=store.enabled_source_names(),
        sources_failed=store.sources_failed_between(request.date_from, request.date_to),
        visit=visit,
    )


def rank_stories(
    store: Store, keywords: Keywords, articles: list[dict[str, Any]]
) -> list[BriefStory]:
    """Group articles by the story kept at ingest and rank the stories as the digest does (each
    on its last day, so recency counts within that day as it did in that day's digest)."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for article in articles:
        groups.setdefault(article["story_id"], []).append(article)
    stored = store.stored_stories(groups)
    profiles = LinkProfiles(keywords)
    ranked = []
    for story_id, members in groups.items():
        # members come oldest first (``brief_articles`` orders by day)
        first, last = (date.fromisoformat(members[i]["local_date"]) for i in (0, -1))
        story = _story(members, profiles, stored.get(story_id), last)  # headline kept at ingest
        ranked.append(BriefStory(story, first, last, len(members)))
    ranked.sort(key=lambda s: (-s.story.score, -s.article_count, s.story.title))
    return ranked


def commitments_touched(
    store: Store,
    keywords: Keywords,
    articles: list[dict[str, Any]],
    date_from: date,
    date_to: date,
    every_of_region: str | None = None,
) -> list[CommitmentTouched]:
    """The commitments the matching articles name (or every commitment of ``every_of_region``),
    each with its news signal over the period as the commitment follow-up computes it."""
    counts: Counter[str] = Counter()
    at_risk: Counter[str] = Counter()
    for article in articles:
        for link in article["links"]:
            if link.kind == "commitment" and link.code in keywords.commitments:
                counts[link.code] += 1
                at_risk[link.code] += link.at_risk
    wanted = set(counts)
    if every_of_region:
        wanted |= {c.id for c in keywords.commitments.values() if c.region_code == every_of_region}
    regions = tuple(sorted({keywords.commitments[i].region_code for i in wanted}))
    follow_ups = (
        {
            f.commitment.id: f
            for f in build_report(store, keywords, date_from, date_to, regions).commitments
        }
        if regions
        else {}
    )
    touched = []
    for commitment_id in wanted:
        follow_up = follow_ups[commitment_id]
        commitment = follow_up.commitment
        touched.append(
            CommitmentTouched(
                commitment.id,
                commitment.title,
                follow_up.region_name,
                commitment.ministry,
                counts[commitment_id],
                at_risk[commitment_id],
                list(dict.fromkeys(e.text for e in follow_up.evidence))[:3],
                follow_up.signal_name,
                follow_up.why,
                commitment.status,
            )
        )
    order = {SIGNAL_NAMES[code]: index for index, code in enumerate(SIGNALS)}
    touched.sort(key=lambda c: (order[c.signal], -c.at_risk_articles, -c.articles, c.title))
    return touched


def _visit(store: Store, keywords: Keywords, request: BriefRequest) -> Visit:
    """The region's whole commitment list and its main stories of the last 30 days."""
    code = request.region_codes[0]
    date_from = request.date_to - timedelta(days=VISIT_DAYS - 1)
    articles = store.brief_articles(ArticleFilter(date_from, request.date_to, (code,)))
    commitments = commitments_touched(store, keywords, articles, date_from, request.date_to, code)
    stories = rank_stories(store, keywords, articles)[:MAIN_STORIES]
    _add_evidence(store, stories, [keywords.region_name(code)])
    return Visit(
        region_title(keywords.region_name(code)), commitments, stories, date_from, request.date_to
    )


def _evidence_terms(request: BriefRequest, keywords: Keywords) -> list[str]:
    """Words whose sentence shows why an article matched: the query's words, the places and
    the commitment's names."""
    terms: list[str] = []
    selection = article_filter(request, keywords)
    for query in selection.queries:
        terms += [
            w
            for w in re.findall(r"\w+", query)
            if w not in {"AND", "OR", "NOT", "NEAR"} and len(w) > 2
        ]
    if request.commitment_id:
        commitment = keywords.commitments[request.commitment_id]
        terms += list(commitment.aliases) + list(commitment.facility_words)
    if request.commune_code:
        terms += list(keywords.place("commune", request.commune_code).aliases)
    if request.priority_id:
        terms += list(keywords.priorities[request.priority_id].keywords)
    for code in selection.region_codes:
        terms.append(keywords.region_name(code))
        terms += [
            p.name
            for p in keywords.places.values()
            if p.kind == "commune" and p.region_code == code
        ]
    return terms


def _add_evidence(store: Store, stories: list[BriefStory], terms: list[str]) -> None:
    """One sentence per story from its lead article, preferring one that names a term."""
    # the story's lead (kept at ingest) and its first matching article, which may differ
    passages = store.article_passages(
        i for s in stories for i in (s.story.id, s.story.articles[0].id)
    )
    folded_terms = [fold(t) for t in terms if t]
    for brief_story in stories:
        texts = [
            " ".join(passages.get(i, ("", "")))
            for i in (brief_story.story.id, brief_story.story.articles[0].id)
        ]
        sentences = [
            s.strip() for t in texts for s in _SENTENCE_END.split(t) if len(s.strip()) > 20
        ]
        chosen = next((s for s in sentences if any(_names(fold(s), t) for t in folded_terms)), None)
        chosen = chosen or (sentences[0] if sentences else "")
        cut = len(chosen) > EVIDENCE_CHARS
        brief_story.evidence = chosen[:EVIDENCE_CHARS].rstrip() + ("…" if cut else "")


def _names(folded_sentence: str, folded_term: str) -> bool:
    return re.search(rf"\b{re.escape(folded_term)}", folded_sentence) is not None


def _row(article: dict[str, Any]) -> BriefArticle:
    named: dict[str, list[str]] = {"region": [], "commune": [], "commitment": []}
    for link in article["links"]:
        if link.kind in named:
            named[link.kind].append(link.name)
    return BriefArticle(
        article["local_date"],
        article["outlets"],
        article["title"],
        article["url"],
        named["region"],
        named["commune"],
        named["commitment"],
    )


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def brief_json(brief: Brief) -> dict[str, Any]:
    """The brief's data for ``--json``: title, period, figures, attention and every story."""
    return {
        "title": brief.title,
        "from": brief.date_from.isoformat(),
        "to": brief.date_to.isoformat(),
        "articles": brief.article_count,
        "figures": {
            "articles": brief.article_count,
            "stories": brief.story_count,
            "outlets": brief.outlet_count,
            "regions": len(brief.regions),
        },
        "filters": brief.filters,
        "attention": [
            {
                "date": d.day.isoformat(),
                "articles": d.matching,
                "all_articles": d.total,
                "share": round(d.share, 4),
            }
            for d in brief.attention
        ],
        "stories": [_story_json(s) for s in brief.stories],
        "commitments": [_commitment_json(c) for c in brief.commitments],
        "coverage": {"outlets": dict(brief.outlets), "regions": dict(brief.regions)},
        "sources_failed": brief.sources_failed,
        "visit": None
        if brief.visit is None
        else {
            "region": brief.visit.region_name,
            "from": brief.visit.date_from.isoformat(),
            "to": brief.visit.date_to.isoformat(),
            "commitments": [_commitment_json(c) for c in brief.visit.commitments],
            "stories": [_story_json(s) for s in brief.visit.stories],
        },
    }


def _story_json(story: BriefStory) -> dict[str, Any]:
    return {
        "title": story.story.title,
        "url": story.story.url,
        "outlets": story.story.outlets,
        "first_seen": story.first_day.isoformat(),
        "last_seen": story.last_day.isoformat(),
        "articles": story.article_count,
        "regions": story.story.region_codes,
        "commitments": story.story.commitment_ids,
        "score": story.story.score,
        "why": story.story.why,
        "evidence": story.evidence,
    }


def _commitment_json(commitment: CommitmentTouched) -> dict[str, Any]:
    return {
        "id": commitment.id,
        "title": commitment.title,
        "signal": commitment.signal,
        "why": commitment.why,
        "status": commitment.status,
        "articles": commitment.articles,
        "at_risk_articles": commitment.at_risk_articles,
    }
