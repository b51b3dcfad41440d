"""Topic names and attribution: a message counts for the partner whose topic it arrived on."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from schemas import refdata
from schemas.contract import Event, parse_event
from schemas.reasons import CODES
from schemas.topics import (
    ALERTS_TOPIC,
    DEADLETTER_TOPIC,
    TopicRef,
    check_attribution,
    parse_topic,
    topic_for,
)
from schemas.vocabulary import Kind

VALID = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "valid"
REGISTRY = refdata.partners()


def example(name: str) -> Event:
    return parse_event((VALID / f"{name}.json").read_bytes(), today=date(2006, 12, 31))


def codes(event: Event, topic: str) -> list[tuple[str, str]]:
    return [(r.field, r.code) for r in check_attribution(event, topic, REGISTRY)]


# --- names -------------------------------------------------------------------------------------


def test_topic_for() -> None:
    assert topic_for("kzlegal", Kind.ASSISTANCE) == "partners.kzlegal.assistance.v1"
    assert topic_for("wcc_almaty", "sgbv") == "partners.wcc_almaty.sgbv.v1"
    with pytest.raises(ValueError, match="food_distribution"):
        topic_for("kzlegal", "food_distribution")


def test_every_registry_topic_parses_back() -> None:
    for partner in REGISTRY.values():
        for kind in Kind:
            topic = topic_for(partner.code, kind)
            assert topic == partner.topic(kind)
            assert parse_topic(topic) == TopicRef(partner.code, kind.value)


def test_parse_topic_keeps_an_unknown_kind_as_written() -> None:
    assert parse_topic("partners.kzlegal.food_distribution.v1") == TopicRef(
        "kzlegal", "food_distribution"
    )


@pytest.mark.parametrize(
    "topic",
    [
        DEADLETTER_TOPIC,
        ALERTS_TOPIC,
        "partners.kzlegal.assistance.v2",
        "partners.kzlegal.assistance",
        "partners.KZLEGAL.assistance.v1",
        "partners.k.assistance.v1",  # a partner code has at least two characters
        "partners.kz-legal.assistance.v1",
        "partners.kzlegal.assistance.v1.retry",
        "xpartners.kzlegal.assistance.v1",
        "partners..assistance.v1",
        "partners.kzlegal.assistance.v1\n",
        "",
    ],
)
def test_parse_topic_refuses_what_is_not_a_partner_topic(topic: str) -> None:
    assert parse_topic(topic) is None


# --- attribution -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["assistance_2", "sgbv_1", "hiv_training_3", "durable_solutions_2"]
)
def test_an_event_on_its_own_topic_is_attributed(name: str) -> None:
    event = example(name)
    assert check_attribution(event, topic_for(event.partner_id, event.kind), REGISTRY) == []


def test_spoofed_partner() -> None:
    """redcres writes an event claiming to be kzlegal's onto its own topic."""
    event = example("assistance_1")  # partner_id kzlegal
    assert codes(event, "partners.redcres.assistance.v1") == [("partner_id", "partner_mismatch")]


def test_spoofed_partner_on_an_unregistered_topic_is_a_mismatch_first() -> None:
    event = example("assistance_1")
    assert codes(event, "partners.ghost_ngo.assistance.v1") == [("partner_id", "partner_mismatch")]


def test_mismatched_kind() -> None:
    event = example("income_generation_3")  # redcres, income_generation
    assert codes(event, "partners.redcres.assistance.v1") == [("kind", "kind_mismatch")]
    assert codes(event, "partners.redcres.food_distribution.v1") == [("kind", "kind_mismatch")]


def test_mismatched_partner_and_kind() -> None:
    event = example("sgbv_2")  # wcc_south, sgbv
    assert codes(event, "partners.redcres.assistance.v1") == [
        ("partner_id", "partner_mismatch"),
        ("kind", "kind_mismatch"),
    ]


def test_unknown_partner() -> None:
    event = example("assistance_1").model_copy(update={"partner_id": "ghost_ngo"})
    assert "ghost_ngo" not in REGISTRY
    assert codes(event, "partners.ghost_ngo.assistance.v1") == [("partner_id", "unknown_partner")]


def test_kind_not_mandated() -> None:
    """A women's crisis centre is registered for SGBV only, not for material assistance."""
    event = example("assistance_1").model_copy(update={"partner_id": "wcc_almaty"})
    assert Kind.ASSISTANCE not in REGISTRY["wcc_almaty"].kinds
    assert codes(event, "partners.wcc_almaty.assistance.v1") == [("kind", "kind_not_mandated")]


@pytest.mark.parametrize("topic", [DEADLETTER_TOPIC, "partners.kzlegal.assistance.v2"])
def test_bad_topic(topic: str) -> None:
    (reason,) = check_attribution(example("assistance_1"), topic, REGISTRY)
    assert (reason.field, reason.code) == ("", "bad_topic")
    assert topic in reason.message


def test_attribution_uses_the_registry_it_is_given() -> None:
    event = example("assistance_1")  # kzlegal, mandated for assistance in the packaged registry
    topic = topic_for("kzlegal", Kind.ASSISTANCE)
    without = {code: p for code, p in REGISTRY.items() if code != "kzlegal"}
    assert codes(event, topic) == []
    assert [r.code for r in check_attribution(event, topic, without)] == ["unknown_partner"]


def test_attribution_codes_are_contract_codes() -> None:
    emitted = {
        reason.code
        for name, topic in [
            ("assistance_1", "partners.redcres.food_distribution.v1"),
            ("assistance_1", DEADLETTER_TOPIC),
            ("sgbv_1", "partners.wcc_almaty.assistance.v1"),
        ]
        for reason in check_attribution(example(name), topic, REGISTRY)
    }
    assert emitted
    assert emitted <= set(CODES)
