"""The analysts' keyword files in ``keywords/``, loaded and validated once.

    gazetteer.yaml        generated from keywords/dpa/ by scripts/build_gazetteer.py
    aliases.yaml          hand-written aliases and well-known geographic names
    disambiguation.yaml   rules for names that are also words, people, streets, foreign places
    commitments.yaml      the commitments made to each region
    priorities.yaml       the government's priorities and their keywords
    alerts.yaml           terms that signal trouble for a commitment

Every problem names the file, the line and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agenda.errors import ConfigError, ConfigErrors
from agenda.sources import REGION_CODES, normalise_region
from agenda.textnorm import fold
from agenda.yamlconf import LineDict, line_of, load_yaml


@dataclass(frozen=True)
class Place:
    kind: str  # "region" | "province" | "commune" | "area" (rule-2 geographic name)
    code: str
    name: str
    region_code: str
    province_code: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Commitment:
    id: str
    title: str
    region_code: str
    commune_codes: tuple[str, ...]
    aliases: tuple[str, ...]
    facility_words: tuple[str, ...]
    priority_id: str | None
    ministry: str | None


@dataclass(frozen=True)
class Priority:
    id: str
    name: str
    weight: int
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class DisambiguationRules:
    """keywords/disambiguation.yaml, folded for matching (see that file for what each list means)."""

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
    foreign_before: tuple[str, ...] = ()
    foreign_markers: tuple[str, ...] = ()
    never: tuple[str, ...] = ()


@dataclass
class Keywords:
    directory: Path
    places: dict[str, Place] = field(default_factory=dict)  # "commune:08101" -> Place
    commitments: dict[str, Commitment] = field(default_factory=dict)
    priorities: dict[str, Priority] = field(default_factory=dict)
    alert_terms: tuple[str, ...] = ()
    rules: DisambiguationRules = field(default_factory=DisambiguationRules)
    # From analysts' feedback: (folded name, place code) -> words before it that exclude it
    # (None: excluded everywhere). See agenda/feedback.py.
    exclusions: dict[tuple[str, str], set[str | None]] = field(default_factory=dict)

    def place(self, kind: str, code: str) -> Place:
        return self.places[f"{kind}:{code}"]

    def regions(self) -> list[Place]:
        return sorted((p for p in self.places.values() if p.kind == "region"), key=lambda p: p.code)

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
    for loader in (_load_gazetteer, _load_aliases, _load_priorities, _load_commitments, _load_alerts, _load_rules, _load_exclusions):
        try:
            loader(directory, keywords)
        except ConfigErrors as exc:
            errors.extend(exc.errors)
        except ConfigError as exc:
            errors.append(exc)
    if errors:
        raise ConfigErrors(errors)
    return keywords


def _mapping(path: Path, data: Any, key: str, kind: type = list) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise ConfigError(str(path), line_of(data), key, f"the file must have a top-level '{key}:' entry")
    value = data[key]
    if not isinstance(value, kind):
        raise ConfigError(str(path), line_of(data, key), key, f"must be a {'list' if kind is list else 'mapping'}")
    return value


def _top_mapping(path: Path, data: Any, keys: str) -> LineDict:
    """The file's top level must be a mapping (``keys:`` …); an empty file is an empty one."""
    if data is None:
        return LineDict()
    if not isinstance(data, dict):
        raise ConfigError(str(path), line_of(data), None,
                          f"must be a mapping with {keys}, not a {type(data).__name__}")
    return data  # type: ignore[return-value]


def _list_of(path: Path, data: LineDict, key: str) -> list[Any]:
    """``data[key]`` as a list (absent: empty); anything else is a ConfigError naming the key."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(str(path), line_of(data, key), key,
                          f"must be a list, not a {type(value).__name__}")
    return value


def _str_list(path: Path, entry: LineDict, key: str, errors: list[ConfigError], required: bool = False) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None:
        if required:
            errors.append(ConfigError(str(path), entry.line, key, "missing required field"))
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        errors.append(ConfigError(str(path), entry.line_of(key), key, "must be a list of non-empty texts"))
        return ()
    return tuple(v.strip() for v in value)


def _load_gazetteer(directory: Path, keywords: Keywords) -> None:
    path = directory / "gazetteer.yaml"
    data = load_yaml(path)
    errors: list[ConfigError] = []
    for kind, plural in (("region", "regions"), ("province", "provinces"), ("commune", "communes")):
        for entry in _mapping(path, data, plural):
            if not isinstance(entry, LineDict) or not entry.get("code") or not entry.get("name"):
                errors.append(ConfigError(str(path), line_of(entry), "code", f"each of {plural} needs code and name"))
                continue
            code = str(entry["code"])
            region_code = code if kind == "region" else str(entry.get("region", ""))
            if region_code not in REGION_CODES:
                errors.append(ConfigError(str(path), entry.line_of("region"), "region", f"unknown region '{region_code}'"))
                continue
            aliases = _str_list(path, entry, "aliases", errors)
            keywords.places[f"{kind}:{code}"] = Place(
                kind=kind,
                code=code,
                name=str(entry["name"]),
                region_code=region_code,
                province_code=str(entry["province"]) if kind == "commune" else (code if kind == "province" else None),
                # A region's bare name is not implied: "Valparaíso" alone is the city (rule 4).
                aliases=tuple(dict.fromkeys(((str(entry["name"]),) if kind != "region" else ()) + aliases)),
            )
    if errors:
        raise ConfigErrors(errors)


def _load_aliases(directory: Path, keywords: Keywords) -> None:
    path = directory / "aliases.yaml"
    if not path.exists():
        return
    data = _top_mapping(path, load_yaml(path), "communes:, provinces:, regions:, places:")
    errors: list[ConfigError] = []
    for kind, plural in (("region", "regions"), ("province", "provinces"), ("commune", "communes")):
        extra = data.get(plural) or {}
        if not isinstance(extra, LineDict):
            errors.append(ConfigError(str(path), line_of(data, plural), plural, "must map codes to lists of aliases"))
            continue
        for code, aliases in extra.items():
            key = f"{kind}:{code}"
            if key not in keywords.places:
                errors.append(ConfigError(str(path), extra.line_of(code), f"{plural}.{code}", f"unknown {kind} code '{code}'"))
                continue
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                errors.append(ConfigError(str(path), extra.line_of(code), f"{plural}.{code}", "must be a list of aliases"))
                continue
            place = keywords.places[key]
            keywords.places[key] = Place(
                place.kind, place.code, place.name, place.region_code, place.province_code,
                tuple(dict.fromkeys(place.aliases + tuple(aliases))),
            )
    for index, entry in enumerate(_list_of(path, data, "places")):
        if not isinstance(entry, LineDict) or not isinstance(entry.get("name"), str):
            errors.append(ConfigError(str(path), line_of(entry), f"places[{index}].name", "each place needs a name"))
            continue
        if entry.get("region") is None:
            continue  # a name spanning several regions: listed so it is known, links nowhere
        region_code = normalise_region(entry.get("region"))
        if region_code is None or region_code == "national":
            errors.append(ConfigError(str(path), entry.line_of("region"), "region", f"unknown region code '{entry.get('region')}'"))
            continue
        code = f"{region_code}:{fold(entry['name'])}"
        keywords.places[f"area:{code}"] = Place("area", code, entry["name"], region_code, None, (entry["name"],))
    if errors:
        raise ConfigErrors(errors)


def _load_priorities(directory: Path, keywords: Keywords) -> None:
    path = directory / "priorities.yaml"
    data = load_yaml(path)
    errors: list[ConfigError] = []
    for entry in _mapping(path, data, "priorities"):
        if not isinstance(entry, LineDict):
            errors.append(ConfigError(str(path), None, "priorities", "each priority must be a mapping"))
            continue
        for required in ("id", "name"):
            if not entry.get(required):
                errors.append(ConfigError(str(path), entry.line, required, "missing required field"))
        weight = entry.get("weight", 1)
        if not isinstance(weight, int) or isinstance(weight, bool) or not 1 <= weight <= 5:
            errors.append(ConfigError(str(path), entry.line_of("weight"), "weight", "must be a whole number from 1 to 5"))
            weight = 1
        terms = _str_list(path, entry, "keywords", errors, required=True)
        if entry.get("id") and entry.get("name"):
            if str(entry["id"]) in keywords.priorities:
                errors.append(ConfigError(str(path), entry.line_of("id"), "id", f"duplicate priority id '{entry['id']}'"))
                continue
            keywords.priorities[str(entry["id"])] = Priority(str(entry["id"]), str(entry["name"]), weight, terms)
    if errors:
        raise ConfigErrors(errors)


def _load_commitments(directory: Path, keywords: Keywords) -> None:
    path = directory / "commitments.yaml"
    data = load_yaml(path)
    errors: list[ConfigError] = []
    for entry in _mapping(path, data, "commitments"):
        if not isinstance(entry, LineDict):
            errors.append(ConfigError(str(path), None, "commitments", "each commitment must be a mapping"))
            continue
        before = len(errors)
        for required in ("id", "title", "region"):
            if not entry.get(required):
                errors.append(ConfigError(str(path), entry.line, required, "missing required field"))
        region_code = normalise_region(entry.get("region"))
        if entry.get("region") and (region_code is None or region_code == "national"):
            errors.append(ConfigError(str(path), entry.line_of("region"), "region", f"unknown region code '{entry.get('region')}'"))
        communes = _str_list(path, entry, "communes", errors)
        for code in communes:
            place = keywords.places.get(f"commune:{code}")
            if place is None:
                errors.append(ConfigError(str(path), entry.line_of("communes"), "communes", f"unknown commune code '{code}'"))
            elif region_code and place.region_code != region_code:
                errors.append(ConfigError(str(path), entry.line_of("communes"), "communes", f"commune {code} ({place.name}) is not in region {region_code}"))
        aliases = _str_list(path, entry, "aliases", errors, required=True)
        for alias in aliases:
            if len(alias.split()) < 2:
                errors.append(ConfigError(str(path), entry.line_of("aliases"), "aliases", f"alias '{alias}' is a single word; use a specific phrase"))
        facility = _str_list(path, entry, "facility", errors)
        priority_id = entry.get("priority")
        if priority_id is not None and not isinstance(priority_id, str):
            known = ", ".join(keywords.priorities)
            errors.append(ConfigError(str(path), entry.line_of("priority"), "priority",
                                      f"must be one priority id (known: {known})"))
        elif priority_id is not None and priority_id not in keywords.priorities:
            errors.append(ConfigError(str(path), entry.line_of("priority"), "priority", f"unknown priority '{priority_id}' (known: {', '.join(keywords.priorities)})"))
        commitment_id = str(entry.get("id") or "")
        if commitment_id in keywords.commitments:
            errors.append(ConfigError(str(path), entry.line_of("id"), "id", f"duplicate commitment id '{commitment_id}'"))
        if len(errors) > before:
            continue
        keywords.commitments[commitment_id] = Commitment(
            id=commitment_id,
            title=str(entry["title"]),
            region_code=str(region_code),
            commune_codes=communes,
            aliases=aliases,
            facility_words=facility,
            priority_id=priority_id,
            ministry=entry.get("ministry"),
        )
    if errors:
        raise ConfigErrors(errors)


def _load_alerts(directory: Path, keywords: Keywords) -> None:
    path = directory / "alerts.yaml"
    data = load_yaml(path)
    terms = _mapping(path, data, "terms")
    bad = [t for t in terms if not isinstance(t, str) or not t.strip()]
    if bad:
        raise ConfigError(str(path), line_of(data, "terms"), "terms", "every term must be a non-empty text")
    keywords.alert_terms = tuple(t.strip() for t in terms)


def _load_rules(directory: Path, keywords: Keywords) -> None:
    path = directory / "disambiguation.yaml"
    if not path.exists():
        return
    data = _top_mapping(path, load_yaml(path), "ambiguous:, strict:, … lists")
    errors: list[ConfigError] = []
    known_names = {fold(alias) for place in keywords.places.values() for alias in place.aliases}

    def words(key: str) -> tuple[str, ...]:
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(ConfigError(str(path), line_of(data, key), key, "must be a list of texts"))
            return ()
        return tuple(fold(v) for v in value)

    ambiguous, strict = words("ambiguous"), words("strict")
    for key, names in (("ambiguous", ambiguous), ("strict", strict)):
        for name in names:
            if name not in known_names:
                errors.append(ConfigError(str(path), line_of(data, key), key, f"'{name}' is not a name in the gazetteer"))
    require_capital = data.get("require_capital", True)
    if not isinstance(require_capital, bool):
        errors.append(ConfigError(str(path), line_of(data, "require_capital"), "require_capital", "must be true or false"))
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
        foreign_before=words("foreign_before"),
        foreign_markers=words("foreign_markers"),
        never=tuple(v for v in _list_of(path, data, "never") if isinstance(v, str)),
    )
    if errors:
        raise ConfigErrors(errors)


def _load_exclusions(directory: Path, keywords: Keywords) -> None:
    path = directory / "feedback.yaml"
    if not path.exists():
        return
    data = _top_mapping(path, load_yaml(path), "exclusions:")
    errors: list[ConfigError] = []
    for index, entry in enumerate(_list_of(path, data, "exclusions")):
        if not isinstance(entry, LineDict) or not isinstance(entry.get("name"), str) or entry.get("code") is None:
            errors.append(ConfigError(str(path), line_of(entry), f"exclusions[{index}]", "each rule needs name and code"))
            continue
        code = str(entry["code"])
        if not any(f"{kind}:{code}" in keywords.places for kind in ("region", "province", "commune")):
            errors.append(ConfigError(str(path), entry.line_of("code"), "code", f"unknown place code '{code}'"))
            continue
        before = entry.get("before")
        keywords.exclusions.setdefault((fold(entry["name"]), code), set()).add(fold(str(before)) if before else None)
    if errors:
        raise ConfigErrors(errors)
