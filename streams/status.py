"""What the worker's ``/status`` page reports: lag, counts, dead letters, partners' last reports."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from broker.lag import group_lag, lag_by_topic
from broker.settings import KafkaSettings
from streams import metrics as m
from streams.metrics import WorkerMetrics
from warehouse.client import Warehouse
from warehouse.facts import deadletter_counts, table_counts

log = logging.getLogger(__name__)


def warehouse_status(wh: Warehouse) -> dict[str, Any]:
    """Row counts, dead letters by reason and each partner's last report, from the warehouse."""
    last = wh.query(
        "SELECT partner_id, max(last_reported_at) AS last_reported_at, "
        "max(last_ingested_at) AS last_ingested_at, sum(events) AS events "
        "FROM partner_activity FINAL GROUP BY partner_id ORDER BY partner_id"
    )
    return {
        "tables": table_counts(wh),
        "deadletters_by_reason": deadletter_counts(wh),
        "partners": {
            row["partner_id"]: {
                "events": int(row["events"]),
                "last_reported_at": _iso(row["last_reported_at"]),
                "last_ingested_at": _iso(row["last_ingested_at"]),
            }
            for row in last
        },
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def lag_status(settings: KafkaSettings, group: str, topics: list[str]) -> dict[str, Any]:
    """Lag per topic and in total; an ``error`` entry instead when the broker cannot say."""
    try:
        per_topic = lag_by_topic(group_lag(settings, group, topics, timeout=5.0))
    except Exception as error:  # the status page must answer even when the broker does not
        log.warning("lag unavailable: %s", error)
        return {"error": str(error)}
    return {"total": sum(per_topic.values()), "by_topic": per_topic}


def worker_status(metrics: WorkerMetrics) -> dict[str, Any]:
    """The worker's own counters since it started."""
    return {
        "accepted": int(metrics.value(m.ACCEPTED)),
        "deadlettered_by_reason": {k: int(v) for k, v in metrics.by_label(m.DEADLETTERED).items()},
        "batches": int(metrics.value(m.BATCHES)),
        "last_batch_size": int(metrics.value(m.BATCH_SIZE)),
        "last_batch_seconds": round(metrics.value(m.BATCH_SECONDS), 4),
        "sink_retries": int(metrics.value(m.RETRIES)),
        "warehouse_unavailable": metrics.value(m.UNAVAILABLE) == 1,
        # "" while writing; else why the batch in hand is being retried (transient kinds:
        # warehouse_unavailable, broker_unavailable; "error": a refused statement, a bug).
        "failing": metrics.failing,
        "failures_by_kind": {k: int(v) for k, v in metrics.by_label(m.FAILURES).items()},
        # Messages refused for their content: isolated, dead-lettered, the rest written.
        "unstorable": int(metrics.value(m.UNSTORABLE)),
        "latency_seconds": {k: round(v, 4) for k, v in metrics.latency.quantiles().items()},
    }


# --- serving it cheaply --------------------------------------------------------------------


class StatusCache:
    """The slow parts of ``/status`` (lag, warehouse figures), measured in the background.

    A request only reads this cache: it never opens a Kafka client nor waits for the sink's
    warehouse lock, so asking costs the worker nothing (200 concurrent requests used to take 7 s
    each, and slowed ingestion). ``measured_at`` says how fresh the figures are.
    """

    def __init__(self) -> None:
        self.lag: dict[str, Any] = {"error": "not measured yet"}
        self.warehouse: dict[str, Any] = {"error": "not measured yet"}
        self.measured_at: str | None = None

    def update(self, lag: dict[str, Any], stored: dict[str, Any], now: datetime) -> None:
        self.lag, self.warehouse, self.measured_at = lag, stored, now.isoformat()


def host_of(header: str | None) -> str:
    """The host name of a ``Host`` header, without its port (``[::1]:6066`` -> ``::1``)."""
    value = (header or "").strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_guard(allowed: Iterable[str]) -> Any:
    """aiohttp middleware refusing (403) a request whose ``Host`` is not one of ``allowed``."""
    from aiohttp import web

    names = frozenset(name.lower() for name in allowed)

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        if host_of(request.headers.get("Host")) not in names:
            return web.Response(status=403, text="unknown Host\n")
        response: web.StreamResponse = await handler(request)
        return response

    return guard
