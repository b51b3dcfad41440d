"""Valid base events of the simulated operation: who reports what, where, when, for whom.

Pure: everything comes from the spec and one seeded ``random.Random``; no clock, no I/O.
"""

from __future__ import annotations

import itertools
import logging
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from producers.simulation import operation as op
from producers.simulation.calendar import DayPicker, ReportingRhythm, months_between, timestamp
from producers.simulation.payloads import payload
from producers.simulation.records import Draft, position
from producers.simulation.refs import RefLedger, pool, pool_size
from producers.simulation.spec import SimulationSpec
from schemas import refdata
from schemas.refdata import Partner
from schemas.topics import topic_for
from schemas.vocabulary import AGE_BRACKETS, Kind

log = logging.getLogger(__name__)

_CUM_AGES = {name: list(accumulate(w)) for name, w in op.AGE_PROFILES.items()}


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def draw_cells(rng: random.Random, profile: str, persons: int) -> list[int]:
    """``persons`` people spread over the ten sex/age cells by ``profile``."""
    counts = [0] * 10
    for cell in rng.choices(range(10), cum_weights=_CUM_AGES[profile], k=persons):
        counts[cell] += 1
    return counts


def beneficiaries(cells: Sequence[int]) -> dict[str, dict[str, int]]:
    """The wire form of ten cells (female first, youngest first)."""
    return {
        "female": dict(zip(AGE_BRACKETS, cells[:5], strict=True)),
        "male": dict(zip(AGE_BRACKETS, cells[5:], strict=True)),
    }


def cells_of(body: Mapping[str, Any]) -> list[int]:
    """The ten cells of an event body, absent brackets as zero."""
    b = body["beneficiaries"]
    return [int(b.get(sex, {}).get(age, 0)) for sex in ("female", "male") for age in AGE_BRACKETS]


def split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` cut at random into ``parts`` positive amounts (1 each when it is too small)."""
    if parts <= 0:
        return []
    if total < parts:
        return [1] * parts
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


@dataclass(frozen=True)
class Place:
    group: op.Group
    region: str


@dataclass(frozen=True)
class Weighted:
    """Items with cumulative weights, ready for ``rng.choices``."""

    items: tuple[Any, ...]
    cum: tuple[float, ...]

    @staticmethod
    def of(pairs: Sequence[tuple[Any, float]]) -> Weighted:
        kept = [(item, w) for item, w in pairs if w > 0]
        return Weighted(tuple(i for i, _ in kept), tuple(accumulate(w for _, w in kept)))

    def __bool__(self) -> bool:
        return bool(self.items)

    def pick(self, rng: random.Random) -> Any:
        return rng.choices(self.items, cum_weights=self.cum)[0]


@dataclass(frozen=True)
class Slot:
    """A base event decided but not yet built."""

    stream: op.Stream
    month: int
    place: Place
    partner: str
    amount: int | None = None
    measure: str = "persons"


@dataclass(frozen=True)
class Budget:
    """A budgeted stream's share of its planning target, and how many events carry it."""

    stream: op.Stream
    amount: int
    measure: str
    events: int


class Tables:
    """The operation joined with one registry and period: what can happen where, by whom."""

    def __init__(self, partners: Mapping[str, Partner], months: Sequence[str]) -> None:
        self.partners = partners
        self.months = list(months)
        worked = sorted({r for p in partners.values() for r in p.regions})
        self.group_regions: dict[str, dict[str, float]] = {
            g.name: dict(g.regions) if g.regions else dict.fromkeys(worked, 1.0 / len(worked))
            for g in op.GROUPS
        }
        self.groups = {g.name: g for g in op.GROUPS}
        self.by_stream: dict[op.Stream, tuple[Weighted, dict[str, Weighted]]] = {}
        for stream in op.STREAMS:
            at = {region: self._partners_at(stream, region) for region in worked}
            at = {region: w for region, w in at.items() if w}
            self.by_stream[stream] = (self._places(stream, set(at)), at)

    def _partners_at(self, stream: op.Stream, region: str) -> Weighted:
        return Weighted.of(
            [
                (code, stream.partners.get(code, stream.others))
                for code, p in sorted(self.partners.items())
                if stream.kind in p.kinds and region in p.regions
            ]
        )

    def place_weight(self, stream: op.Stream, group: op.Group, share: float) -> float:
        """How likely an event of ``stream`` is to reach ``group`` where ``share`` of it lives."""
        default = 0.0 if stream.only_origins else 1.0
        origin = stream.origins.get(group.origin, default) if group.origin else default
        return group.size * share * stream.population.get(group.population_type, 0.0) * origin

    def _places(self, stream: op.Stream, regions: set[str]) -> Weighted:
        return Weighted.of(
            [
                (Place(g, region), self.place_weight(stream, g, share))
                for g in op.GROUPS
                for region, share in self.group_regions[g.name].items()
                if region in regions
            ]
        )

    def places(self, stream: op.Stream) -> Weighted:
        return self.by_stream[stream][0]

    def partners_at(self, stream: op.Stream, region: str) -> Weighted:
        return self.by_stream[stream][1][region]

    def month_weights(self, stream: op.Stream) -> list[float]:
        kind = op.KIND_MONTHS.get(stream.kind, op.FLAT)
        return [kind[int(m[5:]) - 1] * stream.months[int(m[5:]) - 1] for m in self.months]


def budgets(tables: Tables, events: int) -> list[Budget]:
    """The planning targets that budgeted streams reach, scaled to ``events``."""
    out: list[Budget] = []
    for stream in op.STREAMS:
        if stream.target is None or not tables.places(stream):
            continue
        if not any(tables.month_weights(stream)):
            continue
        population_type, origin = stream.target
        target = next(
            (
                t
                for t in refdata.targets()
                if t.kind is stream.kind
                and t.indicator == stream.name
                and t.population_type is population_type
                and t.origin == origin
                and t.region is None
            ),
            None,
        )
        if target is None or target.measure not in ("persons", "cases"):
            continue
        amount = round(target.target * events / op.FULL_SCALE_EVENTS)
        if amount > 0:
            count = max(1, round(amount / stream.unit_mean))
            out.append(Budget(stream, amount, target.measure, count))
    cap = int(events * op.MAX_BUDGETED_SHARE)
    total = sum(b.events for b in out)
    if total > cap:
        out = [
            Budget(b.stream, b.amount, b.measure, b.events * cap // total)
            for b in out
            if b.events * cap // total > 0
        ]
    return out


class Generator:
    """Draws base events (and templates for invalid messages) for one spec."""

    def __init__(self, spec: SimulationSpec, rng: random.Random) -> None:
        self.spec = spec
        self.rng = rng
        self.months = months_between(spec.start, spec.end)
        self.rhythm = ReportingRhythm(rng, spec.partners, self.months)
        self.days = DayPicker(self.months, spec.today)
        self.tables = Tables(spec.partners, self.months)
        self.ledger = RefLedger()
        self._seq = itertools.count()
        self._templates: dict[tuple[str, Kind], Weighted] = {}
        self._kinds, self._kind_slots = self._kind_tables()

    def next_seq(self) -> int:
        """A fresh tie-break number for a stream position."""
        return next(self._seq)

    def _kind_tables(self) -> tuple[Weighted, dict[Kind, Weighted]]:
        slots: dict[Kind, Weighted] = {}
        for kind in Kind:
            pairs = [
                ((stream, month), stream.weight * w)
                for stream in op.STREAMS
                if stream.kind is kind and stream.target is None and self.tables.places(stream)
                for month, w in enumerate(self.tables.month_weights(stream))
            ]
            table = Weighted.of(pairs)
            if table:
                slots[kind] = table
        kinds = Weighted.of([(k, op.KIND_WEIGHTS[k]) for k in Kind if k in slots])
        if not kinds:
            raise ValueError("no partner of the registry can report any modelled activity")
        return kinds, slots

    # --- planning -------------------------------------------------------------------------

    def _slot(self, stream: op.Stream, month: int) -> Slot:
        place: Place = self.tables.places(stream).pick(self.rng)
        partner: str = self.tables.partners_at(stream, place.region).pick(self.rng)
        return Slot(stream, month, place, partner)

    def plan(self) -> list[Slot]:
        """Every base event's stream, month, group, region and partner (and budget share)."""
        rng = self.rng
        slots: list[Slot] = []
        for budget in budgets(self.tables, self.spec.events):
            months = Weighted.of(list(enumerate(self.tables.month_weights(budget.stream))))
            planned = [self._slot(budget.stream, months.pick(rng)) for _ in range(budget.events)]
            amounts = split(rng, budget.amount, len(planned))
            slots.extend(
                Slot(s.stream, s.month, s.place, s.partner, a, budget.measure)
                for s, a in zip(planned, amounts, strict=True)
            )
        for _ in range(self.spec.events - len(slots)):
            kind: Kind = self._kinds.pick(rng)
            stream, month = self._kind_slots[kind].pick(rng)
            slots.append(self._slot(stream, month))
        return slots

    # --- building -------------------------------------------------------------------------

    def base_events(self) -> list[Draft]:
        """The spec's valid base events, each at revision 1."""
        drafts = [self.build(slot) for slot in self.plan()]
        log.debug("built %d base events", len(drafts))
        return drafts

    def build(self, slot: Slot, *, refs: bool = True, partner_id: str | None = None) -> Draft:
        """One event for ``slot``; ``partner_id`` overrides the partner written in the body."""
        rng, stream, group = self.rng, slot.stream, slot.place.group
        cases: int | None = None
        if slot.amount is None:
            persons = rng.randint(*stream.persons)
        elif slot.measure == "persons":
            persons = slot.amount
        else:
            cases = slot.amount
            persons = sum(rng.randint(*op.CASE_PERSONS) for _ in range(cases))
        households = cases or max(1, round(persons / group.case_size))
        cells = draw_cells(rng, stream.ages or group.ages, persons)
        day = self.days.pick(rng, slot.month)
        reported = self.rhythm.report_time(slot.partner, slot.month)
        body: dict[str, Any] = {
            "event_id": new_uuid(rng),
            "revision": 1,
            "status": "active",
            "partner_id": partner_id or slot.partner,
            "kind": stream.kind.value,
            "occurred_on": day.isoformat(),
            "reported_at": timestamp(reported),
            "region": slot.place.region,
            "population_type": group.population_type.value,
            "beneficiaries": beneficiaries(cells),
            "payload": payload(stream, rng, persons, households, cases),
        }
        if group.origin is not None:
            body["origin"] = group.origin
        if refs and stream.kind is Kind.ASSISTANCE and group.registered:
            share = self.tables.group_regions[group.name][slot.place.region]
            size = pool_size(group.size, share, group.case_size)
            where = (slot.month, stream.name, group.name, slot.place.region)
            drawn = self.ledger.draw(
                rng, pool(group.name, slot.place.region, size), households, where, slot.partner
            )
            if drawn:
                body["beneficiary_refs"] = drawn
        topic = topic_for(slot.partner, stream.kind)
        return Draft(body, topic, reported, position(reported, self.next_seq()), group.name)

    def _template_table(self, writes_as: str, kind: Kind) -> Weighted:
        key = (writes_as, kind)
        if key not in self._templates:
            regions = set(self.spec.partners[writes_as].regions)
            self._templates[key] = Weighted.of(
                [
                    (
                        (stream, Place(g, region)),
                        (stream.weight or 0.05) * self.tables.place_weight(stream, g, share),
                    )
                    for stream in op.STREAMS
                    if stream.kind is kind
                    for g in op.GROUPS
                    for region, share in self.tables.group_regions[g.name].items()
                    if region in regions
                ]
            )
        return self._templates[key]

    def template(self, partner: str, kind: Kind, month: int, *, writes_as: str) -> Draft:
        """A valid event of ``kind`` in ``partner``'s regions, reported in ``partner``'s
        monthly report and written with ``writes_as`` as its partner_id (mandate ignored).
        """
        table = self._template_table(writes_as, kind)
        if table:
            stream, place = table.pick(self.rng)
        else:  # a registry region no modelled group lives in: its host community, or for a
            # kind that never concerns hosts (RSD casework) a group it does concern
            stream = next(s for s in op.STREAMS if s.kind is kind)
            group = next(
                g
                for g in (self.tables.groups["host_community"], *op.GROUPS)
                if stream.population.get(g.population_type)
                and (not stream.only_origins or stream.origins.get(g.origin or "", 0) > 0)
            )
            place = Place(group, sorted(self.spec.partners[writes_as].regions)[0])
        return self.build(Slot(stream, month, place, partner), refs=False, partner_id=writes_as)
