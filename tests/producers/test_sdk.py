"""The SDK against a real broker: what it sends is exactly the event; what it refuses never leaves.

Every test gets a fresh Tansu (``kafka_bootstrap``) and reads back with a plain kafka-python
consumer. "Nothing was sent" is shown by publishing a valid marker event after the refused ones
and finding the marker first on the partition.
"""

from __future__ import annotations

import gc
import json
import logging
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from broker.process import free_port
from broker.settings import KafkaSettings
from broker.tansu import LocalBroker
from broker.topics import sync_topics
from producers.prepare import prepare
from producers.sdk import BrokerUnavailable, Delivered, DeliveryFailed, Publisher
from schemas import refdata
from schemas.contract import parse_event
from schemas.reasons import InvalidEvent
from schemas.topics import topic_for
from schemas.vocabulary import Kind
from tests.support import consume, events_in

VALID = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "valid"
REGISTRY = refdata.partners()
#: The examples are judged on the operation's clock (see schemas/examples/README.md).
CLOCK = datetime(2006, 12, 31, 12, 0, tzinfo=UTC)
OTHER_ID = "0b7e5a52-93c1-4f5e-8d8e-3c2a1f0e9d7b"


def example(kind: Kind, n: int = 1) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VALID / f"{kind.value}_{n}.json").read_bytes())
    return data


def settings_for(bootstrap: str) -> KafkaSettings:
    settings = KafkaSettings(bootstrap=bootstrap, partitions=2)
    sync_topics(settings)
    return settings


@pytest.mark.kafka
def test_every_kind_arrives_as_sent(kafka_bootstrap: str) -> None:
    settings = settings_for(kafka_bootstrap)
    for kind in Kind:
        event = example(kind)
        partner = event["partner_id"]
        with Publisher(partner, settings, clock=lambda: CLOCK) as publisher:
            delivered = publisher.publish(event).result(timeout=15)
        topic = topic_for(partner, kind)
        assert delivered.topic == topic
        assert delivered.event_id == event["event_id"]
        (record,) = consume(kafka_bootstrap, topic, 1)
        assert record.key == event["event_id"].encode()  # keyed by event (docs/contract.md)
        assert json.loads(record.value) == event
        assert (record.partition, record.offset) == (delivered.partition, delivered.offset)
        assert b" " not in record.value  # compact JSON


@pytest.mark.kafka
def test_a_contract_model_is_sent_as_its_json(kafka_bootstrap: str) -> None:
    settings = settings_for(kafka_bootstrap)
    model = parse_event(example(Kind.SGBV), today=CLOCK.date())
    with Publisher(model.partner_id, settings, clock=lambda: CLOCK) as publisher:
        publisher.publish(model).result(timeout=15)
    (record,) = consume(kafka_bootstrap, topic_for(model.partner_id, Kind.SGBV), 1)
    assert parse_event(record.value, today=CLOCK.date()) == model


@pytest.mark.kafka
def test_refused_events_are_never_sent(kafka_bootstrap: str) -> None:
    settings = settings_for(kafka_bootstrap)
    event = example(Kind.ASSISTANCE)
    partner = event["partner_id"]
    topic = topic_for(partner, Kind.ASSISTANCE)
    broken = {**event, "region": "KZ-99", "payload": {**event["payload"], "quantity": "12"}}
    spoofed = {**event, "partner_id": "redcres"}
    future = {**event, "occurred_on": "2007-01-02", "reported_at": "2007-01-02T10:00:00+06:00"}
    with Publisher(partner, settings, clock=lambda: CLOCK) as publisher:
        with pytest.raises(InvalidEvent) as raised:
            publisher.publish(broken)
        assert [(r.field, r.code) for r in raised.value.reasons] == [
            ("payload.quantity", "wrong_type"),
            ("region", "unknown_region"),
        ]
        with pytest.raises(InvalidEvent) as raised:
            publisher.publish(spoofed)
        assert [(r.field, r.code) for r in raised.value.reasons] == [
            ("partner_id", "partner_mismatch")
        ]
        with pytest.raises(InvalidEvent) as raised:
            publisher.publish(future)
        assert [(r.field, r.code) for r in raised.value.reasons] == [("occurred_on", "future_date")]
        marker = publisher.publish(event).result(timeout=15)
    records = consume(kafka_bootstrap, topic, 1)
    assert [json.loads(r.value) for r in records] == [event]
    assert marker.offset == 0  # nothing went to the partition before the marker


@pytest.mark.kafka
def test_a_kind_the_partner_is_not_mandated_for_is_refused(kafka_bootstrap: str) -> None:
    settings = settings_for(kafka_bootstrap)
    sgbv = {**example(Kind.SGBV), "partner_id": "kzlegal"}
    with Publisher("kzlegal", settings, clock=lambda: CLOCK) as publisher:
        with pytest.raises(InvalidEvent) as raised:
            publisher.publish(sgbv)
        assert [(r.field, r.code) for r in raised.value.reasons] == [("kind", "kind_not_mandated")]
        # a prepared event of another partner is checked again, not trusted
        other = prepare(example(Kind.SGBV), "wcc_almaty", REGISTRY, today=CLOCK.date())
        with pytest.raises(InvalidEvent, match="partner_mismatch"):
            publisher.publish(other)


def test_a_partner_outside_the_registry_gets_no_publisher() -> None:
    with pytest.raises(ValueError, match="'nobody' is not in the partner registry"):
        Publisher("nobody", KafkaSettings(bootstrap="127.0.0.1:1"))


@pytest.fixture
def dead_sockets(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Close, quietly, the sockets kafka-python leaves to the garbage collector after a broker
    failure. Its error logs carry tracebacks that would keep them alive past the test (pytest
    keeps log records), so they are not recorded."""
    caplog.set_level(logging.CRITICAL, logger="kafka")
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.mark.usefixtures("dead_sockets")
def test_an_unreachable_broker_is_reported_at_once() -> None:
    settings = KafkaSettings(bootstrap=f"127.0.0.1:{free_port()}")
    with pytest.raises(BrokerUnavailable, match="cannot reach the Kafka broker"):
        Publisher("kzlegal", settings, producer_options={"bootstrap_timeout_ms": 500})


@pytest.mark.kafka
def test_publish_many_reports_counts(kafka_bootstrap: str) -> None:
    settings = settings_for(kafka_bootstrap)
    partner = "kzlegal"  # mandated for assistance and durable solutions
    examples = [example(Kind.ASSISTANCE, 1), example(Kind.ASSISTANCE, 2)]
    events = [{**e, "partner_id": partner} for e in [*examples, example(Kind.DURABLE_SOLUTIONS)]]
    bad = {**events[0], "event_id": "not-a-uuid"}
    seen: list[str] = []
    with Publisher(partner, settings, clock=lambda: CLOCK) as publisher:
        report = publisher.publish_many(
            [events[0], bad, events[1], events[2]], on_delivery=lambda d: seen.append(d.event_id)
        )
    assert report.ok is False
    assert report.delivered == 3
    assert dict(report.by_topic) == {
        topic_for(partner, Kind.ASSISTANCE): 2,
        topic_for(partner, Kind.DURABLE_SOLUTIONS): 1,
    }
    assert [(index, invalid.reasons[0].code) for index, invalid in report.invalid] == [
        (1, "bad_format")
    ]
    assert report.failed == []
    assert sorted(seen) == sorted(e["event_id"] for e in events)
    records = consume(kafka_bootstrap, topic_for(partner, Kind.ASSISTANCE), 1)
    assert len(records) == 1  # one topic's events in one bulk message (docs/publishing.md)
    assert sorted(e["event_id"] for _, e in events_in(records)) == sorted(
        e["event_id"] for e in events[:2]
    )


@pytest.mark.kafka
@pytest.mark.usefixtures("dead_sockets")
def test_a_broker_that_goes_away_fails_the_delivery(tmp_path: Path) -> None:
    options = {"delivery_timeout_ms": 1500, "request_timeout_ms": 1000, "linger_ms": 0}
    event = example(Kind.ASSISTANCE)
    broker = LocalBroker(log_file=tmp_path / "tansu.log").start()
    try:
        settings = settings_for(broker.bootstrap)
        publisher = Publisher(
            event["partner_id"], settings, clock=lambda: CLOCK, producer_options=options
        )
        assert isinstance(publisher.publish(event).result(timeout=15), Delivered)
    finally:
        broker.stop(timeout=0.2)  # Tansu lingers on SIGTERM while clients are connected
    try:
        delivery = publisher.publish({**event, "event_id": OTHER_ID})
        with pytest.raises(DeliveryFailed) as raised:
            delivery.result(timeout=30)
        assert raised.value.event_id == OTHER_ID
        assert delivery.done()
        assert delivery.exception() is raised.value
    finally:
        publisher.close(timeout=1)
    with pytest.raises(RuntimeError, match="closed"):
        publisher.publish(event)


def test_the_clock_decides_what_is_in_the_future() -> None:
    event = example(Kind.HIV_TRAINING)
    day = date.fromisoformat(event["occurred_on"])
    assert prepare(event, event["partner_id"], REGISTRY, today=day).event.occurred_on == day
    with pytest.raises(InvalidEvent, match="future_date"):
        prepare(event, event["partner_id"], REGISTRY, today=date(day.year, day.month, day.day - 1))
