"""The Faust worker app: one thin agent over the registry's partner topics.

How "offsets advance only after a durable write" is guaranteed with Faust's acking:
the agent turns the stream's automatic acks off and hands each event, validated, to
:class:`streams.ingest.Ingest`, whose writer task awaits :meth:`streams.sink.Sink.write` for a
batch (it returns only after the batch's facts, refs and dead letters are in the warehouse and
its after-write steps are done, retrying, never raising, while it is unavailable) and only then
acks that batch's events (Kafka messages; a bulk message's events are all in one batch) with
``Stream.ack``, one batch at a time, in order. Meanwhile the agent
takes and validates the next batch (pipelining); the window adapts (``streams/window.py``).
Faust commits only acked offsets (per partition, up to the first un-acked one). So a worker
killed at any instant has committed nothing it has not written, and what it wrote but did not
commit is written again, idempotently, by whoever takes over.

Faust's own tables and exactly-once mode are not used (see DESIGN.md): the warehouse holds the
truth and the worker holds none.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import faust
from faust.utils import json as faust_json

from broker.settings import KafkaSettings
from schemas.refdata import Partner
from schemas.topics import ALERTS_TOPIC, DEADLETTER_TOPIC
from streams.access import WarehouseAccess
from streams.after_write import AlertUnstorable, CheckDuplicateAssistance, PublishDeadletters
from streams.alerts import RaiseAlerts, alert_message
from streams.clock import Clock, system_clock
from streams.ingest import Ingest
from streams.metrics import WorkerMetrics
from streams.publish import deadletter_message, topic_publisher
from streams.settings import WorkerSettings
from streams.signals import check_silent_partners
from streams.sink import Sink
from streams.status import (
    RenderedOnce,
    StatusCache,
    host_guard,
    lag_status,
    warehouse_status,
    worker_status,
)
from streams.transform import Meta, process_message, published_at
from streams.watcher import WATCH_SECONDS, UnregisteredTopics
from streams.web import WEB_DRIVER_URL
from streams.window import BatchWindow
from streams.writer import WarehouseWriter
from warehouse.client import Warehouse, WarehouseError

log = logging.getLogger(__name__)

APP_ID = "partnerhub-worker"
T = TypeVar("T")


class WarehouseReader(Protocol):
    """Runs a query on the worker's warehouse between writes (blocking: call it in a thread)."""

    def read(self, query: Callable[[Warehouse], T]) -> T: ...


@dataclass(frozen=True)
class LeaderTask:
    """Periodic work only the group's leader runs (e.g. the monthly roll-ups), given a reader."""

    name: str
    every_seconds: float
    run: Callable[[WarehouseReader], Awaitable[None]]


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker is built from; ``partnerhub`` composes it from the hub's settings."""

    kafka: KafkaSettings
    worker: WorkerSettings
    registry: Mapping[str, Partner]
    data_dir: Path
    open_warehouse: Callable[[], Warehouse]
    #: The hub's secret that re-keys beneficiary refs at intake (``disclosure.keys``).
    ref_key: bytes
    clock: Clock = system_clock
    leader_tasks: Sequence[LeaderTask] = field(default=())


def faust_options(kafka: KafkaSettings, worker: WorkerSettings, data_dir: Path) -> dict[str, Any]:
    """Keyword arguments for ``faust.App`` from the Kafka and worker settings."""
    timings = kafka.timings
    options: dict[str, Any] = {
        "broker": [f"kafka://{host}" for host in kafka.bootstrap.split(",")],
        "key_serializer": "raw",
        "value_serializer": "raw",
        "store": "memory://",
        "datadir": str(data_dir / "faust"),
        "broker_session_timeout": timings.session_timeout,
        "broker_heartbeat_interval": timings.heartbeat_interval,
        "broker_rebalance_timeout": timings.rebalance_timeout,
        "broker_commit_interval": timings.commit_interval,
        "consumer_auto_offset_reset": "earliest",
        # Topics are created by `partnerhub partners sync`, with the partitions it is told.
        "topic_allow_declare": False,
        "producer_acks": -1,
        "web_enabled": worker.web_port > 0,
        "web": WEB_DRIVER_URL,  # aiohttp with a listen backlog for bursts of requests
        "web_port": worker.web_port,
        "web_bind": worker.web_host,
        "web_host": worker.web_host,
        # Faust's own pages (/router/, /table/) are not the hub's API; /router/key/ answered 500.
        "web_router_enabled": False,
        "web_tables_enabled": False,
        "web_application_options": {"middlewares": [host_guard(worker.web_allowed_hosts)]},
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
        published_at=published_at(message.timestamp),
    )


@dataclass
class Worker:
    """The Faust app with the parts a status page or a test may want to reach."""

    app: faust.App
    sink: Sink
    access: WarehouseAccess
    metrics: WorkerMetrics
    topics: list[str]
    watcher: UnregisteredTopics


def create_worker(spec: WorkerSpec) -> Worker:
    """Build the worker: app, agent, sink and its steps, timers, pages."""
    clock, registry, settings = spec.clock, spec.registry, spec.worker
    topics = partner_topics(registry)
    app = faust.App(APP_ID, **faust_options(spec.kafka, settings, spec.data_dir))
    metrics = WorkerMetrics()
    access = WarehouseAccess(spec.open_warehouse)
    alerts = RaiseAlerts(
        access,
        topic_publisher(
            app.topic(ALERTS_TOPIC), lambda a: (a["alert_type"].encode(), alert_message(a), [])
        ),
        metrics,
    )
    steps = (
        PublishDeadletters(topic_publisher(app.topic(DEADLETTER_TOPIC), deadletter_message)),
        CheckDuplicateAssistance(access, clock),
        AlertUnstorable(clock),
        alerts,
    )
    sink = Sink(WarehouseWriter(access, clock), steps, metrics, after_failure=access.reconnect)

    window = BatchWindow(settings.batch_size, settings.batch_seconds, settings.batch_quiet_seconds)

    @app.agent(app.topic(*topics), name="ingest")
    async def ingest(stream: faust.StreamT[bytes]) -> None:
        assert isinstance(stream, faust.Stream)  # ack is on the class, not the protocol
        ack = stream.ack

        async def ack_all(events: Sequence[faust.EventT[bytes]]) -> None:
            for event in events:
                await ack(event)

        # Acks are ours: an event is acked only after its batch is written (Ingest).
        stream.enable_acks = False
        async with Ingest[faust.EventT[bytes]](window, sink.write, ack_all) as buffer:
            async for event in stream.events():
                message = event.message
                outcomes = process_message(
                    message.value or b"",
                    message.headers,
                    meta_of(message),
                    registry,
                    now=clock(),
                    ref_key=spec.ref_key,
                )
                await buffer.add(event, outcomes)

    @app.timer(settings.silent_check_seconds, on_leader=True)  # type: ignore[untyped-decorator]
    async def silent_partners() -> None:
        now = clock()
        try:
            found = await asyncio.to_thread(
                access.read,
                lambda wh: check_silent_partners(wh, registry, now, settings.silent_days),
            )
            await alerts.raise_alerts(found)
        except WarehouseError as error:  # the next tick tries again
            log.warning("silent-partner check skipped: %s", error)

    watcher = UnregisteredTopics(
        spec.kafka, topics, registry, sink, clock, alerts.raise_alerts, spec.ref_key
    )

    # On the leader only: one watcher per group, so a message on such a topic is dead-lettered
    # once (a new leader resumes from the watcher group's committed offsets).
    @app.timer(WATCH_SECONDS, on_leader=True)  # type: ignore[untyped-decorator]
    async def unregistered_topics() -> None:
        try:
            await watcher.run_once()
        except Exception as error:  # the broker is away: the next tick tries again
            log.warning("watching topics outside the registry: %s", error)

    for task in spec.leader_tasks:
        _add_leader_task(app, task, access)

    cache = StatusCache()

    @app.timer(settings.status_refresh_seconds)  # type: ignore[untyped-decorator]
    async def measure_status() -> None:
        lag = await asyncio.to_thread(lag_status, spec.kafka, APP_ID, topics)
        try:
            now = clock()
            stored: dict[str, Any] = await asyncio.to_thread(
                access.read, lambda wh: warehouse_status(wh, now)
            )
        except WarehouseError as error:
            stored = {"error": str(error)}
        cache.update(lag, stored, clock())

    def render_status() -> bytes:
        unregistered = {"topics": sorted(watcher.topics), "deadlettered": watcher.deadlettered}
        body = {
            "group": APP_ID,
            "lag": cache.lag,
            "worker": worker_status(metrics),
            "warehouse": cache.warehouse,
            "measured_at": cache.measured_at,
            "unregistered_topics": unregistered,
        }
        dumped: str | bytes = faust_json.dumps(body)  # bytes when orjson is installed
        return dumped if isinstance(dumped, bytes) else dumped.encode()

    # Rendered at most every RENDER_SECONDS, however many ask (see RenderedOnce).
    status_body = RenderedOnce(render_status)
    metrics_body = RenderedOnce(lambda: metrics.prometheus().encode())

    @app.page("/status")
    async def status_page(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        return web.bytes(status_body.body(), content_type="application/json")

    @app.page("/metrics")
    async def metrics_page(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        return web.bytes(metrics_body.body(), content_type="text/plain; version=0.0.4")

    return Worker(
        app=app, sink=sink, access=access, metrics=metrics, topics=topics, watcher=watcher
    )


def _add_leader_task(app: faust.App, task: LeaderTask, reader: WarehouseReader) -> None:
    """Run ``task`` every ``task.every_seconds`` on the leader; a failed run waits for the next."""

    async def run() -> None:
        try:
            await task.run(reader)
        except WarehouseError as error:  # the next tick tries again
            log.warning("%s skipped: %s", task.name, error)

    run.__name__ = run.__qualname__ = f"leader_{task.name}"  # Faust names timers by function
    app.timer(task.every_seconds, on_leader=True)(run)


def run_worker(spec: WorkerSpec, *, loglevel: str = "WARNING") -> None:
    """Run the worker in the foreground until SIGINT/SIGTERM; it stops cleanly on either."""
    worker = create_worker(spec)
    log.info("subscribing to %d partner topics", len(worker.topics))
    runner = faust.Worker(worker.app, loglevel=loglevel, quiet=True)
    try:
        runner.execute_from_commandline()
    finally:
        worker.watcher.close()
        worker.access.close()
