"""The broker's own share of latency: publish -> receipt by a consumer, on Tansu and Apache Kafka.

    python benchmarks/fetch_latency.py [--messages 300] [--rate 50]

For each broker in turn (a fresh Tansu, a fresh Apache Kafka with the production settings and
SASL/SCRAM as its admin): one topic, a bare aiokafka consumer with Faust's fixed fetch settings
(``fetch_max_wait_ms=1500``, ``fetch_min_bytes=1``), and a kafka-python producer (the hub's,
``broker.clients.producer``) that publishes ``--messages`` small messages at ``--rate`` per
second, each carrying its send time. Printed: p50/p99 from send to receipt, per broker, and
their ratio. Nothing of the hub runs here: this is the fetch path alone, the part of the
pipeline's latency the broker decides (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from kafka.admin import NewTopic

from broker import clients
from broker.apache_kafka import ApacheKafka
from broker.settings import KafkaSettings
from broker.tansu import LocalBroker
from streams.metrics import quantiles

TOPIC = "bench.fetch-latency.v1"
#: What Faust's aiokafka driver sets (faust/transport/drivers/aiokafka.py).
FAUST_FETCH = {"fetch_max_wait_ms": 1500, "fetch_min_bytes": 1}


@contextmanager
def broker(kind: str, folder: Path) -> Iterator[KafkaSettings]:
    if kind == "tansu":
        with LocalBroker(log_file=folder / "tansu.log") as tansu:
            yield KafkaSettings(bootstrap=tansu.bootstrap)
        return
    kafka = ApacheKafka(folder / "kafka", admin_password="bench-admin-password")
    with kafka:
        yield kafka.settings()


def aiokafka_options(settings: KafkaSettings) -> dict[str, Any]:
    options: dict[str, Any] = {"bootstrap_servers": settings.bootstrap, **FAUST_FETCH}
    if settings.security_protocol.startswith("SASL"):
        options |= {
            "security_protocol": settings.security_protocol,
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.username,
            "sasl_plain_password": settings.password.get_secret_value()
            if settings.password
            else None,
        }
    return options


def send(settings: KafkaSettings, count: int, rate: float) -> None:
    producer = clients.producer(settings, linger_ms=0)
    try:
        started = time.perf_counter()
        for n in range(count):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            producer.send(TOPIC, struct.pack(">d", time.time()))
        producer.flush(timeout=60)
    finally:
        producer.close()


async def receive(settings: KafkaSettings, count: int, rate: float) -> list[float]:
    consumer = AIOKafkaConsumer(TOPIC, auto_offset_reset="latest", **aiokafka_options(settings))
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        await consumer.seek_to_end()
        sender = threading.Thread(target=send, args=(settings, count, rate), daemon=True)
        sender.start()
        delays: list[float] = []
        deadline = time.monotonic() + count / rate + 60
        while len(delays) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=2000)
            now = time.time()
            for records in batches.values():
                delays += [now - struct.unpack(">d", r.value)[0] for r in records]
        sender.join(timeout=60)
        return delays
    finally:
        await consumer.stop()


def measure(kind: str, count: int, rate: float) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="fetch-latency-") as tmp, broker(kind, Path(tmp)) as s:
        admin = clients.admin(s, timeout=30)
        try:
            admin.create_topics([NewTopic(TOPIC, 1, 1)])
        finally:
            admin.close()
        return asyncio.run(receive(s, count, rate))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    results = {kind: measure(kind, args.messages, args.rate) for kind in ("tansu", "kafka")}
    print(f"publish -> receipt, {args.messages} messages at {args.rate:g}/s (Faust's fetch)")
    print(f"{'broker':34}{'received':>10}{'p50 (ms)':>10}{'p99 (ms)':>10}")
    found = {kind: quantiles(delays) for kind, delays in results.items()}
    for kind, label in (("tansu", "Tansu"), ("kafka", "Apache Kafka (SASL/SCRAM, ACLs)")):
        p50, p99 = found[kind]["p50"] * 1000, found[kind]["p99"] * 1000
        print(f"{label:34}{len(results[kind]):>10}{p50:>10.0f}{p99:>10.0f}")
    ratio = found["kafka"]["p50"] / found["tansu"]["p50"]
    print(f"ratio p50, Apache Kafka / Tansu: {ratio:.2f}")


if __name__ == "__main__":
    main()
