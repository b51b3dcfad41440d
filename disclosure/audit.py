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
    """The unknowns' attributes as integer-coded arrays, so a figure's unknowns are one
    vectorised mask."""

    def __init__(self, everything: Sequence[Unknown], tied: Collection[str]) -> None:
        self.codes: dict[str, dict[str, int]] = {}
        self.values: dict[str, np.ndarray] = {}
        for name in ("region", "activity", "incident", "population", "cell"):
            column = [getattr(u, name) for u in everything]
            codes = {v: i for i, v in enumerate(sorted(set(column)))}
            self.codes[name] = codes
            self.values[name] = np.array([codes[v] for v in column], dtype=np.int32)
        has_cell = np.array([bool(u.cell) for u in everything], dtype=bool)
        is_tied = np.array([u.activity in tied for u in everything], dtype=bool)
        self.persons = has_cell
        self.events = np.where(is_tied, has_cell, ~has_cell)

    def mask(self, key: FigureKey) -> np.ndarray:
        out: np.ndarray = (self.events if key.measure == EVENTS else self.persons).copy()
        for name, column in self.values.items():
            wanted = key.value_of(name)
            if wanted:
                code = self.codes[name].get(wanted)
                if code is None:
                    return np.zeros_like(out)
                out &= column == code
        return out


@dataclass(frozen=True)
class Range:
    """The values a withheld figure can take given everything published; ``binding``: the
    published figures whose equations set the bound that fails to protect (if any)."""

    low: float
    high: float  # inf when unbounded
    binding: tuple[FigureKey, ...] = ()

    def protects(self, threshold: int) -> bool:
        """Whether a reader can tell neither "none" from "some" nor "fewer than the threshold"
        from "the threshold or more"."""
        return self.low <= TOLERANCE and self.high >= threshold - TOLERANCE


class Model:
    """The microdata model of one month: every figure's unknowns, computed once."""

    def __init__(self, domain: Domain, tied: Collection[str] = ()) -> None:
        self.columns = _Columns(unknowns(domain, frozenset(tied)), frozenset(tied))
        self._masks: dict[FigureKey, np.ndarray] = {}

    def mask(self, key: FigureKey) -> np.ndarray:
        found = self._masks.get(key)
        if found is None:
            found = self._masks[key] = self.columns.mask(key)
        return found

    def system(self, published: Mapping[FigureKey, int]) -> System:
        return System(published, self)


class System:
    """The published equations of one month, ready to bound any figure."""

    def __init__(self, published: Mapping[FigureKey, int], model: Model) -> None:
        free = np.ones(len(model.columns.persons), dtype=bool)
        for key, value in published.items():
            if value == 0:
                free &= ~model.mask(key)
        self._model = model
        self._free = free
        rows = [(k, v) for k, v in published.items() if v != 0]
        self._keys = [k for k, _ in rows]
        dense = np.array([model.mask(k)[free] for k, _ in rows], dtype=float)
        self._matrix = csr_matrix(dense.reshape(len(rows), int(free.sum())))
        self._rhs = np.array([float(v) for _, v in rows])

    def bounds(self, key: FigureKey, threshold: int | None = None) -> Range:
        """The minimum and maximum of ``key`` over every table consistent with the equations;
        with ``threshold``, also the equations that bind a bound that does not protect."""
        objective = self._model.mask(key)[self._free].astype(float)
        if not objective.any():
            return Range(0.0, 0.0)
        low, low_duals = self._solve(objective)
        high, high_duals = self._solve(-objective)
        low_value = 0.0 if low is None else low
        high_value = float("inf") if high is None else -high
        binding: list[FigureKey] = []
        if threshold is not None:
            if low_value > TOLERANCE:
                binding += self._binding(low_duals)
            if high_value < threshold - TOLERANCE:
                binding += self._binding(high_duals)
        return Range(low_value, high_value, tuple(binding))

    def _binding(self, duals: np.ndarray | None) -> list[FigureKey]:
        if duals is None:
            return []
        return [self._keys[i] for i in np.flatnonzero(np.abs(duals) > TOLERANCE)]

    def _solve(self, objective: np.ndarray) -> tuple[float | None, np.ndarray | None]:
        """The LP's optimum (None when unbounded) and the equations' duals; ValueError when
        the equations disagree."""
        if not self._matrix.shape[0]:
            return (0.0, None) if (objective >= 0).all() else (None, None)
        result = linprog(
            objective, A_eq=self._matrix, b_eq=self._rhs, bounds=(0, None), method="highs"
        )
        if result.status == 3:
            return None, None
        if result.status != 0:
            raise ValueError(f"the published SGBV figures are inconsistent: {result.message}")
        return float(result.fun), np.asarray(result.eqlin.marginals)
