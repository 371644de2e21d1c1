"""The linker's quality gate on tests/gold/linking.jsonl (437 items written for the project).

The minimums are the targets of the linking issues (region F1 >= 0.98, commune F1 >= 0.97, commune
precision >= 0.97, commitment precision >= 0.95, false region links on items with no place <= 2%),
raised where the linker already does better, so that a regression fails here before an analyst
sees it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agenda.evaluate import COMMITMENT_FIELDS, evaluate, evaluate_commitments, read_gold
from agenda.keywords import load_commitments, load_keywords
from agenda.link import Linker

GOLD = Path(__file__).resolve().parent / "gold" / "linking.jsonl"
ROOT = GOLD.parent.parent.parent

MINIMUM_REGION_F1 = 0.98
MINIMUM_COMMUNE_F1 = 0.97
MINIMUM_COMMUNE_PRECISION = 0.97  # issue 14: about one commune link in eight was wrong on real news
MINIMUM_COMMITMENT_PRECISION = 0.97
MAXIMUM_FALSE_REGION_RATE = 0.02


@pytest.fixture(scope="module")
def evaluation(linker: Linker):  # noqa: ANN201
    return evaluate(linker, read_gold(GOLD))


def test_gold_set_is_what_the_issue_asks_for() -> None:
    items = read_gold(GOLD)
    assert len(items) >= 250
    assert sum(1 for item in items if not item["regions"]) >= 80
    assert len({item["id"] for item in items}) == len(items)


def test_region_f1(evaluation) -> None:  # noqa: ANN001
    assert evaluation.scores["regions"].f1 >= MINIMUM_REGION_F1


def test_commune_f1(evaluation) -> None:  # noqa: ANN001
    assert evaluation.scores["communes"].f1 >= MINIMUM_COMMUNE_F1


def test_commune_precision(evaluation) -> None:  # noqa: ANN001
    assert evaluation.scores["communes"].precision >= MINIMUM_COMMUNE_PRECISION


def test_commitment_precision(evaluation) -> None:  # noqa: ANN001
    assert evaluation.scores["commitments"].precision >= MINIMUM_COMMITMENT_PRECISION


def test_false_region_links_on_empty_items(evaluation) -> None:  # noqa: ANN001
    assert evaluation.false_region_rate <= MAXIMUM_FALSE_REGION_RATE


def test_eval_command_json(tmp_path: Path) -> None:
    agenda = Path(sys.executable).parent / "agenda"
    done = subprocess.run(
        [str(agenda), "eval", str(GOLD), "--json", "--keywords", str(ROOT / "keywords")],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["items"] >= 250
    assert set(report) >= {"regions", "communes", "commitments", "false_region_rate_on_empty"}
    assert {"precision", "recall", "f1"} <= set(report["regions"])


# -- commitments in trouble (tests/gold/commitments.jsonl, issue 15) ----------------------------
COMMITMENT_GOLD = GOLD.parent / "commitments.jsonl"
REGISTERS = {
    # hand-written aliases: the issue's targets
    "hand": (GOLD.parent / "commitments-register.yaml", 0.95, 0.90, 0.90, 0.85),
    # only what `agenda commitments import` writes (title, communes, generated names): kept from
    # regressing at about the level measured when the rules were written
    "import": (GOLD.parent / "commitments-register-import.yaml", 0.95, 0.85, 0.90, 0.85),
}
MAXIMUM_DISTRACTORS_LINKED = 0.05


def test_commitment_gold_set_is_what_the_issue_asks_for() -> None:
    items = read_gold(COMMITMENT_GOLD, required=COMMITMENT_FIELDS)
    assert len(items) >= 120 and len({item["id"] for item in items}) == len(items)
    assert 0.4 <= sum(1 for item in items if item["at_risk"]) / len(items) <= 0.6
    assert sum(1 for item in items if item.get("distractor_of")) >= len(items) / 5


@pytest.fixture(scope="module", params=sorted(REGISTERS))
def commitment_evaluation(request):  # noqa: ANN001, ANN201
    register, *minimums = REGISTERS[request.param]
    keywords = load_keywords(ROOT / "keywords")
    keywords.commitments.clear()
    load_commitments(register, keywords)
    return evaluate_commitments(
        Linker(keywords), read_gold(COMMITMENT_GOLD, required=COMMITMENT_FIELDS)
    ), minimums


def test_commitments_and_at_risk_meet_the_issue(commitment_evaluation) -> None:  # noqa: ANN001
    evaluation, (precision, recall, risk_precision, risk_recall) = commitment_evaluation
    assert evaluation.commitments.precision >= precision
    assert evaluation.commitments.recall >= recall
    assert evaluation.at_risk.precision >= risk_precision
    assert evaluation.at_risk.recall >= risk_recall
    assert evaluation.distractor_rate <= MAXIMUM_DISTRACTORS_LINKED


def test_eval_command_reports_commitment_gold(tmp_path: Path) -> None:
    agenda = Path(sys.executable).parent / "agenda"
    done = subprocess.run(
        [
            str(agenda),
            "eval",
            str(COMMITMENT_GOLD),
            "--json",
            "--keywords",
            str(ROOT / "keywords"),
            "--register",
            str(REGISTERS["hand"][0]),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["items"] >= 120 and {"precision", "recall"} <= set(report["at_risk"])
    assert report["distractors"] >= 24 and "distractor_rate" in report
