"""Linking: which regions, provinces, communes, commitments and priorities a text is about.

``Linker(keywords)`` builds spaCy ``PhraseMatcher``s once (``spacy.blank("es")``: tokenizer only,
no model download); ``Linker.link(text)`` is a pure function of the text. Matching runs on the
folded text (lowercase, no accents, same length), so "Biobío", "BIOBÍO" and "Bio Bio" meet the same
pattern and every match's offsets point into the original text, which is what evidence keeps.

Place rules (data in keywords/disambiguation.yaml):
  - the longest match wins ("Región de Valparaíso" over "Valparaíso", "Santiago de Compostela"
    over "Santiago"); phrases listed under ``never`` win and are then dropped;
  - a mention must carry a capital letter ("la victoria" is not Victoria);
  - a name preceded by a person word ("ministro Valdivia") or a street word ("calle Victoria"),
    or followed by a foreign place ("Los Angeles, California") is dropped;
  - a name listed as ambiguous also needs positive evidence: a trigger before it ("comuna de",
    "en"), another place of the same region in the text, or the source's own region.
Commitments match by their aliases, or by one of their facility words plus one of their communes
in the same sentence. A commitment and an alert term in the same sentence flag it as at risk.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Iterable

import spacy
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from agenda.keywords import Keywords, Place
from agenda.textnorm import fold

_SENTENCE_END = re.compile(r"(?<=[.!?;:])[\"»”)]*\s+|\n+")
_PREV_WORD = re.compile(r"([A-ZÁÉÍÓÚÑÜ][\w'’.-]*)\s+$")
_NEUTRAL_CAPITALS = {"el", "la", "los", "las", "y", "e", "o", "del", "al", "un", "una", "para", "por", "con", "sin"}


@dataclass(frozen=True)
class Evidence:
    text: str
    start: int
    end: int

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "start": self.start, "end": self.end}


@dataclass
class Link:
    kind: str  # region | province | commune | commitment | priority | alert
    code: str  # official code, commitment id, priority id, or the alert term
    name: str
    evidence: list[Evidence] = field(default_factory=list)
    at_risk: bool = False  # commitments only: an alert term in the same sentence
    risk_evidence: list[Evidence] = field(default_factory=list)  # the sentences

    def as_dict(self) -> dict[str, object]:
        key = "id" if self.kind in ("commitment", "priority") else "code"
        out: dict[str, object] = {key: self.code, "name": self.name, "evidence": [e.as_dict() for e in self.evidence]}
        if self.kind == "commitment":
            out["at_risk"] = self.at_risk
            out["risk_evidence"] = [e.as_dict() for e in self.risk_evidence]
        return out


@dataclass
class LinkResult:
    regions: list[Link] = field(default_factory=list)
    provinces: list[Link] = field(default_factory=list)
    communes: list[Link] = field(default_factory=list)
    commitments: list[Link] = field(default_factory=list)
    priorities: list[Link] = field(default_factory=list)
    alerts: list[Link] = field(default_factory=list)

    def all_links(self) -> list[Link]:
        return self.regions + self.provinces + self.communes + self.commitments + self.priorities + self.alerts

    def as_dict(self) -> dict[str, list[dict[str, object]]]:
        return {
            "regions": [l.as_dict() for l in self.regions],
            "provinces": [l.as_dict() for l in self.provinces],
            "communes": [l.as_dict() for l in self.communes],
            "commitments": [l.as_dict() for l in self.commitments],
            "priorities": [l.as_dict() for l in self.priorities],
            "alerts": [l.as_dict() for l in self.alerts],
        }


@dataclass(frozen=True)
class _Mention:
    place: Place
    start: int
    end: int


def sentence_bounds(text: str) -> list[int]:
    """Start offsets of the sentences of ``text`` (cheap rules: punctuation + space, newlines)."""
    return [0] + [m.end() for m in _SENTENCE_END.finditer(text)]


def _sentence_at(text: str, starts: list[int], offset: int) -> tuple[int, int]:
    index = bisect.bisect_right(starts, offset) - 1
    begin = starts[index]
    end = starts[index + 1] if index + 1 < len(starts) else len(text)
    return begin, len(text[:end].rstrip()) if end > begin else end


class Linker:
    """Build once (a second or so), then call ``link`` for each text."""

    def __init__(self, keywords: Keywords) -> None:
        self.keywords = keywords
        self.rules = keywords.rules
        self.nlp = spacy.blank("es")
        # Split "santiago-chillan" and "buin-paine" so each place is a token of its own.
        infixes = list(self.nlp.Defaults.infixes) + [r"(?<=[a-z0-9])[-/](?=[a-z])"]
        self.nlp.tokenizer.infix_finditer = spacy.util.compile_infix_regex(infixes).finditer
        self._place_by_alias: dict[str, Place] = {}
        self._place_matcher = PhraseMatcher(self.nlp.vocab, attr="ORTH")
        self._topic_matcher = PhraseMatcher(self.nlp.vocab, attr="ORTH")
        self._facility_words: dict[str, set[str]] = {}  # folded facility word -> commitment ids
        self._build()

    # -- building ---------------------------------------------------------------------------
    def _patterns(self, phrases: Iterable[str]) -> list[Doc]:
        return [self.nlp.make_doc(fold(p)) for p in dict.fromkeys(phrases) if p.strip()]

    def _build(self) -> None:
        precedence = {"region": 0, "commune": 1, "province": 2, "area": 3}
        for place in sorted(self.keywords.places.values(), key=lambda p: precedence[p.kind]):
            for alias in place.aliases:
                # Same alias for two places: a region short name listed on purpose beats the
                # commune ("Maule"), a commune beats its province ("Talca"), anything beats an area.
                self._place_by_alias.setdefault(fold(alias), place)
        by_place: dict[str, list[str]] = {}
        for alias, place in self._place_by_alias.items():
            by_place.setdefault(f"{place.kind}:{place.code}", []).append(alias)
        for key, aliases in by_place.items():
            self._place_matcher.add("PLACE", self._patterns(aliases))
        self._place_matcher.add("NEVER", self._patterns(self.rules.never))
        for commitment in self.keywords.commitments.values():
            self._topic_matcher.add(f"commitment|{commitment.id}", self._patterns(commitment.aliases))
            for word in commitment.facility_words:
                for form in (word, word + "s", word + "es"):
                    self._facility_words.setdefault(fold(form), set()).add(commitment.id)
        for priority in self.keywords.priorities.values():
            self._topic_matcher.add(f"priority|{priority.id}", self._patterns(priority.keywords))
        for term in self.keywords.alert_terms:
            self._topic_matcher.add(f"alert|{term}", self._patterns([term]))

    # -- linking ----------------------------------------------------------------------------
    def link(self, text: str, source_region: str | None = None) -> LinkResult:
        """Link one text. ``source_region`` (a source's own region) is a prior for ambiguous names.

        >>> linker.link("Lluvias en Bio Bio").regions[0].code   # doctest: +SKIP
        '08'
        """
        folded = fold(text)
        doc = self.nlp.make_doc(folded)
        mentions = self._place_mentions(text, folded, doc, source_region)
        result = LinkResult()
        index: dict[str, Link] = {}

        def add(kind: str, code: str, name: str, start: int, end: int) -> Link:
            key = f"{kind}:{code}"
            link = index.get(key)
            if link is None:
                link = index[key] = Link(kind, code, name)
                getattr(result, kind + "s" if kind != "priority" else "priorities").append(link)
            link.evidence.append(Evidence(text[start:end], start, end))
            return link

        for mention in mentions:
            place = mention.place
            if place.kind == "commune":
                add("commune", place.code, place.name, mention.start, mention.end)
                if place.province_code:
                    add("province", place.province_code, self.keywords.place("province", place.province_code).name, mention.start, mention.end)
            elif place.kind == "province":
                add("province", place.code, place.name, mention.start, mention.end)
            region = self.keywords.place("region", place.region_code)
            add("region", region.code, region.name, mention.start, mention.end)

        self._topics(text, folded, doc, mentions, add)
        return result

    def _place_mentions(self, text: str, folded: str, doc: Doc, source_region: str | None) -> list[_Mention]:
        spans = self._place_matcher(doc, as_spans=True)
        spans = spacy.util.filter_spans(spans)  # longest first, no overlaps
        candidates: list[tuple[_Mention, bool]] = []
        for span in spans:
            if span.label_ == "NEVER":
                continue
            start, end = span.start_char, span.end_char
            surface = text[start:end]
            if self.rules.require_capital and not any(c.isupper() for c in surface):
                continue
            place = self._place_by_alias.get(span.text)
            if place is None:
                continue
            if self._negative_context(text, folded, start, end):
                continue
            ambiguous = span.text in self.rules.ambiguous
            if ambiguous and self._person_name_before(text, start):
                continue
            candidates.append((_Mention(place, start, end), ambiguous))
        supported = {m.place.region_code for m, ambiguous in candidates if not ambiguous}
        mentions = []
        for mention, ambiguous in candidates:
            if ambiguous and not (
                self._trigger_before(folded, mention.start)
                or mention.place.region_code in supported
                or mention.place.region_code == source_region
            ):
                continue
            mentions.append(mention)
        return mentions

    @staticmethod
    def _ends_with_phrase(prefix: str, phrases: Iterable[str]) -> bool:
        for phrase in phrases:
            if prefix.endswith(phrase) and (len(prefix) == len(phrase) or not prefix[-len(phrase) - 1].isalnum()):
                return True
        return False

    def _trigger_before(self, folded: str, start: int) -> bool:
        prefix = folded[max(0, start - 40):start].rstrip()
        return self._ends_with_phrase(prefix, self.rules.triggers_before)

    def _negative_context(self, text: str, folded: str, start: int, end: int) -> bool:
        prefix = folded[max(0, start - 40):start].rstrip()
        if self._ends_with_phrase(prefix, self.rules.person_before + self.rules.street_before):
            return True
        suffix = folded[end:end + 40].lstrip(" ,(-")
        for phrase in self.rules.foreign_after:
            if suffix.startswith(phrase) and (len(suffix) == len(phrase) or not suffix[len(phrase)].isalnum()):
                return True
        return False

    @staticmethod
    def _person_name_before(text: str, start: int) -> bool:
        """'Aníbal Pinto': a capitalised word right before the name that is not a function word."""
        match = _PREV_WORD.search(text[max(0, start - 30):start])
        if not match:
            return False
        word = fold(match.group(1))
        return word not in _NEUTRAL_CAPITALS and not word.isupper() and not match.group(1).isupper()

    def _topics(self, text: str, folded: str, doc: Doc, mentions: list[_Mention], add) -> None:  # type: ignore[no-untyped-def]
        starts = sentence_bounds(text)
        commitment_sentences: dict[str, list[tuple[int, int]]] = {}
        alert_sentences: dict[tuple[int, int], list[tuple[str, int, int]]] = {}
        vocab = self.nlp.vocab.strings
        for match_id, token_start, token_end in self._topic_matcher(doc):
            kind, _, code = vocab[match_id].partition("|")
            span = doc[token_start:token_end]
            start, end = span.start_char, span.end_char
            if kind == "commitment":
                commitment = self.keywords.commitments[code]
                add("commitment", code, commitment.title, start, end)
                commitment_sentences.setdefault(code, []).append(_sentence_at(text, starts, start))
            elif kind == "priority":
                add("priority", code, self.keywords.priorities[code].name, start, end)
            else:
                add("alert", code, code, start, end)
                alert_sentences.setdefault(_sentence_at(text, starts, start), []).append((code, start, end))
        # Facility word + one of the commitment's communes in the same sentence.
        if self._facility_words:
            communes_by_sentence: dict[tuple[int, int], set[str]] = {}
            for mention in mentions:
                if mention.place.kind == "commune":
                    communes_by_sentence.setdefault(_sentence_at(text, starts, mention.start), set()).add(mention.place.code)
            if communes_by_sentence:
                for token in doc:
                    ids = self._facility_words.get(token.text)
                    if not ids:
                        continue
                    sentence = _sentence_at(text, starts, token.idx)
                    present = communes_by_sentence.get(sentence, set())
                    for commitment_id in sorted(ids):
                        commitment = self.keywords.commitments[commitment_id]
                        if present.intersection(commitment.commune_codes):
                            add("commitment", commitment_id, commitment.title, token.idx, token.idx + len(token.text))
                            commitment_sentences.setdefault(commitment_id, []).append(sentence)
        for commitment_id, sentences in commitment_sentences.items():
            for sentence in dict.fromkeys(sentences):
                if sentence in alert_sentences:
                    link = add("commitment", commitment_id, self.keywords.commitments[commitment_id].title, *sentence)
                    link.evidence.pop()  # the sentence is risk evidence, not a match
                    link.at_risk = True
                    link.risk_evidence.append(Evidence(text[sentence[0]:sentence[1]], *sentence))
