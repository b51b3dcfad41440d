"""Rows for a message the warehouse refused although it passed the contract (pure).

Such a message is a hub bug or a bound the contract lacks, never the partner's fault alone: it
is dead-lettered with reason ``unstorable`` and the warehouse's error code, and an alert tells
the hub's operators (``unstorable_message``), so that one message never stalls every partner.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from disclosure.rules import SENSITIVE_KIND
from schemas.reasons import Reason, bounded
from streams.batch import Original
from streams.isolate import Refusal
from streams.signals import NO_MONTH, alert_id
from streams.transform import Meta, Row, deadletter_row

UNSTORABLE_MESSAGE = "unstorable_message"


def unstorable_reason(refusal: Refusal) -> Reason:
    """The ``unstorable`` reason, naming the warehouse's error code and (bounded) message."""
    return Reason(
        field="",
        code="unstorable",
        message=bounded(f"warehouse error {refusal.code}: {refusal.message}"),
    )


def unstorable_deadletter(fact: Row, original: Original, refusal: Refusal, now: datetime) -> Row:
    """The dead-letter row of the event behind a refused fact row."""
    meta = Meta(
        fact["topic"], fact["partition"], fact["offset"], fact["published_at"], original.event_index
    )
    return deadletter_row(original.raw, meta, (unstorable_reason(refusal),), now)


def unstorable_alert(deadletter: Row, now: datetime) -> Row:
    """An alert row for one unstorable dead letter; its id is the event's place (with its index
    in a bulk message), so raising it again (a batch replayed) replaces it. The error is its
    ``unstorable`` reason's.

    A dead letter filed as SGBV (``kind``) raises one alert a day, whatever their number, with
    neither its place nor the error's text: a count of them, or the values an error quotes,
    would be SGBV figures. The operator learns that SGBV events were refused today, and finds
    them in the dead letters."""
    where = (deadletter["topic"], deadletter["partition"], deadletter["offset"])
    index = deadletter.get("event_index", -1)
    details: dict[str, Any] = {"kind": SENSITIVE_KIND}
    partners: list[str] = []
    if deadletter.get("kind") == SENSITIVE_KIND:
        ids: tuple[Any, ...] = (SENSITIVE_KIND, now.date().isoformat())
    else:
        ids = (*where, index) if index >= 0 else where  # single events keep their ids
        reasons = json.loads(deadletter["reasons"])
        error = next((r["message"] for r in reasons if r["code"] == "unstorable"), "")
        details = dict(zip(("topic", "partition", "offset"), where, strict=True))
        details.update(event_index=index, error=error)
        partners = [deadletter["partner_id"]] if deadletter["partner_id"] else []
    return {
        "alert_id": alert_id(UNSTORABLE_MESSAGE, *ids),
        "alert_type": UNSTORABLE_MESSAGE,
        "raised_at": now,
        "month": NO_MONTH,
        "category": "",
        "partners": partners,
        "overlap": 0,
        "details": json.dumps(details, sort_keys=True),
    }
