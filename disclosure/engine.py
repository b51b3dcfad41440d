"""The SGBV disclosure-control engine: one month's exact records in, the published figures out.

The rule (``docs/sgbv.md``), applied to every figure of the grain (:mod:`disclosure.grain`)
of both measures at once, since a place's people and reports are withheld together:

1. **Primary suppression**: a figure from 1 to ``threshold - 1`` is withheld.
2. **Complementary suppression**: each primary figure must stay *protected* against the whole
   published table — given every published figure and non-negativity, it can still be 0 and
   can still be ``threshold`` or more (:class:`disclosure.audit.Range`). While one is not, the
   smallest published non-zero figure next to it (a sibling under a published total, else a
   sibling under any total, else any figure overlapping it) is withheld too. Withholding only
   widens ranges, so each figure is settled once; withholding everything always protects, so
   the loop ends.
3. Zeros are published (a zero says nothing about a survivor), and every figure of the grid is
   published, so no figure's presence says that something happened.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from disclosure.audit import Model, Range
from disclosure.grain import (
    PERSONS,
    Domain,
    FigureKey,
    Record,
    exact_value,
    figure_keys,
    parent_groups,
)

log = logging.getLogger(__name__)

#: The default suppression threshold (GBVIMS practice: fewer than 5 is not shown).
DEFAULT_THRESHOLD = 5


@dataclass(frozen=True)
class SgbvPublication:
    """One month's SGBV figures as they may leave: every figure of the grain, None where
    withheld. Nothing else about the month's SGBV data may be published."""

    month: str
    threshold: int
    domain: Domain
    figures: Mapping[FigureKey, int | None]

    def value(self, table: str, measure: str = PERSONS, **dims: str) -> int | None:
        """The published value of one figure (None: withheld); KeyError if not in the grain."""
        return self.figures[FigureKey(table, measure, **dims)]

    def table(self, name: str) -> list[tuple[FigureKey, int | None]]:
        """The figures of one table, in grain order."""
        return [(k, v) for k, v in self.figures.items() if k.table == name]

    @property
    def withheld(self) -> int:
        return sum(v is None for v in self.figures.values())

    def published(self) -> dict[FigureKey, int]:
        return {k: v for k, v in self.figures.items() if v is not None}


def tied_activities(records: Iterable[Record], domain: Domain) -> frozenset[str]:
    """Activities whose reports equal their people in every record (one survivor per case):
    a reader may know that rule, so the audit assumes it wherever the data allow it."""
    rows = list(records)
    return frozenset(
        a
        for a in domain.activities
        if all(r.events == sum(r.cells) for r in rows if r.activity == a)
    )


def _overlaps(a: FigureKey, b: FigureKey) -> bool:
    return all(
        not a.value_of(d) or not b.value_of(d) or a.value_of(d) == b.value_of(d)
        for d in ("region", "activity", "incident", "population", "cell")
    )


class _Pattern:
    """The withheld places, and the choice of complementary ones."""

    def __init__(self, exact: Mapping[FigureKey, int], threshold: int) -> None:
        self.exact = exact
        self.threshold = threshold
        self.withheld = {k.place for k, v in exact.items() if 0 < v < threshold}
        self.groups = parent_groups(list(exact))

    def published(self) -> dict[FigureKey, int]:
        return {k: v for k, v in self.exact.items() if k.place not in self.withheld}

    def complement(self, key: FigureKey, binding: Sequence[FigureKey]) -> tuple[str, ...] | None:
        """The next place to withhold so that ``key`` is better protected: the smallest of the
        published figures whose equations bind its range, else of its neighbours."""

        def shown(k: FigureKey) -> bool:
            return k.place not in self.withheld and self.exact[k] > 0

        bound = [k for k in binding if shown(k)]
        if bound:
            return min(bound, key=lambda k: (self.exact[k], k)).place

        # Totals over withheld figures that share microdata with ``key``, in either measure
        # (reports tied to people make the people's tables bound the reports too).
        tiers: list[list[FigureKey]] = [[], []]
        for parent, children in self.groups:
            if any(c.place in self.withheld and _overlaps(c, key) for c in children):
                tier = 0 if parent.place not in self.withheld else 1
                tiers[tier] += [c for c in children if shown(c)]
        tiers.append([k for k in self.exact if shown(k) and _overlaps(k, key)])
        for candidates in tiers:
            if candidates:
                best = min(candidates, key=lambda k: (self.exact[k], k))
                return best.place
        return None


def publish_sgbv(
    records: Sequence[Record],
    threshold: int = DEFAULT_THRESHOLD,
    *,
    month: str = "",
    domain: Domain | None = None,
) -> SgbvPublication:
    """The published SGBV figures of one month's exact ``records``."""
    if threshold < 1:
        raise ValueError("the suppression threshold must be 1 or more")
    started = time.perf_counter()
    domain = (domain or Domain.reference()).with_records(records)
    keys = figure_keys(domain)
    exact = {k: exact_value(k, records) for k in keys}
    tied = tied_activities(records, domain)
    pattern = _Pattern(exact, threshold)
    model = Model(domain, tied)
    sensitive = sorted(k for k, v in exact.items() if 0 < v < threshold)
    solves = 0
    for key in sensitive:
        while True:
            solves += 1
            found = _range(pattern, model, key, threshold)
            if found.protects(threshold):
                break
            place = pattern.complement(key, found.binding)
            if place is None:  # nothing left to withhold near it: withhold everything
                pattern.withheld |= {k.place for k in keys}
                break
            pattern.withheld.add(place)
    figures = {k: (None if k.place in pattern.withheld else v) for k, v in exact.items()}
    log.info(
        "SGBV %s: %d figures, %d withheld (%d below %d), %d audits, %.2f s",
        month,
        len(figures),
        sum(v is None for v in figures.values()),
        len(sensitive),
        threshold,
        solves,
        time.perf_counter() - started,
    )
    return SgbvPublication(month, threshold, domain, figures)


def _range(pattern: _Pattern, model: Model, key: FigureKey, threshold: int) -> Range:
    return model.system(pattern.published()).bounds(key, threshold)
