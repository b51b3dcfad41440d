"""The gateway on the production broker: Apache Kafka with SASL/SCRAM and ACLs, logged in as
its own provisioned user, which may write partner topics and dead letters and nothing else."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kafka import TopicPartition
from kafka.errors import TopicAuthorizationFailedError

from broker import clients
from broker.apache_kafka import ApacheKafka
from broker.provision import apply_plan, build_plan
from broker.settings import KafkaSettings
from producers.gateway.app import Gateway, create_app
from producers.gateway.publishing import Sender
from producers.gateway.settings import GatewayLimits
from producers.gateway.tokens import TokenStore
from schemas import refdata
from schemas.topics import ALERTS_TOPIC
from schemas.vocabulary import Kind
from tests.gateway.rig import example

pytestmark = pytest.mark.kafka


def test_the_gateway_publishes_as_its_own_user_under_acls(
    apache_kafka_broker: ApacheKafka, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    code, user = f"g{run}", f"test-gateway-{run}"
    partner = refdata.Partner(
        code=code, name=code, type="ngo", kinds=(Kind.ASSISTANCE,), regions=("KZ-75",)
    )
    registry = {code: partner}
    admin = apache_kafka_broker.settings()
    plan = build_plan(registry, partitions=1, gateway_user=user, worker_user=f"test-worker-{run}")
    apply_plan(admin, plan, {}, f"pw-worker-{run}", gateway_password=f"pw-{user}")
    kafka = apache_kafka_broker.settings(user, f"pw-{user}")
    limits = GatewayLimits(ack_seconds=30)
    gateway = Gateway(
        registry=registry,
        tokens=TokenStore(tmp_path / "tokens.sqlite"),
        sender=Sender(kafka, limits),
        limits=limits,
        clock=lambda: datetime(2006, 12, 31, 12, tzinfo=UTC),
    )
    token, _ = gateway.tokens.create(code, now=gateway.clock())
    client = TestClient(create_app(gateway))
    try:
        event = example(Kind.ASSISTANCE) | {"partner_id": code}
        response = client.post(
            "/v1/events", json=event, headers={"Authorization": f"Bearer {token}"}
        )
        ready = client.get("/readyz")
    finally:
        gateway.sender.close()

    assert ready.status_code == 200  # readiness needs no cluster-wide right
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    assert result["topic"] == partner.topic(Kind.ASSISTANCE)
    (stored,) = read_at(admin, result["topic"], result["partition"], result["offset"])
    assert json.loads(stored)["event_id"] == event["event_id"]
    # The gateway's user may not read what it wrote, nor write the hub's other topics.
    with pytest.raises(TopicAuthorizationFailedError):
        read_at(kafka, result["topic"], result["partition"], result["offset"])
    producer = clients.producer(kafka, max_block_ms=10_000)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(ALERTS_TOPIC, b"{}").get(30)
    finally:
        producer.close(1)


def read_at(settings: KafkaSettings, topic: str, partition: int, offset: int) -> list[bytes]:
    """The value at one offset (as a list, empty if it does not come within 20 s); raises the
    broker's refusal when ``settings`` may not read the topic."""
    consumer = clients.consumer(settings)
    try:
        tp = TopicPartition(topic, partition)
        consumer.beginning_offsets([tp])  # needs DESCRIBE on the topic
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            batch = consumer.poll(timeout_ms=500, max_records=1)
            values = [r.value for rows in batch.values() for r in rows]
            if values:
                return values
        return []
    finally:
        consumer.close()
