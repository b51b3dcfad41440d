"""The sink benchmark runs in a small form and prints its figures (not checked: a few seconds
on a shared machine say nothing; that they are printed, and are numbers, must not break)."""

from __future__ import annotations

import pytest

from tests.benchmarks.test_benchmarks import number, row, run

pytestmark = pytest.mark.clickhouse


def test_sink_benchmark_prints_its_figures() -> None:
    out = run("sink.py", "--events", "2000", "--batch-size", "1000", "--rounds", "1")

    assert "2,000 messages in 2 batches" in out
    for label in ("plain calls:", "Sink (steps):", "ratio sink/plain:"):
        wall, cpu = (number(v) for v in row(out, label)[len(label) :].split()[:2])
        assert wall > 0
        assert cpu > 0
