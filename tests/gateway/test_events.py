"""POST /v1/events: shapes of a request, one result per event, atomic, limits, outages."""

from __future__ import annotations

import gc
import json
import logging
import warnings
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from broker.tansu import LocalBroker
from producers.gateway.body import deeper_than
from schemas.topics import topic_for
from schemas.vocabulary import Kind
from tests.gateway.rig import Rig, example, records, rig_of
from tests.support import events_in, wait_until

pytestmark = pytest.mark.kafka

TOPIC = topic_for("kzlegal", Kind.ASSISTANCE)
IDS = [f"3f2b8c1e-7d4a-4f6b-9e21-0c5d8a7b6e{n:02d}" for n in range(100)]


def events(n: int) -> list[dict[str, Any]]:
    return [example(Kind.ASSISTANCE) | {"event_id": IDS[i]} for i in range(n)]


def accepted(client: Any, headers: dict[str, str], body: Any) -> bool:
    """Whether the gateway accepted every event of ``body``."""
    return bool(client.post("/v1/events", json=body, headers=headers).status_code == 200)


def ndjson(items: list[Any]) -> bytes:
    return b"\n".join(json.dumps(item).encode() for item in items) + b"\n"


def test_one_event_an_array_and_ndjson_are_published_in_order(rig: Rig) -> None:
    client, auth = rig.client(), rig.auth("kzlegal")
    batch = events(5)
    single = client.post("/v1/events", json=batch[0], headers=auth)
    array = client.post("/v1/events", json=batch[1:3], headers=auth)
    lines = client.post(
        "/v1/events",
        content=ndjson(batch[3:]),
        headers=auth | {"Content-Type": "application/x-ndjson"},
    )
    results = [r for response in (single, array, lines) for r in response.json()["results"]]

    assert [response.status_code for response in (single, array, lines)] == [200, 200, 200]
    assert [r["event_id"] for r in results] == IDS[:5]
    assert {r["status"] for r in results} == {"accepted"}
    found = records(rig.kafka, TOPIC)
    assert len(found) == 3  # a request's events travel in one bulk message (docs/gateway.md)
    carried = events_in(found)
    stored = {(r.topic, r.partition, r.offset, e["event_id"]) for r, e in carried}
    assert len(stored) == 5
    first = {(r.topic, r.partition, r.offset): e["event_id"] for r, e in reversed(carried)}
    assert all(r.key == first[(r.topic, r.partition, r.offset)].encode() for r in found)
    for r in results:
        assert (r["topic"], r["partition"], r["offset"], r["event_id"]) in stored


def test_a_partly_valid_request_publishes_the_valid_and_reports_the_rest(rig: Rig) -> None:
    good = events(2)
    bad = good[0] | {"event_id": IDS[50], "region": "KZ-99", "payload": {"category": "gold"}}
    body = ndjson([good[0]])[:-1] + b"\n{not json\n" + ndjson([bad, good[1]])
    response = rig.client().post(
        "/v1/events",
        content=body,
        headers=rig.auth("kzlegal") | {"Content-Type": "application/x-ndjson"},
    )

    assert response.status_code == 207
    data = response.json()
    assert [r["status"] for r in data["results"]] == [
        "accepted",
        "rejected",
        "rejected",
        "accepted",
    ]
    assert (data["accepted"], data["rejected"]) == (2, 2)
    assert [r["code"] for r in data["results"][1]["reasons"]] == ["invalid_json"]
    assert {(r["field"], r["code"]) for r in data["results"][2]["reasons"]} >= {
        ("region", "unknown_region"),
        ("payload.category", "invalid_value"),
    }
    assert data["results"][2]["event_id"] == IDS[50]
    assert sorted(e["event_id"] for _, e in events_in(records(rig.kafka, TOPIC))) == IDS[:2]


def test_atomic_publishes_nothing_when_one_event_is_invalid(rig: Rig) -> None:
    batch = events(3)
    batch[1] = batch[1] | {"occurred_on": "2099-01-01"}
    response = rig.client().post("/v1/events?atomic=true", json=batch, headers=rig.auth("kzlegal"))

    assert response.status_code == 422
    data = response.json()
    assert [r["status"] for r in data["results"]] == ["not_published", "rejected", "not_published"]
    assert data["results"][1]["reasons"][0]["code"] == "future_date"
    assert records(rig.kafka, TOPIC) == []
    fixed = rig.client().post("/v1/events?atomic=true", json=events(3), headers=rig.auth("kzlegal"))
    assert (fixed.status_code, fixed.json()["accepted"]) == (200, 3)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"x" * 5000, "application/json", 413, "body_too_large"),
        (ndjson(events(4)), "application/x-ndjson", 413, "too_many_events"),
        (json.dumps(events(4)).encode(), "application/json", 413, "too_many_events"),
        (b"[" * 20 + b"]" * 20, "application/json", 400, "too_deep"),
        (b"[" * 3000, "application/json", 400, "too_deep"),
        (b"{", "application/json", 400, "invalid_json"),
        (b"[]", "application/json", 400, "no_events"),
        (b"a,b", "text/csv", 415, "unsupported_media_type"),
    ],
)
def test_limits_refuse_the_request_as_a_whole(
    kafka_bootstrap: str, tmp_path: Path, body: bytes, content_type: str, status: int, code: str
) -> None:
    for rig in rig_of(kafka_bootstrap, tmp_path, max_body_bytes=4096, max_events=3):
        response = rig.client().post(
            "/v1/events", content=body, headers=rig.auth("kzlegal") | {"Content-Type": content_type}
        )
        assert (response.status_code, response.json()["code"]) == (status, code)
        assert records(rig.kafka, TOPIC, settle=0.4) == []


def test_the_rate_limit_answers_429_with_retry_after(kafka_bootstrap: str, tmp_path: Path) -> None:
    for rig in rig_of(kafka_bootstrap, tmp_path, rate_per_second=0.5, rate_burst=2):
        client, auth = rig.client(), rig.auth("kzlegal")
        codes = [client.get("/v1/me", headers=auth).status_code for _ in range(3)]
        limited = client.get("/v1/me", headers=auth)
        other = client.get("/v1/me", headers=rig.auth("redcres"))

        assert codes == [200, 200, 429]
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 2
        assert other.status_code == 200  # per token


@pytest.fixture
def dead_sockets(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Close, quietly, the sockets kafka-python leaves to the garbage collector after a broker
    failure (as tests/test_sdk.py does); its error logs would keep them alive past the test."""
    caplog.set_level(logging.CRITICAL, logger="kafka")
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.mark.usefixtures("dead_sockets")
def test_a_broker_outage_answers_503_and_atomic_publishes_nothing(tmp_path: Path) -> None:
    broker = LocalBroker(log_file=tmp_path / "tansu.log").start()
    stopped = False
    try:
        for rig in rig_of(broker.bootstrap, tmp_path, ack_seconds=3.0):
            client, auth = rig.client(), rig.auth("kzlegal")
            # The producer's first publish (metadata, producer id) may take over the 3 s
            # acknowledgement wait on a busy machine; resending the same event is safe.
            wait_until(
                partial(accepted, client, auth, events(1)),
                timeout=60,
                what="a first event to be accepted",
            )
            assert client.get("/readyz").status_code == 200
            broker.stop(timeout=0.2)
            stopped = True
            rig.gateway.sender._ready = (0.0, False)  # forget the cached answer of a second ago
            ready = client.get("/readyz")
            atomic = client.post("/v1/events?atomic=true", json=events(3)[1:], headers=auth)
            plain = client.post("/v1/events", json=events(4)[3:], headers=auth)

            assert (ready.status_code, ready.headers["Retry-After"]) == (503, "10")
            assert atomic.status_code == 503
            assert atomic.headers["Retry-After"] == "10"
            assert [r["status"] for r in atomic.json()["results"]] == ["not_published"] * 2
            assert plain.status_code == 503
            assert [r["status"] for r in plain.json()["results"]] == ["failed"]
            assert plain.json()["results"][0]["reasons"][0]["code"] == "broker_unavailable"
    finally:
        if not stopped:
            broker.stop(timeout=0.2)


def test_depth_is_counted_in_nested_arrays_and_objects() -> None:
    assert not deeper_than(7, 0)
    assert deeper_than([], 0)
    assert not deeper_than([], 1)
    assert deeper_than({"a": [1, {"b": 2}]}, 2)
    assert not deeper_than({"a": [1, {"b": 2}]}, 3)
    assert not deeper_than(example(Kind.ASSISTANCE), 3)  # an event needs three levels
