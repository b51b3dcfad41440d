"""Synthetic facts and the benchmark behind ``partnerhub warehouse bench``.

The benchmark does what the stream's sink does: write a batch of facts, refresh the
aggregates and partner activity it touched, and repeat. After loading, each measured batch
corrects existing events (a new revision moving half of them to another region or day, a few
retractions), which is the refresh's hardest case: old and new keys both change.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from schemas import refdata
from schemas.vocabulary import (
    CELLS,
    AssistanceCategory,
    HivAudience,
    HivTopic,
    IncomeActivity,
    IncomeStage,
    Kind,
    PopulationType,
    ProtectionAudience,
    ProtectionTopic,
    RsdInstance,
    RsdProcedure,
    RsdStage,
    SgbvActivity,
    Solution,
    SolutionStage,
)
from warehouse.client import Warehouse
from warehouse.facts import (
    refresh_aggregates,
    refresh_partner_activity,
    totals_by_month,
    totals_from_facts,
    write_facts,
)
from warehouse.migrate import migrate

Row = dict[str, Any]

INDICATORS: dict[str, tuple[str, ...]] = {
    Kind.ASSISTANCE: tuple(c.value for c in AssistanceCategory),
    Kind.INCOME_GENERATION: tuple(
        f"{a.value}.{s.value}" for a in IncomeActivity for s in IncomeStage
    ),
    Kind.SGBV: tuple(a.value for a in SgbvActivity if a is not SgbvActivity.CASE_RESPONSE),
    Kind.HIV_TRAINING: tuple(f"{a.value}.{t.value}" for a in HivAudience for t in HivTopic),
    Kind.DURABLE_SOLUTIONS: tuple(f"{s.value}.{t.value}" for s in Solution for t in SolutionStage),
    Kind.PROTECTION_TRAINING: tuple(
        f"{a.value}.{t.value}" for a in ProtectionAudience for t in ProtectionTopic
    ),
    Kind.RSD_CASEWORK: tuple(
        f"{p.value}.{i.value}.{s.value}"
        for p in RsdProcedure
        for i in RsdInstance
        for s in RsdStage
    ),
}

#: Kinds whose payload counts sessions and hours, and kinds that count cases.
_SESSION_KINDS = (Kind.HIV_TRAINING, Kind.PROTECTION_TRAINING)
_CASE_KINDS = (Kind.DURABLE_SOLUTIONS, Kind.RSD_CASEWORK)


#: Partner codes of the synthetic facts.
PARTNERS: tuple[str, ...] = tuple(f"partner_{n:02d}" for n in range(20))


def random_fact(
    rng: random.Random,
    *,
    partners: tuple[str, ...] = PARTNERS,
    first_day: date = date(2006, 1, 1),
    days: int = 365,
    now: datetime | None = None,
) -> Row:
    """One plausible fact row (revision 1, active) with every ``FACT_COLUMNS`` key."""
    now = now or datetime.now(UTC)
    kind = rng.choice(list(INDICATORS))
    day = first_day + timedelta(days=rng.randrange(days))
    row: Row = {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "revision": 1,
        "status": "active",
        "partner_id": rng.choice(partners),
        "kind": kind,
        "occurred_on": day,
        "reported_at": datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        "region": rng.choice(sorted(refdata.regions())),
        "population_type": rng.choice([p.value for p in PopulationType]),
        "origin": rng.choice(sorted(refdata.origins())),
        "indicator": rng.choice(INDICATORS[kind]),
    }
    row.update({cell: rng.choice((0, 0, 1, 2, 3, 7)) for cell in CELLS})
    row[CELLS[rng.randrange(len(CELLS))]] += 1
    row.update(
        quantity=float(rng.randint(1, 50)) if kind == Kind.ASSISTANCE else 0.0,
        unit="kit" if kind == Kind.ASSISTANCE else "",
        value_usd=float(rng.randint(0, 500)),
        sessions=rng.randint(1, 4) if kind in _SESSION_KINDS else 0,
        hours=float(rng.randint(1, 8)) if kind in _SESSION_KINDS else 0.0,
        cases=rng.randint(1, 3) if kind in _CASE_KINDS else 0,
        services=["medical", "psychosocial"] if kind == Kind.SGBV else [],
        ref_count=0,
        payload="{}",
        topic=f"partners.{row['partner_id']}.{kind}.v1",
        partition=0,
        offset=rng.getrandbits(32),
        published_at=now,
        ingested_at=now,
    )
    row["curriculum_sessions"] = (
        row["sessions"] if kind == Kind.PROTECTION_TRAINING and rng.random() < 0.3 else 0
    )
    return row


def correction(rng: random.Random, fact: Row, now: datetime) -> Row:
    """The next revision of ``fact``: moved to another region or day, or retracted."""
    new = dict(fact, revision=fact["revision"] + 1, ingested_at=now, published_at=now)
    roll = rng.random()
    if roll < 0.1:
        new["status"] = "retracted"
    elif roll < 0.55:
        new["region"] = rng.choice(sorted(refdata.regions()))
    else:
        new["occurred_on"] = fact["occurred_on"] + timedelta(days=rng.randint(-40, 40))
    return new


@dataclass
class Figures:
    """What one benchmark run measured, in seconds unless named otherwise."""

    facts: int = 0
    load_seconds: float = 0.0
    write: list[float] = field(default_factory=list)
    refresh: list[float] = field(default_factory=list)
    activity: list[float] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    totals_by_month: float = 0.0
    totals_from_facts: float = 0.0
    reconciled: bool = False

    def rows(self) -> list[tuple[str, str]]:
        """The figures as (measure, value) text pairs, for printing."""
        rate = self.facts / self.load_seconds if self.load_seconds else 0.0

        def med(values: list[float]) -> str:
            return f"{statistics.median(values):.3f} s" if values else "-"

        return [
            ("fact rows after load", f"{self.facts:,}"),
            (
                "load, sink-style (write + refresh per batch)",
                f"{self.load_seconds:.1f} s ({rate:,.0f} events/s)",
            ),
            ("measured batches", str(len(self.write))),
            ("write_facts per batch (median)", med(self.write)),
            ("refresh_aggregates per batch (median)", med(self.refresh)),
            (
                "aggregate keys per batch (median)",
                f"{statistics.median(self.keys):,.0f}" if self.keys else "-",
            ),
            ("refresh_partner_activity per batch (median)", med(self.activity)),
            ("totals_by_month (aggregates FINAL)", f"{self.totals_by_month:.3f} s"),
            ("totals_from_facts (argMax over facts)", f"{self.totals_from_facts:.3f} s"),
            ("aggregates reconcile with facts", "yes" if self.reconciled else "NO"),
        ]


def _sink_batch(wh: Warehouse, rows: list[Row]) -> tuple[float, float, float, int]:
    started = time.perf_counter()
    write_facts(wh, rows)
    written = time.perf_counter()
    keys = refresh_aggregates(wh, {(r["partner_id"], r["event_id"]) for r in rows})
    refreshed = time.perf_counter()
    refresh_partner_activity(wh, {r["partner_id"] for r in rows})
    done = time.perf_counter()
    return written - started, refreshed - written, done - refreshed, keys


def run(
    wh: Warehouse,
    *,
    facts: int = 200_000,
    batch: int = 5_000,
    batches: int = 5,
    seed: int = 1,
    progress: Callable[[int], None] = lambda n: None,
) -> Figures:
    """Load ``facts`` synthetic events sink-style, then time ``batches`` correction batches."""
    rng = random.Random(seed)
    migrate(wh)
    figures = Figures()
    latest: list[Row] = []
    started = time.perf_counter()
    for first in range(0, facts, batch):
        rows = [random_fact(rng) for _ in range(min(batch, facts - first))]
        _sink_batch(wh, rows)
        latest.extend(rows)
        progress(len(rows))
    figures.load_seconds = time.perf_counter() - started
    for _ in range(batches):
        now = datetime.now(UTC)
        picks = rng.sample(range(len(latest)), min(batch, len(latest)))
        rows = [correction(rng, latest[i], now) for i in picks]
        for i, row in zip(picks, rows, strict=True):
            latest[i] = row
        write, refresh, activity, keys = _sink_batch(wh, rows)
        figures.write.append(write)
        figures.refresh.append(refresh)
        figures.activity.append(activity)
        figures.keys.append(keys)
        progress(len(rows))
    figures.facts = int(wh.query("SELECT count() AS n FROM facts")[0]["n"])
    started = time.perf_counter()
    by_month = totals_by_month(wh)
    figures.totals_by_month = time.perf_counter() - started
    started = time.perf_counter()
    from_facts = totals_from_facts(wh)
    figures.totals_from_facts = time.perf_counter() - started
    figures.reconciled = by_month == from_facts
    return figures
