"""Private-network guard: the collector never talks to this machine or to a private network.

A feed, a redirect or an item link can name any address: ``http://127.0.0.1:6379``, the cloud
metadata service ``http://169.254.169.254/`` (also written ``0xa9fea9fe``), or a public name
whose DNS answer is private (DNS rebinding). So the decision is taken on the address the socket
actually connected to: httpcore's ``trace`` extension hands us the TCP stream as soon as it is
connected, before TLS and before a single byte of the request is sent, and we read its peer
address there. Every redirect hop is a new request, so every hop is checked. Hosts written as an
address in any spelling the system resolver accepts ('127.1', '2130706433', '0x7f.1') are
refused before connecting too, so they cost no connection at all.

``fetch: {allow_private_networks: true}`` in agenda.yaml turns the guard off (the demo and the
tests serve on loopback). Limitation: behind an HTTP proxy the peer is the proxy itself.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from agenda.errors import BlockedAddress

# (ip, port) -> a reason in Spanish when the address is refused, None when it is allowed
AddressCheck = Callable[[str, int], "str | None"]
Trace = Callable[[str, dict[str, Any]], Awaitable[None]]

CGNAT = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not global, not "private" either
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # an IPv4 address carried inside IPv6
_ASCII_HOST_CHARS = set("0123456789abcdefxABCDEFX.")


def blocked_reason(address: str) -> str | None:
    """Why an address is refused (Spanish, for the source's row), or None if it is public.

    >>> blocked_reason("169.254.169.254")
    'dirección bloqueada: red privada (169.254.169.254)'
    >>> blocked_reason("::ffff:127.0.0.1") is not None, blocked_reason("8.8.8.8")
    (True, None)
    """
    ip = ipaddress.ip_address(
        address.split("%", 1)[0]
    )  # an IPv6 zone ("fe80::1%eth0") names no host
    what = _category(ip)
    return f"dirección bloqueada: {what} ({ip})" if what else None


def _category(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "dirección IPv4 escrita como IPv6"
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and _category(embedded):
            return "red privada dentro de IPv6"
    if ip.is_unspecified:
        return "dirección sin especificar"
    if ip.is_multicast:
        return "multidifusión"
    if ip.is_loopback or ip.is_link_local or ip.is_private or ip in CGNAT:
        return "red privada"
    if ip.is_reserved:
        return "red reservada"
    if not ip.is_global:
        return "red privada"
    return None


def default_check(ip: str, port: int) -> str | None:
    """The production rule: every non-public address is refused, whatever the port."""
    return blocked_reason(ip)


def literal_address(host: str) -> str | None:
    """The address a host written as a number stands for, in the resolver's own reading.

    >>> [literal_address(h) for h in ("127.1", "2130706433", "0xa9fea9fe", "[::1]", "diario.cl")]
    ['127.0.0.1', '127.0.0.1', '169.254.169.254', '::1', None]
    """
    host = host.strip("[]")
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    if host and set(host) <= _ASCII_HOST_CHARS and host[0].isdigit():
        try:  # inet_aton is what getaddrinfo uses for numeric hosts: octal, hex, 1 to 4 parts
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def refuse_host(host: str | None, check: AddressCheck, port: int) -> None:
    """Raise ``BlockedAddress`` before connecting when the host is an address (or 'localhost')
    that ``check`` refuses. Names are checked after DNS, on the connection (``trace_check``)."""
    if not host:
        return
    lowered = host.lower().rstrip(".")
    address = (
        "127.0.0.1"
        if lowered == "localhost" or lowered.endswith(".localhost")
        else literal_address(host)
    )
    if address is not None:
        reason = check(address, port)
        if reason:
            raise BlockedAddress("", reason)


def trace_check(check: AddressCheck) -> Trace:
    """An httpcore ``trace`` callback that refuses a connection whose peer ``check`` refuses.

    It runs when the TCP connection is made, before TLS and before the request is written, so a
    refused server never receives a request. A stream whose peer cannot be read is refused too.
    """

    async def trace(event: str, info: dict[str, Any]) -> None:
        if event != "connection.connect_tcp.complete":
            return
        stream = info.get("return_value")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if not peer:
            reason: str | None = (
                "dirección bloqueada: no se pudo comprobar a qué dirección se conectó"
            )
        else:
            reason = check(str(peer[0]), int(peer[1]))
        if reason:
            if stream is not None:
                await stream.aclose()
            raise BlockedAddress("", reason)

    return trace
