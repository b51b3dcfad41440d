"""The production security model on the production broker: Apache Kafka with SASL/SCRAM and ACLs.

``partnerhub provision`` (a subprocess, as the compose stack's ``kafka-init`` runs it) sets up a
throw-away registry of three partners with unique codes on the session's Apache Kafka; then each
partner's and the worker's credentials are tried on what they may and may not do. The refusals
are the broker's own (TopicAuthorizationFailed, a failed SCRAM login), not the hub's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import (
    KafkaTimeoutError,
    TopicAuthorizationFailedError,
)

from broker import clients
from broker.apache_kafka import (
    SERVER_PROPERTIES,
    ApacheKafka,
    derive_properties,
    java_major,
    runtime_overrides,
)
from broker.provision import revoke_partner, set_credentials
from broker.settings import KafkaSettings
from schemas.topics import ALERTS_TOPIC, DEADLETTER_TOPIC

pytestmark = pytest.mark.kafka


# --- the configuration, without a broker -------------------------------------------------------


def props(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith("#")}


def test_the_runner_changes_only_ports_paths_and_the_appended_secrets() -> None:
    production = props(SERVER_PROPERTIES.read_text(encoding="utf-8"))
    overrides = runtime_overrides(
        port=1111, controller_port=2222, data=Path("/d"), admin_user="hub-admin", admin_password="p"
    )
    derived = props(derive_properties(SERVER_PROPERTIES.read_text(encoding="utf-8"), overrides))
    changed = {k for k in production if derived[k] != production[k]}
    assert changed == {"listeners", "controller.quorum.voters", "log.dirs"}
    added = set(derived) - set(production)
    assert added == {
        "advertised.listeners",
        "super.users",
        "listener.name.internal.scram-sha-512.sasl.jaas.config",
        "listener.name.controller.plain.sasl.jaas.config",
    }
    assert derived["listeners"] == "INTERNAL://127.0.0.1:1111,CONTROLLER://127.0.0.1:2222"
    assert derived["super.users"] == "User:hub-admin"


def test_a_password_that_would_break_the_jaas_line_is_refused() -> None:
    with pytest.raises(ValueError, match="admin password may hold only"):
        runtime_overrides(
            port=1, controller_port=2, data=Path("/d"), admin_user="a-b", admin_password='x";'
        )


@pytest.mark.parametrize(
    ("output", "major"),
    [('openjdk version "17.0.15" 2025-04-15', 17), ('java version "1.8.0_412"', 8), ("", None)],
)
def test_the_java_version_is_read_from_its_banner(output: str, major: int | None) -> None:
    assert java_major(output) == major


# --- the running broker ------------------------------------------------------------------------


def test_the_running_broker_has_the_production_security_settings(
    apache_kafka_broker: ApacheKafka,
) -> None:
    admin = clients.admin(apache_kafka_broker.settings(), timeout=30)
    try:
        described = admin.describe_configs(
            [ConfigResource(ConfigResourceType.BROKER, "1")], config_filter="all"
        )
    finally:
        admin.close()
    configs = described["broker"]["1"]
    assert configs["auto.create.topics.enable"]["value"] == "false"
    assert configs["authorizer.class.name"]["value"].endswith("StandardAuthorizer")
    assert configs["sasl.enabled.mechanisms"]["value"] == "SCRAM-SHA-512"
    # Sensitive settings are not shown, only that server.properties set them.
    for key in ("allow.everyone.if.no.acl.found", "super.users"):
        assert configs[key]["config_source"] == "STATIC_BROKER_CONFIG"


@dataclass(frozen=True)
class Provisioned:
    broker: ApacheKafka
    a: str
    b: str
    c: str
    worker: str

    def as_user(self, user: str) -> KafkaSettings:
        return self.broker.settings(user, f"pw-{user}")

    def topic(self, code: str) -> str:
        return f"partners.{code}.assistance.v1"


@pytest.fixture(scope="module")
def provisioned(apache_kafka_broker: ApacheKafka, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Three fresh partners and a worker user, provisioned by ``partnerhub provision``."""
    run = uuid.uuid4().hex[:8]
    codes = [f"t{run}{x}" for x in "abc"]
    worker = f"test-worker-{run}"
    registry = tmp_path_factory.mktemp("registry") / "partners.json"
    registry.write_text(
        json.dumps(
            [
                {"code": c, "name": c, "type": "ngo", "kinds": ["assistance"], "regions": ["KZ-75"]}
                for c in codes
            ]
        )
    )
    admin = apache_kafka_broker.settings()
    assert admin.password is not None
    env = {
        "PATH": "/usr/bin:/bin",
        "PARTNERHUB_REGISTRY_PATH": str(registry),
        "PARTNERHUB_KAFKA__BOOTSTRAP": admin.bootstrap,
        "PARTNERHUB_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "PARTNERHUB_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
        "PARTNERHUB_KAFKA__USERNAME": admin.username or "",
        "PARTNERHUB_KAFKA__PASSWORD": admin.password.get_secret_value(),
        "PARTNERHUB_KAFKA__PARTITIONS": "1",
        "PARTNERHUB_PROVISION_WORKER_USER": worker,
        "PARTNERHUB_PROVISION_WORKER_PASSWORD": f"pw-{worker}",
        "PARTNERHUB_PARTNER_PASSWORDS": json.dumps({c: f"pw-{c}" for c in codes}),
        "COLUMNS": "200",
    }
    result = subprocess.run(
        [sys.executable, "-m", "partnerhub", "provision"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return Provisioned(apache_kafka_broker, *codes, worker=worker)


def produce(settings: KafkaSettings, topic: str, **options: Any) -> None:
    """Publish one record to ``topic`` and wait for the broker's acknowledgement."""
    producer = clients.producer(settings, **options)
    try:
        producer.send(topic, b"{}", key=b"k").get(timeout=30)
    finally:
        producer.close()


def read_one(settings: KafkaSettings, topic: str, timeout: float = 30) -> list[bytes]:
    """Values of the first records of partition 0 of ``topic``, read without a group; raises
    the broker's refusal (TopicAuthorizationFailedError) when there is one."""
    consumer = clients.consumer(settings)
    try:
        consumer.beginning_offsets([TopicPartition(topic, 0)])  # needs DESCRIBE on the topic
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek_to_beginning()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batches = consumer.poll(timeout_ms=500, max_records=1)
            values = [r.value for batch in batches.values() for r in batch]
            if values:
                return values
        return []
    finally:
        consumer.close()


def refused(action: Callable[[], object]) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        action()


def test_provision_made_the_topics_users_and_prefixed_acls(provisioned: Provisioned) -> None:
    admin = clients.admin(provisioned.broker.settings(), timeout=30)
    try:
        topics = set(admin.list_topics())
        users = {
            user
            for user, info in admin.describe_user_scram_credentials().items()
            if not info["error"] and info["credential_infos"]
        }
    finally:
        admin.close()
    for code in (provisioned.a, provisioned.b, provisioned.c):
        assert provisioned.topic(code) in topics
        assert code in users
    assert {DEADLETTER_TOPIC, ALERTS_TOPIC} <= topics
    assert provisioned.worker in users


def test_a_partner_writes_its_own_topics_and_nothing_else(provisioned: Provisioned) -> None:
    a = provisioned.as_user(provisioned.a)
    produce(a, provisioned.topic(provisioned.a))
    refused(lambda: produce(a, provisioned.topic(provisioned.b)))
    refused(lambda: produce(a, ALERTS_TOPIC))  # outside its mandate: the hub's own topics
    refused(lambda: produce(a, DEADLETTER_TOPIC))


def test_a_partner_reads_no_partner_topic_and_no_dead_letter(provisioned: Provisioned) -> None:
    a = provisioned.as_user(provisioned.a)
    produce(provisioned.as_user(provisioned.b), provisioned.topic(provisioned.b))
    for topic in (provisioned.topic(provisioned.a), provisioned.topic(provisioned.b)):
        refused(lambda topic=topic: read_one(a, topic))  # type: ignore[misc]
    refused(lambda: read_one(a, DEADLETTER_TOPIC))


def test_a_topic_that_does_not_exist_is_not_created_by_a_write(provisioned: Provisioned) -> None:
    a = provisioned.as_user(provisioned.a)
    missing = f"partners.{provisioned.a}.nosuch.v1"  # inside its prefix, never provisioned
    with pytest.raises(KafkaTimeoutError):  # the broker never hands out its metadata
        produce(a, missing, allow_auto_create_topics=True, max_block_ms=3000)
    admin = clients.admin(provisioned.broker.settings(), timeout=30)
    try:
        assert missing not in admin.list_topics()
    finally:
        admin.close()


def test_the_worker_reads_partner_topics_and_writes_only_hub_topics(
    provisioned: Provisioned,
) -> None:
    worker = provisioned.as_user(provisioned.worker)
    produce(provisioned.as_user(provisioned.c), provisioned.topic(provisioned.c))
    assert read_one(worker, provisioned.topic(provisioned.c)) == [b"{}"]
    produce(worker, DEADLETTER_TOPIC)
    produce(worker, ALERTS_TOPIC)
    refused(lambda: produce(worker, provisioned.topic(provisioned.a)))


def logs_in(settings: KafkaSettings, timeout: float = 5) -> bool:
    """Whether an admin client with ``settings`` bootstraps (its SCRAM login succeeds).

    kafka-python retries a refused login until its bootstrap times out; the broker's refusal
    itself is only logged (and not always seen: the broker may just close the connection)."""
    try:
        clients.admin(settings, timeout=timeout).close()
    except KafkaTimeoutError as error:
        return "Unable to bootstrap" not in str(error)  # any other time-out: not a refusal
    return True


def test_a_wrong_password_is_refused(provisioned: Provisioned) -> None:
    assert not logs_in(provisioned.broker.settings(provisioned.a, "not-the-password"))
    assert logs_in(provisioned.as_user(provisioned.a))  # the same user, the right password


def test_revoking_a_partner_removes_its_access(provisioned: Provisioned) -> None:
    c = provisioned.as_user(provisioned.c)
    produce(c, provisioned.topic(provisioned.c))  # allowed until now
    assert revoke_partner(provisioned.broker.settings(), provisioned.c) == 2  # WRITE, DESCRIBE
    assert not logs_in(c)  # its login is gone
    # Its rights are gone too: with a login given back (say, by mistake), it is still refused.
    admin = clients.admin(provisioned.broker.settings(), timeout=30)
    try:
        set_credentials(admin, {provisioned.c: f"pw-{provisioned.c}"})
    finally:
        admin.close()
    refused(lambda: produce(c, provisioned.topic(provisioned.c)))
