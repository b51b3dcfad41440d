"""Apache Kafka for the tests: one broker for the session, fresh ones where a test needs a clean
cluster, and the rule that in CI (``CI=true``) an Apache Kafka test may not skip.

The JVM takes seconds to start, so the SCRAM/ACL tests share one broker and keep apart by
unique topic and user names. The end-to-end tests use the worker's fixed group and the demo
registry's topics, so each gets a broker of its own, started from a copy of a storage folder
formatted once per session (one JVM start, not two).

Where Java 17+ or Maven is missing the tests skip with one line saying what to install; the
``pytest_runtest_makereport`` hook in ``tests/conftest.py`` turns that skip into a failure in CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.apache_kafka import ApacheKafka, KafkaNotInstalled, fetch_libs, java_binary
from broker.settings import KafkaSettings

#: Every skip for want of Apache Kafka starts with this; CI turns such skips into failures.
SKIP_PREFIX = "Apache Kafka unavailable: "
ADMIN_PASSWORD = "hub-admin-test-password"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _require_kafka() -> None:
    """Skip (one line: what to install) unless Java 17+ and the broker's jars are at hand."""
    try:
        java_binary()
        fetch_libs()
    except KafkaNotInstalled as error:
        pytest.skip(SKIP_PREFIX + str(error).splitlines()[0])


@pytest.fixture(scope="session")
def kafka_storage_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A storage folder formatted once, with the admin's SCRAM credential, never started."""
    _require_kafka()
    broker = ApacheKafka(tmp_path_factory.mktemp("kafka-template"), admin_password=ADMIN_PASSWORD)
    broker.format(fetch_libs(), broker.write_config())
    return broker.data


def start_from(template: Path, folder: Path) -> ApacheKafka:
    """A broker started on a copy of the formatted ``template`` folder."""
    shutil.copytree(template / "log", folder / "log")
    broker = ApacheKafka(folder, admin_password=ADMIN_PASSWORD, log_file=folder / "kafka.log")
    return broker.start()


@pytest.fixture(scope="session")
def apache_kafka_broker(
    kafka_storage_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApacheKafka]:
    """One Apache Kafka for the test session (SASL/SCRAM, ACLs, production settings)."""
    broker = start_from(kafka_storage_template, tmp_path_factory.mktemp("kafka-session"))
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def apache_kafka(apache_kafka_broker: ApacheKafka) -> KafkaSettings:
    """Admin settings for a SASL/SCRAM Apache Kafka with ACLs: the session's broker, or the
    one at ``KAFKA_SASL_BOOTSTRAP`` (admin ``KAFKA_ADMIN_USER``, ``KAFKA_ADMIN_PASSWORD``),
    such as the compose stack's EXTERNAL listener."""
    remote = os.environ.get("KAFKA_SASL_BOOTSTRAP")
    if remote:
        return apache_kafka_broker.settings().model_copy(
            update={
                "bootstrap": remote,
                "username": os.environ.get("KAFKA_ADMIN_USER", "hub-admin"),
                "password": os.environ["KAFKA_ADMIN_PASSWORD"],
            }
        )
    return apache_kafka_broker.settings()


@pytest.fixture
def fresh_apache_kafka(kafka_storage_template: Path, tmp_path: Path) -> Iterator[ApacheKafka]:
    """An Apache Kafka of this test's own (an empty cluster), stopped afterwards."""
    broker = start_from(kafka_storage_template, tmp_path / "kafka")
    try:
        yield broker
    finally:
        broker.stop()


def is_kafka_skip(report: pytest.TestReport) -> bool:
    """Whether ``report`` is a skip for want of Apache Kafka."""
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return False
    return SKIP_PREFIX in str(report.longrepr[2])
