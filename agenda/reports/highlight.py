"""One or two lines about a story, with what matched in bold (as Google Alerts does). Pure.

The stored links of a day carry no evidence spans (a day of 50,000 articles would weigh too
much), so the words are found again by name in the lead article's summary: the story's places,
its commitments' names and aliases, and the keywords of its priorities. Matching folds case and
accents (``textnorm.fold`` keeps offsets), and the original text is what is shown.

>>> segments("Las obras del Hospital de Quilpué siguen paralizadas.", [("quilpue",)])
[('Las obras del Hospital de ', False), ('Quilpué', True), (' siguen paralizadas.', False)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from agenda.reports.spanish import spanish_list
from agenda.textnorm import fold

if TYPE_CHECKING:
    from agenda.keywords import Keywords
    from agenda.reports.digest import Story

SNIPPET_CHARS = 110  # about two lines at 14 px on a 375 px phone
LEAD_CHARS = 50  # context kept before the first match when a sentence is cut
Segment = tuple[str, bool]  # text, bold
_SENTENCE_END = re.compile(r"(?<=[.!?»])\s+(?=[A-ZÁÉÍÓÚÑ¿¡«\"])")


Terms = Sequence[tuple[str, ...]]  # groups of folded words, longest first within a group


def _group(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({fold(w) for w in words if len(w) > 2}, key=lambda w: (-len(w), w)))


class TermIndex:
    """Each priority's and each commitment's folded words, built once per digest: the same
    groups recur from story to story, so their patterns are compiled once."""

    def __init__(self, keywords: Keywords) -> None:
        self.priorities = {p.name: _group(p.keywords) for p in keywords.priorities.values()}
        self.commitments = {
            c.id: _group([c.title, *c.aliases]) for c in keywords.commitments.values()
        }


def story_terms(story: Story, index: TermIndex) -> list[tuple[str, ...]]:
    """The words to bold in a story's text: its places, commitments and priority keywords."""
    groups = [_group(name.removeprefix("provincia de ") for name in story.places)]
    groups += [index.commitments[c] for c in story.commitment_ids if c in index.commitments]
    groups += [index.priorities[p] for p in story.priorities if p in index.priorities]
    return [g for g in groups if g]


@lru_cache(maxsize=4096)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)")


def _spans(text: str, terms: Terms) -> list[tuple[int, int]]:
    """Matches of every group, the earliest and then the longest kept where they overlap."""
    folded = fold(text)
    found = sorted(
        {m.span() for group in terms for m in _pattern(group).finditer(folded)},
        key=lambda span: (span[0], -span[1]),
    )
    spans: list[tuple[int, int]] = []
    for start, end in found:
        if not spans or start >= spans[-1][1]:
            spans.append((start, end))
    return spans


def segments(text: str, terms: Terms) -> list[Segment]:
    """Split ``text`` into plain and bold pieces (longest term first, no overlaps)."""
    pieces: list[Segment] = []
    position = 0
    for start, end in _spans(text, terms):
        if start > position:
            pieces.append((text[position:start], False))
        pieces.append((text[start:end], True))
        position = end
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces


def snippet(summary: str, title: str, terms: Terms) -> list[Segment]:
    """The summary's first sentence that names a matched word (else its first sentence), cut
    to about two lines around the first match, in segments. Empty when there is no summary."""
    text = " ".join(summary.split())
    if not text:
        return []
    folded_title = fold(" ".join(title.split()))
    sentences = [s for s in _SENTENCE_END.split(text) if fold(s) != folded_title] or [text]
    chosen = next((s for s in sentences if _spans(s, terms)), sentences[0])
    if len(chosen) > SNIPPET_CHARS:
        spans = _spans(chosen, terms)
        start = 0
        if spans and spans[0][1] > SNIPPET_CHARS:  # the first match is far in: start near it
            start = chosen.find(" ", max(0, spans[0][0] - LEAD_CHARS)) + 1
        end = chosen.rfind(" ", start, start + SNIPPET_CHARS)
        end = end if end > start else start + SNIPPET_CHARS
        end = next((e for s, e in spans if s < end < e), end)  # never cut a name in half
        rest = "" if not chosen[end:].strip(" .!?»") else "…"
        chosen = ("…" if start else "") + (
            chosen[start:end].rstrip(" ,;:") + rest if rest else chosen[start:]
        )
    return segments(chosen, terms)


def plain_why(story: Story) -> str:
    """Why a story ranks where it does, in words a reader uses (not the scoring's codes): its
    commitment, else its first two priorities; and how many outlets carry it."""
    parts = []
    if story.at_risk and story.commitments:
        parts.append(f"alerta sobre el compromiso {story.commitments[0]}")
    elif story.commitments:
        parts.append(f"sigue el compromiso {story.commitments[0]}")
    elif story.priorities:
        names = [_lower_first(p) for p in story.priorities[:2]]
        parts.append("tema prioritario: " + spanish_list(names))
    if len(story.outlets) > 1:
        parts.append(f"la publican {len(story.outlets)} medios")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def commune_index(keywords: Keywords) -> dict[tuple[str, str], str]:
    """(region code, folded commune name) -> commune code, built once per digest."""
    return {
        (p.region_code, fold(p.name)): p.code
        for p in keywords.places.values()
        if p.kind == "commune"
    }


def place_code(story: Story, communes: dict[tuple[str, str], str]) -> str | None:
    """The code an analyst would most likely reject for this story: its first commune in its
    regions, else its only region (for the "¿Error?" link's ``agenda feedback`` command)."""
    for name in story.places:
        for region in story.region_codes:
            code = communes.get((region, fold(name)))
            if code:
                return code
    return story.region_codes[0] if len(story.region_codes) == 1 else None
