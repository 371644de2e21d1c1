from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from agenda.compiled_linker import linker_kind
from agenda.keywords import Keywords, load_keywords
from agenda.link import Linker
from agenda.sampleserver import RunningServer, serve, write_sources

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Which linker the tests ran: compiled by mypyc when built (agenda/compiled_linker.py).
    terminalreporter.write_line(f"linker: {linker_kind()}")


@pytest.fixture(scope="session")
def keywords() -> Keywords:
    return load_keywords(ROOT / "keywords")


@pytest.fixture(scope="session")
def linker(keywords: Keywords) -> Linker:
    return Linker(keywords)


@pytest.fixture
def sample_server() -> Iterator[RunningServer]:
    with serve(SAMPLE, slow_seconds=3.0) as server:
        yield server


@pytest.fixture
def sample_sources(sample_server: RunningServer, tmp_path: Path) -> Path:
    return write_sources(SAMPLE / "sources.yaml", sample_server.base_url, tmp_path / "sources.yaml")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """A real aiosmtpd server on loopback that keeps every message it receives."""

    def __init__(self, port: int | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.port = port or free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 (aiosmtpd's hook name)
        self.messages.append(envelope.content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()
