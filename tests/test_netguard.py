"""Private-network guard (issue 10): no fetch reaches this machine or a private network unless
``fetch: {allow_private_networks: true}`` says so; checked on the connected address and every
hop."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlite_utils import Database

from agenda.collect import Collector, FetchLimits, FetchResult, make_client
from agenda.curation import discover
from agenda.extract import Article
from agenda.netguard import blocked_reason, literal_address, trace_check
from agenda.pipeline import add_full_text, collect_and_store
from agenda.settings import Settings, load_settings
from agenda.sources import Source, SourceList
from agenda.store import Store
from tests.faultserver import RunningFaultServer, serve_faults

GUARDED = FetchLimits(host_interval_seconds=0, retries=0)  # the default: private networks refused


def source(url: str, source_id: str = "s", **kwargs: object) -> Source:
    return Source(id=source_id, name=source_id, url=url, kind="rss", region_code="05", **kwargs)  # type: ignore[arg-type]


def fetch(url: str, limits: FetchLimits = GUARDED, **kwargs: object) -> FetchResult:
    async def go() -> FetchResult:
        async with make_client() as client:
            return await Collector(client, limits, **kwargs).fetch(source(url))  # type: ignore[arg-type]

    return asyncio.run(go())


@pytest.fixture
def faults():  # noqa: ANN201
    with serve_faults() as server:
        yield server


def port_of(server: RunningFaultServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:8.8.8.8",
        "2002:c0a8:0101::1",
        "64:ff9b::a9fe:a9fe",
        "fe80::1%eth0",
    ],
)
def test_every_non_public_address_is_refused(address: str) -> None:
    reason = blocked_reason(address)
    assert reason is not None and reason.startswith("dirección bloqueada: ")


@pytest.mark.parametrize("address", ["8.8.8.8", "200.1.123.4", "2800:150::1", "100.128.0.1"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(address) is None


def test_the_reason_reads_as_the_issue_words_it() -> None:
    assert blocked_reason("169.254.169.254") == "dirección bloqueada: red privada (169.254.169.254)"


@pytest.mark.parametrize(
    "host, address",
    [
        ("0xa9fea9fe", "169.254.169.254"),
        ("2130706433", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("[::ffff:a9fe:a9fe]", "::ffff:a9fe:a9fe"),
    ],
)
def test_odd_spellings_are_read_as_the_resolver_reads_them(host: str, address: str) -> None:
    assert literal_address(host) == address
    try:  # the system resolver agrees (where it accepts the spelling at all)
        resolved = socket.getaddrinfo(host.strip("[]"), 80, proto=socket.IPPROTO_TCP)[0][4][0]
    except socket.gaierror:
        return
    assert ipaddress.ip_address(resolved) == ipaddress.ip_address(address)
    assert blocked_reason(address) is not None


def test_loopback_refused_by_default_and_no_request_reaches_the_server(
    faults: RunningFaultServer,
) -> None:
    result = fetch(f"{faults.base_url}/feed/a.xml")
    assert result.status == "error"
    assert result.error == "dirección bloqueada: red privada (127.0.0.1)"
    assert sum(faults.stats.requests.values()) == 0


def test_allow_private_networks_lets_loopback_through(faults: RunningFaultServer) -> None:
    result = fetch(
        f"{faults.base_url}/feed/a.xml",
        FetchLimits(host_interval_seconds=0, allow_private_networks=True),
    )
    assert result.status == "ok"
    assert faults.stats.requests["/feed/a.xml"] == 1


@pytest.mark.parametrize(
    "host", ["2130706433", "127.1", "0x7f000001", "localhost", "[::ffff:127.0.0.1]"]
)
def test_numeric_spellings_of_loopback_are_refused(faults: RunningFaultServer, host: str) -> None:
    result = fetch(f"http://{host}:{port_of(faults)}/feed/a.xml")
    assert result.status == "error" and (result.error or "").startswith("dirección bloqueada"), (
        result.error
    )
    assert sum(faults.stats.requests.values()) == 0


def test_metadata_address_in_hex_is_refused_without_connecting() -> None:
    connected: list[tuple[str, int]] = []

    def check(ip: str, port: int) -> str | None:
        connected.append((ip, port))
        return blocked_reason(ip)

    result = fetch("http://0xa9fea9fe/latest/meta-data/", address_check=check)
    assert result.error == "dirección bloqueada: red privada (169.254.169.254)"
    assert connected == [("169.254.169.254", 80)]  # the literal check, before any socket


REBIND = "rebind.localtest.invalid"


@pytest.fixture
def rebinding_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolution is the OS's: send a "public" name to loopback, as a rebinding DNS would."""
    original = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        name = host.decode() if isinstance(host, bytes) else host  # anyio passes IDNA bytes
        return original("127.0.0.1" if name == REBIND else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)


def test_the_connected_address_is_checked_not_the_name(
    faults: RunningFaultServer, rebinding_dns: None
) -> None:
    """A public-looking name that resolves to loopback (DNS rebinding) is refused on the socket's
    peer address: the trace check runs whatever the host was called."""
    seen: list[str] = []

    def check(ip: str, port: int) -> str | None:
        seen.append(ip)
        return blocked_reason(ip)

    result = fetch(f"http://{REBIND}:{port_of(faults)}/feed/a.xml", address_check=check)
    assert result.error == "dirección bloqueada: red privada (127.0.0.1)"
    assert seen == ["127.0.0.1"]
    assert sum(faults.stats.requests.values()) == 0


def test_a_redirect_to_a_name_that_resolves_inside_is_refused_on_the_socket(
    rebinding_dns: None,
) -> None:
    with serve_faults() as first, serve_faults() as second:
        allowed = port_of(first)

        def check(ip: str, port: int) -> str | None:
            return None if port == allowed else blocked_reason(ip)

        target = quote(f"http://{REBIND}:{port_of(second)}/feed/b.xml", safe="")
        result = fetch(f"{first.base_url}/fault/redirect-to?to={target}", address_check=check)
        assert result.error == "dirección bloqueada: red privada (127.0.0.1)"
        assert first.stats.requests["/fault/redirect-to"] == 1
        assert sum(second.stats.requests.values()) == 0


def test_every_redirect_hop_is_checked() -> None:
    """The first server is allowed (an injected check stands for "public"), the hop is not."""
    with serve_faults() as first, serve_faults() as second:
        allowed = port_of(first)

        def check(ip: str, port: int) -> str | None:
            return None if port == allowed else blocked_reason(ip)

        target = quote(f"{second.base_url}/feed/b.xml", safe="")
        result = fetch(f"{first.base_url}/fault/redirect-to?to={target}", address_check=check)
        assert result.error == "dirección bloqueada: red privada (127.0.0.1)"
        assert first.stats.requests["/fault/redirect-to"] == 1
        assert sum(second.stats.requests.values()) == 0
        # and the numeric spelling of a hop is refused before connecting
        hop = quote(f"http://2130706433:{port_of(second)}/feed/b.xml", safe="")
        result = fetch(f"{first.base_url}/fault/redirect-to?to={hop}", address_check=check)
        assert (result.error or "").startswith("dirección bloqueada")
        assert sum(second.stats.requests.values()) == 0


def test_the_trace_refuses_a_stream_whose_peer_is_unknown() -> None:
    class Stream:
        closed = False

        def get_extra_info(self, name: str) -> None:
            return None

        async def aclose(self) -> None:
            self.closed = True

    stream = Stream()
    with pytest.raises(Exception, match="dirección bloqueada"):
        asyncio.run(
            trace_check(blocked_reason)("connection.connect_tcp.complete", {"return_value": stream})
        )
    assert stream.closed


def test_sources_add_discovery_is_guarded(faults: RunningFaultServer) -> None:
    async def go():  # noqa: ANN202
        async with make_client() as client:
            return await discover(client, f"{faults.base_url}/home/diario/", GUARDED)

    found = asyncio.run(go())
    assert found.chosen is None
    assert found.candidates[0].reason == "dirección bloqueada: red privada (127.0.0.1)"
    assert sum(faults.stats.requests.values()) == 0


def test_full_text_pages_on_private_addresses_are_refused(
    faults: RunningFaultServer, tmp_path: Path
) -> None:
    """A public feed (allowed by the injected check) whose item links point at this machine."""
    feed_port = port_of(faults)
    with serve_faults() as internal:
        article = Article(
            url=f"{internal.base_url}/article/x/1.html",
            title="t",
            summary="",
            source_id="s",
            outlet="s",
            source_region="05",
            published_at_utc=None,
        )

        def check(ip: str, port: int) -> str | None:
            return None if port == feed_port else blocked_reason(ip)

        async def go() -> list[str]:
            async with make_client() as client:
                collector = Collector(client, GUARDED, address_check=check)
                store = Store(Database(tmp_path / "a.db"))
                return await add_full_text(
                    collector,
                    store,
                    source(f"{faults.base_url}/feed/a.xml", fulltext=True),
                    [article],
                )

        warnings = asyncio.run(go())
        assert any("dirección bloqueada: red privada (127.0.0.1)" in w for w in warnings), warnings
        assert sum(internal.stats.requests.values()) == 0


def test_a_blocked_source_is_a_recorded_reason_on_its_row(
    faults: RunningFaultServer, tmp_path: Path, linker
) -> None:  # noqa: ANN001
    store = Store(Database(tmp_path / "a.db"))

    async def go():  # noqa: ANN202
        async with make_client() as client:
            sources = SourceList(
                Path("sources.yaml"), [source(f"{faults.base_url}/feed/a.xml", "interna")]
            )
            return await collect_and_store(sources, linker, client, store, Settings(fetch=GUARDED))

    summary = asyncio.run(go())
    assert summary.failures == [("interna", "dirección bloqueada: red privada (127.0.0.1)")]
    row = next(r for r in store.source_health() if r["id"] == "interna")
    assert (
        row["last_error"] == "dirección bloqueada: red privada (127.0.0.1)"
        and row["error_count"] == 1
    )


def test_agenda_yaml_turns_the_guard_off(tmp_path: Path) -> None:
    config = tmp_path / "agenda.yaml"
    assert load_settings(None, environ={}).fetch.allow_private_networks is False
    config.write_text("fetch:\n  allow_private_networks: true\n", encoding="utf-8")
    assert load_settings(config, environ={}).fetch.allow_private_networks is True
    sample = Path(__file__).resolve().parent.parent / "sample" / "agenda.yaml"
    assert (
        load_settings(sample, environ={}).fetch.allow_private_networks is True
    )  # the demo serves on loopback
