"""The published SGBV grain: which figures exist, and what exact data they sum.

One month's SGBV figures are the cells and margins of a few small tables (``docs/sgbv.md``):

- ``region_activity``: region x activity (case response, referral, prevention, training), with
  its margins ``region``, ``activity`` and ``total``; people and reports;
- ``incident``: case responses by incident type, national only; people and reports;
- ``activity_cell``: activity x sex/age bracket, national only, with its margin ``cell``;
  people only;
- ``population``: population type, national only; people and reports.

Every figure of the grid is published (zeros too), so the existence of a row never says that
something happened; no partner, origin or regional incident type is ever a dimension.

A figure is a filter on the *microdata dimensions* (region, activity, incident type, population
type, sex/age cell); ``""`` means "all". Its value is the sum of the exact records it matches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from schemas.refdata import regions
from schemas.vocabulary import CELLS, IncidentType, PopulationType, SgbvActivity

#: The two measures: people reached (the ten sex/age cells summed) and reports (events).
PERSONS = "persons"
EVENTS = "events"
MEASURES: tuple[str, ...] = (PERSONS, EVENTS)

#: Microdata dimensions, in the order of :class:`FigureKey`'s fields.
DIMENSIONS: tuple[str, ...] = ("region", "activity", "incident", "population", "cell")

CASE_RESPONSE = SgbvActivity.CASE_RESPONSE.value

#: The tables of the grain: name -> dimensions it fixes (the others are "all").
TABLES: dict[str, tuple[str, ...]] = {
    "total": (),
    "region": ("region",),
    "activity": ("activity",),
    "region_activity": ("region", "activity"),
    "incident": ("activity", "incident"),
    "cell": ("cell",),
    "activity_cell": ("activity", "cell"),
    "population": ("population",),
}

#: Tables published for people only (reports have no sex and age).
PERSONS_ONLY: frozenset[str] = frozenset({"cell", "activity_cell"})


@dataclass(frozen=True, order=True, slots=True)
class FigureKey:
    """One figure of the grain (``""``: all values of that dimension)."""

    table: str
    measure: str
    region: str = ""
    activity: str = ""
    incident: str = ""
    population: str = ""
    cell: str = ""

    def value_of(self, dimension: str) -> str:
        value: str = getattr(self, dimension)
        return value

    @property
    def place(self) -> tuple[str, ...]:
        """The key without its measure: both measures of a place share one pattern."""
        return (self.table, self.region, self.activity, self.incident, self.population, self.cell)


@dataclass(frozen=True, slots=True)
class Record:
    """Exact SGBV totals of one (region, indicator, population type) in a month."""

    region: str
    indicator: str
    population_type: str
    events: int
    cells: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.cells) != len(CELLS):
            raise ValueError(f"an SGBV record has {len(CELLS)} cells, not {len(self.cells)}")

    @property
    def activity(self) -> str:
        return self.indicator.split(".", 1)[0]

    @property
    def incident(self) -> str:
        parts = self.indicator.split(".", 1)
        return parts[1] if len(parts) == 2 else ""


@dataclass(frozen=True)
class Domain:
    """The values each dimension ranges over (the reference lists)."""

    regions: tuple[str, ...]
    activities: tuple[str, ...] = tuple(a.value for a in SgbvActivity)
    incidents: tuple[str, ...] = tuple(i.value for i in IncidentType)
    populations: tuple[str, ...] = tuple(p.value for p in PopulationType)
    cells: tuple[str, ...] = CELLS

    @classmethod
    def reference(cls) -> Domain:
        return cls(regions=tuple(sorted(regions())))

    def values(self, dimension: str) -> tuple[str, ...]:
        return {
            "region": self.regions,
            "activity": self.activities,
            "incident": self.incidents,
            "population": self.populations,
            "cell": self.cells,
        }[dimension]

    def with_records(self, records: Iterable[Record]) -> Domain:
        """The domain widened by any code the records hold that the lists lack (a region
        retired from the reference list still has its history)."""
        extra = {r.region for r in records} - set(self.regions)
        return Domain(tuple(sorted({*self.regions, *extra})))


def figure_keys(domain: Domain) -> list[FigureKey]:
    """Every figure of the grain, in publication order."""
    out: list[FigureKey] = []
    for table, fixed in TABLES.items():
        for measure in MEASURES:
            if measure == EVENTS and table in PERSONS_ONLY:
                continue
            for combo in _combinations(domain, table, fixed):
                out.append(FigureKey(table, measure, **combo))
    return out


def _combinations(domain: Domain, table: str, fixed: Sequence[str]) -> Iterator[dict[str, str]]:
    combos: list[dict[str, str]] = [{}]
    for dimension in fixed:
        values = domain.values(dimension)
        if table == "incident" and dimension == "activity":
            values = (CASE_RESPONSE,)
        combos = [{**c, dimension: v} for c in combos for v in values]
    yield from combos


def matches(key: FigureKey, record: Record, cell: str | None = None) -> bool:
    """Whether ``record`` (its ``cell`` when given) counts towards ``key``."""
    return (
        (not key.region or key.region == record.region)
        and (not key.activity or key.activity == record.activity)
        and (not key.incident or key.incident == record.incident)
        and (not key.population or key.population == record.population_type)
        and (cell is None or not key.cell or key.cell == cell)
    )


def exact_value(key: FigureKey, records: Iterable[Record]) -> int:
    """The exact value of ``key`` over ``records``."""
    total = 0
    for record in records:
        if not matches(key, record):
            continue
        if key.measure == EVENTS:
            total += record.events
        elif key.cell:
            total += record.cells[CELLS.index(key.cell)]
        else:
            total += sum(record.cells)
    return total


def parent_groups(keys: Sequence[FigureKey]) -> list[tuple[FigureKey, list[FigureKey]]]:
    """(parent, children) for every figure that is the sum of other figures of the grain
    along one dimension (a region total and its activities, the total and its regions...)."""
    by_place = {k: k for k in keys}
    out: list[tuple[FigureKey, list[FigureKey]]] = []
    for parent in keys:
        for child_table, fixed in TABLES.items():
            parent_fixed = set(TABLES[parent.table])
            added = set(fixed) - parent_fixed
            if not parent_fixed <= set(fixed) or len(added) != 1:
                continue
            if child_table == "incident" and parent.activity != CASE_RESPONSE:
                continue
            if child_table == "incident" and parent.table != "activity":
                continue
            children = [
                k
                for k in by_place
                if k.table == child_table
                and k.measure == parent.measure
                and all(k.value_of(d) == parent.value_of(d) for d in parent_fixed)
            ]
            if children:
                out.append((parent, children))
    return out
