"""``partnerhub partners``: the registry as a table, and topics made to match it, idempotently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from broker import clients
from broker.settings import KafkaSettings
from broker.topics import TopicSyncFailed, registry_topics, sync_topics
from partnerhub.cli import app
from schemas import refdata
from schemas.topics import ALERTS_TOPIC, DEADLETTER_TOPIC

REGISTRY = refdata.partners()


def invoke(*args: str, **env: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **env})


def partitions(bootstrap: str) -> dict[str, int]:
    """Every topic on the broker and its partition count."""
    admin = clients.admin(KafkaSettings(bootstrap=bootstrap))
    try:
        return {t["name"]: len(t["partitions"]) for t in admin.describe_topics()}
    finally:
        admin.close()


def test_registry_topics() -> None:
    topics = registry_topics(REGISTRY)
    assert topics[-2:] == [DEADLETTER_TOPIC, ALERTS_TOPIC]
    assert len(topics) == len(set(topics)) == sum(len(p.kinds) for p in REGISTRY.values()) + 2
    assert "partners.kzlegal.assistance.v1" in topics
    assert "partners.kzlegal.durable_solutions.v1" in topics
    assert "partners.kzlegal.sgbv.v1" not in topics  # not mandated


@pytest.mark.kafka
def test_sync_creates_what_is_missing_and_reports_what_exists(kafka_bootstrap: str) -> None:
    settings = KafkaSettings(bootstrap=kafka_bootstrap, partitions=2)
    small = {code: REGISTRY[code] for code in ("kzlegal", "wcc_almaty")}
    first = sync_topics(settings, small)
    assert first.created == tuple(registry_topics(small))
    assert first.existing == ()
    second = sync_topics(settings, REGISTRY, 5)
    assert set(second.existing) == set(first.created)
    assert set(second.created) == set(registry_topics(REGISTRY)) - set(first.created)
    assert second.mismatched(5) == {topic: 2 for topic in first.created}
    on_broker = partitions(kafka_bootstrap)
    assert {t: on_broker[t] for t in first.created} == {t: 2 for t in first.created}
    assert {t: on_broker[t] for t in second.created} == {t: 5 for t in second.created}


@pytest.mark.kafka
def test_partners_sync_twice(kafka_bootstrap: str) -> None:
    env = {"PARTNERHUB_KAFKA__BOOTSTRAP": kafka_bootstrap}
    wanted = registry_topics(REGISTRY)
    first = invoke("partners", "sync", "--partitions", "3", **env)
    assert first.exit_code == 0, first.output
    assert f"{len(wanted)} created, 0 already existed" in first.stdout
    second = invoke("partners", "sync", "--partitions", "3", **env)
    assert second.exit_code == 0, second.output
    assert f"0 created, {len(wanted)} already existed" in second.stdout
    assert "note" not in second.stdout
    assert partitions(kafka_bootstrap) == {topic: 3 for topic in wanted}


@pytest.mark.kafka
def test_partners_sync_follows_the_configured_registry(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    entry = REGISTRY["wcc_south"].model_dump(mode="json")
    path = tmp_path / "partners.json"
    path.write_text(json.dumps([entry]))
    env = {
        "PARTNERHUB_KAFKA__BOOTSTRAP": kafka_bootstrap,
        "PARTNERHUB_KAFKA__PARTITIONS": "2",
        "PARTNERHUB_REGISTRY_PATH": str(path),
    }
    result = invoke("partners", "sync", **env)
    assert result.exit_code == 0, result.output
    assert partitions(kafka_bootstrap) == {
        "partners.wcc_south.sgbv.v1": 2,
        DEADLETTER_TOPIC: 2,
        ALERTS_TOPIC: 2,
    }
    listed = invoke("partners", "list", **env)
    assert "wcc_south" in listed.stdout
    assert "kzlegal" not in listed.stdout


def test_partners_list_shows_the_registry() -> None:
    result = invoke("partners", "list")
    assert result.exit_code == 0, result.output
    for partner in REGISTRY.values():
        assert partner.code in result.stdout
        assert partner.name in result.stdout


@pytest.mark.kafka
def test_growing_topics_on_a_broker_that_cannot_is_one_clear_error(kafka_bootstrap: str) -> None:
    """Tansu has no CreatePartitions; Apache Kafka grows topics (tests/broker/)."""
    settings = KafkaSettings(bootstrap=kafka_bootstrap, partitions=2)
    small = {code: REGISTRY[code] for code in ("kzlegal",)}
    first = sync_topics(settings, small)
    assert sync_topics(settings, small, 4).grown == {}  # not asked: left as they are
    with pytest.raises(TopicSyncFailed, match="cannot add partitions"):
        sync_topics(settings, small, 4, grow=True)
    assert {t: partitions(kafka_bootstrap)[t] for t in first.created} == dict.fromkeys(
        first.created, 2
    )
