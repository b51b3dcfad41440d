"""The worker's roll-up task reads under the warehouse lock and renders outside it: a write
completes while a deliberately slow renderer runs, so a roll-up never stalls ingestion for
longer than its queries."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from partnerhub import worker
from partnerhub.settings import HubSettings
from producers.simulator import SimulationSpec, simulate
from rollups.produce import RollupRun
from streams.access import WarehouseAccess
from streams.batch import Batch
from streams.writer import WarehouseWriter
from tests.streams.builders import assistance, outcome
from tests.support import load_simulation

pytestmark = pytest.mark.clickhouse

#: March 2006 and April 2006 are both past their roll-up delay.
LATER = datetime(2006, 5, 10, tzinfo=UTC)


def test_a_write_completes_while_the_rollup_renders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = simulate(SimulationSpec(start="2006-03", end="2006-03", events=300, seed=5))
    wh = load_simulation(tmp_path / "chdb", sim)
    access = WarehouseAccess(lambda: wh)
    settings = HubSettings(data_dir=tmp_path / "hub")
    task = worker.rollup_task(settings, lambda: LATER)
    rendering, written = threading.Event(), threading.Event()
    render = worker.write_new_versions

    def slow_render(
        runs: Collection[RollupRun], folder: Path, template_dirs: Sequence[Path] = ()
    ) -> list[RollupRun]:
        rendering.set()
        assert written.wait(timeout=120), "no write got through while the roll-up rendered"
        return render(runs, folder, template_dirs)

    monkeypatch.setattr(worker, "write_new_versions", slow_render)
    batch = Batch.of([outcome(assistance(1, refs=("d" * 64,)), 0)])

    async def scenario() -> None:
        rollup = asyncio.create_task(task.run(access))
        try:
            rendered = asyncio.create_task(asyncio.to_thread(rendering.wait, 120))
            await asyncio.wait({rendered, rollup}, return_when=asyncio.FIRST_COMPLETED)
            if rollup.done():
                rollup.result()  # a roll-up that failed before rendering says why here
            assert await rendered, "the roll-up never rendered"
            await asyncio.wait_for(asyncio.to_thread(WarehouseWriter(access).write, batch), 60)
        finally:
            written.set()  # let the renderer go whatever happened
        await asyncio.wait_for(rollup, 120)

    try:
        asyncio.run(scenario())
        facts = wh.query(
            "SELECT event_id FROM facts WHERE event_id = {id:String}",
            {"id": "00000000-0000-4000-8000-000000000001"},
        )
    finally:
        access.close()

    assert len(facts) == 1  # the write went in during the rendering
    assert sorted(p.name for p in (settings.data_dir / "rollups").iterdir()) == [
        "2006-03",
        "2006-04",
    ]
    assert any((settings.data_dir / "rollups" / "2006-03").iterdir())  # and it was rendered
