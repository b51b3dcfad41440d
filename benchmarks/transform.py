"""CPU cost of the worker's transform per event: ``process()`` over simulated messages.

    python benchmarks/transform.py [--events 5000] [--rounds 5]

Prints CPU microseconds per event, best of the rounds (CPU time: steadier than wall time on a
shared machine). See docs/benchmarks.md (bulk messages).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from producers.simulator import SimulationSpec, simulate
from schemas.refdata import partners
from streams.transform import Meta, process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    spec = {"start": "2006-01", "end": "2006-12", "events": args.events, "seed": 1}
    messages = simulate(SimulationSpec.model_validate(spec)).messages
    registry, now = partners(), datetime.now(UTC)
    best = float("inf")
    for _ in range(args.rounds):
        started = time.process_time()
        for offset, m in enumerate(messages):
            process(m.value, Meta(m.topic, 0, offset, now), registry, now=now)
        best = min(best, (time.process_time() - started) / len(messages) * 1e6)
    shown = f"{len(messages):,} events, best of {args.rounds}"
    print(f"transform: {best:.1f} CPU-us per event ({shown})")


if __name__ == "__main__":
    main()
