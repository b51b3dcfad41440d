"""Every metric the worker exposes, defined in one place (``/metrics`` and ``/status`` use these).

Names follow Prometheus conventions; dashboards may only use names listed here.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

#: name -> (type, help). The single list of metric names.
METRICS: dict[str, tuple[str, str]] = {
    "partnerhub_events_accepted_total": ("counter", "Events written to the warehouse as facts."),
    "partnerhub_events_deadlettered_total": (
        "counter",
        "Messages rejected to the dead-letter topic, by first reason code.",
    ),
    "partnerhub_sink_batches_total": ("counter", "Sink batches written durably."),
    "partnerhub_sink_batch_size": ("gauge", "Messages in the last sink batch."),
    "partnerhub_sink_batch_seconds": ("gauge", "Seconds the last sink batch took to write."),
    "partnerhub_sink_retries_total": (
        "counter",
        "Sink write attempts that failed and were retried.",
    ),
    "partnerhub_sink_unavailable": ("gauge", "1 while the warehouse is unreachable, else 0."),
    "partnerhub_alerts_raised_total": ("counter", "Coordination alerts raised, by type."),
    "partnerhub_ingest_latency_seconds": (
        "summary",
        "Publish-to-queryable latency of recent events (broker timestamp to written).",
    ),
}

#: How many recent latencies the quantiles are computed over.
LATENCY_WINDOW = 20_000


@dataclass
class WorkerMetrics:
    """The worker's in-process counters since it started."""

    accepted: int = 0
    deadlettered: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    last_batch_size: int = 0
    last_batch_seconds: float = 0.0
    retries: int = 0
    unavailable: bool = False
    alerts: Counter[str] = field(default_factory=Counter)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))

    def latency_quantiles(self) -> dict[str, float]:
        """p50, p90 and p99 of the recent publish-to-queryable latencies, in seconds."""
        if not self.latencies:
            return {}
        ordered = sorted(self.latencies)
        last = len(ordered) - 1
        return {f"p{q}": ordered[round(last * q / 100)] for q in (50, 90, 99)}

    def prometheus(self) -> str:
        """The counters in Prometheus text exposition format."""
        values: dict[str, list[tuple[str, float]]] = {
            "partnerhub_events_accepted_total": [("", self.accepted)],
            "partnerhub_events_deadlettered_total": [
                (f'{{reason="{code}"}}', n) for code, n in sorted(self.deadlettered.items())
            ],
            "partnerhub_sink_batches_total": [("", self.batches)],
            "partnerhub_sink_batch_size": [("", self.last_batch_size)],
            "partnerhub_sink_batch_seconds": [("", self.last_batch_seconds)],
            "partnerhub_sink_retries_total": [("", self.retries)],
            "partnerhub_sink_unavailable": [("", 1 if self.unavailable else 0)],
            "partnerhub_alerts_raised_total": [
                (f'{{type="{kind}"}}', n) for kind, n in sorted(self.alerts.items())
            ],
            "partnerhub_ingest_latency_seconds": [
                (f'{{quantile="{int(name[1:]) / 100:g}"}}', value)
                for name, value in self.latency_quantiles().items()
            ]
            + [("_count", len(self.latencies))],
        }
        lines: list[str] = []
        for name, (kind, text) in METRICS.items():
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            lines += [f"{name}{labels} {value:g}" for labels, value in values[name]]
        return "\n".join(lines) + "\n"
