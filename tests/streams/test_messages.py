"""What the worker publishes: alert messages and dead-letter messages, byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from streams.alerts import alert_message
from streams.publish import deadletter_message
from streams.signals import NO_MONTH, duplicate_alerts, silent_alerts
from tests.streams.builders import mixed_batch

NOW = datetime(2007, 1, 15, 9, 30, tzinfo=UTC)


def test_a_duplicate_alert_message_names_partners_and_counts_with_iso_dates() -> None:
    shared = [{"month": date(2006, 3, 1), "category": "food", "partners": ["a", "b"], "refs": 3}]
    (alert,) = duplicate_alerts(shared, [(date(2006, 3, 1), "food")], {}, NOW)

    message = json.loads(alert_message(alert))

    assert message == {
        "alert_id": alert["alert_id"],
        "alert_type": "duplicate_assistance",
        "raised_at": "2007-01-15T09:30:00+00:00",
        "month": "2006-03",
        "category": "food",
        "partners": ["a", "b"],
        "overlap": 3,
        "details": {"pairs": {"a+b": 3}},  # an object, not a JSON string inside JSON
    }


def test_an_alert_about_no_month_has_a_null_month_and_keys_are_sorted() -> None:
    (alert,) = silent_alerts(["kzlegal"], {}, NOW, silent_days=45)
    assert alert["month"] == NO_MONTH

    raw = alert_message(alert)
    message = json.loads(raw)

    assert message["month"] is None
    assert message["details"] == {"days_silent": None, "last_reported_at": None}
    assert list(message) == sorted(message)
    assert raw == json.dumps(message, sort_keys=True).encode()  # deterministic bytes


def test_a_dead_letter_message_is_the_original_bytes_with_where_and_why_as_headers() -> None:
    row = mixed_batch().deadletters[0]

    key, value, headers = deadletter_message(row)

    assert (key, value) == (b"kzlegal", b"not json")
    assert dict(headers) == {
        "x-hub-reasons": row["reasons"].encode(),
        "x-hub-topic": b"partners.kzlegal.assistance.v1",
        "x-hub-kind": b"assistance",
        "x-hub-partition": b"0",
        "x-hub-offset": b"1",
        "x-hub-event-index": b"-1",  # a single-event message (bulk: tests/streams/test_bulk.py)
    }
    assert json.loads(dict(headers)["x-hub-reasons"])[0]["code"] == "invalid_json"
