"""``benchmarks/month_scale.py --quick`` runs and prints its figures; the bounded roll-up and
reconciliation agree with the scans they replaced at both sizes. The times are not checked
(a few seconds on a shared machine say nothing)."""

from __future__ import annotations

import pytest

from tests.benchmarks.test_benchmarks import row, run

pytestmark = pytest.mark.clickhouse


def test_month_scale_quick_prints_both_sizes_and_their_ratio() -> None:
    out = run("month_scale.py", "--quick")
    for label in ("reconcile_changed", "roll-up of June (bounded)", "whole-history pair"):
        wall_cpu = row(out, label).split()[-3:]
        assert wall_cpu[1] == "/", out
        assert float(wall_cpu[0]) > 0  # the 10x/1x ratio of wall time
        assert float(wall_cpu[2]) > 0  # and of CPU time
    assert "bounded equals before, reconciled: yes" in out
