"""Ingestion under status load (#11): the hub worker's rate with and without waves of
concurrent ``/status`` requests, and how long each answer took.

    python benchmarks/status_load.py [--events 100000] [--rounds 2] [--wave 200]
        [--waves-per-second 1] [--broker tansu|kafka] [--keep DIR] [--quick]

Pre-loads ``--events`` simulated valid events (as ``pipeline.py`` does), then drains them with
one hub worker (``partnerhub worker``) ``--rounds`` times each way, each in a fresh group and
data folder:

- **quiet**: nobody asks the worker anything but the benchmark's own ``/metrics`` poll;
- **asked**: from the worker's start to lag 0, a wave of ``--wave`` concurrent ``GET /status``
  requests every ``1 / --waves-per-second`` seconds (one asyncio client with one connection per
  request, so the client costs as little CPU as it can: its cost is part of what is measured,
  on the same two cores).

The order alternates (quiet, asked, asked, quiet, ...) so a machine that slows down or speeds up
during the invocation favours neither side, and the best run of each is compared: rate asked /
rate quiet (the issue's goal: a drop of at most 10%, a ratio >= 0.9), with every answer's status
code and the p50 / p99 / slowest answer time (goal: all 200 answer within 1 s). Beside the
wall-clock rate, the worker's own CPU time (``/proc/<pid>/stat``, from its web server's start to
lag 0) per event: what answering costs the worker, apart from the client's share of the cores
and from whatever else the machine runs. ``--quick``
(10,000 events, one round) is a smoke test. Figures go to stdout, progress to stderr. See
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from pipeline import (  # a sibling script: run from benchmarks/
    Bench,
    Drain,
    best,
    drain_workers,
    phase,
    preload,
    running_broker,
    simulated,
    workspace,
)
from procstat import cpu_seconds  # a sibling module: scripts run from benchmarks/

from broker.topics import sync_topics
from partnerhub.settings import HubSettings
from streams.app import partner_topics
from streams.metrics import quantiles

#: What one /status answer may take (the issue's figure).
ANSWER_SECONDS = 1.0
#: The rate asked / quiet the issue asks for (a drop of at most 10%).
RATE_RATIO_GOAL = 0.9


@dataclass
class Answers:
    """Every /status answer of one asked run."""

    codes: Counter[int] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    waves: int = 0
    slowest_by_wave: list[float] = field(default_factory=list)


class Asker:
    """Waves of concurrent ``GET /status`` from one asyncio loop in a thread of its own."""

    def __init__(self, wave: int, interval: float) -> None:
        self.url = ""  # set once the worker's port is known
        self.wave, self.interval = wave, interval
        self.answers = Answers()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop asking; returns once the wave in flight has been answered."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=30)
        # force_close: every request is a connection of its own, as 200 separate clients are.
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            while not self._stop.is_set():
                began = time.monotonic()
                results = await asyncio.gather(*(self._ask(session) for _ in range(self.wave)))
                for code, seconds in results:
                    self.answers.codes[code] += 1
                    self.answers.seconds.append(seconds)
                self.answers.waves += 1
                self.answers.slowest_by_wave.append(max(seconds for _, seconds in results))
                await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - began)))

    async def _ask(self, session: aiohttp.ClientSession) -> tuple[int, float]:
        started = time.perf_counter()
        try:
            async with session.get(self.url) as response:
                await response.read()
                code = response.status
        except (aiohttp.ClientError, TimeoutError):
            code = 0  # no answer at all
        return code, time.perf_counter() - started


@dataclass
class Run:
    """One drain, with the CPU its worker used (from its web server's start to lag 0)."""

    drain: Drain
    cpu_seconds: float
    answers: Answers | None = None

    @property
    def rate(self) -> float:
        return self.drain.rate

    @property
    def events_per_cpu_second(self) -> float:
        return self.drain.events / self.cpu_seconds if self.cpu_seconds else float("nan")


class WorkerCpu:
    """The worker's CPU time between two moments of a drain."""

    def __init__(self) -> None:
        self.pid = 0
        self.started = self.seconds = 0.0

    def start(self, workers: list[subprocess.Popen[bytes]]) -> None:
        self.pid = workers[0].pid
        self.started = cpu_seconds(self.pid)

    def stop(self) -> None:
        self.seconds = cpu_seconds(self.pid) - self.started


def drain_once(bench: Bench, asker: Asker | None) -> Run:
    """One worker draining the pre-loaded events, asked for its status by ``asker`` if any."""
    kind = "asked" if asker else "quiet"
    hub = bench.settings(bench.folder(kind))
    if asker is not None:
        asker.url = f"http://127.0.0.1:{hub.worker.web_port}/status"
    cpu = WorkerCpu()

    def started(workers: list[subprocess.Popen[bytes]]) -> None:
        cpu.start(workers)
        if asker is not None:
            asker.start()

    def stopping() -> None:
        if asker is not None:
            asker.stop()  # no wave may meet a worker that is stopping
        cpu.stop()

    drain = drain_workers(
        bench, f"hub worker, {kind}", [hub], on_started=started, on_stopping=stopping
    )
    return Run(drain, cpu.seconds, asker.answers if asker else None)


def report(args: argparse.Namespace, quiet: list[Run], asked: list[Run]) -> None:
    """Print the figures table."""
    quiet_best, asked_best = best(quiet), best(asked)
    answers = Answers()
    for run in asked:
        assert run.answers is not None
        answers.codes.update(run.answers.codes)
        answers.seconds.extend(run.answers.seconds)
        answers.waves += run.answers.waves
    ratio = asked_best.rate / quiet_best.rate
    quiet_cpu = max(r.events_per_cpu_second for r in quiet)
    asked_cpu = max(r.events_per_cpu_second for r in asked)
    within = sum(1 for s in answers.seconds if s < ANSWER_SECONDS)
    spread = quantiles(answers.seconds)  # empty when no answer came
    print()
    print(f"ingestion under status load ({args.broker}, {args.events:,} events pre-loaded,")
    print(f"best of {args.rounds} each way, a wave of {args.wave} concurrent GET /status")
    print(f"every {1 / args.waves_per_second:.2f} s while the asked worker drains)")
    rows = [
        ("hub worker, quiet (events/s)", f"{quiet_best.rate:,.0f}", ""),
        ("hub worker, asked (events/s)", f"{asked_best.rate:,.0f}", ""),
        ("  per run, quiet", " ".join(f"{r.rate:,.0f}" for r in quiet), ""),
        ("  per run, asked", " ".join(f"{r.rate:,.0f}" for r in asked), ""),
        ("rate asked / quiet", f"{ratio:.2f}", f">= {RATE_RATIO_GOAL}"),
        ("worker events per CPU-s, quiet", f"{quiet_cpu:,.0f}", ""),
        ("worker events per CPU-s, asked", f"{asked_cpu:,.0f}", ""),
        ("  per run, quiet", " ".join(f"{r.events_per_cpu_second:,.0f}" for r in quiet), ""),
        ("  per run, asked", " ".join(f"{r.events_per_cpu_second:,.0f}" for r in asked), ""),
        ("worker CPU asked / quiet, per event", f"{quiet_cpu / asked_cpu:.2f}", ""),
        ("/status requests answered", f"{sum(answers.codes.values()):,}", ""),
        ("  by status code", " ".join(f"{c}:{n}" for c, n in sorted(answers.codes.items())), ""),
        ("  waves", f"{answers.waves}", ""),
        (
            "answer p50 / p99 (s)",
            f"{spread.get('p50', float('nan')):.3f} / {spread.get('p99', float('nan')):.3f}",
            "",
        ),
        (
            "slowest answer (s)",
            f"{max(answers.seconds, default=float('nan')):.3f}",
            f"< {ANSWER_SECONDS}",
        ),
        ("answers within 1 s", f"{within:,} of {len(answers.seconds):,}", "all"),
        (
            "mean answer (s)",
            f"{statistics.fmean(answers.seconds):.4f}" if answers.seconds else "-",
            "",
        ),
    ]
    for name, value, goal in rows:
        print(f"{name:36}{value:>24}  {goal}")
    for run in asked:
        assert run.answers is not None
        waves = " ".join(f"{s:.2f}" for s in run.answers.slowest_by_wave)
        print(f"slowest answer of each wave, in order ({run.rate:,.0f}/s run): {waves}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events to pre-load")
    parser.add_argument("--rounds", type=int, default=2, help="drains each way")
    parser.add_argument("--wave", type=int, default=200, help="concurrent requests per wave")
    parser.add_argument("--waves-per-second", type=float, default=1.0)
    parser.add_argument("--broker", choices=("tansu", "kafka"), default="tansu")
    parser.add_argument("--seed", type=int, default=2006)
    parser.add_argument("--keep", type=Path, default=None, help="keep folders and logs here")
    parser.add_argument("--quick", action="store_true", help="5,000 events, one round")
    args = parser.parse_args()
    if args.quick:
        args.events, args.rounds = 5_000, 1
    interval = 1 / args.waves_per_second
    order = [("quiet", "asked") if n % 2 == 0 else ("asked", "quiet") for n in range(args.rounds)]
    with (
        workspace(args.keep) as root,
        running_broker(args.broker, root / "broker", partitions=2) as kafka,
    ):
        bench = Bench(root, kafka, (), partner_topics(HubSettings().registry()))
        bench.migrate_ahead([name for pair in order for name in pair])
        with phase("simulation"):
            bench.messages = simulated(args.events, args.seed, "event")
        sync_topics(kafka)
        with phase("pre-load"):
            preload(kafka, bench.messages, bench.topics)
        runs: dict[str, list[Run]] = {"quiet": [], "asked": []}
        for n, pair in enumerate(order, start=1):
            for kind in pair:
                with phase(f"round {n}, {kind}"):
                    asker = Asker(args.wave, interval) if kind == "asked" else None
                    runs[kind].append(drain_once(bench, asker))
        quiet, asked = runs["quiet"], runs["asked"]
    report(args, quiet, asked)


if __name__ == "__main__":
    main()
