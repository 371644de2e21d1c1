"""Evaluate the linker on gold data: precision, recall and F1 per level. Pure.

Gold files are JSON lines: ``{"id", "title", "text", "regions": ["05"], "communes": ["05109"],
"commitments": ["..."]}``. Scores are micro-averaged over (item, code) pairs. The false-positive
rate is the share of items whose gold regions are empty that get at least one region anyway.

Commitment gold files (tests/gold/commitments.jsonl) carry ``at_risk`` instead of places:
``{"id", "title", "text", "commitments": [...], "at_risk": [...], "distractor_of": [...]}``;
``evaluate_commitments`` scores which commitments are linked, which are flagged at risk, and how
many distractors (the old hospital of the same city, another bridge over the same river, a
project named in passing in a list) are linked or flagged when they should not be.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agenda.common import link_text
from agenda.errors import ConfigError
from agenda.link import Linker

LEVELS = ("regions", "communes", "commitments")


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            **asdict(self),
        }


@dataclass
class Mistake:
    item_id: str
    level: str
    missing: list[str]
    extra: list[str]
    names: dict[str, str] = field(default_factory=dict)  # code -> name, for missing and extra
    # extra code -> the text around each of its matches
    evidence: dict[str, list[str]] = field(default_factory=dict)


_CONTEXT = 40  # characters of text shown on each side of a wrong link's evidence


def _name(linker: Linker, level: str, code: str) -> str:
    if level == "commitments":
        commitment = linker.keywords.commitments.get(code)
        return commitment.title if commitment else code
    place = linker.keywords.places.get(f"{level[:-1]}:{code}")
    return place.name if place else code


def _in_context(text: str, start: int, end: int) -> str:
    """'…afectará desde [Coquimbo] hasta Biobío…': the evidence marked inside its sentence."""
    left, right = max(0, start - _CONTEXT), min(len(text), end + _CONTEXT)
    snippet = f"{text[left:start]}[{text[start:end]}]{text[end:right]}"
    snippet = " ".join(snippet.split())
    return ("…" if left else "") + snippet + ("…" if right < len(text) else "")


def format_mistake(mistake: Mistake) -> str:
    """One wrong item and level: names for the codes, and where each wrong link was found.

    >>> print(format_mistake(Mistake("g1", "communes", [], ["04102"], {"04102": "Coquimbo"},
    ...                              {"04102": ["desde [Coquimbo] hasta"]})))
      g1 communes: extra 04102 Coquimbo
          desde [Coquimbo] hasta
    """
    parts = [f"missing {c} {mistake.names.get(c, '')}".rstrip() for c in mistake.missing]
    parts += [f"extra {c} {mistake.names.get(c, '')}".rstrip() for c in mistake.extra]
    lines = [f"  {mistake.item_id} {mistake.level}: " + "; ".join(parts)]
    for code in mistake.extra:
        lines += [f"      {snippet}" for snippet in mistake.evidence.get(code, [])]
    return "\n".join(lines)


@dataclass
class Evaluation:
    items: int = 0
    scores: dict[str, Score] = field(default_factory=lambda: {level: Score() for level in LEVELS})
    empty_items: int = 0
    empty_items_with_regions: int = 0
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def false_region_rate(self) -> float:
        return self.empty_items_with_regions / self.empty_items if self.empty_items else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            **{level: score.as_dict() for level, score in self.scores.items()},
            "empty_items": self.empty_items,
            "false_region_rate_on_empty": round(self.false_region_rate, 4),
        }


def read_gold(
    path: Path, required: tuple[str, ...] = ("id", "regions", "communes")
) -> list[dict[str, Any]]:
    """The items of a gold file; a line that is not JSON or lacks a field is a ConfigError."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(str(path), number, None, f"not JSON ({exc.msg})") from exc
        for key in required:
            if key not in item:
                raise ConfigError(str(path), number, key, "missing required field")
        items.append(item)
    return items


def evaluate(linker: Linker, items: list[dict[str, Any]]) -> Evaluation:
    result = Evaluation()
    for item in items:
        text = link_text(
            *(str(item[k]) if item.get(k) else None for k in ("title", "summary", "text"))
        )
        links = linker.link(text, source_region=item.get("source_region"))
        predicted = {
            "regions": {link.code for link in links.regions},
            "communes": {link.code for link in links.communes},
            "commitments": {link.code for link in links.commitments},
        }
        result.items += 1
        for level in LEVELS:
            if level == "commitments" and "commitments" not in item:
                continue
            gold = set(item.get(level) or [])
            score = result.scores[level]
            score.true_positives += len(gold & predicted[level])
            score.false_positives += len(predicted[level] - gold)
            score.false_negatives += len(gold - predicted[level])
            if gold != predicted[level]:
                missing, extra = sorted(gold - predicted[level]), sorted(predicted[level] - gold)
                by_code = {link.code: link for link in getattr(links, level)}
                names = {code: _name(linker, level, code) for code in missing + extra}
                evidence = {
                    code: [_in_context(text, e.start, e.end) for e in dict.fromkeys(link.evidence)]
                    for code, link in by_code.items()
                    if code in extra
                }
                mistake = Mistake(str(item["id"]), level, missing, extra, names, evidence)
                result.mistakes.append(mistake)
        if not item.get("regions"):
            result.empty_items += 1
            result.empty_items_with_regions += bool(predicted["regions"])
    return result


def format_report(evaluation: Evaluation) -> str:
    lines = [
        f"{evaluation.items} items",
        f"{'level':12} {'precision':>9} {'recall':>7} {'F1':>6}   tp/fp/fn",
    ]
    for level, score in evaluation.scores.items():
        lines.append(
            f"{level:12} {score.precision:9.3f} {score.recall:7.3f} {score.f1:6.3f}   "
            f"{score.true_positives}/{score.false_positives}/{score.false_negatives}"
        )
    lines.append(
        f"false region links on items with no gold region: {evaluation.false_region_rate:.1%} "
        f"({evaluation.empty_items_with_regions} of {evaluation.empty_items})"
    )
    return "\n".join(lines)


COMMITMENT_FIELDS = ("id", "commitments", "at_risk")


def is_commitment_gold(items: list[dict[str, Any]]) -> bool:
    return bool(items) and all("at_risk" in item for item in items)


@dataclass
class CommitmentEvaluation:
    items: int = 0
    commitments: Score = field(default_factory=Score)
    at_risk: Score = field(default_factory=Score)
    distractors: int = 0
    distractors_linked: int = 0
    kinds_right: int = 0  # flagged items whose first trouble is of the gold kind
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def distractor_rate(self) -> float:
        return self.distractors_linked / self.distractors if self.distractors else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "commitments": self.commitments.as_dict(),
            "at_risk": self.at_risk.as_dict(),
            "distractors": self.distractors,
            "distractors_linked": self.distractors_linked,
            "distractor_rate": round(self.distractor_rate, 4),
            "risk_kind_right": self.kinds_right,
        }


def evaluate_commitments(linker: Linker, items: list[dict[str, Any]]) -> CommitmentEvaluation:
    """Score commitment links and at-risk flags on a commitment gold file."""
    result = CommitmentEvaluation()
    for item in items:
        text = link_text(
            *(str(item[k]) if item.get(k) else None for k in ("title", "summary", "text"))
        )
        links = linker.link(text, source_region=item.get("source_region"))
        predicted = {link.code for link in links.commitments}
        flagged = {link.code: link for link in links.commitments if link.at_risk}
        result.items += 1
        for level, gold, found in (
            ("commitments", set(item["commitments"]), predicted),
            ("at_risk", set(item["at_risk"]), set(flagged)),
        ):
            score = getattr(result, level)
            score.true_positives += len(gold & found)
            score.false_positives += len(found - gold)
            score.false_negatives += len(gold - found)
            if gold != found:
                mistake = Mistake(
                    str(item["id"]), level, sorted(gold - found), sorted(found - gold)
                )
                result.mistakes.append(mistake)
        kind = item.get("risk_kind")
        if kind and any(link.risk_kind == kind for link in flagged.values()):
            result.kinds_right += 1
        if item.get("distractor_of"):
            result.distractors += 1
            wrong = (predicted - set(item["commitments"])) | (set(flagged) - set(item["at_risk"]))
            result.distractors_linked += bool(wrong & set(item["distractor_of"]))
    return result


def format_commitment_report(evaluation: CommitmentEvaluation) -> str:
    header = f"{'level':12} {'precision':>9} {'recall':>7} {'F1':>6}   tp/fp/fn"
    lines = [f"{evaluation.items} items", header]
    for level, score in (("commitments", evaluation.commitments), ("at_risk", evaluation.at_risk)):
        lines.append(
            f"{level:12} {score.precision:9.3f} {score.recall:7.3f} {score.f1:6.3f}   "
            f"{score.true_positives}/{score.false_positives}/{score.false_negatives}"
        )
    lines.append(
        f"distractors linked: {evaluation.distractor_rate:.1%} "
        f"({evaluation.distractors_linked} of {evaluation.distractors})"
    )
    flagged = evaluation.at_risk.true_positives
    lines.append(f"trouble kind right on {evaluation.kinds_right} of {flagged} flagged")
    return "\n".join(lines)
