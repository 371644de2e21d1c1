"""Analysts' feedback: "article 12 is not about 09211" (or "is also about 05").

``agenda feedback ARTICLE_ID --not CODE`` removes the link (a region takes its provinces and
communes with it) from that article at once, records the correction in the database so a later
re-link keeps it, and appends exclusion rules to ``keywords/feedback.yaml``: one per name that
produced the wrong link, with the word that stood before it, for a person to review. The linker
applies those rules to every article from then on; deleting a rule undoes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from agenda.errors import AgendaError
from agenda.keywords import Keywords
from agenda.store import Store
from agenda.textnorm import fold

FEEDBACK_FILE = "feedback.yaml"
HEADER = """\
# Exclusion rules from analysts' feedback (`agenda feedback ARTICLE_ID --not CODE`).
# Each rule stops the linker from linking NAME to CODE when the word right before the name is
# BEFORE (no `before`: anywhere). Review them: edit or delete a rule to change or undo it.
exclusions:
"""


@dataclass(frozen=True)
class ExclusionRule:
    name: str
    code: str
    before: str | None
    article: int
    example: str


def kind_of(code: str, keywords: Keywords) -> str:
    for kind in ("region", "province", "commune"):
        if f"{kind}:{code}" in keywords.places:
            return kind
    raise AgendaError(f"'{code}' is not a region (2 digits), province (3) or commune (5) code")


def plan_removal(links: list[dict[str, Any]], kind: str, code: str) -> list[tuple[str, str]]:
    """Which (kind, code) links go when an analyst says an article is not about ``code``.

    A region takes its provinces and communes with it; a commune leaves its province and region
    only when nothing else in the article supports them.
    """
    place_links = [l for l in links if l["kind"] in ("region", "province", "commune")]
    if kind == "region":
        return [(l["kind"], l["code"]) for l in place_links if l["code"][:2] == code]
    remove = [(kind, code)]
    removed_spans = {(e["start"], e["end"]) for l in place_links if (l["kind"], l["code"]) == (kind, code) for e in l["evidence"]}
    for link in place_links:
        if (link["kind"], link["code"]) in remove or link["kind"] == "commune" or not link["code"].startswith(code[: len(link["code"])]):
            continue
        # a province or region whose every evidence span was the removed name goes too
        if {(e["start"], e["end"]) for e in link["evidence"]} <= removed_spans:
            remove.append((link["kind"], link["code"]))
    return remove


def exclusion_rules(article: dict[str, Any], remove: list[tuple[str, str]]) -> list[ExclusionRule]:
    """One rule per wrongly linked name, with the word before it as context."""
    text = "\n\n".join(part for part in (article["title"], article["summary"], article["text"]) if part)
    rules: dict[tuple[str, str, str | None], ExclusionRule] = {}
    removed = set(remove)
    for link in article["links"]:
        if (link["kind"], link["code"]) not in removed or link["kind"] == "region" and any(k == "commune" for k, _ in remove):
            continue
        for evidence in link["evidence"]:
            start, end = evidence.get("start"), evidence.get("end")
            if start is None or text[start:end] != evidence["text"]:
                continue
            words = fold(text[max(0, start - 40):start]).split()
            before = words[-1] if words and text[start - 1:start].isspace() else None
            example = " ".join(text[max(0, start - 40):end + 30].split())
            key = (evidence["text"], link["code"], before)
            rules.setdefault(key, ExclusionRule(evidence["text"], link["code"], before, article["id"], f"…{example}…"))
    return list(rules.values())


def append_rules(directory: Path, rules: list[ExclusionRule], today: date) -> Path:
    """Append rules to keywords/feedback.yaml, creating it with its explanation if needed."""
    path = directory / FEEDBACK_FILE
    if not path.exists():
        path.write_text(HEADER, encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    for rule in rules:
        entry = {"name": rule.name, "code": rule.code, "before": rule.before, "article": rule.article, "added": today.isoformat(), "example": rule.example}
        if rule.before is None:
            del entry["before"]
        text += "  - " + yaml.safe_dump(entry, allow_unicode=True, sort_keys=False, width=200).replace("\n", "\n    ").rstrip() + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def apply_feedback(store: Store, keywords: Keywords, article_id: int, not_code: str | None, add_code: str | None, today: date) -> tuple[list[tuple[str, str]], list[ExclusionRule], Path | None]:
    article = store.article(article_id)
    if article is None:
        raise AgendaError(f"no article with id {article_id} (see `agenda search`)")
    removed: list[tuple[str, str]] = []
    rules: list[ExclusionRule] = []
    path = None
    # The same correction again changes nothing (no second row, no second rule): idempotent.
    recorded = {(row["action"], row["code"]) for row in store.feedback_for(article_id)}
    if ("not", not_code) in recorded:
        not_code = None
    if ("add", add_code) in recorded:
        add_code = None
    if not_code:
        kind = kind_of(not_code, keywords)
        removed = plan_removal(article["links"], kind, not_code)
        if not any(code == not_code for _, code in removed) or not any(l["code"] == not_code for l in article["links"]):
            raise AgendaError(f"article {article_id} is not linked to {not_code}")
        rules = exclusion_rules(article, removed)
        store.record_feedback(article_id, "not", kind, not_code, keywords.place(kind, not_code).name, removed, [])
        if rules:
            path = append_rules(keywords.directory, rules, today)
    if add_code:
        kind = kind_of(add_code, keywords)
        place = keywords.place(kind, add_code)
        additions = [(kind, add_code, place.name)]
        if kind != "region":
            additions.append(("region", place.region_code, keywords.place("region", place.region_code).name))
        store.record_feedback(article_id, "add", kind, add_code, place.name, [], additions)
    return removed, rules, path
