"""What an attacker holding every published figure can work out about a withheld one.

The microdata model: one unknown count per (region, indicator, population type, sex/age cell)
for people, and per (region, indicator, population type) for reports; an activity whose reports
always equal its people (one survivor per case response) shares the people unknowns. Every
published figure is one linear equation on those unknowns; all unknowns are >= 0. A withheld
figure's range is the minimum and maximum of its sum subject to all the equations: two linear
programmes, solved with SciPy's HiGHS (a maintained, exact-enough LP solver; the ranges are
integers, compared with a small tolerance). The same model serves the engine (deciding what to
withhold) and the attacker's test (which rebuilds the equations from the outputs themselves).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from disclosure.grain import CASE_RESPONSE, EVENTS, Domain, FigureKey

#: Slack for comparing LP optima with whole numbers.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Unknown:
    """One microdata count: people of a cell (``cell`` set) or reports (``cell`` empty)."""

    region: str
    activity: str
    incident: str
    population: str
    cell: str = ""


def unknowns(domain: Domain, tied: Collection[str]) -> list[Unknown]:
    """Every microdata count of a month; reports of ``tied`` activities have none of their own."""
    out: list[Unknown] = []
    for region in domain.regions:
        for activity in domain.activities:
            incidents = domain.incidents if activity == CASE_RESPONSE else ("",)
            for incident in incidents:
                for population in domain.populations:
                    out += [
                        Unknown(region, activity, incident, population, c) for c in domain.cells
                    ]
                    if activity not in tied:
                        out.append(Unknown(region, activity, incident, population))
    return out


class _Columns:
    """The unknowns' attributes as arrays, so a figure's unknowns are one vectorised mask."""

    def __init__(self, everything: Sequence[Unknown], tied: Collection[str]) -> None:
        self.values: dict[str, np.ndarray] = {
            name: np.array([getattr(u, name) for u in everything], dtype=object)
            for name in ("region", "activity", "incident", "population", "cell")
        }
        has_cell = self.values["cell"] != ""
        is_tied = np.array([u.activity in tied for u in everything], dtype=bool)
        self.persons = has_cell
        self.events = np.where(is_tied, has_cell, ~has_cell)

    def mask(self, key: FigureKey) -> np.ndarray:
        out: np.ndarray = (self.events if key.measure == EVENTS else self.persons).copy()
        for name, column in self.values.items():
            wanted = key.value_of(name)
            if wanted:
                out &= column == wanted
        return out


@dataclass(frozen=True)
class Range:
    """The values a withheld figure can take given everything published."""

    low: float
    high: float  # inf when unbounded

    def protects(self, threshold: int) -> bool:
        """Whether a reader can tell neither "none" from "some" nor "fewer than the threshold"
        from "the threshold or more"."""
        return self.low <= TOLERANCE and self.high >= threshold - TOLERANCE


class System:
    """The published equations of one month, ready to bound any figure."""

    def __init__(
        self,
        published: Mapping[FigureKey, int],
        domain: Domain,
        tied: Collection[str] = (),
    ) -> None:
        everything = unknowns(domain, frozenset(tied))
        columns = _Columns(everything, frozenset(tied))
        free = np.ones(len(everything), dtype=bool)
        for key, value in published.items():
            if value == 0:
                free &= ~columns.mask(key)
        self._columns = columns
        self._free = free
        rows = [(k, v) for k, v in published.items() if v != 0]
        dense = np.array([columns.mask(k)[free] for k, _ in rows], dtype=float)
        self._matrix = csr_matrix(dense.reshape(len(rows), int(free.sum())))
        self._rhs = np.array([float(v) for _, v in rows])

    def bounds(self, key: FigureKey) -> Range:
        """The minimum and maximum of ``key`` over every table consistent with the equations."""
        objective = self._columns.mask(key)[self._free].astype(float)
        if not objective.any():
            return Range(0.0, 0.0)
        low = self._solve(objective)
        high = self._solve(-objective)
        return Range(0.0 if low is None else low, float("inf") if high is None else -high)

    def _solve(self, objective: np.ndarray) -> float | None:
        """The LP's optimum, None when unbounded; ValueError when the equations disagree."""
        kwargs = {}
        if self._matrix.shape[0]:
            kwargs = {"A_eq": self._matrix, "b_eq": self._rhs}
        result = linprog(objective, bounds=(0, None), method="highs", **kwargs)
        if result.status == 3:
            return None
        if result.status != 0:
            raise ValueError(f"the published SGBV figures are inconsistent: {result.message}")
        return float(result.fun)
