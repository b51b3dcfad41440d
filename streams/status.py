"""What the worker's ``/status`` page reports: lag, counts, dead letters, partners' last reports
(never an SGBV count: see :func:`warehouse_status`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from broker.lag import group_lag, lag_by_topic
from broker.settings import KafkaSettings
from disclosure.rules import SENSITIVE_KIND, is_sensitive_topic, yes_no
from streams import metrics as m
from streams.metrics import WorkerMetrics
from warehouse.client import Warehouse
from warehouse.facts import deadletter_counts, table_counts

log = logging.getLogger(__name__)


def warehouse_status(wh: Warehouse, now: datetime | None = None) -> dict[str, Any]:
    """Row counts, dead letters by reason and each partner's last report, from the warehouse.

    No SGBV count leaves here (``disclosure.rules``): row and dead-letter counts leave SGBV
    rows out, a partner's events and report times are of its other kinds, and for a partner
    mandated SGBV the page says only whether it reported SGBV this month (an SGBV report's
    time is not shown either: it would date a case). ``now`` (default: the real time) says
    which month is "this month".
    """
    today = (now or datetime.now(UTC)).astimezone(UTC)
    month_start = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = wh.query(
        "SELECT partner_id, kind, max(last_reported_at) AS last_reported_at,"
        " max(last_ingested_at) AS last_ingested_at, sum(events) AS events"
        " FROM partner_activity FINAL GROUP BY partner_id, kind ORDER BY partner_id, kind"
    )
    partners: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = partners.setdefault(
            str(row["partner_id"]),
            {"events": 0, "last_reported_at": None, "last_ingested_at": None},
        )
        if row["kind"] == SENSITIVE_KIND:
            reported = row["last_ingested_at"] >= month_start
            entry["sgbv_reported_this_month"] = yes_no(reported)
            continue
        entry["events"] += int(row["events"])
        for name in ("last_reported_at", "last_ingested_at"):
            value = _iso(row[name])
            if value is not None and (entry[name] is None or value > entry[name]):
                entry[name] = value
    return {
        "tables": table_counts(wh, sgbv=False),
        "deadletters_by_reason": deadletter_counts(wh, sgbv=False),
        "partners": partners,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


#: ``/status`` shows the lag of the non-SGBV topics as one total rounded up to a multiple of
#: this (0 stays 0: "drained" is exact). Those topics can hold misrouted SGBV messages, which
#: no open counter counts: a topic's exact lag (how many arrived) beside the worker's counters
#: (how many of them were not SGBV) would be a subtraction giving their number, per partner.
LAG_STEP = 100


def coarse_lag(messages: int) -> int:
    """``messages`` rounded up to a multiple of :data:`LAG_STEP`; 0 stays 0."""
    return -(-messages // LAG_STEP) * LAG_STEP


def lag_status(settings: KafkaSettings, group: str, topics: list[str]) -> dict[str, Any]:
    """The lag of the non-SGBV topics as one coarse total, and whether SGBV messages wait.

    An ``error`` entry instead when the broker cannot say. No per-topic figure leaves (see
    :data:`LAG_STEP`); the exact lag is the broker's (``partnerhub stack`` reads it there).
    """
    try:
        per_topic = lag_by_topic(group_lag(settings, group, topics, timeout=5.0))
    except Exception as error:  # the status page must answer even when the broker does not
        log.warning("lag unavailable: %s", error)
        return {"error": str(error)}
    # SGBV topics' lag is a count of SGBV messages: only whether any are waiting.
    shown = sum(n for t, n in per_topic.items() if not is_sensitive_topic(t))
    waiting = any(n > 0 for t, n in per_topic.items() if is_sensitive_topic(t))
    return {"total": coarse_lag(shown), "rounded_up_to": LAG_STEP, "sgbv_waiting": yes_no(waiting)}


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
        "sgbv_received": yes_no(metrics.value(m.SGBV_RECEIVED) == 1),
        "latency_seconds": {k: round(v, 4) for k, v in metrics.latency.quantiles().items()},
    }


# --- serving it cheaply --------------------------------------------------------------------


#: How long a rendered ``/status`` or ``/metrics`` body is served again, in seconds.
RENDER_SECONDS = 0.25


class RenderedOnce:
    """A response body rendered at most once every ``seconds``, however many ask for it.

    Rendering the worker's counters walks the whole Prometheus registry (and the latency
    window's quantiles); 200 requests at once must cost one rendering, not 200, or asking
    slows ingestion. Called from the event loop only (no lock).
    """

    def __init__(
        self,
        render: Callable[[], bytes],
        seconds: float = RENDER_SECONDS,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._render, self._seconds, self._now = render, seconds, monotonic
        self._body: bytes | None = None
        self._rendered_at = 0.0

    def body(self) -> bytes:
        """The last body if it is younger than ``seconds``, else a new one."""
        now = self._now()
        if self._body is None or now - self._rendered_at >= self._seconds:
            self._body, self._rendered_at = self._render(), now
        return self._body


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
