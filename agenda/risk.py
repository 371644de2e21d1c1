"""Commitments in one text: which are really named, which one the text is about, which are in
trouble. Pure; ``agenda.link.Linker`` feeds it the matches and turns its findings into links.

What an analyst does, as rules (the word lists are data: keywords/alerts.yaml and
keywords/project_cues.yaml):
  - a generic name ("hospital de Ovalle", a facility word plus one of the communes) is the
    project only with a project cue in the sentence (nuevo, obras, licitación...) or when the text
    also names the commitment by a name of its own; "el actual hospital", "el antiguo puente" are
    the existing facility, never the commitment;
  - the text's subject is a commitment named in the title, or named in two sentences or more, or
    the only commitment named (outside a list: "el hospital A, el puente B y el liceo C");
  - trouble belongs to the commitment named in its sentence, else to the nearest one named in its
    paragraph, else to the subject; a commitment named only inside a list gets no one's trouble;
  - a term after a negation ("sin retrasos", "descartó atrasos") is no trouble; a resolution
    ("retomaron las obras") after the trouble is noted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import ahocorasick_rs

from agenda.commitment_names import GENERIC_QUALIFIERS, own_name, works_on_existing
from agenda.keywords import Keywords
from agenda.register import Commitment
from agenda.textnorm import fold

Span = tuple[int, int]
_PARAGRAPH = re.compile(r"[^\n]+")
_STOP_WORDS = frozenset(
    {"de", "del", "la", "el", "los", "las", "y", "e", "sobre", "en", "al", "a", "rio"}
)
# A list: separators that open an item (an article or a capitalised name after ", " or " y "),
# at least two in the sentence, and one right before or right after the name. Written to open
# with one character class (a comma or a blank), so the engine skips to those in C.
_ITEM_OPENING = re.compile(r"(?:,|\s[ye])\s+(?:(?:el|la|los|las|del|al)\s|(?=[A-ZÁÉÍÓÚÑ]))")
_LIST_BEFORE = re.compile(r"(?:,|\by|\be)\s*(?:(?:el|la|los|las|del|al)\s+)?$")
_LIST_AFTER = re.compile(r"^\s*(?:,|y\b|e\b)\s*(?:(?:el|la|los|las|del|al)\s|(?=[A-ZÁÉÍÓÚÑ]))")
_DATELINE = re.compile(
    r"[^\s.!?]+(?:\s+[^\s.!?]+){0,3}:"
)  # a headline's "Ovalle:", "Puerto Montt:"
_NAMED_FACILITY = re.compile(r"[ \t]+[A-ZÁÉÍÓÚÑ][\w-]+")  # "hospital Gustavo Fricke": another one


def _pair(name: str, commune_words: set[str]) -> bool:
    """'hospital buin-paine', 'tren santiago y melipilla': two of the communes, side by side."""
    return bool(re.search(r"(\w+)(?:-|\s+y\s+)(\w+)", name)) and any(
        a in commune_words and b in commune_words and a != b
        for a, b in re.findall(r"(\w+)(?:-|\s+y\s+)(\w+)", name)
    )


def _term_pattern(term: str, bounded: bool = True) -> str:
    """'paraliz*' -> a prefix; 'contraloría ... objet*' -> both parts, up to 8 words apart."""

    def part(text: str) -> str:
        words = [
            re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w)
            for w in fold(text).split()
        ]
        return r"\s+".join(words)

    pieces = [part(p) for p in term.split("...")]
    gap = r"(?:[^\w.!?;:\n]+\w+){0,8}?[^\w.!?;:\n]+"  # within one sentence
    return (r"(?<!\w)" if bounded else "") + gap.join(pieces) + r"(?!\w)"


def _any_term(terms: Iterable[str]) -> str:
    """The terms as one alternation, the word boundary before them written once: the engine
    tests it once per character instead of once per term (what each ``_term_pattern`` would),
    and then only the terms whose first letter is there. The same matches."""
    bodies = [_term_pattern(term, bounded=False) for term in terms]
    return r"(?<!\w)(?:" + "|".join(bodies) + ")" if bodies else "(?!)"


def _opening_alternatives(term_sets: Iterable[_Terms]) -> dict[str, str]:
    """Each opening's pattern after its first letter: the rest of the opening, and a lookahead
    over the tails of its terms in all the sets."""
    tails: dict[str, list[str] | None] = {}
    for terms in term_sets:
        for key, own in terms.tails.items():
            known = tails.setdefault(key, [])
            if known is None or own is None:
                tails[key] = None  # no tail to check: every opening goes to Python
            else:
                known.extend(own)
    return {
        key: re.escape(key[1:])
        + ("" if len(key) == 3 else r"(?!\w)")
        + ("" if lookahead is None else "(?=" + "|".join(lookahead or ["(?!)"]) + ")")
        for key, lookahead in tails.items()
    }


def _openings_body(term_sets: Iterable[_Terms]) -> str | None:
    """The alternatives of ``_openings_pattern``, without the word boundary before them."""
    alternatives = _opening_alternatives(term_sets)
    by_letter: dict[str, list[str]] = {}
    for key in sorted(alternatives, key=len, reverse=True):
        by_letter.setdefault(key[0], []).append(alternatives[key])
    if not by_letter:
        return None
    return "|".join(re.escape(c) + "(?:" + "|".join(v) + ")" for c, v in by_letter.items())


def _openings_pattern(term_sets: Iterable[_Terms]) -> re.Pattern[str] | None:
    """One pattern for the word openings of several term sets: one scan of the text for all.

    Only the word openings some term starts with: the engine skips the other words in C. An
    opening is reported only when one of its terms goes on from there (a lookahead over their
    tails), so the common openings ("en", "no", "con") cost no Python step; the openings are
    grouped by their first letter, so fewer alternatives are tried at each word. Two openings
    never meet at one place (three letters, or a whole shorter word), so one scan reports what
    the scans of each set would."""
    body = _openings_body(term_sets)
    return None if body is None else re.compile(r"(?<!\w)(?:" + body + ")")


class _SiftedOpeningScan:
    """``_openings_pattern``'s (start, opening) over a whole text, looked for only where a term
    may be: the text is sifted first for the words each term's match holds
    (``_OpeningsSieve``), which leaves no opening in most texts and one or two in the others;
    each of those is then searched alone, by its own pattern opening with its letters (found in
    C by a string search, where the joint pattern stops at every word): 19 -> 8 us on a bench
    text. The word boundary before an opening is tested after, on the one character before it.
    Two openings never meet at one place (``_openings_pattern``), and one made of letters is
    never inside another's word: the searches together report what the joint pattern would.
    Openings that hold a sign could meet the next word's sign: those keep the joint pattern."""

    def __init__(self, term_sets: Iterable[_Terms]) -> None:
        sets = list(term_sets)
        self._sieve = _OpeningsSieve(need for terms in sets for need in terms.needs)
        self._joint = _openings_pattern(sets)
        alternatives = _opening_alternatives(sets)
        self._alone = (
            {key: re.compile(re.escape(key[0]) + rest) for key, rest in alternatives.items()}
            if all(re.fullmatch(r"\w+", key) for key in alternatives)
            else None
        )

    def __call__(self, folded: str) -> list[tuple[int, str]]:
        keys = self._sieve(folded)
        if not keys:
            return []  # no term's words all there: no term starts anywhere
        if self._alone is None:
            joint = self._joint.finditer(folded) if self._joint is not None else ()
            return [(m.start(), m.group()) for m in joint]
        found = [
            (start, key)
            for key in keys
            for start in (m.start() for m in self._alone[key].finditer(folded))
            if not start or not _is_word_char(folded[start - 1])
        ]
        if len(keys) > 1:
            found.sort()
        return found


class _OpeningsSieve:
    """The openings that may start a match in a text: those of the terms whose literal words
    are all in it (a match holds them all). The words are found in one pass in C
    (Aho-Corasick); words of three letters or fewer ("de", "los", "rca") are not looked for:
    most texts hold them, and their hits cost more than the scans they save (a term made only
    of such words always may match). Each term's words are checked only when its longest is
    there (few per text)."""

    def __init__(self, needs: Iterable[tuple[str, frozenset[str]]]) -> None:
        sought = [(key, frozenset(w for w in words if len(w) > 3)) for key, words in needs]
        self._always = frozenset(key for key, words in sought if not words)
        strings = sorted({w for _, words in sought for w in words})
        index = {string: at for at, string in enumerate(strings)}
        self._needs_by_longest: dict[int, list[tuple[str, frozenset[int]]]] = {}
        for key, words in sought:
            if words:
                longest = index[max(sorted(words), key=len)]
                self._needs_by_longest.setdefault(longest, []).append(
                    (key, frozenset(index[w] for w in words))
                )
        self._automaton = (
            ahocorasick_rs.AhoCorasick(strings, implementation=ahocorasick_rs.Implementation.DFA)
            if strings
            else None
        )

    def __call__(self, folded: str) -> frozenset[str]:
        if self._automaton is None:
            return self._always
        # overlapping: a word inside a longer one found ("obra" in "obras") is found too
        hits = self._automaton.find_matches_as_indexes(folded, overlapping=True)
        found = {at for at, _, _ in hits}
        needs_by_longest = self._needs_by_longest
        keys = [
            key
            for at in found
            if at in needs_by_longest
            for key, words in needs_by_longest[at]
            if words <= found
        ]
        return self._always.union(keys) if keys else self._always


def _is_word_char(char: str) -> bool:
    """What ``\\w`` matches in a str pattern: a letter, digit or numeral, or "_"."""
    return char.isalnum() or char == "_"


class _Terms:
    """Many terms found in one pass: each word's first three letters pick the few terms that
    may start there (a hundred alternatives tried at every character was the linker's slowest
    step). Matches do not overlap, and at one place the first term listed wins."""

    def __init__(self, terms: Iterable[str]) -> None:
        self._by_opening: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
        # what must follow an opening for one of its terms to match ("en" -> "\s+quiebra");
        # None: a term whose pattern does not start with its opening, every opening is tried
        self.tails: dict[str, list[str] | None] = {}
        # each term's opening and the words a match from there holds: the term's literal words,
        # or only the opening where the term does not start with it (then it alone is reported)
        self.needs: list[tuple[str, frozenset[str]]] = []
        for index, term in enumerate(terms):
            first = fold(term.strip()).split()[0].rstrip("*")
            source = _term_pattern(term, bounded=False)
            key = first[:3]
            self._by_opening.setdefault(key, []).append((index, re.compile(source)))
            known = self.tails.setdefault(key, [])
            if known is not None and source.startswith(re.escape(key)):
                known.append(source[len(re.escape(key)) :])
                words = (w.rstrip("*") for w in fold(term.replace("...", " ")).split())
                self.needs.append((key, frozenset(w for w in words if w)))
            else:
                self.tails[key] = None
                self.needs.append((key, frozenset({key})))
        self._openings = _openings_pattern([self])

    def finditer(
        self,
        folded: str,
        pos: int = 0,
        endpos: int | None = None,
        openings: list[tuple[int, str]] | None = None,
    ) -> Iterator[tuple[int, int, int]]:
        """(term index, start, end) of each match in folded[pos:endpos]. ``openings``: the
        (start, opening) found by a joint scan (``_openings_pattern``) over this set and others."""
        end_of_last = -1
        endpos = len(folded) if endpos is None else endpos
        if openings is None:
            if self._openings is None:
                return
            found = self._openings.finditer(folded, pos, endpos)
            openings = [(m.start(), m.group()) for m in found]
        for start, key in openings:
            candidates = self._by_opening.get(key)
            if candidates is None or start < end_of_last:
                continue  # another set's opening, or inside the last match
            for index, pattern in candidates:
                match = pattern.match(folded, start, endpos)
                if match:
                    end_of_last = match.end()
                    yield index, start, match.end()
                    break


@dataclass
class Hit:
    term: str
    kind: str
    start: int
    end: int


@dataclass
class Finding:
    """One commitment in one text."""

    id: str
    mentions: list[Span] = field(default_factory=list)
    at_risk: bool = False
    risk_kind: str | None = None
    risk_sentences: list[Span] = field(default_factory=list)  # the trouble's, then the name's
    resolved: bool = False
    resolution_sentences: list[Span] = field(default_factory=list)


@dataclass
class _Mention:
    id: str
    start: int
    end: int
    sentence: Span
    paragraph: int
    in_list: bool


class RiskReader:
    """Built once per linker from the keywords."""

    def __init__(self, keywords: Keywords) -> None:
        self.keywords = keywords
        kinds = [(kind.id, term) for kind in keywords.alert_kinds.values() for term in kind.terms]
        self._trouble_terms = kinds
        self._trouble = _Terms(term for _, term in kinds)
        self._resolutions = _Terms(keywords.alert_resolutions)
        self._openings = _SiftedOpeningScan([self._trouble, self._resolutions])
        negations = _any_term(keywords.alert_negations)
        # "sin embargo, hay retrasos" is no negation
        self._negated = re.compile(r"(?:" + negations + r")(?!\W+embargo)(?:\W+\w+){0,2}\W*$")
        cues = _any_term(keywords.project_cues)
        self._cue = re.compile(cues)  # searched in one sentence at a time
        new_words = _any_term(keywords.new_words)
        self._new_before = re.compile(r"(?:" + new_words + r")(?:\W+\w+)?\W*$")
        self._new_opening = re.compile(r"(?:" + new_words + r")\s")
        self._own_names = {
            c.id: fold(own_name(c.title) or "") for c in keywords.commitments.values()
        }
        existing = _any_term(keywords.existing_words)
        self._existing_before = re.compile(
            r"(?:"
            + existing
            + r")\s+(?:(?:edificio|recinto|inmueble|establecimiento)\s+(?:del|de\s+la|de)\s+)?$"
        )
        self._existing_after = re.compile(r"\s+(?:" + existing + r")(?!\w)")
        self._commune_words = {
            c.id: {
                w
                for code in c.commune_codes
                for w in re.split(r"[\s-]+", fold(keywords.place("commune", code).name))
            }
            for c in keywords.commitments.values()
        }
        self._on_existing = {
            c.id for c in keywords.commitments.values() if works_on_existing(c.title)
        }
        # The words a generic name of each commitment is made of, gathered once (not per mention).
        self._generic_words: dict[str, frozenset[str]] = {}
        for c in keywords.commitments.values():
            facility = {w for f in c.facility_words for w in fold(f).split()}
            facility |= {w + "s" for w in facility} | {w + "es" for w in facility}
            self._generic_words[c.id] = frozenset(
                facility | self._commune_words[c.id] | GENERIC_QUALIFIERS | _STOP_WORDS
            )
        # Whether each of a commitment's own names is generic, worked out once per name: the
        # matcher finds these names (another spacing of one is worked out when it is met).
        self._generic_names = {
            (c.id, " ".join(fold(name).split())): self._generic(c, fold(name))
            for c in keywords.commitments.values()
            for name in c.names()
        }

    # -- which mentions count --------------------------------------------------------------
    def _generic(self, commitment: Commitment, folded_name: str) -> bool:
        """A name made only of facility words, the commitment's communes, a river and words
        like "nuevo" or "provincial": the same words name the city's existing facility."""
        name = " ".join(folded_name.split())
        if name == self._own_names[commitment.id]:
            return False  # the title's own name ("Teatro Regional de Rancagua")
        if _pair(name, self._commune_words[commitment.id]):
            return False  # "Hospital Buin-Paine": no existing facility is named after two communes
        if commitment.id in self._on_existing:  # "Ampliación del Aeródromo X": X exists today
            return not name.startswith(("nuevo ", "nueva "))
        allowed = self._generic_words[commitment.id]
        words = re.split(r"[\s-]+", name)
        after_river = [i for i, w in enumerate(words) if w == "rio"]
        if after_river:
            words = words[: after_river[0]]  # the river's name names no project
        return all(w in allowed for w in words if w)

    def _existing(self, folded: str, start: int, end: int, sentence: Span) -> bool:
        before = folded[max(sentence[0], start - 60) : start]
        return bool(self._existing_before.search(before) or self._existing_after.match(folded, end))

    def _has_cue(self, folded: str, start: int, sentence: Span) -> bool:
        """A project cue in the sentence ("obras", "licitación"), or "nuevo"/"futuro" right
        before the name or opening it ("el nuevo hospital": not "un nuevo resonador")."""
        if self._new_opening.match(folded, start) or self._new_before.search(
            folded, max(sentence[0], start - 30), start
        ):
            return True
        return bool(self._cue.search(folded, sentence[0], sentence[1]))

    def read(
        self,
        text: str,
        folded: str,
        names: list[tuple[str, int, int]],
        facilities: list[tuple[set[str], int, int]],
        communes: list[tuple[str, int, int]],
        sentence_of: Callable[[int], Span],
    ) -> tuple[list[Finding], list[Hit]]:
        """``names``: (commitment id, start, end) of alias matches; ``facilities``: (commitment
        ids, start, end) of facility words; ``communes``: (code, start, end) of commune mentions;
        ``sentence_of``: the (start, end) of the sentence around an offset, the same for every
        offset inside it. Returns the commitments found, in order of first mention, and the
        trouble terms."""
        commitments = self.keywords.commitments
        specific: set[str] = set()
        candidates: list[
            tuple[str, int, int, Span, bool]
        ] = []  # id, start, end, sentence, needs cue
        for commitment_id, start, end in names:
            sentence = sentence_of(start)
            if self._existing(folded, start, end, sentence):
                continue
            generic = self._generic_names.get((commitment_id, " ".join(folded[start:end].split())))
            if generic is None:
                generic = self._generic(commitments[commitment_id], folded[start:end])
            if not generic:
                specific.add(commitment_id)
            candidates.append((commitment_id, start, end, sentence, generic))
        communes_by_sentence: dict[Span, set[str]] = {}
        last_sentence, last_codes = (0, 0), set()
        for code, start, _ in communes if facilities else ():  # only facility words read them
            # the communes of one sentence come in a row: its bounds are looked up once
            if not last_sentence[0] <= start < last_sentence[1]:
                last_sentence = sentence_of(start)
                last_codes = communes_by_sentence.setdefault(last_sentence, set())
            last_codes.add(code)
        # "Ovalle: avanzan obras del hospital": a dateline's communes count in the next sentence
        # too (each sentence looked at once; only the communes named in it are passed on)
        # (a dateline ends with its colon: the pattern runs only on sentences that do)
        spill = [
            (sentence_of(sentence[1] + 1), frozenset(codes))
            for sentence, codes in communes_by_sentence.items()
            if sentence[1] > sentence[0]
            and text[sentence[1] - 1] == ":"
            and _DATELINE.fullmatch(text, *sentence)
        ]
        for sentence, codes in spill:
            communes_by_sentence.setdefault(sentence, set()).update(codes)
        for ids, start, end in facilities:
            if _NAMED_FACILITY.match(text, end):
                continue  # "puente Calle-Calle", "hospital Gustavo Fricke": another, named facility
            sentence = sentence_of(start)
            present = communes_by_sentence.get(sentence)
            if not present or self._existing(folded, start, end, sentence):
                continue
            for commitment_id in sorted(ids):
                if present.intersection(commitments[commitment_id].commune_codes):
                    candidates.append((commitment_id, start, end, sentence, True))
        if not candidates:
            return [], []
        paragraphs = [m.span() for m in _PARAGRAPH.finditer(text)]
        mentions: list[_Mention] = []
        taken: dict[str, list[Span]] = {}
        for commitment_id, start, end, sentence, needs_cue in sorted(
            candidates, key=lambda c: (c[1], -c[2])
        ):
            if (
                needs_cue
                and commitment_id not in specific
                and not self._has_cue(folded, start, sentence)
            ):
                continue
            if any(s <= start < e for s, e in taken.get(commitment_id, [])):
                continue  # a facility word inside the name already found
            taken.setdefault(commitment_id, []).append((start, end))
            paragraph = next((i for i, (s, e) in enumerate(paragraphs) if s <= start < e), 0)
            in_list = self._in_list(text, folded, start, end, sentence)
            mentions.append(_Mention(commitment_id, start, end, sentence, paragraph, in_list))
        if not mentions:
            return [], []
        return self._judge(text, folded, mentions, paragraphs, sentence_of)

    @staticmethod
    def _in_list(text: str, folded: str, start: int, end: int, sentence: Span) -> bool:
        """One item of an enumeration ("el hospital A, el puente B y el liceo C"), or a plural
        facility word ("los hospitales de ..."): mentioned, not the subject."""
        if folded[start:end].endswith("s") and " " not in folded[start:end]:
            return True  # "hospitales", "puentes": several facilities
        openings = _ITEM_OPENING.finditer(text, sentence[0], sentence[1])
        if (
            sum(1 for o in openings if not start <= o.start() < end) < 2
        ):  # "Buin y Paine" is one name
            return False
        return bool(
            _LIST_BEFORE.search(folded[sentence[0] : start])
            or _LIST_AFTER.match(text[end : sentence[1]])
        )

    # -- subject, trouble, resolution ---------------------------------------------------------
    def _judge(
        self,
        text: str,
        folded: str,
        mentions: list[_Mention],
        paragraphs: list[Span],
        sentence_of: Callable[[int], Span],
    ) -> tuple[list[Finding], list[Hit]]:
        findings: dict[str, Finding] = {}
        for mention in mentions:
            finding = findings.get(mention.id)
            if finding is None:  # a Finding made only for a new commitment, not per mention
                finding = findings[mention.id] = Finding(mention.id)
            finding.mentions.append((mention.start, mention.end))
        has_title = len(paragraphs) > 1
        subjects = set()
        for commitment_id in findings:
            own = [m for m in mentions if m.id == commitment_id]
            in_title = has_title and any(m.paragraph == 0 and not m.in_list for m in own)
            several = len({m.sentence for m in own}) >= 2
            only = len(findings) == 1 and any(not m.in_list for m in own)
            if in_title or several or only:
                subjects.add(commitment_id)
        # one scan of the text for the openings of trouble and resolution terms both
        openings = self._openings(folded)
        hits = self._hits(folded, self._trouble, openings, sentence_of, trouble=True)
        # The body's account of the trouble is the evidence to keep; the title says it in short.
        title_end = paragraphs[0][1] if has_title else 0
        for hit in sorted(hits, key=lambda h: (h.start < title_end, h.start)):
            for commitment_id, mention in self._owners(
                hit.start, mentions, paragraphs, subjects, sentence_of
            ):
                finding = findings[commitment_id]
                if finding.at_risk:
                    continue
                finding.at_risk, finding.risk_kind = True, hit.kind
                trouble_sentence = sentence_of(hit.start)
                finding.risk_sentences = list(dict.fromkeys([trouble_sentence, mention.sentence]))
        # A resolution after the trouble, or in an article that reports none ("retoman las
        # faenas"), says the commitment is back on track: the follow-up report reads it.
        for hit in self._hits(folded, self._resolutions, openings, sentence_of, trouble=False):
            for commitment_id, _ in self._owners(
                hit.start, mentions, paragraphs, subjects, sentence_of
            ):
                finding = findings[commitment_id]
                first_trouble = finding.risk_sentences[0][0] if finding.at_risk else None
                if finding.resolved or (first_trouble is not None and hit.start <= first_trouble):
                    continue
                finding.resolved = True
                finding.resolution_sentences = [sentence_of(hit.start)]
        return list(findings.values()), hits

    def _hits(
        self,
        folded: str,
        terms: _Terms,
        openings: list[tuple[int, str]],
        sentence_of: Callable[[int], Span],
        trouble: bool,
    ) -> list[Hit]:
        hits = []
        for index, start, end in terms.finditer(folded, openings=openings):
            sentence = sentence_of(start)
            if end > sentence[1] + 1:
                continue  # "a ... b" across two sentences
            if trouble and self._negated.search(folded[max(sentence[0], start - 40) : start]):
                continue
            kind, term = (
                self._trouble_terms[index]
                if trouble
                else ("resolution", self.keywords.alert_resolutions[index])
            )
            hits.append(Hit(term, kind, start, end))
        return hits

    @staticmethod
    def _owners(
        offset: int,
        mentions: list[_Mention],
        paragraphs: list[Span],
        subjects: set[str],
        sentence_of: Callable[[int], Span],
    ) -> list[tuple[str, _Mention]]:
        """Whose trouble this is: the commitment named in the sentence, else the nearest one
        named in the paragraph, else the text's subject (with the mention nearest to it)."""
        sentence = sentence_of(offset)
        paragraph = next((i for i, (s, e) in enumerate(paragraphs) if s <= offset < e), 0)
        named = [m for m in mentions if not m.in_list and m.sentence == sentence]
        if not named:
            near = [m for m in mentions if not m.in_list and m.paragraph == paragraph]
            if near:
                distance = min(abs(m.start - offset) for m in near)
                named = [m for m in near if abs(m.start - offset) == distance]
        if not named:
            named = [
                min(
                    (m for m in mentions if m.id == commitment_id),
                    key=lambda m: abs(m.start - offset),
                )
                for commitment_id in sorted(subjects)
            ]
        owners: dict[str, _Mention] = {}
        for mention in named:
            owners.setdefault(mention.id, mention)
        return list(owners.items())
