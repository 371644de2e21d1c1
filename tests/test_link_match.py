"""The linker's phrase matcher finds what spaCy's PhraseMatcher finds on the text's Doc: the same
keys, spans and number of tokens, in the same order, on awkward text."""

from __future__ import annotations

import json
import random
from collections.abc import Set as AbstractSet
from pathlib import Path

import pytest
from spacy.matcher import PhraseMatcher

from agenda.link import Linker
from agenda.link_match import (
    MOST_OPTIONAL_BLANKS,
    FoldedPhraseMatcher,
    Match,
    OverlappingSearch,
)
from agenda.link_tokens import folded_nlp
from agenda.textnorm import fold

GOLD = Path(__file__).resolve().parent / "gold"

# What may stand between two pieces of text: blanks of every kind, punctuation glued or not.
SEPARATORS = [" "] * 12 + [
    "",
    "  ",
    "\n",
    " \n",
    "\n ",
    "\n\n",
    "\t",
    " \t ",
    "\u00a0",
    "\u2003",
    "\x0b",
    "-",
    " - ",
    "- ",
    " -",
    "–",
    ",",
    ", ",
    " , ",
    ".",
    ". ",
    "...",
    "…",
    "/",
    ":",
    "; ",
    "'",
    "’",
    '"',
    " (",
    ") ",
    "«",
    "» ",
    "“",
    "¿",
    "!",
    "?",
    "#",
    "@",
]
AWKWARD = [
    "",
    " ",
    "\n",
    "Biobío",
    " Biobío",
    "Biobío ",
    "  Biobío  ",
    "(Valparaíso)",
    "«Biobío»",
    "“Ñuble”",
    "Valparaíso,Concepción;Temuco.",
    "Santiago-Chillán",
    "tren Santiago - Chillán y tren Santiago -Chillán, tren Santiago- Chillán",
    "O'Higgins y O’Higgins, Región de O'Higgins'",
    "bio bio, Bio-Bio, bio  bio, bio\nbio, bio - bio, bio -bio",
    "La Florida, Estados Unidos; La Florida,Estados Unidos; La Florida ,Estados Unidos",
    "Hospital de Buin-Paine y hospital de Buin - Paine",
    "http://www.valparaiso.cl/noticias/temuco-2024 y valparaiso.cl",
    "Ruta 5 km 1.234, Talca2, 2Talca, Talca-2, talca/linares, -Talca-",
    "región\tdel\u00a0Biobío y Región  de  Valparaíso",
    "LOS ÁNGELES, los angeles, Los Ángeles:",
    "Biobío, Ñuble. Maule: Temuco;\nArica! Osorno) Talca»\tChillán- maipo.. Arica,,",
    "hospital hospitales liceo liceos puente",
    "rm RM R.M. firma forma",
    "😀Temuco 😀 Valdivia😀\x00Osorno\x00 𝕋emuco Ñuble",
]


def reference(tokenizer, phrases, folded: str) -> list[Match]:  # noqa: ANN001
    """spaCy's PhraseMatcher on the text's Doc, its token spans as character offsets."""
    vocab = tokenizer.vocab
    if id(phrases) not in _REFERENCES:
        matcher = PhraseMatcher(vocab, attr="ORTH")
        for key, texts in phrases:
            matcher.add(key, [tokenizer(text) for text in texts])
        _REFERENCES[id(phrases)] = (phrases, matcher)
    matcher = _REFERENCES[id(phrases)][1]
    doc = tokenizer(folded)
    found = []
    for match_id, first, last in matcher(doc):
        end = doc[last - 1].idx + len(doc[last - 1])
        found.append((vocab.strings[match_id], doc[first].idx, end, last - first))
    return found


_REFERENCES: dict[int, tuple[object, PhraseMatcher]] = {}


def gold_words() -> list[str]:
    words = []
    for line in (GOLD / "linking.jsonl").read_text(encoding="utf-8").splitlines()[:60]:
        item = json.loads(line)
        words += f"{item['title']} {item['text']}".split()
    return words


def random_text(rng: random.Random, phrases: list[str], words: list[str]) -> str:
    """Phrases whole or in pieces, words, digits and addresses, joined by any separator."""
    pieces = []
    for _ in range(rng.randint(1, 14)):
        roll = rng.random()
        if roll < 0.45:
            piece = rng.choice(phrases)
            if rng.random() < 0.3:  # its words, each followed by any separator
                piece = "".join(w + rng.choice(SEPARATORS) for w in piece.split())
        elif roll < 0.85:
            piece = rng.choice(words)
        elif roll < 0.93:
            piece = str(rng.randint(0, 2030))
        else:
            piece = f"http://www.{rng.choice(phrases).replace(' ', '')}.cl/{rng.choice(words)}"
        if rng.random() < 0.2:
            piece = piece.upper() if rng.random() < 0.5 else piece.capitalize()
        pieces.append(piece)
    return rng.choice(["", " ", "\n"]) + "".join(p + rng.choice(SEPARATORS) for p in pieces)


def assert_same(
    matcher: FoldedPhraseMatcher, texts: list[str], place_keys: AbstractSet[str] = frozenset()
) -> None:
    """The matcher gives the PhraseMatcher's matches of places apart from the others."""
    for text in texts:
        folded = fold(text)
        found = reference(matcher.tokenizer, matcher.phrases, folded)
        places = [match for match in found if match[0] in place_keys]
        others = [match for match in found if match[0] not in place_keys]
        assert matcher(folded)[:2] == (places, others), text


@pytest.fixture(scope="module")
def linker_matcher(linker: Linker) -> FoldedPhraseMatcher:
    return linker._matcher


@pytest.fixture(scope="module")
def linker_places(linker: Linker) -> AbstractSet[str]:
    return linker._place_ids


def test_linker_phrases_on_awkward_text(
    linker_matcher: FoldedPhraseMatcher, linker_places: AbstractSet[str]
) -> None:
    assert_same(linker_matcher, AWKWARD, linker_places)


def test_linker_phrases_on_random_text(
    linker_matcher: FoldedPhraseMatcher, linker_places: AbstractSet[str]
) -> None:
    rng = random.Random(20261202)
    phrases = [text for _, texts in linker_matcher.phrases for text in texts]
    words = gold_words()
    texts = [random_text(rng, phrases, words) for _ in range(1500)]
    assert_same(linker_matcher, texts, linker_places)


def test_phrases_with_blanks_punctuation_and_shared_keys() -> None:
    """Phrases the linker's keywords do not have today: whitespace tokens, punctuation, one
    phrase under many keys (their order is the PhraseMatcher's hash table's)."""
    phrases = [
        ("a", ["bio  bio", " bio", "bio ", "rio\nbueno", "x\n y", "santa  cruz,", "o'higgins"]),
        ("b", ["bio - bio", "(la ligua)", "la ligua", "«biobio»", "a-b-c", "1-2", "1 - 2", "-"]),
        ("c", ["la ligua", "bio", "rio bueno", "santa cruz", "...", "san jose", "bio  bio"]),
        ("d", ["la ligua", "bio", "hospital", "a/b", "a.b", "'", "maipo."]),
        ("e", ["la ligua", "hospital", "a / b", "»", "cruz, rio"]),
    ] + [(f"key{n}", ["hospital", "liceo"]) for n in range(12)]
    place_keys = {"a", "c", "key3", "key4", "key8"}  # keys of one phrase on both sides
    matcher = FoldedPhraseMatcher(folded_nlp().tokenizer, phrases, place_keys)
    rng = random.Random(7)
    texts = [text for _, texts in phrases for text in texts]
    words = ["bio", "rio", "bueno", "santa", "cruz", "la", "ligua", "a", "b", "c", "1", "2", "x"]
    texts = AWKWARD + [random_text(rng, texts, words) for _ in range(3000)]
    assert_same(matcher, texts, place_keys)


def test_phrases_inside_longer_ones_come_in_the_phrase_matchers_order() -> None:
    """The search finds strings by where they end; matches come by start, then end, the keys of
    one span in their order: a longer phrase found after a shorter one inside it goes before."""
    phrases = [
        ("a", ["rio bueno sur", "bueno", "rio"]),
        ("b", ["rio bueno", "sur", "bueno"]),
        ("c", ["bueno sur", "rio bueno"]),
    ]
    matcher = FoldedPhraseMatcher(folded_nlp().tokenizer, phrases, {"b"})
    for found in matcher("el rio bueno sur, rio bueno"):
        assert [(start, end) for _, start, end, _ in found] == sorted(
            (start, end) for _, start, end, _ in found
        )
    texts = ["el rio bueno sur, rio bueno", "bueno sur rio bueno sur rio"]
    assert_same(matcher, texts, {"b"})


def test_long_chunks(linker_matcher: FoldedPhraseMatcher, linker_places: AbstractSet[str]) -> None:
    """Text with few blanks: its long chunks are tokenized once for all the strings in them."""
    rng = random.Random(3)
    phrases = [text for _, texts in linker_matcher.phrases for text in texts]
    texts = []
    for _ in range(40):
        glue = rng.choice(["", ",", "-", "/", ".", "(", ")", "'", "«"])
        chunks = [
            glue.join(rng.choice(phrases).replace(" ", glue) for _ in range(rng.randint(1, 60)))
            for _ in range(rng.randint(1, 4))
        ]
        texts.append(rng.choice([" ", "\n", ", "]).join(chunks))
    assert_same(linker_matcher, texts, linker_places)


def test_phrases_beyond_latin1() -> None:
    """Text all in Latin-1 is searched as bytes; a phrase or a text beyond it, as a str."""
    phrases = [("a", ["“bio”", "bio"]), ("b", ["rio … bueno", "rio bueno"])]
    matcher = FoldedPhraseMatcher(folded_nlp().tokenizer, phrases, {"a"})
    texts = ["“bio” rio … bueno", "el bio, rio bueno", "bio\u2003rio bueno “bio”"]
    assert_same(matcher, texts, {"a"})
    latin1 = FoldedPhraseMatcher(folded_nlp().tokenizer, [("a", ["bio"]), ("b", ["rio bueno"])])
    assert_same(latin1, texts + ["«bio» rio bueno"])


def test_other_strings_are_found_in_the_same_pass() -> None:
    """Strings given apart are found with the phrases, each occurrence as the search reports
    it (number among them, start, end), whether or not it is also a phrase; the matches stay
    the same."""
    phrases = [("a", ["bio", "rio bueno"]), ("b", ["obras", "bueno"])]
    others = ["obra", "bueno", "retraso", "o b"]
    matcher = FoldedPhraseMatcher(folded_nlp().tokenizer, phrases, {"a"}, others)
    alone = FoldedPhraseMatcher(folded_nlp().tokenizer, phrases, {"a"})
    search = OverlappingSearch(others)
    rng = random.Random(11)
    words = ["bio", "rio", "bueno", "obras", "retraso", "o", "b", "“", "x"]
    texts = AWKWARD + [random_text(rng, ["rio bueno", "obras"], words) for _ in range(500)]
    for text in texts:
        folded = fold(text)
        places, matches, found = matcher(folded)
        assert (places, matches, []) == alone(folded), text
        assert sorted(found) == sorted(search.find(folded)), text


def test_overlapping_search_finds_every_occurrence() -> None:
    """Searched as Latin-1 bytes or as a str, the search reports every occurrence of every
    string, overlapping ones too, at character offsets: what a plain scan finds."""
    rng = random.Random(7)
    letters = "ab ñé“”\u2003"
    for strings in (["a", "ab", "ba", "ñé", "b ñ"], ["ab", "“a”", "é"], []):
        search = OverlappingSearch(strings)
        for _ in range(300):
            text = "".join(rng.choice(letters) for _ in range(rng.randrange(12)))
            expected = sorted(
                (index, start, start + len(string))
                for index, string in enumerate(strings)
                for start in range(len(text))
                if text.startswith(string, start)
            )
            assert sorted(search.find(text)) == expected, (strings, text)


def test_a_phrase_with_too_many_forms_is_refused() -> None:
    phrase = "-".join(["a"] * (MOST_OPTIONAL_BLANKS // 2 + 2))
    with pytest.raises(ValueError, match="optional"):
        FoldedPhraseMatcher(folded_nlp().tokenizer, [("a", [phrase])])
