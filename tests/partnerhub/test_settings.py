"""HubSettings: keyword arguments, then PARTNERHUB_* environment variables, then a .env file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from broker.settings import TIMINGS, KafkaSettings
from partnerhub.settings import HubSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PARTNERHUB_* variable and no .env of the developer's leaks into a test."""
    for name in list(os.environ):
        if name.upper().startswith("PARTNERHUB_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = HubSettings()
    assert settings.sgbv_threshold == 5
    assert settings.data_dir == Path(".partnerhub")
    assert settings.registry_path is None
    assert settings.kafka.bootstrap == "localhost:9092"
    assert settings.kafka.profile == "local"
    assert settings.kafka.password is None
    assert settings.clickhouse.url is None  # the embedded engine
    assert settings.grafana.url is None


def test_keyword_arguments() -> None:
    settings = HubSettings(
        sgbv_threshold=10,
        data_dir=Path("/srv/hub"),
        kafka=KafkaSettings(bootstrap="kafka-1:9092,kafka-2:9092", profile="production"),
        worker={"batch_size": 100, "silent_days": 7},
    )
    assert settings.sgbv_threshold == 10
    assert settings.data_dir == Path("/srv/hub")
    assert settings.kafka.bootstrap == "kafka-1:9092,kafka-2:9092"
    assert settings.worker.batch_size == 100
    assert settings.worker.silent_days == 7
    assert settings.worker.batch_seconds == 0.5  # untouched parts keep their defaults


def test_environment_with_prefix_and_nested_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERHUB_SGBV_THRESHOLD", "8")
    monkeypatch.setenv("PARTNERHUB_DATA_DIR", "/var/lib/partnerhub")
    monkeypatch.setenv("PARTNERHUB_KAFKA__BOOTSTRAP", "broker:9092")
    monkeypatch.setenv("PARTNERHUB_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("PARTNERHUB_KAFKA__PROFILE", "production")
    monkeypatch.setenv("PARTNERHUB_CLICKHOUSE__URL", "http://clickhouse:8123/partnerhub")
    monkeypatch.setenv("PARTNERHUB_WORKER__BATCH_SIZE", "250")
    settings = HubSettings()
    assert settings.sgbv_threshold == 8
    assert settings.data_dir == Path("/var/lib/partnerhub")
    assert settings.kafka.bootstrap == "broker:9092"
    assert settings.kafka.security_protocol == "SASL_SSL"
    assert settings.kafka.profile == "production"
    assert settings.kafka.partitions == 6  # a nested part set partly keeps its other defaults
    assert settings.clickhouse.url == "http://clickhouse:8123/partnerhub"
    assert settings.worker.batch_size == 250


def test_unprefixed_and_unknown_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SGBV_THRESHOLD", "9")
    monkeypatch.setenv("PARTNERHUB_NO_SUCH_SETTING", "1")
    assert HubSettings().sgbv_threshold == 5


def test_keyword_beats_environment_beats_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text(
        "PARTNERHUB_SGBV_THRESHOLD=6\nPARTNERHUB_KAFKA__BOOTSTRAP=from-dotenv:9092\n",
        encoding="utf-8",
    )
    from_file = HubSettings()
    assert (from_file.sgbv_threshold, from_file.kafka.bootstrap) == (6, "from-dotenv:9092")
    monkeypatch.setenv("PARTNERHUB_SGBV_THRESHOLD", "7")
    assert HubSettings().sgbv_threshold == 7
    assert HubSettings(sgbv_threshold=11).sgbv_threshold == 11


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="sgbv_threshold"):
        HubSettings(sgbv_threshold=0)
    monkeypatch.setenv("PARTNERHUB_KAFKA__PROFILE", "staging")
    with pytest.raises(ValidationError, match="profile"):
        HubSettings()


def test_secrets_are_secret_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERHUB_KAFKA__PASSWORD", "kafka-pa55")
    monkeypatch.setenv("PARTNERHUB_CLICKHOUSE__PASSWORD", "clickhouse-pa55")
    settings = HubSettings(grafana={"token": "glsa_grafana_token"})
    secrets = [
        (settings.kafka.password, "kafka-pa55"),
        (settings.clickhouse.password, "clickhouse-pa55"),
        (settings.grafana.token, "glsa_grafana_token"),
    ]
    for secret, value in secrets:
        assert isinstance(secret, SecretStr)
        assert secret.get_secret_value() == value
    shown = [repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())]
    for text in shown:
        for _, value in secrets:
            assert value not in text


@pytest.mark.parametrize("profile", ["local", "production", "test"])
def test_timing_profiles_are_consistent(profile: str) -> None:
    timings = KafkaSettings(profile=profile).timings
    assert timings is TIMINGS[profile]
    # Kafka's rule: heartbeats at most a third of the session timeout.
    assert timings.heartbeat_interval <= timings.session_timeout / 3
    assert timings.commit_interval < timings.session_timeout


def test_local_profile_is_fast_and_production_is_kafka_sane() -> None:
    local, production = TIMINGS["local"], TIMINGS["production"]
    # Tansu lets a group join after about half the session timeout (DESIGN.md): keep it short.
    assert local.session_timeout <= 2.0
    assert local.heartbeat_interval <= 0.5
    assert local.rebalance_timeout <= 2.0
    # Apache Kafka's broker refuses sessions under group.min.session.timeout.ms (6 s default).
    assert production.session_timeout >= 6.0
    assert TIMINGS["test"].session_timeout >= 6.0  # the same broker runs the tests' profile
    assert production.session_timeout > local.session_timeout
    assert production.rebalance_timeout > local.rebalance_timeout
    assert KafkaSettings().timings == local
