"""Producer throughput: the SDK (validation included) against a bare kafka-python producer.

    python benchmarks/producer.py [--events N] [--linger-ms MS] [--batch-kb KB]

Starts its own Tansu broker, creates the topics, then sends the same N events in alternating
runs, each from a fresh producer with the same settings (``producers.sdk.PRODUCER_OPTIONS``):
(a) a bare ``KafkaProducer`` sending bytes serialized beforehand; (b) ``Publisher.publish_many``
from dicts, which validates, encodes and sends each event. Prints events/s of each round, the
best of each, the ratio SDK/bare (the goal is >= 0.7) and the peak resident memory.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from procstat import memory_mb  # a sibling module: scripts run from benchmarks/
from pydantic_core import to_json

from broker import clients
from broker.settings import KafkaSettings
from broker.tansu import LocalBroker
from broker.topics import sync_topics
from producers.sdk import PRODUCER_OPTIONS, Publisher
from schemas import refdata
from schemas.topics import topic_for
from schemas.vocabulary import AGE_BRACKETS, AssistanceCategory, Sex

PARTNER = "kzlegal"
CATEGORY_UNIT = {
    AssistanceCategory.CASH: "USD",
    AssistanceCategory.FOOD: "kg",
    AssistanceCategory.NON_FOOD_ITEMS: "kit",
    AssistanceCategory.SHELTER: "household",
    AssistanceCategory.HEALTH: "session",
    AssistanceCategory.EDUCATION: "session",
    AssistanceCategory.LEGAL_AID: "session",
    AssistanceCategory.WINTERIZATION: "kit",
}


def make_events(n: int, seed: int = 2006) -> list[dict[str, Any]]:
    """``n`` valid, varied assistance events of :data:`PARTNER` in its regions."""
    rng = random.Random(seed)
    regions = refdata.partners()[PARTNER].regions
    origins = ("RUS", "TJK", "AFG", "CHN", "UZB")
    now = datetime.now(UTC)
    events = []
    for _ in range(n):
        day = date(2006, 1, 1) + timedelta(days=rng.randrange(365))
        category = rng.choice(list(CATEGORY_UNIT))
        cells = {sex.value: {b: rng.randrange(0, 6) for b in AGE_BRACKETS} for sex in Sex}
        cells["female"]["18-59"] += 1  # never all zero
        events.append(
            {
                "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "partner_id": PARTNER,
                "kind": "assistance",
                "occurred_on": day.isoformat(),
                "reported_at": now.isoformat(timespec="seconds"),
                "region": rng.choice(regions),
                "population_type": rng.choice(("refugee", "asylum_seeker", "returnee")),
                "origin": rng.choice(origins),
                "beneficiaries": cells,
                "payload": {
                    "category": category.value,
                    "quantity": rng.randrange(1, 500),
                    "unit": CATEGORY_UNIT[category],
                    "value_usd": round(rng.uniform(5, 800), 2),
                },
            }
        )
    return events


class Timer:
    """Wall-clock and CPU seconds (this process, every thread) of a ``with`` block."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def run_sdk(
    settings: KafkaSettings, options: dict[str, Any], events: list[dict[str, Any]]
) -> Timer:
    """Time the SDK validating, sending and getting acknowledged every event."""
    # One message per event, as the bare producer sends: this compares the costs per event of
    # the same wire format (bulk messages change what the broker and the worker pay).
    with Publisher(PARTNER, settings, producer_options=options) as publisher:
        publisher.publish_many(events[:1000], bulk_size=1)  # connection and metadata warm-up
        with Timer() as elapsed:
            report = publisher.publish_many(events, bulk_size=1)
    if not report.ok or report.delivered != len(events):
        raise SystemExit(
            f"SDK run failed: {len(report.invalid)} invalid, {len(report.failed)} failed"
        )
    return elapsed


def run_bare(settings: KafkaSettings, options: dict[str, Any], values: list[bytes]) -> Timer:
    """Time a bare KafkaProducer sending and getting acknowledged pre-serialized values."""
    topic, key = topic_for(PARTNER, "assistance"), PARTNER.encode()
    producer = clients.producer(settings, **options)
    try:
        for value in values[:1000]:
            producer.send(topic, value=value, key=key)
        producer.flush()
        with Timer() as elapsed:
            futures = [producer.send(topic, value=value, key=key) for value in values]
            producer.flush()
    finally:
        producer.close()
    failed = sum(1 for future in futures if future.failed())
    if failed:
        raise SystemExit(f"bare run failed: {failed} sends failed")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, interleaved")
    parser.add_argument("--linger-ms", type=int, default=PRODUCER_OPTIONS["linger_ms"])
    parser.add_argument("--batch-kb", type=int, default=PRODUCER_OPTIONS["batch_size"] // 1024)
    args = parser.parse_args()
    options = {**PRODUCER_OPTIONS, "linger_ms": args.linger_ms, "batch_size": args.batch_kb * 1024}
    shown = ("acks", "enable_idempotence", "compression_type", "linger_ms", "batch_size")

    n = args.events
    events = make_events(n)
    values = [to_json(event) for event in events]
    print(f"{n} events, {sum(map(len, values)) / len(values):.0f} bytes each on average")
    print("producer: " + ", ".join(f"{k}={options[k]}" for k in shown))
    bare_runs, sdk_runs = [], []
    with LocalBroker() as broker:
        settings = KafkaSettings(bootstrap=broker.bootstrap, partitions=1)
        sync_topics(settings)
        gc.collect()
        gc.freeze()  # the generated events are setup, not work: keep them out of GC scans
        for round_ in range(1, args.rounds + 1):
            bare_runs.append(run_bare(settings, options, values))
            sdk_runs.append(run_sdk(settings, options, events))
            print(
                f"round {round_}: bare {n / bare_runs[-1].wall:8,.0f} events/s, "
                f"SDK {n / sdk_runs[-1].wall:8,.0f} events/s"
            )
    # Best of the rounds: the run least disturbed by other work on the machine. CPU time of
    # this process (both threads) is the figure that other load disturbs least.
    bare_wall, sdk_wall = min(r.wall for r in bare_runs), min(r.wall for r in sdk_runs)
    bare_cpu, sdk_cpu = min(r.cpu for r in bare_runs), min(r.cpu for r in sdk_runs)
    print(f"                   {'events/s':>10}  {'per CPU-s':>10}  (best of {args.rounds})")
    print(f"bare kafka-python: {n / bare_wall:10,.0f}  {n / bare_cpu:10,.0f}")
    print(f"SDK (validating):  {n / sdk_wall:10,.0f}  {n / sdk_cpu:10,.0f}")
    ratios = f"{bare_wall / sdk_wall:10.2f}  {bare_cpu / sdk_cpu:10.2f}"
    print(f"ratio SDK/bare:    {ratios}  (goal >= 0.7)")
    print(f"peak RSS:          {memory_mb()[1]:10.0f} MiB")


if __name__ == "__main__":
    main()
