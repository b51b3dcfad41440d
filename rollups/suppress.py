"""SGBV suppression: the one view of a roll-up that may leave the warehouse.

GBVIMS practice: SGBV figures are shared only as aggregates, and small numbers are not shown.
Every renderer (CSV, XLSX, HXL, HTML) reads a :class:`Publication` and nothing else, so the rules
hold in every output alike. For the rows of kind ``sgbv`` (other kinds are published exactly):

1. **Primary suppression.** A count (an event count, a sex/age cell, a total of people) from 1
   to ``threshold - 1`` is withheld.
2. **Complementary suppression in the row.** A row whose people total is published and which
   has exactly one withheld cell also withholds its next smallest non-zero cell, so the row
   total does not give the withheld cell away.
3. **Totals are audited.** Every other total published about SGBV rows (a row's people and
   events, the kind's totals per cell, per region, per partner, progress against SGBV targets)
   is a sum of cells or events. Each is published, in that order, only if no withheld number
   (a withheld cell, a withheld event count, a withheld small total) can then be worked out
   exactly from everything published, by any combination of sums and differences. The audit
   is exact linear algebra over the withheld numbers (rationals, no rounding).

Where a row's event count equals its people total (one survivor per case response), the two
are treated as the same number, since a reader can know that rule.

Figures that add up several kinds (all people reached in a region, the sex/age pyramid) are
sums of published figures only; when an SGBV part is withheld they are marked ``partial``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from rollups.model import COUNTS, KEY, NUMBERS, Number, RollupRow
from rollups.targets import TargetProgress, measure_name, row_matches
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


# --- the audit ------------------------------------------------------------------------------

Vector = dict[int, Fraction]


def _eliminate(vector: Vector, pivot: int, row: Vector) -> None:
    """Subtract the multiple of ``row`` (1 at ``pivot``) that zeroes ``vector`` at ``pivot``."""
    factor = vector.get(pivot)
    if not factor:
        return
    for column, value in row.items():
        new = vector.get(column, Fraction(0)) - factor * value
        if new:
            vector[column] = new
        else:
            vector.pop(column, None)


def _parallel(a: Vector, b: Vector) -> bool:
    """Whether non-zero ``a`` is a multiple of non-zero ``b``."""
    if a.keys() != b.keys():
        return False
    ratio: Fraction | None = None
    for column, value in a.items():
        r = value / b[column]
        if ratio is None:
            ratio = r
        elif r != ratio:
            return False
    return True


class Audit:
    """What published sums reveal about unknown (withheld) numbers, exactly.

    Sums are vectors of coefficients over unknowns (their published parts are constants and
    drop out). The published sums span a space kept in reduced row-echelon form; a protected
    vector is revealed exactly when it falls into that space. Each protected vector is kept
    reduced against the space, so checking a new sum is a reduction and a comparison.
    """

    def __init__(self) -> None:
        self._basis: dict[int, Vector] = {}
        self._protected: list[Vector] = []

    def _reduce(self, sparse: Mapping[int, int | Fraction]) -> Vector:
        vector = {k: Fraction(v) for k, v in sparse.items() if v}
        for pivot, row in self._basis.items():
            _eliminate(vector, pivot, row)
        return vector

    def protect(self, sparse: Mapping[int, int | Fraction]) -> None:
        """Keep the sum ``sparse`` from being revealed; ValueError if it already is."""
        reduced = self._reduce(sparse)
        if not reduced:
            raise ValueError("a protected number is already revealed by published sums")
        self._protected.append(reduced)

    def publish(self, sparse: Mapping[int, int | Fraction]) -> bool:
        """Publish the sum ``sparse`` if that reveals no protected number; say whether it was."""
        reduced = self._reduce(sparse)
        if not reduced:
            return True  # already implied by what is published
        if any(_parallel(p, reduced) for p in self._protected):
            return False
        pivot = min(reduced)
        scale = 1 / reduced[pivot]
        row = {k: v * scale for k, v in reduced.items()}
        for other in self._basis.values():
            _eliminate(other, pivot, row)
        for protected in self._protected:
            _eliminate(protected, pivot, row)
        self._basis[pivot] = row
        return True


# --- SGBV rows ------------------------------------------------------------------------------


@dataclass
class _Candidate:
    """A sum about SGBV rows that some output wants to publish."""

    name: tuple[str, ...]
    vector: dict[int, int]
    value: int
    published: bool = False


def _add(vectors: Iterable[Mapping[int, int]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for vector in vectors:
        for k, v in vector.items():
            out[k] = out.get(k, 0) + v
    return {k: v for k, v in out.items() if v}


@dataclass
class _SensitiveRows:
    """The SGBV rows' withheld cells and event counts, as unknowns of an :class:`Audit`."""

    rows: Sequence[RollupRow]
    threshold: int
    withheld_cells: list[set[int]] = field(default_factory=list)
    withheld_events: list[bool] = field(default_factory=list)
    tied: list[bool] = field(default_factory=list)

    def small(self, value: int) -> bool:
        return 0 < value < self.threshold

    def __post_init__(self) -> None:
        for row in self.rows:
            cells = {c for c, v in enumerate(row.cells) if self.small(v)}
            if len(cells) == 1 and not self.small(row.persons):
                spare = [(v, c) for c, v in enumerate(row.cells) if v and c not in cells]
                cells.add(min(spare)[1])
            self.withheld_cells.append(cells)
            tied = row.events == row.persons
            self.tied.append(tied)
            self.withheld_events.append(not tied and self.small(row.events))

    def cell_id(self, i: int, c: int) -> int:
        return i * (len(CELLS) + 1) + c

    def events_id(self, i: int) -> int:
        return i * (len(CELLS) + 1) + len(CELLS)

    def vector(self, i: int, name: str) -> dict[int, int]:
        """Row ``i``'s number ``name`` over the unknowns (empty: known from published cells)."""
        if name in CELLS:
            c = CELLS.index(name)
            return {self.cell_id(i, c): 1} if c in self.withheld_cells[i] else {}
        if name == "persons" or (name == "events" and self.tied[i]):
            return {self.cell_id(i, c): 1 for c in sorted(self.withheld_cells[i])}
        if name == "events":
            return {self.events_id(i): 1} if self.withheld_events[i] else {}
        return {}

    def unknowns(self) -> list[dict[int, int]]:
        """Every withheld cell and event count, as a unit vector."""
        out = []
        for i in range(len(self.rows)):
            out += [{self.cell_id(i, c): 1} for c in sorted(self.withheld_cells[i])]
            if self.withheld_events[i]:
                out.append({self.events_id(i): 1})
        return out


def _candidates(
    sensitive: _SensitiveRows, targets: Sequence[Target]
) -> dict[tuple[str, ...], _Candidate]:
    """Every SGBV sum the outputs publish, in audit order: row totals first (the detail),
    then the kind's totals, regions, partners and targets."""
    rows = sensitive.rows
    out: dict[tuple[str, ...], _Candidate] = {}

    def add(name: tuple[str, ...], members: Sequence[int], number: str) -> None:
        out[name] = _Candidate(
            name,
            _add(sensitive.vector(i, number) for i in members),
            sum(int(rows[i].number(number)) for i in members),
        )

    everything = range(len(rows))
    for i in everything:
        add(("row", str(i), "persons"), [i], "persons")
        if sensitive.tied[i]:
            add(("row", str(i), "events"), [i], "events")
    for number in COUNTS:
        add(("kind", number), everything, number)
    for attribute in ("region", "partner_id"):
        for value in sorted({getattr(row, attribute) for row in rows}):
            members = [i for i in everything if getattr(rows[i], attribute) == value]
            for number in AREA_NUMBERS:
                add((attribute, value, number), members, number)
    for t, target in enumerate(targets):
        members = [i for i in everything if row_matches(target, rows[i])]
        add(("target", str(t)), members, measure_name(target))
    return out


def _audit(sensitive: _SensitiveRows, candidates: Mapping[tuple[str, ...], _Candidate]) -> None:
    """Decide which candidates are published (sets ``published``)."""
    audit = Audit()
    for unknown in sensitive.unknowns():
        audit.protect(unknown)
    for candidate in candidates.values():
        if sensitive.small(candidate.value):
            audit.protect(candidate.vector)
    for candidate in candidates.values():
        if not sensitive.small(candidate.value):
            candidate.published = audit.publish(candidate.vector)


# --- the publication ------------------------------------------------------------------------


def _exact_numbers(rows: Iterable[RollupRow], names: Sequence[str]) -> dict[str, Figure]:
    members = list(rows)
    return {name: Figure(sum((row.number(name) for row in members), start=0)) for name in names}


@dataclass
class _Decisions:
    """The audited SGBV rows and sums, read back as figures."""

    sensitive: _SensitiveRows
    candidates: Mapping[tuple[str, ...], _Candidate]

    def figure(self, *name: str) -> Figure:
        candidate = self.candidates[name]
        return Figure(candidate.value if candidate.published else None)

    def row_values(self, i: int) -> dict[str, Number | None]:
        """SGBV row ``i``'s numbers as published."""
        sensitive = self.sensitive
        values: dict[str, Number | None] = dict(sensitive.rows[i].numbers())
        for c in sensitive.withheld_cells[i]:
            values[CELLS[c]] = None
        values["persons"] = self.figure("row", str(i), "persons").value
        if sensitive.tied[i]:
            values["events"] = self.figure("row", str(i), "events").value
        elif sensitive.withheld_events[i]:
            values["events"] = None
        return values


def _areas(
    rows: Sequence[RollupRow], attribute: str, decisions: _Decisions
) -> dict[tuple[str, str], dict[str, Figure]]:
    """Events and people per (``attribute`` value, kind)."""
    out: dict[tuple[str, str], dict[str, Figure]] = {}
    for value, kind in sorted({(getattr(row, attribute), row.kind) for row in rows}):
        if kind == SENSITIVE_KIND:
            out[(value, kind)] = {n: decisions.figure(attribute, value, n) for n in AREA_NUMBERS}
        else:
            members = [r for r in rows if getattr(r, attribute) == value and r.kind == kind]
            out[(value, kind)] = _exact_numbers(members, AREA_NUMBERS)
    return out


def _progress(
    progress: Sequence[TargetProgress], decisions: _Decisions
) -> tuple[PublishedProgress, ...]:
    """Target progress as published; an SGBV target's year to date is shown only with its
    month (two months' years to date give a month away)."""
    out = []
    sensitive = 0
    for p in progress:
        if p.target.kind.value != SENSITIVE_KIND:
            out.append(PublishedProgress(p.target, Figure(p.month), Figure(p.year_to_date), p.pace))
            continue
        month = decisions.figure("target", str(sensitive))
        sensitive += 1
        ytd_shown = not month.withheld and not decisions.sensitive.small(p.year_to_date)
        ytd = Figure(p.year_to_date if ytd_shown else None)
        out.append(PublishedProgress(p.target, month, ytd, p.pace))
    return tuple(out)


def publish(
    rows: Sequence[RollupRow],
    threshold: int,
    progress: Sequence[TargetProgress] = (),
    *,
    month: str = "",
) -> Publication:
    """The publishable view of a month's rows and target progress (see the module's rules)."""
    sensitive = _SensitiveRows([row for row in rows if row.kind == SENSITIVE_KIND], threshold)
    targets = [p.target for p in progress if p.target.kind.value == SENSITIVE_KIND]
    candidates = _candidates(sensitive, targets)
    _audit(sensitive, candidates)
    decisions = _Decisions(sensitive, candidates)

    published_rows: list[PublishedRow] = []
    withheld = seen = 0
    for row in rows:
        values: dict[str, Number | None] = dict(row.numbers())
        if row.kind == SENSITIVE_KIND:
            values = decisions.row_values(seen)
            seen += 1
            withheld += sum(v is None for v in values.values())
        published_rows.append(PublishedRow(row.key, row.units, values))

    by_kind = {
        kind.value: _exact_numbers([row for row in rows if row.kind == kind.value], NUMBERS)
        for kind in Kind
    }
    by_kind[SENSITIVE_KIND].update({n: decisions.figure("kind", n) for n in COUNTS})

    return Publication(
        month=month,
        threshold=threshold,
        rows=tuple(published_rows),
        by_kind=by_kind,
        by_region=_areas(rows, "region", decisions),
        by_partner=_areas(rows, "partner_id", decisions),
        progress=_progress(progress, decisions),
        withheld=withheld,
    )
