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
from collections.abc import Callable, Sequence
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
    ProtectionAudience,
    ProtectionTopic,
    RsdInstance,
    RsdProcedure,
    RsdStage,
    SgbvActivity,
    Solution,
    SolutionStage,
)
from warehouse import first_reports
from warehouse.client import Warehouse, quote_identifier
from warehouse.facts import (
    ACTIVITY_LEVELS,
    refresh_partner_activity,
    totals_by_month,
    totals_from_facts,
    write_facts,
)
from warehouse.migrate import migrate
from warehouse.monthly import derive_monthly
from warehouse.reconcile import reconcile
from warehouse.refresh import refresh_keys
from warehouse.tables import (
    AGGREGATE_KEY,
    FACT_COLUMNS,
    FACT_KEY_COLUMNS,
    FACT_REVISION_COLUMNS,
    KEY_TOTAL_COLUMNS,
    MEASURES,
)

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
SESSION_KINDS = (Kind.HIV_TRAINING, Kind.PROTECTION_TRAINING)
CASE_KINDS = (Kind.DURABLE_SOLUTIONS, Kind.RSD_CASEWORK)


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
        sessions=rng.randint(1, 4) if kind in SESSION_KINDS else 0,
        hours=float(rng.randint(1, 8)) if kind in SESSION_KINDS else 0.0,
        cases=rng.randint(1, 3) if kind in CASE_KINDS else 0,
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


def reset_peak_rss() -> bool:
    """Start a new peak: set VmHWM to the current RSS (Linux's ``clear_refs`` code 5), so the
    next :func:`peak_rss_mib` is the peak of what ran since. False where that is not allowed
    (the peak then still holds what ran before)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def settle(
    wh: Warehouse, timeout: float = 900.0, *, quiet_polls: int = 3, poll: float = 0.5
) -> float:
    """Wait until the engine has run no background merge in this database for ``quiet_polls``
    polls in a row, as in a warehouse that filled over a year rather than in minutes; return
    the seconds waited. :class:`TimeoutError` after ``timeout`` seconds."""
    started = time.monotonic()
    quiet = 0
    while quiet < quiet_polls:
        merging = wh.query(
            "SELECT count() AS n FROM system.merges WHERE database = currentDatabase()"
        )[0]["n"]
        quiet = 0 if merging else quiet + 1
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"background merges still running after {timeout:.0f} s")
        time.sleep(poll)
    return time.monotonic() - started


@dataclass
class Figures:
    """What one benchmark run measured, in seconds unless named otherwise."""

    facts: int = 0
    load_seconds: float = 0.0
    load_wall_seconds: float = 0.0
    load_cpu_seconds: float = 0.0
    write: list[float] = field(default_factory=list)
    refresh: list[float] = field(default_factory=list)
    activity: list[float] = field(default_factory=list)
    write_cpu: list[float] = field(default_factory=list)
    refresh_cpu: list[float] = field(default_factory=list)
    activity_cpu: list[float] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    reconcile_seconds: float = 0.0
    slowest_month: float = 0.0
    months: int = 0
    reconciled: bool = False
    totals_by_month: float | None = None
    totals_from_facts: float | None = None
    full_check: bool | None = None
    #: Peak RSS per phase, MiB, in the order they ran: the bulk prefill (the benchmark's
    #: setup, not what a worker does), the sink steps (load and corrections: the worker's
    #: path) and the reconciliation.
    peak_rss: dict[str, float] = field(default_factory=dict)
    #: False when the peak could not be reset between phases: each figure is then the peak
    #: so far.
    phases_separate: bool = True

    @property
    def load_rate(self) -> float:
        """Events per second the sink steps (write + both refreshes) took while loading."""
        return self.facts_loaded / self.load_seconds if self.load_seconds else 0.0

    facts_loaded: int = 0
    #: Seconds waited after the prefill for the engine's background merges of it.
    settle_seconds: float = 0.0

    def rows(self) -> list[tuple[str, str]]:
        """The figures as (measure, value) text pairs, for printing."""

        def med(values: list[float], cpu: list[float] | None = None) -> str:
            if not values:
                return "-"
            shown = f"{statistics.median(values):.3f} s"
            return f"{shown} (CPU {statistics.median(cpu):.3f} s)" if cpu else shown

        cpu_rate = self.facts_loaded / self.load_cpu_seconds if self.load_cpu_seconds else 0.0

        rows = [
            ("fact rows after load", f"{self.facts:,}"),
            ("waited for the prefill's background merges", f"{self.settle_seconds:.0f} s"),
            (
                "load, sink steps (write + both refreshes per batch)",
                f"{self.load_seconds:.1f} s ({self.load_rate:,.0f} events/s)",
            ),
            (
                "load, CPU of the sink steps",
                f"{self.load_cpu_seconds:.1f} s ({cpu_rate:,.0f} events per CPU-second)",
            ),
            ("load, wall (with generating the rows)", f"{self.load_wall_seconds:.1f} s"),
            ("measured batches", str(len(self.write))),
            ("write_facts per batch (median)", med(self.write, self.write_cpu)),
            ("refresh (aggregates, first reports) per batch", med(self.refresh, self.refresh_cpu)),
            (
                "aggregate keys per batch (median)",
                f"{statistics.median(self.keys):,.0f}" if self.keys else "-",
            ),
            (
                "refresh_partner_activity per batch (median)",
                med(self.activity, self.activity_cpu),
            ),
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
        so_far = "" if self.phases_separate else ", peak so far"
        rows += [
            (f"peak RSS, {phase} (engine + Python{so_far})", f"{mib:,.0f} MiB")
            for phase, mib in self.peak_rss.items()
        ]
        return rows

    def measure_phase(self, phase: str) -> None:
        """Record the peak RSS of ``phase``, which just ended, and start the next phase's."""
        self.peak_rss[phase] = peak_rss_mib()
        self.phases_separate = reset_peak_rss() and self.phases_separate


@dataclass(frozen=True)
class Step:
    """One sink step's wall time and the CPU time the process (Python and the engine's
    threads) spent in it: on a shared machine the CPU time is the cost, the wall time also
    holds the waits for other processes."""

    wall: float
    cpu: float


def _timed(step: Callable[[], Any]) -> tuple[Any, Step]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    return result, Step(time.perf_counter() - wall, time.process_time() - cpu)


def _sink_batch(wh: Warehouse, rows: list[Row]) -> tuple[Step, Step, Step, int]:
    _, write = _timed(lambda: write_facts(wh, rows))

    keys, refresh = _timed(lambda: refresh_keys(wh, rows))  # as refresh_written does
    _, activity = _timed(lambda: refresh_partner_activity(wh, {r["partner_id"] for r in rows}))
    return write, refresh, activity, int(keys)


def _pick(values: Sequence[str], salt: int) -> str:
    """SQL: one of ``values``, uniformly, by a hash of the row number."""
    listed = ", ".join("'" + v.replace("'", "\\'") + "'" for v in values)
    return f"[{listed}][1 + cityHash64(number, {salt}) % {len(values)}]"


def prefill_sql(facts: int, seed: int, now: datetime, days: int = 365) -> str:
    """``INSERT ... SELECT`` of ``facts`` first revisions spread as :func:`random_fact`
    spreads them (every partner, region, origin, population type, day and indicator
    equally likely; the days from 1 January 2006 on), generated by the engine: the history
    the measured batches meet."""
    kinds = sorted(INDICATORS)
    indicators = (
        "map("
        + ", ".join(f"'{k}', [{', '.join(repr(i) for i in INDICATORS[k])}]" for k in kinds)
        + ")"
    )
    cells = [
        f"toUInt32([0, 0, 1, 2, 3, 7][1 + cityHash64(number, {seed}, {20 + i}) % 6]"
        f" + (cityHash64(number, {seed}, 19) % {len(CELLS)} = {i}))"
        for i in range(len(CELLS))
    ]
    stamp = f"toDateTime64('{now:%Y-%m-%d %H:%M:%S}', 3, 'UTC')"
    sessions = ", ".join(f"'{k}'" for k in SESSION_KINDS)
    cases = ", ".join(f"'{k}'" for k in CASE_KINDS)
    # Column -> SQL; a column not named here (a measure added later) takes its DEFAULT.
    columns = {
        "event_id": "toString(generateUUIDv4(number))",
        "revision": "1",
        "status": "'active'",
        "partner_id": "partner_id",
        "kind": "k",
        "occurred_on": "d",
        "reported_at": "toDateTime64(d, 3, 'UTC') + toIntervalHour(12)",
        "region": _pick(_regions(), seed * 100 + 3),
        "population_type": _pick([p.value for p in PopulationType], seed * 100 + 4),
        "origin": _pick(_origins(), seed * 100 + 5),
        "indicator": f"{indicators}[k][1 + cityHash64(number, {seed}, 6)"
        f" % length({indicators}[k])]",
        **dict(zip(CELLS, cells, strict=True)),
        "quantity": f"if(k = 'assistance', toFloat64(1 + cityHash64(number, {seed}, 7) % 50), 0)",
        "unit": "if(k = 'assistance', 'kit', '')",
        "value_usd": f"toFloat64(cityHash64(number, {seed}, 8) % 501)",
        "sessions": f"toUInt32(if(k IN ({sessions}), 1 + cityHash64(number, {seed}, 9) % 4, 0))",
        "hours": f"toFloat64(if(k IN ({sessions}), 1 + cityHash64(number, {seed}, 10) % 8, 0))",
        "cases": f"toUInt32(if(k IN ({cases}), 1 + cityHash64(number, {seed}, 11) % 3, 0))",
        "curriculum_sessions": f"toUInt32(if(k = 'protection_training'"
        f" AND cityHash64(number, {seed}, 13) % 10 < 3, 1 + cityHash64(number, {seed}, 9) % 4, 0))",
        "services": "if(k = 'sgbv', ['medical', 'psychosocial'], [])",
        "ref_count": "0",
        "payload": "'{}'",
        "topic": "concat('partners.', partner_id, '.', k, '.v1')",
        "partition": "0",
        "offset": "number",
        "published_at": stamp,
        "ingested_at": stamp,
    }
    return (
        f"INSERT INTO facts ({', '.join(quote_identifier(c) for c in columns)})"
        f" SELECT {', '.join(columns.values())} FROM ("
        f" SELECT number, {_pick(PARTNERS, seed * 100 + 1)} AS partner_id,"
        f" {_pick(kinds, seed * 100 + 2)} AS k,"
        f" toDate('2006-01-01') + toIntervalDay(cityHash64(number, {seed}, 12) % {days}) AS d"
        f" FROM numbers({facts}))"
    )


def derive_daily(wh: Warehouse) -> None:
    """Fill ``daily_aggregates`` from facts that are all first revisions (each its own winner,
    so a plain ``GROUP BY``), a month at a time: 10 M facts grouped at once exceed the
    engine's 1 GiB a query."""
    key = ", ".join("occurred_on" if k == "day" else k for k in AGGREGATE_KEY)
    sums = ", ".join(f"sum({c})" for c in (*CELLS, *MEASURES))
    months = wh.query("SELECT DISTINCT toStartOfMonth(occurred_on) AS month FROM facts")
    for month in sorted(r["month"] for r in months):
        wh.command(
            f"INSERT INTO daily_aggregates SELECT {key}, count(), {sums}, now64(6) FROM facts"
            f" WHERE status = 'active' AND toStartOfMonth(occurred_on) = '{month.isoformat()}'"
            f" GROUP BY {key}"
        )


def prefill(wh: Warehouse, facts: int, seed: int, now: datetime, days: int = 365) -> None:
    """Write ``facts`` first revisions over ``days`` days and everything the refreshes derive
    from them, in bulk (each fact is its own winner, so the aggregates are a plain
    ``GROUP BY``)."""
    wh.command(prefill_sql(facts, seed, now, days))
    wh.command(
        f"INSERT INTO fact_revisions ({', '.join(FACT_REVISION_COLUMNS)})"
        f" SELECT {', '.join(quote_identifier(c) for c in FACT_REVISION_COLUMNS)} FROM facts"
    )
    wh.command(
        f"INSERT INTO fact_keys ({', '.join(FACT_KEY_COLUMNS)})"
        f" SELECT {', '.join(FACT_KEY_COLUMNS)} FROM facts"
    )
    derive_daily(wh)
    wh.command(
        f"INSERT INTO key_totals SELECT {', '.join(KEY_TOTAL_COLUMNS)} FROM daily_aggregates"
    )
    for target, source, cell in ACTIVITY_LEVELS:
        names = ", ".join(cell)
        wh.command(
            f"INSERT INTO {target} SELECT {names}, sum(events), now64(6) FROM {source}"
            f" GROUP BY {names}"
        )
    wh.command(
        "INSERT INTO activity_marks SELECT partner_id, kind, toStartOfMonth(occurred_on),"
        " max(reported_at), max(ingested_at), now64(6) FROM facts"
        " GROUP BY partner_id, kind, toStartOfMonth(occurred_on)"
    )
    derive_monthly(wh)
    first_reports.derive(wh)
    refresh_partner_activity(wh, PARTNERS)


def old_events(wh: Warehouse, count: int, seed: int) -> list[Row]:
    """``count`` facts picked by a hash of their id, anywhere in the history."""
    total = int(wh.query("SELECT count() AS n FROM facts")[0]["n"])
    every = max(1, total // (count * 2))
    rows = wh.query(
        f"SELECT {', '.join(quote_identifier(c) for c in FACT_COLUMNS)} FROM facts"
        " WHERE cityHash64(event_id, {seed:UInt64}) % {every:UInt64} = 0"
        " LIMIT {count:UInt64}",
        {"seed": seed, "every": every, "count": count},
    )
    return rows


def run(
    wh: Warehouse,
    *,
    facts: int = 200_000,
    batch: int = 5_000,
    batches: int = 5,
    load_batches: int = 20,
    seed: int = 1,
    full_check: bool = False,
    progress: Callable[[int], None] = lambda n: None,
) -> Figures:
    """Prefill ``facts`` minus ``load_batches`` batches in bulk, load those batches
    sink-style (timed: the load rate), then time ``batches`` correction batches (each
    correcting ``batch`` events picked anywhere in the history), then reconcile month by
    month."""
    migrate(wh)
    loaded = min(facts, load_batches * batch)
    figures = Figures(facts_loaded=loaded)
    now = datetime.now(UTC)
    started = time.perf_counter()
    if facts > loaded:
        prefill(wh, facts - loaded, seed, now)
        progress(facts - loaded)
        # The bulk prefill leaves the engine merging millions of rows for minutes; a worker
        # whose history grew over a year meets no such backlog, so the timed steps wait it out.
        figures.settle_seconds = settle(wh)
    figures.measure_phase("prefill")
    for first in range(facts - loaded, facts, batch):
        rows = [event(seed, i, now) for i in range(first, min(first + batch, facts))]
        steps = _sink_batch(wh, rows)[:3]
        figures.load_seconds += sum(s.wall for s in steps)
        figures.load_cpu_seconds += sum(s.cpu for s in steps)
        progress(len(rows))
    figures.load_wall_seconds = time.perf_counter() - started
    rng = random.Random(seed)
    picked = old_events(wh, batch * batches, seed)
    for start in range(0, len(picked), batch):
        now = datetime.now(UTC)
        rows = [correction(rng, fact, now) for fact in picked[start : start + batch]]
        write, refresh, activity, keys = _sink_batch(wh, rows)
        for walls, cpus, step in (
            (figures.write, figures.write_cpu, write),
            (figures.refresh, figures.refresh_cpu, refresh),
            (figures.activity, figures.activity_cpu, activity),
        ):
            walls.append(step.wall)
            cpus.append(step.cpu)
        figures.keys.append(keys)
        progress(len(rows))
    figures.measure_phase("sink steps")
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
    figures.measure_phase("reconcile" + (" and full check" if full_check else ""))
    return figures
