"""The benchmarks run end to end in their quick form and print their figures.

Each runs as a subprocess, exactly as a person would run it, on its own Tansu broker (and, for
the pipeline, its own worker processes and chdb folders). The figures themselves are not
checked: on a shared 2-core machine they say nothing in a few seconds; that they are printed,
and are numbers, is what must not break. ``CLICKHOUSE_URL`` is not passed on: the pipeline's
shared-server runs would double its time (run the script by hand for them).

The subprocess timeout is a hang guard, not a speed check: one figure for every benchmark, well
above what the slowest machine seen took (CI's, where ``pipeline.py --quick`` passed 90 s while
taking about 60 s on the development VM), and below pytest-timeout's 600 s so that a hung script
is killed here, with its output shown, rather than the whole test process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]


HANG_GUARD = 450.0
"""Seconds a quick benchmark may run before it is taken to hang."""


def run(script: str, *args: str) -> str:
    """Run ``benchmarks/<script>`` with ``args``; its stdout, or a failure showing its stderr."""
    try:
        done = subprocess.run(
            [sys.executable, str(REPO / "benchmarks" / script), *args],
            cwd=REPO,
            env={k: v for k, v in os.environ.items() if k != "CLICKHOUSE_URL"},
            capture_output=True,
            text=True,
            timeout=HANG_GUARD,
            check=False,
        )
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"{script} ran past {HANG_GUARD:.0f} s:\n{hung.stdout!r}\n{hung.stderr!r}")
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def row(out: str, label: str) -> str:
    """The printed line that starts with ``label``."""
    lines = [line for line in out.splitlines() if line.startswith(label)]
    assert lines, f"no line {label!r} in:\n{out}"
    return lines[0]


def figure(out: str, label: str) -> str:
    """The value column (characters 44-58) of the pipeline's table row ``label``."""
    return row(out, label)[44:58].strip()


def number(text: str) -> float:
    return float(text.replace(",", ""))


def test_pipeline_benchmark_prints_its_figures() -> None:
    out = run("pipeline.py", "--quick")
    for label in (
        "hub worker, 1 process (events/s)",
        "bare Faust agent, decode+count (events/s)",
        "bare aiokafka + chdb insert (events/s)",
        "hub workers, 2 processes (events/s)",
    ):
        assert number(figure(out, label)) > 0
    assert number(figure(out, "ratio hub / bare Faust")) > 0
    assert number(figure(out, "ratio two workers / one")) > 0
    p50, p99 = (number(v) for v in figure(out, "latency p50 / p99 at").split(" / "))
    assert 0 < p50 <= p99
    assert number(figure(out, "peak memory, hub worker (MiB, VmHWM)")) > 50
    row(out, "two workers wrote")  # the split of the two-worker run is shown


def test_status_load_benchmark_prints_its_figures() -> None:
    out = run("status_load.py", "--quick")
    quiet = number(row(out, "hub worker, quiet (events/s)").split()[-1])
    asked = number(row(out, "hub worker, asked (events/s)").split()[-1])
    assert quiet > 0
    assert asked > 0
    assert number(row(out, "rate asked / quiet").split()[4]) > 0
    answered = number(row(out, "/status requests answered").split()[-1])
    assert answered >= 200  # at least one whole wave was asked and answered
    row(out, "answer p50 / p99 (s)")


def test_producer_benchmark_prints_its_figures() -> None:
    # producer.py has no --quick flag; a small --events and one round are its quick form.
    out = run("producer.py", "--events", "2000", "--rounds", "1")
    for label in ("bare kafka-python:", "SDK (validating):", "ratio SDK/bare:"):
        assert number(row(out, label)[len(label) :].split()[0]) > 0
