"""Contract bounds that match the storage, and the decode rules no decoded example can show."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from schemas.contract import (
    EARLIEST_DAY,
    MAX_COUNT,
    MAX_REVISION,
    duplicate_keys,
    parse_event,
)
from schemas.reasons import MAX_REASON_TEXT, InvalidEvent, bounded

VALID = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "valid"
TODAY = date(2006, 12, 31)


def valid(name: str = "assistance_1") -> dict[str, Any]:
    event: dict[str, Any] = json.loads((VALID / f"{name}.json").read_bytes())
    return event


def verdict(raw: bytes | str) -> list[tuple[str, str]]:
    try:
        parse_event(raw, today=TODAY)
    except InvalidEvent as error:
        return [(r.field, r.code) for r in error.reasons]
    return []


def test_the_largest_values_the_columns_hold_are_accepted() -> None:
    event = valid()
    event["revision"] = MAX_REVISION
    event["beneficiaries"] = {"female": {"0-4": MAX_COUNT}}
    assert verdict(json.dumps(event)) == []
    event["revision"] = MAX_REVISION + 1
    assert verdict(json.dumps(event)) == [("revision", "out_of_range")]


def test_the_earliest_day_is_accepted_and_the_day_before_is_not() -> None:
    event = valid()
    event["occurred_on"] = EARLIEST_DAY.isoformat()
    event["reported_at"] = "1990-01-02T00:00:00Z"
    assert verdict(json.dumps(event)) == []
    event["occurred_on"] = "1989-12-31"
    assert verdict(json.dumps(event)) == [("occurred_on", "implausible_date")]


def test_a_repeated_partner_id_is_refused_whichever_value_comes_last() -> None:
    body = json.dumps(valid())
    assert body.startswith('{"event_id"')
    for spoof in ('"partner_id": "kzlegal", ', '"partner_id": "evilngo", '):
        raw = "{" + spoof + body[1:]
        assert verdict(raw) == [("partner_id", "duplicate_key")]
        assert verdict(raw.encode()) == [("partner_id", "duplicate_key")]


def test_a_repeated_key_deep_inside_is_named_by_its_path() -> None:
    raw = json.dumps(valid()).replace('"female": {', '"female": {"0-4": 3, "0-4": 1, ', 1)
    assert verdict(raw) == [("beneficiaries.female.0-4", "duplicate_key")]


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff", b"[" * 100_000, "1" * 5000])
def test_duplicate_keys_leaves_non_json_to_the_parser(raw: bytes | str) -> None:
    assert duplicate_keys(raw) == []
    assert [code for _, code in verdict(raw)] == ["invalid_json"]


def test_reasons_never_echo_unbounded_input() -> None:
    event = valid()
    event["region"] = "X" * 600_000
    event["payload"]["n" * 100_000] = 1
    with pytest.raises(InvalidEvent) as refused:
        parse_event(json.dumps(event), today=TODAY)
    reasons = refused.value.reasons
    assert {r.code for r in reasons} == {"unknown_region", "unknown_field"}
    for reason in reasons:
        assert len(reason.field) <= MAX_REASON_TEXT + 40
        assert len(reason.message) <= MAX_REASON_TEXT + 40
    assert any("(100008 characters)" in r.field for r in reasons)


def test_bounded_keeps_short_text_and_says_the_length_of_long_text() -> None:
    assert bounded("abc", 3) == "abc"
    assert bounded("abcd", 3) == "abc… (4 characters)"
