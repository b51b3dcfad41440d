"""Helpers for tests that run the hub's real processes (worker, CLI) as subprocesses."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from kafka import TopicPartition

from broker import clients
from broker.process import free_port
from broker.settings import KafkaSettings
from partnerhub.settings import HubSettings
from partnerhub.stack import child_env
from producers.simulator import Simulation
from schemas.bulk import is_bulk, split
from schemas.topics import Mandated
from streams.batch import Batch
from streams.settings import WorkerSettings
from streams.transform import Meta, process
from streams.writer import write_isolated
from warehouse.client import EmbeddedWarehouse, Warehouse
from warehouse.migrate import migrate

T = TypeVar("T")
PARTNERHUB = [sys.executable, "-m", "partnerhub"]


def hub_settings(data_dir: Path, bootstrap: str, **worker: Any) -> HubSettings:
    """Settings for one test's hub: its own data folder, broker and status port."""
    return HubSettings(
        data_dir=data_dir,
        kafka=KafkaSettings(bootstrap=bootstrap, partitions=2),
        worker=WorkerSettings(web_port=free_port(), **worker),
    )


def hub_env(settings: HubSettings) -> dict[str, str]:
    """The environment that gives a subprocess the same settings."""
    return child_env(settings)


def run_cli(settings: HubSettings, *args: str, timeout: float = 120) -> str:
    """Run ``partnerhub ARGS`` in a subprocess; return stdout, fail with its stderr."""
    result = subprocess.run(
        [*PARTNERHUB, *args],
        env=hub_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        raise AssertionError(
            f"partnerhub {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def start_worker(settings: HubSettings, log_file: Path) -> subprocess.Popen[bytes]:
    """Start ``partnerhub worker`` and return once its status page answers."""
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            [*PARTNERHUB, "worker"],
            env=hub_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{settings.worker.web_port}/metrics"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"worker exited {process.returncode}: {log_file.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            return False

    wait_until(ready, timeout=60, what="the worker's status page")
    return process


def stop_worker(process: subprocess.Popen[bytes], *, kill: bool = False) -> int:
    """SIGTERM (clean stop) or SIGKILL the worker; return its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    return process.wait(timeout=60)


def status(settings: HubSettings) -> dict[str, Any]:
    """The running worker's ``/status`` document."""
    url = f"http://127.0.0.1:{settings.worker.web_port}/status"
    with urllib.request.urlopen(url, timeout=30) as response:
        data: dict[str, Any] = json.load(response)
        return data


def metrics(settings: HubSettings) -> str:
    url = f"http://127.0.0.1:{settings.worker.web_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def wait_until(condition: Callable[[], T], *, timeout: float, what: str, every: float = 0.2) -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


#: The hub secret of warehouses the tests load directly.
TEST_HUB_KEY = b"test-hub-secret"


def load_simulation(folder: Path, sim: Simulation, *, now: datetime | None = None) -> Warehouse:
    """An embedded warehouse in ``folder``, migrated and holding ``sim`` as the worker would
    have written it (same transform, same sink). The caller closes it: chdb serves one
    folder per process at a time."""
    wh = EmbeddedWarehouse(folder)
    try:
        migrate(wh)
        ingest_messages(
            wh,
            [(m.topic, m.value) for m in sim.messages],
            sim.spec.partners,
            now=now or datetime.combine(sim.spec.today, datetime.min.time(), UTC),
            ref_key=TEST_HUB_KEY,
        )
    except BaseException:
        wh.close()
        raise
    return wh


def consume(bootstrap: str, topic: str, count: int, timeout: float = 15.0) -> list[Any]:
    """The first ``count`` records of ``topic`` (every partition, oldest first per partition),
    read with a plain kafka-python consumer; fails when fewer arrive within ``timeout``."""
    consumer = clients.consumer(KafkaSettings(bootstrap=bootstrap), auto_offset_reset="earliest")
    try:
        consumer.assign([TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)])
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(records) < count and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        assert len(records) >= count, f"{topic}: {len(records)} of {count} records in {timeout} s"
        return records
    finally:
        consumer.close()


def events_in(records: Iterable[Any]) -> list[tuple[Any, Any]]:
    """(record, decoded event) for every event consumed ``records`` carry: a single-event
    message's value, or each element of a bulk message (``schemas.bulk``), in order."""
    out: list[tuple[Any, Any]] = []
    for record in records:
        values = split(record.value) if is_bulk(record.headers) else [record.value]
        out += [(record, json.loads(value)) for value in values]
    return out


def ingest_messages(
    wh: Warehouse,
    messages: Sequence[tuple[str, bytes]],
    registry: Mapping[str, Mandated],
    *,
    now: datetime,
    ref_key: bytes = TEST_HUB_KEY,
    batch_size: int = 5000,
) -> Batch:
    """Run ``(topic, value)`` messages through the worker's transform and writer, without Kafka.

    The same rows, the same writes and refreshes as the worker, in batches; offsets are the
    messages' positions. Returns the last batch written.
    """
    batch = Batch()
    for start in range(0, len(messages), batch_size):
        outcomes = [
            process(value, Meta(topic, 0, start + i, now), registry, now=now, ref_key=ref_key)
            for i, (topic, value) in enumerate(messages[start : start + batch_size])
        ]
        batch = Batch.of(outcomes)
        write_isolated(wh, batch, now)
    return batch


def race_writers(
    writers: Sequence[Warehouse],
    stories: Sequence[Sequence[Any]],
    write: Callable[[Warehouse, Any], None],
    *,
    timeout: float = 400,
) -> None:
    """Run each writer's story (its batches, ``write(wh, batch)`` each) in a thread of its own,
    all at once; fail if one does not finish within ``timeout`` or raised.

    ``timeout`` only guards against a hang, so it is generous: the month-grain race took 6-40 s
    alone on the 2-core VM, and CI's machine, with the other test worker beside it, is slower.
    It stays below pytest-timeout's 600 s so that this message, not a thread dump, says why."""
    errors: list[BaseException] = []

    def run(wh: Warehouse, batches: Sequence[Any]) -> None:
        try:
            for batch in batches:
                write(wh, batch)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(wh, story))
        for wh, story in zip(writers, stories, strict=True)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout  # one deadline for all, not ``timeout`` each
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a writer did not finish"
    assert errors == [], errors
