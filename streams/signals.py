"""Coordination signals: duplicate assistance across partners, and partners gone silent.

Both are computed from the warehouse (the truth), never from worker memory, and become alert
rows with deterministic ids: raising the same alert again replaces it, so a signal computed
twice (a batch written twice, two workers) changes nothing. Alerts name partners and counts,
never beneficiary refs.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import combinations
from typing import Any

from streams.transform import Row
from warehouse.client import Warehouse
from warehouse.facts import latest_revisions_sql
from warehouse.rowsets import rows_of, tsv

DUPLICATE_ASSISTANCE = "duplicate_assistance"
SILENT_PARTNER = "silent_partner"
#: The ``month`` of alerts that concern no month.
NO_MONTH = date(1970, 1, 1)

_EVENTS = "partner_id String, event_id String"
_PLACES = "month Date, category String"


def alert_id(*parts: object) -> str:
    """A stable id for an alert from what identifies it."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]


# --- duplicate assistance --------------------------------------------------------------------


def touched_places_sql() -> str:
    """(month, category) of every ref row of any revision of the given assistance events."""
    return (
        "SELECT DISTINCT month, category FROM assistance_refs"
        f" WHERE (partner_id, event_id) IN (SELECT * FROM {rows_of('events', _EVENTS)})"
    )


def overlap_sql() -> str:
    """Per (month, category) and set of partners, how many refs that exact set shares.

    Only the winning, active revision of each event counts; refs never leave the query.
    """
    places = f"(SELECT * FROM {rows_of('places', _PLACES)})"
    candidates = (
        "SELECT DISTINCT partner_id, event_id FROM assistance_refs"
        f" WHERE (month, category) IN {places}"
    )
    latest = latest_revisions_sql(
        f"kind = 'assistance' AND (partner_id, event_id) IN ({candidates})",
        fields=("revision", "status"),
    )
    return (
        "SELECT month, category, partners, count() AS refs FROM ("
        " SELECT r.month AS month, r.category AS category, r.ref AS ref,"
        " arraySort(groupUniqArray(r.partner_id)) AS partners"
        " FROM assistance_refs AS r"
        f" INNER JOIN ({latest}) AS l"
        " ON r.partner_id = l.partner_id AND r.event_id = l.event_id AND r.revision = l.revision"
        f" WHERE l.status = 'active' AND (r.month, r.category) IN {places}"
        " GROUP BY month, category, ref HAVING length(partners) >= 2"
        ") GROUP BY month, category, partners ORDER BY month, category, partners"
    )


def duplicate_alerts(
    shared: Iterable[Mapping[str, Any]],
    places: Iterable[tuple[date, str]],
    existing: Mapping[str, int],
    now: datetime,
) -> list[Row]:
    """Alert rows for the places whose overlap changed (pure).

    ``shared`` are :func:`overlap_sql` rows; ``existing`` maps alert ids to the overlap they
    last reported. A place whose overlap fell to zero gets an alert with overlap 0 (resolved).
    """
    by_place: dict[tuple[date, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in shared:
        by_place[(row["month"], row["category"])].append(row)
    alerts: list[Row] = []
    for month, category in sorted(set(places)):
        rows = by_place.get((month, category), [])
        partners = sorted({p for row in rows for p in row["partners"]})
        overlap = sum(int(row["refs"]) for row in rows)
        pairs: Counter[str] = Counter()
        for row in rows:
            for a, b in combinations(row["partners"], 2):
                pairs[f"{a}+{b}"] += int(row["refs"])
        ident = alert_id(DUPLICATE_ASSISTANCE, month.isoformat(), category)
        if existing.get(ident, 0) == overlap:
            continue  # unchanged, or still nothing to say
        alerts.append(
            {
                "alert_id": ident,
                "alert_type": DUPLICATE_ASSISTANCE,
                "raised_at": now,
                "month": month,
                "category": category,
                "partners": partners,
                "overlap": overlap,
                "details": json.dumps({"pairs": dict(sorted(pairs.items()))}, sort_keys=True),
            }
        )
    return alerts


def existing_overlaps(wh: Warehouse, ids: Sequence[str]) -> dict[str, int]:
    """The overlap each of these alerts last reported."""
    if not ids:
        return {}
    rows = wh.query(
        "SELECT alert_id, overlap FROM alerts FINAL WHERE alert_id IN {ids:Array(String)}",
        {"ids": list(ids)},
    )
    return {row["alert_id"]: int(row["overlap"]) for row in rows}


def check_duplicate_assistance(
    wh: Warehouse, events: Iterable[tuple[str, str]], now: datetime
) -> list[Row]:
    """Alerts that changed because the given assistance events were written."""
    pairs = sorted(set(events))
    if not pairs:
        return []
    places = [
        (row["month"], row["category"])
        for row in wh.query(touched_places_sql(), {"events": tsv(pairs)})
    ]
    if not places:
        return []
    shared = wh.query(overlap_sql(), {"places": tsv(places)})
    ids = [alert_id(DUPLICATE_ASSISTANCE, m.isoformat(), c) for m, c in places]
    return duplicate_alerts(shared, places, existing_overlaps(wh, ids), now)


# --- silent partners -------------------------------------------------------------------------


def silent_alerts(
    partners: Iterable[str],
    last_reported: Mapping[str, datetime],
    now: datetime,
    silent_days: int,
) -> list[Row]:
    """Alert rows for partners with no report for ``silent_days`` days (pure).

    A partner that never reported is silent too. The alert id includes the last report, so
    a partner that reports again and falls silent again raises a new alert.
    """
    alerts: list[Row] = []
    for partner in sorted(set(partners)):
        last = last_reported.get(partner)
        if last is not None and now - last < timedelta(days=silent_days):
            continue
        since = last.isoformat() if last else "never"
        days = (now - last).days if last else None
        alerts.append(
            {
                "alert_id": alert_id(SILENT_PARTNER, partner, since),
                "alert_type": SILENT_PARTNER,
                "raised_at": now,
                "month": NO_MONTH,
                "category": "",
                "partners": [partner],
                "overlap": 0,
                "details": json.dumps(
                    {"last_reported_at": last.isoformat() if last else None, "days_silent": days},
                    sort_keys=True,
                ),
            }
        )
    return alerts


def check_silent_partners(
    wh: Warehouse, partners: Iterable[str], now: datetime, silent_days: int
) -> list[Row]:
    """Silent-partner alerts not raised before."""
    rows = wh.query(
        "SELECT partner_id, max(last_reported_at) AS last FROM partner_activity FINAL"
        " GROUP BY partner_id"
    )
    last = {row["partner_id"]: row["last"] for row in rows}
    alerts = silent_alerts(partners, last, now, silent_days)
    known = set(existing_overlaps(wh, [a["alert_id"] for a in alerts]))
    return [a for a in alerts if a["alert_id"] not in known]
