"""Raising coordination alerts: to the alerts topic, then into the warehouse."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from streams.access import WarehouseAccess
from streams.after_write import Publisher, Written
from streams.metrics import WorkerMetrics
from streams.signals import NO_MONTH
from streams.transform import Row
from warehouse.facts import write_alerts


def alert_message(alert: Row) -> bytes:
    """The ``hub.alerts.v1`` value of an alert row: JSON, dates as ISO strings, no refs."""
    return json.dumps(
        {
            **alert,
            "raised_at": alert["raised_at"].isoformat(),
            "month": None if alert["month"] == NO_MONTH else alert["month"].isoformat()[:7],
            "details": json.loads(alert["details"]),
        },
        sort_keys=True,
    ).encode()


class RaiseAlerts:
    """Publishes alerts, then stores them (a crash between the two publishes them again: at
    least once, never lost). As an after-write step it raises what the checks before it found;
    the silent-partner timer calls :meth:`raise_alerts` directly."""

    def __init__(
        self, access: WarehouseAccess, publish: Publisher | None, metrics: WorkerMetrics
    ) -> None:
        self._access = access
        self._publish = publish
        self._metrics = metrics

    async def raise_alerts(self, alerts: Sequence[Row]) -> None:
        if not alerts:
            return
        if self._publish is not None:
            await self._publish(alerts)
        await asyncio.to_thread(self._access.run, lambda wh: write_alerts(wh, alerts))
        self._metrics.alerts_raised(a["alert_type"] for a in alerts)

    async def run(self, written: Written) -> None:
        await self.raise_alerts(written.alerts)
