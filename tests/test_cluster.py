"""Near-duplicate clustering measured on 300 labelled pairs written for the project
(tests/fixtures/duplicates/: wire copies, rewrites, updates, retitled stories; and hard
non-duplicates: same place and topic, different event).

All 600 articles are clustered in one run, as on a real day, so a false merge across pairs
counts too. The pinned minimums guard against regressions; `pytest -s tests/test_cluster.py`
prints the figures.
"""

from __future__ import annotations

import json
from pathlib import Path

from agenda.cluster import ClusterInput, cluster

PAIRS = Path(__file__).resolve().parent / "fixtures" / "duplicates" / "pairs.jsonl"
MINIMUM_PRECISION = 0.85
MINIMUM_RECALL = 0.80


def test_pairs_precision_and_recall() -> None:
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()]
    assert len(pairs) == 300 and sum(p["duplicate"] for p in pairs) == 150
    items = []
    for pair in pairs:
        items += [ClusterInput(pair["a"]["title"], pair["a"]["summary"]), ClusterInput(pair["b"]["title"], pair["b"]["summary"])]
    story_of = {}
    for number, members in enumerate(cluster(items)):
        for member in members:
            story_of[member] = number
    together = [story_of[2 * i] == story_of[2 * i + 1] for i in range(len(pairs))]
    true_positives = sum(1 for pair, same in zip(pairs, together) if same and pair["duplicate"])
    false_positives = sum(1 for pair, same in zip(pairs, together) if same and not pair["duplicate"])
    false_negatives = sum(1 for pair, same in zip(pairs, together) if not same and pair["duplicate"])
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / (true_positives + false_negatives)
    print(f"duplicate pairs: precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= MINIMUM_PRECISION and recall >= MINIMUM_RECALL
    wire = [same for pair, same in zip(pairs, together) if pair["kind"] == "wire"]
    assert all(wire)  # agency copies always merge


def test_unrelated_articles_stay_apart() -> None:
    items = [ClusterInput(f"Feria del libro número {i} en Arica", f"La feria {i} reunió a {i * 7} lectores.") for i in range(3)]
    items.append(ClusterInput("Temporal en Temuco", "Lluvias dejan 40 familias aisladas en Temuco."))
    groups = cluster(items)
    assert [3] in groups


def test_articles_about_different_regions_are_never_one_story() -> None:
    text = "El nuevo hospital tendrá 200 camas, pabellones y urgencia desde 2027, informó el Servicio de Salud."
    same_region = cluster([ClusterInput("Nuevo hospital abrirá en 2027", text, frozenset({"06"})),
                           ClusterInput("Nuevo hospital abrirá en 2027", text, frozenset({"06", "13"}))])
    other_region = cluster([ClusterInput("Nuevo hospital abrirá en 2027", text, frozenset({"06"})),
                            ClusterInput("Nuevo hospital abrirá en 2027", text, frozenset({"13"}))])
    assert same_region == [[0, 1]] and other_region == [[0], [1]]
