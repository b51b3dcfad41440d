"""No silent topics: messages on partner topics outside the registry become dead letters."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import TopicPartition

from broker import clients
from broker.settings import KafkaSettings
from broker.topics import sync_topics
from schemas import refdata
from streams.access import WarehouseAccess
from streams.after_write import PublishDeadletters
from streams.alerts import RaiseAlerts
from streams.app import partner_topics
from streams.metrics import WorkerMetrics
from streams.sink import Sink
from streams.transform import Row
from streams.watcher import (
    GROUP,
    UNREGISTERED_TOPIC,
    UnregisteredTopics,
    unregistered_pattern,
)
from streams.writer import WarehouseWriter
from tests.streams.builders import REF_KEY
from warehouse.client import EmbeddedWarehouse
from warehouse.migrate import migrate

VALID = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "valid"
NOW = datetime(2007, 1, 1, 6, tzinfo=UTC)


def test_the_pattern_matches_partner_topics_outside_the_registry_only() -> None:
    registered = partner_topics(refdata.partners())
    pattern = re.compile(unregistered_pattern(registered))
    assert [t for t in registered if pattern.match(t)] == []
    assert pattern.match("partners.evilngo.assistance.v1")
    assert pattern.match("partners.kzlegal.sgbv.v1")  # kzlegal is not mandated for sgbv
    assert pattern.match(registered[0] + "x")  # a prefix of a registered name is not it
    assert not pattern.match("hub.deadletter.v1")


def event_as(partner: str, kind: str) -> bytes:
    """A valid example of ``kind``, claiming to come from ``partner``."""
    body = json.loads((VALID / f"{kind}_1.json").read_bytes())
    return json.dumps({**body, "partner_id": partner}).encode()


@pytest.mark.kafka
@pytest.mark.clickhouse
def test_unregistered_partner_and_unmandated_kind_are_dead_lettered(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    registry = refdata.partners()
    assert "evilngo" not in registry
    assert "sgbv" not in {k.value for k in registry["kzlegal"].kinds}
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, partitions=2)
    sync_topics(kafka, registry)
    producer = clients.producer(kafka)
    sent = {
        "partners.evilngo.assistance.v1": event_as("evilngo", "assistance"),
        "partners.kzlegal.sgbv.v1": event_as("kzlegal", "sgbv"),
        "partners.kzlegal.nonsense.v1": b"not json",
    }
    for topic, value in sent.items():
        producer.send(topic, value).get(timeout=20)
    producer.close()

    wh_dir = tmp_path / "wh"
    with EmbeddedWarehouse(wh_dir) as wh:
        migrate(wh)
    published: list[Row] = []

    async def publish(rows: Sequence[Row]) -> None:
        published.extend(rows)

    alerts: list[Row] = []

    async def publish_alerts(rows: Sequence[Row]) -> None:
        alerts.extend(rows)

    metrics = WorkerMetrics()
    access = WarehouseAccess(lambda: EmbeddedWarehouse(wh_dir))
    sink = Sink(WarehouseWriter(access), (PublishDeadletters(publish),), metrics)
    raising = RaiseAlerts(access, publish_alerts, metrics)
    watcher = UnregisteredTopics(
        kafka, partner_topics(registry), registry, sink, lambda: NOW, raising.raise_alerts, REF_KEY
    )

    async def until_all_seen() -> None:
        while watcher.deadlettered < len(sent):
            await watcher.run_once()

    try:
        asyncio.run(asyncio.wait_for(until_all_seen(), timeout=60))
        stored = access.read(
            lambda wh: wh.query("SELECT topic, codes FROM deadletters FINAL ORDER BY topic")
        )
    finally:
        watcher.close()
        access.close()

    assert {row["topic"]: row["codes"][0] for row in stored} == {
        "partners.evilngo.assistance.v1": "unknown_partner",
        "partners.kzlegal.nonsense.v1": "invalid_json",
        "partners.kzlegal.sgbv.v1": "kind_not_mandated",
    }
    assert sorted(row["raw"] for row in published) == sorted(sent.values())
    assert watcher.topics == set(sent)
    assert sorted(json.loads(a["details"])["topic"] for a in alerts) == sorted(sent)
    assert {a["alert_type"] for a in alerts} == {UNREGISTERED_TOPIC}
    # committed once the dead letters were durable: the group's offsets cover every message
    consumer = clients.consumer(kafka, group_id=GROUP)
    try:
        committed = sum(
            consumer.committed(TopicPartition(topic, p)) or 0
            for topic in sent
            for p in consumer.partitions_for_topic(topic) or ()
        )
    finally:
        consumer.close()
    assert committed == len(sent)


def test_the_watchers_group_is_one_the_worker_user_is_granted() -> None:
    from broker.provision import worker_grants

    granted = {(g.name, g.operation) for g in worker_grants("hub-worker") if g.resource == "group"}
    assert {(GROUP, "READ"), (GROUP, "DESCRIBE")} <= granted
