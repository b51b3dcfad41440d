"""The HTTP gateway's Kafka user: it writes partner topics and dead letters, and nothing else."""

from __future__ import annotations

import pytest

from broker.provision import ProvisionError, apply_plan, build_plan
from broker.settings import KafkaSettings
from schemas import refdata
from schemas.topics import ALERTS_TOPIC, DEADLETTER_TOPIC, topic_for
from schemas.vocabulary import Kind


def test_the_gateway_user_may_write_every_partner_topic_and_dead_letters_only() -> None:
    plan = build_plan(refdata.partners(), partitions=1, gateway_user="hub-gateway")
    partner_topic = topic_for("kzlegal", Kind.ASSISTANCE)

    assert "hub-gateway" in plan.users
    assert plan.allows("hub-gateway", "WRITE", "topic", partner_topic)
    assert plan.allows("hub-gateway", "WRITE", "topic", DEADLETTER_TOPIC)
    assert not plan.allows("hub-gateway", "READ", "topic", partner_topic)
    assert not plan.allows("hub-gateway", "WRITE", "topic", ALERTS_TOPIC)
    assert not plan.allows("hub-gateway", "READ", "group", "partnerhub-worker")


def test_without_a_gateway_user_the_plan_is_as_before() -> None:
    with_gateway = build_plan(refdata.partners(), partitions=1, gateway_user="hub-gateway")
    without = build_plan(refdata.partners(), partitions=1)
    assert without.gateway_user is None
    assert set(without.grants) < set(with_gateway.grants)
    assert {g.user for g in set(with_gateway.grants) - set(without.grants)} == {"hub-gateway"}


def test_a_gateway_user_needs_a_hub_name_and_a_password() -> None:
    with pytest.raises(ProvisionError, match="gateway user 'gateway'"):
        build_plan(refdata.partners(), partitions=1, gateway_user="gateway")
    plan = build_plan(refdata.partners(), partitions=1, gateway_user="hub-gateway")
    with pytest.raises(ProvisionError, match="the gateway needs a password"):
        apply_plan(KafkaSettings(bootstrap="127.0.0.1:1"), plan, {}, "worker-password")
