"""A status API that costs nothing to ask: cached figures, no Faust pages, no foreign Host."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from broker.topics import sync_topics
from producers.simulator import SimulationSpec, publish, simulate
from streams.status import LAG_STEP, RenderedOnce, coarse_lag, host_of
from tests.support import hub_settings, run_cli, start_worker, status, stop_worker, wait_until

#: What one /status request may take while the worker ingests.
ANSWER_SECONDS = 1.0


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("127.0.0.1:6066", "127.0.0.1"),
        ("localhost", "localhost"),
        ("LocalHost:80", "localhost"),
        ("[::1]:6066", "::1"),
        ("[::1", ""),
        ("evil.example:6066", "evil.example"),
        ("", ""),
        (None, ""),
    ],
)
def test_host_of_a_host_header(header: str | None, host: str) -> None:
    assert host_of(header) == host


def get(url: str, host: str | None = None, timeout: float = 10) -> tuple[int, float]:
    """Status code and seconds of one GET."""
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            code = response.status
    except urllib.error.HTTPError as error:
        code = error.code
    return code, time.perf_counter() - started


@pytest.mark.kafka
@pytest.mark.clickhouse
def test_two_hundred_concurrent_status_requests_while_ingesting(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = hub_settings(tmp_path / "hub", kafka_bootstrap, batch_size=1000)
    sync_topics(settings.kafka, settings.registry())
    run_cli(settings, "warehouse", "migrate")
    sim = simulate(SimulationSpec(start="2006-01", end="2006-06", events=30_000, seed=41))
    base = f"http://127.0.0.1:{settings.worker.web_port}"
    worker = start_worker(settings, tmp_path / "worker.log")
    publisher = threading.Thread(
        target=publish, args=(sim.messages, settings.kafka), kwargs={"rate": 3000}
    )
    try:
        publisher.start()
        wait_until(
            lambda: status(settings)["worker"]["accepted"] > 1000,
            timeout=120,
            what="ingestion to be under way",
        )
        with ThreadPoolExecutor(max_workers=200) as pool:
            answers = list(pool.map(lambda _: get(f"{base}/status"), range(200)))
        ingesting = status(settings)["worker"]["accepted"] < len(sim.messages)
        refused = get(f"{base}/status", host="evil.example")
        rebound = get(f"{base}/metrics", host="attacker.test:6066")
        pages = [get(f"{base}{path}")[0] for path in ("/router/", "/router/key/?key=x", "/table/")]
        cached = wait_until(
            lambda: "total" in status(settings)["lag"] and status(settings),
            timeout=60,
            what="the background measurement of lag",
        )
    finally:
        publisher.join(timeout=300)
        stop_worker(worker)

    assert ingesting  # the requests were made while the worker was busy
    assert [code for code, _ in answers] == [200] * 200
    slowest = max(seconds for _, seconds in answers)
    assert slowest < ANSWER_SECONDS, f"slowest /status answer took {slowest:.2f} s"
    assert refused[0] == 403
    assert rebound[0] == 403
    assert pages == [404, 404, 404]
    assert cached["measured_at"] is not None
    assert "facts" in cached["warehouse"]["tables"]
    # One coarse total: no per-topic lag beside the counters (see streams.status.LAG_STEP).
    assert set(cached["lag"]) == {"total", "rounded_up_to", "sgbv_waiting"}
    assert cached["lag"]["total"] % LAG_STEP == 0


def test_the_lag_shown_is_rounded_up_and_zero_only_when_drained() -> None:
    assert [coarse_lag(n) for n in (0, 1, 99, 100, 101, 12_345)] == [0, 100, 100, 100, 200, 12_400]


def test_a_rendered_body_serves_every_request_within_its_period() -> None:
    clock = [100.0]
    renders: list[float] = []

    def render() -> bytes:
        renders.append(clock[0])
        return f"body {len(renders)}".encode()

    body = RenderedOnce(render, seconds=0.25, monotonic=lambda: clock[0])
    answers = [body.body() for _ in range(200)]  # 200 requests at once: one rendering
    clock[0] += 0.2
    still = body.body()
    clock[0] += 0.05
    fresh = body.body()

    assert answers == [b"body 1"] * 200
    assert still == b"body 1"
    assert fresh == b"body 2"
    assert renders == [100.0, 100.25]
