"""The Faust app's options come from the Kafka and worker settings, and Faust takes them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import faust
import faust.web.drivers
from pydantic import SecretStr

import streams.web
from broker.settings import TIMINGS, KafkaSettings
from schemas.refdata import partners
from streams.app import APP_ID, faust_options, meta_of, partner_topics
from streams.settings import WorkerSettings


def test_local_options_name_the_brokers_timings_and_status_api(tmp_path: Path) -> None:
    kafka = KafkaSettings(bootstrap="one:9092,two:9093")
    worker = WorkerSettings(web_port=7070, web_host="0.0.0.0")

    options = faust_options(kafka, worker, tmp_path)

    assert options["broker"] == ["kafka://one:9092", "kafka://two:9093"]
    assert options["broker_session_timeout"] == TIMINGS["local"].session_timeout
    assert options["broker_commit_interval"] == TIMINGS["local"].commit_interval
    assert (options["web_enabled"], options["web_port"], options["web_bind"]) == (
        True,
        7070,
        "0.0.0.0",
    )
    assert options["datadir"] == str(tmp_path / "faust")
    assert options["topic_allow_declare"] is False  # topics come from `partners sync`
    assert options["producer_acks"] == -1  # dead letters and alerts: every replica
    assert "broker_credentials" not in options


def test_production_sasl_options_carry_credentials_and_production_timings(
    tmp_path: Path,
) -> None:
    kafka = KafkaSettings(
        bootstrap="kafka:9094",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        username="hub-worker",
        password=SecretStr("s3cret"),
        profile="production",
    )

    options = faust_options(kafka, WorkerSettings(web_port=0), tmp_path)

    credentials = options["broker_credentials"]
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password) == ("hub-worker", "s3cret")
    assert options["broker_rebalance_timeout"] == TIMINGS["production"].rebalance_timeout
    assert options["web_enabled"] is False  # port 0: no status API


def test_faust_accepts_the_options_as_its_own_settings(tmp_path: Path) -> None:
    kafka = KafkaSettings(bootstrap="one:9092", profile="production")
    options = faust_options(kafka, WorkerSettings(web_port=7071), tmp_path)

    conf = faust.App(APP_ID, **options).conf

    assert [str(url) for url in conf.broker] == ["kafka://one:9092"]
    assert conf.broker_session_timeout == TIMINGS["production"].session_timeout
    assert conf.broker_heartbeat_interval == TIMINGS["production"].heartbeat_interval
    assert conf.broker_commit_interval == TIMINGS["production"].commit_interval
    assert conf.consumer_auto_offset_reset == "earliest"
    assert conf.web_port == 7071
    assert str(conf.store) == "memory:"
    # The web driver is the hub's (a listen backlog for bursts), found through Faust's
    # entry point group as installed from pyproject.toml.
    assert faust.web.drivers.by_url(conf.web) is streams.web.Web
    assert streams.web.BACKLOG >= 200


def test_the_agent_reads_every_partner_topic_of_the_registry_once() -> None:
    topics = partner_topics(partners())

    assert topics == sorted(set(topics))
    assert "partners.kzlegal.assistance.v1" in topics
    assert len(topics) == sum(len(p.topics()) for p in partners().values())


def test_a_messages_broker_timestamp_becomes_its_published_at() -> None:
    message = SimpleNamespace(topic="t", partition=1, offset=9, timestamp=1136073600.5)

    meta = meta_of(message)

    assert (meta.topic, meta.partition, meta.offset) == ("t", 1, 9)
    assert meta.published_at == datetime(2006, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
