"""Extract: fetched bytes -> ``Article``s (clean text, canonical URL, published time in UTC). Pure.

Feeds go through ``feedparser.parse(bytes)``, never a URL: fetching is collect's job. HTML
listing pages go through beautifulsoup4 with the source's CSS selectors; article pages (sources
with ``fulltext: true``) through trafilatura. Also here, because they are decisions about bytes:

- ``refuse_entity_expansion``: feedparser is *not* safe against entity expansion. Its strict
  parser (expat) stops at the amplification limit, but it then falls back to its loose parser,
  which expands every "safe" entity itself: a 130 KB feed with one 100 KB entity used 10,000
  times became a 1 GB summary (40 s, 2.9 GB of memory) in a test on this project. So feeds that
  declare entities of their own are refused before parsing, except one-character ones.
- ``decode_html``: pages that declare the wrong charset (windows-1252 sent as UTF-8 and the
  reverse) are decoded by what the bytes are, with a warning. feedparser already does this for
  feeds (checked by tests).
- ``canonical_url``: one address per article, so the same story from two feeds is stored once.
- ``finish_articles``: every text loses its control characters (a title with ``ESC ] 0 ;`` would
  retitle the analyst's terminal in ``agenda search``), enormous fields are cut at the limits
  below and impossible dates become "no date", each counted as a warning on the source: one bad
  item never loses the others.

Reasons and warnings are written for the source's row and the digest: in Spanish.
"""

from __future__ import annotations

import calendar
import codecs
import html
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

from agenda.common import ALLOWED_SCHEMES, link_text
from agenda.errors import ParseError
from agenda.publication_dates import parse_date, plausible  # tests import parse_date here
from agenda.sources import Source
from agenda.textnorm import nfc, strip_controls

TRACKING_PARAMS = re.compile(
    r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl|ref|cmpid|ocid|amp|igshid|wt_.*|__twitter_impression)$",
    re.I,
)
AMP_QUERY_VALUES = {("outputtype", "amp"), ("output", "amp"), ("format", "amp")}
MAX_HARMLESS_ENTITY_CHARS = 8  # "&#160;" is fine; anything longer could amplify the body
_ENTITY_DECLARATION = re.compile(
    r"""<!ENTITY\s+(%\s+)?([^\s>]+)\s+(SYSTEM|PUBLIC|"[^"]*"|'[^']*')"""
)
_CHARACTER_REFERENCE = re.compile(r"^&#(\d+|x[0-9a-fA-F]+);$")
_XML_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)
# Field limits. A headline is under 300 characters and a long article about 40,000; the caps leave
# room for both and keep title + summary + text (the linker's input) far below spaCy's
# nlp.max_length of 1,000,000 characters, past which it raises E088.
MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 20_000
MAX_TEXT_CHARS = 200_000
NOT_A_FEED = "la dirección no entrega un feed legible"  # the words issue 13 gives readers
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
    guid_key: str | None = None  # the GUID made comparable across feeds (see ``guid_key``)

    def link_text(self) -> str:
        """What the linker reads: title, summary and text, blank-line separated."""
        return link_text(self.title, self.summary, self.text)


@dataclass
class Extraction:
    articles: list[Article] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    title: str = ""  # the feed's own title (``agenda sources add`` names a new source with it)
    kind: str = ""  # "rss" or "atom" for feeds


def canonical_url(url: str, base: str | None = None) -> str:
    """One address per article: no fragment, tracking parameters or AMP variant; lowercase
    scheme and host; no trailing slash; query parameters sorted.

    >>> canonical_url("HTTPS://Diario.cl/nota/?utm_source=rss&id=3#top")
    'https://diario.cl/nota?id=3'
    >>> canonical_url("https://diario.cl/2026/11/nota/amp/")
    'https://diario.cl/2026/11/nota'
    """
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(k) and (k.lower(), v.lower()) not in AMP_QUERY_VALUES
    ]
    path = _without_amp(parts.path)
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    netloc = parts.netloc.lower()
    if (
        parts.scheme == "https"
        and netloc.endswith(":443")
        or parts.scheme == "http"
        and netloc.endswith(":80")
    ):
        netloc = netloc.rsplit(":", 1)[0]
    if netloc.startswith("amp."):
        netloc = netloc[len("amp.") :]
    return urlunsplit((parts.scheme.lower(), netloc, path or "/", urlencode(sorted(query)), ""))


def guid_key(guid: str | None, feed_url: str) -> str | None:
    """A GUID that can be compared across feeds: an address is canonicalised, a URN or tag: URI
    kept; a bare id ("12345") is only unique within its site, so it is prefixed with the host.

    >>> guid_key("https://Diario.cl/?p=12&utm_source=rss", "https://diario.cl/feed")
    'https://diario.cl/?p=12'
    >>> guid_key("12345", "https://diario.cl/feed")
    'diario.cl#12345'
    """
    if not guid or not guid.strip():
        return None
    guid = guid.strip()
    if guid.lower().startswith(("http://", "https://")):
        key = canonical_url(guid)
        parts = urlsplit(key)
        return (
            None if parts.path == "/" and not parts.query else key
        )  # "every item is the homepage": no id at all
    if re.match(r"^(urn|tag):", guid, re.I):
        return guid
    return f"{urlsplit(feed_url).netloc.lower()}#{guid}"


def _without_amp(path: str) -> str:
    """'/amp/nota', '/nota/amp', '/nota.amp.html' and '/nota.amp' are the page '/nota(.html)'."""
    segments = path.split("/")
    trailing_slash = path.endswith("/") and len(segments) > 1
    if trailing_slash:
        segments = segments[:-1]
    if len(segments) > 2 and segments[-1].lower() == "amp":
        segments = segments[:-1]
    if len(segments) > 2 and segments[1].lower() == "amp":
        segments = [segments[0], *segments[2:]]
    last = segments[-1]
    if last.lower().endswith(".amp"):
        segments[-1] = last[: -len(".amp")]
    elif ".amp." in last.lower():
        index = last.lower().index(".amp.")
        segments[-1] = last[:index] + last[index + len(".amp") :]
    return "/".join(segments) + ("/" if trailing_slash else "")


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
    lines = [_SPACES.sub(" ", strip_controls(line)).strip() for line in text.splitlines()]
    paragraphs = "\n".join(line for line in lines if line)
    return nfc(paragraphs)


def one_line(text: str) -> str:
    return " ".join(clean_text(text).split())


# -- bytes we do not trust ------------------------------------------------------------------
def _markup_view(body: bytes) -> str:
    """The body as text good enough to look for markup: BOM or NUL pattern, else latin-1."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace")
    head = body[:4]
    for pattern, encoding in (
        (b"\0\0\0<", "utf-32-be"),
        (b"<\0\0\0", "utf-32-le"),
        (b"\0<\0", "utf-16-be"),
        (b"<\0", "utf-16-le"),
    ):
        if head.startswith(pattern):
            return body.decode(encoding, errors="replace")
    return body.decode("latin-1")


def refuse_entity_expansion(source_id: str, body: bytes) -> None:
    """Raise ``ParseError`` if the document declares entities that could expand or be fetched.

    Allowed: short literal entities and one-character references (``<!ENTITY nbsp "&#160;">``).
    """
    text = _markup_view(body)
    if "<!ENTITY" not in text:
        return
    for match in _ENTITY_DECLARATION.finditer(text):
        parameter, name, value = match.groups()
        if value in ("SYSTEM", "PUBLIC"):
            reason = f"feed rechazado: declara la entidad XML externa '{name}' (nunca se descarga)"
            raise ParseError(source_id, reason)
        value = value[1:-1]
        harmless = _CHARACTER_REFERENCE.match(value) or (
            len(value) <= MAX_HARMLESS_ENTITY_CHARS and not any(c in value for c in "&%<")
        )
        if parameter or not harmless:
            reason = (
                f"feed rechazado: declara una entidad XML propia ('{name}'),"
                " que podría multiplicarse"
            )
            raise ParseError(source_id, reason)
    if text.count("<!ENTITY") != len(_ENTITY_DECLARATION.findall(text)):
        raise ParseError(source_id, "feed rechazado: declara una entidad XML ilegible")


def charset_of(content_type: str | None) -> str | None:
    """'text/html; charset="ISO-8859-1"' -> 'iso8859-1' (Python's codec name), else None."""
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", content_type, re.I)
    return _codec(match.group(1)) if match else None


def _codec(label: str | bytes | None) -> str | None:
    if isinstance(label, bytes):
        label = label.decode("ascii", errors="replace")
    if not label:
        return None
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


_SINGLE_BYTE = {"cp1252", "iso8859-1", "iso8859-15", "ascii", "latin-1"}


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, list[str]]:
    """Decode a web page by what its bytes are, trusting declarations only as far as they hold.

    Order: BOM; valid UTF-8 (a page that decodes as UTF-8 with accents in it is UTF-8, whatever
    it declares); the declared charset (HTTP header, then <meta>) if the bytes fit it;
    windows-1252 (what "UTF-8" pages that are not UTF-8 almost always are). Returns the text and
    warnings when a declaration was wrong.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, errors="replace"), []
    meta = _META_CHARSET.search(body[:4096])
    declared = charset_of(content_type) or _codec(meta.group(1) if meta else None)
    if declared and declared.startswith(("utf-16", "utf-32")):
        return body.decode(declared, errors="replace"), []
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        warnings_ = []
        if declared in _SINGLE_BYTE and not body.isascii():
            warnings_.append(f"la página declara {declared} pero está en UTF-8; se leyó así")
        return text, warnings_
    if declared and declared != "utf-8":
        try:
            return body.decode(declared), []
        except UnicodeDecodeError:
            pass
    what = f"declara {declared}" if declared else "no declara codificación"
    warning = f"la página {what} y no está en UTF-8; se leyó como windows-1252"
    return body.decode("cp1252", errors="replace"), [warning]


# -- feeds and listing pages -----------------------------------------------------------------
def extract(
    source: Source,
    body: bytes,
    base_url: str | None = None,
    content_type: str | None = None,
    now: datetime | None = None,
) -> Extraction:
    """Turn a fetched body into articles, by the source's kind. ``now`` anchors relative listing
    dates ("Hace 3 horas"); every article is finished (``finish_articles``) before it returns."""
    if source.kind == "html":
        result = extract_html_listing(source, body, base_url or source.url, content_type, now)
    else:
        result = extract_feed(source, body, base_url or source.url, content_type)
    finish_articles(result)
    return result


def finish_articles(result: Extraction) -> None:
    """Control characters out, enormous fields cut, impossible dates dropped; each repair is a
    warning on the source. Runs on every extraction, whatever the source's kind."""
    for article in result.articles:
        article.guid = strip_controls(article.guid) if article.guid else article.guid
        for name, limit in _FIELD_LIMITS:
            value = strip_controls(getattr(article, name))
            if len(value) > limit:
                result.warnings.append(_cut(name, len(value), limit))
                value = value[:limit]
            setattr(article, name, value)
        moment = article.published_at_utc
        if moment is not None and not plausible(moment):
            title = article.title[:60]
            result.warnings.append(f"fecha imposible ({moment.year}) en «{title}»; queda sin fecha")
            article.published_at_utc = None


_FIELD_LIMITS = (
    ("title", MAX_TITLE_CHARS),
    ("summary", MAX_SUMMARY_CHARS),
    ("text", MAX_TEXT_CHARS),
)
_FIELD_WORDS = {"title": "título", "summary": "resumen", "text": "texto"}


def _cut(name: str, length: int, limit: int) -> str:
    """'título de 1.000.000 caracteres recortado a 1.000' (Chilean thousands)."""
    return f"{_FIELD_WORDS[name]} de {length:,} caracteres recortado a {limit:,}".replace(",", ".")


def extract_feed(
    source: Source, body: bytes, base_url: str, content_type: str | None = None
) -> Extraction:
    refuse_entity_expansion(source.id, body)
    # bytes plus the HTTP Content-Type: feedparser weighs BOM, header and XML declaration itself
    headers = {"content-type": content_type} if content_type else None
    parsed = feedparser.parse(body, response_headers=headers)
    result = Extraction(
        title=one_line(parsed.feed.get("title", "")),
        kind="atom" if str(parsed.version).startswith("atom") else "rss",
    )
    if not parsed.version and not parsed.entries:
        if _looks_like_html(body):
            raise ParseError(source.id, f"{NOT_A_FEED}: devolvió una página web (HTML)")
        if parsed.bozo and not isinstance(parsed.bozo_exception, _ENCODING_NOTES):
            where = _xml_line(parsed.bozo_exception)
            raise ParseError(source.id, f"{NOT_A_FEED} (XML mal formado{where})")
        raise ParseError(source.id, f"{NOT_A_FEED} (no hay RSS ni Atom en la respuesta)")
    if parsed.bozo:
        if isinstance(parsed.bozo_exception, _ENCODING_NOTES):
            encoding = parsed.get("encoding", "?")
            result.warnings.append(f"codificación mal declarada o ausente; se leyó como {encoding}")
        else:
            where = _xml_line(parsed.bozo_exception)
            result.warnings.append(f"feed mal formado{where}; se guardó lo que se pudo leer")
    for entry in parsed.entries:
        link = entry.get("link") or ""
        title = one_line(entry.get("title", ""))
        if not link or not title:
            result.warnings.append(
                f"se omitió una noticia sin {'enlace' if not link else 'título'}"
            )
            continue
        # javascript:, data:, file: links are never articles
        if urlsplit(urljoin(base_url, link)).scheme not in ALLOWED_SCHEMES:
            result.warnings.append(_not_web(link))
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
                guid_key=guid_key(entry.get("id"), base_url),
            )
        )
    _drop_repeated_guids(result.articles)
    return result


def _drop_repeated_guids(articles: list[Article]) -> None:
    """A GUID shared by several items of one feed identifies nothing: do not merge by it."""
    seen: dict[str, int] = {}
    for article in articles:
        if article.guid_key:
            seen[article.guid_key] = seen.get(article.guid_key, 0) + 1
    for article in articles:
        if article.guid_key and seen[article.guid_key] > 1:
            article.guid_key = None


_ENCODING_NOTES = (feedparser.CharacterEncodingOverride, feedparser.CharacterEncodingUnknown)


def _not_web(link: str) -> str:
    return f"se omitió una noticia con un enlace que no es web ({strip_controls(link[:60])})"


def _xml_line(exc: BaseException | None) -> str:
    """', línea 12' from an expat error (its message is English; the line number is not)."""
    line = getattr(exc, "getLineNumber", lambda: None)()
    return f", línea {line}" if isinstance(line, int) and line > 0 else ""


def _looks_like_html(body: bytes) -> bool:
    head = _markup_view(body[:2048]).lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or "<html" in head[:512]


def _entry_time(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(
                    calendar.timegm(value), tz=UTC
                )  # feedparser gives UTC
            except (OverflowError, ValueError, OSError):
                continue  # a year 99999 in someone's feed
    return None


def extract_html_listing(
    source: Source,
    body: bytes,
    base_url: str,
    content_type: str | None = None,
    now: datetime | None = None,
) -> Extraction:
    assert source.selectors is not None  # validated when sources.yaml was loaded
    selectors = source.selectors
    text, decode_warnings = decode_html(body, content_type)
    soup = BeautifulSoup(text, "html.parser")
    items = soup.select(selectors.item)
    if not items:
        reason = f"el selector de noticias '{selectors.item}' no encontró nada (¿cambió el sitio?)"
        raise ParseError(source.id, reason)
    result = Extraction(warnings=decode_warnings)
    for item in items:
        link_tag = item.select_one(selectors.link)
        title_tag = item.select_one(selectors.title)
        if link_tag is None or not link_tag.get("href") or title_tag is None:
            result.warnings.append(
                f"se omitió una noticia sin enlace '{selectors.link}' o título '{selectors.title}'"
            )
            continue
        href = str(link_tag["href"]).strip()
        if urlsplit(urljoin(base_url, href)).scheme.lower() not in ALLOWED_SCHEMES:
            result.warnings.append(_not_web(href))
            continue
        published = None
        if selectors.date:
            date_tag = item.select_one(selectors.date)
            if date_tag is not None:
                published = parse_date(str(date_tag.get("datetime") or date_tag.get_text(" ")), now)
        summary = ""
        if selectors.summary:
            summary_tag = item.select_one(selectors.summary)
            summary = clean_text(summary_tag.get_text("\n")) if summary_tag is not None else ""
        result.articles.append(
            Article(
                url=canonical_url(href, base_url),
                title=one_line(title_tag.get_text(" ")),
                summary=summary,
                source_id=source.id,
                outlet=source.name,
                source_region=source.region_code,
                published_at_utc=published,
            )
        )
    if not result.articles:
        reason = f"hay noticias '{selectors.item}', pero ninguna con enlace web y título"
        raise ParseError(source.id, reason)
    return result


# -- article pages (fulltext: true) and homepages (sources add) -------------------------------
@dataclass
class PageText:
    text: str
    canonical_url: str | None  # from <link rel="canonical">, when it names a real article page
    warnings: list[str] = field(default_factory=list)


def extract_page(body: bytes, page_url: str, content_type: str | None = None) -> PageText:
    """The main text of an article page (trafilatura) and its ``rel=canonical`` address.

    trafilatura is imported here, not at the top: it is only needed for fulltext sources.
    """
    import lxml.html
    import trafilatura

    text, page_warnings = decode_html(body, content_type)
    try:
        tree = lxml.html.document_fromstring(
            text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8")
        )
    except (ValueError, lxml.etree.ParserError):
        return PageText("", None, [*page_warnings, "página de la noticia ilegible"])
    canonical = None
    for href in tree.xpath(
        "//link[contains(concat(' ', normalize-space(translate(@rel, 'CANONICAL', 'canonical')),"
        " ' '), ' canonical ')]/@href"
    ):
        candidate = canonical_url(str(href), page_url)
        parts = urlsplit(candidate)
        if parts.scheme in ALLOWED_SCHEMES and parts.path not in ("", "/"):
            canonical = candidate  # a canonical pointing at the homepage is a site bug: ignore it
        break
    main_text = (
        trafilatura.extract(
            tree, url=page_url, favor_precision=True, include_comments=False, include_tables=False
        )
        or ""
    )
    text = strip_controls(nfc(main_text.strip()))
    if len(text) > MAX_TEXT_CHARS:
        page_warnings.append(_cut("text", len(text), MAX_TEXT_CHARS))
        text = text[:MAX_TEXT_CHARS]
    return PageText(text, canonical, page_warnings)


@dataclass(frozen=True)
class FeedLink:
    url: str
    title: str
    type: str


def discover_feeds(body: bytes, page_url: str, content_type: str | None = None) -> list[FeedLink]:
    """The feeds a homepage announces with ``<link rel="alternate" type="application/rss+xml">``."""
    text, _ = decode_html(body, content_type)
    soup = BeautifulSoup(text, "html.parser")
    found: list[FeedLink] = []
    for tag in soup.find_all("link", href=True):
        rel: list[str] | str = tag.get("rel") or []
        rels = {r.lower() for r in (rel if isinstance(rel, list) else str(rel).split())}
        kind = str(tag.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rels and kind in FEED_TYPES:
            url = urljoin(page_url, str(tag["href"]).strip())
            if urlsplit(url).scheme in ALLOWED_SCHEMES and url not in {f.url for f in found}:
                found.append(FeedLink(url, one_line(str(tag.get("title") or "")), kind))
    return found
