"""Synthetic facts and the benchmark behind ``partnerhub warehouse bench``.

The benchmark does what the stream's sink does: write a batch of facts, refresh the
aggregates and partner activity it touched, and repeat. After loading, each measured batch
corrects existing events (a new revision moving half of them to another region or day, a few
retractions), which is the refresh's hardest case: old and new keys both change.
"""

from __future__ import annotations

import functools
import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
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
from warehouse.reconcile import reconcile

Row = dict[str, Any]

INDICATORS: dict[str, tuple[str, ...]] = {
    Kind.ASSISTANCE: tuple(c.value for c in AssistanceCategory),
    Kind.INCOME_GENERATION: tuple(
        f"{a.value}.{s.value}" for a in IncomeActivity for s in IncomeStage
    ),
    Kind.SGBV: tuple(a.value for a in SgbvActivity if a is not SgbvActivity.CASE_RESPONSE),
    Kind.HIV_TRAINING: tuple(f"{a.value}.{t.value}" for a in HivAudience for t in HivTopic),
    Kind.DURABLE_SOLUTIONS: tuple(f"{s.value}.{t.value}" for s in Solution for t in SolutionStage),
}


@functools.cache
def _regions() -> tuple[str, ...]:
    return tuple(sorted(refdata.regions()))


@functools.cache
def _origins() -> tuple[str, ...]:
    return tuple(sorted(refdata.origins()))


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
        "region": rng.choice(_regions()),
        "population_type": rng.choice([p.value for p in PopulationType]),
        "origin": rng.choice(_origins()),
        "indicator": rng.choice(INDICATORS[kind]),
    }
    row.update({cell: rng.choice((0, 0, 1, 2, 3, 7)) for cell in CELLS})
    row[CELLS[rng.randrange(len(CELLS))]] += 1
    row.update(
        quantity=float(rng.randint(1, 50)) if kind == Kind.ASSISTANCE else 0.0,
        unit="kit" if kind == Kind.ASSISTANCE else "",
        value_usd=float(rng.randint(0, 500)),
        sessions=rng.randint(1, 4) if kind == Kind.HIV_TRAINING else 0,
        hours=float(rng.randint(1, 8)) if kind == Kind.HIV_TRAINING else 0.0,
        cases=rng.randint(1, 3) if kind == Kind.DURABLE_SOLUTIONS else 0,
        services=["medical", "psychosocial"] if kind == Kind.SGBV else [],
        ref_count=0,
        payload="{}",
        topic=f"partners.{row['partner_id']}.{kind}.v1",
        partition=0,
        offset=rng.getrandbits(32),
        published_at=now,
        ingested_at=now,
    )
    return row


def correction(rng: random.Random, fact: Row, now: datetime) -> Row:
    """The next revision of ``fact``: moved to another region or day, or retracted."""
    new = dict(fact, revision=fact["revision"] + 1, ingested_at=now, published_at=now)
    roll = rng.random()
    if roll < 0.1:
        new["status"] = "retracted"
    elif roll < 0.55:
        new["region"] = rng.choice(_regions())
    else:
        new["occurred_on"] = fact["occurred_on"] + timedelta(days=rng.randint(-40, 40))
    return new


def event(seed: int, index: int, now: datetime) -> Row:
    """The ``index``-th synthetic event of a run: the same row whenever it is asked for, so
    the benchmark can correct an old event without keeping every row in memory."""
    return random_fact(random.Random((seed << 40) | index), now=now)


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM), MiB: the engine and Python together."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Figures:
    """What one benchmark run measured, in seconds unless named otherwise."""

    facts: int = 0
    load_seconds: float = 0.0
    load_wall_seconds: float = 0.0
    write: list[float] = field(default_factory=list)
    refresh: list[float] = field(default_factory=list)
    activity: list[float] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    reconcile_seconds: float = 0.0
    slowest_month: float = 0.0
    months: int = 0
    reconciled: bool = False
    totals_by_month: float | None = None
    totals_from_facts: float | None = None
    full_check: bool | None = None
    peak_rss_mib: float = 0.0

    @property
    def load_rate(self) -> float:
        """Events per second the sink steps (write + both refreshes) took while loading."""
        return self.facts_loaded / self.load_seconds if self.load_seconds else 0.0

    facts_loaded: int = 0

    def rows(self) -> list[tuple[str, str]]:
        """The figures as (measure, value) text pairs, for printing."""

        def med(values: list[float]) -> str:
            return f"{statistics.median(values):.3f} s" if values else "-"

        rows = [
            ("fact rows after load", f"{self.facts:,}"),
            (
                "load, sink steps (write + both refreshes per batch)",
                f"{self.load_seconds:.1f} s ({self.load_rate:,.0f} events/s)",
            ),
            ("load, wall (with generating the rows)", f"{self.load_wall_seconds:.1f} s"),
            ("measured batches", str(len(self.write))),
            ("write_facts per batch (median)", med(self.write)),
            ("refresh_aggregates per batch (median)", med(self.refresh)),
            (
                "aggregate keys per batch (median)",
                f"{statistics.median(self.keys):,.0f}" if self.keys else "-",
            ),
            ("refresh_partner_activity per batch (median)", med(self.activity)),
            (
                f"reconcile, per month ({self.months} months)",
                f"{self.reconcile_seconds:.2f} s (slowest month {self.slowest_month:.2f} s)",
            ),
            ("aggregates reconcile with facts", "yes" if self.reconciled else "NO"),
        ]
        if self.full_check is not None:
            rows += [
                ("totals_by_month (aggregates FINAL)", f"{self.totals_by_month:.3f} s"),
                ("totals_from_facts (argMax over all facts)", f"{self.totals_from_facts:.3f} s"),
                ("whole-history totals equal", "yes" if self.full_check else "NO"),
            ]
        rows.append(("peak RSS of this process (engine + Python)", f"{self.peak_rss_mib:,.0f} MiB"))
        return rows


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
    full_check: bool = False,
    progress: Callable[[int], None] = lambda n: None,
) -> Figures:
    """Load ``facts`` synthetic events sink-style, time ``batches`` correction batches (each
    correcting ``batch`` events never corrected before), then reconcile month by month."""
    migrate(wh)
    figures = Figures(facts_loaded=facts)
    loaded = datetime.now(UTC)
    started = time.perf_counter()
    for first in range(0, facts, batch):
        rows = [event(seed, i, loaded) for i in range(first, min(first + batch, facts))]
        write, refresh, activity, _ = _sink_batch(wh, rows)
        figures.load_seconds += write + refresh + activity
        progress(len(rows))
    figures.load_wall_seconds = time.perf_counter() - started
    rng = random.Random(seed)
    picks = rng.sample(range(facts), min(facts, batch * batches))
    for start in range(0, len(picks), batch):
        now = datetime.now(UTC)
        rows = [correction(rng, event(seed, i, loaded), now) for i in picks[start : start + batch]]
        write, refresh, activity, keys = _sink_batch(wh, rows)
        figures.write.append(write)
        figures.refresh.append(refresh)
        figures.activity.append(activity)
        figures.keys.append(keys)
        progress(len(rows))
    figures.facts = int(wh.query("SELECT count() AS n FROM facts")[0]["n"])
    started = time.perf_counter()
    checks = reconcile(wh)
    figures.reconcile_seconds = time.perf_counter() - started
    figures.months = len(checks)
    figures.slowest_month = max((c.seconds for c in checks), default=0.0)
    figures.reconciled = bool(checks) and all(c.ok for c in checks)
    if full_check:
        started = time.perf_counter()
        by_month = totals_by_month(wh)
        figures.totals_by_month = time.perf_counter() - started
        started = time.perf_counter()
        from_facts = totals_from_facts(wh)
        figures.totals_from_facts = time.perf_counter() - started
        figures.full_check = by_month == from_facts
    figures.peak_rss_mib = peak_rss_mib()
    return figures
