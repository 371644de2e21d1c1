"""What the linker finds in a text: ``LinkResult``, its ``Link``s and their ``Evidence``.

Plain data, apart from ``agenda.link`` so the store and the pipeline read and write results
without importing spaCy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# A link kind -> the LinkResult list that holds it.
RESULT_LISTS = {
    "region": "regions",
    "province": "provinces",
    "commune": "communes",
    "commitment": "commitments",
    "priority": "priorities",
    "alert": "alerts",
}


class Evidence(NamedTuple):  # a tuple: cheap to make, there are dozens per article
    text: str
    start: int
    end: int

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "start": self.start, "end": self.end}


@dataclass
class Link:
    kind: str  # region | province | commune | commitment | priority | alert
    code: str  # official code, commitment id, priority id, or the alert term
    name: str
    evidence: list[Evidence] = field(default_factory=list)
    at_risk: bool = False  # commitments only: the text reports trouble for it (agenda.risk)
    risk_evidence: list[Evidence] = field(
        default_factory=list
    )  # the trouble's sentence, the name's
    risk_kind: str | None = None  # keywords/alerts.yaml kind of the first trouble ("delay", ...)
    resolved: bool = False  # the text reports the trouble solved, after reporting it
    resolution_evidence: list[Evidence] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        key = "id" if self.kind in ("commitment", "priority") else "code"
        out: dict[str, object] = {
            key: self.code,
            "name": self.name,
            "evidence": [e.as_dict() for e in self.evidence],
        }
        if self.kind == "commitment":
            out["at_risk"] = self.at_risk
            out["risk_evidence"] = [e.as_dict() for e in self.risk_evidence]
            out["risk_kind"] = self.risk_kind
            out["resolved"] = self.resolved
            out["resolution_evidence"] = [e.as_dict() for e in self.resolution_evidence]
        return out


@dataclass
class LinkResult:
    regions: list[Link] = field(default_factory=list)
    provinces: list[Link] = field(default_factory=list)
    communes: list[Link] = field(default_factory=list)
    commitments: list[Link] = field(default_factory=list)
    priorities: list[Link] = field(default_factory=list)
    alerts: list[Link] = field(default_factory=list)

    def all_links(self) -> list[Link]:
        return (
            self.regions
            + self.provinces
            + self.communes
            + self.commitments
            + self.priorities
            + self.alerts
        )

    def as_dict(self) -> dict[str, list[dict[str, object]]]:
        return {
            "regions": [link.as_dict() for link in self.regions],
            "provinces": [link.as_dict() for link in self.provinces],
            "communes": [link.as_dict() for link in self.communes],
            "commitments": [link.as_dict() for link in self.commitments],
            "priorities": [link.as_dict() for link in self.priorities],
            "alerts": [link.as_dict() for link in self.alerts],
        }
