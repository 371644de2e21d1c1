"""Place names that other places share: the context rules of the linker that decide, for one
mention, whether a region's body, a road, a title or a list of regions is meant, not the commune.

``PlaceContext`` is a mixin of ``agenda.link.Linker`` (it reads the rule sets the linker builds
once); the lists themselves are data, in keywords/disambiguation.yaml.
"""

from __future__ import annotations

import re
from operator import attrgetter
from typing import Final, final

from agenda.keywords import Keywords, Place
from agenda.textnorm import fold

_NEXT_PROPER_NAME: Final = re.compile(
    r"\s+(?:(de|del|de la|de las|de los)\s+)?([A-ZÁÉÍÓÚÑÜ][\w'’-]+)"
)
_REGION_LIST: Final = re.compile(r"\b(regiones|provincias)\s+(?:de|del)\s+([^.;:\n]+)")
# Between two ends of a range or list: "desde Coquimbo hasta Biobío", "Valparaíso y Maule".
_RANGE_GAP: Final = re.compile(r"\s*(?:,|-|y|e|a|hasta)?\s*(?:(?:la|el)\s+)?")
# Between a name and its own region or province: "Victoria, en Malleco", "Curicó (Maule)".
_OWN_AREA_GAP: Final = re.compile(r"\s*(?:,|\(|-)\s*(?:en\s+)?(?:(?:la|el)\s+)?")
# A direction after a name that is also a region's: the region's extent, not the city ("las
# lluvias llegarán hasta Coquimbo por el norte", "desde Valparaíso hacia el sur").
_DIRECTION_AFTER: Final = re.compile(
    r"\s+(?:por|hacia)\s+el\s+(?:norte|sur|oriente|poniente|este|oeste)(?!\w)"
)
_LIST_ITEM: Final = re.compile(
    r"(?:^|,\s*|\s+y\s+|\s+e\s+)(?:(?:la|el|los)\s+)?([\w'’]+(?:\s(?!y\b|e\b)[\w'’]+)?)"
)
_LIST_GAP: Final = re.compile(r"\s*(?:,|-|\by\b|\be\b)\s*$")
_CAPITALS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZÁÉÍÓÚÑÜ")
_CAPITALISED_WORD: Final = re.compile(r"[A-ZÁÉÍÓÚÑÜ][\w'’]*")
_SMALL_WORDS: Final = frozenset({"de", "del", "la", "las", "los", "el", "y", "e"})
_NEXT_WORD: Final = re.compile(r"[\w'’-]+")
_NAME_SMALL_WORDS: Final = _SMALL_WORDS - {"y", "e"}  # "La Granja y San Ramón" is two names
# Capitalised words before "de X" that do not make X a body's seat: dates, feasts, articles.
_NOT_BODIES: Final = frozenset(
    {
        "torta",
        "spurs",
        "dia",
        "fiesta",
        "virgen",
        "camino",
        "plaza",
        "calle",
        "avenida",
        "el",
        "la",
        "los",
        "las",
        "batalla",
        "san",
        "santa",
    }
)
# A capitalised article opening a title: "El Llanquihue", "La Estrella".
_ARTICLES: Final = frozenset({"El", "La", "Los", "Las"})
# Before a road's phrase in lowercase, the words that make it the road's name.
_ROAD_ARTICLES: Final = frozenset({"el", "la", "del", "al"})
# What ``_LIST_GAP`` matches, once stripped of blanks: "Penco y Tomé", "A, B".
_LIST_SEPARATORS: Final = frozenset({",", "-", "y", "e"})


def _own_name_word_at(text: str, start: int, end: int, folded: str) -> bool:
    """The word at ``start:end`` (``folded``, its folded text) can go on a body's or title's own
    name: capitalised or small, no punctuation."""
    if not (_upper(text, start) or folded in _NAME_SMALL_WORDS):
        return False
    # most words end in a lowercase ASCII letter: told by its code, no string looked up
    last = ord(text[end - 1])
    return 97 <= last <= 122 or text[end - 1] not in ",.;:!?)»\"'"


def _own_name_word(original: str, folded: str) -> bool:
    """``_own_name_word_at`` of a whole word."""
    return _own_name_word_at(original, 0, len(original), folded)


def _separator_between(folded: str, start: int, end: int) -> bool:
    """``folded[start:end]`` is one separator between blanks ("Penco y Tomé", "A, B"): what
    _LIST_GAP matches, read in place (the gaps between names are long: no copy to strip)."""
    while start < end and _blank(folded, start):
        start += 1
    end = _word_end(folded, end, start)
    return end - start == 1 and folded[start] in _LIST_SEPARATORS


@final
class _Mention:
    """A place named at ``start:end`` of the text. While the rules weigh it (``Linker.
    _place_mentions``), its name (folded, blanks squeezed), how sure it is (``tier``: "strong",
    "plain", "ambiguous", "strict") and whether a weak trigger stands before it: one object a
    candidate, no tuple around it."""

    # a plain class, not a NamedTuple: compiled, it is made and read without a Python-level call
    __slots__ = ("place", "start", "end", "name", "tier", "weak")

    def __init__(
        self,
        place: Place,
        start: int,
        end: int,
        name: str = "",
        tier: str = "plain",
        weak: bool = False,
    ) -> None:
        self.place = place
        self.start = start
        self.end = end
        self.name = name
        self.tier = tier
        self.weak = weak


# What the phrases right before a name are, as bits (``_Before.flags``): one dict lookup per
# phrase built at the linker's start, instead of a set test per rule list per mention. Literal
# constants: compiled code uses them as numbers, with no lookup of a module's global.
NOT_PLACE: Final = 1
STRONG: Final = 2
WEAK: Final = 4
PERSON: Final = 8
REGION_ONLY: Final = 16
FOREIGN: Final = 32
ROAD: Final = 64


def phrase_flags(lists: dict[int, frozenset[str]]) -> dict[str, int]:
    """Each phrase of the lists (bit -> phrases) -> its bits; also every shorter ending of a
    phrase ("de" of "comuna de") -> its bits or 0, so ``_before`` stops at the first ending
    that no phrase has."""
    flags: dict[str, int] = {}
    for bit, phrases in lists.items():
        for phrase in phrases:
            words = phrase.split()
            for size in range(1, len(words)):
                flags.setdefault(" ".join(words[-size:]), 0)
            flags[phrase] = flags.get(phrase, 0) | bit
    return flags


def before_phrases(words: list[str]) -> list[str]:
    """The last one to four words as phrases ("de", "comuna de", "la comuna de", ...)."""
    if not words:
        return []
    phrase = words[-1]
    phrases = [phrase]
    for word in words[-2:-5:-1]:
        phrase = f"{word} {phrase}"
        phrases.append(phrase)
    return phrases


def _blank(text: str, at: int) -> bool:
    """``text[at].isspace()`` (where ``split()`` cuts), with no call for an ASCII character."""
    code = ord(text[at])
    if code < 128:
        return code == 32 or 9 <= code <= 13 or 28 <= code <= 31
    return text[at].isspace()


def _upper(text: str, at: int) -> bool:
    """``text[at].isupper()``, with no call for an ASCII or Latin-1 letter."""
    code = ord(text[at])
    if code < 128:
        return 65 <= code <= 90
    if 192 <= code <= 222:  # "À" to "Þ", all capitals but "×"
        return code != 215
    return text[at].isupper()


def _word_end(text: str, at: int, floor: int) -> int:
    """Where the last word before ``at`` ends (blanks skipped back); ``floor`` if none is left."""
    while at > floor:
        # _blank's test written out: a call per character would cost more than the test
        code = ord(text[at - 1])  # (blanks before a word are few: one, most often)
        if code < 128:
            if not (code == 32 or 9 <= code <= 13 or 28 <= code <= 31):
                break
        elif not text[at - 1].isspace():
            break
        at -= 1
    return at


def _last_word(text: str, end: int, floor: int) -> tuple[int, str]:
    """The last word before ``end``, blanks skipped back, not before ``floor``: where it starts,
    and the word ("" when none is left)."""
    end = _word_end(text, end, floor)
    # most words are letters and digits after a space: found by rfind and proved by isalnum (no
    # blank is alphanumeric), in C, compiled or not
    space = text.rfind(" ", floor, end)
    start = space + 1 if space >= 0 else floor
    word = text[start:end]
    if word and not word.isalnum():
        last = word.split()[-1]  # other blanks before it (few words): the last word they leave
        if len(last) != len(word):
            start, word = end - len(last), last
    return start, word


@final
class _Before:
    """What stands right before a mention: the rule lists its last one to four folded words are
    in (bits), the last of them, and the word before it in the original text (skipping one
    "de"), for capitalisation checks."""

    # a plain class, not a NamedTuple: compiled, its fields are read without a lookup
    __slots__ = (
        "flags",
        "last",
        "last_start",
        "second",
        "second_start",
        "word",
        "word_end",
        "after_de",
        "window",
        "start",
        "_folded",
    )

    def __init__(
        self,
        flags: int,
        last: str,
        last_start: int,
        second: str,
        second_start: int,
        word: str,
        word_end: int,
        after_de: bool,
        folded: str,
        window: int,
        start: int,
    ) -> None:
        self.flags = flags
        self.last = last  # the last folded word, "" when there is none
        self.last_start = last_start  # where ``last`` starts (``start`` when there is none)
        # the folded word before ``last`` and where it starts, if read (-1 when not)
        self.second = second
        self.second_start = second_start
        self.word = word  # original text, "" when the text before is not a word
        self.word_end = word_end  # where ``word`` ends; 0 when there is no word
        self.after_de = after_de
        self.window = window  # where the words read begin: a word starting here may be cut
        self.start = start  # where the mention starts: the words read end here
        self._folded = folded

    @property
    def words(self) -> list[str]:
        """The folded words before the mention, as ``rsplit(None, 4)`` gives them (with five, the
        first is the window's rest); ``before_phrases`` makes the phrases. Few rules read them:
        split only when one does."""
        return self._folded[self.window : self.start].rsplit(None, 4)


def _before(text: str, folded: str, start: int, flags_of: dict[str, int]) -> _Before:
    window = start - 48 if start > 48 else 0  # no max(): a call less per mention
    # the words read back from the name in place: only the last ones count (hot path)
    last_start, last = _last_word(folded, start, window)
    if not last:
        return _Before(0, "", start, "", -1, "", 0, False, folded, window, start)
    flags = 0
    # the word before the last, read once for the phrases and for "de" (start -1: not read)
    second_start, second = -1, ""
    found = flags_of.get(last)
    if found is not None:
        flags = found
        second_start, second = _last_word(folded, last_start, window)
        # the last two, three and four words, joined by one blank
        phrase, word_start, word, words = last, second_start, second, 1
        while word:
            phrase = f"{word} {phrase}"
            found = flags_of.get(phrase)
            if found is None:
                break  # no listed phrase ends so: none longer does either
            flags |= found
            words += 1
            if words == 4:
                break
            word_start, word = _last_word(folded, word_start, window)
    if start == 0 or not _blank(text, start - 1):
        return _Before(
            flags, last, last_start, second, second_start, "", 0, False, folded, window, start
        )
    # fold leaves every blank where it was: each original word stands where its folded word does
    at, size, after_de = last_start, len(last), False
    if last == "de" or last == "del":
        if second_start < 0:
            second_start, second = _last_word(folded, last_start, window)
        if second:  # (its text is the original's, not this)
            at, size, after_de = second_start, len(second), True
    # most words before a name are lowercase ("en", "de"): no pattern to run for them (an ASCII
    # letter told by its code: no string, no set lookup)
    code = ord(text[at])
    capital = 65 <= code <= 90 if code < 128 else text[at] in _CAPITALS
    if not capital:
        return _Before(
            flags, last, last_start, second, second_start, "", 0, after_de, folded, window, start
        )
    word = text[at : at + size]
    # letters and digits only (most words) match the pattern; one ending in punctuation
    # ("Valparaíso,") does not: no need to run it for either
    if not (word.isalnum() or (word[-1] not in ",.;:" and _CAPITALISED_WORD.fullmatch(word))):
        return _Before(
            flags, last, last_start, second, second_start, "", 0, after_de, folded, window, start
        )
    word_end = text.rfind(word, window, start) + len(word)
    return _Before(
        flags,
        last,
        last_start,
        second,
        second_start,
        word,
        word_end,
        after_de,
        folded,
        window,
        start,
    )


def _word_before(folded: str, at: int, window: int, before: _Before) -> tuple[int, str]:
    """``_last_word(folded, at, window)``, taken from what ``_before`` read when it read that
    word whole (its window did not cut it) and the word starts within ``window``: rules read
    back from a name the words it has read already, most often."""
    if at == before.start:
        found_start, found = before.last_start, before.last
    elif at == before.last_start:
        found_start, found = before.second_start, before.second
    else:
        return _last_word(folded, at, window)
    # a word that starts after the window's first character is whole: read from any floor up to
    # its start, it is the same word
    if found and found_start >= window and (found_start > before.window or before.window == 0):
        return found_start, found
    return _last_word(folded, at, window)


def _region_list_matches(folded: str) -> list[re.Match[str]]:
    """What ``_REGION_LIST.finditer(folded)`` finds, the pattern run only where one of its two
    words stands (searched for, it tries every place of the text after the first of them)."""
    matches = []
    regiones, provincias = folded.find("regiones"), folded.find("provincias")
    resume = 0  # as finditer: the next match starts after the last one
    while regiones >= 0 or provincias >= 0:
        if provincias < 0 or 0 <= regiones < provincias:
            at = regiones
            regiones = folded.find("regiones", at + 1)
        else:
            at = provincias
            provincias = folded.find("provincias", at + 1)
        if at < resume:
            continue
        match = _REGION_LIST.match(folded, at)
        if match is not None:
            matches.append(match)
            resume = match.end()
    return matches


# A mention's start, as a sort key: compiled, a lambda would build its closure on every call.
_START: Final = attrgetter("start")


def body_ends(bodies: frozenset[str]) -> dict[str, frozenset[str]]:
    """The last word of each body's name -> the words before it in names of two words or more,
    "" for a name of one word ("regional" -> {"gobierno", "consejo", ...}): what
    ``PlaceContext._body_may_end`` reads back from a name."""
    before: dict[str, set[str]] = {}
    for body in bodies:
        words = body.split()
        before.setdefault(words[-1], set()).add(words[-2] if len(words) > 1 else "")
    return {end: frozenset(words) for end, words in before.items()}


class PlaceContext:
    """Rules over a mention's surroundings (see keywords/disambiguation.yaml for the lists)."""

    keywords: Keywords
    _twin_names: dict[tuple[str, str], str]
    _region_twin: dict[str, Place]
    _region_bodies: frozenset[str]
    _zone_bodies: frozenset[str]
    _body_ends: dict[str, frozenset[str]]  # see body_ends
    _feature_plurals: frozenset[str]
    _road_before: frozenset[str]
    _region_by_short_name: dict[str, Place]
    _province_by_name: dict[str, Place]
    _commune_twin: dict[str, Place]

    def _read_as_elsewhere(self, folded: str, candidates: list[_Mention]) -> list[_Mention]:
        """'La Región de Coquimbo ...' then 'Coquimbo' alone: the region again. A commune link needs
        evidence of its own (a strong trigger: "comuna de", "alcalde de", a commune body)."""
        readings: dict[str, Place] = {}
        for mention in candidates:
            if mention.place.kind == "commune":
                continue  # only a region or a province is read "as elsewhere"
            bare = self._twin_names.get((mention.place.kind, mention.place.code))
            if bare is not None and bare in folded[mention.start : mention.end]:
                readings.setdefault(bare, mention.place)
        if not readings:
            return candidates
        result = []
        for index, mention in enumerate(candidates):
            if mention.place.kind == "commune" and mention.tier != "strong":
                reading = readings.get(mention.name)
                # the list's gaps looked at only for a name read elsewhere (few); a new mention,
                # as the list's neighbours are read as they were
                if reading is not None and not self._listed(folded, candidates, index):
                    mention = _Mention(
                        reading,
                        mention.start,
                        mention.end,
                        mention.name,
                        mention.tier,
                        mention.weak,
                    )
            result.append(mention)
        return result

    @staticmethod
    def _listed(folded: str, candidates: list[_Mention], index: int) -> bool:
        """The mention stands in a list of communes: 'La Ligua, Cabildo y Petorca'."""
        mention = candidates[index]
        for other in (candidates[i] for i in (index - 1, index + 1) if 0 <= i < len(candidates)):
            gap = (
                folded[other.end : mention.start]
                if other.end <= mention.start
                else folded[mention.end : other.start]
            )
            if other.place.kind == "commune" and _LIST_GAP.match(gap):
                return True
        return False

    def _body_before(
        self,
        text: str,
        folded: str,
        start: int,
        before: _Before,
        bodies: frozenset[str] | None = None,
    ) -> bool:
        """A regional or zone body's name runs up to ``start``: "la Seremi de Salud de" Coquimbo,
        "el consejo regional de" Antofagasta, "GORE" Valparaíso, "Prefectura" Osorno. ``before``
        is what ``_before`` read there."""
        # most names follow a word that ends no body's name and is none of its own ("en", "y"):
        # the last word _before read (when whole) says so, before the line's start is looked for
        # (a newline after that word would leave no word to read: no body either)
        last, at = before.last, before.last_start
        if (
            last
            and (at > before.window or before.window == 0)
            and last not in self._body_ends
            and not _own_name_word_at(text, at, at + len(last), last)
        ):
            return False
        # the line's start, looked for only within reach (a paragraph can be long)
        reach = start - 90 if start > 90 else 0
        window = text.rfind("\n", reach, start) + 1 or reach
        if not self._body_may_end(text, folded, window, start, before):
            return False
        folds = folded[window:start].rsplit(None, 8)[-8:]
        bodies = self._zone_bodies if bodies is None else bodies
        originals = text[window:start].rsplit(None, len(folds))[-len(folds) :]
        # the words between the body and the name are the body's own: capitalised or small words
        size = len(folds)
        own_name_from = size
        while own_name_from > 0 and _own_name_word(
            originals[own_name_from - 1], folds[own_name_from - 1]
        ):
            own_name_from -= 1
        for first in range(size - 1, -1, -1):
            for length in range(1, min(4, size - first) + 1):
                if (
                    first + length >= own_name_from
                    and " ".join(folds[first : first + length]) in bodies
                ):
                    return True
        return False

    def _body_may_end(
        self, text: str, folded: str, window: int, start: int, before: _Before
    ) -> bool:
        """A quick test for ``_body_before``: a body's name may end among the words it reads.

        Its last word must be one of the last eight before ``start`` (from ``window`` on), and
        no further back than the last word that is not one of the body's own (capitalised or
        small); with two words or more, the word before it must be the name's one but last.
        Read back in place, most names stop at the first word ("en", "comuna de")."""
        ends = self._body_ends
        # the words that stand before the later word in the names it ends
        followed: frozenset[str] | None = None
        run_over = False
        at, word = _word_before(folded, start, window, before)
        for _ in range(8):
            if not word:
                return False
            end = at + len(word)
            if followed is not None and word in followed:
                return True
            if run_over:
                return False  # a body's name ends no further back
            followed = ends.get(word)
            if followed is not None and "" in followed:
                return True  # a one-word body's name ("gore", "prefectura")
            if not _own_name_word_at(text, at, end, word):
                if followed is None:
                    return False  # no body's name ends here or further back
                run_over = True  # one may end here: the word before tells
            at, word = _word_before(folded, at, window, before)
        return False

    def _road_or_title(
        self, text: str, folded: str, start: int, end: int, before: _Before, kind: str
    ) -> bool:
        """The name is part of another proper name: a road ("Camino a Melipilla"), a newspaper, club
        or firm ("El Mercurio de Valparaíso", "Aguas Antofagasta", "Coquimbo Unido")."""
        if before.flags & ROAD:
            words = before.words  # split once (each read of the property splits anew)
            listed = [p for p in before_phrases(words) if p in self._road_before]
            phrase = max(listed, key=len)
            if text[start - len(phrase) - 1 : start - len(phrase)].isupper():
                return True
            # in lowercase, an article makes it the road ("por el camino a Valparaíso"), not a
            # journey ("iba camino a Talca")
            size = len(phrase.split())
            article = words[-size - 1 : -size]
            if article and article[0] in _ROAD_ARTICLES:
                return True
        last = before.last
        # the cheap part of _listed_after_feature first (a separator last): no call for most names
        if (last == "y" or last == "e" or last.endswith(",")) and self._ends_feature_list(
            folded, before
        ):
            return True  # "los cerros Alegre y Concepción": a hill's name, not the city
        # (a one-character slice, not startswith(" ", end): compiled, a comparison, not a call)
        if text[end : end + 1] == " " and end + 1 < len(text) and _upper(text, end + 1):
            # the next word, on the same line, goes on with the name: "Coquimbo Unido"
            following = _NEXT_WORD.match(folded, end + 1)
            if following and following.group() in self.keywords.rules.title_words:
                return True
        if not before.word and (before.after_de or last not in _NAME_SMALL_WORDS):
            return False  # no capitalised word right before (or before "de"): no title runs here
        return self._title_before(text, folded, start, kind, before)

    def _title_before(self, text: str, folded: str, start: int, kind: str, before: _Before) -> bool:
        """The run of capitalised and small words right before the name (on its line, up to six
        words) is a title's: it holds a title word ("El Mercurio de"), or it opens with a
        capitalised article, alone before a city ("El Llanquihue") or in mid-sentence ("según El
        Llanquihue")."""
        # a name never runs over a line (the line's start, looked for only within reach)
        reach = start - 60 if start > 60 else 0
        window = text.rfind("\n", reach, start) + 1 or reach
        title_words = self.keywords.rules.title_words
        # the run read back word by word in place (folding keeps blanks where they are): its
        # first capitalised word opens the chain of the name's own words
        chain_start = chain_end = last_start = -1
        title_in_chain = title_seen = False
        at, words = start, 0
        while words < 6:
            at, word = _word_before(folded, at, window, before)
            if not word:
                break
            end = at + len(word)
            words += 1
            if last_start < 0:
                last_start = at
            if not _own_name_word_at(text, at, end, word):
                break  # not a word of a proper name: the run ends after it
            title_seen = title_seen or word in title_words
            if _upper(text, at):
                chain_start, chain_end, title_in_chain = at, end, title_seen
        if chain_start < 0:
            return False  # "la" in "la Seremi": small words alone are no name
        if title_in_chain:
            return True
        opener = text[chain_start:chain_end]
        if opener not in _ARTICLES:
            return False
        if chain_start == last_start and kind == "commune":
            return True  # a city takes no article: "El Llanquihue" is the newspaper
        # a title in mid-sentence ("según El Llanquihue"): no sentence ends before the article
        # (the last character before it, spaces and tabs skipped, no copy of the text)
        at = text.rfind(opener, window, start)
        while at > 0 and text[at - 1] in " \t":
            at -= 1
        return at > 0 and text[at - 1] not in '.!?:«"\n'

    def _ends_feature_list(self, folded: str, before: _Before) -> bool:
        """``_listed_after_feature(before.words)``, read in place (no split) as far as the words
        are those the split gives whole: the last four (the fifth is the window's rest). Most
        names after a separator ("Talca y", "Arica, Iquique") are no feature's list's items."""
        last, at, window = before.last, before.last_start, before.window
        if last == "y" or last == "e":
            at, item = _word_before(folded, at, window, before)  # the item stands before "y"
            read = 2
        elif last.endswith(","):
            item, read = last, 1
        else:
            return False  # the name follows no separator
        # a list's head is a plural among the words read (a few words, all in the window):
        # most windows hold none, and a search of a short stretch costs less than its words
        plurals = self._feature_plurals
        for plural in plurals:
            if folded.find(plural, window, before.start) >= 0:
                break
        else:
            return False
        while read < 4:
            at, head = _word_before(folded, at, window, before)  # what stands before the item
            read += 1
            if not head or (head not in plurals and not head.endswith(",")):
                return False  # neither the list's head nor another item
            if not item.rstrip(",").isalpha():
                return False
            if head in plurals:
                return True
            item = head
        return self._listed_after_feature(before.words)

    def _listed_after_feature(self, words: list[str]) -> bool:
        """The words before a name end in a list of one-word items headed by a feature's plural:
        "cerros Alegre y", "cerros Cordillera, Alegre," (folded words, the last a separator)."""
        at = len(words) - 1
        if words[at] in ("y", "e"):
            at -= 1  # the last item stands before the "y"
        elif not words[at].endswith(","):
            return False  # the name follows no separator
        while at > 0:
            if not words[at].rstrip(",").isalpha():
                return False
            at -= 1  # the item is read: what stands before it?
            if words[at] in self._feature_plurals:
                return True
            if not words[at].endswith(","):
                return False  # neither the list's head nor another item
        return False

    def _region_lists(self, folded: str, mentions: list[_Mention]) -> list[_Mention]:
        """'las regiones de Valparaíso, O'Higgins y Maule', 'las provincias de El Loa y Tocopilla':
        each item is a region or province, not a city; so is a city's name at one end of a range
        of regions ("desde Coquimbo hasta Biobío"), or with a direction after it ("hasta Coquimbo
        por el norte")."""
        found = []
        for match in _region_list_matches(folded):
            names = (
                self._region_by_short_name
                if match.group(1) == "regiones"
                else self._province_by_name
            )
            for item in _LIST_ITEM.finditer(match.group(2)):
                words = item.group(1).split()
                # the longest prefix of the item that is a short name
                # ("biobio ante" -> "biobio")
                for size in range(len(words), 0, -1):
                    place = names.get(" ".join(words[:size]))
                    if place is not None:
                        start = match.start(2) + item.start(1)
                        found.append(_Mention(place, start, start + len(" ".join(words[:size]))))
                        break
                else:
                    break  # the list ended
        if found:
            taken = [(m.start, m.end) for m in found]
            # the same words matched as communes ("Valparaíso") are the regions here
            kept = [m for m in mentions if not any(m.start < e and s < m.end for s, e in taken)]
            mentions = sorted(kept + found, key=_START)
        region_twin = self._region_twin
        # the communes named as a region is (few): the others have no range to stand in
        twins = [
            i
            for i, m in enumerate(mentions)
            if m.place.code in region_twin and m.place.kind == "commune"
        ]
        for index in twins:
            mention = mentions[index]
            twin = region_twin.get(mention.place.code)
            if twin is None:
                continue
            if _DIRECTION_AFTER.match(folded, mention.end):
                mentions[index] = _Mention(twin, mention.start, mention.end)
                continue
            neighbours = [
                (mentions[i], i < index) for i in (index - 1, index + 1) if 0 <= i < len(mentions)
            ]
            for other, first in neighbours:
                gap = (
                    folded[other.end : mention.start]
                    if first
                    else folded[mention.end : other.start]
                )
                if other.place.kind == "region" and _RANGE_GAP.fullmatch(gap):
                    mentions[index] = _Mention(twin, mention.start, mention.end)
                    break
        return mentions

    @staticmethod
    def _named_body(text: str, before: _Before) -> bool:
        """'la Feria Modelo de Ovalle', 'Corte de Apelaciones de Temuco': a body carrying the name.
        A capitalised word that opens a sentence ("Hinchas de O'Higgins") is not a body's name."""
        if not (before.after_de and before.word) or fold(before.word) in _NOT_BODIES:
            return False
        # the last character before the word, blanks skipped (no copy of the text up to here)
        at = before.word_end - len(before.word)
        while at and text[at - 1].isspace():
            at -= 1
        return at > 0 and text[at - 1] not in '.!?:«"\n'

    @staticmethod
    def _capitalised(text: str, start: int, end: int, kind: str) -> bool:
        """Every word capitalised but the small ones inside ("San Pedro de la Paz", not "los
        Andes"); the caller lets a lowercase opener ("comuna de ...") through first."""
        if kind == "area":
            # "valle de Lluta", "lago Llanquihue": Spanish writes the feature in lowercase (a
            # capital anywhere; so has any text that is all capitals)
            for at in range(start, end):
                if _upper(text, at):
                    return True
            return False
        surface = text[start:end]
        if not _upper(text, start):  # "la victoria": only an all-capitals text is left
            return surface.isupper()
        words = surface.split()
        for index in range(1, len(words)):  # (most names are one word: no loop)
            word = words[index]
            if not (_upper(word, 0) or fold(word) in _SMALL_WORDS):
                return surface.isupper()
        return True

    @staticmethod
    def _continues_as_other_name(text: str, end: int) -> bool:
        """'Antofagasta de la Sierra', 'San Carlos de Bariloche', 'Coronel de Carabineros'."""
        # the pattern is run only where "de" follows the name's blanks (few names): none follow
        # most names, or a word of their own ("Santiago centro", "Talca y")
        at, length = end, len(text)
        while at < length and _blank(text, at):
            at += 1
        # (its first letter told by code first: no string made for most names)
        if at == end or at == length or ord(text[at]) != 100 or text[at : at + 2] != "de":
            return False
        match = _NEXT_PROPER_NAME.match(text, end)
        if not match or not match.group(1):
            return False
        return fold(match.group(2)) != "chile"

    @staticmethod
    def _placed_by_next(folded: str, candidates: list[_Mention]) -> None:
        """A name followed by its own region or province is the Chilean place, however it is
        read elsewhere in the text: "Los Ángeles, en la Región del Biobío", "Victoria (Malleco)".
        (Its tier becomes strong: a rule reads a mention's own tier only.)"""
        for index in range(len(candidates) - 1):
            mention = candidates[index]
            following = candidates[index + 1].place
            if mention.tier == "strong" or following.kind not in ("region", "province"):
                continue
            place = mention.place
            if following.code not in (place.region_code, place.province_code):
                continue
            if _OWN_AREA_GAP.fullmatch(folded, mention.end, candidates[index + 1].start):
                mention.tier = "strong"

    def _lists_vouch(self, folded: str, candidates: list[_Mention]) -> None:
        """A doubtful name listed with sure places is a place.

        'Talcahuano, Hualpén, Penco y Tomé'.
        """
        chains: list[list[int]] = []  # runs of two names or more, as indexes
        previous_end = 0
        for index, mention in enumerate(candidates):
            if index and _separator_between(folded, previous_end, mention.start):
                if chains and chains[-1][-1] == index - 1:
                    chains[-1].append(index)
                else:
                    chains.append([index - 1, index])
            previous_end = mention.end
        if not chains:  # most texts list no places
            return
        # (in place: chains never share a mention, and each chain's are read before any of them
        # is changed)
        for chain in chains:
            if any(candidates[i].tier in ("plain", "strong") for i in chain):
                communes = sum(1 for i in chain if candidates[i].place.kind == "commune")
                for i in chain:
                    mention = candidates[i]
                    # "Talca, Maule, San Clemente y Pelarco": among communes, Maule is the commune
                    twin = (
                        self._commune_twin.get(mention.place.code)
                        if mention.place.kind == "region"
                        else None
                    )
                    if twin is not None and communes >= 2:
                        mention.place = twin
                    mention.tier = "strong"
