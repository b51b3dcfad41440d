"""The whole pipeline, end to end, on real parts: a broker, kafka-python, a Faust worker, chdb.

Every test runs on both brokers (``hub_broker``): Tansu (the embedded default, plaintext) and
Apache Kafka (the production broker: SASL/SCRAM, ACLs, a cluster of the test's own). On Apache
Kafka the registry is provisioned as in production (``apply_plan``: topics, the worker's SCRAM
user and ACLs), the worker logs in as ``hub-worker`` with the production timing profile (the
SIGKILL test uses the ``test`` profile: the shortest session the broker allows, so that a
killed worker's partitions move in seconds, not in half a minute), and the simulator publishes
as the admin (it writes every partner's topics; a partner's own rights are
tests/broker/test_apache_kafka.py's subject).

The simulator publishes events with every fault it knows (duplicates, out-of-order corrections,
retractions, invalid and late events); once the worker's lag is 0 (high watermarks, not sleeps),
the warehouse's totals must equal the simulator's own ground truth exactly, and the dead letters
must equal the injected invalid messages by reason. The worker is also killed mid-stream and
starved of its warehouse; totals stay exact, with single-event messages on both brokers and
once more with bulk messages of 100 events (``schemas.bulk``) on Tansu.

The test process never opens the warehouse itself (chdb allows one process per data folder):
it asks the CLI, in a subprocess, once the worker has stopped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import TopicPartition

from broker import clients
from broker.apache_kafka import ApacheKafka
from broker.lag import high_watermarks, wait_for_drain
from broker.process import free_port
from broker.provision import apply_plan, build_plan
from broker.settings import KafkaSettings
from broker.topics import sync_topics
from partnerhub.settings import HubSettings
from producers.simulation.publish import in_bulk
from producers.simulator import Simulation, SimulationSpec, publish, simulate
from schemas.topics import ALERTS_TOPIC, DEADLETTER_TOPIC
from schemas.vocabulary import Kind
from streams.app import APP_ID, partner_topics
from streams.settings import WorkerSettings
from tests.support import (
    metrics,
    run_cli,
    start_worker,
    stop_worker,
    wait_until,
)

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]

FAULTS = {
    "duplicates": 0.03,
    "corrections": 0.03,
    "retractions": 0.02,
    "invalid": 0.02,
    "late": 0.03,
}


WORKER_PASSWORD = "hub-worker-test-password"


@dataclass(frozen=True)
class HubBroker:
    """A test's broker: what the worker connects with, and what the test publishes and reads
    with (the same plaintext settings on Tansu; the admin on Apache Kafka)."""

    worker: KafkaSettings
    admin: KafkaSettings

    @property
    def secured(self) -> bool:
        return self.worker.security_protocol != "PLAINTEXT"

    def provision(self, settings: HubSettings) -> None:
        """Topics (and, on Apache Kafka, the worker's user and ACLs) for the registry."""
        if self.secured:
            plan = build_plan(settings.registry(), partitions=self.worker.partitions)
            apply_plan(self.admin, plan, {}, WORKER_PASSWORD)
        else:
            sync_topics(self.admin, settings.registry())


#: Events per bulk message in the bulk runs of the exactness tests.
BULK = 100


@pytest.fixture
def tansu(kafka_bootstrap: str) -> HubBroker:
    """Tansu only: for the bulk-message runs (the wire format is the broker's to carry, not to
    read, so one broker is enough and keeps the suite short)."""
    plain = KafkaSettings(bootstrap=kafka_bootstrap, partitions=2)
    return HubBroker(worker=plain, admin=plain)


@pytest.fixture(params=["tansu", "apache-kafka"])
def hub_broker(request: pytest.FixtureRequest) -> Iterator[HubBroker]:
    """Tansu, or an Apache Kafka of this test's own."""
    if request.param == "tansu":
        plain = KafkaSettings(bootstrap=request.getfixturevalue("kafka_bootstrap"), partitions=2)
        yield HubBroker(worker=plain, admin=plain)
        return
    kafka: ApacheKafka = request.getfixturevalue("fresh_apache_kafka")
    worker = kafka.settings("hub-worker", WORKER_PASSWORD)
    yield HubBroker(
        worker=worker.model_copy(update={"partitions": 2, "profile": "production"}),
        admin=kafka.settings().model_copy(update={"partitions": 2}),
    )


def prepared(tmp_path: Path, broker: HubBroker, **worker: Any) -> HubSettings:
    """Settings for this test's hub, with topics created and the warehouse migrated."""
    settings = HubSettings(
        data_dir=tmp_path / "hub",
        kafka=broker.worker.model_copy(),
        worker=WorkerSettings(web_port=free_port(), **worker),
    )
    broker.provision(settings)
    run_cli(settings, "warehouse", "migrate")
    return settings


def simulation(events: int, seed: int) -> Simulation:
    return simulate(
        SimulationSpec(start="2006-01", end="2006-12", events=events, seed=seed, **FAULTS)
    )


def drain(settings: HubSettings, sim: Simulation, timeout: float = 300, bulk: int = 1) -> None:
    wait_for_drain(
        settings.kafka,
        APP_ID,
        partner_topics(settings.registry()),
        timeout=timeout,
        expect_messages=len(in_bulk(sim.messages, bulk)),
    )


def read_topic(broker: HubBroker, topic: str, timeout: float = 60) -> list[Any]:
    """Every message of ``topic`` (as many as its high watermarks say it holds)."""
    marks = high_watermarks(broker.admin, [topic])
    consumer = clients.consumer(broker.admin, auto_offset_reset="earliest")
    try:
        consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(records) < sum(marks.values()) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        assert len(records) == sum(marks.values()), f"{topic}: {len(records)} of {marks}"
        return records
    finally:
        consumer.close()


def stored_totals(settings: HubSettings) -> dict[str, Any]:
    """Totals, their independent recomputation from facts, and dead letters, via the CLI."""
    data: dict[str, Any] = json.loads(
        run_cli(settings, "warehouse", "totals", "--json", "--unsuppressed")
    )
    return data


def assert_exact(settings: HubSettings, sim: Simulation) -> None:
    stored = stored_totals(settings)
    truth = [dict(row) for row in sim.truth.totals]
    assert len(truth) > 100  # a real spread of months, partners, regions, groups
    # every kind of contract v1, the protection kinds of issue #18 included
    assert {row["kind"] for row in truth} == {kind.value for kind in Kind}
    assert stored["totals"] == truth
    assert stored["from_facts"] == truth  # the reconciliation pair agrees as well
    assert stored["deadletters"] == dict(sim.truth.deadletters)


def test_totals_equal_the_simulators_ground_truth(hub_broker: HubBroker, tmp_path: Path) -> None:
    settings = prepared(tmp_path, hub_broker)
    sim = simulation(20_000, seed=2006)
    assert sum(sim.truth.faults.values()) > 2000
    assert len(sim.truth.deadletters) >= 12
    assert {"curriculum_not_allowed", "population_not_allowed"} <= set(sim.truth.deadletters)

    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        publish(sim.messages, hub_broker.admin)
        drain(settings, sim)
        assert "partnerhub_events_accepted_total" in metrics(settings)
    finally:
        assert stop_worker(worker) == 0  # a clean stop on SIGTERM

    assert_exact(settings, sim)
    deadletters = read_topic(hub_broker, DEADLETTER_TOPIC)
    assert len(deadletters) == sum(sim.truth.deadletters.values())
    reasons = Counter(json.loads(dict(m.headers)["x-hub-reasons"])[0]["code"] for m in deadletters)
    assert reasons == Counter(sim.truth.deadletters)
    new_kinds = Counter(
        json.loads(dict(m.headers)["x-hub-reasons"])[0]["code"]
        for m in deadletters
        if dict(m.headers)["x-hub-topic"].decode().split(".")[2]
        in ("protection_training", "rsd_casework")
    )
    assert new_kinds == Counter(
        code
        for index, code in sim.rejections.items()
        if sim.messages[index].topic.split(".")[2] in ("protection_training", "rsd_casework")
    )
    assert new_kinds["curriculum_not_allowed"]
    assert new_kinds["population_not_allowed"]
    assert {m.value for m in deadletters} == {
        m.value for i, m in enumerate(sim.messages) if i in sim.rejections
    }  # the original bytes
    latest = {}
    for message in read_topic(hub_broker, ALERTS_TOPIC):
        alert = json.loads(message.value)
        latest[alert["alert_id"]] = alert
    overlaps = [
        {
            "month": a["month"],
            "category": a["category"],
            "partners": a["partners"],
            "refs": a["overlap"],
        }
        for a in sorted(latest.values(), key=lambda a: (a["month"] or "", a["category"]))
        if a["alert_type"] == "duplicate_assistance" and a["overlap"]
    ]
    assert overlaps == [dict(o) for o in sim.truth.overlaps]


def test_worker_killed_twice_mid_stream_loses_and_doubles_nothing(
    hub_broker: HubBroker, tmp_path: Path
) -> None:
    killed_twice(hub_broker, tmp_path, bulk=1)


def test_worker_killed_twice_mid_stream_with_bulk_messages(
    tansu: HubBroker, tmp_path: Path
) -> None:
    killed_twice(tansu, tmp_path, bulk=BULK)


def killed_twice(hub_broker: HubBroker, tmp_path: Path, *, bulk: int) -> None:
    """Kill the worker twice while the simulator publishes (``bulk`` events a message); the
    third worker drains the rest and the totals are exact."""
    settings = prepared(tmp_path, hub_broker, batch_size=500)
    if hub_broker.secured:
        settings.kafka.profile = "test"
    sim = simulation(8_000, seed=7)
    publisher = threading.Thread(
        target=publish,
        args=(sim.messages, hub_broker.admin),
        kwargs={"rate": 1500, "bulk_size": bulk},
    )
    publisher.start()
    log = tmp_path / "worker.log"
    try:
        for _ in range(2):  # each worker (its own counter) writes batches before it is killed
            worker = start_worker(settings, log)
            wait_until(
                lambda: _accepted(settings) >= 1500,
                timeout=120,
                what="the worker to write some batches",
            )
            assert stop_worker(worker, kill=True) == -9
        worker = start_worker(settings, log)
        publisher.join(timeout=120)
        assert not publisher.is_alive()
        drain(settings, sim, bulk=bulk)
    finally:
        stop_worker(worker)
        publisher.join(timeout=120)

    assert_exact(settings, sim)


def test_warehouse_outage_backs_off_and_recovers_by_itself(
    hub_broker: HubBroker, tmp_path: Path
) -> None:
    outage(hub_broker, tmp_path, bulk=1)


def test_warehouse_outage_with_bulk_messages(tansu: HubBroker, tmp_path: Path) -> None:
    outage(tansu, tmp_path, bulk=BULK)


def outage(hub_broker: HubBroker, tmp_path: Path, *, bulk: int) -> None:
    """Publish (``bulk`` events a message) while the warehouse is held by another process;
    the sink retries, and once it is free the totals are exact."""
    settings = prepared(tmp_path, hub_broker)
    sim = simulation(5_000, seed=11)
    holder = _hold_warehouse(settings)  # another process owns the chdb folder: an outage
    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        publish(sim.messages, hub_broker.admin, bulk_size=bulk)
        wait_until(
            lambda: _metric(settings, "partnerhub_sink_retries_total") >= 3,
            timeout=120,
            what="the sink to retry",
        )
        assert _metric(settings, "partnerhub_sink_unavailable") == 1
        assert _accepted(settings) == 0
        assert worker.poll() is None
        holder.stdin.close()  # type: ignore[union-attr]  # the outage ends
        assert holder.wait(timeout=60) == 0
        drain(settings, sim, bulk=bulk)
        assert _metric(settings, "partnerhub_sink_unavailable") == 0
    finally:
        stop_worker(worker)
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=60)
        for pipe in (holder.stdin, holder.stdout):
            if pipe is not None:
                pipe.close()

    assert_exact(settings, sim)


def _hold_warehouse(settings: HubSettings) -> subprocess.Popen[bytes]:
    """A process that opens the warehouse folder and keeps it until its stdin closes."""
    code = (
        "import sys; from warehouse.client import EmbeddedWarehouse; "
        f"wh = EmbeddedWarehouse({str(settings.data_dir / 'warehouse')!r}); "
        "print('holding', flush=True); sys.stdin.read(); wh.close()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == b"holding"
    return holder


def _metric(settings: HubSettings, name: str) -> float:
    for line in metrics(settings).splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"metric {name} not exposed")


def _accepted(settings: HubSettings) -> float:
    try:
        return _metric(settings, "partnerhub_events_accepted_total")
    except OSError:
        return 0.0
