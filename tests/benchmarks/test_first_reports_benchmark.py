"""``benchmarks/first_reports.py --quick`` runs, prints both sizes with their ratio, and finds
the grain equal to the facts. The times are not checked (a few seconds on a shared machine
say nothing)."""

from __future__ import annotations

import pytest

from tests.benchmarks.test_benchmarks import number, row, run

pytestmark = pytest.mark.clickhouse


def test_first_reports_quick_prints_both_sizes_and_their_ratio() -> None:
    out = run("first_reports.py", "--quick")
    for name in ("refresh_aggregates (baseline)", "refresh_first_reports"):
        small, large, ratio = (number(v) for v in row(out, name).split()[-3:])
        assert small > 0
        assert large > 0
        assert ratio > 0
    assert "grain equals the facts: yes" in out
