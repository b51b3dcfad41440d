"""Contract v1: every example through the hub's models and through the exported JSON Schema.

Two independent validators must agree on every example in ``schemas/examples/``: pydantic
(``parse_event``) and the ``jsonschema`` package on ``schemas/json/``. Where JSON Schema cannot
say a rule, the example is tagged ``{"accept": why}`` and the test pins the gap instead.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from schemas import refdata
from schemas.contract import AssistanceEvent, Beneficiaries, Event, parse_event
from schemas.reasons import BULK_CODES, CODES, InvalidEvent, Reason
from schemas.topics import check_attribution, topic_for
from schemas.vocabulary import CELLS, Kind

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "schemas" / "examples"
JSON_DIR = ROOT / "schemas" / "json"
#: The clock every example is judged on.
TODAY = date(2006, 12, 31)
#: Codes that come from the topic a message arrived on, not from the message (test_topics.py),
#: and from the mandate the HTTP gateway checks (tests/gateway/test_auth.py).
TOPIC_CODES = {
    "bad_topic",
    "unknown_partner",
    "partner_mismatch",
    "kind_mismatch",
    "kind_not_mandated",
    "region_not_mandated",
}
#: Codes no decoded example can carry: a repeated key is gone once a file is decoded, and the
#: warehouse's refusal is the sink's (tests/schemas/test_bounds.py, tests/streams/test_isolate.py).
NOT_IN_A_DECODED_EXAMPLE = {"duplicate_key", "unstorable"}
#: Codes of a bulk message's frame, not of an event (tests/schemas/test_bulk.py).
NOT_IN_A_DECODED_EXAMPLE |= BULK_CODES

VALID = sorted((EXAMPLES / "valid").glob("*.json"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.json"))
RAW = sorted((EXAMPLES / "invalid").glob("*.txt"))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(data: bytes) -> Any:
    """Decode a message as a strict parser would: UTF-8 without BOM, no NaN or Infinity."""
    return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)


@functools.cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((JSON_DIR / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_files(message: Any) -> list[str]:
    """The schema files a message is checked against: the envelope, and its kind's if known."""
    names = ["envelope.schema.json"]
    if isinstance(message, Mapping) and message.get("kind") in set(Kind):
        names.append(f"{message['kind']}.schema.json")
    return names


def schema_errors(message: Any) -> dict[str, list[str]]:
    """JSON Schema's complaints about ``message``, by schema file (empty lists: accepted)."""
    return {
        name: [error.message for error in validator(name).iter_errors(message)]
        for name in schema_files(message)
    }


def hub_reasons(
    raw: bytes | str | Mapping[str, Any], today: date | None = TODAY
) -> list[tuple[str, str]]:
    """``(field, code)`` of each reason the hub gives; empty when it accepts the message."""
    try:
        parse_event(raw, today=today)
    except InvalidEvent as error:
        return [(reason.field, reason.code) for reason in error.reasons]
    return []


def load_valid(name: str) -> Event:
    return parse_event((EXAMPLES / "valid" / f"{name}.json").read_bytes(), today=TODAY)


def value_at(message: Any, field: str) -> Any:
    """The value at a dotted reason path (list items by index)."""
    for part in field.split("."):
        message = message[int(part)] if isinstance(message, list) else message[part]
    return message


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    return []


# --- the example set ---------------------------------------------------------------------------


def test_example_set_is_complete() -> None:
    per_kind = {kind: [p for p in VALID if p.stem.rsplit("_", 1)[0] == kind.value] for kind in Kind}
    assert {kind: len(paths) for kind, paths in per_kind.items() if len(paths) < 3} == {}
    assert sum(len(paths) for paths in per_kind.values()) == len(VALID), "misnamed valid example"
    assert len(INVALID) + len(RAW) >= 30
    stray = [
        p.name
        for p in (EXAMPLES / "invalid").iterdir()
        if p.suffix not in {".json", ".txt"} and p.name != ".gitkeep"
    ]
    assert stray == []


def test_examples_cover_every_code_the_models_emit() -> None:
    tagged = {json.loads(p.read_text(encoding="utf-8"))["expect"]["code"] for p in INVALID}
    if RAW:
        tagged.add("invalid_json")
    assert tagged == set(CODES) - TOPIC_CODES - NOT_IN_A_DECODED_EXAMPLE


def test_partner_docs_list_every_reason_code() -> None:
    docs = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    listed = {line.split("`")[1] for line in docs.splitlines() if line.startswith("| `")}
    assert set(CODES) <= listed


# --- valid examples ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example_passes_both_validators(path: Path) -> None:
    raw = path.read_bytes()
    event = parse_event(raw, today=TODAY)
    assert path.stem.rsplit("_", 1)[0] == event.kind.value, "file name must start with the kind"
    assert schema_errors(strict_json(raw)) == {
        "envelope.schema.json": [],
        f"{event.kind.value}.schema.json": [],
    }


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example_comes_from_a_mandated_partner(path: Path) -> None:
    event = parse_event(path.read_bytes(), today=TODAY)
    topic = topic_for(event.partner_id, event.kind)
    assert check_attribution(event, topic, refdata.partners()) == []


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example_survives_a_round_trip(path: Path) -> None:
    """What the hub would re-emit (defaults filled in) is itself a valid message."""
    event = parse_event(path.read_bytes(), today=TODAY)
    dumped = event.model_dump(mode="json", by_alias=True)
    assert parse_event(json.dumps(dumped), today=TODAY) == event
    assert schema_errors(dumped) == {name: [] for name in schema_files(dumped)}


def test_a_kind_schema_rejects_other_kinds() -> None:
    event = strict_json((EXAMPLES / "valid" / "assistance_1.json").read_bytes())
    for kind in Kind:
        expected = kind is Kind.ASSISTANCE
        assert validator(f"{kind.value}.schema.json").is_valid(event) is expected, kind


def test_host_community_may_send_origin_null() -> None:
    event = strict_json((EXAMPLES / "valid" / "sgbv_4.json").read_bytes())
    event["origin"] = None
    assert hub_reasons(event) == []
    assert schema_errors(event) == {name: [] for name in schema_files(event)}


# --- invalid examples --------------------------------------------------------------------------


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_example_gets_its_reason(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert set(doc) == {"expect", "jsonschema", "event"}
    expected = (doc["expect"]["field"], doc["expect"]["code"])
    assert expected[1] in CODES
    message = doc["event"]
    assert hub_reasons(json.dumps(message).encode()) == [expected]
    if isinstance(message, Mapping):  # the decoded-object path of parse_event agrees
        assert hub_reasons(message) == [expected]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_example_json_schema_verdict(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    errors = schema_errors(doc["event"])
    if doc["jsonschema"] == "reject":
        assert [name for name, found in errors.items() if not found] == []
    else:
        why = doc["jsonschema"]["accept"]
        assert why.strip(), "an accept tag must say why JSON Schema cannot express the rule"
        rule = doc["expect"]["code"]
        assert errors == {name: [] for name in errors}, (
            f"JSON Schema now rejects {path.name}: drop its accept tag ({rule}: {why})"
        )
        assert hub_reasons(json.dumps(doc["event"])) != [], f"the hub must enforce {rule}"


@pytest.mark.parametrize("path", RAW, ids=lambda p: p.name)
def test_raw_example_is_not_json(path: Path) -> None:
    raw = path.read_bytes()
    with pytest.raises(ValueError, match=r".") as refused:
        strict_json(raw)
    assert refused.type in {json.JSONDecodeError, UnicodeDecodeError}
    assert hub_reasons(raw) == [("", "invalid_json")]


@pytest.mark.parametrize(
    "path", [p for p in INVALID if p.stem.startswith("pii_")], ids=lambda p: p.stem
)
def test_reasons_do_not_echo_personal_data(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    smuggled = strings_in(value_at(doc["event"], doc["expect"]["field"]))
    assert smuggled
    with pytest.raises(InvalidEvent) as rejected:
        parse_event(doc["event"], today=TODAY)
    text = " ".join(f"{r.field} {r.message}" for r in rejected.value.reasons)
    assert [value for value in smuggled if value in text] == []


def test_the_future_is_a_matter_of_the_clock() -> None:
    doc = json.loads((EXAMPLES / "invalid" / "date_in_future.json").read_text(encoding="utf-8"))
    assert hub_reasons(doc["event"], today=TODAY) == [("occurred_on", "future_date")]
    assert hub_reasons(doc["event"], today=date(2007, 1, 15)) == []
    assert hub_reasons(doc["event"], today=date(2007, 1, 14)) == [("occurred_on", "future_date")]


def test_default_clock_is_today() -> None:
    """Without ``today`` the rule uses the real date: 2006 is long past, 2999 is not."""
    event = strict_json((EXAMPLES / "valid" / "hiv_training_2.json").read_bytes())
    assert hub_reasons(json.dumps(event).encode(), today=None) == []
    event["occurred_on"], event["reported_at"] = "2999-01-01", "2999-01-01T00:00:00Z"
    assert hub_reasons(event, today=None) == [("occurred_on", "future_date")]


def test_input_forms_agree() -> None:
    raw = (EXAMPLES / "valid" / "sgbv_1.json").read_bytes()
    as_bytes = parse_event(raw, today=TODAY)
    assert parse_event(raw.decode("utf-8"), today=TODAY) == as_bytes
    assert parse_event(json.loads(raw), today=TODAY) == as_bytes


# --- the parts ---------------------------------------------------------------------------------


def test_beneficiary_cells_and_total() -> None:
    ben = Beneficiaries.model_validate({"female": {"0-4": 1, "60+": 2}, "male": {"18-59": 4}})
    cells = ben.cells()
    assert tuple(cells) == CELLS
    assert cells == dict.fromkeys(CELLS, 0) | {
        "female_0_4": 1,
        "female_60_plus": 2,
        "male_18_59": 4,
    }
    assert ben.total == 7 == sum(cells.values())


def test_beneficiary_cells_of_a_full_example() -> None:
    event = load_valid("assistance_3")
    cells = event.beneficiaries.cells()
    assert cells["female_5_11"] == 14
    assert cells["male_60_plus"] == 4
    assert event.beneficiaries.total == 111


def test_empty_beneficiaries_are_refused_by_the_model() -> None:
    with pytest.raises(ValidationError) as refused:
        Beneficiaries()
    assert [e["type"] for e in refused.value.errors()] == ["empty_beneficiaries"]


@pytest.mark.parametrize(
    ("name", "indicator"),
    [
        ("assistance_1", "legal_aid"),
        ("assistance_3", "winterization"),
        ("income_generation_1", "vocational_training.enrolled"),
        ("income_generation_2", "micro_grant.granted"),
        ("sgbv_1", "case_response.physical_assault"),
        ("sgbv_2", "prevention_session"),
        ("sgbv_3", "referral"),
        ("hiv_training_1", "youth.prevention"),
        ("hiv_training_2", "health_workers.testing_referral"),
        ("durable_solutions_1", "resettlement.departed"),
        ("durable_solutions_2", "naturalization.completed"),
    ],
)
def test_indicator_per_kind(name: str, indicator: str) -> None:
    assert load_valid(name).indicator == indicator


def test_event_id_is_kept_as_written_and_keyed_in_lower_case() -> None:
    event = load_valid("assistance_4")
    assert event.event_id == "D81F3C2A-6E4B-4A7C-B95D-02E1F8A3C7B6"
    assert event.key == "d81f3c2a-6e4b-4a7c-b95d-02e1f8a3c7b6"
    message = strict_json((EXAMPLES / "valid" / "assistance_4.json").read_bytes())
    for spelling in (event.key, "d81f3c2a-6E4B-4a7c-B95D-02e1f8a3c7b6"):
        again = parse_event({**message, "event_id": spelling}, today=TODAY)
        assert again.key == event.key
        assert again.event_id == spelling


def test_defaults_of_the_envelope() -> None:
    event = load_valid("assistance_1")
    assert isinstance(event, AssistanceEvent)
    assert (event.revision, event.status.value, event.beneficiary_refs) == (1, "active", ())
    assert load_valid("sgbv_4").origin is None


def _many_faults() -> dict[str, Any]:
    event: dict[str, Any] = strict_json((EXAMPLES / "valid" / "sgbv_1.json").read_bytes())
    event["region"] = "KZ-99"
    event["name"] = "someone"
    event["revision"] = 0
    event["beneficiaries"] = {"female": {"18-59": -1, "18-60": 2}}
    event["payload"] = {"activity": "case_response", "services": ["legal", "legal"]}
    event["beneficiary_refs"] = ["KZ-2006-0042"]
    return event


def test_reasons_are_sorted_distinct_and_stable() -> None:
    event = _many_faults()
    first = hub_reasons(event)
    assert first == sorted(first)
    assert len(set(first)) == len(first)
    assert {code for _, code in first} <= set(CODES)
    assert first == [
        ("beneficiaries.female.18-59", "out_of_range"),
        ("beneficiaries.female.18-60", "unknown_field"),
        ("beneficiary_refs", "refs_not_allowed"),
        ("name", "unknown_field"),
        ("payload.incident_type", "incident_type_required"),
        ("payload.services", "duplicate_value"),
        ("region", "unknown_region"),
        ("revision", "out_of_range"),
    ]
    reordered = dict(reversed(list(event.items())))
    assert hub_reasons(reordered) == first
    assert hub_reasons(json.dumps(event).encode()) == first


def test_invalid_event_message_and_reasons() -> None:
    reasons = [
        Reason(field="", code="invalid_json", message="Invalid JSON"),
        Reason(field="payload.cases", code="out_of_range", message="too small"),
    ]
    error = InvalidEvent(reasons)
    assert isinstance(error, ValueError)
    assert error.reasons == tuple(reasons)
    assert str(error) == "<message>: invalid_json; payload.cases: out_of_range"


def test_invalid_event_from_parse_event() -> None:
    with pytest.raises(InvalidEvent) as refused:
        parse_event(b'{"event_id": ', today=TODAY)
    assert str(refused.value) == "<message>: invalid_json"
    (reason,) = refused.value.reasons
    assert reason.message  # for people; the code is for machines


def test_reason_is_frozen() -> None:
    reason = Reason(field="region", code="unknown_region", message="x")
    with pytest.raises(ValidationError):
        reason.code = "other"  # type: ignore[misc]
