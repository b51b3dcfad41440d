"""The whole pipeline, end to end, on real parts: Tansu, kafka-python, a Faust worker, chdb.

The simulator publishes events with every fault it knows (duplicates, out-of-order corrections,
retractions, invalid and late events); once the worker's lag is 0 (high watermarks, not sleeps),
the warehouse's totals must equal the simulator's own ground truth exactly, and the dead letters
must equal the injected invalid messages by reason. The worker is also killed mid-stream and
starved of its warehouse; totals stay exact.

The test process never opens the warehouse itself (chdb allows one process per data folder):
it asks the CLI, in a subprocess, once the worker has stopped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from broker.lag import high_watermarks, wait_for_drain
from broker.topics import sync_topics
from partnerhub.settings import HubSettings
from producers.simulator import Simulation, SimulationSpec, publish, simulate
from schemas.topics import ALERTS_TOPIC, DEADLETTER_TOPIC
from schemas.vocabulary import Kind
from streams.app import APP_ID, partner_topics
from tests.support import (
    consume,
    hub_settings,
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


def prepared(tmp_path: Path, bootstrap: str, **worker: Any) -> HubSettings:
    """Settings for this test's hub, with topics created and the warehouse migrated."""
    settings = hub_settings(tmp_path / "hub", bootstrap, **worker)
    sync_topics(settings.kafka, settings.registry())
    run_cli(settings, "warehouse", "migrate")
    return settings


def simulation(events: int, seed: int) -> Simulation:
    return simulate(
        SimulationSpec(start="2006-01", end="2006-12", events=events, seed=seed, **FAULTS)
    )


def drain(settings: HubSettings, sim: Simulation, timeout: float = 300) -> None:
    wait_for_drain(
        settings.kafka,
        APP_ID,
        partner_topics(settings.registry()),
        timeout=timeout,
        expect_messages=len(sim.messages),
    )


def read_topic(settings: HubSettings, topic: str) -> list[Any]:
    """Every message of ``topic`` (as many as its high watermarks say it holds)."""
    marks = high_watermarks(settings.kafka, [topic])
    return consume(settings.kafka.bootstrap, topic, sum(marks.values()), timeout=60)


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


def test_totals_equal_the_simulators_ground_truth(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = prepared(tmp_path, kafka_bootstrap)
    sim = simulation(20_000, seed=2006)
    assert sum(sim.truth.faults.values()) > 2000
    assert len(sim.truth.deadletters) >= 12
    assert {"curriculum_not_allowed", "population_not_allowed"} <= set(sim.truth.deadletters)

    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        publish(sim.messages, settings.kafka)
        drain(settings, sim)
        assert "partnerhub_events_accepted_total" in metrics(settings)
    finally:
        assert stop_worker(worker) == 0  # a clean stop on SIGTERM

    assert_exact(settings, sim)
    deadletters = read_topic(settings, DEADLETTER_TOPIC)
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
    for message in read_topic(settings, ALERTS_TOPIC):
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
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = prepared(tmp_path, kafka_bootstrap, batch_size=500)
    sim = simulation(12_000, seed=7)
    publisher = threading.Thread(
        target=publish, args=(sim.messages, settings.kafka), kwargs={"rate": 1500}
    )
    publisher.start()
    log = tmp_path / "worker.log"
    try:
        for _ in range(2):
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
        drain(settings, sim)
    finally:
        stop_worker(worker)
        publisher.join(timeout=120)

    assert_exact(settings, sim)


def test_warehouse_outage_backs_off_and_recovers_by_itself(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = prepared(tmp_path, kafka_bootstrap)
    sim = simulation(5_000, seed=11)
    holder = _hold_warehouse(settings)  # another process owns the chdb folder: an outage
    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        publish(sim.messages, settings.kafka)
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
        drain(settings, sim)
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
