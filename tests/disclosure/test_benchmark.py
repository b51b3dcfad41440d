"""``benchmarks/sgbv_engine.py`` runs in its quick form and prints a figure per month size."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_engine_benchmark_prints_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "sgbv_engine.py"), "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["SGBV", "events"]
    rows = [line.split() for line in lines[1:]]
    assert [r[0] for r in rows] == ["20", "60"]
    for r in rows:
        assert float(r[1]) > 0
        assert int(r[4]) >= int(r[5])  # the engine withholds at least the small figures
