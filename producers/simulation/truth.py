"""The ground truth of a simulation: what a correct hub must end up showing.

Computed from the simulator's own bookkeeping (the drafts it built), never from a stream or a
warehouse, so that it can judge both.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from producers.simulation.generate import cells_of
from producers.simulation.records import Draft
from schemas.vocabulary import CELLS

#: The grouping of a totals row, in its sort order.
TOTALS_KEY: tuple[str, ...] = ("month", "partner_id", "kind", "region", "population_type")


@dataclass(frozen=True)
class GroundTruth:
    """Expected totals, dead letters, faults and assistance overlaps of one simulation."""

    spec: Mapping[str, Any]
    messages: int
    totals: tuple[Mapping[str, Any], ...]
    deadletters: Mapping[str, int]
    faults: Mapping[str, int]
    overlaps: tuple[Mapping[str, Any], ...]
    events: Mapping[str, int] = field(default_factory=dict)
    habitually_late: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The truth as JSON-ready values."""
        return {
            "spec": dict(self.spec),
            "messages": self.messages,
            "events": dict(self.events),
            "totals": [dict(row) for row in self.totals],
            "deadletters": dict(sorted(self.deadletters.items())),
            "faults": dict(self.faults),
            "overlaps": [dict(row) for row in self.overlaps],
            "habitually_late": list(self.habitually_late),
        }

    def to_json(self) -> str:
        """The truth file's text: one list item per line; the same simulation, the same text."""
        items = list(self.to_dict().items())
        lines = ["{"]
        for n, (name, value) in enumerate(items):
            if isinstance(value, list) and value:
                rows = ",\n".join(f"  {json.dumps(row)}" for row in value)
                text = f"[\n{rows}\n ]"
            else:
                text = json.dumps(value)
            lines.append(f" {json.dumps(name)}: {text}{',' if n < len(items) - 1 else ''}")
        return "\n".join([*lines, "}"]) + "\n"


def final_versions(drafts: Iterable[Draft]) -> dict[tuple[str, str], dict[str, Any]]:
    """The highest revision of each (partner, event id)."""
    final: dict[tuple[str, str], dict[str, Any]] = {}
    for draft in drafts:
        body = draft.body
        key = (str(body["partner_id"]), str(body["event_id"]).lower())
        if key not in final or int(body["revision"]) > int(final[key]["revision"]):
            final[key] = body
    return final


def totals(active: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Events and the ten cells per month x partner x kind x region x population type."""
    sums: dict[tuple[str, ...], list[int]] = {}
    for body in active:
        key = (str(body["occurred_on"])[:7], *(str(body[f]) for f in TOTALS_KEY[1:]))
        row = sums.setdefault(key, [0] * (1 + len(CELLS)))
        row[0] += 1
        for i, n in enumerate(cells_of(body), start=1):
            row[i] += n
    return [
        {
            **dict(zip(TOTALS_KEY, key, strict=True)),
            "events": row[0],
            **dict(zip(CELLS, row[1:], strict=True)),
        }
        for key, row in sorted(sums.items())
    ]


def overlaps(active: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per month and assistance category, the partners sharing refs and how many refs."""
    served: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for body in active:
        if body["kind"] != "assistance":
            continue
        where = (str(body["occurred_on"])[:7], str(body["payload"]["category"]))
        for ref in body.get("beneficiary_refs", ()):
            served[where][ref].add(str(body["partner_id"]))
    out: list[dict[str, Any]] = []
    for (month, category), by_ref in sorted(served.items()):
        shared = [partners for partners in by_ref.values() if len(partners) > 1]
        if shared:
            out.append(
                {
                    "month": month,
                    "category": category,
                    "partners": sorted(set().union(*shared)),
                    "refs": len(shared),
                }
            )
    return out


def build_truth(
    spec: Mapping[str, Any],
    drafts: Iterable[Draft],
    messages: int,
    deadletters: Counter[str],
    faults: Mapping[str, int],
    habitually_late: Iterable[str],
) -> GroundTruth:
    """The truth of a simulation whose valid event versions are ``drafts``."""
    final = final_versions(drafts)
    active = [body for body in final.values() if body["status"] != "retracted"]
    return GroundTruth(
        spec=spec,
        messages=messages,
        totals=tuple(totals(active)),
        deadletters=dict(deadletters),
        faults=dict(faults),
        overlaps=tuple(overlaps(active)),
        events={
            "distinct": len(final),
            "active": len(active),
            "retracted": len(final) - len(active),
        },
        habitually_late=tuple(sorted(habitually_late)),
    )
