"""The one view of a roll-up that may leave the warehouse.

Every renderer (CSV, XLSX, HXL, HTML) reads a :class:`Publication` and nothing else. Rows of
kinds other than SGBV are published exactly. SGBV figures come from the disclosure-control
engine (:mod:`disclosure.engine`) and from nothing else: the month's exact SGBV rows are
summed to the engine's records, and the published SGBV rows are the engine's figures at its
one grain (region x activity with margins, incident types, sex and age, population type; see
``docs/sgbv.md``), never the exact rows' partner x origin x incident-type detail. A published
SGBV row has a blank key field for "all"; numbers the grain does not publish on a row are
``omitted`` (written empty), withheld ones are None (written ``x``).

Figures that add up several kinds (all people reached in a region, the sex/age pyramid) are
sums of published figures only; when an SGBV part is withheld they are marked ``partial``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from disclosure.engine import SgbvPublication, publish_sgbv
from disclosure.grain import EVENTS, PERSONS, FigureKey, Record
from rollups.model import COUNTS, KEY, NUMBERS, Number, RollupRow
from rollups.targets import TargetProgress
from schemas.refdata import Target
from schemas.vocabulary import CELLS, Kind

#: How a withheld number is written in CSV and XLSX (HXL leaves the cell empty).
SUPPRESSED_MARK = "x"

#: The kind whose small numbers are suppressed.
SENSITIVE_KIND = Kind.SGBV.value

#: The numbers kept for regions and partners.
AREA_NUMBERS: tuple[str, ...] = ("events", "persons")


@dataclass(frozen=True)
class Figure:
    """A number as published: ``value`` None when withheld; ``partial`` when it adds up only
    the published parts of a total some of whose parts are withheld (a lower bound)."""

    value: Number | None
    partial: bool = False

    @property
    def withheld(self) -> bool:
        return self.value is None


def total(figures: Iterable[Figure]) -> Figure:
    """The sum of published figures; partial when any part is withheld or partial, withheld
    when every part is."""
    parts = list(figures)
    shown = [f.value for f in parts if f.value is not None]
    partial = any(f.withheld or f.partial for f in parts)
    if not shown and partial:
        return Figure(None)
    return Figure(sum(shown, start=0), partial)


@dataclass(frozen=True)
class PublishedRow:
    """A roll-up row as published: its key, units and numbers (None where withheld)."""

    key: tuple[str, ...]
    units: tuple[str, ...]
    values: Mapping[str, Number | None]
    #: Numbers this row does not publish at all (not at the SGBV grain): written empty.
    omitted: frozenset[str] = frozenset()

    @property
    def kind(self) -> str:
        return self.key[KEY.index("kind")]

    def field(self, name: str) -> str:
        return self.key[KEY.index(name)]


@dataclass(frozen=True)
class PublishedProgress:
    """Progress against a target as published."""

    target: Target
    month: Figure
    year_to_date: Figure
    pace: float

    @property
    def share(self) -> float | None:
        value = self.year_to_date.value
        return None if value is None else float(value) / self.target.target


@dataclass(frozen=True)
class Publication:
    """Everything a roll-up publishes, with suppression applied."""

    month: str
    threshold: int
    rows: tuple[PublishedRow, ...]
    #: kind -> number -> figure, for every kind (in ``Kind`` order), empty kinds as zeros.
    by_kind: Mapping[str, Mapping[str, Figure]]
    #: (region, kind) -> events/persons, for every pair with a row.
    by_region: Mapping[tuple[str, str], Mapping[str, Figure]]
    #: (partner, kind) -> events/persons, for every pair with a row.
    by_partner: Mapping[tuple[str, str], Mapping[str, Figure]]
    progress: tuple[PublishedProgress, ...]
    #: Withheld numbers in the rows (for the reader's note).
    withheld: int
    #: The month's SGBV figures as the engine published them (every output's one source).
    sgbv: SgbvPublication | None = None

    def kind_total(self, name: str) -> Figure:
        """``name`` over every kind."""
        return total(numbers[name] for numbers in self.by_kind.values())

    def regions(self) -> list[str]:
        return sorted({region for region, _ in self.by_region})

    def region_total(self, region: str, name: str) -> Figure:
        """``name`` (events or persons) of ``region`` over every kind."""
        return total(v[name] for (r, _), v in self.by_region.items() if r == region)

    def partner_total(self, partner: str, name: str) -> Figure:
        """``name`` (events or persons) of ``partner`` over every kind."""
        return total(v[name] for (p, _), v in self.by_partner.items() if p == partner)

    def partner_rates_shown(self, partner: str) -> bool:
        """Whether a partner's rates (timeliness, reject rate) may be shown: only when its
        event count is published whole, since a rate and a count give away the other count."""
        events = self.partner_total(partner, "events")
        return not events.withheld and not events.partial


def is_sensitive(key: Sequence[str]) -> bool:
    """Whether a roll-up key is of the suppressed kind (its numbers never leave as such)."""
    return key[KEY.index("kind")] == SENSITIVE_KIND


# --- SGBV rows from the engine -----------------------------------------------------------------


def sgbv_records(rows: Iterable[RollupRow]) -> list[Record]:
    """The engine's input: the month's SGBV rows summed per region, indicator and population
    type (partner and origin are not dimensions of the published grain)."""
    sums: dict[tuple[str, str, str], tuple[int, list[int]]] = {}
    for row in rows:
        if row.kind != SENSITIVE_KIND:
            continue
        key = (row.region, row.indicator, row.population_type)
        events, cells = sums.get(key, (0, [0] * len(CELLS)))
        sums[key] = (events + row.events, [a + b for a, b in zip(cells, row.cells, strict=True)])
    return [Record(r, i, p, e, tuple(c)) for (r, i, p), (e, c) in sorted(sums.items())]


def _indicator(key: FigureKey) -> str:
    return f"{key.activity}.{key.incident}" if key.incident else key.activity


#: Tables whose rows carry the sex/age cells (their cells table), and those that do not.
_CELL_TABLES = {"total": "cell", "activity": "activity_cell"}


def sgbv_rows(sgbv: SgbvPublication) -> list[PublishedRow]:
    """The engine's figures as roll-up rows: one row per place of the grain (cells tables
    folded into the cells of their margin's row)."""
    out: list[PublishedRow] = []
    no_measures = frozenset(n for n in NUMBERS if n not in COUNTS)
    for key, value in sgbv.figures.items():
        if key.measure != PERSONS or key.table in _CELL_TABLES.values():
            continue
        values: dict[str, Number | None] = {n: 0 for n in NUMBERS}
        values[PERSONS] = value
        values[EVENTS] = sgbv.figures[FigureKey(**{**_fields(key), "measure": EVENTS})]
        omitted = set(no_measures)
        cells_table = _CELL_TABLES.get(key.table)
        for cell in CELLS:
            if cells_table is None:
                omitted.add(cell)
            else:
                fields = {**_fields(key), "table": cells_table, "cell": cell}
                values[cell] = sgbv.figures[FigureKey(**fields)]
        row_key = ("", key.region, SENSITIVE_KIND, key.population, "", _indicator(key))
        out.append(PublishedRow(row_key, (), values, frozenset(omitted)))
    return out


def _fields(key: FigureKey) -> dict[str, str]:
    return {
        "table": key.table,
        "measure": key.measure,
        "region": key.region,
        "activity": key.activity,
        "incident": key.incident,
        "population": key.population,
        "cell": key.cell,
    }


def _figure(value: int | None) -> Figure:
    return Figure(value)


def _sgbv_areas(sgbv: SgbvPublication) -> dict[tuple[str, str], dict[str, Figure]]:
    """Events and people per region, from the engine (every region of the grain)."""
    return {
        (region, SENSITIVE_KIND): {
            n: _figure(sgbv.value("region", n, region=region)) for n in AREA_NUMBERS
        }
        for region in sgbv.domain.regions
    }


def target_figure(target: Target, sgbv: SgbvPublication) -> FigureKey | None:
    """The published figure an SGBV target's month is measured by, if the grain has one: the
    target must name an activity and may name a region, no population type or origin."""
    activity, _, incident = target.indicator.partition(".")
    if target.population_type or target.origin or incident or not activity:
        return None
    measure = EVENTS if target.measure in ("events", "sessions") else PERSONS
    if target.region:
        return FigureKey("region_activity", measure, region=target.region, activity=activity)
    return FigureKey("activity", measure, activity=activity)


def _progress(
    progress: Sequence[TargetProgress], sgbv: SgbvPublication
) -> tuple[PublishedProgress, ...]:
    """Target progress as published. An SGBV target shows its month where the grain has its
    figure, and never a year to date (a sum over months is a figure of no month's audit)."""
    out = []
    for p in progress:
        if p.target.kind.value != SENSITIVE_KIND:
            out.append(PublishedProgress(p.target, Figure(p.month), Figure(p.year_to_date), p.pace))
            continue
        key = target_figure(p.target, sgbv)
        month = Figure(None if key is None else sgbv.figures.get(key))
        out.append(PublishedProgress(p.target, month, Figure(None), p.pace))
    return tuple(out)


def _exact_numbers(rows: Iterable[RollupRow], names: Sequence[str]) -> dict[str, Figure]:
    members = list(rows)
    return {name: Figure(sum((row.number(name) for row in members), start=0)) for name in names}


def _areas(rows: Sequence[RollupRow], attribute: str) -> dict[tuple[str, str], dict[str, Figure]]:
    """Events and people per (``attribute`` value, kind), other kinds than SGBV."""
    out: dict[tuple[str, str], dict[str, Figure]] = {}
    for value, kind in sorted({(getattr(row, attribute), row.kind) for row in rows}):
        if kind != SENSITIVE_KIND:
            members = [r for r in rows if getattr(r, attribute) == value and r.kind == kind]
            out[(value, kind)] = _exact_numbers(members, AREA_NUMBERS)
    return out


def publish(
    rows: Sequence[RollupRow],
    threshold: int,
    progress: Sequence[TargetProgress] = (),
    *,
    month: str = "",
    sgbv: SgbvPublication | None = None,
) -> Publication:
    """The publishable view of a month's rows and target progress (see the module's rules);
    ``sgbv``: the engine's publication of these rows when already made."""
    if sgbv is None:
        sgbv = publish_sgbv(sgbv_records(rows), threshold, month=month)
    published_rows = [
        PublishedRow(row.key, row.units, dict(row.numbers()))
        for row in rows
        if row.kind != SENSITIVE_KIND
    ]
    published_rows += sgbv_rows(sgbv)
    withheld = sum(v is None for r in published_rows for v in r.values.values())

    by_kind = {
        kind.value: _exact_numbers([row for row in rows if row.kind == kind.value], NUMBERS)
        for kind in Kind
    }
    by_kind[SENSITIVE_KIND].update(
        {
            EVENTS: _figure(sgbv.value("total", EVENTS)),
            PERSONS: _figure(sgbv.value("total", PERSONS)),
            **{c: _figure(sgbv.value("cell", PERSONS, cell=c)) for c in CELLS},
        }
    )
    by_partner = _areas(rows, "partner_id")
    for partner in sorted({r.partner_id for r in rows if r.kind == SENSITIVE_KIND}):
        # An SGBV partner's own figures are not published: its totals are partial.
        by_partner[(partner, SENSITIVE_KIND)] = {n: Figure(None) for n in AREA_NUMBERS}

    return Publication(
        month=month,
        threshold=threshold,
        rows=tuple(sorted(published_rows, key=lambda r: r.key)),
        by_kind=by_kind,
        by_region={**_areas(rows, "region"), **_sgbv_areas(sgbv)},
        by_partner=by_partner,
        progress=_progress(progress, sgbv),
        withheld=withheld,
        sgbv=sgbv,
    )
