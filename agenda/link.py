"""Linking: which regions, provinces, communes, commitments and priorities a text is about.

``Linker(keywords)`` builds its phrase matcher once; ``Linker.link(text)`` is a pure function of
the text. A phrase matches where spaCy's tokenizer (``spacy.blank("es")``: no model download) would
cut the text into the phrase's tokens, as a spaCy ``PhraseMatcher`` would find it, but searched as
strings, without tokenizing the text (agenda/link_match.py). Matching runs on the folded text
(lowercase, no accents, same length), so "Biobío", "BIOBÍO" and "Bio Bio" meet the same pattern and
every match's offsets point into the original text, which is what evidence keeps.

Place rules (the lists are data, in keywords/disambiguation.yaml):
  - the longest match wins ("Región de Valparaíso" over "Valparaíso", "Santiago de Compostela"
    over "Santiago"); phrases listed under ``never`` win and are then dropped;
  - a mention must be capitalised ("la victoria" is not Victoria, "los Andes" is not Los Andes);
  - a name that goes on as a longer proper name ("Antofagasta de la Sierra", "Coronel de
    Carabineros") is not the commune;
  - person evidence drops it: a title or a first name before ("ministro Valdivia", "Tomás
    Valdivia", "el mariscal José de Santa Cruz"), a speech verb after ("Pinto afirmó"), or a
    first-name-like commune followed by a surname ("Santiago Ramírez");
  - foreign evidence drops it: "estado de Victoria", "Los Ángeles, California", "San Fernando, en
    la provincia de Buenos Aires";
  - streets, buildings, feasts and works drop it ("calle Victoria", "día de Santa Bárbara");
    natural features keep only the region ("volcán Osorno");
  - a name found to be a person or a foreign place once is that everywhere in the text, unless
    a strong trigger ("comuna de") or its own region or province right after it ("Los Ángeles,
    en la Región del Biobío") says otherwise;
  - a region's or a zone's body before a name gives the region ("Seremi de Salud de Coquimbo",
    "Prefectura Santiago Sur"); so do lists and ranges of regions and a direction after the name
    ("hasta Coquimbo por el norte"); a name read once as a region or province is that again
    unless it has a commune's evidence ("comuna de", "alcalde de"), which also makes a region's
    short name the commune ("el alcalde de Maule");
  - a road ("Camino a Melipilla", "por el camino a Valparaíso", "curva Puerto Montt"), a list
    of features ("los cerros Alegre y Concepción") or a newspaper's, club's or firm's name
    ("El Mercurio de Valparaíso", "Coquimbo Unido") is not the place (agenda/placecontext.py);
  - a longer alias not written as a name ("Santiago centro") leaves the same place's shorter one;
  - names listed as ambiguous need positive evidence: a trigger before them, another place of
    the same region, or the source's own region; names listed as strict (common nouns such as
    "Navidad") need a strong trigger, or a weak one plus another place of the same region.
Commitments match by their aliases (hand-written and generated), or by one of their facility
words plus one of their communes in the same sentence; which of them the text is about, and which
are in trouble, is read by ``agenda.risk`` (the rules are written there).

The result types are in agenda/link_result.py, the tokenizer in agenda/link_tokens.py, the matcher
in agenda/link_match.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from operator import itemgetter
from typing import Final, final

from agenda.errors import ConfigError
from agenda.keywords import Keywords, Place
from agenda.link_match import FoldedPhraseMatcher, Match, Occurrence, UnsearchablePhrase
from agenda.link_result import Evidence, Link, LinkResult
from agenda.link_tokens import Sentences, count_at_most, folded_nlp
from agenda.placecontext import (
    _NEXT_PROPER_NAME,
    FOREIGN,
    NOT_PLACE,
    PERSON,
    REGION_ONLY,
    ROAD,
    STRONG,
    WEAK,
    PlaceContext,
    _Before,
    _before,
    _blank,
    _Mention,
    before_phrases,
    body_ends,
    phrase_flags,
)
from agenda.risk import RiskReader
from agenda.textnorm import fold

# Only these words may stand between a name and a foreign marker:
# "Concepción, en el norte de Paraguay".
_FOREIGN_FILLERS: Final = frozenset(
    (
        "en el la los las del de al un una norte sur este oeste centro noreste noroeste sureste "
        "suroeste estado provincia ciudad municipio condado departamento pais region zona "
        "frontera con costa capital pequeno pueblo"
    ).split()
)
# Capitalised words that may follow a place name without making it a person's first name.
_NOT_SURNAMES: Final = frozenset(
    {
        "centro",
        "chile",
        "metropolitano",
        "oriente",
        "poniente",
        "norte",
        "sur",
        "el",
        "la",
        "los",
        "las",
    }
)
# Words that open a place phrase in lowercase: "comuna de Maule" is capitalised enough.
_LOWERCASE_OPENERS: Final = (
    "comuna",
    "municipalidad",
    "ilustre",
    "provincia",
    "region",
    "gran ",
    "archipielago",
    "isla ",
)
_LONGEST_OPENER: Final = max(map(len, _LOWERCASE_OPENERS))
_OPENER_HEAD: Final = 3  # no opener is shorter
_OPENER_HEADS: Final = frozenset(opener[:_OPENER_HEAD] for opener in _LOWERCASE_OPENERS)
_OPENER_INITIALS: Final = "".join(sorted({opener[0] for opener in _LOWERCASE_OPENERS}))


# Where the matcher's phrases of each kind of key are written, for an analyst's error message.
_FILE_OF_PHRASES: Final = {
    "NEVER": "disambiguation.yaml",
    "commitment": "commitments.yaml",
    "facility": "commitments.yaml",
    "priority": "priorities.yaml",
}

_TOKENS: Final = itemgetter(3)  # a match's number of tokens
_NEXT_PROPER_NAME_MATCH: Final = _NEXT_PROPER_NAME.match  # fetched once, not by name each call

_NO_REGIONS: Final[frozenset[str]] = frozenset()  # no commitment's region vouched for


def _alternatives(phrases: Iterable[str]) -> str:
    return "|".join(map(re.escape, sorted(set(phrases), key=len, reverse=True))) or "(?!)"


# Phrases as a tree of their letters: a character -> the subtree after it; "" ends a phrase.
_Tree = dict[str, "_Tree"]


def _trie_alternatives(phrases: Iterable[str]) -> str:
    """A pattern for any of the phrases, written as a tree of their common beginnings
    ("a(?:lemania|rgentina)"): the engine tries each letter once, not each phrase in turn (the
    foreign markers are dozens). It matches the same strings as the plain alternation, maybe
    another of them first: for a yes or no (``match``) only."""
    tree: _Tree = {}
    for phrase in sorted(set(phrases)):
        node = tree
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}
    return _subtree_pattern(tree) if tree else "(?!)"


def _subtree_pattern(node: _Tree) -> str:
    branches = [re.escape(char) + _subtree_pattern(child) for char, child in node.items() if char]
    if not branches:
        return ""
    pattern = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{pattern})?" if "" in node else pattern


def _foreign_clause_may_follow(folded: str, end: int, heads: frozenset[str], size: int) -> bool:
    """What the foreign marker pattern (``Linker._foreign_after``) needs right after a name,
    looked at without it: "," or "(" or "en", then filler words each followed by blanks (blanks
    anywhere between), then a marker's first ``size`` letters, one of ``heads``. Most names are
    followed by none of that: no pattern run for those. A yes is only a maybe."""
    length = len(folded)
    while end < length and _blank(folded, end):
        end += 1
    if end >= length:
        return False
    first = ord(folded[end])  # (compiled, a number read in place: no string, no comparison call)
    if first == 44 or first == 40:  # "," or "("
        end += 1
    elif first == 101 and folded[end + 1 : end + 2] == "n":  # "e"
        end += 2  # "en", or any word in en ("entre"): the pattern tells them apart
    else:
        return False
    while True:
        while end < length and folded[end].isspace():
            end += 1
        if folded[end : end + size] in heads:
            return True
        # the word up to the next space (str.find, not a loop a character at a time): a filler
        # (letters only) goes on only when blanks follow it
        space = folded.find(" ", end)
        word = folded[end:space] if space >= 0 else folded[end:]
        if space < 0 or word not in _FOREIGN_FILLERS:
            if not word or word.isalnum():
                return False  # the text's end, or a word and no filler
            # "2024)", "dijo.": its letters end at a character that no filler has, unless at
            # another blank ("la\nciudad": the pattern tells)
            letters = 0
            while word[letters].isalnum():
                letters += 1
            return word[letters].isspace()
        end = space


@final
class _LinkTarget:
    """A link a mention makes: its kind, code and name. One per (kind, code), made with the
    linker (an alert term's, once per text): a text's links are keyed by it, hashed by identity,
    so a mention reads no string (each a likely cache miss) until its link is made."""

    def __init__(self, kind: str, code: str, name: str) -> None:
        self.kind = kind
        self.code = code
        self.name = name


@final
class _Links:
    """One text's links as they are found: each (kind, code) once, in the order first found, in
    its kind's list of ``result``, with every mention's evidence."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.result = LinkResult()
        self._index: dict[_LinkTarget, Link] = {}

    def add_place(self, targets: tuple[_LinkTarget, ...], start: int, end: int) -> None:
        """A place mention: the links it makes (a commune, its province, its region)."""
        evidence = Evidence(self.text[start:end], start, end)  # one for all of them
        for target in targets:
            self._add(target, evidence)

    def add(self, target: _LinkTarget, start: int, end: int) -> Link:
        """A mention of a topic or an alert term: its link, with the mention as evidence."""
        return self._add(target, Evidence(self.text[start:end], start, end))

    def _add(self, target: _LinkTarget, evidence: Evidence) -> Link:
        """The target's link with one more evidence; made and listed the first time."""
        link = self._index.get(target)
        if link is None:
            # made with its evidence: a list of one, not an empty one that the append resizes
            link = self._index[target] = Link(target.kind, target.code, target.name, [evidence])
            self.result.list_of(target.kind).append(link)
        else:
            link.evidence.append(evidence)
        return link


class Linker(PlaceContext):
    """Build once (a second or so), then call ``link`` for each text."""

    def __init__(self, keywords: Keywords) -> None:
        self.keywords = keywords
        self.rules = keywords.rules
        self._place_by_alias: dict[str, Place] = {}
        self._facility_words: dict[str, set[str]] = {}  # folded facility word -> commitment ids
        # Context lists compiled once: "...<phrase> " right before a name, "<phrase>" right after.
        rules = self.rules
        # Phrases that must stand right before a name, as sets: one lookup per phrase length
        # instead of a regex scan per mention (the linker's hot path).
        self._strong_triggers = frozenset(rules.strong_triggers)
        self._weak_triggers = frozenset(rules.weak_triggers)
        self._person_before = frozenset(rules.person_before)
        self._not_place_before = frozenset(rules.not_place_before)
        self._region_only_before = frozenset(rules.region_only_before)
        self._foreign_before = frozenset(rules.foreign_before)
        self._road_before = frozenset(rules.road_before)
        self._phrase_flags = phrase_flags(
            {
                NOT_PLACE: self._not_place_before,
                STRONG: self._strong_triggers,
                WEAK: self._weak_triggers,
                PERSON: self._person_before,
                REGION_ONLY: self._region_only_before,
                FOREIGN: self._foreign_before,
                ROAD: self._road_before,
            }
        )
        # (bound methods, fetched once: compiled, pattern.match(...) is looked up by name each call)
        self._person_after = re.compile(
            r"\s+(?:" + _alternatives(rules.person_after) + r")\b"
        ).match
        # A foreign marker later in the same clause: ", California", ", en el norte de Paraguay".
        self._foreign_after = re.compile(
            r"\s*(?:,|\(|\ben\b)\s*(?:"
            + _trie_alternatives(_FOREIGN_FILLERS)
            + r"\s+)*"
            + _trie_alternatives(rules.foreign_markers)
            + r"(?![\w])"
        ).match
        # the markers' first letters, for a look before the pattern (_foreign_clause_may_follow);
        # a marker opened by a blank (none is) would leave the pattern every clause
        markers = rules.foreign_markers
        size = min(map(len, markers), default=0)
        if any(marker[:1].isspace() for marker in markers):
            size = 0
        self._foreign_head_size = size
        self._foreign_heads = frozenset(marker[:size] for marker in markers)
        # regions whose short name is also a commune's ("Maule", "Los Lagos", "Aysén")
        communes_by_name = {
            fold(p.name): p for p in self.keywords.places.values() if p.kind == "commune"
        }
        self._commune_twin = {
            region.code: communes_by_name[fold(region.name)]
            for region in self.keywords.places.values()
            if region.kind == "region" and fold(region.name) in communes_by_name
        }
        self._region_twin = {
            commune.code: self.keywords.place("region", code)
            for code, commune in self._commune_twin.items()
        }
        # a name's tier before its context is read: one lookup per mention, not one per list
        self._tier_of = dict.fromkeys(rules.ambiguous, "ambiguous") | dict.fromkeys(
            rules.strict, "strict"
        )  # (strict wins over ambiguous)
        self._region_bodies = frozenset(rules.region_bodies)
        self._zone_bodies = frozenset(rules.zone_bodies) | self._region_bodies
        self._body_ends = body_ends(self._zone_bodies)
        # one-word features listed in the singular and the plural ("cerro", "cerros"): the plural
        # heads a list of the features' own names ("los cerros Alegre y Concepción")
        features = {p for p in rules.not_place_before if " " not in p}
        self._feature_plurals = frozenset(
            w for w in features if w.endswith("s") and (w[:-1] in features or w[:-2] in features)
        )
        self._region_by_short_name = {
            fold(place.name): place
            for place in self.keywords.places.values()
            if place.kind == "region"
        }
        # Names of regions and provinces that are also a commune's ("coquimbo", "iquique"): read
        # once as the region or province in a text, a bare mention there is that too.
        self._province_by_name = {
            fold(p.name): p for p in self.keywords.places.values() if p.kind == "province"
        }
        for names in (self._province_by_name, self._region_by_short_name):
            # in a list the article goes: "las provincias de El Loa y Tocopilla" -> "loa"
            for name, place in list(names.items()):
                if name.split()[0] in ("el", "la", "los", "las") and " " in name:
                    names.setdefault(name.split(" ", 1)[1], place)
        self._twin_names = {
            (place.kind, place.code): fold(place.name)
            for place in self.keywords.places.values()
            if place.kind in ("region", "province") and fold(place.name) in communes_by_name
        }
        for name, code in rules.region_list_names:  # "las regiones de Santiago y Valparaíso"
            self._region_by_short_name.setdefault(name, self.keywords.place("region", code))
        # What a mention of each place links, worked out once: a commune, its province, its region.
        # (kind -> code -> targets: two lookups by a string cost less than a key tuple made)
        self._links_of: dict[str, dict[str, tuple[_LinkTarget, ...]]] = {}
        place_targets: dict[tuple[str, str], _LinkTarget] = {}  # one per place, shared
        for place in self.keywords.places.values():
            links = []
            if place.kind in ("commune", "province"):
                links.append(place)
            if place.kind == "commune" and place.province_code:
                links.append(self.keywords.place("province", place.province_code))
            links.append(self.keywords.place("region", place.region_code))
            self._links_of.setdefault(place.kind, {})[place.code] = tuple(
                place_targets.setdefault(
                    (linked.kind, linked.code), _LinkTarget(linked.kind, linked.code, linked.name)
                )
                for linked in links
            )
        self._build()

    # -- building ---------------------------------------------------------------------------
    @staticmethod
    def _patterns(phrases: Iterable[str]) -> list[str]:
        return [fold(p) for p in dict.fromkeys(phrases) if p.strip()]

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
        # One matcher, one pass over the text: places, `never` phrases and topics, keyed so.
        phrases: list[tuple[str, list[str]]] = []
        self._place_by_match: dict[str, Place] = {}
        squeezed: set[str] = set()  # the aliases as written, their blanks squeezed already
        for key, aliases in by_place.items():
            patterns = self._patterns(aliases)
            phrases.append((key, patterns))
            self._place_by_match[key] = self.keywords.places[key]
            squeezed.update(p for p in patterns if " ".join(p.split()) == p)
        self._squeezed_aliases = frozenset(squeezed)  # a name found written so needs no squeeze
        self._never_match = "NEVER"
        phrases.append((self._never_match, self._patterns(self.rules.never)))
        self._place_ids = frozenset(self._place_by_match) | {self._never_match}
        for commitment in self.keywords.commitments.values():
            phrases.append((f"commitment|{commitment.id}", self._patterns(commitment.names())))
            for word in commitment.facility_words:
                for form in (word, word + "s", word + "es"):
                    self._facility_words.setdefault(fold(form), set()).add(commitment.id)
        for form in self._facility_words:
            phrases.append((f"facility|{form}", self._patterns([form])))
        for priority in self.keywords.priorities.values():
            phrases.append((f"priority|{priority.id}", self._patterns(priority.keywords)))
        # trouble terms are patterns ("paraliz*"), not phrases; the words risk looks for first
        # are found in the matcher's pass over the text
        self._risk = RiskReader(self.keywords)
        try:
            self._matcher = FoldedPhraseMatcher(
                folded_nlp().tokenizer, phrases, self._place_ids, self._risk.strings
            )
        except UnsearchablePhrase as exc:  # a keyword the matcher cannot search: the analyst's
            kind = exc.key.split("|")[0].split(":")[0]
            file = _FILE_OF_PHRASES.get(kind, "gazetteer.yaml")
            raise ConfigError(str(self.keywords.directory / file), None, None, exc.reason) from None
        # a topic's match key -> (kind, code)
        self._topic_by_match: dict[str, tuple[str, str]] = {
            f"{kind}|{code}": (kind, code)
            for kind, codes in (
                ("commitment", self.keywords.commitments),
                ("facility", self._facility_words),
                ("priority", self.keywords.priorities),
            )
            for code in codes
        }
        self._commitment_targets = {
            code: _LinkTarget("commitment", code, commitment.title)
            for code, commitment in self.keywords.commitments.items()
        }
        self._priority_targets = {
            code: _LinkTarget("priority", code, priority.name)
            for code, priority in self.keywords.priorities.items()
        }

    # -- linking ----------------------------------------------------------------------------
    def link(self, text: str, source_region: str | None = None) -> LinkResult:
        """Link one text. ``source_region`` (a source's own region) is a prior for ambiguous names.

        >>> linker.link("Lluvias en Bio Bio").regions[0].code   # doctest: +SKIP
        '08'
        """
        folded = fold(text)
        place_matches, topic_matches, risk_words = self._matcher(folded)
        # a commitment named in the text vouches for its region ("viviendas definitivas de Santa
        # Juana"); the set is made only for a text that names one (most name none)
        commitment_regions: set[str] | None = None
        for match in topic_matches:
            kind, code = self._topic_by_match[match[0]]
            if kind == "commitment":
                if commitment_regions is None:
                    commitment_regions = set()
                commitment_regions.add(self.keywords.commitments[code].region_code)
        mentions = self._place_mentions(
            text,
            folded,
            place_matches,
            source_region,
            _NO_REGIONS if commitment_regions is None else commitment_regions,
        )
        links = _Links(text)
        links_of = self._links_of
        for mention in mentions:
            place = mention.place
            links.add_place(links_of[place.kind][place.code], mention.start, mention.end)
        self._topics(text, folded, topic_matches, mentions, links, risk_words)
        return links.result

    def _place_mentions(
        self,
        text: str,
        folded: str,
        matches: list[Match],
        source_region: str | None,
        commitment_regions: AbstractSet[str] = frozenset(),
    ) -> list[_Mention]:
        if not matches:
            return []
        # Longest match (in tokens) wins, then the earliest (the matcher gives them by start, and
        # the sort is stable); overlapping shorter ones are dropped. Matches all of one length
        # stay as they are: no sort to call (a generic call with a key, compiled).
        tokens = matches[0][3]
        if any(match[3] != tokens for match in matches):
            matches.sort(key=_TOKENS, reverse=True)
        # Kept as indexes into matches: compiled, a match read from the list is unpacked into
        # native fields, and putting it in another list would make a new tuple (and new ints).
        kept: list[int] = []  # by start: their spans never overlap
        kept_starts: list[int] = []
        for index in range(len(matches)):
            _, start, end, _ = matches[index]
            # the kept match that starts last before this one ends is the only one it can overlap
            at = count_at_most(kept_starts, end - 1)  # the kept matches starting before end
            if at and matches[kept[at - 1]][2] > start:
                continue
            kept_starts.insert(at, start)
            kept.insert(at, index)
        rules = self.rules
        candidates: list[_Mention] = []
        not_chilean: dict[str, str] = {}  # names seen as a person or a foreign place in this text
        people_here: set[str] = set()  # names already read as a person in this text
        never_ends: set[int] = set()  # where a `never` phrase ends ("Aníbal Pinto| Santa Cruz")
        # what each mention reads, fetched once per text (the loop is the linker's hot path)
        never_match, place_by_match = self._never_match, self._place_by_match
        phrase_flags, exclusions = self._phrase_flags, self.keywords.exclusions
        require_capital, tier_of = rules.require_capital, self._tier_of
        foreign_heads, foreign_head_size = self._foreign_heads, self._foreign_head_size
        squeezed_aliases = self._squeezed_aliases
        foreign_after = self._foreign_after
        for index in kept:
            match_id, start, end, tokens = matches[index]
            if match_id == never_match:
                never_ends.add(end)
                continue
            place = place_by_match[match_id]
            kind = place.kind  # read once here, and again below where place changes
            # "municipalidad de ...", "comuna de ...": a place phrase, capitalised or not
            # (on a slice: compiled, startswith(tuple) without a start is a native call; the
            # first letter, then the first three tried first: they rule out most names, with no
            # string made for the first)
            phrase = (
                folded[start] in _OPENER_INITIALS
                and folded[start : start + _OPENER_HEAD] in _OPENER_HEADS
                and folded[start : start + _LONGEST_OPENER].startswith(_LOWERCASE_OPENERS)
            )
            if require_capital and not phrase:
                if tokens == 1 and kind != "area":
                    # one word (most names): _capitalised's answer from its first letter; an
                    # ASCII letter (most) answers without a method call
                    initial = ord(text[start])
                    if 97 <= initial <= 122 or not (
                        65 <= initial <= 90 or text[start].isupper() or text[start:end].isupper()
                    ):
                        continue
                elif not self._capitalised(text, start, end, kind):
                    # "en Santiago centro": the alias "Santiago Centro" is not written as a name,
                    # but the same place's shorter alias inside it may be (a rare case)
                    inside = self._capitalised_inside(text, matches, match_id, start, end)
                    if inside is None:
                        continue
                    start, end, tokens = inside
            before = _before(text, folded, start, phrase_flags)
            if before.flags & NOT_PLACE:
                continue
            if not phrase and self._road_or_title(text, folded, start, end, before, kind):
                continue  # "Camino a Melipilla", "El Mercurio de Valparaíso", "Coquimbo Unido"
            # one token has no blanks to squeeze (most names), nor has an alias as written (most of
            # the rest)
            name = folded[start:end]
            if tokens != 1 and name not in squeezed_aliases:
                name = " ".join(name.split())
            if exclusions and self._excluded(name, place, before):
                continue
            strong = bool(before.flags & STRONG)
            if strong and kind == "region" and place.code in self._commune_twin:
                # "el alcalde de Maule": a region's short name, with the commune's own evidence
                words = before.words  # split once (each read of the property splits anew)
                if len(words) < 2 or words[-2] not in ("provincia", "region"):
                    place = self._commune_twin[place.code]
                    kind = place.kind
            tier = tier_of.get(name, "plain")
            if not phrase:
                # a foreign marker before ("estado de") or after (", California")
                if before.flags & FOREIGN or (
                    _foreign_clause_may_follow(folded, end, foreign_heads, foreign_head_size)
                    and foreign_after(folded, end)
                ):
                    not_chilean[name] = "foreign"
                    continue
                if not strong and self._is_person(
                    text, folded, before, end, name, tier, people_here, never_ends
                ):
                    not_chilean.setdefault(name, "person")
                    people_here.add(name)
                    continue
                # a body's name ends "... de": only then is there one to look at (most names)
                strong = strong or (before.after_de and self._named_body(text, before))
                if kind in ("commune", "province") and self._continues_as_other_name(text, end):
                    continue  # "vecinos de Placilla de Peñuelas": another, longer name
            if kind in ("commune", "province") and self._body_before(text, folded, start, before):
                # "Gobierno Regional de Coquimbo", "Servicio de Salud Osorno": the region
                twin = self._region_twin.get(place.code) if kind == "commune" else None
                if twin is None or not self._body_before(
                    text, folded, start, before, self._region_bodies
                ):
                    twin = self.keywords.place("region", place.region_code)
                place = twin
                kind = place.kind
            if before.flags & REGION_ONLY and kind in ("commune", "province"):
                place = self.keywords.place("region", place.region_code)
            if strong or phrase:
                tier = "strong"
            candidates.append(_Mention(place, start, end, name, tier, bool(before.flags & WEAK)))
        self._placed_by_next(folded, candidates)
        if not_chilean:  # most texts name no person or foreign place: nothing to look up
            candidates = [c for c in candidates if not self._seen_as_other(c, not_chilean)]
        candidates = self._read_as_elsewhere(folded, candidates)
        # the regions sure mentions support, for the doubtful ones (most texts have none)
        supported: AbstractSet[str] = frozenset()
        if any(m.tier == "ambiguous" or m.tier == "strict" for m in candidates):
            supported = {
                m.place.region_code for m in candidates if m.tier in ("plain", "strong")
            } | commitment_regions
        self._lists_vouch(folded, candidates)
        mentions = []
        for mention in candidates:
            tier = mention.tier
            if tier == "ambiguous" or tier == "strict":
                region = mention.place.region_code
                weak = mention.weak
                if tier == "ambiguous" and not (
                    weak or region in supported or region == source_region
                ):
                    continue
                if tier == "strict" and not (
                    weak and (region in supported or region == source_region)
                ):
                    continue
            mentions.append(mention)
        return self._region_lists(folded, mentions)

    def _capitalised_inside(
        self, text: str, matches: list[Match], match_id: str, start: int, end: int
    ) -> tuple[int, int, int] | None:
        """The longest match of the same place within [start, end) that is capitalised as a
        name: (start, end, tokens), or None."""
        place = self._place_by_match[match_id]
        inside = [
            (other_start, other_end, tokens)
            for key, other_start, other_end, tokens in matches
            if key == match_id
            and start <= other_start
            and other_end <= end
            and (other_start, other_end) != (start, end)
            and self._capitalised(text, other_start, other_end, place.kind)
        ]
        return max(inside, key=lambda m: m[1] - m[0], default=None)

    @staticmethod
    def _seen_as_other(mention: _Mention, not_chilean: dict[str, str]) -> bool:
        """A name that was a person or a foreign place elsewhere in the text is that here too,
        unless this mention has a strong trigger (or, against a person reading, a weak one:
        "en Linares")."""
        reason = not_chilean.get(mention.name)
        if reason is None or mention.tier == "strong":
            return False
        if reason == "person" and mention.weak:
            return False
        return True

    def _excluded(self, name: str, place: Place, before: _Before) -> bool:
        """An analyst's exclusion rule (keywords/feedback.yaml) for this name and place."""
        contexts = self.keywords.exclusions.get((name, place.code))
        if not contexts:
            return False
        return None in contexts or not contexts.isdisjoint(before_phrases(before.words))

    def _is_person(
        self,
        text: str,
        folded: str,
        before: _Before,
        end: int,
        name: str,
        tier: str,
        people_here: set[str],
        never_ends: set[int],
    ) -> bool:
        if before.flags & PERSON:
            return True
        previous = fold(before.word) if before.word else ""
        if previous and previous in self.rules.first_names:
            if tier != "plain" or not before.after_de:
                return True  # "Tomás Valdivia", "Alonso de Ercilla"
            # "Santa María de Arica" is Arica, but a title in lowercase before the first name
            # makes it a person's: "el mariscal Andrés de Santa Cruz" (not "sector San Pedro de")
            words = before.words
            title = words[-3] if len(words) >= 3 else ""
            if title in self._person_before:
                at = before.word_end - len(before.word) - 1 - len(title)
                if at >= 0 and text[at : at + len(title)].islower():
                    return True
        if (
            previous
            and not before.after_de
            and (previous in people_here or before.word_end in never_ends)
        ):
            return True  # "Aníbal Pinto Santa Cruz": the name goes on after a surname
        # both patterns below open with blanks: a name followed by none ("Temuco,") runs neither
        # (a slice: "" at the text's end, which is no blank)
        if tier != "plain" and folded[end : end + 1].isspace() and self._person_after(folded, end):
            return True  # "Pinto afirmó" (a surname-like name only: "Temuco anunció" is the city)
        if end == len(text) or not _blank(text, end):
            return False
        space = name.find(" ")  # the name's blanks are single spaces
        if (name if space < 0 else name[:space]) in self.rules.first_names:
            following = _NEXT_PROPER_NAME_MATCH(text, end)
            if (
                following
                and not following.group(1)
                and fold(following.group(2)) not in _NOT_SURNAMES
            ):
                return True  # "Santiago Ramírez", "Fresia Castro", "María Elena Contreras"
        return False

    def _topics(
        self,
        text: str,
        folded: str,
        matches: list[Match],
        mentions: list[_Mention],
        links: _Links,
        risk_words: list[Occurrence],
    ) -> None:
        if not matches:
            return
        names: list[tuple[str, int, int]] = []
        facilities: list[tuple[set[str], int, int]] = []
        for match_id, start, end, _ in matches:
            kind, code = self._topic_by_match[match_id]
            if kind == "commitment":
                names.append((code, start, end))
            elif kind == "facility":
                facilities.append((self._facility_words[code], start, end))
            else:
                links.add(self._priority_targets[code], start, end)
        if not (names or facilities):
            return
        communes = [(m.place.code, m.start, m.end) for m in mentions if m.place.kind == "commune"]
        findings, troubles = self._risk.read(
            text,
            folded,
            names,
            facilities,
            communes,
            Sentences(text),  # bounds found only if a sentence is asked for
            risk_words,
        )
        for finding in findings:
            target = self._commitment_targets[finding.id]
            for start, end in finding.mentions:
                link = links.add(target, start, end)
            link.at_risk, link.risk_kind, link.resolved = (
                finding.at_risk,
                finding.risk_kind,
                finding.resolved,
            )
            link.risk_evidence = tuple(Evidence(text[s:e], s, e) for s, e in finding.risk_sentences)
            link.resolution_evidence = tuple(
                Evidence(text[s:e], s, e) for s, e in finding.resolution_sentences
            )
        if findings and troubles:
            alerts: dict[str, _LinkTarget] = {}  # a term's, made once in the text
            for hit in troubles:
                alert = alerts.get(hit.term)
                if alert is None:
                    alert = alerts[hit.term] = _LinkTarget("alert", hit.term, hit.term)
                links.add(alert, hit.start, hit.end)
