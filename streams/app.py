"""The Faust worker app: one thin agent over the registry's partner topics.

How "offsets advance only after a durable write" is guaranteed with Faust's acking:
the agent consumes with ``Stream.take_events``, which turns automatic acks off and acks the
events of a batch only when the agent asks for the *next* batch. The agent's body awaits
:meth:`streams.sink.Sink.write`, which returns only after the batch's facts, refs and dead
letters are in the warehouse (retrying, never raising, while it is unavailable). Faust commits
only acked offsets. So a worker killed at any instant has committed nothing it has not written,
and what it wrote but did not commit is written again, idempotently, by whoever takes over.

Faust's own tables and exactly-once mode are not used (see DESIGN.md): the warehouse holds the
truth and the worker holds none.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import faust

from partnerhub.settings import HubSettings
from schemas.refdata import Partner
from schemas.topics import ALERTS_TOPIC, DEADLETTER_TOPIC
from streams.clock import Clock, shifted_clock, system_clock
from streams.metrics import WorkerMetrics
from streams.signals import NO_MONTH, check_silent_partners
from streams.sink import Batch, Sink
from streams.status import lag_status, warehouse_status, worker_status
from streams.transform import Meta, Outcome, Row, process
from warehouse.client import Warehouse, WarehouseError, open_warehouse

log = logging.getLogger(__name__)

APP_ID = "partnerhub-worker"


def faust_options(settings: HubSettings) -> dict[str, Any]:
    """Keyword arguments for ``faust.App`` from the hub's settings."""
    kafka = settings.kafka
    timings = kafka.timings
    options: dict[str, Any] = {
        "broker": [f"kafka://{host}" for host in kafka.bootstrap.split(",")],
        "key_serializer": "raw",
        "value_serializer": "raw",
        "store": "memory://",
        "datadir": str(settings.data_dir / "faust"),
        "broker_session_timeout": timings.session_timeout,
        "broker_heartbeat_interval": timings.heartbeat_interval,
        "broker_rebalance_timeout": timings.rebalance_timeout,
        "broker_commit_interval": timings.commit_interval,
        "consumer_auto_offset_reset": "earliest",
        # Topics are created by `partnerhub partners sync`, with the partitions it is told.
        "topic_allow_declare": False,
        "producer_acks": -1,
        "web_enabled": settings.worker.web_port > 0,
        "web_port": settings.worker.web_port,
        "web_bind": settings.worker.web_host,
        "web_host": settings.worker.web_host,
    }
    if kafka.security_protocol.startswith("SASL"):
        options["broker_credentials"] = faust.SASLCredentials(
            username=kafka.username,
            password=kafka.password.get_secret_value() if kafka.password else None,
            mechanism=kafka.sasl_mechanism,
            ssl_context=None,
        )
    return options


def partner_topics(registry: Mapping[str, Partner]) -> list[str]:
    """Every partner topic the registry defines, sorted."""
    return sorted(t for partner in registry.values() for t in partner.topics())


def meta_of(message: Any) -> Meta:
    """Where a Faust message came from, with its broker timestamp as an aware datetime."""
    return Meta(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        published_at=datetime.fromtimestamp(message.timestamp or 0, UTC),
    )


@dataclass
class Worker:
    """The Faust app with the parts a status page or a test may want to reach."""

    app: faust.App
    sink: Sink
    metrics: WorkerMetrics
    topics: list[str]


def alert_message(alert: Row) -> bytes:
    """The ``hub.alerts.v1`` value of an alert row: JSON, dates as ISO strings, no refs."""
    return json.dumps(
        {
            **alert,
            "raised_at": alert["raised_at"].isoformat(),
            "month": None if alert["month"] == NO_MONTH else alert["month"].isoformat()[:7],
            "details": json.loads(alert["details"]),
        },
        sort_keys=True,
    ).encode()


def settings_clock(settings: HubSettings) -> Clock:
    """The real clock, or one started at ``settings.start_time`` for demos and replays."""
    return shifted_clock(settings.start_time) if settings.start_time else system_clock


def create_worker(
    settings: HubSettings,
    *,
    clock: Clock | None = None,
    warehouse: Callable[[], Warehouse] | None = None,
) -> Worker:
    """Build the worker: app, agent, dead-letter and alert publishing, sink, from settings."""
    clock = clock or settings_clock(settings)
    registry = settings.registry()
    topics = partner_topics(registry)
    app = faust.App(APP_ID, **faust_options(settings))
    metrics = WorkerMetrics()
    deadletter_topic = app.topic(DEADLETTER_TOPIC)

    async def publish_deadletters(rows: Sequence[Row]) -> None:
        sent = [
            await deadletter_topic.send(
                key=row["partner_id"].encode(),
                value=row["raw"],
                headers=[
                    ("x-hub-reasons", row["reasons"].encode()),
                    ("x-hub-topic", row["topic"].encode()),
                    ("x-hub-partition", str(row["partition"]).encode()),
                    ("x-hub-offset", str(row["offset"]).encode()),
                ],
            )
            for row in rows
        ]
        await asyncio.gather(*sent)  # delivered, not merely buffered

    alerts_topic = app.topic(ALERTS_TOPIC)

    async def publish_alerts(rows: Sequence[Row]) -> None:
        sent = [
            await alerts_topic.send(key=row["alert_type"].encode(), value=alert_message(row))
            for row in rows
        ]
        await asyncio.gather(*sent)

    sink = Sink(
        warehouse or (lambda: open_warehouse(settings)),
        publish_deadletters,
        metrics,
        publish_alerts=publish_alerts,
        clock=clock,
    )
    size, within = settings.worker.batch_size, settings.worker.batch_seconds

    @app.agent(app.topic(*topics), name="ingest")
    async def ingest(stream: faust.StreamT[bytes]) -> None:
        assert isinstance(stream, faust.Stream)  # take_events is on the class, not the protocol
        async for events in stream.take_events(size, within=within):
            now = clock()
            outcomes: list[Outcome] = [
                process(event.message.value or b"", meta_of(event.message), registry, now=now)
                for event in events
            ]
            await sink.write(Batch.of(outcomes))
            # take_events acks `events` when this loop asks for the next batch.

    @app.timer(settings.worker.silent_check_seconds, on_leader=True)  # type: ignore[untyped-decorator]
    async def silent_partners() -> None:
        now = clock()
        try:
            alerts = await asyncio.to_thread(
                sink.read,
                lambda wh: check_silent_partners(wh, registry, now, settings.worker.silent_days),
            )
            await sink.raise_alerts(alerts)
        except WarehouseError as error:  # the next tick tries again
            log.warning("silent-partner check skipped: %s", error)

    @app.timer(settings.worker.rollup_check_seconds, on_leader=True)  # type: ignore[untyped-decorator]
    async def monthly_rollups() -> None:
        from rollups.schedule import run_due_rollups  # only the leader's timer needs it

        try:
            runs = await asyncio.to_thread(
                sink.read, lambda wh: run_due_rollups(wh, settings, clock)
            )
        except WarehouseError as error:  # the next tick tries again
            log.warning("scheduled roll-ups skipped: %s", error)
            return
        for run in runs:
            if run.created:
                log.info(
                    "roll-up %s version %d written: %s",
                    run.version.month,
                    run.version.version,
                    run.files.get("html"),
                )

    @app.page("/status")
    async def status_page(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        lag = await asyncio.to_thread(lag_status, settings.kafka, APP_ID, topics)
        try:
            stored: dict[str, Any] = await asyncio.to_thread(sink.read, warehouse_status)
        except WarehouseError as error:
            stored = {"error": str(error)}
        return web.json(
            {"group": APP_ID, "lag": lag, "worker": worker_status(metrics), "warehouse": stored}
        )

    @app.page("/metrics")
    async def metrics_page(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        return web.text(metrics.prometheus(), content_type="text/plain; version=0.0.4")

    return Worker(app=app, sink=sink, metrics=metrics, topics=topics)


def run_worker(settings: HubSettings, *, loglevel: str = "WARNING") -> None:
    """Run the worker in the foreground until SIGINT/SIGTERM; it stops cleanly on either."""
    worker = create_worker(settings)
    log.info("subscribing to %d partner topics", len(worker.topics))
    runner = faust.Worker(worker.app, loglevel=loglevel, quiet=True)
    try:
        runner.execute_from_commandline()
    finally:
        worker.sink.close()
