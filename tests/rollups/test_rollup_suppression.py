"""SGBV suppression, checked as a property over many random months of SGBV rows.

The checker is independent of the implementation: it writes every number the publication
shows as a linear equation over the true (hidden) numbers, as a reader could, adds what a
reader can know (a case response's events equal its people), and asks numpy whether any
withheld number is pinned down, i.e. orthogonal to the null space of the equations.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from rollups.model import COUNTS, RollupRow
from rollups.suppress import Audit, Figure, Publication, publish, total
from rollups.targets import TargetProgress, measure_name, row_matches
from schemas.refdata import Target
from schemas.vocabulary import CELLS

INDICATORS = (
    "case_response.rape",
    "case_response.physical_assault",
    "referral",
    "prevention_session",
)
SGBV_TARGETS = (
    Target(
        year=2006,
        kind="sgbv",
        indicator="prevention_session",
        measure="sessions",
        target=24,
        source="test",
    ),
    Target(
        year=2006,
        kind="sgbv",
        indicator="case_response",
        measure="persons",
        region="KZ-75",
        target=50,
        source="test",
    ),
    Target(year=2006, kind="sgbv", indicator="*", measure="events", target=100, source="test"),
)


def random_rows(rng: random.Random) -> list[RollupRow]:
    """A month of SGBV rows: small cells common, case responses one survivor per event."""
    rows = {}
    for _ in range(rng.randint(1, 14)):
        indicator = rng.choice(INDICATORS)
        key = (rng.choice(("wcc_a", "wcc_b")), rng.choice(("KZ-75", "KZ-19", "KZ-61")), indicator)
        cells = [0] * len(CELLS)
        for c in rng.sample(range(len(CELLS)), rng.randint(1, 5)):
            cells[c] = rng.choice((rng.randint(1, 4), rng.randint(1, 4), rng.randint(5, 30)))
        persons = sum(cells)
        if indicator.startswith("case_response"):
            events = persons
        else:
            events = rng.choice((rng.randint(1, 4), rng.randint(1, persons)))
        rows[key] = RollupRow(
            key[0], key[1], "sgbv", "refugee", "RUS", indicator, events, tuple(cells)
        )
    return list(rows.values())


def other_rows() -> list[RollupRow]:
    return [
        RollupRow(
            "redcres",
            "KZ-75",
            "assistance",
            "refugee",
            "RUS",
            "food",
            3,
            (1, 2, 0, 3, 0, 1, 0, 0, 2, 0),
        )
    ]


@dataclass
class Equations:
    """Linear equations over the hidden numbers: cells (row, cell) and events (row)."""

    rows: int

    def __post_init__(self) -> None:
        self.width = self.rows * (len(CELLS) + 1)
        self.equations: list[np.ndarray] = []

    def var(self, i: int, name: str) -> np.ndarray:
        v = np.zeros(self.width)
        if name == "persons":
            for c in range(len(CELLS)):
                v[i * (len(CELLS) + 1) + c] = 1
        elif name == "events":
            v[i * (len(CELLS) + 1) + len(CELLS)] = 1
        else:
            v[i * (len(CELLS) + 1) + CELLS.index(name)] = 1
        return v

    def form(self, members: Sequence[int], name: str) -> np.ndarray:
        return sum((self.var(i, name) for i in members), np.zeros(self.width))

    def null_space(self) -> tuple[np.ndarray, np.ndarray]:
        """Which numbers are still unknown (a mask), and a basis (rows) of the vectors over
        them that every equation is blind to. A number with an equation of its own is known
        and leaves the system."""
        known = np.zeros(self.width, dtype=bool)
        for e in self.equations:
            if np.count_nonzero(e) == 1:
                known |= e != 0
        unknown = ~known
        rest = [e[unknown] for e in self.equations if np.any(e[unknown])]
        if not rest:
            return unknown, np.eye(int(unknown.sum()))
        a = np.array(rest)
        _, s, vt = np.linalg.svd(a)
        tol = s.max() * max(a.shape) * np.finfo(float).eps
        return unknown, vt[(s > tol).sum() :]


def determined(space: tuple[np.ndarray, np.ndarray], vector: np.ndarray) -> bool:
    """Whether the equations pin down ``vector``'s value: its unknown part is orthogonal to
    every vector they are blind to."""
    unknown, null = space
    return bool(np.all(np.abs(null @ vector[unknown]) < 1e-8))


def shown_counts(pub: Publication) -> Iterator[tuple[str, Figure]]:
    """Every SGBV count the publication shows, with where it is shown."""
    for r, row in enumerate(pub.rows):
        if row.kind == "sgbv":
            for name in COUNTS:
                yield f"row {r} {name}", Figure(row.values[name])
    for name in COUNTS:
        yield f"kind {name}", pub.by_kind["sgbv"][name]
    for where, figures in ({**pub.by_region, **pub.by_partner}).items():
        if where[1] == "sgbv":
            for name, figure in figures.items():
                yield f"{where} {name}", figure
    for p in pub.progress:
        yield f"target {p.target.indicator} month", p.month
        yield f"target {p.target.indicator} ytd", p.year_to_date


def check(rows: list[RollupRow], threshold: int, progress: Sequence[TargetProgress]) -> None:
    pub = publish(rows + other_rows(), threshold, progress)
    sgbv = [r for r in pub.rows if r.kind == "sgbv"]
    # 1. Nothing small is shown.
    for where, figure in shown_counts(pub):
        assert figure.value is None or not 0 < figure.value < threshold, where
    # 2. Other kinds are untouched.
    assert pub.rows[-1].values == dict(other_rows()[0].numbers())
    # 3. No row total gives a lone withheld cell away, yet every row total not small is
    #    shown (the next smallest cell is withheld instead), and so is every event count.
    for row, exact in zip(sgbv, rows, strict=True):
        hidden = [c for c in CELLS if row.values[c] is None]
        assert len(hidden) != 1 or row.values["persons"] is None, row
        assert (row.values["persons"] is None) == (0 < exact.persons < threshold), row
        assert (row.values["events"] is None) == (0 < exact.events < threshold), row
    # 4. No withheld number can be worked out from all that is shown.
    eq = Equations(len(rows))
    withheld: list[tuple[str, np.ndarray]] = []

    def shown(vector: np.ndarray, value: object, where: str) -> None:
        if value is None:
            withheld.append((where, vector))
        else:
            eq.equations.append(vector)

    for i, (row, exact) in enumerate(zip(sgbv, rows, strict=True)):
        for name in ("events", "persons", *CELLS):
            shown(eq.var(i, name), row.values[name], f"row {i} {name}")
        if exact.events == exact.persons:  # a reader may know one survivor per case
            eq.equations.append(eq.var(i, "events") - eq.var(i, "persons"))
    everyone = range(len(rows))
    for name in COUNTS:
        shown(eq.form(everyone, name), pub.by_kind["sgbv"][name].value, f"kind {name}")
    for attribute, figures in (("region", pub.by_region), ("partner_id", pub.by_partner)):
        for (value, kind), numbers in figures.items():
            if kind != "sgbv":
                continue
            members = [i for i in everyone if getattr(rows[i], attribute) == value]
            for name, figure in numbers.items():
                shown(eq.form(members, name), figure.value, f"{value} {name}")
    for p in pub.progress:
        members = [i for i in everyone if row_matches(p.target, rows[i])]
        shown(eq.form(members, measure_name(p.target)), p.month.value, p.target.indicator)
    space = eq.null_space()
    for where, vector in withheld:
        assert not determined(space, vector), f"{where} can be worked out (threshold {threshold})"


def progress_of(rows: list[RollupRow], rng: random.Random) -> list[TargetProgress]:
    out = []
    for t in SGBV_TARGETS:
        month = sum(int(r.number(measure_name(t))) for r in rows if row_matches(t, r))
        out.append(TargetProgress(t, month, month + rng.choice((0, 2, 40)), 0.25))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_no_withheld_sgbv_number_can_be_recovered(seed: int) -> None:
    for n in range(10):
        rng = random.Random(seed * 1000 + n)
        rows = random_rows(rng)
        check(rows, rng.choice((3, 5, 5, 10)), progress_of(rows, rng))


def test_the_next_smallest_cell_is_suppressed_with_a_lone_small_one() -> None:
    cells = (0, 0, 2, 9, 7, 0, 0, 0, 30, 0)  # 2 is small; 7 is the next smallest non-zero
    row = RollupRow("wcc_a", "KZ-75", "sgbv", "refugee", "RUS", "referral", 12, cells)
    shown = publish([row], 5).rows[0].values
    assert [c for c in CELLS if shown[c] is None] == ["female_12_17", "female_60_plus"]
    assert shown["persons"] == 48
    assert shown["events"] == 12


def test_a_column_total_that_would_reveal_a_lone_withheld_cell_is_withheld() -> None:
    a = RollupRow(
        "wcc_a", "KZ-75", "sgbv", "refugee", "RUS", "referral", 9, (0, 0, 0, 3, 6, 0, 0, 0, 0, 0)
    )  # 3 small, 6 its complement
    b = RollupRow(
        "wcc_a", "KZ-75", "sgbv", "refugee", "RUS", "training", 9, (0, 0, 0, 20, 9, 0, 0, 0, 0, 0)
    )
    pub = publish([a, b], 5)
    kind = pub.by_kind["sgbv"]
    # female_18_59 = 3 + 20: with b's 20 shown, the column total would give 3 away.
    assert kind["female_18_59"].withheld
    assert kind["female_60_plus"].withheld
    assert kind["persons"].value == 38  # withheld cells: the total reveals only their sum


def test_threshold_one_suppresses_nothing_and_totals_add_up() -> None:
    rows = random_rows(random.Random(3))
    pub = publish(rows, 1)
    assert all(v is not None for r in pub.rows for v in r.values.values())
    assert pub.by_kind["sgbv"]["persons"].value == sum(r.persons for r in rows)
    assert pub.kind_total("events") == Figure(sum(r.events for r in rows))


def test_totals_of_published_parts_are_marked_partial() -> None:
    assert total([Figure(3), Figure(None), Figure(10)]) == Figure(13, partial=True)
    assert total([Figure(None)]) == Figure(None)
    assert total([Figure(3), Figure(4, partial=True)]) == Figure(7, partial=True)
    assert total([]) == Figure(0)


def test_the_audit_catches_what_two_per_line_misses() -> None:
    """Every published sum has two unknowns, yet one unknown is pinned down: a path into an
    even cycle (x0+x1, x1+x2+x3, x2+x4, x4+x5, x3+x5 give x1 + x2 + x3 and x2 + x3, so x1)."""
    audit = Audit()
    for unknown in range(6):
        audit.protect({unknown: 1})
    assert audit.publish({1: 1, 2: 1, 3: 1})
    assert audit.publish({2: 1, 4: 1})
    assert audit.publish({4: 1, 5: 1})
    assert not audit.publish({3: 1, 5: 1})  # would give x2 + x3, hence x1
    assert audit.publish({0: 1, 1: 1})  # x0 + x1 reveals nothing more
    assert audit.publish({0: 2, 1: 2})  # implied by what is published: nothing new
    assert not audit.publish({0: 1, 1: 1, 2: 1, 3: 1})  # with x0 + x1: x2 + x3, hence x1
    with pytest.raises(ValueError, match="already revealed"):
        audit.protect({0: 1, 1: 1})
