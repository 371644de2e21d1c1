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
from collections.abc import Iterable
from typing import Final, final

from agenda.commitment_names import GENERIC_QUALIFIERS, own_name, works_on_existing
from agenda.keywords import Keywords
from agenda.link_match import Occurrence
from agenda.link_tokens import Sentences
from agenda.register import Commitment
from agenda.textnorm import fold

Span = tuple[int, int]
_STOP_WORDS: Final = frozenset(
    {"de", "del", "la", "el", "los", "las", "y", "e", "sobre", "en", "al", "a", "rio"}
)
# A list: separators that open an item (an article or a capitalised name after ", " or " y "),
# at least two in the sentence, and one right before or right after the name. Written to open
# with one character class (a comma or a blank), so the engine skips to those in C.
_ITEM_OPENING: Final = re.compile(r"(?:,|\s[ye])\s+(?:(?:el|la|los|las|del|al)\s|(?=[A-ZÁÉÍÓÚÑ]))")
_ARTICLES: Final = ("el", "la", "los", "las", "del", "al")  # before a list's item
_LIST_AFTER: Final = re.compile(  # matched at the name's end
    r"\s*(?:,|y\b|e\b)\s*(?:(?:el|la|los|las|del|al)\s|(?=[A-ZÁÉÍÓÚÑ]))"
)
_LIST_AFTER_OPENERS: Final = frozenset(",ye")  # what _LIST_AFTER finds after its blanks
_DATELINE: Final = re.compile(
    r"[^\s.!?]+(?:\s+[^\s.!?]+){0,3}:"
)  # a headline's "Ovalle:", "Puerto Montt:"
_CAPITALS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZÁÉÍÓÚÑ"
# "el edificio del" antiguo hospital: words that may stand between an existing word and the name
_BUILDING_WORDS: Final = ("edificio", "recinto", "inmueble", "establecimiento")
_BUILDING_OF: Final = ("del", "de la", "de")  # in the pattern's order: "de la" before "de"
_NAMED_FACILITY: Final = re.compile(
    r"[ \t]+[" + _CAPITALS + r"][\w-]+"
)  # "hospital Gustavo Fricke": another one
# Words this short are not looked for by the sieve (``_OpeningsSieve``).
_SIEVE_SHORT: Final = 3


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
    # within one sentence; the words between read possessively (a run of word characters, or
    # of others, taken whole: the other kind follows each, so a shorter run never matched),
    # which spares the backtracking through every word's letters when no term is there
    gap = r"(?:[^\w.!?;:\n]++\w++){0,8}?[^\w.!?;:\n]+"
    return (r"(?<!\w)" if bounded else "") + gap.join(pieces) + r"(?!\w)"


def _any_term(terms: Iterable[str]) -> str:
    """The terms as one alternation (what ``(?<!\\w)(?:term|term...)`` finds, the terms'
    ``_term_pattern``s), grouped by their first letter, each group opening with it and the word
    boundary tested after it (``x(?<!\\w.)``): a pattern that opens with letters lets the engine
    skip in C to the places where one stands, instead of trying the whole pattern at every
    character. At one place only one group can match, its terms in their order: the same
    matches. Terms that open with another sign keep the plain form."""
    bodies = [_term_pattern(term, bounded=False) for term in terms]
    if not bodies:
        return "(?!)"
    if not all(_is_word_char(body[0]) for body in bodies):
        return r"(?<!\w)(?:" + "|".join(bodies) + ")"
    by_letter: dict[str, list[str]] = {}
    for body in bodies:
        by_letter.setdefault(body[0], []).append(body[1:])
    return (
        "(?:"
        + "|".join(
            letter + r"(?<!\w.)(?:" + "|".join(rests) + ")" for letter, rests in by_letter.items()
        )
        + ")"
    )


@final
class _TermSearch:
    """Whether ``_any_term(terms)`` and then ``after`` match in text[begin:end]: what the
    pattern's ``search(text, begin, end)`` says, the pattern tried only where one of the terms'
    first words stands (found by ``str.find``, in C): a search tries it at every letter, a
    sentence's worth of them for each question. A term that opens with a gap (no first word)
    leaves the search to the pattern."""

    def __init__(self, terms: Iterable[str], after: str = "") -> None:
        listed = list(terms)
        pattern = re.compile("(?:" + _any_term(listed) + ")" + after)
        self._match = pattern.match
        self._search = pattern.search
        literals = {_first_literal(term) for term in listed}
        # a first word that starts with another is found where that one is
        shortest = [w for w in literals if not any(w != o and w.startswith(o) for o in literals)]
        self._literals: list[str] | None = None if "" in literals else sorted(shortest)
        # a str.startswith with a tuple and a place is a generic call, dearer than this test
        self._first_letters = "".join(sorted({w[0] for w in literals if w}))

    def may_start(self, text: str, at: int) -> bool:
        """Whether one of the terms may start at ``at``: one of their first words' first
        letters stands there (always, when a term opens with a gap)."""
        return self._literals is None or (at < len(text) and text[at] in self._first_letters)

    def found(self, text: str, begin: int, end: int) -> bool:
        literals = self._literals
        if literals is None:
            return self._search(text, begin, end) is not None
        match = self._match
        for literal in literals:
            at = text.find(literal, begin, end)
            while at >= 0:
                if match(text, at, end) is not None:
                    return True
                at = text.find(literal, at + 1, end)
        return False


@final
class _LastWord:
    """Whether a pattern that ends with one of ``terms``, then blanks to its end (maybe with
    words of ``others`` between), can match text[begin:end] there: the last word before the
    closing blanks (the run of letters after a space) is a term's last word, or one of
    ``others``. Asked before a ``_TermSearch`` of such a pattern: most words before a name are
    none of them, and this is a few calls in C where the search finds each term's first word.
    A term whose last word holds a sign, and a last word that holds one, leave it to the search."""

    def __init__(self, terms: Iterable[str], others: Iterable[str]) -> None:
        words = set(others)
        stems: set[str] = set()
        self._always = False
        for term in terms:
            last_words = fold(term.split("...")[-1]).split()
            last = last_words[-1] if last_words else ""  # "viejo ...": the search tells
            word = last.rstrip("*")
            if not word.isalnum():
                self._always = True
            (stems if last.endswith("*") else words).add(word)
        self._words = frozenset(words)
        self._stems = tuple(sorted(stems))

    def may_end(self, text: str, begin: int, end: int) -> bool:
        if self._always:
            return True
        stop = _before_blanks(text, begin, end)
        if stop == end:
            return False  # no blank closes it
        space = text.rfind(" ", begin, stop)
        word = text[begin if space < 0 else space + 1 : stop]
        if not word.isalnum():
            return True  # a sign or another blank in it: the search tells
        return word in self._words or word.startswith(self._stems)


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


@final
class _SiftedOpeningScan:
    """``_openings_pattern``'s (start, opening) over a whole text, looked for only where a term
    may be. One pass in C (Aho-Corasick, ``OverlappingSearch``) finds the words of the terms
    (``strings``; the linker's phrase matcher finds them in its own pass), and the sieve
    (``_OpeningsSieve``) keeps the openings of the terms whose words are all there: none in
    most texts, one or two in the others. The same pass found where such an opening may stand:
    at the first word of one of its terms (a match starts with it), when all its terms' first
    words have three letters or more; its own pattern, opening with its letters, is tried
    there only. An opening with a shorter first word ("en", "se") is searched for through the
    text. The word boundary before an opening is tested after, on the one character before
    it. Two openings never meet at one place (``_openings_pattern``), and one made of letters
    is never inside another's word: the searches together report what the joint pattern
    would. Openings that hold a sign could meet the next word's sign: those keep the joint
    pattern."""

    def __init__(self, term_sets: list[_Terms]) -> None:
        needs = [need for terms in term_sets for need in terms.needs]
        literals = [pair for terms in term_sets for pair in terms.literals]
        alternatives = _opening_alternatives(term_sets)
        self._joint = _openings_pattern(term_sets)
        self._alone: dict[str, re.Pattern[str]] | None = (
            {key: re.compile(re.escape(key[0]) + rest) for key, rest in alternatives.items()}
            if all(re.fullmatch(r"\w+", key) for key in alternatives)
            else None
        )
        # a short first word ("en") would be found all over: its opening is searched for instead
        searched = {key for key, literal in literals if len(literal) < 3}
        placed = {(key, literal) for key, literal in literals if key not in searched}
        self._placed = frozenset(key for key, _ in placed)
        words = {word for _, needed in needs for word in needed if len(word) > _SIEVE_SHORT}
        strings = sorted(words | {literal for _, literal in placed})
        index = {string: at for at, string in enumerate(strings)}
        self._opening_at: dict[int, str] = {index[literal]: key for key, literal in placed}
        self._sieve = _OpeningsSieve(needs, index)
        self.strings = strings  # the words to find in a text, by the numbers the scan reads

    def openings(self, folded: str, hits: list[Occurrence]) -> list[tuple[int, str]]:
        """(start, opening) of each opening in ``folded``, in the order of the text; ``hits``:
        every occurrence of ``strings`` in it (number, start, end), in any order."""
        keys = self._sieve.keys({at for at, _, _ in hits})
        if not keys:
            return []  # no term's words all there: no term starts anywhere
        alone = self._alone
        if alone is None:
            joint = self._joint.finditer(folded) if self._joint is not None else ()
            return [(m.start(), m.group()) for m in joint]
        # the first words' places, in the order of the text (a word and a longer one with the
        # same letters are both found at one place: it is tried once)
        placed: list[tuple[int, str]] = []
        for at, start, _ in hits:
            key = self._opening_at.get(at)
            if key is not None and key in keys:
                placed.append((start, key))
        placed.sort()
        found: list[tuple[int, str]] = []
        free: dict[str, int] = {}  # where finditer would go on after each opening's last match
        last: tuple[int, str] = (-1, "")
        for start, key in placed:
            if (start, key) == last or start < free.get(key, 0):
                continue
            last = (start, key)
            if alone[key].match(folded, start):
                free[key] = start + len(key)
                if not start or not _is_word_char(folded[start - 1]):
                    found.append((start, key))
        searched = [key for key in keys if key not in self._placed]
        for key in searched:
            for match in alone[key].finditer(folded):
                start = match.start()
                if not start or not _is_word_char(folded[start - 1]):
                    found.append((start, key))
        if searched and len(keys) > 1:
            found.sort()
        return found


@final
class _OpeningsSieve:
    """The openings that may start a match in a text: those of the terms whose literal words
    are all in it (a match holds them all). Words of three letters or fewer ("de", "los",
    "rca") are not looked for: most texts hold them, and their hits cost more than the scans
    they save (a term made only of such words always may match). Each term's words are checked
    only when its longest is there (few per text)."""

    def __init__(self, needs: list[tuple[str, frozenset[str]]], index: dict[str, int]) -> None:
        """``needs``: each term's opening and words; ``index``: each word's number in the
        search whose findings the sieve reads."""
        sought = [
            (key, frozenset(w for w in words if len(w) > _SIEVE_SHORT)) for key, words in needs
        ]
        self._always = frozenset(key for key, words in sought if not words)
        self._needs_by_longest: dict[int, list[tuple[str, frozenset[int]]]] = {}
        for key, words in sought:
            if words:
                longest = index[max(sorted(words), key=len)]
                self._needs_by_longest.setdefault(longest, []).append(
                    (key, frozenset(index[w] for w in words))
                )

    def keys(self, found: set[int]) -> frozenset[str]:
        """The openings for the words found (their numbers)."""
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


def _first_literal(term: str) -> str:
    """The letters every match of ``_term_pattern(term)`` starts with: its first word, less a
    final "*" ("paraliz" of "paraliz*"); "" when it starts with a gap."""
    words = fold(term.split("...")[0]).split()
    if not words:
        return ""
    return words[0][:-1] if words[0].endswith("*") else words[0]


@final
class _Terms:
    """Many terms found in one pass: each word's first three letters pick the few terms that
    may start there (a hundred alternatives tried at every character was the linker's slowest
    step). Matches do not overlap, and at one place the first term listed wins."""

    def __init__(self, terms: Iterable[str]) -> None:
        sources: dict[str, list[tuple[int, str]]] = {}  # each opening's terms, in their order
        # what must follow an opening for one of its terms to match ("en" -> "\s+quiebra");
        # None: a term whose pattern does not start with its opening, every opening is tried
        self.tails: dict[str, list[str] | None] = {}
        # each term's opening and the words a match from there holds: the term's literal words,
        # or only the opening where the term does not start with it (then it alone is reported)
        self.needs: list[tuple[str, frozenset[str]]] = []
        # each term's opening and what each reported opening starts with: the term's first
        # literal, or the opening itself where the term does not start with it
        self.literals: list[tuple[str, str]] = []
        for index, term in enumerate(terms):
            first = fold(term.strip()).split()[0].rstrip("*")
            source = _term_pattern(term, bounded=False)
            key = first[:3]
            sources.setdefault(key, []).append((index, source))
            known = self.tails.setdefault(key, [])
            if known is not None and source.startswith(re.escape(key)):
                known.append(source[len(re.escape(key)) :])
                words = (w.rstrip("*") for w in fold(term.replace("...", " ")).split())
                self.needs.append((key, frozenset(w for w in words if w)))
                self.literals.append((key, _first_literal(term)))
            else:
                self.tails[key] = None
                self.needs.append((key, frozenset({key})))
                self.literals.append((key, key))
        # each opening's terms as one alternation, a group for each: at one place the first
        # term that matches is the group matched (one call, where a pattern per term was tried
        # in turn); the terms' patterns hold no groups of their own
        self._by_opening: dict[str, tuple[re.Pattern[str], list[int]]] = {
            key: (
                re.compile("|".join("(" + source + ")" for _, source in listed)),
                [index for index, _ in listed],
            )
            for key, listed in sources.items()
        }

    def matches(self, folded: str, openings: list[tuple[int, str]]) -> list[tuple[int, int, int]]:
        """(term index, start, end) of each match in ``folded``. ``openings``: the (start,
        opening) found by a joint scan over this set and others (``_SiftedOpeningScan``)."""
        found: list[tuple[int, int, int]] = []
        end_of_last = -1
        for start, key in openings:
            terms = self._by_opening.get(key)
            if terms is None or start < end_of_last:
                continue  # another set's opening, or inside the last match
            pattern, indexes = terms
            match = pattern.match(folded, start)
            if match:
                group = match.lastindex
                assert group is not None  # the group of the term matched
                end_of_last = match.end()
                found.append((indexes[group - 1], start, end_of_last))
        return found


@final
class Hit:
    """A trouble or resolution term found in a text."""

    def __init__(self, term: str, kind: str, start: int, end: int) -> None:
        self.term = term
        self.kind = kind
        self.start = start
        self.end = end


@final
class Finding:
    """One commitment in one text."""

    def __init__(self, id: str) -> None:
        self.id = id
        self.mentions: list[Span] = []
        self.at_risk = False
        self.risk_kind: str | None = None
        self.risk_sentences: list[Span] = []  # the trouble's, then the name's
        self.resolved = False
        self.resolution_sentences: list[Span] = []


@final
class _Mention:
    def __init__(
        self, id: str, start: int, end: int, sentence: Span, paragraph: int, in_list: bool
    ) -> None:
        self.id = id
        self.start = start
        self.end = end
        self.sentence = sentence
        self.paragraph = paragraph  # where its paragraph starts (``_Paragraphs.of``)
        self.in_list = in_list


# A commitment's possible mention: (start, -end, number, id, end, sentence, whether it needs a
# project cue). Sorted as it is: the first mention first, at one place the longest, then in the
# order found (the number; a sort with a key function calls it from C for each).
_Candidate = tuple[int, int, int, str, int, Span, bool]


@final
class _Paragraphs:
    """The paragraphs of one text (its runs of characters other than a newline), read where
    asked: a paragraph is named by where it starts, found back from an offset (listing a text's
    paragraphs cost a find and a tuple each)."""

    def __init__(self, text: str) -> None:
        self.text = text
        size = len(text)
        first = 0
        while first < size and text[first] == "\n":
            first += 1
        self.first = first  # the first paragraph's start: the title's, when there are others
        end = text.find("\n", first)
        self.title_end = size if end < 0 else end
        after = self.title_end
        while after < size and text[after] == "\n":
            after += 1
        self.has_title = after < size  # another paragraph follows the first

    def of(self, offset: int) -> int:
        """Where the paragraph holding ``offset`` starts; the first's when none holds it."""
        text = self.text
        if offset >= len(text) or text[offset] == "\n":
            return self.first
        return text.rfind("\n", 0, offset) + 1


def _meet(few: set[str], others: set[str] | frozenset[str]) -> bool:
    """``not few.isdisjoint(others)`` for a small ``few``: compiled, a loop of lookups costs less
    than the method's generic call."""
    for item in few:
        if item in others:
            return True
    return False


def _named_facility_at(text: str, end: int) -> bool:
    """``_NAMED_FACILITY.match(text, end)``, the pattern tried only where a capital follows the
    blanks (after most facility words a small letter or a sign does)."""
    after = end
    while after < len(text) and (text[after] == " " or text[after] == "\t"):
        after += 1
    return (
        after > end
        and after < len(text)
        and text[after] in _CAPITALS
        and _NAMED_FACILITY.match(text, end) is not None
    )


def _sentence_holding(sentences: list[Span], offset: int) -> Span | None:
    """The one of ``sentences`` that holds ``offset`` (then its ``Sentences.around``), if any."""
    for sentence in sentences:
        if sentence[0] <= offset < sentence[1]:
            return sentence
    return None


def _after_list_separator(folded: str, begin: int, end: int) -> bool:
    """Whether folded[begin:end] ends an item of a list and maybe the next one's article: ","
    or a word "y"/"e", then blanks, then maybe an article and blanks (what
    ``(?:,|\\by|\\be)\\s*(?:(?:el|la|los|las|del|al)\\s+)?$`` finds, read back from the
    end: a search would try every place of the sentence)."""
    stop = _before_blanks(folded, begin, end)
    if _ends_with_separator(folded, begin, stop):
        return True
    if stop == end or stop == begin:
        return False  # an article must be there, followed by a blank
    last = folded[stop - 1]
    for article in _ARTICLES:
        at = stop - len(article)
        # its last letter first: no slice to make for most articles
        if last == article[-1] and at >= begin and folded[at:stop] == article:
            if _ends_with_separator(folded, begin, _before_blanks(folded, begin, at)):
                return True
    return False


def _list_after(text: str, end: int, stop: int) -> bool:
    """Whether ``_LIST_AFTER`` matches text[end:stop] from its start, asked only when a "," or
    a "y"/"e" follows the blanks there (what it opens with; after most names none does)."""
    after = end
    while after < stop and text[after].isspace():
        after += 1
    if after >= stop or text[after] not in _LIST_AFTER_OPENERS:
        return False
    return _LIST_AFTER.match(text, end, stop) is not None


def _before_blanks(text: str, begin: int, end: int) -> int:
    """Where the blanks that end text[begin:end] start."""
    while end > begin and text[end - 1].isspace():
        end -= 1
    return end


def _ends_with_separator(folded: str, begin: int, end: int) -> bool:
    """folded[begin:end] ends with "," or with a word that starts with "y" or "e" there."""
    if end <= begin:
        return False
    last = folded[end - 1]
    if last == ",":
        return True
    return (last == "y" or last == "e") and (end - 1 == begin or not _is_word_char(folded[end - 2]))


class RiskReader:
    """Built once per linker from the keywords."""

    def __init__(self, keywords: Keywords) -> None:
        self.keywords = keywords
        kinds = [(kind.id, term) for kind in keywords.alert_kinds.values() for term in kind.terms]
        self._trouble_terms = kinds
        self._trouble = _Terms(term for _, term in kinds)
        self._resolutions = _Terms(keywords.alert_resolutions)
        self._openings = _SiftedOpeningScan([self._trouble, self._resolutions])
        # the strings ``read`` wants found in the text, by the number of each
        self.strings: list[str] = self._openings.strings
        # "sin embargo, hay retrasos" is no negation
        self._negated = _TermSearch(keywords.alert_negations, r"(?!\W+embargo)(?:\W+\w+){0,2}\W*$")
        self._cue = _TermSearch(keywords.project_cues)  # searched in one sentence at a time
        new_words = _any_term(keywords.new_words)
        self._new_before = _TermSearch(keywords.new_words, r"(?:\W+\w+)?\W*$")
        self._new_opening = re.compile(r"(?:" + new_words + r")\s")
        self._commune_codes = {
            c.id: frozenset(c.commune_codes) for c in keywords.commitments.values()
        }
        commitments_of_commune: dict[str, set[str]] = {}
        for c in keywords.commitments.values():
            for code in c.commune_codes:
                commitments_of_commune.setdefault(code, set()).add(c.id)
        self._commitments_of_commune = {
            code: frozenset(ids) for code, ids in commitments_of_commune.items()
        }
        self._own_names = {
            c.id: fold(own_name(c.title) or "") for c in keywords.commitments.values()
        }
        existing = _any_term(keywords.existing_words)
        # an existing word, maybe then "edificio del" etc., right before the name
        self._existing_before = _TermSearch(
            keywords.existing_words,
            r"\s+(?:(?:"
            + "|".join(_BUILDING_WORDS)
            + r")\s+(?:"
            + "|".join(of.replace(" ", r"\s+") for of in _BUILDING_OF)
            + r")\s+)?$",
        )
        # (the last words that pattern may end with, before the name's blanks)
        self._existing_last = _LastWord(
            keywords.existing_words, {of.split()[-1] for of in _BUILDING_OF}
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
        self._generic_names: dict[str, dict[str, bool]] = {
            c.id: {" ".join(fold(name).split()): self._generic(c, fold(name)) for name in c.names()}
            for c in keywords.commitments.values()
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
        begin = max(sentence[0], start - 60)
        # the pattern before the name ends at it: searched only when the last word may end it
        if self._existing_last.may_end(folded, begin, start):
            before = folded[begin:start]
            if self._existing_before.found(before, 0, len(before)):
                return True
        # the pattern after the name is blanks, then a term: asked only where a term's first
        # word follows the blanks
        size = len(folded)
        if end >= size or not folded[end].isspace():
            return False
        after = end + 1
        while after < size and folded[after].isspace():
            after += 1
        return self._existing_before.may_start(folded, after) and bool(
            self._existing_after.match(folded, end)
        )

    def _new_word_at(self, folded: str, start: int, sentence: Span) -> bool:
        """ "nuevo"/"futuro" right before the name or opening it ("el nuevo hospital": not "un
        nuevo resonador"): with a project cue in the sentence (``_cue``), what makes a generic
        name the project."""
        new_words = self._new_before  # the pattern opening the name has the same first words
        if new_words.may_start(folded, start) and self._new_opening.match(folded, start):
            return True
        return new_words.found(folded, max(sentence[0], start - 30), start)

    def read(
        self,
        text: str,
        folded: str,
        names: list[tuple[str, int, int]],
        facilities: list[tuple[set[str], int, int]],
        communes: list[tuple[str, int, int]],
        sentences: Sentences,
        found: list[Occurrence],
    ) -> tuple[list[Finding], list[Hit]]:
        """``names``: (commitment id, start, end) of alias matches; ``facilities``: (commitment
        ids, start, end) of facility words; ``communes``: (code, start, end) of commune mentions;
        ``sentences``: the text's, ``around`` an offset the (start, end) of its sentence, the
        same for every offset inside it; ``found``: every occurrence of ``strings`` in
        ``folded`` (number, start, end). Returns the commitments found, in order of first
        mention, and the trouble terms."""
        specific: set[str] = set()
        candidates: list[_Candidate] = []
        for commitment_id, start, end in names:
            sentence = sentences.around(start)
            if self._existing(folded, start, end, sentence):
                continue
            # the names' keys are spaced one blank apart: most names found are spaced so
            name = folded[start:end]
            known = self._generic_names[commitment_id]
            generic = known.get(name)
            if generic is None:
                generic = known.get(" ".join(name.split()))
            if generic is None:
                generic = self._generic(self.keywords.commitments[commitment_id], name)
            if not generic:
                specific.add(commitment_id)
            candidates.append((start, -end, len(candidates), commitment_id, end, sentence, generic))
        if facilities:
            self._facility_candidates(text, folded, facilities, communes, sentences, candidates)
        if not candidates:
            return [], []
        paragraphs = _Paragraphs(text)
        mentions: list[_Mention] = []
        taken: dict[str, list[Span]] = {}
        candidates.sort()
        # a project cue ("obras", "licitación") in the sentence of a generic name; the names of
        # one sentence come in a row: it is searched once for them
        cue_sentence: Span = (-1, -1)
        cued = False
        for start, _, _, commitment_id, end, sentence, needs_cue in candidates:
            if (
                needs_cue
                and commitment_id not in specific
                and not self._new_word_at(folded, start, sentence)
            ):
                if sentence != cue_sentence:
                    cue_sentence = sentence
                    cued = self._cue.found(folded, sentence[0], sentence[1])
                if not cued:
                    continue
            spans = taken.get(commitment_id)
            if spans is None:
                spans = taken[commitment_id] = []
            elif any(s <= start < e for s, e in spans):
                continue  # a facility word inside the name already found
            spans.append((start, end))
            paragraph = paragraphs.of(start)
            in_list = self._in_list(text, folded, start, end, sentence)
            mentions.append(_Mention(commitment_id, start, end, sentence, paragraph, in_list))
        if not mentions:
            return [], []
        return self._judge(folded, mentions, paragraphs, sentences, found)

    def _facility_candidates(
        self,
        text: str,
        folded: str,
        facilities: list[tuple[set[str], int, int]],
        communes: list[tuple[str, int, int]],
        sentences: Sentences,
        candidates: list[_Candidate],
    ) -> None:
        """Adds the facility words with one of a commitment's communes in their sentence, or in
        a dateline right before it ("Ovalle: avanzan obras del hospital")."""
        # the commitments one of whose communes is named: a facility word of none of them
        # cannot count (its sentence is not looked up)
        concerned: set[str] = set()
        commitments_of_commune = self._commitments_of_commune
        for code, _, _ in communes:
            commitment_ids = commitments_of_commune.get(code)
            if commitment_ids is not None:
                concerned |= commitment_ids
        if not concerned:
            return
        kept = [
            (ids, start, end, sentences.around(start))
            for ids, start, end in facilities
            if _meet(concerned, ids)
            # "puente Calle-Calle", "hospital Gustavo Fricke": another, named facility
            and not _named_facility_at(text, end)
        ]
        if not kept:
            return
        # only the communes of the kept facility words' concerned commitments can count
        wanted: set[str] = set()
        for ids, _, _, _ in kept:
            for commitment_id in ids:
                if commitment_id in concerned:
                    wanted |= self._commune_codes[commitment_id]
        # The communes of each sentence that counts: a facility word's, or a dateline (it ends
        # with a colon: a commune after the text's last one is in none, its sentence not looked
        # up). The communes of one sentence come in a row: its bounds are looked up once.
        last_colon = text.rfind(":")
        facility_sentences = [sentence for _, _, _, sentence in kept]
        communes_by_sentence: dict[Span, set[str]] = {}
        last_sentence: Span = (0, 0)
        last_codes: set[str] = set()
        for code, start, _ in communes:
            if code not in wanted:
                continue
            if not last_sentence[0] <= start < last_sentence[1]:
                sentence = _sentence_holding(facility_sentences, start)
                if sentence is None:
                    if start > last_colon and not text[start].isspace():
                        continue
                    sentence = sentences.around(start)
                last_sentence = sentence
                last_codes = communes_by_sentence.setdefault(sentence, set())
            last_codes.add(code)
        # a dateline's communes count in the next sentence too (each sentence looked at once;
        # only the communes named in it are passed on; the pattern runs only on sentences
        # that end with a colon)
        spill = [
            (sentences.around(sentence[1] + 1), frozenset(codes))
            for sentence, codes in communes_by_sentence.items()
            if sentence[1] > sentence[0]
            and text[sentence[1] - 1] == ":"
            and _DATELINE.fullmatch(text, sentence[0], sentence[1])
        ]
        for sentence, codes in spill:
            communes_by_sentence.setdefault(sentence, set()).update(codes)
        for ids, start, end, sentence in kept:
            present = communes_by_sentence.get(sentence)
            if not present or self._existing(folded, start, end, sentence):
                continue
            for commitment_id in sorted(ids):
                if commitment_id in concerned and _meet(
                    present, self._commune_codes[commitment_id]
                ):
                    candidates.append(
                        (start, -end, len(candidates), commitment_id, end, sentence, True)
                    )

    @staticmethod
    def _in_list(text: str, folded: str, start: int, end: int, sentence: Span) -> bool:
        """One item of an enumeration ("el hospital A, el puente B y el liceo C"), or a plural
        facility word ("los hospitales de ..."): mentioned, not the subject."""
        if folded[end - 1] == "s" and folded.find(" ", start, end) < 0:
            return True  # "hospitales", "puentes": several facilities
        # a separator right before or right after the name (rare: looked at first)...
        if not (
            _after_list_separator(folded, sentence[0], start) or _list_after(text, end, sentence[1])
        ):
            return False
        # ... and at least two in the sentence, not counting one inside the name ("Buin y Paine")
        separators = 0
        for opening in _ITEM_OPENING.finditer(text, sentence[0], sentence[1]):
            if not start <= opening.start() < end:
                separators += 1
                if separators == 2:
                    return True
        return False

    # -- subject, trouble, resolution ---------------------------------------------------------
    def _judge(
        self,
        folded: str,
        mentions: list[_Mention],
        paragraphs: _Paragraphs,
        sentences: Sentences,
        found: list[Occurrence],
    ) -> tuple[list[Finding], list[Hit]]:
        findings: dict[str, Finding] = {}
        for mention in mentions:
            finding = findings.get(mention.id)
            if finding is None:  # a Finding made only for a new commitment, not per mention
                finding = findings[mention.id] = Finding(mention.id)
            finding.mentions.append((mention.start, mention.end))
        # one scan of the text for the openings of trouble and resolution terms both
        openings = self._openings.openings(folded, found)
        if not openings:
            return list(findings.values()), []  # no trouble or resolution term: no subject asked
        has_title = paragraphs.has_title
        title = paragraphs.first
        subjects: set[str] = set()
        for commitment_id in findings:
            own = [m for m in mentions if m.id == commitment_id]
            in_title = has_title and any(m.paragraph == title and not m.in_list for m in own)
            several = any(m.sentence != own[0].sentence for m in own)  # named in two or more
            only = len(findings) == 1 and any(not m.in_list for m in own)
            if in_title or several or only:
                subjects.add(commitment_id)
        troubles = self._hits(folded, openings, sentences, trouble=True)
        # The body's account of the trouble is the evidence to keep; the title says it in short
        # (the hits come in the order of the text: the body's first, then the title's).
        title_end = paragraphs.title_end if has_title else 0
        body_first = [t for t in troubles if t[0].start >= title_end] + [
            t for t in troubles if t[0].start < title_end
        ]
        for hit, trouble_sentence in body_first:
            for commitment_id, mention in _owners(
                hit.start, trouble_sentence, mentions, paragraphs, subjects
            ):
                finding = findings[commitment_id]
                if finding.at_risk:
                    continue
                finding.at_risk, finding.risk_kind = True, hit.kind
                finding.risk_sentences = (
                    [trouble_sentence]
                    if trouble_sentence == mention.sentence
                    else [trouble_sentence, mention.sentence]
                )
        # A resolution after the trouble, or in an article that reports none ("retoman las
        # faenas"), says the commitment is back on track: the follow-up report reads it.
        for hit, sentence in self._hits(folded, openings, sentences, trouble=False):
            for commitment_id, _ in _owners(hit.start, sentence, mentions, paragraphs, subjects):
                finding = findings[commitment_id]
                if finding.resolved or (
                    finding.at_risk and hit.start <= finding.risk_sentences[0][0]
                ):
                    continue
                finding.resolved = True
                finding.resolution_sentences = [sentence]
        return list(findings.values()), [hit for hit, _ in troubles]

    def _hits(
        self,
        folded: str,
        openings: list[tuple[int, str]],
        sentences: Sentences,
        trouble: bool,
    ) -> list[tuple[Hit, Span]]:
        """The trouble (or resolution) terms found, each with its sentence."""
        hits: list[tuple[Hit, Span]] = []
        terms = self._trouble if trouble else self._resolutions
        for index, start, end in terms.matches(folded, openings):
            sentence = sentences.around(start)
            if end > sentence[1] + 1:
                continue  # "a ... b" across two sentences
            if trouble:
                before = folded[max(sentence[0], start - 40) : start]
                if self._negated.found(before, 0, len(before)):
                    continue
            kind, term = (
                self._trouble_terms[index]
                if trouble
                else ("resolution", self.keywords.alert_resolutions[index])
            )
            hits.append((Hit(term, kind, start, end), sentence))
        return hits


def _owners(
    offset: int,
    sentence: Span,
    mentions: list[_Mention],
    paragraphs: _Paragraphs,
    subjects: set[str],
) -> list[tuple[str, _Mention]]:
    """Whose trouble (at ``offset``, in ``sentence``) this is: the commitment named in the
    sentence, else the nearest one named in the paragraph, else the text's subject (with the
    mention nearest to it)."""
    named = [m for m in mentions if not m.in_list and m.sentence == sentence]
    if not named:
        paragraph = paragraphs.of(offset)
        near = [m for m in mentions if not m.in_list and m.paragraph == paragraph]
        if near:
            distance = min(abs(m.start - offset) for m in near)
            named = [m for m in near if abs(m.start - offset) == distance]
    if not named:
        named = [_nearest(mentions, commitment_id, offset) for commitment_id in sorted(subjects)]
    owners: dict[str, _Mention] = {}
    for mention in named:
        owners.setdefault(mention.id, mention)
    return list(owners.items())


def _nearest(mentions: list[_Mention], commitment_id: str, offset: int) -> _Mention:
    """The first of the commitment's mentions nearest to ``offset`` (it has one)."""
    nearest = next(m for m in mentions if m.id == commitment_id)
    for mention in mentions:
        if mention.id == commitment_id and abs(mention.start - offset) < abs(
            nearest.start - offset
        ):
            nearest = mention
    return nearest
