"""A commitment's news signal over a period: crítico, atención, normal or sin noticias. Pure.

    critico       an at-risk mention in the period (the commitment and a trouble term in one
                  sentence) that no later mention of the period reports resolved
    atencion      at risk earlier in the period but resolved since; or officially paralizado;
                  or past its due date without being terminado
    normal        mentioned in the period, nothing wrong
    sin_noticias  no mention in the period (silence is information too)

A mention is resolving when the linker said so (``links.resolved = 1``) or, for links stored
before it judged that (``resolved`` is None), when the article uses resolution wording
("reanudan", "retoman", "se adjudicó", "inauguran"). An official fact outranks silence: a
paralysed or overdue commitment without news is ``atencion``, not ``sin_noticias``.

The digest and the briefs reuse ``commitment_signal``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from agenda.register import due_end
from agenda.textnorm import fold

CRITICO, ATENCION, NORMAL, SIN_NOTICIAS = "critico", "atencion", "normal", "sin_noticias"
SIGNALS = (CRITICO, ATENCION, NORMAL, SIN_NOTICIAS)  # most severe first
SIGNAL_NAMES = {
    CRITICO: "crítico",
    ATENCION: "atención",
    NORMAL: "normal",
    SIN_NOTICIAS: "sin noticias",
}
# Used when keywords/alerts.yaml has no resolution terms of its own (issue 15 adds them there).
DEFAULT_RESOLUTION_TERMS = (
    "reanudan",
    "reanudó",
    "reanudaron",
    "reanudación",
    "se reanudan",
    "retoman",
    "retomó",
    "retomaron",
    "se retoman",
    "se adjudicó",
    "adjudicaron",
    "adjudicada",
    "adjudicado",
    "inauguran",
    "inauguró",
    "inauguraron",
    "inaugurada",
    "inaugurado",
    "reinician",
    "reiniciaron",
    "destraban",
    "se destrabó",
    "levantan la paralización",
)


@dataclass(frozen=True)
class Mention:
    """One article linking a commitment, as far as the signal is concerned."""

    local_date: str  # America/Santiago day, YYYY-MM-DD
    at_risk: bool
    resolved: bool | None = None  # the linker's judgement; None when it made none
    text: str = ""  # title, summary and text: resolution wording when ``resolved`` is None


class ResolutionWording:
    """Whole-word, case- and accent-blind search for resolution terms."""

    def __init__(self, terms: Sequence[str] = DEFAULT_RESOLUTION_TERMS) -> None:
        alternatives = "|".join(sorted((re.escape(fold(t)) for t in terms), key=len, reverse=True))
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if alternatives else None

    def found_in(self, text: str) -> str | None:
        match = self._pattern.search(fold(text)) if self._pattern else None
        return text[match.start() : match.end()] if match else None


def is_resolving(mention: Mention, wording: ResolutionWording) -> bool:
    if mention.resolved is not None:
        return bool(mention.resolved)
    return wording.found_in(mention.text) is not None


def commitment_signal(
    mentions: Sequence[Mention],
    start: date,
    end: date,
    status: str | None = None,
    due: str | None = None,
    wording: ResolutionWording | None = None,
) -> str:
    """The signal of one commitment over [start, end] from its mentions (any order; those
    outside the period are ignored), its official status and its due date.

    >>> week = date(2026, 11, 23), date(2026, 11, 29)
    >>> commitment_signal([Mention("2026-11-24", at_risk=True)], *week)
    'critico'
    """
    return explain_signal(mentions, start, end, status, due, wording)[0]


def explain_signal(
    mentions: Sequence[Mention],
    start: date,
    end: date,
    status: str | None = None,
    due: str | None = None,
    wording: ResolutionWording | None = None,
) -> tuple[str, str]:
    """(signal, why in Spanish): the reason an authority reads beside the signal."""
    wording = wording or ResolutionWording()
    first, last = start.isoformat(), end.isoformat()
    in_period = sorted(
        (m for m in mentions if first <= m.local_date <= last), key=lambda m: m.local_date
    )
    unresolved_trouble = False
    had_trouble = False
    for mention in in_period:  # in order: a resolving mention clears the trouble before it
        resolving = is_resolving(mention, wording)
        if mention.at_risk and not resolving:
            unresolved_trouble = had_trouble = True
        elif resolving and unresolved_trouble:
            unresolved_trouble = False
    if unresolved_trouble:
        return (
            CRITICO,
            "la prensa informa problemas y ninguna noticia posterior los da por superados",
        )
    folded = fold(status or "")
    if had_trouble:
        return ATENCION, "hubo problemas en el periodo, informados como superados después"
    if folded.startswith("paraliz"):
        return ATENCION, "paralizado según el estado oficial"
    if due and due_end(due) < end and not folded.startswith("termin"):
        return ATENCION, f"plazo comprometido ({due}) vencido sin estar terminado"
    if not in_period:
        return SIN_NOTICIAS, "sin menciones en la prensa en el periodo"
    return NORMAL, "mencionado sin problemas"
