"""The analysts' keyword files in ``keywords/``, loaded and validated once.

    gazetteer.yaml        generated from keywords/dpa/ by scripts/build_gazetteer.py
    aliases.yaml          hand-written aliases and well-known geographic names
    disambiguation.yaml   rules for names that are also words, people, streets, foreign places
    commitments.yaml      the commitments made to each region (read by agenda/register.py)
    priorities.yaml       the government's priorities and their keywords
    alerts.yaml           terms that signal trouble for a commitment
    topics.yaml           the authorities' standing topics (optional; agenda/topics.py)
    project_cues.yaml     words that make "hospital de X" the project, or the existing facility

Every problem names the file, the line and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agenda.errors import ConfigError, ConfigErrors
from agenda.register import Commitment, load_commitments  # tests import both from here too
from agenda.sources import REGION_CODES, normalise_region
from agenda.textnorm import fold
from agenda.topics import Topic, load_topics
from agenda.yamlconf import LineDict, line_of, list_of, load_yaml, str_list, top_entry, top_mapping


@dataclass(frozen=True)
class Place:
    kind: str  # "region" | "province" | "commune" | "area" (rule-2 geographic name)
    code: str
    name: str
    region_code: str
    province_code: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertKind:
    """One kind of trouble (keywords/alerts.yaml): its id, its Spanish label, its terms."""

    id: str
    label: str
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Priority:
    id: str
    name: str
    weight: int
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class DisambiguationRules:
    """keywords/disambiguation.yaml, folded for matching.

    See that file for what each list means.
    """

    require_capital: bool = True
    ambiguous: frozenset[str] = frozenset()
    strict: frozenset[str] = frozenset()
    strong_triggers: tuple[str, ...] = ()
    weak_triggers: tuple[str, ...] = ()
    person_before: tuple[str, ...] = ()
    first_names: frozenset[str] = frozenset()
    person_after: tuple[str, ...] = ()
    not_place_before: tuple[str, ...] = ()
    region_only_before: tuple[str, ...] = ()
    region_bodies: tuple[str, ...] = ()
    zone_bodies: tuple[str, ...] = ()
    road_before: tuple[str, ...] = ()
    title_words: frozenset[str] = frozenset()
    region_list_names: tuple[tuple[str, str], ...] = ()  # (folded name, region code)
    foreign_before: tuple[str, ...] = ()
    foreign_markers: tuple[str, ...] = ()
    never: tuple[str, ...] = ()


@dataclass
class Keywords:
    directory: Path
    places: dict[str, Place] = field(default_factory=dict)  # "commune:08101" -> Place
    commitments: dict[str, Commitment] = field(default_factory=dict)
    priorities: dict[str, Priority] = field(default_factory=dict)
    alert_terms: tuple[str, ...] = ()  # every trouble term, all kinds (see alert_kinds)
    alert_kinds: dict[str, AlertKind] = field(default_factory=dict)
    alert_negations: tuple[str, ...] = ()
    alert_resolutions: tuple[str, ...] = ()
    project_cues: tuple[str, ...] = ()
    new_words: tuple[str, ...] = ()
    existing_words: tuple[str, ...] = ()
    rules: DisambiguationRules = field(default_factory=DisambiguationRules)
    # From analysts' feedback: (folded name, place code) -> words before it that exclude it
    # (None: excluded everywhere). See agenda/feedback.py.
    exclusions: dict[tuple[str, str], set[str | None]] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)  # standing topics by id

    def place(self, kind: str, code: str) -> Place:
        return self.places[f"{kind}:{code}"]

    def regions(self) -> list[Place]:
        return sorted((p for p in self.places.values() if p.kind == "region"), key=lambda p: p.code)

    @property
    def resolution_terms(self) -> tuple[str, ...]:
        """keywords/alerts.yaml's resolutions, under the name the commitment report reads."""
        return self.alert_resolutions

    def trouble_label(self, kind: str | None) -> str:
        """The Spanish label of a kind of trouble ("delay" -> "retraso"); "" when unknown."""
        found = self.alert_kinds.get(kind or "")
        return found.label if found else ""

    def region_name(self, code: str) -> str:
        key = f"region:{code}"
        return self.places[key].name if key in self.places else code


def load_keywords(directory: Path | str) -> Keywords:
    """Load every keyword file; raises ``ConfigErrors`` with all problems found."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(str(directory), None, None, "keywords directory not found")
    errors: list[ConfigError] = []
    keywords = Keywords(directory=directory)
    for loader in (
        _load_gazetteer,
        _load_aliases,
        _load_priorities,
        _load_commitments,
        _load_alerts,
        _load_project_cues,
        _load_rules,
        _load_exclusions,
        load_topics,
    ):
        try:
            loader(directory, keywords)
        except ConfigErrors as exc:
            errors.extend(exc.errors)
        except ConfigError as exc:
            errors.append(exc)
    if errors:
        raise ConfigErrors(errors)
    return keywords


def _load_gazetteer(directory: Path, keywords: Keywords) -> None:
    path = directory / "gazetteer.yaml"
    data = load_yaml(path)
    errors: list[ConfigError] = []
    for kind, plural in (("region", "regions"), ("province", "provinces"), ("commune", "communes")):
        for entry in top_entry(path, data, plural):
            if not isinstance(entry, LineDict) or not entry.get("code") or not entry.get("name"):
                errors.append(
                    ConfigError(
                        str(path), line_of(entry), "code", f"each of {plural} needs code and name"
                    )
                )
                continue
            code = str(entry["code"])
            region_code = code if kind == "region" else str(entry.get("region", ""))
            if region_code not in REGION_CODES:
                errors.append(
                    ConfigError(
                        str(path),
                        entry.line_of("region"),
                        "region",
                        f"unknown region '{region_code}'",
                    )
                )
                continue
            aliases = str_list(path, entry, "aliases", errors)
            keywords.places[f"{kind}:{code}"] = Place(
                kind=kind,
                code=code,
                name=str(entry["name"]),
                region_code=region_code,
                province_code=str(entry["province"])
                if kind == "commune"
                else (code if kind == "province" else None),
                # A region's bare name is not implied: "Valparaíso" alone is the city (rule 4).
                aliases=tuple(
                    dict.fromkeys(((str(entry["name"]),) if kind != "region" else ()) + aliases)
                ),
            )
    if errors:
        raise ConfigErrors(errors)


def _load_aliases(directory: Path, keywords: Keywords) -> None:
    path = directory / "aliases.yaml"
    if not path.exists():
        return
    data = top_mapping(path, load_yaml(path), "communes:, provinces:, regions:, places:")
    errors: list[ConfigError] = []
    for kind, plural in (("region", "regions"), ("province", "provinces"), ("commune", "communes")):
        extra = data.get(plural) or {}
        if not isinstance(extra, LineDict):
            errors.append(
                ConfigError(
                    str(path), line_of(data, plural), plural, "must map codes to lists of aliases"
                )
            )
            continue
        for code, aliases in extra.items():
            key = f"{kind}:{code}"
            if key not in keywords.places:
                errors.append(
                    ConfigError(
                        str(path),
                        extra.line_of(code),
                        f"{plural}.{code}",
                        f"unknown {kind} code '{code}'",
                    )
                )
                continue
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                errors.append(
                    ConfigError(
                        str(path),
                        extra.line_of(code),
                        f"{plural}.{code}",
                        "must be a list of aliases",
                    )
                )
                continue
            place = keywords.places[key]
            keywords.places[key] = Place(
                place.kind,
                place.code,
                place.name,
                place.region_code,
                place.province_code,
                tuple(dict.fromkeys(place.aliases + tuple(aliases))),
            )
    for index, entry in enumerate(list_of(path, data, "places")):
        if not isinstance(entry, LineDict) or not isinstance(entry.get("name"), str):
            errors.append(
                ConfigError(
                    str(path), line_of(entry), f"places[{index}].name", "each place needs a name"
                )
            )
            continue
        if entry.get("region") is None:
            continue  # a name spanning several regions: listed so it is known, links nowhere
        region_code = normalise_region(entry.get("region"))
        if region_code is None or region_code == "national":
            errors.append(
                ConfigError(
                    str(path),
                    entry.line_of("region"),
                    "region",
                    f"unknown region code '{entry.get('region')}'",
                )
            )
            continue
        code = f"{region_code}:{fold(entry['name'])}"
        keywords.places[f"area:{code}"] = Place(
            "area", code, entry["name"], region_code, None, (entry["name"],)
        )
    if errors:
        raise ConfigErrors(errors)


def _load_priorities(directory: Path, keywords: Keywords) -> None:
    path = directory / "priorities.yaml"
    data = load_yaml(path)
    errors: list[ConfigError] = []
    for entry in top_entry(path, data, "priorities"):
        if not isinstance(entry, LineDict):
            errors.append(
                ConfigError(str(path), None, "priorities", "each priority must be a mapping")
            )
            continue
        for required in ("id", "name"):
            if not entry.get(required):
                errors.append(
                    ConfigError(str(path), entry.line, required, "missing required field")
                )
        weight = entry.get("weight", 1)
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 5:
            errors.append(
                ConfigError(
                    str(path),
                    entry.line_of("weight"),
                    "weight",
                    "must be a whole number from 1 to 5",
                )
            )
            weight = 1
        terms = str_list(path, entry, "keywords", errors, required=True)
        if entry.get("id") and entry.get("name"):
            if str(entry["id"]) in keywords.priorities:
                errors.append(
                    ConfigError(
                        str(path),
                        entry.line_of("id"),
                        "id",
                        f"duplicate priority id '{entry['id']}'",
                    )
                )
                continue
            keywords.priorities[str(entry["id"])] = Priority(
                str(entry["id"]), str(entry["name"]), weight, terms
            )
    if errors:
        raise ConfigErrors(errors)


def _load_commitments(directory: Path, keywords: Keywords) -> None:
    load_commitments(directory / "commitments.yaml", keywords)


def _load_alerts(directory: Path, keywords: Keywords) -> None:
    path = directory / "alerts.yaml"
    data = load_yaml(path)
    errors: list[ConfigError] = []
    if isinstance(data, dict) and "terms" in data and "kinds" not in data:
        # the first format: one list of terms, no kinds
        kinds = LineDict({"other": LineDict({"label": "problema", "terms": data["terms"]})})
        kinds.key_lines = {"other": line_of(data, "terms") or 0}
    else:
        kinds = top_entry(path, data, "kinds", dict)
    for kind_id, entry in kinds.items():
        where = kinds.line_of(kind_id) if isinstance(kinds, LineDict) else None
        if not isinstance(entry, LineDict):
            errors.append(
                ConfigError(
                    str(path), where, f"kinds.{kind_id}", "must be a mapping with label and terms"
                )
            )
            continue
        label = entry.get("label")
        if not isinstance(label, str) or not label.strip():
            errors.append(
                ConfigError(
                    str(path),
                    entry.line_of("label"),
                    f"kinds.{kind_id}.label",
                    "missing Spanish label",
                )
            )
            continue
        terms = str_list(path, entry, "terms", errors, required=True)
        for term in terms:
            problem = _term_problem(term)
            if problem:
                errors.append(
                    ConfigError(
                        str(path),
                        entry.line_of("terms"),
                        f"kinds.{kind_id}.terms",
                        f"'{term}': {problem}",
                    )
                )
        keywords.alert_kinds[str(kind_id)] = AlertKind(str(kind_id), label.strip(), terms)
    for key in ("negations", "resolutions"):
        value = data.get(key) if isinstance(data, dict) else None
        texts = isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
        if value is not None and not texts:
            errors.append(
                ConfigError(str(path), line_of(data, key), key, "must be a list of non-empty texts")
            )
            continue
        setattr(keywords, f"alert_{key}", tuple(v.strip() for v in value or ()))
    if errors:
        raise ConfigErrors(errors)
    every = (t for kind in keywords.alert_kinds.values() for t in kind.terms)
    keywords.alert_terms = tuple(dict.fromkeys(every))


def _term_problem(term: str) -> str | None:
    """What is wrong with a trouble term's spelling, if anything ("paraliz*", "a ... b")."""
    parts = [p.strip() for p in term.split("...")]
    if len(parts) > 2 or not all(parts):
        return "write 'first words ... last words' with text on both sides of one '...'"
    if any("*" in word[:-1] for part in parts for word in part.split()):
        return "'*' may only end a word"
    return None


def _load_project_cues(directory: Path, keywords: Keywords) -> None:
    path = directory / "project_cues.yaml"
    if not path.exists():
        return  # without it, a facility word and a commune need no project cue (the first rule)
    data = load_yaml(path) or {}
    errors: list[ConfigError] = []
    keys = (("project_cues", "project_cues"), ("new", "new_words"), ("existing", "existing_words"))
    for key, attribute in keys:
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            errors.append(
                ConfigError(str(path), line_of(data, key), key, "must be a list of non-empty texts")
            )
            continue
        setattr(keywords, attribute, tuple(v.strip() for v in value))
    if errors:
        raise ConfigErrors(errors)


def _load_rules(directory: Path, keywords: Keywords) -> None:
    path = directory / "disambiguation.yaml"
    if not path.exists():
        return
    data = top_mapping(path, load_yaml(path), "ambiguous:, strict:, … lists")
    errors: list[ConfigError] = []
    known_names = {fold(alias) for place in keywords.places.values() for alias in place.aliases}

    def words(key: str) -> tuple[str, ...]:
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(
                ConfigError(str(path), line_of(data, key), key, "must be a list of texts")
            )
            return ()
        return tuple(fold(v) for v in value)

    ambiguous, strict = words("ambiguous"), words("strict")
    for key, names in (("ambiguous", ambiguous), ("strict", strict)):
        for name in names:
            if name not in known_names:
                errors.append(
                    ConfigError(
                        str(path),
                        line_of(data, key),
                        key,
                        f"'{name}' is not a name in the gazetteer",
                    )
                )
    require_capital = data.get("require_capital", True)
    if not isinstance(require_capital, bool):
        errors.append(
            ConfigError(
                str(path),
                line_of(data, "require_capital"),
                "require_capital",
                "must be true or false",
            )
        )
    keywords.rules = DisambiguationRules(
        require_capital=bool(require_capital),
        ambiguous=frozenset(ambiguous),
        strict=frozenset(strict),
        strong_triggers=words("strong_triggers"),
        weak_triggers=words("weak_triggers"),
        person_before=words("person_before"),
        first_names=frozenset(words("first_names")),
        person_after=words("person_after"),
        not_place_before=words("not_place_before"),
        region_only_before=words("region_only_before"),
        region_bodies=words("region_bodies"),
        zone_bodies=words("zone_bodies"),
        road_before=words("road_before"),
        title_words=frozenset(words("title_words")),
        region_list_names=_region_list_names(path, data, errors),
        foreign_before=words("foreign_before"),
        foreign_markers=words("foreign_markers"),
        never=tuple(v for v in list_of(path, data, "never") if isinstance(v, str)),
    )
    if errors:
        raise ConfigErrors(errors)


def _region_list_names(
    path: Path, data: Any, errors: list[ConfigError]
) -> tuple[tuple[str, str], ...]:
    """``region_list_names: {"13": [Santiago]}``: other names of a region in a list of regions."""
    key = "region_list_names"
    value = data.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        message = "must map a region code to a list of names"
        errors.append(ConfigError(str(path), line_of(data, key), key, message))
        return ()
    return tuple((fold(str(name)), str(code)) for code, names in value.items() for name in names)


def _load_exclusions(directory: Path, keywords: Keywords) -> None:
    path = directory / "feedback.yaml"
    if not path.exists():
        return
    data = top_mapping(path, load_yaml(path), "exclusions:")
    errors: list[ConfigError] = []
    for index, entry in enumerate(list_of(path, data, "exclusions")):
        if (
            not isinstance(entry, LineDict)
            or not isinstance(entry.get("name"), str)
            or entry.get("code") is None
        ):
            errors.append(
                ConfigError(
                    str(path),
                    line_of(entry),
                    f"exclusions[{index}]",
                    "each rule needs name and code",
                )
            )
            continue
        code = str(entry["code"])
        if not any(
            f"{kind}:{code}" in keywords.places for kind in ("region", "province", "commune")
        ):
            errors.append(
                ConfigError(
                    str(path), entry.line_of("code"), "code", f"unknown place code '{code}'"
                )
            )
            continue
        before = entry.get("before")
        keywords.exclusions.setdefault((fold(entry["name"]), code), set()).add(
            fold(str(before)) if before else None
        )
    if errors:
        raise ConfigErrors(errors)
