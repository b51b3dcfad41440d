"""HTTP gateway throughput and latency against the SDK publishing the same events directly.

    python benchmarks/gateway.py [--events N] [--quick]

Starts its own Tansu broker, creates the topics, starts ``partnerhub gateway`` as its own
process (as ``partnerhub up`` does) with a fresh token, then for batches of 1, 100 and 1,000
events: (a) POSTs them to ``/v1/events`` as JSON arrays over one keep-alive connection, one
request at a time (each answered once the broker acknowledged every event); (b) publishes the
same kind of batches with ``Publisher.publish_many`` (validation, send, wait for every
acknowledgement). Prints accepted events/s, p50 and p99 latency per request (per batch for the
SDK), and the ratio gateway/SDK of events/s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from producer import PARTNER, make_events  # a sibling module: scripts run from benchmarks/

from broker.process import die_with_parent, free_port, stop_process
from broker.settings import KafkaSettings
from broker.tansu import LocalBroker
from broker.topics import sync_topics
from producers.gateway.tokens import TokenStore
from producers.sdk import Publisher
from schemas import refdata
from streams.metrics import quantiles

BATCHES = (1, 100, 1000)


def start_gateway(bootstrap: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERHUB_")}
    env |= {
        "PARTNERHUB_DATA_DIR": str(data_dir),
        "PARTNERHUB_KAFKA__BOOTSTRAP": bootstrap,
        "PARTNERHUB_GATEWAY__PORT": str(port),
        # The rate limit protects a shared gateway; a benchmark measures what is behind it.
        "PARTNERHUB_GATEWAY__LIMITS__RATE_PER_SECOND": "1000000",
        "PARTNERHUB_GATEWAY__LIMITS__RATE_BURST": "1000000",
    }
    log = open(data_dir / "gateway.log", "ab")  # noqa: SIM115 - the child holds it
    process = subprocess.Popen(
        [sys.executable, "-m", "partnerhub", "gateway"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1):
                return process, url
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the gateway did not start; see {data_dir}/gateway.log"
                ) from None
            time.sleep(0.1)


def run_gateway(
    url: str, token: str, batches: list[list[dict[str, Any]]]
) -> tuple[float, list[float]]:
    """(accepted events/s, latency of each request in s)."""
    latencies: list[float] = []
    accepted = 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx2.Client(base_url=url, timeout=120) as client:
        client.get("/healthz")  # open the connection before the clock starts
        began = time.perf_counter()
        for batch in batches:
            body = json.dumps(batch).encode()
            t = time.perf_counter()
            response = client.post("/v1/events", content=body, headers=headers)
            latencies.append(time.perf_counter() - t)
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
            accepted += response.json()["accepted"]
        elapsed = time.perf_counter() - began
    return accepted / elapsed, latencies


def run_sdk(kafka: KafkaSettings, batches: list[list[dict[str, Any]]]) -> tuple[float, list[float]]:
    """(acknowledged events/s, latency of each batch in s) with the SDK directly."""
    latencies: list[float] = []
    delivered = 0
    with Publisher(PARTNER, kafka) as publisher:
        publisher.publish_many(batches[0][:1])  # metadata and connection before the clock starts
        began = time.perf_counter()
        for batch in batches:
            t = time.perf_counter()
            report = publisher.publish_many(batch, timeout=120)
            latencies.append(time.perf_counter() - t)
            if not report.ok:
                raise RuntimeError(f"SDK: {report.invalid[:1]} {report.failed[:1]}")
            delivered += report.delivered
        elapsed = time.perf_counter() - began
    return delivered / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per run and batch size")
    parser.add_argument("--quick", action="store_true", help="a few hundred events (CI)")
    args = parser.parse_args()
    total = 1_000 if args.quick else args.events
    with (
        tempfile.TemporaryDirectory() as folder,
        LocalBroker(log_file=Path(folder) / "tansu.log") as broker,
    ):
        kafka = KafkaSettings(bootstrap=broker.bootstrap)
        sync_topics(kafka, refdata.partners())
        token, _ = TokenStore(Path(folder) / "gateway" / "tokens.sqlite").create(
            PARTNER, now=datetime.now(UTC)
        )
        gateway, url = start_gateway(broker.bootstrap, Path(folder))
        try:
            head = ("batch", "path", "events/s", "p50 ms", "p99 ms", "requests")
            print("{:>6} {:<8} {:>10} {:>9} {:>9} {:>9}".format(*head))
            for size in BATCHES:
                # Single events: a few hundred requests say enough, and take seconds.
                count = min(total, 300 if not args.quick else 100) if size == 1 else total
                events = make_events(count, seed=size)
                batches = [events[i : i + size] for i in range(0, count, size)]
                http_rate, http_lat = run_gateway(url, token, batches)
                # The same kind of events, new ids, so the broker stores both sets in full.
                sdk_events = make_events(count, seed=10_000 + size)
                sdk_batches = [sdk_events[i : i + size] for i in range(0, count, size)]
                sdk_rate, sdk_lat = run_sdk(kafka, sdk_batches)
                for path, rate, lat in (
                    ("gateway", http_rate, http_lat),
                    ("sdk", sdk_rate, sdk_lat),
                ):
                    found = quantiles(lat)
                    print(
                        f"{size:>6} {path:<8} {rate:>10,.0f} {found['p50'] * 1000:>9.1f}"
                        f" {found['p99'] * 1000:>9.1f} {len(lat):>9}"
                    )
                print(f"{size:>6} ratio gateway/sdk events/s: {http_rate / sdk_rate:.2f}")
        finally:
            stop_process(gateway, 10.0)


if __name__ == "__main__":
    main()
