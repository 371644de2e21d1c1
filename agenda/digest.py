"""Digest: one America/Santiago day of stored articles -> the Spanish Regional Agenda. Pure.

``build_digest`` shapes the data (sections per region, commitments at risk first, priorities,
source health); ``render_html`` and ``render_text`` turn it into jinja2 output (HTML with
autoescape on: titles from the web are text, never markup).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from agenda.keywords import Keywords

WEEKDAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
          "octubre", "noviembre", "diciembre"]
MAX_ARTICLES_PER_REGION = 12


def spanish_date(day: date) -> str:
    """>>> spanish_date(date(2026, 11, 24))
    'martes 24 de noviembre de 2026'
    """
    return f"{WEEKDAYS[day.weekday()]} {day.day} de {MONTHS[day.month - 1]} de {day.year}"


@dataclass
class DigestArticle:
    id: int
    title: str
    url: str
    outlets: list[str]
    published_at_utc: str | None
    places: list[str]
    priorities: list[str]
    commitments: list[str]
    at_risk: bool


@dataclass
class CommitmentMention:
    id: str
    title: str
    region_name: str
    ministry: str | None
    at_risk: bool
    evidence: list[str]  # sentences with a trouble term, or the matched text
    articles: list[DigestArticle]


@dataclass
class RegionSection:
    code: str
    name: str
    articles: list[DigestArticle]
    article_count: int
    commitments: list[CommitmentMention]
    priorities: list[tuple[str, int]]


@dataclass
class SourceProblem:
    name: str
    error: str
    error_count: int
    since: str | None


@dataclass
class Digest:
    day: date
    date_words: str
    article_count: int
    outlet_count: int
    regions: list[RegionSection]
    uncovered_regions: list[str]
    national_articles: list[DigestArticle]
    at_risk: list[CommitmentMention]
    commitments: list[CommitmentMention]
    priorities: list[tuple[str, int]]
    failing_sources: list[SourceProblem]
    source_count: int
    region_counts: list[tuple[str, int]] = field(default_factory=list)

    @property
    def subject(self) -> str:
        risk = f" · {len(self.at_risk)} compromiso{'s' if len(self.at_risk) != 1 else ''} en riesgo" if self.at_risk else ""
        return f"Agenda Regional — {self.date_words}{risk}"


def build_digest(day: date, articles: list[dict[str, Any]], sources: list[dict[str, Any]], keywords: Keywords) -> Digest:
    """Shape one day's stored articles (``Store.articles_on``) and source rows into a digest."""
    digest_articles: dict[int, DigestArticle] = {}
    by_region: dict[str, list[int]] = {}
    commitment_hits: dict[str, dict[str, Any]] = {}
    priority_counts: Counter[str] = Counter()
    region_priorities: dict[str, Counter[str]] = {}
    for row in articles:
        links = row["links"]
        region_codes = sorted({l["code"] for l in links if l["kind"] == "region"})
        places = _place_names(links)
        priority_names = [l["name"] for l in links if l["kind"] == "priority"]
        item = DigestArticle(
            id=row["id"], title=row["title"], url=row["url"], outlets=row["outlets"],
            published_at_utc=row["published_at_utc"], places=places, priorities=priority_names,
            commitments=[l["name"] for l in links if l["kind"] == "commitment"],
            at_risk=any(l["at_risk"] for l in links if l["kind"] == "commitment"),
        )
        digest_articles[row["id"]] = item
        priority_counts.update(priority_names)
        for code in region_codes:
            by_region.setdefault(code, []).append(row["id"])
            region_priorities.setdefault(code, Counter()).update(priority_names)
        for link in links:
            if link["kind"] != "commitment" or link["code"] not in keywords.commitments:
                continue
            hit = commitment_hits.setdefault(link["code"], {"at_risk": False, "evidence": [], "articles": []})
            hit["articles"].append(row["id"])
            if link["at_risk"]:
                hit["at_risk"] = True
                hit["evidence"].extend(e["text"] for e in link["risk_evidence"])

    mentions: dict[str, CommitmentMention] = {}
    for commitment_id, hit in commitment_hits.items():
        commitment = keywords.commitments[commitment_id]
        mentions[commitment_id] = CommitmentMention(
            id=commitment_id, title=commitment.title, region_name=keywords.region_name(commitment.region_code),
            ministry=commitment.ministry, at_risk=hit["at_risk"], evidence=list(dict.fromkeys(hit["evidence"])),
            articles=[digest_articles[i] for i in dict.fromkeys(hit["articles"])],
        )
    ordered_mentions = sorted(mentions.values(), key=lambda m: (not m.at_risk, -len(m.articles), m.title))

    sections = []
    for code, ids in by_region.items():
        region_commitments = [m for m in ordered_mentions if keywords.commitments[m.id].region_code == code]
        region_articles = sorted((digest_articles[i] for i in ids), key=_salience, reverse=True)
        sections.append(
            RegionSection(
                code=code, name=keywords.region_name(code), articles=region_articles[:MAX_ARTICLES_PER_REGION],
                article_count=len(ids), commitments=region_commitments,
                priorities=region_priorities.get(code, Counter()).most_common(),
            )
        )
    sections.sort(key=lambda s: (-s.article_count, s.code))
    covered = set(by_region)
    uncovered = [r.name for r in keywords.regions() if r.code not in covered]
    national = [a for a in digest_articles.values() if not any(a.id in ids for ids in by_region.values())]
    failing = [
        SourceProblem(row["name"], row["last_error"] or "error", row["error_count"] or 0, row["last_error_at_utc"])
        for row in sources
        if row.get("enabled", 1) and (row.get("error_count") or 0) > 0
    ]
    return Digest(
        day=day,
        date_words=spanish_date(day),
        article_count=len(articles),
        outlet_count=len({o for a in digest_articles.values() for o in a.outlets}),
        regions=sections,
        uncovered_regions=uncovered,
        national_articles=sorted(national, key=_salience, reverse=True)[:MAX_ARTICLES_PER_REGION],
        at_risk=[m for m in ordered_mentions if m.at_risk],
        commitments=ordered_mentions,
        priorities=priority_counts.most_common(),
        failing_sources=failing,
        source_count=sum(1 for row in sources if row.get("enabled", 1)),
        region_counts=[(s.name, s.article_count) for s in sections],
    )


def _salience(article: DigestArticle) -> tuple[int, int, int, str]:
    return (int(article.at_risk), len(article.outlets), len(article.commitments) + len(article.priorities), article.published_at_utc or "")


def _place_names(links: list[dict[str, Any]]) -> list[str]:
    communes = [l["name"] for l in links if l["kind"] == "commune"]
    provinces = [f"provincia de {l['name']}" for l in links if l["kind"] == "province" and not _province_implied(l, links)]
    regions = [l["name"] for l in links if l["kind"] == "region"]
    return list(dict.fromkeys(communes + provinces + regions))


def _province_implied(province: dict[str, Any], links: list[dict[str, Any]]) -> bool:
    """A province only shows when named itself, not when implied by one of its communes."""
    province_spans = {(e["start"], e["end"]) for e in province["evidence"]}
    commune_spans = {(e["start"], e["end"]) for l in links if l["kind"] == "commune" for e in l["evidence"]}
    return province_spans <= commune_spans


_environment = Environment(
    loader=PackageLoader("agenda", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(digest: Digest) -> str:
    return _environment.get_template("digest.html.j2").render(d=digest)


def render_text(digest: Digest) -> str:
    return _environment.get_template("digest.txt.j2").render(d=digest)
