"""What the linker finds in a text: ``LinkResult``, its ``Link``s and their ``Evidence``.

Plain data, apart from ``agenda.link`` so the store and the pipeline read and write results
without importing spaCy. Each class writes its own ``__init__`` (the dataclass gives the rest):
compiled by mypyc with the linker, a written one is a native constructor, where the dataclass's
would stay interpreted Python (the linker makes about fifteen links and a dozen evidences a
text).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(init=False, unsafe_hash=True)
class Evidence:
    """Where a link's name (or its trouble's sentence) stands: the text and its span. Compiled, a
    native class: made in one native call with its offsets unboxed (a NamedTuple from the
    linker went through tuple.__new__ with a tuple of boxed ints; dozens a text). Equal and hashed
    by value (``evaluate`` dedups evidence with ``dict.fromkeys``)."""

    text: str
    start: int
    end: int

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.start = start
        self.end = end

    def __reduce__(self) -> tuple[type[Evidence], tuple[object, ...]]:
        return Evidence, _field_values(self)

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "start": self.start, "end": self.end}


def _field_values(instance: Evidence | Link | LinkResult) -> tuple[object, ...]:
    """What ``__reduce__`` rebuilds an instance from: its fields' values, in the order its
    ``__init__`` takes them. Pickle and copy go through ``__init__`` with every field: a class
    compiled by mypyc runs ``__init__`` from ``__new__`` too, so the default way, without
    arguments, would fail."""
    return tuple(getattr(instance, f.name) for f in fields(instance))


@dataclass(init=False)
class Link:
    kind: str  # region | province | commune | commitment | priority | alert
    code: str  # official code, commitment id, priority id, or the alert term
    name: str
    evidence: list[Evidence] = field(default_factory=list)
    at_risk: bool = False  # commitments only: the text reports trouble for it (agenda.risk)
    # the trouble's sentence, the name's; tuples: most links have none, and the empty tuple is
    # shared (two empty lists a link were most of what a place's link allocated)
    risk_evidence: tuple[Evidence, ...] = ()
    risk_kind: str | None = None  # keywords/alerts.yaml kind of the first trouble ("delay", ...)
    resolved: bool = False  # the text reports the trouble solved, after reporting it
    resolution_evidence: tuple[Evidence, ...] = ()

    def __init__(
        self,
        kind: str,
        code: str,
        name: str,
        evidence: list[Evidence] | None = None,
        at_risk: bool = False,
        risk_evidence: tuple[Evidence, ...] = (),
        risk_kind: str | None = None,
        resolved: bool = False,
        resolution_evidence: tuple[Evidence, ...] = (),
    ) -> None:
        self.kind = kind
        self.code = code
        self.name = name
        self.evidence = [] if evidence is None else evidence
        self.at_risk = at_risk
        self.risk_evidence = risk_evidence
        self.risk_kind = risk_kind
        self.resolved = resolved
        self.resolution_evidence = resolution_evidence

    def __reduce__(self) -> tuple[type[Link], tuple[object, ...]]:
        return Link, _field_values(self)

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


@dataclass(init=False)
class LinkResult:
    regions: list[Link] = field(default_factory=list)
    provinces: list[Link] = field(default_factory=list)
    communes: list[Link] = field(default_factory=list)
    commitments: list[Link] = field(default_factory=list)
    priorities: list[Link] = field(default_factory=list)
    alerts: list[Link] = field(default_factory=list)

    def __init__(
        self,
        regions: list[Link] | None = None,
        provinces: list[Link] | None = None,
        communes: list[Link] | None = None,
        commitments: list[Link] | None = None,
        priorities: list[Link] | None = None,
        alerts: list[Link] | None = None,
    ) -> None:
        self.regions = [] if regions is None else regions
        self.provinces = [] if provinces is None else provinces
        self.communes = [] if communes is None else communes
        self.commitments = [] if commitments is None else commitments
        self.priorities = [] if priorities is None else priorities
        self.alerts = [] if alerts is None else alerts

    def __reduce__(self) -> tuple[type[LinkResult], tuple[object, ...]]:
        return LinkResult, _field_values(self)

    def list_of(self, kind: str) -> list[Link]:
        """The list that holds links of ``kind`` (the linker appends to it)."""
        if kind == "region":
            return self.regions
        if kind == "province":
            return self.provinces
        if kind == "commune":
            return self.communes
        if kind == "commitment":
            return self.commitments
        if kind == "priority":
            return self.priorities
        if kind == "alert":
            return self.alerts
        raise ValueError(f"no links of kind {kind!r}")

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
