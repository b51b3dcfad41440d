"""The worker's metrics: prometheus_client's text format, the names and labels dashboards and
benchmarks read, and the same figures on /status."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from streams.metrics import LATENCY_WINDOW, METRICS, LatencyWindow, WorkerMetrics, quantiles
from streams.status import worker_status
from tests.streams.builders import NOW, mixed_batch

#: The /metrics contract as it was before prometheus_client: name -> (type, label names).
EXPOSED = {
    "partnerhub_events_accepted_total": ("counter", ()),
    "partnerhub_events_deadlettered_total": ("counter", ("reason",)),
    "partnerhub_sink_batches_total": ("counter", ()),
    "partnerhub_sink_batch_size": ("gauge", ()),
    "partnerhub_sink_batch_seconds": ("gauge", ()),
    "partnerhub_sink_retries_total": ("counter", ()),
    "partnerhub_sink_unavailable": ("gauge", ()),
    "partnerhub_alerts_raised_total": ("counter", ("type",)),
    "partnerhub_ingest_latency_seconds": ("summary", ()),
    "partnerhub_sink_failures_total": ("counter", ("kind",)),
    "partnerhub_events_unstorable_total": ("counter", ()),
    # Added with the SGBV disclosure rules: whether any SGBV message came, never a count.
    "partnerhub_sgbv_received": ("gauge", ()),
}


def busy_metrics() -> WorkerMetrics:
    """Metrics after two failed attempts, three batches and three alerts."""
    metrics = WorkerMetrics()
    metrics.attempt_failed()
    metrics.attempt_failed()
    metrics.batch_written(mixed_batch(), 0.25, NOW)  # each message 2 s old
    metrics.batch_written(mixed_batch(), 0.75, NOW + timedelta(seconds=2))  # 4 s old
    metrics.batch_written(mixed_batch(), 0.5, NOW + timedelta(seconds=8))  # 10 s old
    metrics.alerts_raised(["duplicate_assistance", "silent_partner", "duplicate_assistance"])
    return metrics


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, parsed by prometheus_client: (name, labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_text_keeps_every_name_type_and_label() -> None:
    text = busy_metrics().prometheus()
    families = {f.name: f for f in text_string_to_metric_families(text)}

    for name, (kind, labels) in EXPOSED.items():
        base = name.removesuffix("_total") if kind == "counter" else name
        family = families[base]
        assert family.type == kind, name
        assert f"# TYPE {name} {kind}" in text.splitlines()
        values = [s for s in family.samples if s.name == name]
        assert values, f"{name} has no sample"
        assert all(set(s.labels) - {"quantile"} == set(labels) for s in values), name
    assert set(EXPOSED) == set(METRICS)


def test_metrics_text_has_the_values_recorded() -> None:
    got = samples(busy_metrics().prometheus())

    def value(name: str, **labels: str) -> float:
        return got[(name, frozenset(labels.items()))]

    assert value("partnerhub_events_accepted_total") == 6
    assert value("partnerhub_events_deadlettered_total", reason="invalid_json") == 3
    assert value("partnerhub_events_deadlettered_total", reason="unknown_region") == 3
    assert value("partnerhub_sink_batches_total") == 3
    assert (value("partnerhub_sink_batch_size"), value("partnerhub_sink_batch_seconds")) == (4, 0.5)
    assert value("partnerhub_sink_retries_total") == 2
    assert value("partnerhub_sink_unavailable") == 0  # a batch got through after the failures
    assert value("partnerhub_alerts_raised_total", type="duplicate_assistance") == 2
    assert value("partnerhub_alerts_raised_total", type="silent_partner") == 1
    latency = "partnerhub_ingest_latency_seconds"
    assert [value(latency, quantile=q) for q in ("0.5", "0.9", "0.99")] == [4.0, 10.0, 10.0]
    assert (value(f"{latency}_count"), value(f"{latency}_sum")) == (12, 64.0)


def test_plain_lines_read_as_the_end_to_end_tests_and_benchmarks_read_them() -> None:
    lines = busy_metrics().prometheus().splitlines()

    assert "partnerhub_sink_retries_total 2.0" in lines
    assert 'partnerhub_ingest_latency_seconds{quantile="0.99"} 10.0' in lines


def test_status_shows_the_same_figures() -> None:
    status = worker_status(busy_metrics())

    assert status == {
        "accepted": 6,
        "deadlettered_by_reason": {"invalid_json": 3, "unknown_region": 3},
        "batches": 3,
        "last_batch_size": 4,
        "last_batch_seconds": 0.5,
        "sink_retries": 2,
        "warehouse_unavailable": False,
        "failing": "",  # the last batch got through
        "failures_by_kind": {"warehouse_unavailable": 2},
        "unstorable": 0,
        "sgbv_received": "no",
        "latency_seconds": {"p50": 4.0, "p90": 10.0, "p99": 10.0},
    }


def test_a_failed_attempt_marks_the_warehouse_unavailable_until_a_batch_gets_through() -> None:
    metrics = WorkerMetrics()
    metrics.attempt_failed()

    assert worker_status(metrics)["warehouse_unavailable"] is True
    assert worker_status(metrics)["latency_seconds"] == {}  # nothing written yet
    assert "partnerhub_sink_unavailable 1.0" in metrics.prometheus().splitlines()


def test_two_workers_in_one_process_do_not_share_counters() -> None:
    one, two = WorkerMetrics(), WorkerMetrics()
    one.attempt_failed()

    assert (
        one.value("partnerhub_sink_retries_total"),
        two.value("partnerhub_sink_retries_total"),
    ) == (
        1,
        0,
    )


def test_quantiles_are_nearest_rank_over_the_window_only() -> None:
    assert quantiles([]) == {}
    assert quantiles(float(n) for n in range(1, 101)) == {"p50": 51.0, "p90": 90.0, "p99": 99.0}
    window = LatencyWindow("x_seconds", "x", size=3)
    window.observe([100.0, 1.0, 2.0, 3.0])  # the 100 s falls out of the window

    assert window.quantiles() == {"p50": 2.0, "p90": 3.0, "p99": 3.0}
    (metric,) = window.collect()
    assert {s.name: s.value for s in metric.samples if not s.labels} == {
        "x_seconds_count": 4,  # count and sum are over every observation, as Prometheus expects
        "x_seconds_sum": 106.0,
    }
    assert LATENCY_WINDOW == 20_000


def test_latency_quantiles_follow_every_new_observation() -> None:
    # The quantiles are sorted once per change (every registry read collects them); a read
    # after new observations must still see them.
    window = LatencyWindow("x_seconds", "x", size=5)
    window.observe([1.0, 2.0, 3.0])
    first = window.quantiles()
    first["p50"] = -1.0  # a caller's copy: changing it changes nothing inside
    assert window.quantiles() == {"p50": 2.0, "p90": 3.0, "p99": 3.0}

    window.observe([10.0, 10.0, 10.0])

    assert window.quantiles() == {"p50": 10.0, "p90": 10.0, "p99": 10.0}
