"""What changed between two versions of a month's roll-up (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rollups.model import NUMBERS, Number, RollupRow, key_dict

#: What a change compares: every number but ``persons`` (the cells' sum), and the units.
COMPARED: tuple[str, ...] = tuple(n for n in NUMBERS if n != "persons")


@dataclass(frozen=True)
class RowChange:
    """One key present in both versions with different values: field -> (old, new)."""

    key: tuple[str, ...]
    fields: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class Changes:
    """Keys added, removed and changed from the previous version to this one."""

    added: tuple[RollupRow, ...]
    removed: tuple[RollupRow, ...]
    changed: tuple[RowChange, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: keys as dicts, numbers as JSON numbers, units as lists."""
        return {
            "added": [_row_json(row) for row in self.added],
            "removed": [_row_json(row) for row in self.removed],
            "changed": [
                {
                    "key": key_dict(c.key),
                    "fields": {k: [_json(a), _json(b)] for k, (a, b) in c.fields.items()},
                }
                for c in self.changed
            ],
        }


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _row_json(row: RollupRow) -> dict[str, Any]:
    values: dict[str, Any] = {n: _json(row.number(n)) for n in COMPARED}
    values["units"] = list(row.units)
    return {"key": key_dict(row.key), "values": values}


def _values(row: RollupRow) -> dict[str, Number | tuple[str, ...]]:
    values: dict[str, Number | tuple[str, ...]] = {n: row.number(n) for n in COMPARED}
    values["units"] = row.units
    return values


def diff_rows(old: Sequence[RollupRow], new: Sequence[RollupRow]) -> Changes:
    """The changes from ``old`` rows to ``new`` rows, each list sorted by key."""
    before = {row.key: row for row in old}
    after = {row.key: row for row in new}
    changed = []
    for key in sorted(before.keys() & after.keys()):
        a, b = _values(before[key]), _values(after[key])
        fields = {name: (a[name], b[name]) for name in a if a[name] != b[name]}
        if fields:
            changed.append(RowChange(key, fields))
    return Changes(
        added=tuple(after[k] for k in sorted(after.keys() - before.keys())),
        removed=tuple(before[k] for k in sorted(before.keys() - after.keys())),
        changed=tuple(changed),
    )
