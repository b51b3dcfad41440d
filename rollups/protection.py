"""The roll-up's protection tables: trainings by audience, and the RSD pipeline.

Both are sums of the published rows of their kind (``protection_training``, ``rsd_casework``),
which are published exactly (only SGBV rows are suppressed), so every renderer shows the same
numbers the CSV holds. The RSD pipeline lists every stage in procedure order, zeros included,
and by origin the decisions of the month with UNHCR's refugee recognition rate (recognized over
recognized + complementary protection + rejected: "otherwise closed" files are not decisions
on the merits and are left out of the rate, as in UNHCR's statistics).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from rollups.suppress import Publication, PublishedRow
from schemas.vocabulary import (
    CELLS,
    Kind,
    ProtectionAudience,
    RsdInstance,
    RsdProcedure,
    RsdStage,
)

#: The pipeline's columns: each procedure at each instance, in this order.
RSD_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (p.value, i.value) for p in RsdProcedure for i in RsdInstance
)
_FEMALE = tuple(c for c in CELLS if c.startswith("female_"))


def _int(row: PublishedRow, name: str) -> int:
    value = row.values[name]
    if value is None:  # only SGBV numbers are ever withheld
        raise ValueError(f"{row.kind} row {row.key} has {name} withheld")
    return int(value)


def _rows(publication: Publication, kind: Kind) -> list[PublishedRow]:
    return [row for row in publication.rows if row.kind == kind.value]


@dataclass(frozen=True)
class TrainingLine:
    """Protection trainings of one audience in the month (``audience`` ``"all"`` for the total)."""

    audience: str
    trainings: int = 0
    sessions: int = 0
    curriculum_sessions: int = 0
    hours: Decimal = Decimal(0)
    female: int = 0
    male: int = 0
    regions: tuple[str, ...] = ()

    @property
    def participants(self) -> int:
        return self.female + self.male


def _training_line(audience: str, rows: Iterable[PublishedRow]) -> TrainingLine:
    rows = list(rows)
    female = sum(_int(r, c) for r in rows for c in _FEMALE)
    return TrainingLine(
        audience=audience,
        trainings=sum(_int(r, "events") for r in rows),
        sessions=sum(_int(r, "sessions") for r in rows),
        curriculum_sessions=sum(_int(r, "curriculum_sessions") for r in rows),
        hours=sum((Decimal(r.values["hours"] or 0) for r in rows), start=Decimal(0)),
        female=female,
        male=sum(_int(r, "persons") for r in rows) - female,
        regions=tuple(sorted({r.field("region") for r in rows})),
    )


def training_table(publication: Publication) -> tuple[TrainingLine, ...]:
    """One line per audience trained this month (vocabulary order), then the total."""
    rows = _rows(publication, Kind.PROTECTION_TRAINING)
    by_audience: dict[str, list[PublishedRow]] = {}
    for row in rows:
        by_audience.setdefault(row.field("indicator").split(".")[0], []).append(row)
    lines = [
        _training_line(a.value, by_audience[a.value])
        for a in ProtectionAudience
        if a.value in by_audience
    ]
    return (*lines, _training_line("all", rows))


@dataclass(frozen=True)
class PipelineLine:
    """Cases and persons at one RSD stage, by procedure and instance (:data:`RSD_COLUMNS`)."""

    stage: str
    cases: dict[tuple[str, str], int] = field(default_factory=dict)
    persons: int = 0

    @property
    def total_cases(self) -> int:
        return sum(self.cases.values())


def rsd_pipeline(publication: Publication) -> tuple[PipelineLine, ...]:
    """Every RSD stage in procedure order, zeros included, then ``all``."""
    cases: dict[str, dict[tuple[str, str], int]] = {s.value: {} for s in RsdStage}
    persons: dict[str, int] = dict.fromkeys(cases, 0)
    for row in _rows(publication, Kind.RSD_CASEWORK):
        procedure, instance, stage = row.field("indicator").split(".")
        column = (procedure, instance)
        cases[stage][column] = cases[stage].get(column, 0) + _int(row, "cases")
        persons[stage] += _int(row, "persons")
    lines = [
        PipelineLine(s, {c: cases[s].get(c, 0) for c in RSD_COLUMNS}, persons[s]) for s in cases
    ]
    total = {c: sum(line.cases[c] for line in lines) for c in RSD_COLUMNS}
    return (*lines, PipelineLine("all", total, sum(persons.values())))


@dataclass(frozen=True)
class OriginDecisions:
    """Per country of origin: cases submitted and decided this month, any procedure."""

    origin: str
    submitted: int = 0
    recognized: int = 0
    complementary_protection: int = 0
    rejected: int = 0
    closed: int = 0

    @property
    def recognition_rate(self) -> float | None:
        """UNHCR's refugee recognition rate: recognized over decisions on the merits."""
        merits = self.recognized + self.complementary_protection + self.rejected
        return self.recognized / merits if merits else None


_COUNTED = ("submitted", "recognized", "complementary_protection", "rejected", "closed")


def rsd_by_origin(publication: Publication) -> tuple[OriginDecisions, ...]:
    """Submissions and decisions (cases) by origin, origins sorted; origins with none left out."""
    counts: dict[str, dict[str, int]] = {}
    for row in _rows(publication, Kind.RSD_CASEWORK):
        stage = row.field("indicator").split(".")[2]
        if stage in _COUNTED:
            per = counts.setdefault(row.field("origin"), dict.fromkeys(_COUNTED, 0))
            per[stage] += _int(row, "cases")
    return tuple(OriginDecisions(origin, **per) for origin, per in sorted(counts.items()))
