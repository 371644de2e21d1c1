"""Why a fetch failed, in the words a reader of the digest understands (issues 10 and 13).

The collector records these on the source's row; the digest shows them as they are, so they are
Spanish and plain: "el servidor respondió con un error (500); se reintentó 3 veces", "no respondió
en 20 s". What httpx and the OS say (English) stays in the log.
"""

from __future__ import annotations

import socket

import httpx

STATUS_WORDS = {
    401: "el servidor pide usuario y contraseña",
    403: "el servidor negó el acceso",
    404: "la página no existe",
    410: "la dirección ya no existe",
    429: "demasiadas solicitudes al servidor",
}


def status_words(response: httpx.Response) -> str:
    """An HTTP status as a reader understands it: 'el servidor respondió con un error (500)'."""
    status = response.status_code
    if status in STATUS_WORDS:
        return f"{STATUS_WORDS[status]} ({status})"
    if status >= 500:
        return f"el servidor respondió con un error ({status})"
    return f"el servidor respondió con el código {status}"


def connect_failure(exc: httpx.ConnectError) -> str:
    """Why a connection failed, in words (the OS message is English and stays in the log)."""
    causes: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending and len(causes) < 20:  # the chain, and the group of attempts anyio raises
        cause = pending.pop()
        causes.append(cause)
        pending += [c for c in (cause.__cause__, cause.__context__) if c is not None]
        pending += list(getattr(cause, "exceptions", ()))
    if any(isinstance(c, socket.gaierror) for c in causes):
        return "no se pudo conectar: el nombre del sitio no existe en DNS"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return "no se pudo conectar: el servidor rechazó la conexión"
    return "no se pudo conectar"


def seconds_words(value: float | None) -> str:
    """'20 s' for a timeout that is set, 'el plazo' for one that is not."""
    return f"{value:g} s" if value is not None else "el plazo"


def number_words(value: float) -> str:
    """Chilean thousands: 5.242.880."""
    return f"{value:,.0f}".replace(",", ".")


def with_retries(reason: str, retries: int) -> str:
    """The reason, and how many times it was retried.

    >>> with_retries("el servidor respondió con un error (500)", 3)
    'el servidor respondió con un error (500); se reintentó 3 veces'
    """
    if retries == 0:
        return reason
    return f"{reason}; se reintentó {retries} {'vez' if retries == 1 else 'veces'}"
