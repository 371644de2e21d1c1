"""A loopback HTTP server that behaves like every broken regional outlet at once (tests, bench).

Good routes (all with ETag and Last-Modified; a conditional GET gets 304)::

    /feed/NAME.xml[?items=N&shared=URL]  RSS with N items unique to NAME (links to /article/...);
                                         ``shared`` adds one item whose link is URL (same story,
                                         two feeds)
    /article/NAME/K.html                 an article page: menus, main text, footer, rel=canonical
    /home/NAME/                          a homepage announcing /feed/NAME.xml and a comments feed
    /listing/NAME.html                   an HTML listing page (article.nota, a.titulo, time,
                                         p.bajada)
    /files/PATH                          a file under ``files_root``, with the HTTP headers its
                                         ``Header:`` comment lines ask for (feedparser's corpus)

Fault routes, each what a real outlet has done to a collector::

    /fault/timeout          answers after ``slow_seconds``
    /fault/drip             a 200 at once, then one byte every ``drip_seconds`` (a slow drip)
    /fault/500  /fault/404  /fault/garbage
    /fault/503              503 with Retry-After: 1          /fault/429-long  429, Retry-After: 7200
    /fault/redirect-loop    a → b → a …
    /fault/redirect-chain/N N hops, then a feed
    /fault/redirect-file    302 to file:///etc/passwd          /fault/redirect-ftp  302 to ftp://
    /fault/huge             50 MB with Content-Length          /fault/huge-chunked  50 MB, no length
    /fault/gzip-bomb        50 KB of gzip that inflates to 50 MB
    /fault/billion-laughs   nested entities
    /fault/quadratic-blowup one big entity used many times
    /fault/external-entity  an entity that points at file:///etc/passwd
    /fault/html             a web page where a feed was expected
    /fault/cp1252-as-utf8   windows-1252 bytes declared UTF-8     /fault/utf8-as-cp1252  the reverse
    /fault/bom              UTF-8 with a byte-order mark       /fault/malformed  broken after item 2
    /fault/empty            200 with an empty body            /fault/redirect-to?to=URL  302 to URL
    /fault/flaky/NAME       503 for the first ``flaky_failures`` requests of NAME, then a feed
    /fault/switch/NAME      503 while NAME is in ``server.broken``, else a feed (backoff tests)

Every response waits ``latency_seconds`` first (0 by default).

    with serve_faults() as server:
        print(server.base_url)   # http://127.0.0.1:PORT
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

HUGE_BYTES = 50 * 1024 * 1024
LAST_MODIFIED = formatdate(1764000000, usegmt=True)
RETRY_AFTER_SHORT = 1
RETRY_AFTER_LONG = 7200
STREAM_CHUNK = 64 * 1024
ITEM_TOPICS = (
    (
        "Avanza el Hospital de Quilpué",
        "Obras del hospital en la Región de Valparaíso superan el 80 por ciento.",
    ),
    (
        "Temporal en Ñuble deja cortes de luz",
        "Vecinos de Chillán y San Carlos sin suministro tras el sistema frontal.",
    ),
    (
        "Puente en Temuco reabre",
        "La Araucanía recupera la conexión del puente tras meses de reparación.",
    ),
    ("Plan de vivienda en Coyhaique", "Aysén suma 300 viviendas sociales al plan regional."),
)


@dataclass
class FaultStats:
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    bytes_sent: int = 0
    bytes_by_path: Counter[str] = field(default_factory=Counter)
    user_agents: set[str] = field(default_factory=set)
    starts: list[tuple[str, float]] = field(
        default_factory=list
    )  # (path, time.monotonic()) per request
    in_flight: int = 0
    peak_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self, path: str, user_agent: str | None) -> None:
        with self.lock:
            self.requests[path] += (
                1  # counted on arrival: a client may read the answer before we log it
            )
            self.starts.append((path, time.monotonic()))
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            if user_agent:
                self.user_agents.add(user_agent)

    def end(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def record(self, path: str, status: int | None = None, size: int = 0) -> None:
        with self.lock:
            if status is not None:
                self.statuses[status] += 1
            self.bytes_sent += size
            self.bytes_by_path[path] += size


def feed_xml(base_url: str, name: str, items: int = 3, shared: str | None = None) -> bytes:
    """A good RSS 2.0 feed whose items are unique to ``name`` (and one ``shared`` link if given)."""
    entries = []
    for k in range(1, items + 1):
        title, summary = ITEM_TOPICS[(k - 1) % len(ITEM_TOPICS)]
        entries.append(
            f"<item><title>{title} ({name} {k})</title>"
            f"<link>{base_url}/article/{name}/{k}.html</link>"
            f'<guid isPermaLink="false">{name}-{k}</guid>'
            f"<pubDate>Tue, 24 Nov 2026 1{k % 10}:00:00 -0300</pubDate>"
            f"<description>{summary}</description></item>"
        )
    if shared:
        entries.append(
            "<item><title>Gobierno regional anuncia plan hídrico</title>"
            f"<link>{_xml_escape(shared)}</link>"
            "<pubDate>Tue, 24 Nov 2026 09:00:00 -0300</pubDate>"
            "<description>Plan para Coquimbo y Atacama.</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Diario {name}</title><link>{base_url}/home/{name}/</link>"
        "<description>Noticias</description>" + "".join(entries) + "</channel></rss>\n"
    ).encode("utf-8")


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def article_html(base_url: str, name: str, k: int) -> bytes:
    title, summary = ITEM_TOPICS[(k - 1) % len(ITEM_TOPICS)]
    canonical = f"{base_url}/article/{name}/{k}.html"
    body = (
        f"<p>{summary} El seremi de Obras Públicas detalló el "
        "calendario de trabajos y los plazos comprometidos "
        "para el primer semestre, con inversión del gobierno regional.</p>"
        "<p>La comunidad pidió mesas de trabajo y transparencia "
        "sobre los atrasos. La empresa contratista aseguró "
        f"que la obra {name}-{k} cumple el cronograma ajustado y que habrá informes mensuales.</p>"
    )
    return (
        f'<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="canonical" href="{canonical}"></head><body>'
        '<nav><a href="/">Inicio</a> | <a href="/regiones">Regiones</a> '
        '| <a href="/deportes">Deportes</a></nav>'
        f"<article><h1>{title}</h1>{body}</article>"
        "<aside>Lo más leído: Resultados del fútbol; Horóscopo de hoy</aside>"
        "<footer>© Diario. Todos los derechos reservados. "
        "Suscríbase al boletín.</footer></body></html>"
    ).encode()


def home_html(base_url: str, name: str) -> bytes:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Diario {name}</title>'
        '<link rel="alternate" type="application/rss+xml" '
        f'title="Diario {name} » Feed" href="/feed/{name}.xml">'
        '<link rel="alternate" type="application/rss+xml" '
        f'title="Diario {name} » Comentarios" href="/fault/404">'
        f"</head><body><h1>Diario {name}</h1></body></html>"
    ).encode()


def listing_html(base_url: str, name: str) -> bytes:
    items = "".join(
        f'<article class="nota"><a class="titulo" href="/article/{name}/{k}.html">{title}</a>'
        f'<time datetime="2026-11-24T1{k}:00:00-03:00">24 nov</time>'
        f'<p class="bajada">{summary}</p></article>'
        for k, (title, summary) in enumerate(ITEM_TOPICS, start=1)
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{items}</body></html>'
    ).encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
    b"<link>https://x.cl/a</link></item></channel></rss>\n"
)


def quadratic_blowup(entity_bytes: int = 100_000, references: int = 10_000) -> bytes:
    """One big entity used many times: feedparser's loose parser expands it all (see extract)."""
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "' + b"a" * entity_bytes + b'">\n]>\n'
        b'<rss version="2.0"><channel><title>x</title><item>'
        b"<title>t</title><link>https://x.cl/q</link><description>"
        + b"&a;" * references
        + b"</description></item></channel></rss>\n"
    )


EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY secret SYSTEM "file:///etc/passwd">\n]>\n'
    b'<rss version="2.0"><channel><title>x</title><item><title>&secret;</title>'
    b"<link>https://x.cl/x</link></item></channel></rss>\n"
)
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Inicio</title></head><body>"
    b"<h1>Bienvenidos</h1><p>Sitio en mantenimiento</p></body></html>"
)
GARBAGE = bytes(range(256)) * 8
ACCENTED_ITEM = "Temporal en Ñuble y Biobío: “alerta” en Curicó"
MALFORMED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Roto</title>'
    b"<item><title>Primera nota en Talca</title><link>https://roto.cl/1</link></item>"
    b"<item><title>Segunda nota en Linares</title><link>https://roto.cl/2</link></item>"
    b"<item><title>Tercera <b>sin cerrar</title><link>https://roto.cl/3</item></channel>"
)


def _encoded_feed(item_title: str, declared: str, actual: str, bom: bytes = b"") -> bytes:
    declaration = (
        f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    )
    text = (
        f'{declaration}<rss version="2.0"><channel>'
        f"<title>x</title><item><title>{item_title}</title>"
        f"<link>https://encoding.cl/{declared or 'none'}-{actual}</link></item></channel></rss>"
    )
    return bom + text.encode(actual)


@lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    return gzip.compress(b"\0" * HUGE_BYTES, compresslevel=9)


_HEADER_LINE = re.compile(r"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.M)


def corpus_headers(body: bytes) -> dict[str, str]:
    """The ``Header:`` lines of a feedparser corpus file (any encoding: NULs are dropped)."""
    head = body[:2000].replace(b"\0", b"").decode("latin-1")
    return {name: value for name, value in _HEADER_LINE.findall(head)}


class _Handler(BaseHTTPRequestHandler):
    server: FaultHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{self.headers.get('Host') or f'{host!s}:{port}'}"

    def do_GET(self) -> None:  # http.server's hook name
        parts = urlsplit(self.path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        self.server.stats.begin(path, self.headers.get("User-Agent"))
        try:
            if self.server.latency_seconds:
                time.sleep(self.server.latency_seconds)
            self._route(path, query)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up on purpose (size cap, timeout): nothing to do
        finally:
            self.server.stats.end()

    def _route(self, path: str, query: dict[str, list[str]]) -> None:
        if match := re.fullmatch(r"/feed/([\w.-]+)\.xml", path):
            items = int(query.get("items", ["3"])[0])
            shared = query.get("shared", [None])[0]
            return self._cacheable(
                path,
                feed_xml(self.base, match.group(1), items, shared),
                "application/rss+xml; charset=utf-8",
            )
        if match := re.fullmatch(r"/article/([\w.-]+)/(\d+)\.html", path):
            return self._cacheable(
                path,
                article_html(self.base, match.group(1), int(match.group(2))),
                "text/html; charset=utf-8",
            )
        if match := re.fullmatch(r"/home/([\w.-]+)/?", path):
            return self._send(
                path, 200, home_html(self.base, match.group(1)), "text/html; charset=utf-8"
            )
        if match := re.fullmatch(r"/listing/([\w.-]+)\.html", path):
            return self._cacheable(
                path, listing_html(self.base, match.group(1)), "text/html; charset=utf-8"
            )
        if path.startswith("/files/") and self.server.files_root is not None:
            return self._file(path)
        if path == "/fault/redirect-to":  # a redirect to any address (private-network guard)
            return self._redirect(path, query["to"][0])
        if path.startswith("/fault/"):
            return self._fault(path)
        return self._send(path, 404, b"not found", "text/plain")

    def _file(self, path: str) -> None:
        root = self.server.files_root
        assert root is not None
        file = (root / path[len("/files/") :]).resolve()
        if root not in file.parents or not file.is_file():
            return self._send(path, 404, b"not found", "text/plain")
        body = file.read_bytes()
        headers = corpus_headers(body)
        content_type = next(
            (v for k, v in headers.items() if k.lower() == "content-type"), "application/xml"
        )
        extra = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        return self._send(path, 200, body, content_type, extra)

    def _fault(self, path: str) -> None:  # one branch per fault, read top to bottom
        name = path[len("/fault/") :]
        good = feed_xml(self.base, re.sub(r"\W", "-", name))
        if name == "timeout":
            time.sleep(self.server.slow_seconds)
            return self._send(path, 200, good, "application/rss+xml")
        if name == "drip":
            return self._drip(path)
        if name == "500":
            return self._send(path, 500, b"Internal Server Error", "text/plain")
        if name == "404":
            return self._send(path, 404, b"Not Found", "text/plain")
        if name == "503":
            return self._send(
                path, 503, b"busy", "text/plain", {"Retry-After": str(RETRY_AFTER_SHORT)}
            )
        if name == "429-long":
            return self._send(
                path, 429, b"slow down", "text/plain", {"Retry-After": str(RETRY_AFTER_LONG)}
            )
        if name == "redirect-loop":
            return self._redirect(path, "/fault/redirect-loop-b")
        if name == "redirect-loop-b":
            return self._redirect(path, "/fault/redirect-loop")
        if match := re.fullmatch(r"redirect-chain/(\d+)", name):
            hops = int(match.group(1))
            return (
                self._redirect(path, f"/fault/redirect-chain/{hops - 1}")
                if hops > 0
                else self._send(path, 200, good, "application/rss+xml")
            )
        if name == "redirect-file":
            return self._redirect(path, "file:///etc/passwd")
        if name == "redirect-ftp":
            return self._redirect(path, "ftp://127.0.0.1/feed.xml")
        if name == "huge":
            return self._stream(path, HUGE_BYTES, chunked=False)
        if name == "huge-chunked":
            return self._stream(path, HUGE_BYTES, chunked=True)
        if name == "gzip-bomb":
            return self._send(
                path, 200, gzip_bomb(), "application/rss+xml", {"Content-Encoding": "gzip"}
            )
        if name == "billion-laughs":
            return self._send(path, 200, BILLION_LAUGHS, "application/rss+xml")
        if name == "quadratic-blowup":
            return self._send(path, 200, quadratic_blowup(), "application/rss+xml")
        if name == "external-entity":
            return self._send(path, 200, EXTERNAL_ENTITY, "application/rss+xml")
        if name == "html":
            return self._send(path, 200, HTML_PAGE, "text/html; charset=utf-8")
        if name == "empty":
            return self._send(path, 200, b"", "application/rss+xml")
        if name == "garbage":
            return self._send(path, 200, GARBAGE, "application/rss+xml")
        if name == "cp1252-as-utf8":
            return self._send(
                path,
                200,
                _encoded_feed(ACCENTED_ITEM, "utf-8", "cp1252"),
                "application/rss+xml; charset=utf-8",
            )
        if name == "utf8-as-cp1252":
            return self._send(
                path,
                200,
                _encoded_feed(ACCENTED_ITEM, "windows-1252", "utf-8"),
                "application/rss+xml; charset=windows-1252",
            )
        if name == "bom":
            return self._send(
                path,
                200,
                _encoded_feed(ACCENTED_ITEM, "", "utf-8", b"\xef\xbb\xbf"),
                "application/rss+xml",
            )
        if name == "malformed":
            return self._send(path, 200, MALFORMED, "application/rss+xml")
        if match := re.fullmatch(r"flaky/([\w-]+)", name):
            with self.server.stats.lock:
                self.server.flaky_seen[match.group(1)] += 1
                failing = self.server.flaky_seen[match.group(1)] <= self.server.flaky_failures
            if failing:
                return self._send(path, 503, b"busy", "text/plain")
            return self._send(path, 200, feed_xml(self.base, match.group(1)), "application/rss+xml")
        if match := re.fullmatch(r"switch/([\w-]+)", name):
            if match.group(1) in self.server.broken:
                return self._send(path, 503, b"down", "text/plain")
            return self._cacheable(path, feed_xml(self.base, match.group(1)), "application/rss+xml")
        return self._send(path, 404, b"no such fault", "text/plain")

    def _cacheable(self, path: str, body: bytes, content_type: str) -> None:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            return self._send(path, 304, b"", None, {"ETag": etag, "Last-Modified": LAST_MODIFIED})
        return self._send(
            path, 200, body, content_type, {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        )

    def _redirect(self, path: str, location: str) -> None:
        self._send(path, 302, b"", "text/plain", {"Location": location})

    def _headers(
        self, path: str, status: int, content_type: str | None, headers: dict[str, str]
    ) -> None:
        self.server.stats.record(path, status)
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()

    def _send(
        self,
        path: str,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.server.stats.record(
            path, size=len(body)
        )  # before writing: the client may be done first
        self._headers(
            path, status, content_type, {"Content-Length": str(len(body)), **(headers or {})}
        )
        self.wfile.write(body)

    def _stream(self, path: str, size: int, chunked: bool) -> None:
        headers = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(size)}
        self._headers(path, 200, "application/rss+xml", headers)
        block = (b"<rss><channel><title>" + b"x" * STREAM_CHUNK)[:STREAM_CHUNK]
        for _ in range(size // STREAM_CHUNK):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            self.server.stats.record(path, size=len(block))
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _drip(self, path: str) -> None:
        self._headers(path, 200, "application/rss+xml", {"Transfer-Encoding": "chunked"})
        deadline = time.monotonic() + self.server.drip_limit_seconds
        for byte in feed_xml(self.base, "drip"):
            if time.monotonic() > deadline:
                break
            self.wfile.write(b"1\r\n%c\r\n" % byte)
            self.wfile.flush()
            self.server.stats.record(path, size=1)
            time.sleep(self.server.drip_seconds)
        self.wfile.write(b"0\r\n\r\n")


class FaultHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # hundreds of sources connect at once in the tests

    def __init__(self, host: str = "127.0.0.1", files_root: Path | None = None) -> None:
        super().__init__((host, 0), _Handler)
        self.stats = FaultStats()
        self.files_root = files_root.resolve() if files_root else None
        self.slow_seconds = 5.0
        self.drip_seconds = 0.05
        self.drip_limit_seconds = 10.0
        self.latency_seconds = 0.0
        self.flaky_failures = 1
        self.flaky_seen: Counter[str] = Counter()
        self.broken: set[str] = set()

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up is what the faults are for: no traceback on stderr."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@dataclass
class RunningFaultServer:
    base_url: str
    server: FaultHTTPServer

    @property
    def stats(self) -> FaultStats:
        return self.server.stats


@contextmanager
def serve_faults(
    files_root: Path | None = None, host: str = "127.0.0.1", **settings: object
) -> Iterator[RunningFaultServer]:
    """Run the fault server on a free loopback port for the ``with`` block.

    ``settings`` set the server's knobs: slow_seconds, drip_seconds, latency_seconds,
    flaky_failures.
    """
    httpd = FaultHTTPServer(host, files_root)
    for key, value in settings.items():
        if not hasattr(httpd, key):
            raise TypeError(f"unknown fault server setting {key!r}")
        setattr(httpd, key, value)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-server", daemon=True
    )
    thread.start()
    try:
        address, port = httpd.server_address[:2]
        yield RunningFaultServer(f"http://{address!s}:{port}", httpd)
    finally:
        httpd.shutdown()
        httpd.server_close()
