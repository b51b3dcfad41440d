"""A roll-up row: the totals of one month for one key, exactly as computed from the facts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from schemas.vocabulary import CELLS
from warehouse.tables import ROLLUP_KEY

#: What a roll-up row is "per", in its sort order (the month is the roll-up's own).
KEY: tuple[str, ...] = ROLLUP_KEY

#: Kind measures summed as exact decimals (partners send them as JSON numbers).
DECIMAL_MEASURES: tuple[str, ...] = ("quantity", "value_usd", "hours")

#: Kind measures that are whole numbers.
INT_MEASURES: tuple[str, ...] = ("sessions", "cases", "curriculum_sessions")

#: Every number a row publishes, in column order; ``persons`` is the sum of the ten cells.
NUMBERS: tuple[str, ...] = (
    "events",
    "persons",
    *CELLS,
    "quantity",
    "value_usd",
    "sessions",
    "hours",
    "cases",
    "curriculum_sessions",
)

#: The numbers that are counts of people or events (what SGBV suppression is about).
COUNTS: tuple[str, ...] = ("events", "persons", *CELLS)

Number = int | Decimal


@dataclass(frozen=True, slots=True)
class RollupRow:
    """Totals of one key for one month: active events (newest revision), the ten sex/age cells
    (``schemas.vocabulary.CELLS`` order) and the kind measures; ``units`` are the distinct
    units ``quantity`` was reported in (assistance only: a sum over several units is a sum of
    unlike things, so the units travel with it)."""

    partner_id: str
    region: str
    kind: str
    population_type: str
    origin: str
    indicator: str
    events: int
    cells: tuple[int, ...]
    quantity: Decimal = Decimal(0)
    units: tuple[str, ...] = ()
    value_usd: Decimal = Decimal(0)
    sessions: int = 0
    hours: Decimal = Decimal(0)
    cases: int = 0
    #: Protection-training sessions that are part of a university's or school's curriculum.
    curriculum_sessions: int = 0

    def __post_init__(self) -> None:
        if len(self.cells) != len(CELLS):
            raise ValueError(f"a roll-up row has {len(CELLS)} cells, not {len(self.cells)}")

    @property
    def key(self) -> tuple[str, ...]:
        return (
            self.partner_id,
            self.region,
            self.kind,
            self.population_type,
            self.origin,
            self.indicator,
        )

    @property
    def persons(self) -> int:
        """People reached: the sum of the ten cells."""
        return sum(self.cells)

    def number(self, name: str) -> Number:
        """The row's value of ``name`` (one of :data:`NUMBERS`)."""
        if name == "persons":
            return self.persons
        if name in CELLS:
            return self.cells[CELLS.index(name)]
        if name in NUMBERS:
            value: Number = getattr(self, name)
            return value
        raise KeyError(f"not a roll-up number: {name}")

    def numbers(self) -> dict[str, Number]:
        """Every number of the row by name, in :data:`NUMBERS` order."""
        return {name: self.number(name) for name in NUMBERS}


def key_dict(key: tuple[str, ...]) -> dict[str, str]:
    """A row key as a dict of :data:`KEY` names."""
    return dict(zip(KEY, key, strict=True))
