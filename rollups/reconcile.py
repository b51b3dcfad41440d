"""Reconciliation: the roll-up (recomputed from the facts) against the streaming aggregates.

They must agree; any difference is reported key by key, never smoothed over. Counts must be
equal; decimal measures may differ by float rounding only (the aggregates sum floats).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rollups.model import DECIMAL_MEASURES, INT_MEASURES, RollupRow, key_dict
from schemas.vocabulary import CELLS

#: The numbers compared, in order.
COMPARED: tuple[str, ...] = ("events", *CELLS, *INT_MEASURES, *DECIMAL_MEASURES)

#: Relative tolerance for decimal measures (the aggregates hold float sums).
FLOAT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class KeyDifference:
    """One key whose totals differ: field -> (from the facts, from the aggregates)."""

    key: tuple[str, ...]
    fields: Mapping[str, tuple[Any, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "key": key_dict(self.key),
            "fields": {name: [_plain(a), _plain(b)] for name, (a, b) in self.fields.items()},
        }


@dataclass(frozen=True)
class Reconciliation:
    """How many keys were compared and every one that differs."""

    keys: int
    differences: tuple[KeyDifference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "keys": self.keys,
            "differences": [d.to_json() for d in self.differences],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def _same(name: str, a: Any, b: Any) -> bool:
    if name in DECIMAL_MEASURES:
        x, y = float(a), float(b)
        return abs(x - y) <= FLOAT_TOLERANCE * max(1.0, abs(x), abs(y))
    return int(a) == int(b)


def reconcile(
    rows: Sequence[RollupRow], aggregates: Mapping[tuple[str, ...], Mapping[str, Any]]
) -> Reconciliation:
    """Compare roll-up rows with aggregate totals per key; a key missing on one side counts as
    all zeros there (the aggregates keep zero rows for keys nothing counts towards any more)."""
    facts = {row.key: {name: row.number(name) for name in COMPARED} for row in rows}
    zeros: dict[str, Any] = dict.fromkeys(COMPARED, 0)
    differences = []
    keys = sorted(facts.keys() | aggregates.keys())
    for key in keys:
        mine, theirs = facts.get(key, zeros), aggregates.get(key, zeros)
        fields = {
            name: (mine[name], theirs[name])
            for name in COMPARED
            if not _same(name, mine[name], theirs[name])
        }
        if fields:
            differences.append(KeyDifference(key, fields))
    return Reconciliation(keys=len(keys), differences=tuple(differences))
