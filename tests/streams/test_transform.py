"""The pure transform: message bytes + metadata -> fact rows or a dead letter."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from disclosure.keys import rekey_ref
from schemas.refdata import partners
from schemas.vocabulary import CELLS
from streams.transform import Meta, process

NOW = datetime(2006, 12, 31, 12, 0, tzinfo=UTC)
REF_KEY = b"test-hub-secret"
PUBLISHED = datetime(2006, 4, 3, 9, 0, tzinfo=UTC)


def meta(topic: str = "partners.kzlegal.assistance.v1", offset: int = 7) -> Meta:
    return Meta(topic=topic, partition=2, offset=offset, published_at=PUBLISHED)


def assistance(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "3F1C2D4E-5A6B-4C7D-8E9F-0A1B2C3D4E5F",
        "revision": 2,
        "partner_id": "kzlegal",
        "kind": "assistance",
        "occurred_on": "2006-03-30",
        "reported_at": "2006-04-02T10:00:00+06:00",
        "region": "KZ-75",
        "population_type": "refugee",
        "origin": "RUS",
        "beneficiaries": {"female": {"18-59": 2, "0-4": 1}, "male": {"60+": 1}},
        "payload": {"category": "cash", "quantity": 150.5, "unit": "USD", "value_usd": 150.5},
        "beneficiary_refs": ["a" * 64, "b" * 64],
    }
    event.update(changes)
    return event


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


def test_accepted_assistance_becomes_one_fact_and_a_row_per_ref() -> None:
    outcome = process(encode(assistance()), meta(), partners(), now=NOW, ref_key=REF_KEY)

    assert outcome.accepted
    assert outcome.deadletter is None
    fact = outcome.fact
    assert fact is not None
    assert fact["event_id"] == "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"  # lower-cased key
    assert (fact["revision"], fact["status"], fact["partner_id"]) == (2, "active", "kzlegal")
    assert fact["occurred_on"] == date(2006, 3, 30)
    assert fact["reported_at"] == datetime(2006, 4, 2, 4, 0, tzinfo=UTC)  # normalised to UTC
    assert fact["indicator"] == "cash"
    assert [fact[c] for c in CELLS] == [1, 0, 0, 2, 0, 0, 0, 0, 0, 1]
    assert (fact["quantity"], fact["unit"], fact["value_usd"]) == (150.5, "USD", 150.5)
    assert fact["ref_count"] == 2
    assert (fact["topic"], fact["partition"], fact["offset"]) == (
        "partners.kzlegal.assistance.v1",
        2,
        7,
    )
    assert fact["published_at"] == PUBLISHED
    assert fact["ingested_at"] == NOW
    assert "beneficiary_refs" not in json.loads(fact["payload"])
    assert [(r["ref"], r["month"], r["category"]) for r in outcome.refs] == [
        (rekey_ref(REF_KEY, "a" * 64), date(2006, 3, 1), "cash"),
        (rekey_ref(REF_KEY, "b" * 64), date(2006, 3, 1), "cash"),
    ]
    # The stored refs are neither the partner's nor testable without the hub's secret.
    assert {r["ref"] for r in outcome.refs}.isdisjoint({"a" * 64, "b" * 64})
    other = process(encode(assistance()), meta(), partners(), now=NOW, ref_key=b"another")
    assert {r["ref"] for r in other.refs}.isdisjoint({r["ref"] for r in outcome.refs})


def test_host_community_has_empty_origin_and_sgbv_keeps_services_sorted() -> None:
    event = assistance(
        kind="sgbv",
        partner_id="wcc_almaty",
        population_type="host_community",
        payload={
            "activity": "case_response",
            "incident_type": "rape",
            "services": ["psychosocial", "medical"],
        },
    )
    del event["origin"], event["beneficiary_refs"]
    outcome = process(
        encode(event), meta("partners.wcc_almaty.sgbv.v1"), partners(), now=NOW, ref_key=REF_KEY
    )

    assert outcome.fact is not None, outcome.reasons
    assert outcome.fact["origin"] == ""
    assert outcome.fact["indicator"] == "case_response.rape"
    assert outcome.fact["services"] == ["medical", "psychosocial"]
    assert outcome.refs == []


@pytest.mark.parametrize(
    ("raw", "topic", "code"),
    [
        (b"{not json", "partners.kzlegal.assistance.v1", "invalid_json"),
        (encode(assistance(name="Aisha")), "partners.kzlegal.assistance.v1", "unknown_field"),
        (
            encode(assistance(partner_id="redcres")),
            "partners.kzlegal.assistance.v1",
            "partner_mismatch",
        ),
        (encode(assistance()), "partners.kzlegal.durable_solutions.v1", "kind_mismatch"),
        (
            encode(assistance(occurred_on="2007-01-02", reported_at="2007-01-03T00:00:00Z")),
            "partners.kzlegal.assistance.v1",
            "future_date",
        ),
    ],
)
def test_rejected_message_becomes_a_deadletter_with_its_reason(
    raw: bytes, topic: str, code: str
) -> None:
    outcome = process(raw, meta(topic, offset=99), partners(), now=NOW, ref_key=REF_KEY)

    assert not outcome.accepted
    assert outcome.fact is None
    assert outcome.refs == []
    row = outcome.deadletter
    assert row is not None
    assert row["codes"] == [code]
    assert row["raw"] == raw  # the original bytes, untouched
    assert (row["topic"], row["partition"], row["offset"]) == (topic, 2, 99)
    assert row["partner_id"] == "kzlegal"
    assert [r["code"] for r in json.loads(row["reasons"])] == [code]


def test_a_message_from_an_unregistered_partner_topic_is_rejected() -> None:
    event = assistance(partner_id="ghost_ngo")
    outcome = process(
        encode(event),
        meta("partners.ghost_ngo.assistance.v1"),
        partners(),
        now=NOW,
        ref_key=REF_KEY,
    )

    assert outcome.deadletter is not None
    assert outcome.deadletter["codes"] == ["unknown_partner"]
