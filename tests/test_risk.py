"""Commitments in trouble: press names, the register's generated names, article-level risk,
the trouble kinds file, and the risk detail stored with each link."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from sqlite_utils import Database

from agenda.collect import FetchResult
from agenda.commitment_names import facility_words, press_names
from agenda.errors import ConfigErrors
from agenda.extract import Article
from agenda.keywords import Keywords, load_commitments, load_keywords
from agenda.link import Linker
from agenda.link_tokens import Sentences
from agenda.reports.digest import build_digest, build_stories
from agenda.reports.render import render_email, render_html, render_text
from agenda.risk import Span
from agenda.sources import Source
from agenda.store import Store
from agenda.textnorm import fold

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "gold"


@pytest.fixture(scope="module")
def register_linker() -> Linker:
    keywords = load_keywords(ROOT / "keywords")
    keywords.commitments.clear()
    load_commitments(GOLD / "commitments-register.yaml", keywords)
    return Linker(keywords)


def folded(names: list[str]) -> set[str]:
    return {n.lower() for n in names}


# -- press names ------------------------------------------------------------------------------
def test_press_names_drop_work_words_and_write_the_hospital_forms() -> None:
    names = folded(press_names("Construcción del Nuevo Hospital de Ovalle", ["Ovalle"]))
    assert {
        "hospital de ovalle",
        "hospital ovalle",
        "hospital regional de ovalle",
        "nuevo hospital de ovalle",
    } <= names
    assert not any(n.startswith(("construcción", "nuevo nuevo")) for n in names)
    for opening in ("Reposición del", "Rehabilitación del", "Normalización del"):
        assert "hospital de curicó" in folded(
            press_names(f"{opening} Hospital de Curicó", ["Curicó"])
        )


def test_press_names_pairs_of_communes_both_ways() -> None:
    names = folded(press_names("Construcción del Hospital Buin-Paine", ["Buin", "Paine"]))
    assert {
        "hospital buin-paine",
        "hospital de buin y paine",
        "nuevo hospital de buin-paine",
    } <= names
    assert "hospital de los ángeles-mulchén" in folded(
        press_names("Hospital de Los Ángeles y Mulchén", ["Los Ángeles", "Mulchén"])
    )


def test_press_names_bridge_over_a_river_only_when_the_title_says_so() -> None:
    names = folded(
        press_names("Reposición del Puente sobre el río Toltén en Pitrufquén", ["Pitrufquén"])
    )
    assert {
        "puente toltén",
        "puente sobre el río toltén",
        "nuevo puente sobre el toltén",
        "puente de pitrufquén",
    } <= names
    # a bridge with its own name is not "puente Biobío" (another, older bridge is)
    named = folded(
        press_names("Construcción del Puente Industrial sobre el río Biobío", ["Hualpén"])
    )
    assert "puente industrial" in named and "puente biobío" not in named
    assert not any(
        "río" in n for n in folded(press_names("Construcción del Puente Cau Cau", ["Valdivia"]))
    )


def test_press_names_keep_the_saints_name_and_never_a_single_word() -> None:
    names = press_names("Normalización del Hospital San Juan de Dios de Curicó", ["Curicó"])
    assert "Hospital San Juan de Dios" in names and "Hospital de Curicó" in names
    assert all(len(n.split()) >= 2 for n in names)
    assert facility_words("Nuevo Recinto Penitenciario de Talca")[0] == "recinto penitenciario"


def test_import_register_fixture_is_what_press_names_writes(keywords: Keywords) -> None:
    """As `agenda commitments import` writes an entry: the title as the only alias, the press
    names that are not the title as generated_aliases, no facility list."""
    register = yaml.safe_load(
        (GOLD / "commitments-register-import.yaml").read_text(encoding="utf-8")
    )
    for entry in register["commitments"]:
        communes = [keywords.place("commune", code).name for code in entry["communes"]]
        title = " ".join(entry["title"].lower().split())
        expected = [n for n in press_names(entry["title"], communes) if n.lower() != title]
        assert entry["aliases"] == [entry["title"]] and entry["generated_aliases"] == expected
        assert "facility" not in entry


# -- the register's generated names ----------------------------------------------------------
@pytest.fixture
def keyword_copy(tmp_path: Path) -> Path:
    target = tmp_path / "keywords"
    shutil.copytree(ROOT / "keywords", target)
    return target


def test_generated_aliases_are_matched_like_aliases(keyword_copy: Path) -> None:
    keywords = load_keywords(keyword_copy)
    keywords.commitments.clear()
    load_commitments(GOLD / "commitments-register-import.yaml", keywords)
    commitment = keywords.commitments["hospital-buin-paine"]
    assert commitment.aliases == (commitment.title,)
    assert "Hospital de Buin y Paine" in commitment.generated_aliases
    assert commitment.facility_words == ("hospital",)  # read from the title
    result = Linker(keywords).link(
        "Obras del hospital de Buin y Paine\n\nLa constructora se declaró en quiebra."
    )
    assert [(c.code, c.at_risk) for c in result.commitments] == [("hospital-buin-paine", True)]


def test_generated_alias_of_one_word_names_file_line_field(
    tmp_path: Path, keywords: Keywords
) -> None:
    path = tmp_path / "register.yaml"
    path.write_text(
        'commitments:\n  - id: x\n    title: Hospital de Ovalle\n    region: "04"\n'
        '    communes: ["04301"]\n    generated_aliases:\n      - hospital\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigErrors) as info:
        load_commitments(
            path,
            Keywords(keywords.directory, places=keywords.places, priorities=keywords.priorities),
        )
    assert f"{path}:6: field 'generated_aliases': alias 'hospital' is a single word" in str(
        info.value
    )


def test_alerts_file_errors_name_file_line_field(keyword_copy: Path) -> None:
    path = keyword_copy / "alerts.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("      - arbitraje\n", "      - arbitraje ... laudo ... corte\n"),
        encoding="utf-8",
    )
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip() == "legal:") + 2
    with pytest.raises(ConfigErrors) as info:
        load_keywords(keyword_copy)
    assert f"{path}:{line}: field 'kinds.legal.terms': 'arbitraje ... laudo ... corte'" in str(
        info.value
    )
    path.write_text(text.replace("    label: retraso\n", ""), encoding="utf-8")
    with pytest.raises(ConfigErrors, match="field 'kinds.delay.label': missing Spanish label"):
        load_keywords(keyword_copy)


def test_labels_and_resolutions_for_the_reports(keywords: Keywords) -> None:
    assert keywords.trouble_label("contractor") == "problemas con la constructora"
    assert keywords.trouble_label(None) == "" and keywords.trouble_label("unknown") == ""
    assert "retomaron las obras" in keywords.resolution_terms


def test_first_alerts_format_still_loads(keyword_copy: Path) -> None:
    (keyword_copy / "alerts.yaml").write_text(
        "terms:\n  - paralizada\n  - quiebra\n", encoding="utf-8"
    )
    keywords = load_keywords(keyword_copy)
    assert (
        keywords.alert_terms == ("paralizada", "quiebra")
        and keywords.alert_kinds["other"].label == "problema"
    )


# -- risk at the level of the article ---------------------------------------------------------
def risk(result, code: str):  # noqa: ANN001, ANN201
    return next(c for c in result.commitments if c.code == code)


def test_trouble_two_sentences_after_the_name_flags_the_subject(register_linker: Linker) -> None:
    text = (
        "Preocupación en Ovalle\n\nLas obras del nuevo hospital de Ovalle avanzaban a buen ritmo. "
        "El edificio tendrá 280 camas. Sin embargo, la "
        "constructora se declaró en quiebra la semana pasada."
    )
    link = risk(register_linker.link(text), "hospital-ovalle")
    assert link.at_risk and link.risk_kind == "contractor" and not link.resolved
    assert [e.text for e in link.risk_evidence] == [
        "Sin embargo, la constructora se declaró en quiebra la semana pasada.",
        "Las obras del nuevo hospital de Ovalle avanzaban a buen ritmo.",
    ]
    for evidence in link.risk_evidence:
        assert text[evidence.start : evidence.end] == evidence.text


def test_negated_trouble_is_no_trouble_and_a_later_resolution_is_noted(
    register_linker: Linker,
) -> None:
    calm = register_linker.link(
        "Ministra visita el nuevo hospital de Ovalle\n\n"
        "La obra avanza sin retrasos y sin sobrecostos."
    )
    assert not risk(calm, "hospital-ovalle").at_risk
    solved = register_linker.link(
        "Talca: la nueva cárcel\n\n"
        "Las obras estuvieron paralizadas tres meses. Esta semana se retomaron las obras."
    )
    link = risk(solved, "carcel-talca")  # the headline's "Talca:" counts in the next sentence
    assert link.at_risk and link.resolved and link.risk_kind == "stoppage"
    assert link.resolution_evidence[0].text == "Esta semana se retomaron las obras."


def test_existing_facility_and_facility_without_a_project_cue_are_not_the_commitment(
    register_linker: Linker,
) -> None:
    assert (
        register_linker.link(
            "El actual hospital de Ovalle tiene la urgencia colapsada."
        ).commitments
        == []
    )
    assert (
        register_linker.link(
            "Pacientes de Punitaqui viajan al hospital de Ovalle cada semana."
        ).commitments
        == []
    )
    assert risk(
        register_linker.link("Las obras del hospital de Ovalle avanzan."), "hospital-ovalle"
    )


def test_an_existing_word_after_the_name_is_read_anywhere_in_the_text(
    register_linker: Linker,
) -> None:
    # "el hospital actual": the word after the name counts wherever the name stands, not only
    # at the text's start (a pattern anchored with "^" matched at offset 0 alone)
    text = "En Ovalle, las obras de reparación del hospital actual siguen."
    start = text.index("hospital")
    end = start + len("hospital")
    reader = register_linker._risk
    assert reader._existing(fold(text), start, end, (0, len(text)))
    assert not reader._existing(fold(text), start, end - 1, (0, len(text)))


def test_a_commitment_named_in_a_list_is_mentioned_not_flagged_by_another_items_trouble(
    register_linker: Linker,
) -> None:
    text = (
        "Cartera regional\n\nEl gobernador revisó la ruta "
        "costera, el Puente Industrial, la costanera de "
        "Chiguayante y el museo de Lota.\n\nLa costanera acumula dos años de atraso."
    )
    result = register_linker.link(text)
    assert [(c.code, c.at_risk) for c in result.commitments] == [("puente-industrial", False)]


def test_trouble_belongs_to_the_commitment_of_its_paragraph(register_linker: Linker) -> None:
    text = (
        "Dos obras del Maule\n\nEl nuevo hospital de Curicó abrió su urgencia.\n\n"
        "Distinta es la suerte de la nueva cárcel de Talca. "
        "Allí las faenas están detenidas desde junio."
    )
    result = register_linker.link(text)
    assert {c.code: c.at_risk for c in result.commitments} == {
        "hospital-curico": False,
        "carcel-talca": True,
    }


def test_link_command_writes_risk_kind_and_resolved(tmp_path: Path) -> None:
    agenda = Path(sys.executable).parent / "agenda"
    line = json.dumps(
        {
            "title": "Hospital de Quilpué",
            "text": "Las obras del Hospital de Quilpué acumulan un retraso de un año.",
        }
    )
    done = subprocess.run(
        [str(agenda), "link", "--keywords", str(ROOT / "keywords")],
        input=line + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    commitment = json.loads(done.stdout)["commitments"][0]
    assert (
        commitment["at_risk"] is True
        and commitment["risk_kind"] == "delay"
        and commitment["resolved"] is False
    )


# -- stored ------------------------------------------------------------------------------------
def test_risk_kind_and_resolution_are_stored_and_read_back(register_linker: Linker) -> None:
    source = Source(
        id="diario", name="Diario", url="https://d.cl/feed", kind="rss", region_code="07"
    )
    store = Store(Database(memory=True))
    store.sync_sources([source])
    when = datetime(2026, 11, 24, 15, tzinfo=UTC)
    article = Article(
        url="https://d.cl/1",
        title="Talca: la nueva cárcel",
        source_id="diario",
        outlet="Diario",
        source_region="07",
        summary="Las obras estuvieron paralizadas tres meses. Esta semana se retomaron las obras.",
        published_at_utc=when,
    )
    store.record_fetch(
        FetchResult(source, "ok"), [article], [register_linker.link(article.link_text())]
    )
    [stored] = store.articles_on(date(2026, 11, 24))
    [link] = [item for item in stored["links"] if item.kind == "commitment"]
    assert (link.code, link.at_risk, link.risk_kind, link.resolved) == (
        "carcel-talca",
        True,
        "stoppage",
        True,
    )
    assert link.risk_sentences[0] == "Las obras estuvieron paralizadas tres meses."
    assert {"risk_kind", "resolved"} <= set(store.db["links"].columns_dict)
    # the digest's critical card names the kind of trouble in Spanish
    keywords = register_linker.keywords
    digest = build_digest(build_stories(date(2026, 11, 24), [stored], keywords), [], keywords)
    assert [(m.id, m.troubles) for m in digest.critical] == [
        ("carcel-talca", ["obras paralizadas"])
    ]
    assert "[obras paralizadas]" in render_text(digest)
    assert '<span class="tag alert">obras paralizadas</span>' in render_html(digest)
    assert '<span class="tag alert">obras paralizadas</span>' in render_email(digest)


@pytest.mark.parametrize(
    "text",
    [
        "retraso en las obras; paralizadas las faenas (sin fecha de entrega)",
        "øretraso, ßparalizadas, ²atraso y ñretraso no son palabras; un retraso sí",
        "_retraso 3atraso x-retraso «atraso» ¿retraso? \nretomaron las obras",
        "atrasos al comienzo y obras suspendidas al final, retomo las faenas",
        "la\tRCA fue rechazada;\u00a0retomaron\n las\u2028obras, se  adjudicó",
    ],
)
def test_trouble_openings_scan_finds_what_the_plain_pattern_finds(
    linker: Linker, text: str
) -> None:
    """The openings of trouble and resolution terms are found by a faster scan (each opening
    searched alone, the word boundary before it tested after): the same (start, opening) as
    the plain pattern, a word boundary before each, also next to letters and signs outside
    ASCII."""
    scan = linker._risk._openings
    plain = [(m.start(), m.group()) for m in _plain_openings(linker).finditer(text)]
    assert plain  # the texts do hold openings
    assert scan.openings(text, _risk_words(linker, text)) == plain


def _risk_words(linker: Linker, folded: str) -> list[tuple[int, int, int]]:
    """The occurrences of risk's words in a text, found in the phrase matcher's pass."""
    return linker._matcher(folded)[2]


def _plain_openings(linker: Linker) -> re.Pattern[str]:
    """The plain pattern of every opening of trouble and resolution terms, unsifted."""
    from agenda.risk import _openings_pattern

    pattern = _openings_pattern([linker._risk._trouble, linker._risk._resolutions])
    assert pattern is not None
    return pattern


@pytest.mark.parametrize(
    ("text", "may_hold"),
    [
        ("el alcalde visitó la plaza", False),  # no term's words: no scan
        ("se informó que la empresa adjudicó el contrato", True),  # words apart: scanned
        ("SE ADJUDICÓ", True),  # a term: its opening found
    ],
)
def test_trouble_openings_prefilter_passes_every_text_with_a_term(
    linker: Linker, text: str, may_hold: bool
) -> None:
    """A text is scanned for openings only when it holds all the literal words of some term
    (found in one pass), and only for those terms' openings: a text without them has no
    opening; one with them is scanned, with the same openings found as by the plain pattern."""
    scan = linker._risk._openings
    folded = fold(text)
    plain = [(m.start(), m.group()) for m in _plain_openings(linker).finditer(folded)]
    found = _risk_words(linker, folded)
    keys = scan._sieve.keys({at for at, _, _ in found})
    assert bool(keys) is may_hold
    assert scan.openings(folded, found) == plain
    assert {key for _, key in plain} <= keys


@pytest.mark.parametrize(
    "text",
    [
        "retraso en las obras, el puente y el liceo; Paine, Buin e Isla, y la comuna",
        "A,\tel hospital B\ny C, e\u00a0Isla, los\nBuin y\u2028Paine, yel, ye  la, ,\u3000Ella",
        "sin comas: solo y Nada e Otra,la y\tel fin,\n\nLa",
    ],
)
def test_list_item_openings_are_the_plain_alternations(text: str) -> None:
    """The item-opening pattern opens with one class ("," or a blank before "y"/"e"): the same
    openings as the alternation it replaced, around tabs, newlines and other blanks too."""
    from agenda.risk import _ITEM_OPENING

    plain = re.compile(r"(?:,|\sy|\se)\s+(?:(?:el|la|los|las|del|al)\s|(?=[A-ZÁÉÍÓÚÑ]))")
    spans = [m.span() for m in _ITEM_OPENING.finditer(text)]
    assert spans  # the texts do hold openings
    assert spans == [m.span() for m in plain.finditer(text)]


def test_communes_read_in_any_order_and_a_datelines_spill_over(register_linker: Linker) -> None:
    """The communes of one sentence share its bounds (looked up once, for the first of them):
    the same reading whatever their order, the dateline's communes counting in the next one."""
    text = (
        "Buin: avanzan las obras del hospital.\n"
        "En Paine el hospital sufre retrasos; en Buin y en Paine marchan. Otro tema en Buin."
    )
    folded = fold(text)
    ids = register_linker._facility_words["hospital"]
    facilities = [(ids, m.start(), m.end()) for m in re.finditer("hospital", folded)]
    communes = [
        (code, m.start(), m.end())
        for name, code in (("Buin", "13402"), ("Paine", "13404"))
        for m in re.finditer(name, text)
    ]

    def read(order: list[tuple[str, int, int]]) -> tuple[list[tuple[object, ...]], list[Span]]:
        findings, hits = register_linker._risk.read(
            text,
            folded,
            [],
            facilities,
            order,
            Sentences(text),
            _risk_words(register_linker, folded),
        )
        return (
            [(f.id, f.mentions, f.at_risk, f.risk_kind, f.risk_sentences) for f in findings],
            [(h.start, h.end) for h in hits],
        )

    findings, hits = read(sorted(communes, key=lambda c: c[1]))
    assert [finding[:3] for finding in findings] == [("hospital-buin-paine", [(28, 36)], True)]
    assert hits
    assert read(communes) == read(communes[::-1]) == (findings, hits)


def test_list_separator_read_back_is_the_plain_search() -> None:
    """Whether a name follows a list's separator is read back from the name (a search tried
    every place of the sentence): the same answer as the plain pattern on every short string
    of separators, articles, blanks and letters, and after the sentence's first character."""
    from itertools import product

    from agenda.risk import _after_list_separator

    plain = re.compile(r"(?:,|\by|\be)\s*(?:(?:el|la|los|las|del|al)\s+)?$")
    alphabet = [",", "y", "e", "l", "a", "d", "s", "o", "x", " ", "\t", "\n", "é"]
    for size in range(6):
        for letters in product(alphabet, repeat=size):
            text = "".join(letters)
            for begin in (0, 1) if text else (0,):
                expected = bool(plain.search(text[begin:]))
                assert _after_list_separator(text, begin, len(text)) is expected, (text, begin)
    # inside a longer text: only folded[begin:end] is read
    assert _after_list_separator("hoy, el", 0, 6) and not _after_list_separator("x, el", 2, 5)


def test_list_after_a_name_is_the_plain_match() -> None:
    """``_list_after`` asks ``_LIST_AFTER`` only where a separator follows the blanks: the same
    answer as the pattern from every place of every short string of separators, articles,
    blanks and letters, up to every place."""
    from itertools import product

    from agenda.risk import _LIST_AFTER, _list_after

    alphabet = [",", "y", "e", "Y", "l", "a", "s", "B", "x", " ", "\n", "\u00a0"]
    for size in range(6):
        for letters in product(alphabet, repeat=size):
            text = "".join(letters)
            for end in range(size + 1):
                for stop in (end - 1, end, size):
                    expected = _LIST_AFTER.match(text, end, stop) is not None
                    assert _list_after(text, end, stop) is expected, (text, end, stop)


def test_paragraphs_read_back_from_an_offset_are_the_runs_between_newlines() -> None:
    """``_Paragraphs`` names a paragraph by its start: offsets share one when they share the
    run of characters other than a newline that holds them (the first when none does), the
    title is the first run, there is one when another run follows it; on every short string
    of newlines, other blanks and letters."""
    from itertools import product

    from agenda.risk import _Paragraphs

    for size in range(7):
        for letters in product(["\n", "a", " ", "\r", "\u2028"], repeat=size):
            text = "".join(letters)
            runs = [m.span() for m in re.finditer(r"[^\n]+", text)]
            number = [
                next((n for n, (s, e) in enumerate(runs) if s <= offset < e), 0)
                for offset in range(size + 2)
            ]
            paragraphs = _Paragraphs(text)
            named = [paragraphs.of(offset) for offset in range(size + 2)]
            assert [n == 0 for n in number] == [p == paragraphs.first for p in named], text
            assert all(
                (number[a] == number[b]) is (named[a] == named[b])
                for a in range(size + 2)
                for b in range(size + 2)
            ), text
            assert paragraphs.has_title is (len(runs) > 1), text
            if runs:
                assert paragraphs.title_end == runs[0][1], text


def test_trouble_openings_scan_on_random_words_finds_what_the_plain_pattern_finds(
    linker: Linker,
) -> None:
    """The openings found where their terms' first words stand (or, for a short first word,
    searched through the text) are the plain pattern's, in ASCII texts (searched as bytes)
    and others, on words of the terms glued to each other, to letters and to signs."""
    import random

    reader = linker._risk
    words = sorted(
        {w for terms in (reader._trouble, reader._resolutions) for _, ws in terms.needs for w in ws}
        | {
            literal
            for terms in (reader._trouble, reader._resolutions)
            for _, literal in terms.literals
        }
    )
    glue = [" ", " ", " ", "", "s", "a", ", ", ".", "-", "_", "3", "ñ", "\n", " las ", " de "]
    rng = random.Random(20261202)
    scan = reader._openings
    pattern = _plain_openings(linker)
    for _ in range(400):
        text = "".join(rng.choice(words) + rng.choice(glue) for _ in range(rng.randint(1, 12)))
        plain = [(m.start(), m.group()) for m in pattern.finditer(text)]
        assert scan.openings(text, _risk_words(linker, text)) == plain, text


def test_any_term_grouped_by_first_letter_finds_what_the_plain_alternation_finds(
    keywords: Keywords,
) -> None:
    """``_any_term``'s groups (a letter, then the word boundary tested behind it) match what
    the plain alternation with the boundary before it matches, in every pattern the reader
    makes of it (a search from any place, up to any place; matches after which the pattern
    goes on), on words of the terms glued to each other, to letters and to signs."""
    import random

    from agenda.risk import _any_term, _term_pattern

    def plain(terms: tuple[str, ...]) -> str:
        return r"(?<!\w)(?:" + "|".join(_term_pattern(t, bounded=False) for t in terms) + ")"

    lists = (
        keywords.alert_negations,
        keywords.project_cues,
        keywords.new_words,
        keywords.existing_words,
        ("paraliz*", "en quiebra", "contraloria ... objet*", "no", "nueva", "nuevo"),
    )
    rng = random.Random(20261202)
    glue = [" ", " ", "", "s", "a", ", ", ".", "-", "_", "3", "ñ", "\n", " las ", " embargo "]
    for terms in lists:
        assert _any_term(terms) != plain(terms)  # grouped: the test compares two patterns
        words = sorted({w.rstrip("*") for t in terms for w in fold(t).split()} | {"x"})
        for tail in ("", r"(?!\W+embargo)(?:\W+\w+){0,2}\W*$", r"\s+(?:del\s+)?$"):
            grouped = re.compile("(?:" + _any_term(terms) + ")" + tail)
            expected = re.compile("(?:" + plain(terms) + ")" + tail)
            for _ in range(300):
                size = rng.randint(1, 8)
                text = "".join(rng.choice(words) + rng.choice(glue) for _ in range(size))
                begin = rng.randint(0, len(text))
                end = rng.randint(begin, len(text))
                for found, wanted in (
                    (grouped.search(text, begin, end), expected.search(text, begin, end)),
                    (grouped.match(text, begin), expected.match(text, begin)),
                    (grouped.search(text[begin:end]), expected.search(text[begin:end])),
                ):
                    assert (found and found.span()) == (wanted and wanted.span()), (terms, text)


def test_possessive_gap_matches_what_the_backtracking_one_matched(keywords: Keywords) -> None:
    """A term in two parts ("contraloria ... objet*"): the words between them are read
    possessively, with the same matches (spans) as the plain gap, at and from any place, on
    words of the terms glued to each other, to letters and to signs."""
    import random

    from agenda.risk import _term_pattern

    plain_gap = r"(?:[^\w.!?;:\n]+\w+){0,8}?[^\w.!?;:\n]+"
    possessive_gap = r"(?:[^\w.!?;:\n]++\w++){0,8}?[^\w.!?;:\n]+"
    terms = [
        term for kind in keywords.alert_kinds.values() for term in kind.terms if "..." in term
    ] + ["contraloria ... objet*", "obra* ... detenid*", "a ... b ... c*"]
    words = sorted({w.rstrip("*") for t in terms for w in fold(t.replace("...", " ")).split()})
    glue = [" ", " ", " ", "", "s", "a", ", ", ".", ";", "-", "_", "3", "ñ", "\n", " las ", "  "]
    rng = random.Random(20261202)
    for term in terms:
        possessive = re.compile(_term_pattern(term))
        assert possessive_gap in possessive.pattern
        plain = re.compile(possessive.pattern.replace(possessive_gap, plain_gap))
        for _ in range(300):
            size = rng.randint(1, 14)
            text = "".join(rng.choice(words) + rng.choice(glue) for _ in range(size))
            begin = rng.randint(0, len(text))
            assert [m.span() for m in possessive.finditer(text, begin)] == [
                m.span() for m in plain.finditer(text, begin)
            ], (term, text)
            found, wanted = possessive.match(text, begin), plain.match(text, begin)
            assert (found and found.span()) == (wanted and wanted.span()), (term, text)


def test_term_search_from_first_words_says_what_the_plain_search_says(keywords: Keywords) -> None:
    """``_TermSearch.found`` tries its pattern only where a term's first word stands: the same
    answer as the pattern's search between any two places, on words of the terms (and pieces
    of them) glued to each other, to letters and to signs; a term opening with a gap leaves it
    to the search."""
    import random

    from agenda.risk import _any_term, _TermSearch

    lists = (
        (keywords.alert_negations, r"(?!\W+embargo)(?:\W+\w+){0,2}\W*$"),
        (keywords.project_cues, ""),
        (keywords.new_words, r"(?:\W+\w+)?\W*$"),
        (keywords.existing_words, r"\s+(?:(?:edificio|recinto)\s+(?:del|de\s+la|de)\s+)?$"),
        (("paraliz*", "para", "en quiebra", "contraloria ... objet*"), ""),
        (("... objet*", "obra"), ""),
    )
    rng = random.Random(20261202)
    glue = [" ", " ", "", "s", "a", ", ", ".", "-", "_", "3", "ñ", "\n", " las ", " embargo "]
    for terms, after in lists:
        search = _TermSearch(terms, after)
        pattern = re.compile("(?:" + _any_term(terms) + ")" + after)
        words = sorted({w.rstrip("*") for t in terms for w in fold(t).split()} | {"x", "edificio"})
        words += [w[1:] for w in words if len(w) > 2]  # a term's word inside another word
        for _ in range(1500):
            size = rng.randint(1, 8)
            text = "".join(rng.choice(words) + rng.choice(glue) for _ in range(size))
            begin = rng.randint(0, len(text))
            end = rng.randint(begin, len(text))
            expected = pattern.search(text, begin, end) is not None
            assert search.found(text, begin, end) is expected, (terms, text, begin, end)


def test_existing_and_new_words_asked_first_by_words_say_what_the_patterns_say(
    linker: Linker,
) -> None:
    """``_existing`` and ``_new_word_at`` try their patterns only where the last word before the
    name (``_LastWord``) or the first word after it (``_TermSearch.may_start``) may be a term's:
    the same answers as the patterns alone, for every name place in texts of the terms' words
    (and pieces of them), the building words, letters and signs; a term ending in a prefix or
    a sign is read too."""
    import random

    from agenda.risk import _LastWord, _TermSearch

    reader = linker._risk
    keywords = linker.keywords

    def existing(folded: str, start: int, end: int, sentence: Span) -> bool:
        before = folded[max(sentence[0], start - 60) : start]
        if reader._existing_before.found(before, 0, len(before)):
            return True
        return (
            end < len(folded)
            and folded[end].isspace()
            and bool(reader._existing_after.match(folded, end))
        )

    def new_word(folded: str, start: int, sentence: Span) -> bool:
        return bool(reader._new_opening.match(folded, start)) or reader._new_before.found(
            folded, max(sentence[0], start - 30), start
        )

    terms = keywords.existing_words + keywords.new_words
    words = sorted({w for t in terms for w in fold(t).split()})
    words += [w[1:] for w in words if len(w) > 2] + [w[:-1] for w in words if len(w) > 2]
    words += ["edificio", "recinto", "del", "de", "la", "x", "hospital"]
    glue = [" ", " ", " ", "  ", "", "s", ", ", ".", "-", "_", "3", "ñ", "\n", "\t", "\u00a0"]
    rng = random.Random(20261202)
    for _ in range(3000):
        text = "".join(rng.choice(words) + rng.choice(glue) for _ in range(rng.randint(1, 9)))
        sentence = (rng.randint(0, len(text)), len(text))
        for start in range(sentence[0], len(text) + 1):
            end = rng.randint(start, len(text))
            expected = existing(text, start, end, sentence)
            assert reader._existing(text, start, end, sentence) is expected, (text, start, end)
            expected = new_word(text, start, sentence)
            assert reader._new_word_at(text, start, sentence) is expected, (text, start)
    # a prefix term, a term of two words, a sign in a term or in the last word
    after = r"\s+(?:edificio\s+del\s+)?$"
    for terms, others in (
        (("antigu*", "ya no"), ("del",)),
        (("ex-", "viejo"), ("del",)),
        (("viejo ...", "antiguo"), ("del",)),
    ):
        search, last = _TermSearch(terms, after), _LastWord(terms, others)
        pieces = ["antiguos", "antigu", "ya", "no", "ex-", "ex", "viejo", "edificio", "del", "_"]
        for _ in range(3000):
            text = "".join(rng.choice(pieces) + rng.choice(glue) for _ in range(rng.randint(1, 5)))
            begin = rng.randint(0, len(text))
            end = rng.randint(begin, len(text))
            if search.found(text[begin:end], 0, end - begin):
                assert last.may_end(text, begin, end), (terms, text, begin, end)


def test_terms_matched_as_one_alternation_per_opening_are_the_first_term_that_matches(
    linker: Linker,
) -> None:
    """``_Terms.matches`` tries each opening's terms as one alternation: the matches are those
    of the terms' own patterns tried in their order at each opening, on words of the terms
    glued to each other, to letters and to signs."""
    import random

    from agenda.risk import _term_pattern

    reader = linker._risk
    sets = (
        (reader._trouble, [term for _, term in reader._trouble_terms]),
        (reader._resolutions, list(linker.keywords.alert_resolutions)),
    )
    words = sorted(
        {w for terms in (reader._trouble, reader._resolutions) for _, ws in terms.needs for w in ws}
    )
    glue = [" ", " ", " ", "", "s", "a", ", ", ".", "-", "_", "3", "ñ", "\n", " las ", " de "]
    rng = random.Random(20261202)
    for _ in range(400):
        text = "".join(rng.choice(words) + rng.choice(glue) for _ in range(rng.randint(1, 12)))
        openings = reader._openings.openings(text, _risk_words(linker, text))
        for terms, listed in sets:
            by_opening: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
            for index, term in enumerate(listed):
                key = fold(term.strip()).split()[0].rstrip("*")[:3]
                pattern = re.compile(_term_pattern(term, bounded=False))
                by_opening.setdefault(key, []).append((index, pattern))
            expected: list[tuple[int, int, int]] = []
            end_of_last = -1
            for start, key in openings:
                if key not in by_opening or start < end_of_last:
                    continue
                for index, pattern in by_opening[key]:
                    match = pattern.match(text, start)
                    if match:
                        end_of_last = match.end()
                        expected.append((index, start, end_of_last))
                        break
            assert terms.matches(text, openings) == expected, text


def test_named_facility_asked_after_a_capital_is_the_plain_match() -> None:
    """``_named_facility_at`` tries ``_NAMED_FACILITY`` only where a capital follows the blanks:
    the same answer as the pattern from every place of every short string of blanks, capitals,
    small letters and signs."""
    from itertools import product

    from agenda.risk import _NAMED_FACILITY, _named_facility_at

    alphabet = [" ", "\t", "\n", "G", "Ñ", "É", "g", "-", "_", ","]
    for size in range(6):
        for letters in product(alphabet, repeat=size):
            text = "".join(letters)
            for end in range(size + 1):
                expected = _NAMED_FACILITY.match(text, end) is not None
                assert _named_facility_at(text, end) is expected, (text, end)


@pytest.mark.parametrize(
    ("text", "commune_at", "found"),
    [
        ("Buin: avanzan las obras del hospital.", "Buin", True),
        ("Buin: avanzan las obras del hospital. El alcalde dijo: bien.", "Buin", True),
        ("Avanzan las obras del hospital de Buin.", "Buin", True),
        ("Avanzan las obras del hospital. Buin espera: bien.", "Buin", False),
        ("Dijo: avanzan las obras del hospital. En Buin.", "Buin", False),
        # a commune given at a blank (never by the matcher) still has its sentence looked up
        ("Buin: avanzan las obras del hospital.", " avanzan", True),
    ],
)
def test_a_communes_sentence_counts_when_it_is_the_facilitys_or_a_dateline(
    register_linker: Linker, text: str, commune_at: str, found: bool
) -> None:
    """Only the communes of a facility word's sentence, or of a dateline (it ends with a
    colon), are read: a commune after the text's last colon is in no dateline."""
    folded = fold(text)
    ids = register_linker._facility_words["hospital"]
    start = text.index("hospital")
    at = text.index(commune_at)
    findings, _ = register_linker._risk.read(
        text,
        folded,
        [],
        [(ids, start, start + len("hospital"))],
        [("13402", at, at + 4)],
        Sentences(text),
        _risk_words(register_linker, folded),
    )
    assert [f.id for f in findings] == (["hospital-buin-paine"] if found else [])
