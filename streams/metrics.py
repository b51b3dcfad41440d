"""Every metric the worker exposes, defined in one place (``/metrics`` and ``/status`` use these).

Names follow Prometheus conventions; dashboards may only use names listed in :data:`METRICS`.
The types and the text format are prometheus_client's, on a registry of the worker's own (no
process-wide state, so two workers in one process, or tests, never share counters). Counters
also get prometheus_client's standard ``<name>_created`` series.

Latency quantiles: prometheus_client's ``Summary`` has no quantiles and a ``Histogram`` would
change what ``/metrics`` shows (``le`` buckets instead of the ``quantile`` series the pipeline
benchmark and any existing scrape read). So the latency stays a summary, exposed by a small
collector: p50/p90/p99 over a bounded window of the most recent latencies (the same figures
``/status`` shows), with ``_count`` and ``_sum`` over every latency since start, as Prometheus
expects of a summary. Quantiles of a summary cannot be aggregated across workers; per worker
is what the benchmark and the status page need.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from disclosure.rules import open_rows
from streams.batch import Batch

ACCEPTED = "partnerhub_events_accepted_total"
DEADLETTERED = "partnerhub_events_deadlettered_total"
BATCHES = "partnerhub_sink_batches_total"
BATCH_SIZE = "partnerhub_sink_batch_size"
BATCH_SECONDS = "partnerhub_sink_batch_seconds"
RETRIES = "partnerhub_sink_retries_total"
UNAVAILABLE = "partnerhub_sink_unavailable"
ALERTS = "partnerhub_alerts_raised_total"
LATENCY = "partnerhub_ingest_latency_seconds"
FAILURES = "partnerhub_sink_failures_total"
UNSTORABLE = "partnerhub_events_unstorable_total"
SGBV_RECEIVED = "partnerhub_sgbv_received"

#: name -> (type, help, label names). The single list of metric names.
METRICS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    ACCEPTED: ("counter", "Events written to the warehouse as facts (SGBV never counted).", ()),
    DEADLETTERED: (
        "counter",
        "Events rejected to the dead-letter topic (a message, or an event of a bulk message),"
        " by first reason code (SGBV topics not counted).",
        ("reason",),
    ),
    SGBV_RECEIVED: (
        "gauge",
        "1 once any SGBV message has arrived since the worker started, else 0 (never a count).",
        (),
    ),
    BATCHES: ("counter", "Sink batches written durably.", ()),
    BATCH_SIZE: ("gauge", "Messages in the last sink batch.", ()),
    BATCH_SECONDS: ("gauge", "Seconds the last sink batch took to write.", ()),
    RETRIES: ("counter", "Sink write attempts that failed and were retried.", ()),
    UNAVAILABLE: ("gauge", "1 while the warehouse is unreachable, else 0.", ()),
    FAILURES: (
        "counter",
        "Failed batch attempts, by kind: warehouse_unavailable, broker_unavailable (transient),"
        " error (a refused statement that is not about the data: a bug). All are retried.",
        ("kind",),
    ),
    UNSTORABLE: (
        "counter",
        "Messages the warehouse refused for their content: isolated and dead-lettered.",
        (),
    ),
    ALERTS: ("counter", "Coordination alerts raised, by type.", ("type",)),
    LATENCY: (
        "summary",
        "Publish-to-queryable latency of recent events (broker timestamp to written).",
        (),
    ),
}

#: How many recent latencies the quantiles are computed over.
LATENCY_WINDOW = 20_000
QUANTILES = (50, 90, 99)


def quantiles(values: Iterable[float]) -> dict[str, float]:
    """p50, p90 and p99 of ``values`` (nearest rank); empty when there are none."""
    ordered = sorted(values)
    if not ordered:
        return {}
    last = len(ordered) - 1
    return {f"p{q}": ordered[round(last * q / 100)] for q in QUANTILES}


class LatencyWindow(Collector):
    """A summary whose quantiles come from the last ``size`` observations."""

    def __init__(self, name: str, documentation: str, size: int = LATENCY_WINDOW) -> None:
        self.name, self.documentation = name, documentation
        self._recent: deque[float] = deque(maxlen=size)
        self._count = 0
        self._sum = 0.0
        self._quantiles: dict[str, float] | None = None  # of the window as it is now
        self._lock = threading.Lock()

    def observe(self, values: Iterable[float]) -> None:
        with self._lock:
            for value in values:
                self._recent.append(value)
                self._count += 1
                self._sum += value
            self._quantiles = None

    def quantiles(self) -> dict[str, float]:
        """p50, p90 and p99 of the window, in seconds (sorted once per change, not per ask:
        every read of the registry collects this)."""
        with self._lock:
            if self._quantiles is not None:
                return dict(self._quantiles)
            recent, count = list(self._recent), self._count
        found = quantiles(recent)
        with self._lock:
            if self._count == count:  # nothing observed meanwhile
                self._quantiles = found
        return dict(found)

    def collect(self) -> Iterator[Metric]:
        metric = Metric(self.name, self.documentation, "summary")
        for key, value in self.quantiles().items():
            metric.add_sample(self.name, {"quantile": f"{int(key[1:]) / 100:g}"}, value)
        with self._lock:
            count, total = self._count, self._sum
        metric.add_sample(f"{self.name}_count", {}, count)
        metric.add_sample(f"{self.name}_sum", {}, total)
        yield metric


class WorkerMetrics:
    """The worker's in-process counters since it started."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        made = {
            name: (Counter if kind == "counter" else Gauge)(
                name, text, labels, registry=self.registry
            )
            for name, (kind, text, labels) in METRICS.items()
            if kind != "summary"
        }
        self._counter = {n: m for n, m in made.items() if isinstance(m, Counter)}
        self._gauge = {n: m for n, m in made.items() if isinstance(m, Gauge)}
        self.latency = LatencyWindow(LATENCY, METRICS[LATENCY][1])
        self.registry.register(self.latency)
        #: Why the batch in hand is being retried ("" while none is): a failure kind.
        self.failing = ""

    def batch_written(self, batch: Batch, seconds: float, written_at: datetime) -> None:
        """Count a batch made durable in ``seconds``, its messages queryable at ``written_at``.

        SGBV messages are never counted (``docs/sgbv.md``): a count of them, or a batch whose
        size or count moves without any counted message, is an SGBV number. Only whether any
        arrived is kept (:data:`SGBV_RECEIVED`)."""
        self._gauge[UNAVAILABLE].set(0)
        self.failing = ""
        counted = Batch(facts=open_rows(batch.facts), deadletters=open_rows(batch.deadletters))
        if len(counted) < len(batch):
            self._gauge[SGBV_RECEIVED].set(1)
        if not len(counted):
            return
        batch = counted
        self._counter[BATCHES].inc()
        self._gauge[BATCH_SIZE].set(len(batch))
        self._gauge[BATCH_SECONDS].set(seconds)
        self._counter[ACCEPTED].inc(len(batch.facts))
        for row in batch.deadletters:
            self._counter[DEADLETTERED].labels(reason=row["codes"][0]).inc()
            if row["codes"][0] == "unstorable":
                self._counter[UNSTORABLE].inc()
        self.latency.observe(batch.latencies(written_at))

    def attempt_failed(self, kind: str = "warehouse_unavailable") -> None:
        """Count a failed attempt that will be retried, by its kind
        (:func:`streams.errors.failure_kind`); while it is ``warehouse_unavailable`` the
        warehouse counts as unavailable until a batch gets through."""
        self._counter[RETRIES].inc()
        self._counter[FAILURES].labels(kind=kind).inc()
        self._gauge[UNAVAILABLE].set(1 if kind == "warehouse_unavailable" else 0)
        self.failing = kind

    def alerts_raised(self, types: Iterable[str]) -> None:
        for kind in types:
            self._counter[ALERTS].labels(type=kind).inc()

    def value(self, name: str) -> float:
        """The current value of an unlabelled counter or gauge."""
        value = self.registry.get_sample_value(name)
        return 0.0 if value is None else value

    def by_label(self, name: str) -> dict[str, float]:
        """A labelled counter's values by its one label, sorted by label."""
        (label,) = METRICS[name][2]
        found = {
            sample.labels[label]: sample.value
            for family in self.registry.collect()
            for sample in family.samples
            if sample.name == name
        }
        return dict(sorted(found.items()))

    def prometheus(self) -> str:
        """The metrics in Prometheus text exposition format (0.0.4)."""
        return generate_latest(self.registry).decode()
