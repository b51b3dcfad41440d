"""Fixtures that start the real local services the tests need (no mocks of Kafka or ClickHouse).

- ``kafka_bootstrap``: a fresh Tansu broker per test (it starts in milliseconds and keeps data
  in memory, so tests never see each other's messages), or the broker at ``KAFKA_BOOTSTRAP``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.tansu import LocalBroker


@pytest.fixture
def kafka_bootstrap(tmp_path: Path) -> Iterator[str]:
    """Bootstrap address of a real Kafka-protocol broker for one test."""
    remote = os.environ.get("KAFKA_BOOTSTRAP")
    if remote:
        yield remote
        return
    with LocalBroker(log_file=tmp_path / "tansu.log") as broker:
        yield broker.bootstrap
