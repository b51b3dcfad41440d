"""What the first-report grain (``warehouse/first_reports.py``) adds to a batch of new events,
at 1x and 10x the history.

    python benchmarks/first_reports.py [--facts 200000] [--scale 10] [--rounds 5] [--quick]

For each size, a throwaway embedded warehouse is prefilled in bulk with ``--facts`` first
revisions over 2006 (then ``--scale`` times as many over ``--scale`` years from 2006: the
history grows longer, a day holds what a day holds), as ``partnerhub warehouse bench``
prefills it, first reports derived; ``--denser`` puts the larger history in 2006 too (every
day ``--scale`` times as full: a touched day's recomputation reads that many more events).
Then ``--rounds`` sink-style batches of 5,000 new events of 2006 are written, and each
batch's refresh is timed in two parts, as ``streams.writer`` runs them: the baseline
``refresh_aggregates``, then ``refresh_first_reports``. Prints CPU seconds per batch
(medians), the first reports' cost as a share of the baseline, and the 10x/1x ratio of each:
flat is a ratio near 1. The grain is checked against the facts at the end.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warehouse import first_reports
from warehouse.bench import event, prefill
from warehouse.client import EmbeddedWarehouse
from warehouse.facts import refresh_aggregates, write_facts
from warehouse.migrate import migrate

BATCH = 5_000


@dataclass
class Size:
    facts: int
    aggregates: list[float] = field(default_factory=list)
    firsts: list[float] = field(default_factory=list)
    exact: bool = False


def _cpu(step: Callable[[], Any]) -> float:
    started = time.process_time()
    step()
    return time.process_time() - started


def measure(folder: Path, facts: int, days: int, rounds: int, seed: int) -> Size:
    size = Size(facts)
    now = datetime.now(UTC)
    with EmbeddedWarehouse(folder) as wh:
        migrate(wh)
        prefill(wh, facts, seed, now, days=days)
        for n in range(rounds):
            rows = [event(seed, facts + n * BATCH + i, now) for i in range(BATCH)]
            write_facts(wh, rows)
            touched = {(r["partner_id"], r["event_id"]) for r in rows}
            size.aggregates.append(_cpu(lambda t=touched: refresh_aggregates(wh, t)))
            size.firsts.append(_cpu(lambda t=touched: first_reports.refresh_first_reports(wh, t)))
        size.exact = first_reports.differing(wh) == 0
    return size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=200_000, help="facts at 1x")
    parser.add_argument("--scale", type=int, default=10, help="the larger history, times 1x")
    parser.add_argument("--rounds", type=int, default=5, help="batches of 5,000 per size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--denser", action="store_true", help="the larger history in 2006 too")
    parser.add_argument("--quick", action="store_true", help="20,000 facts, x2, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.facts, args.scale, args.rounds = 20_000, 2, 2
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    sizes = []
    for scale in (1, args.scale):
        with tempfile.TemporaryDirectory(prefix="first-reports-") as folder:
            days = 365 if args.denser else 365 * scale
            facts = args.facts * scale
            sizes.append(measure(Path(folder) / "chdb", facts, days, args.rounds, args.seed))
    small, large = sizes
    med = statistics.median
    spread = "the larger in 2006 too" if args.denser else f"the larger over {args.scale} years"
    print(f"load average at start: {load}; {spread}; batches of {BATCH:,} new events in 2006,")
    print("CPU s per batch (median)")
    ratio = f"{args.scale}x / 1x"
    print(f"{'':34} {f'{small.facts:,} facts':>16} {f'{large.facts:,} facts':>16} {ratio:>9}")
    for name, pick in (
        ("refresh_aggregates (baseline)", lambda s: med(s.aggregates)),
        ("refresh_first_reports", lambda s: med(s.firsts)),
    ):
        a, b = pick(small), pick(large)
        print(f"{name:34} {a:>16.3f} {b:>16.3f} {b / a:>9.2f}")
    shares = [med(s.firsts) / med(s.aggregates) for s in sizes]
    print(f"{'first reports / baseline':34} {shares[0]:>16.2f} {shares[1]:>16.2f}")
    print(f"grain equals the facts: {'yes' if small.exact and large.exact else 'NO'}")


if __name__ == "__main__":
    main()
