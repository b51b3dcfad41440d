"""A dead letter is filed as SGBV data when its topic or its bytes name SGBV, however they are
written (``disclosure.rules.deadletter_kind``): an SGBV event sent to the wrong topic must stay
out of every count as an SGBV fact does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from disclosure.rules import deadletter_kind, is_sensitive_row, names_sensitive_kind
from schemas.reasons import Reason
from streams.transform import Meta, deadletter_row
from streams.unstorable import unstorable_alert

EVENT = {"kind": "sgbv", "partner_id": "wcc_almaty", "payload": {"activity": "referral"}}


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(EVENT).encode(),
        json.dumps({**EVENT, "kind": "SGBV"}).encode(),
        json.dumps(EVENT).encode().replace(b'"sgbv"', b'"\\u0073gbv"'),  # an escape
        json.dumps(EVENT).encode("utf-16"),  # bytes json.loads reads, with no "sgbv" in them
        json.dumps([{"kind": "assistance"}, EVENT]).encode(),  # one element of a bulk message
        json.dumps({"nested": [{"deeper": {"kind": "sgbv"}}]}).encode(),
        b'{"kind": "sgbv", "occurred_on": ',  # cut short: not JSON, still named
        b"\xff\xfe not utf-8 at all, sgbv",
    ],
)
def test_bytes_that_name_sgbv_anyhow_are_sgbv(raw: bytes) -> None:
    assert names_sensitive_kind(raw)
    row = {"topic": "partners.kzlegal.assistance.v1", "kind": deadletter_kind("", raw)}
    assert row["kind"] == "sgbv"
    assert is_sensitive_row(row)


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"kind": "assistance", "payload": {"category": "food"}}).encode(),
        b"not json",
        b"",
        b"[" * 100_000,  # deeper than the decoder goes: refused, not a crash
        json.dumps({"a": [[[[{"b": "s g b v"}]]]]}).encode(),
    ],
)
def test_other_bytes_are_not(raw: bytes) -> None:
    assert not names_sensitive_kind(raw)


def test_a_dead_letter_is_filed_under_its_topic_kind_unless_sgbv() -> None:
    plain = json.dumps({"kind": "assistance"}).encode()
    assert deadletter_kind("partners.kzlegal.assistance.v1", plain) == "assistance"
    assert deadletter_kind("partners.kzlegal.sgbv.v1", plain) == "sgbv"
    assert deadletter_kind("partners.kzlegal.sgbv.v2", plain) == "sgbv"  # not a hub topic
    assert deadletter_kind("partners.kzlegal.SGBV.v1", plain) == "sgbv"
    assert deadletter_kind("hub.deadletter.v1", plain) == ""
    assert deadletter_kind("partners.kzlegal.assistance.v1", json.dumps(EVENT).encode()) == "sgbv"


def test_unstorable_sgbv_events_raise_one_alert_a_day_without_place_or_error() -> None:
    """The warehouse refusing SGBV events (a hub bug) must not count them in alerts, nor quote
    their values: one alert a day says it happened; ordinary events keep one alert each."""
    now = datetime(2006, 5, 2, 10, tzinfo=UTC)
    reason = Reason(field="", code="unstorable", message="warehouse error 53: value 3 of wcc")

    def alerts(raw: bytes, topic: str) -> list[dict[str, Any]]:
        rows = [
            deadletter_row(raw, Meta(topic, 0, offset, now), (reason,), now) for offset in (7, 8)
        ]
        return [
            unstorable_alert(row, now + timedelta(hours=offset)) for offset, row in enumerate(rows)
        ]

    sgbv = alerts(json.dumps(EVENT).encode(), "partners.wcc_almaty.assistance.v1")
    assert len({a["alert_id"] for a in sgbv}) == 1
    assert all(json.loads(a["details"]) == {"kind": "sgbv"} for a in sgbv)
    assert all(a["partners"] == [] for a in sgbv)
    plain = alerts(b'{"kind": "assistance"}', "partners.kzlegal.assistance.v1")
    assert len({a["alert_id"] for a in plain}) == 2
    assert json.loads(plain[0]["details"])["error"] == reason.message
