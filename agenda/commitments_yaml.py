"""Merging imported commitments into keywords/commitments.yaml, keeping the analysts' work.

ruamel.yaml round-trips the file, so comments, order, quoting and every field the sheet does not
carry (aliases, facility words, generated aliases) stay as they were. An entry is the same
commitment when it has the sheet's id, or else the same title and region (ignoring case, accents
and spacing); it gets the sheet's status, due, ministry, communes, priority and source. A new
entry gets a stable id from its title and the title as its alias.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agenda.commitments_import import ParsedSheet, SheetCommitment, parse_sheet
from agenda.common import write_atomically
from agenda.keywords import Keywords
from agenda.register import read_commitments
from agenda.textnorm import fold
from agenda.yamlconf import load_yaml_text

# Sheet field -> YAML key, in the order new keys are written.
UPDATED = (
    ("commune_codes", "communes"),
    ("priority_id", "priority"),
    ("ministry", "ministry"),
    ("status", "status"),
    ("due", "due"),
    ("source", "source"),
)
_ID_STOPWORDS = {"de", "del", "la", "las", "el", "los", "y", "e", "en", "para", "a", "al", "con"}
ID_WORDS = 7  # ids stay short enough to read in a URL (compromisos/<id>.html)


@dataclass
class MergePlan:
    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(
        default_factory=list
    )  # {"id", "row", "changes": {key: [old, new]}}
    unchanged: int = 0
    text: str = ""  # the file's new content
    original: str = ""

    @property
    def modified(self) -> bool:
        return self.text != self.original


def title_key(title: str) -> str:
    """A title as merging compares it: case, accents and spacing ignored.

    >>> title_key("  Hospital  de QUILPUÉ ") == title_key("hospital de Quilpue")
    True
    """
    return " ".join(fold(title).split())


def slug(text: str, words: int = ID_WORDS) -> str:
    """A new entry's id: the title's words, without the small ones.

    >>> slug("Reposición del Liceo Bicentenario de Putre")
    'reposicion-liceo-bicentenario-putre'
    """
    kept = [
        w for w in re.findall(r"[a-z0-9]+", fold(text).replace("'", "")) if w not in _ID_STOPWORDS
    ]
    return "-".join(kept[:words]) or "compromiso"


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap an analyst's long lines
    yaml.indent(mapping=2, sequence=4, offset=2)  # the layout of keywords/commitments.yaml
    return yaml


def press_aliases(title: str, commune_names: list[str]) -> list[str]:
    """The names the press is likely to use, when the linker's name generator is installed.

    ``agenda.commitment_names`` arrives with the linker work of issue 15; until it is merged the
    import writes the title as the only alias and no ``generated_aliases``.
    """
    try:
        from agenda.commitment_names import press_names  # type: ignore[import-not-found]
    except ImportError:
        return []
    return [
        name for name in press_names(title, commune_names) if title_key(name) != title_key(title)
    ]


def plan_merge(path: Path, rows: list[SheetCommitment], keywords: Keywords) -> MergePlan:
    """Merge ``rows`` into the YAML text of ``path``; validate the result; write nothing."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    original = path.read_text(encoding="utf-8") if path.exists() else "commitments:\n"
    yaml = _yaml()
    data = yaml.load(original)
    if data.get("commitments") is None:
        data["commitments"] = CommentedSeq()
    entries = data["commitments"]
    by_id = {str(e.get("id")): e for e in entries if isinstance(e, dict)}
    by_title = {
        (title_key(str(e.get("title", ""))), str(e.get("region", ""))): e
        for e in entries
        if isinstance(e, dict)
    }
    plan = MergePlan(original=original)

    def yaml_value(key: str, value: Any) -> Any:
        if key == "communes":
            seq = CommentedSeq([DoubleQuotedScalarString(code) for code in value])
            seq.fa.set_flow_style()
            return seq
        return DoubleQuotedScalarString(value) if key == "due" else value

    for row in rows:
        entry = (by_id.get(row.id) if row.id else None) or by_title.get(
            (title_key(row.title), row.region_code)
        )
        if entry is None:
            new_id = _new_id(row, by_id)
            entry = CommentedMap()
            entry["id"] = new_id
            entry["title"] = row.title
            entry["region"] = DoubleQuotedScalarString(row.region_code)
            entry["communes"] = yaml_value("communes", row.commune_codes or ())
            entry["aliases"] = [row.title]
            communes = [keywords.place("commune", c).name for c in row.commune_codes or ()]
            generated = press_aliases(row.title, communes)
            if generated:
                entry["generated_aliases"] = generated
            for attribute, key in UPDATED[1:]:
                if getattr(row, attribute) is not None:
                    entry[key] = yaml_value(key, getattr(row, attribute))
            entries.append(entry)
            by_id[new_id] = entry
            by_title[(title_key(row.title), row.region_code)] = entry
            plan.added.append(
                {"id": new_id, "row": row.row, "title": row.title, "region": row.region_code}
            )
            continue
        changes = _update(entry, row, yaml_value)
        if changes:
            plan.changed.append({"id": str(entry["id"]), "row": row.row, "changes": changes})
        else:
            plan.unchanged += 1
    rendered = io.StringIO()
    yaml.dump(data, rendered)
    plan.text = rendered.getvalue() if plan.added or plan.changed else original
    # The written file must load as the linker will load it: file, line and field otherwise.
    read_commitments(path, load_yaml_text(plan.text, str(path)), replace(keywords, commitments={}))
    return plan


def _update(entry: Any, row: SheetCommitment, yaml_value: Any) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    last_key = list(entry.keys())[-1]
    for attribute, key in UPDATED:
        new = getattr(row, attribute)
        if new is None:
            continue  # the sheet says nothing: the YAML keeps what it has
        old = entry.get(key)
        comparable_old = (
            [str(c) for c in old]
            if key == "communes" and old is not None
            else (str(old) if old is not None else None)
        )
        comparable_new = list(new) if key == "communes" else str(new)
        if comparable_old == comparable_new:
            continue
        changes[key] = [comparable_old, comparable_new]
        entry[key] = yaml_value(key, new)
    new_last = list(entry.keys())[-1]
    if new_last != last_key and last_key in entry.ca.items:
        # ruamel keeps the blank line and "# --- Región ---" comment that follow an entry on its
        # last key: move them to the new last key so they stay between the entries.
        entry.ca.items[new_last] = entry.ca.items.pop(last_key)
    return changes


def _new_id(row: SheetCommitment, known: dict[str, Any]) -> str:
    """Stable: the same title gives the same id; a clash with another entry adds the region."""
    base = slug(row.id) if row.id else slug(row.title)
    for candidate in (
        base,
        f"{base}-{row.region_code}",
        *(f"{base}-{row.region_code}-{n}" for n in range(2, 100)),
    ):
        if candidate not in known:
            return candidate
    raise AssertionError("unreachable: 100 commitments with one title in one region")


@dataclass
class ImportResult:
    sheet: Path
    target: Path
    parsed: ParsedSheet
    plan: MergePlan
    written: bool
    skip_invalid: bool = False

    @property
    def exit_code(self) -> int:
        """2: bad rows and nothing written; 1: bad rows skipped (--skip-invalid); 0: all good."""
        if not self.parsed.errors:
            return 0
        return 1 if self.skip_invalid else 2

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.sheet),
            "target": str(self.target),
            "written": self.written,
            "added": self.plan.added,
            "changed": self.plan.changed,
            "unchanged": self.plan.unchanged,
            "errors": [e.as_dict() for e in self.parsed.errors],
            "warnings": [w.as_dict() for w in self.parsed.warnings],
        }

    def lines(self) -> list[str]:
        """What an analyst reads, in Spanish: bad rows first, then what was (or would be) done."""
        out = [str(e) for e in self.parsed.errors] + [f"aviso: {w}" for w in self.parsed.warnings]
        if self.parsed.errors and not self.skip_invalid:
            out.append(
                f"{len(self.parsed.errors)} fila(s) con errores: no se escribió nada en "
                f"{self.target} (corrija la planilla o use --skip-invalid)"
            )
            return out
        for item in self.plan.added:
            out.append(
                f"+ {item['id']}: {item['title']} (región {item['region']}, fila {item['row']})"
            )
        for item in self.plan.changed:
            detail = "; ".join(
                f"{key}: {old!r} -> {new!r}" for key, (old, new) in item["changes"].items()
            )
            out.append(f"~ {item['id']} (fila {item['row']}): {detail}")
        verb = "se agregarían" if not self.written and self.plan.modified else "agregados"
        out.append(
            f"{len(self.plan.added)} {verb if self.plan.added else 'nuevos'}, "
            f"{len(self.plan.changed)} con cambios, {self.plan.unchanged} sin cambios"
            + (f", {len(self.parsed.errors)} fila(s) omitida(s)" if self.parsed.errors else "")
        )
        if self.written:
            out.append(f"escrito: {self.target}")
        elif self.plan.modified:
            out.append(f"--dry-run: no se escribió {self.target}")
        else:
            out.append(f"{self.target} ya estaba al día: nada que escribir")
        return out


def import_sheet(
    sheet: Path, keywords: Keywords, skip_invalid: bool = False, dry_run: bool = False
) -> ImportResult:
    """Parse the sheet, merge its good rows into commitments.yaml and write it (atomically)
    unless ``dry_run``, or any row is bad and not ``skip_invalid``."""
    target = keywords.directory / "commitments.yaml"
    parsed = parse_sheet(sheet, keywords)
    plan = plan_merge(target, parsed.commitments, keywords)
    blocked = bool(parsed.errors) and not skip_invalid
    written = plan.modified and not dry_run and not blocked
    if written:
        write_atomically(target, plan.text)
    return ImportResult(sheet, target, parsed, plan, written, skip_invalid)
