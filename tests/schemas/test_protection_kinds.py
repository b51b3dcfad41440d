"""Contract v1's protection_training and rsd_casework kinds: the rules the examples alone
do not pin (indicators, the curriculum and population rules, no refs, the 3-part grammar)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from schemas import refdata
from schemas.contract import ProtectionTrainingEvent, RsdCaseworkEvent, parse_event
from schemas.reasons import InvalidEvent
from schemas.vocabulary import CURRICULUM_AUDIENCES, Kind, ProtectionAudience

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT / "schemas" / "examples" / "valid"
TODAY = date(2006, 12, 31)


def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((VALID / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def reasons(body: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        parse_event(body, today=TODAY)
    except InvalidEvent as error:
        return [(r.field, r.code) for r in error.reasons]
    return []


@pytest.mark.parametrize(
    ("name", "indicator"),
    [
        ("protection_training_1", "border_guards.non_refoulement"),
        ("protection_training_2", "university_lecturers.refugee_law"),
        ("rsd_casework_1", "state.first_instance.submitted"),
        ("rsd_casework_3", "state.appeal.submitted"),
        ("rsd_casework_2", "unhcr_mandate.first_instance.recognized"),
    ],
)
def test_indicator_of_the_new_kinds(name: str, indicator: str) -> None:
    event = parse_event(example(name), today=TODAY)
    assert isinstance(event, ProtectionTrainingEvent | RsdCaseworkEvent)
    assert event.indicator == indicator


@pytest.mark.parametrize("audience", list(ProtectionAudience))
def test_curriculum_only_for_universities_and_schools(audience: ProtectionAudience) -> None:
    body = example("protection_training_2")
    body["payload"]["audience"] = audience.value
    expected = (
        []
        if audience in CURRICULUM_AUDIENCES
        else [("payload.curriculum", "curriculum_not_allowed")]
    )
    assert reasons(body) == expected
    body["payload"]["curriculum"] = False
    assert reasons(body) == []


def test_curriculum_defaults_to_false() -> None:
    event = parse_event(example("protection_training_1"), today=TODAY)
    assert isinstance(event, ProtectionTrainingEvent)
    assert event.payload.curriculum is False


@pytest.mark.parametrize(
    ("population_type", "expected"),
    [
        ("asylum_seeker", []),
        ("refugee", []),
        ("stateless", [("population_type", "population_not_allowed")]),
        ("returnee", [("population_type", "population_not_allowed")]),
        ("other_of_concern", [("population_type", "population_not_allowed")]),
        ("migrant", [("population_type", "invalid_value")]),
    ],
)
def test_rsd_casework_is_about_asylum_seekers_and_refugees(
    population_type: str, expected: list[tuple[str, str]]
) -> None:
    body = example("rsd_casework_1")
    body["population_type"] = population_type
    assert reasons(body) == expected


def test_rsd_casework_never_carries_refs_or_identifiers() -> None:
    body = example("rsd_casework_4")
    body["beneficiary_refs"] = ["ab" * 32]
    assert reasons(body) == [("beneficiary_refs", "refs_not_allowed")]
    body = example("rsd_casework_4")
    body["payload"]["applicant"] = "A. Khan"
    assert reasons(body) == [("payload.applicant", "unknown_field")]
    assert set(RsdCaseworkEvent.model_fields) >= {"payload"}
    assert "beneficiary_refs" not in RsdCaseworkEvent.model_fields
    assert "beneficiary_refs" not in ProtectionTrainingEvent.model_fields


@pytest.mark.parametrize(
    ("kind", "indicator"),
    [
        ("rsd_casework", "state.first_instance.recognized"),
        ("rsd_casework", "unhcr_mandate.*.recognized"),
        ("rsd_casework", "state.*.*"),
        ("protection_training", "border_guards.*"),
        ("protection_training", "*"),
    ],
)
def test_target_indicators_of_the_new_kinds(kind: str, indicator: str) -> None:
    refdata.check_indicator(kind, indicator)


@pytest.mark.parametrize(
    ("kind", "indicator"),
    [
        ("rsd_casework", "state.submitted"),
        ("rsd_casework", "state.first_instance.appealed"),
        ("rsd_casework", "joint.first_instance.submitted"),
        ("rsd_casework", "state.second_instance.submitted"),
        ("protection_training", "border_guards"),
        ("protection_training", "border_guards.hiv_awareness"),
    ],
)
def test_target_indicators_outside_the_vocabulary(kind: str, indicator: str) -> None:
    with pytest.raises(ValueError, match="indicator"):
        refdata.check_indicator(kind, indicator)


def test_both_kinds_have_two_mandated_partners_in_the_demo_registry() -> None:
    for kind in (Kind.PROTECTION_TRAINING, Kind.RSD_CASEWORK):
        assert len([p for p in refdata.partners().values() if kind in p.kinds]) >= 2
