"""The ``rig`` fixture: a gateway in front of the test's own Tansu broker; and the schemathesis
tests' node ids made unique (see the hook)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateway.rig import Rig, rig_of


@pytest.fixture
def rig(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Rig]:
    yield from rig_of(kafka_bootstrap, tmp_path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put each schemathesis test's operation into its node id.

    pytest 9.2 builds a function's node id from ``originalname`` and its parametrize call, and
    schemathesis 4.32 passes the bare test name there: all six operations of
    ``test_openapi.py`` got one id, so pytest-xdist ran one of them and dropped five without a
    word. The item's ``name`` (``test_...[POST /v1/events]``) is right; the id follows it.
    """
    for item in items:
        label = getattr(item, "operation_label", None)
        if label is not None and item._id.params is None:
            item._id = item._id.with_params(label)
