"""The gateway on the embedded stack (Tansu, worker, chdb), as ``partnerhub up`` runs it:
events posted as one object, an array, NDJSON and Kobo submissions, each request sent twice,
are in the warehouse totals exactly once; the rejected ones are only in the answers."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from kafka import TopicPartition

from broker import clients
from broker.lag import wait_for_drain
from broker.process import free_port
from broker.settings import KafkaSettings
from partnerhub.settings import HubSettings
from partnerhub.stack import LocalStack
from producers.gateway.tokens import TokenStore
from schemas import refdata
from schemas.bulk import is_bulk, split
from schemas.vocabulary import Kind
from streams.app import APP_ID, partner_topics
from streams.settings import WorkerSettings
from tests.gateway.rig import KOBO_SAMPLES, START, example
from tests.support import ingest_messages
from warehouse.client import open_warehouse
from warehouse.facts import deadletter_counts, totals_by_month
from warehouse.migrate import migrate

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]


def ids(n: int) -> list[str]:
    return [f"9a1c2e3f-4b5d-4e6f-8a7b-{i:012d}" for i in range(n)]


def requests_to_send() -> list[tuple[str, dict[str, str], bytes]]:
    """(path, headers, body) of each request: valid events of kzlegal, and some that are not."""
    a = [example(Kind.ASSISTANCE) | {"event_id": i} for i in ids(4)]
    ds = example(Kind.DURABLE_SOLUTIONS, 3)
    bad = a[0] | {"event_id": ids(9)[8], "payload": {"category": "gold"}}
    js = {"Content-Type": "application/json"}
    nd = {"Content-Type": "application/x-ndjson"}
    lines = b"\n".join(json.dumps(e).encode() for e in (a[3], bad, ds)) + b"\nnot json\n"
    return [
        ("/v1/events", js, json.dumps(a[0]).encode()),
        ("/v1/events", js, json.dumps([a[1], bad, a[2]]).encode()),
        ("/v1/events", nd, lines),
        ("/v1/kobo/kzlegal_distribution", js, (KOBO_SAMPLES / "submission.json").read_bytes()),
        (
            "/v1/kobo/kzlegal_distribution",
            js,
            (KOBO_SAMPLES / "submission-edited.json").read_bytes(),
        ),
    ]


def test_posted_events_are_in_the_warehouse_exactly_once(tmp_path: Path) -> None:
    hub = HubSettings(
        data_dir=tmp_path / "hub",
        kafka=KafkaSettings(partitions=2),
        worker=WorkerSettings(web_port=free_port()),
        start_time=START,
    )
    hub.gateway.port = free_port()
    registry = refdata.partners()
    token, _ = TokenStore(hub.token_file()).create("kzlegal", now=datetime.now(START.tzinfo))
    auth = {"Authorization": "Basic " + base64.b64encode(f"kzlegal:{token}".encode()).decode()}
    accepted: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    with LocalStack(hub, gateway=True) as stack, httpx2.Client(base_url=stack.gateway_url) as http:
        for _ in range(2):  # every request twice, as a client that did not see the answer would
            for path, headers, body in requests_to_send():
                response = http.post(path, content=body, headers=auth | headers, timeout=60)
                data = response.json()
                results = data.get("results", [data])
                accepted += [r for r in results if r["status"] == "accepted"]
                rejected += [r for r in results if r["status"] == "rejected"]
        # A request's events of one topic travel in one bulk message: count messages.
        messages = {(r["topic"], r["partition"], r["offset"]) for r in accepted}
        assert len(messages) < len(accepted)
        wait_for_drain(
            hub.kafka, APP_ID, partner_topics(registry), timeout=120, expect_messages=len(messages)
        )
        distinct = {(r["event_id"], r["revision"]): r for r in accepted}
        once = [(r["topic"], _value(hub, r)) for r in distinct.values()]
        assert stack.stop_worker() == 0
        wh = open_warehouse(hub.clickhouse, hub.data_dir)
        try:
            totals, letters = totals_by_month(wh), deadletter_counts(wh)
        finally:
            wh.close()

    # What the same events give when each revision is loaded once, without the gateway.
    assert len(accepted) == 2 * len(distinct) == 2 * 7  # 4 + 1 events, Kobo's 2 revisions
    reference = open_warehouse(hub.clickhouse, tmp_path / "reference")
    try:
        migrate(reference)
        ingest_messages(reference, once, registry, now=START)
        expected = totals_by_month(reference)
    finally:
        reference.close()
    assert totals == expected
    assert sum(row["events"] for row in totals) == 6  # the Kobo submission counts once
    assert letters == {}  # the gateway never forwards a rejected event
    assert len(rejected) == 2 * 3


def _identity(event: dict[str, Any]) -> tuple[str, int]:
    """An event's (event_id, revision); the contract's revision defaults to 1."""
    return event["event_id"], event.get("revision", 1)


def _value(hub: HubSettings, result: dict[str, Any]) -> bytes:
    """The stored bytes of an accepted event, read back from the broker at its offset (cut
    from its bulk message when it travelled in one)."""
    consumer = clients.consumer(hub.kafka)
    try:
        tp = TopicPartition(result["topic"], result["partition"])
        consumer.assign([tp])
        consumer.seek(tp, result["offset"])
        for _ in range(50):
            for records in consumer.poll(timeout_ms=200).values():
                value: bytes = records[0].value
                if not is_bulk(records[0].headers):
                    return value
                return next(
                    element
                    for element in split(value)
                    if _identity(json.loads(element)) == (result["event_id"], result["revision"])
                )
        raise AssertionError(f"no record at {result}")
    finally:
        consumer.close()
