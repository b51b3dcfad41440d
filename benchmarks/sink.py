"""The sink's own cost: the worker's Sink (steps, retries, metrics) against the same work done
by plain calls.

    python benchmarks/sink.py [--events N] [--rounds R] [--batch-size B]

Simulates N messages (duplicates, corrections, invalid ones), turns them into batches with the
worker's transform once, then writes the same batches in alternating runs into two databases of
one embedded warehouse: (a) plain calls, what the old sink did per batch: ``write_batch``, the
duplicate-assistance check and storing its alerts; (b) ``streams.sink.Sink`` as the worker builds
it: the narrow writer through the warehouse access in a thread, tenacity's retry controller, the
after-write steps (dead-letter and alert publishers that only count rows: no broker), and the
metrics. Prints events/s and events per CPU-second of each (best of the rounds) and the ratio
sink/plain; the goal is >= 0.95 (the composition costs next to nothing beside the writes).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from procstat import memory_mb  # a sibling module: scripts run from benchmarks/

from producers.simulator import SimulationSpec, simulate
from streams.access import WarehouseAccess
from streams.after_write import CheckDuplicateAssistance, PublishDeadletters
from streams.alerts import RaiseAlerts
from streams.batch import Batch
from streams.metrics import WorkerMetrics
from streams.signals import check_duplicate_assistance
from streams.sink import Sink
from streams.transform import Meta, Row, process
from streams.writer import WarehouseWriter, write_batch
from warehouse.client import EmbeddedWarehouse, Warehouse
from warehouse.facts import write_alerts
from warehouse.migrate import migrate

NOW = datetime(2006, 7, 1, tzinfo=UTC)
#: The hub secret beneficiary refs are re-keyed with (disclosure.keys).
KEY = b"benchmark-hub-secret"


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float


def batches_of(events: int, size: int, seed: int) -> list[Batch]:
    """The simulation's messages as the worker's batches (transform done here, not timed)."""
    sim = simulate(SimulationSpec(start="2006-01", end="2006-06", events=events, seed=seed))
    batches = []
    for start in range(0, len(sim.messages), size):
        chunk = sim.messages[start : start + size]
        outcomes = [
            process(
                m.value, Meta(m.topic, 0, start + i, NOW), sim.spec.partners, now=NOW, ref_key=KEY
            )
            for i, m in enumerate(chunk)
        ]
        batches.append(Batch.of(outcomes))
    return batches


def run_plain(wh: Warehouse, batches: Sequence[Batch]) -> Run:
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        write_batch(wh, batch)
        alerts = check_duplicate_assistance(wh, batch.assistance_events(), NOW)
        if alerts:
            write_alerts(wh, alerts)
    return Run(time.perf_counter() - wall, time.process_time() - cpu)


def run_sink(wh: Warehouse, batches: Sequence[Batch]) -> Run:
    sent: list[int] = []

    async def publish(rows: Sequence[Row]) -> None:
        sent.append(len(rows))

    access = WarehouseAccess(lambda: wh)
    metrics = WorkerMetrics()
    steps = (
        PublishDeadletters(publish),
        CheckDuplicateAssistance(access, lambda: NOW),
        RaiseAlerts(access, publish, metrics),
    )
    sink = Sink(WarehouseWriter(access), steps, metrics)

    async def write_all() -> None:
        for batch in batches:
            await sink.write(batch)

    wall, cpu = time.perf_counter(), time.process_time()
    asyncio.run(write_all())
    return Run(time.perf_counter() - wall, time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000, help="simulated events")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, interleaved")
    parser.add_argument("--batch-size", type=int, default=5000, help="messages per batch")
    parser.add_argument("--seed", type=int, default=2006)
    args = parser.parse_args()

    batches = batches_of(args.events, args.batch_size, args.seed)
    messages = sum(len(b) for b in batches)
    print(f"{messages:,} messages in {len(batches)} batches of up to {args.batch_size:,}")
    plain_runs, sink_runs = [], []
    with TemporaryDirectory(prefix="sink-bench-") as folder:
        for round_ in range(1, args.rounds + 1):
            # Fresh databases each round: every run writes into empty tables.
            for kind, runs, runner in (
                ("plain", plain_runs, run_plain),
                ("sink", sink_runs, run_sink),
            ):
                wh = EmbeddedWarehouse(Path(folder), database=f"{kind}_{round_}")
                try:
                    migrate(wh)
                    runs.append(runner(wh, batches))
                finally:
                    wh.close()
            print(
                f"round {round_}: plain {messages / plain_runs[-1].wall:8,.0f} events/s, "
                f"sink {messages / sink_runs[-1].wall:8,.0f} events/s"
            )
    # Best of the rounds: the run least disturbed by other work on the machine; CPU time of
    # this process (every thread) is the figure other load disturbs least.
    plain_wall, sink_wall = min(r.wall for r in plain_runs), min(r.wall for r in sink_runs)
    plain_cpu, sink_cpu = min(r.cpu for r in plain_runs), min(r.cpu for r in sink_runs)
    print(f"                 {'events/s':>10}  {'per CPU-s':>10}  (best of {args.rounds})")
    print(f"plain calls:     {messages / plain_wall:10,.0f}  {messages / plain_cpu:10,.0f}")
    print(f"Sink (steps):    {messages / sink_wall:10,.0f}  {messages / sink_cpu:10,.0f}")
    ratios = f"{plain_wall / sink_wall:10.2f}  {plain_cpu / sink_cpu:10.2f}"
    print(f"ratio sink/plain:{ratios}  (goal >= 0.95)")
    print(f"peak RSS:        {memory_mb()[1]:10.0f} MiB")


if __name__ == "__main__":
    main()
