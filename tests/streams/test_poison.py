"""One partner's bad message never stops the hub: poison between normal events, end to end.

Real parts: Tansu, kafka-python, the Faust worker process, chdb. Each poison message that once
stopped all ingestion (a count above 2^64, a day before 1970, a 600 KB region code, 5 MB of
non-JSON, a quantity of 1e308, a repeated key), and a message on a topic outside the registry,
is published between normal events. The lag must drain to 0 within a bounded time, every
normal event must be in the totals, each poison message must be a dead letter with its reason
and none over the broker's limit, and an alert must be raised.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from broker import clients
from broker.lag import high_watermarks, wait_for_drain
from broker.topics import sync_topics
from partnerhub.settings import HubSettings
from producers.simulator import SimulationSpec, publish, simulate
from schemas import refdata
from schemas.topics import ALERTS_TOPIC, DEADLETTER_TOPIC, topic_for
from streams.app import APP_ID, partner_topics
from streams.deadletter import BROKER_LIMIT, record_size
from streams.watcher import UNREGISTERED_TOPIC
from tests.support import (
    consume,
    hub_settings,
    run_cli,
    start_worker,
    status,
    stop_worker,
    wait_until,
)

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]

VALID = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "valid"
#: How long the worker may take to drain everything (a few seconds of work; slack for load).
DRAIN_SECONDS = 180


def example(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((VALID / "assistance_1.json").read_bytes())
    return {**event, **changes}


def poison() -> list[tuple[str, bytes, str]]:
    """(topic, value, expected first reason code) of each poison message."""
    base = example()
    topic = topic_for(base["partner_id"], "assistance")
    huge = dict(base, beneficiaries={"female": {"18-59": 2**64 + 1}})
    old = dict(base, occurred_on="1969-12-31", reported_at="1970-01-02T00:00:00Z")
    region = dict(base, region="KZ-" + "9" * 600_000)
    quantity = dict(base, payload={**base["payload"], "quantity": 1e308})
    body = json.dumps(base)
    repeated = '{"partner_id": "evilngo", ' + body[1:]
    return [
        (topic, json.dumps(huge).encode(), "out_of_range"),
        (topic, json.dumps(old).encode(), "implausible_date"),
        (topic, json.dumps(region).encode(), "unknown_region"),
        (topic, b"\x00not json" * 500_000, "invalid_json"),
        (topic, json.dumps(quantity).encode(), "out_of_range"),
        (topic, repeated.encode(), "duplicate_key"),
        (
            "partners.evilngo.assistance.v1",
            json.dumps(dict(base, partner_id="evilngo")).encode(),
            "unknown_partner",
        ),
    ]


def prepared(tmp_path: Path, bootstrap: str) -> HubSettings:
    settings = hub_settings(tmp_path / "hub", bootstrap, batch_size=300)
    sync_topics(settings.kafka, settings.registry())
    run_cli(settings, "warehouse", "migrate")
    return settings


def test_poison_between_normal_events_stops_nothing(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = prepared(tmp_path, kafka_bootstrap)
    sim = simulate(SimulationSpec(start="2006-01", end="2006-03", events=3000, seed=17))
    bad = poison()
    assert len(bad[3][1]) > 4_000_000
    assert len(bad[2][1]) > 600_000
    worker = start_worker(settings, tmp_path / "worker.log")
    # Poison goes through a producer of its own, that lets 5 MB through, each acknowledged.
    producer = clients.producer(settings.kafka, max_request_size=8 * 1024 * 1024)
    try:
        step = len(sim.messages) // len(bad) + 1
        for index, (topic, value, _) in enumerate(bad):
            publish(sim.messages[index * step : (index + 1) * step], settings.kafka)
            producer.send(topic, key=b"x", value=value).get(timeout=60)
        wait_for_drain(
            settings.kafka,
            APP_ID,
            partner_topics(settings.registry()),
            timeout=DRAIN_SECONDS,
            expect_messages=len(sim.messages) + len(bad) - 1,
        )
        seen = wait_until(
            lambda: status(settings)["unregistered_topics"]["deadlettered"] >= 1,
            timeout=60,
            what="the watcher to dead-letter the unregistered topic",
        )
        assert seen
        worker_state = status(settings)["worker"]
        assert worker_state["sink_retries"] == 0  # nothing was taken for an outage
        assert worker_state["failing"] == ""
    finally:
        producer.close()
        assert stop_worker(worker) == 0

    stored = json.loads(run_cli(settings, "warehouse", "totals", "--json", "--unsuppressed"))
    truth = [dict(row) for row in sim.truth.totals]
    assert stored["totals"] == truth  # every normal event counted, exactly
    assert stored["from_facts"] == truth
    assert stored["deadletters"] == dict(Counter(code for _, _, code in bad))

    marks = high_watermarks(settings.kafka, [DEADLETTER_TOPIC])
    letters = consume(settings.kafka.bootstrap, DEADLETTER_TOPIC, sum(marks.values()), timeout=60)
    assert len(letters) == len(bad)
    for letter in letters:
        headers = list(letter.headers)
        assert record_size(letter.key or b"", letter.value, headers) < BROKER_LIMIT
    by_offset = {
        (
            dict(m.headers)["x-hub-topic"].decode(),
            json.loads(dict(m.headers)["x-hub-reasons"])[0]["code"],
        )
        for m in letters
    }
    assert by_offset == {(topic, code) for topic, _, code in bad}
    cut = [
        dict(m.headers) for m in letters if b"x-hub-truncated" in {k.encode() for k, _ in m.headers}
    ]
    assert sorted(int(h["x-hub-original-size"]) for h in cut) == sorted(
        len(value) for _, value, _ in bad if len(value) > 512 * 1024
    )

    alerts = [json.loads(m.value) for m in consume(settings.kafka.bootstrap, ALERTS_TOPIC, 1)]
    assert {"partners.evilngo.assistance.v1"} == {
        a["details"]["topic"] for a in alerts if a["alert_type"] == UNREGISTERED_TOPIC
    }
    assert refdata.partners().get("evilngo") is None
