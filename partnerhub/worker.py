"""The worker as the hub runs it: the stream worker composed with the roll-up schedule.

``streams`` does not know about roll-ups (they sit a layer above it); this module gives the
worker a leader task that computes and stores due roll-ups while it holds the warehouse, then
renders their files after letting go of it, so ingestion waits only for the roll-up's queries.
"""

from __future__ import annotations

import asyncio
import logging

from partnerhub.settings import HubSettings
from rollups.schedule import store_due_rollups, write_new_versions
from streams.app import LeaderTask, WarehouseReader, WorkerSpec, run_worker
from streams.clock import Clock, shifted_clock, system_clock
from warehouse.client import open_warehouse

log = logging.getLogger(__name__)


def settings_clock(settings: HubSettings) -> Clock:
    """The real clock, or one started at ``settings.start_time`` for demos and replays."""
    return shifted_clock(settings.start_time) if settings.start_time else system_clock


def rollup_task(settings: HubSettings, clock: Clock) -> LeaderTask:
    """The scheduled monthly roll-ups: stored under the warehouse, rendered outside it."""
    rollups = settings.rollups()

    async def run(reader: WarehouseReader) -> None:
        stored = await asyncio.to_thread(
            reader.read, lambda wh: store_due_rollups(wh, rollups, clock)
        )
        for done in await asyncio.to_thread(
            write_new_versions, stored, rollups.folder, rollups.template_dirs()
        ):
            if done.created:
                log.info(
                    "roll-up %s version %d written: %s",
                    done.version.month,
                    done.version.version,
                    done.files.get("html"),
                )

    return LeaderTask("monthly_rollups", settings.worker.rollup_check_seconds, run)


def worker_spec(settings: HubSettings) -> WorkerSpec:
    """The worker the settings describe, with its roll-up schedule."""
    clock = settings_clock(settings)
    return WorkerSpec(
        kafka=settings.kafka,
        worker=settings.worker,
        registry=settings.registry(),
        data_dir=settings.data_dir,
        open_warehouse=lambda: open_warehouse(settings.clickhouse, settings.data_dir),
        ref_key=settings.hub_key(),
        clock=clock,
        leader_tasks=(rollup_task(settings, clock),),
    )


def run(settings: HubSettings, *, loglevel: str = "WARNING") -> None:
    """Run the hub's worker in the foreground until SIGINT/SIGTERM."""
    run_worker(worker_spec(settings), loglevel=loglevel)
