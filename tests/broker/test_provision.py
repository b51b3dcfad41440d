"""The production onboarding plan: topics, SCRAM users and prefixed ACLs from the registry.

The plan is pure and tested here in full. Applying it needs Apache Kafka with SASL and ACLs
(Tansu accepts ACL calls but ignores them): the topic step runs against the local broker, the
whole plan against the session's Apache Kafka (``apache_kafka``, tests/brokers.py), or the
broker at ``KAFKA_SASL_BOOTSTRAP`` when one is given (for example the compose stack's EXTERNAL
listener, see docs/deploy.md). tests/broker/test_apache_kafka.py checks every refusal.
"""

from __future__ import annotations

import json
import os
import string
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # kafka-python 3.0 calls a deprecated importlib API when imported; until pyproject's
    # filterwarnings ignores DeprecationWarning from kafka.*, keep it from failing collection.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import (
        ACLFilter,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourceType,
        ScramMechanism,
        UserScramCredentialDeletion,
    )
    from kafka.errors import TopicAuthorizationFailedError

    from broker.provision import (
        DEFAULT_WORKER_USER,
        WORKER_GROUP,
        Grant,
        Plan,
        ProvisionError,
        TopicSpec,
        apply_plan,
        as_grant,
        build_plan,
        check_passwords,
        load_passwords,
        partner_grants,
        partner_prefix,
        unplanned_grants,
    )

from broker.settings import KafkaSettings
from broker.topics import ensure_topics, registry_topics
from schemas import refdata
from schemas.refdata import Partner
from schemas.topics import ALERTS_TOPIC, DEADLETTER_TOPIC
from schemas.vocabulary import Kind


def partner(code: str, *kinds: Kind) -> Partner:
    return Partner(
        code=code,
        name=f"Test partner {code}",
        type="ngo",
        kinds=kinds or (Kind.ASSISTANCE,),
        regions=("KZ-75",),
    )


#: Codes chosen so that naive prefixes would collide: "ab" is a prefix of "ab_c" and "abc".
TRICKY = {code: partner(code, *Kind) for code in ("ab", "ab_c", "abc", "a1", "ab_")}


def test_the_worker_group_is_the_faust_app_id() -> None:
    from streams.app import APP_ID

    assert WORKER_GROUP == APP_ID


def test_plan_has_every_registry_topic_and_the_worker_leader_topic() -> None:
    registry = refdata.partners()
    plan = build_plan(registry, partitions=4)
    names = [spec.name for spec in plan.topics]
    assert names == [*registry_topics(registry), f"{WORKER_GROUP}-__assignor-__leader"]
    assert {DEADLETTER_TOPIC, ALERTS_TOPIC} <= set(names)
    assert {spec.partitions for spec in plan.topics[:-1]} == {4}
    assert plan.topics[-1] == TopicSpec(f"{WORKER_GROUP}-__assignor-__leader", 1)
    assert plan.partner_users == tuple(registry)
    assert plan.worker_user == DEFAULT_WORKER_USER


def test_a_partner_may_write_and_describe_its_own_prefix_and_nothing_else() -> None:
    plan = build_plan(refdata.partners(), partitions=1)
    for code in plan.partner_users:
        assert sorted(plan.grants_of(code)) == sorted(
            Grant(code, "topic", "prefixed", f"partners.{code}.", op)
            for op in ("WRITE", "DESCRIBE")
        )


@pytest.mark.parametrize("registry", [refdata.partners(), TRICKY], ids=["demo", "tricky-codes"])
def test_no_partner_is_ever_granted_another_partners_topics(registry: dict[str, Partner]) -> None:
    plan = build_plan(registry, partitions=1)
    for code in registry:
        for other in registry.values():
            for kind in Kind:
                topic = other.topic(kind)
                allowed = plan.allows(code, "WRITE", "topic", topic)
                assert allowed == (other.code == code), (code, topic)
                assert not plan.allows(code, "READ", "topic", topic), (code, topic)
        for hub_topic in (DEADLETTER_TOPIC, ALERTS_TOPIC):
            assert not plan.allows(code, "WRITE", "topic", hub_topic)
        assert not plan.allows(code, "READ", "group", WORKER_GROUP)


def test_a_partner_prefix_ends_with_the_separator() -> None:
    assert partner_prefix("ab") == "partners.ab."
    assert not "partners.ab_c.assistance.v1".startswith(partner_prefix("ab"))


def test_the_worker_reads_partner_topics_and_writes_only_the_hubs() -> None:
    registry = refdata.partners()
    plan = build_plan(registry, partitions=1)
    user = plan.worker_user
    for p in registry.values():
        for topic in p.topics():
            assert plan.allows(user, "READ", "topic", topic)
            assert not plan.allows(user, "WRITE", "topic", topic)
    for topic in (DEADLETTER_TOPIC, ALERTS_TOPIC):
        assert plan.allows(user, "WRITE", "topic", topic)
    assert plan.allows(user, "READ", "group", WORKER_GROUP)
    leader = plan.topics[-1].name
    assert plan.allows(user, "READ", "topic", leader)
    assert not plan.allows(user, "READ", "group", "some-other-group")


@pytest.mark.parametrize("name", ["hubworker", "worker", "kzlegal", "", "hub_worker"])
def test_a_hub_user_that_could_be_a_partner_code_is_refused(name: str) -> None:
    with pytest.raises(ProvisionError, match="hub user name must contain '-'"):
        build_plan(refdata.partners(), partitions=1, worker_user=name)


def test_no_partner_code_can_hold_the_character_every_hub_user_has() -> None:
    allowed = {c for c in string.printable if refdata.PARTNER_CODE.fullmatch(f"a{c}")}
    assert allowed == set(string.ascii_lowercase + string.digits + "_")


def test_a_partner_named_like_a_hub_user_is_refused() -> None:
    registry = {"admin": partner("admin")}
    with pytest.raises(ProvisionError, match="'admin' is the name of a hub user"):
        build_plan(registry, partitions=1, reserved_users=["admin"])


def test_a_registry_keyed_by_the_wrong_code_is_refused() -> None:
    with pytest.raises(ProvisionError, match="registry key 'ab' names partner 'abc'"):
        build_plan({"ab": partner("abc")}, partitions=1)


def test_an_invalid_partner_code_gets_no_grants() -> None:
    with pytest.raises(ProvisionError, match="not a valid partner code"):
        partner_grants("Ab.c")


def test_grants_become_prefixed_allow_acls_for_any_host() -> None:
    acl = Grant("ab", "topic", "prefixed", "partners.ab.", "WRITE").to_acl()
    assert acl.principal == "User:ab"
    assert acl.host == "*"
    assert acl.operation == ACLOperation.WRITE
    assert acl.permission_type == ACLPermissionType.ALLOW
    assert acl.resource_pattern.resource_type == ResourceType.TOPIC
    assert acl.resource_pattern.pattern_type == ACLResourcePatternType.PREFIXED
    assert acl.resource_pattern.resource_name == "partners.ab."
    group = Grant("hub-worker", "group", "literal", WORKER_GROUP, "READ").to_acl()
    assert group.resource_pattern.pattern_type == ACLResourcePatternType.LITERAL
    assert as_grant(acl) == Grant("ab", "topic", "prefixed", "partners.ab.", "WRITE")


def test_acls_the_plan_lacks_are_reported() -> None:
    plan = build_plan({"ab": partner("ab")}, partitions=1)
    gone = Grant("old", "topic", "prefixed", "partners.old.", "WRITE")  # partner removed since
    widened = Grant("ab", "topic", "prefixed", "partners.", "WRITE")  # someone widened ab's
    unrelated = Grant("ops-monitor", "topic", "literal", "metrics", "READ")
    deny = Grant("ab", "topic", "prefixed", "partners.ab.", "WRITE").to_acl()
    deny.permission_type = ACLPermissionType.DENY
    found = unplanned_grants([*plan.grants, gone, widened, unrelated, as_grant(deny)], plan)
    assert found == sorted([gone.describe(), widened.describe(), str(as_grant(deny))])


# --- passwords -------------------------------------------------------------------------------


def test_passwords_from_the_environment_or_a_file(tmp_path: Path) -> None:
    secret = {"ab": "s3cret", "abc": "an0ther"}
    assert load_passwords({"PARTNERHUB_PARTNER_PASSWORDS": json.dumps(secret)}) == secret
    path = tmp_path / "passwords.json"
    path.write_text(json.dumps(secret), encoding="utf-8")
    assert load_passwords({"PARTNERHUB_PARTNER_PASSWORDS_FILE": str(path)}) == secret
    assert load_passwords({}) == {}
    assert load_passwords({"PARTNERHUB_PARTNER_PASSWORDS": "  "}) == {}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {
                "PARTNERHUB_PARTNER_PASSWORDS": '{"ab": "x"',
                "PARTNERHUB_PARTNER_PASSWORDS_FILE": "f",
            },
            "not both",
        ),
        ({"PARTNERHUB_PARTNER_PASSWORDS": '{"ab": "hunter2"'}, "not a JSON object"),
        ({"PARTNERHUB_PARTNER_PASSWORDS": '["hunter2"]'}, "expected a JSON object"),
        ({"PARTNERHUB_PARTNER_PASSWORDS": '{"ab": 12345678}'}, "password(s) of ab"),
        ({"PARTNERHUB_PARTNER_PASSWORDS": '{"ab": ""}'}, "password(s) of ab"),
        ({"PARTNERHUB_PARTNER_PASSWORDS_FILE": "/nonexistent/p.json"}, "cannot read"),
    ],
)
def test_bad_passwords_are_one_clear_error_that_never_shows_them(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ProvisionError) as caught:
        load_passwords(environ)
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_partners_without_a_password_are_listed_and_unknown_ones_refused() -> None:
    plan = build_plan(TRICKY, partitions=1)
    assert check_passwords(plan, {"ab": "x", "abc": "y"}) == ["ab_c", "a1", "ab_"]
    with pytest.raises(ProvisionError, match=r"not in the registry: \['abd'\]"):
        check_passwords(plan, {"abd": "typo"})


# --- the CLI ---------------------------------------------------------------------------------


def run_provision(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERHUB_")}
    environ.update(env, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "partnerhub", "provision", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_dry_run_prints_the_plan_without_a_broker() -> None:
    result = run_provision(
        "--dry-run",
        PARTNERHUB_KAFKA__BOOTSTRAP="127.0.0.1:1",  # nothing listens there
        PARTNERHUB_PARTNER_PASSWORDS='{"kzlegal": "pw"}',
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"{WORKER_GROUP}-__assignor-__leader" in out
    assert "partners.redcres." in out
    assert "kzlegal" in out
    assert "missing" in out


def test_an_unknown_partner_password_stops_provisioning_with_one_line() -> None:
    result = run_provision("--dry-run", PARTNERHUB_PARTNER_PASSWORDS='{"nosuch": "pw"}')
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: passwords given for partners not in the registry: ['nosuch']"
    ]


def test_provisioning_a_broker_without_sasl_is_refused() -> None:
    result = run_provision(
        PARTNERHUB_KAFKA__SECURITY_PROTOCOL="PLAINTEXT",
        PARTNERHUB_PROVISION_WORKER_PASSWORD="pw",
    )
    assert result.returncode == 1
    assert "needs a SASL listener" in result.stderr


# --- against brokers -------------------------------------------------------------------------


@pytest.mark.kafka
def test_missing_topics_are_created_with_their_partitions_once(kafka_bootstrap: str) -> None:
    specs = [TopicSpec("partners.ab.assistance.v1", 3), TopicSpec("grp-__assignor-__leader", 1)]
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        wanted = {s.name: s.partitions for s in specs}
        created, existing = ensure_topics(admin, wanted, 1, 30_000)
        assert (created, existing) == ([s.name for s in specs], [])
        assert ensure_topics(admin, wanted, 1, 30_000) == ([], [s.name for s in specs])
        described = admin.describe_topics([s.name for s in specs])
        counts = {t["name"]: len(t["partitions"]) for t in described}
        assert counts == {s.name: s.partitions for s in specs}
    finally:
        admin.close()


def sasl(bootstrap: str, user: str, password: str) -> KafkaSettings:
    return KafkaSettings.model_validate(
        {
            "bootstrap": bootstrap,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "username": user,
            "password": password,
        }
    )


@pytest.mark.kafka
def test_on_apache_kafka_a_partner_can_write_only_its_own_topics(
    apache_kafka: KafkaSettings,
) -> None:
    run = uuid.uuid4().hex[:8]
    a, b = f"t{run}a", f"t{run}b"
    worker, group = f"test-worker-{run}", f"test-group-{run}"
    registry = {a: partner(a), b: partner(b)}
    plan = build_plan(registry, partitions=1, worker_user=worker, group=group)
    passwords = {a: f"pw-{a}", b: f"pw-{b}"}
    try:
        result = apply_plan(apache_kafka, plan, passwords, f"pw-{worker}")
        assert set(result.users_set) == {a, b, worker}
        again = apply_plan(apache_kafka, plan, passwords, f"pw-{worker}")
        assert again.created_topics == ()
        # The broker is shared with other tests: only this plan's users' bindings matter here.
        ours = [line for line in again.unplanned if any(f"User:{u} " in line for u in plan.users)]
        assert ours == []

        own, other = registry[a].topic(Kind.ASSISTANCE), registry[b].topic(Kind.ASSISTANCE)
        as_a = sasl(apache_kafka.bootstrap, a, passwords[a]).client_kwargs()
        producer = KafkaProducer(**as_a, max_block_ms=30_000)
        try:
            producer.send(own, b"{}", key=a.encode()).get(timeout=30)
            with pytest.raises(TopicAuthorizationFailedError):
                producer.send(other, b"{}", key=a.encode()).get(timeout=30)
        finally:
            producer.close()

        as_worker = sasl(apache_kafka.bootstrap, worker, f"pw-{worker}").client_kwargs()
        consumer = KafkaConsumer(**as_worker, group_id=group, auto_offset_reset="earliest")
        try:
            consumer.assign([TopicPartition(own, 0)])
            consumer.seek_to_beginning()
            records = consumer.poll(timeout_ms=30_000, max_records=1)
            assert [r.value for batch in records.values() for r in batch] == [b"{}"]
        finally:
            consumer.close()
    finally:
        cleanup(apache_kafka, plan)


def cleanup(settings: KafkaSettings, plan: Plan) -> None:
    """Remove what the Apache Kafka test created: its topics, users and ACL bindings."""
    admin = KafkaAdminClient(**settings.client_kwargs())
    try:
        topics = [
            spec.name for spec in plan.topics if spec.name.startswith(("partners.t", "test-"))
        ]
        admin.delete_topics(topics, raise_errors=False)
        admin.delete_acls(
            [
                ACLFilter(
                    g.principal, "*", acl.operation, acl.permission_type, acl.resource_pattern
                )
                for g in plan.grants
                for acl in [g.to_acl()]
            ]
        )
        admin.alter_user_scram_credentials(
            [UserScramCredentialDeletion(u, ScramMechanism.SCRAM_SHA_512) for u in plan.users]
        )
    finally:
        admin.close()
