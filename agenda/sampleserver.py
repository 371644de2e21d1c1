"""A small loopback HTTP server for the bundled sample and the tests.

Serves files from a folder with ETag and Last-Modified (answers 304 to conditional GETs), plus
fault routes that behave like broken outlets:

    /fault/500       HTTP 500
    /fault/404       HTTP 404
    /fault/timeout   waits ``slow_seconds`` before answering
    /fault/garbage   200 with bytes that are neither a feed nor a page

    with serve(Path("sample")) as server:
        print(server.base_url)   # http://127.0.0.1:PORT
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

LAST_MODIFIED = formatdate(1764000000, usegmt=True)  # fixed: the sample never changes
GARBAGE = bytes(range(256)) * 8


@dataclass
class ServerStats:
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    bytes_sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str, status: int, size: int) -> None:
        with self.lock:
            self.requests[path] += 1
            self.statuses[status] += 1
            self.bytes_sent += size


class _Handler(BaseHTTPRequestHandler):
    server: _SampleHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet: tests read stats instead
        pass

    def do_GET(self) -> None:
        if self.server.delay_seconds:
            time.sleep(self.server.delay_seconds)
        path = unquote(urlsplit(self.path).path)
        if path.startswith("/fault/"):
            return self._fault(path)
        file = (self.server.root / path.lstrip("/")).resolve()
        if self.server.root not in file.parents or not file.is_file():
            return self._send(path, 404, b"not found", "text/plain")
        body = file.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if self._not_modified(etag):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.server.stats.record(path, 304, 0)
            return
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if file.suffix == ".xml":
            content_type = "application/xml"
        self._send(
            path,
            200,
            body,
            f"{content_type}; charset=utf-8",
            {"ETag": etag, "Last-Modified": LAST_MODIFIED},
        )

    def _not_modified(self, etag: str) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag in [tag.strip() for tag in if_none_match.split(",")]
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return parsedate_to_datetime(since) >= parsedate_to_datetime(LAST_MODIFIED)
            except (TypeError, ValueError):
                return False
        return False

    def _fault(self, path: str) -> None:
        if path == "/fault/500":
            return self._send(path, 500, b"Internal Server Error", "text/plain")
        if path == "/fault/404":
            return self._send(path, 404, b"Not Found", "text/plain")
        if path == "/fault/timeout":
            time.sleep(self.server.slow_seconds)
            return self._send(
                path, 200, b"<rss version='2.0'><channel></channel></rss>", "application/xml"
            )
        if path == "/fault/garbage":
            return self._send(path, 200, GARBAGE, "application/rss+xml")
        return self._send(path, 404, b"no such fault", "text/plain")

    def _send(
        self,
        path: str,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to do
        self.server.stats.record(path, status, len(body))


class _SampleHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, slow_seconds: float, delay_seconds: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root.resolve()
        self.slow_seconds = slow_seconds
        self.delay_seconds = delay_seconds  # every answer waits this long: a slow outlet
        self.stats = ServerStats()


@dataclass
class RunningServer:
    base_url: str
    stats: ServerStats


@contextmanager
def serve(
    root: Path, slow_seconds: float = 5.0, delay_seconds: float = 0.0
) -> Iterator[RunningServer]:
    """Serve ``root`` on a free loopback port in a background thread for the ``with`` block."""
    httpd = _SampleHTTPServer(root, slow_seconds, delay_seconds)
    thread = threading.Thread(target=httpd.serve_forever, name="sample-server", daemon=True)
    thread.start()
    try:
        host, port = httpd.server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's address is (text, port)
        yield RunningServer(f"http://{host}:{port}", httpd.stats)
    finally:
        httpd.shutdown()
        httpd.server_close()


def write_sources(template: Path, base_url: str, destination: Path) -> Path:
    """Fill the ``{base_url}`` placeholder of a sources template (line numbers are kept)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(
        template.read_text(encoding="utf-8").replace("{base_url}", base_url), encoding="utf-8"
    )
    return destination
