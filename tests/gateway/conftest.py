"""The ``rig`` fixture: a gateway in front of the test's own Tansu broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateway.rig import Rig, rig_of


@pytest.fixture
def rig(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Rig]:
    yield from rig_of(kafka_bootstrap, tmp_path)
