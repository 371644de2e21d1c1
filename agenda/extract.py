"""Extract: fetched bytes -> ``Article``s (clean text, canonical URL, published time in UTC). Pure.

Feeds go through ``feedparser.parse(bytes)``, never a URL: fetching is collect's job. HTML
listing pages go through beautifulsoup4 with the source's CSS selectors.
"""

from __future__ import annotations

import calendar
import html
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import feedparser
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

from agenda.errors import ParseError
from agenda.sources import Source
from agenda.textnorm import nfc

SANTIAGO = ZoneInfo("America/Santiago")
TRACKING_PARAMS = re.compile(r"^(utm_.*|fbclid|gclid|mc_cid|mc_eid|_ga|ref|cmpid|ocid)$", re.I)
_SPANISH_MONTHS = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}
_SPANISH_DATE = re.compile(r"(\d{1,2})\s+de\s+([a-záéíóú]+)\s+(?:de\s+|del\s+)?(\d{4})(?:[^\d]+(\d{1,2}):(\d{2}))?", re.I)
_NUMERIC_DATE = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})(?:[^\d]+(\d{1,2}):(\d{2}))?")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")

warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)


@dataclass
class Article:
    url: str  # canonical
    title: str
    summary: str
    source_id: str
    outlet: str
    source_region: str
    published_at_utc: datetime | None
    guid: str | None = None
    text: str = ""

    def link_text(self) -> str:
        """What the linker reads: title, summary and text, blank-line separated."""
        return "\n\n".join(part for part in (self.title, self.summary, self.text) if part)


@dataclass
class Extraction:
    articles: list[Article] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def canonical_url(url: str, base: str | None = None) -> str:
    """Drop fragments and tracking parameters, lowercase scheme and host, no trailing slash.

    >>> canonical_url("HTTPS://Diario.cl/nota/?utm_source=rss&id=3#top")
    'https://diario.cl/nota?id=3'
    """
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    path = parts.path
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    netloc = parts.netloc.lower()
    if parts.scheme == "https" and netloc.endswith(":443") or parts.scheme == "http" and netloc.endswith(":80"):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((parts.scheme.lower(), netloc, path or "/", urlencode(sorted(query)), ""))


def clean_text(markup: str) -> str:
    """HTML fragment or escaped text -> plain text with single spaces and paragraph breaks."""
    if not markup:
        return ""
    if "<" in markup and ">" in markup:
        soup = BeautifulSoup(markup, "html.parser")
        for tag in soup(["script", "style"]):
            tag.decompose()
        text = soup.get_text("\n")
    else:
        text = html.unescape(markup)
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    paragraphs = "\n".join(line for line in lines if line)
    return nfc(paragraphs)


def one_line(text: str) -> str:
    return " ".join(clean_text(text).split())


def extract(source: Source, body: bytes, base_url: str | None = None) -> Extraction:
    """Turn a fetched body into articles, by the source's kind."""
    if source.kind == "html":
        return extract_html_listing(source, body, base_url or source.url)
    return extract_feed(source, body, base_url or source.url)


def extract_feed(source: Source, body: bytes, base_url: str) -> Extraction:
    parsed = feedparser.parse(body)  # bytes: feedparser sniffs the encoding itself
    result = Extraction()
    if not parsed.entries:
        if parsed.bozo:
            reason = getattr(parsed.bozo_exception, "getMessage", lambda: str(parsed.bozo_exception))()
            raise ParseError(source.id, f"not a readable feed ({reason})")
        if not parsed.version:
            raise ParseError(source.id, "not a feed (no RSS or Atom found in the response)")
        return result  # a valid, empty feed
    if parsed.bozo:
        result.warnings.append(f"feed is malformed, kept what could be recovered ({parsed.bozo_exception})")
    for entry in parsed.entries:
        link = entry.get("link") or ""
        title = one_line(entry.get("title", ""))
        if not link or not title:
            result.warnings.append(f"entry without {'link' if not link else 'title'} skipped")
            continue
        summary = clean_text(entry.get("summary", "") or entry.get("description", ""))
        content = ""
        if entry.get("content"):
            content = clean_text(entry["content"][0].get("value", ""))
            if content == summary:
                content = ""
        result.articles.append(
            Article(
                url=canonical_url(link, base_url),
                title=title,
                summary=summary,
                text=content,
                source_id=source.id,
                outlet=source.name,
                source_region=source.region_code,
                published_at_utc=_entry_time(entry),
                guid=entry.get("id") or None,
            )
        )
    return result


def _entry_time(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)  # feedparser gives UTC
    return None


def extract_html_listing(source: Source, body: bytes, base_url: str) -> Extraction:
    assert source.selectors is not None  # validated when sources.yaml was loaded
    selectors = source.selectors
    soup = BeautifulSoup(body, "html.parser")
    items = soup.select(selectors.item)
    if not items:
        raise ParseError(source.id, f"selector item '{selectors.item}' matched nothing (did the site change?)")
    result = Extraction()
    for item in items:
        link_tag = item.select_one(selectors.link)
        title_tag = item.select_one(selectors.title)
        if link_tag is None or not link_tag.get("href") or title_tag is None:
            result.warnings.append(f"an item without link '{selectors.link}' or title '{selectors.title}' was skipped")
            continue
        published = None
        if selectors.date:
            date_tag = item.select_one(selectors.date)
            if date_tag is not None:
                published = parse_date(str(date_tag.get("datetime") or date_tag.get_text(" ")))
        summary = ""
        if selectors.summary:
            summary_tag = item.select_one(selectors.summary)
            summary = clean_text(summary_tag.get_text("\n")) if summary_tag is not None else ""
        result.articles.append(
            Article(
                url=canonical_url(str(link_tag["href"]), base_url),
                title=one_line(title_tag.get_text(" ")),
                summary=summary,
                source_id=source.id,
                outlet=source.name,
                source_region=source.region_code,
                published_at_utc=published,
            )
        )
    if not result.articles:
        raise ParseError(source.id, f"items matched '{selectors.item}' but none had a link and a title")
    return result


def parse_date(value: str) -> datetime | None:
    """ISO 8601, '24/11/2026 09:15' or '24 de noviembre de 2026'; naive times are Chile's.

    >>> parse_date("2026-11-24T09:15:00-03:00").isoformat()
    '2026-11-24T12:15:00+00:00'
    """
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        match = _SPANISH_DATE.search(value)
        if match and match.group(2).lower() in _SPANISH_MONTHS:
            day, month, year = int(match.group(1)), _SPANISH_MONTHS[match.group(2).lower()], int(match.group(3))
        else:
            match = _NUMERIC_DATE.search(value)
            if not match:
                return None
            day, month, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        hour = int(match.group(4) or 12)  # a bare date: noon keeps it on the same Chilean day
        minute = int(match.group(5) or 0)
        try:
            parsed = datetime(year, month, day, hour, minute)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SANTIAGO)
    return parsed.astimezone(timezone.utc)
