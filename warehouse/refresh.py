"""The refreshes after a batch of facts is written, in the order they depend on each other.

The aggregates and the first reports both start from the touched events' stored revisions,
which are read once (:func:`warehouse.revisions.read_revisions`); partner activity then sums
what the aggregates' refresh left. Every step recomputes, never adds, so running this twice
for the same batch (a retried batch) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from warehouse.client import Warehouse
from warehouse.facts import refresh_aggregates, refresh_partner_activity
from warehouse.first_reports import refresh_first_reports
from warehouse.revisions import read_revisions


def refresh_keys(wh: Warehouse, facts: Iterable[Mapping[str, Any]]) -> int:
    """Refresh the aggregates (and the month grains and activity cells they feed) and the
    first reports that the written fact rows touched; return the aggregate keys rewritten."""
    rows = list(facts)
    touched = {(r["partner_id"], r["event_id"]) for r in rows}
    if not touched:
        return 0
    revisions = read_revisions(wh, touched)
    keys = refresh_aggregates(wh, touched, revisions)
    firsts = {(r["partner_id"], r["event_id"]) for r in rows if r["revision"] == 1}
    refresh_first_reports(wh, firsts, revisions)
    return keys


def refresh_written(wh: Warehouse, facts: Iterable[Mapping[str, Any]]) -> int:
    """Everything a written batch of fact rows touched: :func:`refresh_keys`, then partner
    activity of their partners; return the aggregate keys rewritten."""
    rows = list(facts)
    keys = refresh_keys(wh, rows)
    refresh_partner_activity(wh, {r["partner_id"] for r in rows})
    return keys
