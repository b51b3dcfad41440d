"""Progress against planning targets (``schemas/reference/targets.csv``).

A target names a kind, an indicator pattern, optional population type / origin / region
filters and a measure; it is annual. How a pattern matches an event's indicator: both are split
on ``.`` into parts; the pattern matches when it has no more parts than the indicator and each
of its parts is ``*`` or equal to the indicator's part at the same place. So ``*`` matches
everything of the kind, ``case_response`` matches ``case_response.rape`` (a whole-part
prefix; ``case`` does not), ``partner_staff.*`` matches ``partner_staff.prevention``, and
``voluntary_repatriation.departed`` only itself.

Measures: ``persons`` the ten cells summed; ``events`` the events; ``cases`` the durable
solutions and RSD casework ``cases`` field; ``sessions`` the HIV- and protection-training
``sessions`` field, and for kinds
without one (an SGBV prevention session is one event) the events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rollups.model import RollupRow
from schemas.refdata import Target
from schemas.vocabulary import Kind

#: Kinds whose payload counts sessions; elsewhere a session is an event.
SESSION_KINDS: frozenset[str] = frozenset({Kind.HIV_TRAINING.value, Kind.PROTECTION_TRAINING.value})


def indicator_matches(pattern: str, indicator: str) -> bool:
    """Whether target indicator ``pattern`` covers event indicator ``indicator``."""
    if pattern == "*":
        return True
    want, have = pattern.split("."), indicator.split(".")
    if len(want) > len(have):
        return False
    return all(w in ("*", h) for w, h in zip(want, have, strict=False))


def row_matches(target: Target, row: RollupRow) -> bool:
    """Whether ``row`` counts towards ``target`` (kind, indicator and the three filters)."""
    return (
        row.kind == target.kind.value
        and indicator_matches(target.indicator, row.indicator)
        and (target.population_type is None or row.population_type == target.population_type)
        and (target.origin is None or row.origin == target.origin)
        and (target.region is None or row.region == target.region)
    )


def measure_name(target: Target) -> str:
    """The roll-up number a target counts (``persons``, ``events``, ``sessions``, ``cases``)."""
    if target.measure == "sessions" and target.kind.value not in SESSION_KINDS:
        return "events"
    return target.measure


def actual(target: Target, rows: Iterable[RollupRow]) -> int:
    """What the rows achieved towards ``target``, in its measure."""
    name = measure_name(target)
    return sum(int(row.number(name)) for row in rows if row_matches(target, row))


@dataclass(frozen=True)
class TargetProgress:
    """A target with the month's achievement, the year's so far, and the share of the year
    elapsed at the month's end (``pace``: on track when ``share >= pace``)."""

    target: Target
    month: int
    year_to_date: int
    pace: float

    @property
    def share(self) -> float:
        return self.year_to_date / self.target.target


def progress(
    targets: Iterable[Target],
    year: int,
    month_number: int,
    month_rows: Sequence[RollupRow],
    year_rows: Sequence[RollupRow],
) -> tuple[TargetProgress, ...]:
    """Progress of the targets of ``year``: the month's rows and the year's rows up to and
    including the month."""
    return tuple(
        TargetProgress(
            target=t,
            month=actual(t, month_rows),
            year_to_date=actual(t, year_rows),
            pace=month_number / 12,
        )
        for t in targets
        if t.year == year
    )
