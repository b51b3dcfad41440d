"""Does a month's roll-up, and the demo's reconciliation, cost what the month holds or what
the history holds? The same months at 1x and at 10x the history.

    python benchmarks/month_scale.py [--facts 200000] [--scale 10] [--quick]

For each size, a throwaway embedded warehouse is filled in bulk with ``--facts`` (then
``--scale`` times as many) first revisions over 12 (then 12 x ``--scale``) months, every
month as full as the others, and checked once month by month. Then, ``--rounds`` times, a
sink-style batch of corrections of the last year's June (moved, retracted, re-regioned; it
touches June and its neighbours) is written, and timed:

- the demo's reconciliation (``reconcile_changed``: the changed months checked, the others
  as last checked) against the whole-history pair it replaced (``totals_by_month`` against
  ``totals_from_facts``);
- June's roll-up (``compute_rollup``: the month's winners through ``fact_keys`` and
  ``fact_revisions``) against the same roll-up made by the facts-scanning queries it
  replaced (``tests/rollups/scanned_queries.py``).

Prints wall and CPU seconds (medians over the rounds) at each size and the 10x/1x ratio:
flat is a ratio near 1, what the history holds a ratio near ``--scale``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the baseline: the scanning queries kept with the tests

from rollups import compute  # noqa: E402
from rollups.compute import compute_rollup  # noqa: E402
from schemas.refdata import targets  # noqa: E402
from tests.rollups import scanned_queries  # noqa: E402
from warehouse.bench import correction, prefill, quote_identifier  # noqa: E402
from warehouse.client import EmbeddedWarehouse, Warehouse  # noqa: E402
from warehouse.facts import (  # noqa: E402
    refresh_aggregates,
    refresh_partner_activity,
    totals_by_month,
    totals_from_facts,
    write_facts,
)
from warehouse.migrate import migrate  # noqa: E402
from warehouse.reconcile import reconcile, reconcile_changed  # noqa: E402
from warehouse.tables import FACT_COLUMNS  # noqa: E402

#: What is timed, in the order printed.
MEASURES = (
    "reconcile_changed (demo, totals)",
    "whole-history pair (before)",
    "roll-up of June (bounded)",
    "roll-up of June, scanning facts (before)",
)


@dataclass
class Size:
    """The figures of one history size."""

    facts: int
    months: int
    first_check: float = 0.0
    checked: list[int] = field(default_factory=list)
    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    equal: bool = True

    def time(self, name: str, step: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = step()
        self.wall.setdefault(name, []).append(time.perf_counter() - wall)
        self.cpu.setdefault(name, []).append(time.process_time() - cpu)
        return result

    def median(self, name: str) -> tuple[float, float]:
        return statistics.median(self.wall[name]), statistics.median(self.cpu[name])


def _corrections(wh: Warehouse, month: date, count: int, rng: random.Random) -> None:
    """A sink batch of ``count`` corrections of events of ``month``."""
    names = ", ".join(quote_identifier(c) for c in FACT_COLUMNS)
    picked = wh.query(
        f"SELECT {names} FROM facts FINAL WHERE toStartOfMonth(occurred_on) = {{m:Date}}"
        " ORDER BY cityHash64(event_id, {salt:UInt64}) LIMIT {n:UInt64}",
        {"m": month, "salt": rng.getrandbits(32), "n": count},
    )
    now = datetime.now(UTC)
    rows = [correction(rng, fact, now) for fact in picked]
    write_facts(wh, rows)
    refresh_aggregates(wh, {(r["partner_id"], r["event_id"]) for r in rows})
    refresh_partner_activity(wh, {r["partner_id"] for r in rows})


def _rollup(wh: Warehouse, month: str) -> compute.Rollup:
    now = datetime(2100, 1, 1, tzinfo=UTC)
    return compute_rollup(wh, month, registry={}, targets=targets(), now=now)


def _scanned_rollup(wh: Warehouse, month: str) -> compute.Rollup:
    bounded = compute.queries
    compute.queries = scanned_queries  # type: ignore[assignment]
    try:
        return _rollup(wh, month)
    finally:
        compute.queries = bounded


def measure(folder: Path, facts: int, months: int, rounds: int, batch: int, seed: int) -> Size:
    """Fill a warehouse in ``folder`` with ``facts`` over ``months`` months and time it."""
    size = Size(facts, months)
    years, rng = months // 12, random.Random(seed)
    june = date(2006 + years - 1, 6, 1)
    with EmbeddedWarehouse(folder) as wh:
        migrate(wh)
        days = (date(2006 + years, 1, 1) - date(2006, 1, 1)).days
        prefill(wh, facts, seed, datetime.now(UTC), days=days)
        started = time.perf_counter()
        reconcile(wh)
        size.first_check = time.perf_counter() - started
        for _ in range(rounds):
            _corrections(wh, june, batch, rng)
            standing = size.time(MEASURES[0], lambda: reconcile_changed(wh))
            size.checked.append(len(standing.checked))
            size.equal &= standing.ok
            rollup = size.time(MEASURES[2], lambda: _rollup(wh, f"{june:%Y-%m}"))
        pair = size.time(MEASURES[1], lambda: totals_by_month(wh) == totals_from_facts(wh))
        scanned = size.time(MEASURES[3], lambda: _scanned_rollup(wh, f"{june:%Y-%m}"))
        size.equal &= pair and scanned.rows == rollup.rows
    return size


def report(small: Size, large: Size, load: str) -> None:
    """Print the figures of both sizes and their ratio."""
    print(f"load average at start: {load}")
    head = f"{small.facts:,} facts, {small.months} months"
    tail = f"{large.facts:,} facts, {large.months} months"
    print(f"{'wall s / CPU s (median)':42} {head:>28} {tail:>28} {'ratio':>12}")
    for name in MEASURES:
        (sw, sc), (lw, lc) = small.median(name), large.median(name)
        print(
            f"{name:42} {f'{sw:.3f} / {sc:.3f}':>28} {f'{lw:.3f} / {lc:.3f}':>28}"
            f" {f'{lw / sw:.2f} / {lc / sc:.2f}':>12}"
        )
    print(
        f"{'first check of every month (once)':42} {f'{small.first_check:.3f}':>28}"
        f" {f'{large.first_check:.3f}':>28} {large.first_check / small.first_check:>12.2f}"
    )
    print(f"months checked per batch: {small.checked} / {large.checked}")
    print(f"bounded equals before, reconciled: {'yes' if small.equal and large.equal else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=200_000, help="facts at 1x (12 months)")
    parser.add_argument("--scale", type=int, default=10, help="the larger history, times 1x")
    parser.add_argument("--rounds", type=int, default=3, help="correction batches per size")
    parser.add_argument("--batch", type=int, default=2_000, help="corrections per batch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="20,000 facts, x2, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.facts, args.scale, args.rounds, args.batch = 20_000, 2, 1, 200
    load = Path("/proc/loadavg").read_text().split()[:3]
    sizes = []
    for scale in (1, args.scale):
        with tempfile.TemporaryDirectory(prefix="month-scale-") as folder:
            sizes.append(
                measure(
                    Path(folder) / "chdb",
                    args.facts * scale,
                    12 * scale,
                    args.rounds,
                    args.batch,
                    args.seed,
                )
            )
    report(sizes[0], sizes[1], " ".join(load))


if __name__ == "__main__":
    main()
