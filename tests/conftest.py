"""Fixtures that start the real local services the tests need (no mocks of Kafka or ClickHouse),
and the rule that a test says which services it uses.

- ``kafka_bootstrap``: a fresh Tansu broker per test (it starts in milliseconds and keeps data
  in memory, so tests never see each other's messages), or the broker at ``KAFKA_BOOTSTRAP``.
- ``apache_kafka_broker`` / ``apache_kafka`` (one Apache Kafka for the session) and
  ``fresh_apache_kafka`` (one per test): the production broker, from tests/brokers.py; in CI
  (``CI=true``) a test that skips for want of Java or Maven fails (the hook at the end).
- ``any_warehouse``: a fresh, empty warehouse of each adapter: chdb, clickhouse-connect over
  chdb, and a ClickHouse server when ``CLICKHOUSE_URL`` is set; ``migrated_warehouse`` the same
  with the migrations applied.

A test that starts a broker must carry the ``kafka`` marker and one that opens the embedded
warehouse the ``clickhouse`` marker (so ``-m "not kafka"`` really runs without a broker): the
autouse fixture below fails a test that uses either without its marker.
"""

from __future__ import annotations

import gc
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from broker.tansu import LocalBroker
from warehouse.client import EmbeddedWarehouse, ServerWarehouse, Warehouse
from warehouse.migrate import migrate

# pytest-xdist's workers run with COLUMNS=80 and LINES=24 set. The CLI's console is made when
# partnerhub.cli is first imported (after this file's imports, none of which loads it) and takes
# COLUMNS as its width, so its tables would wrap in a worker and not in a plain run. Unset, the
# suite's output is a pipe in both, and the console takes its wide default.
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

SERVER_URL = os.environ.get("CLICKHOUSE_URL")
NO_SERVER = "CLICKHOUSE_URL is not set: no ClickHouse server here"


@pytest.fixture
def kafka_bootstrap(tmp_path: Path) -> Iterator[str]:
    """Bootstrap address of a real Kafka-protocol broker for one test."""
    remote = os.environ.get("KAFKA_BOOTSTRAP")
    if remote:
        yield remote
        return
    with LocalBroker(log_file=tmp_path / "tansu.log") as broker:
        yield broker.bootstrap


WAREHOUSE_BACKENDS = [
    "embedded",
    "connect-chdb",
    pytest.param("server", marks=pytest.mark.skipif(not SERVER_URL, reason=NO_SERVER)),
]


def open_backend(backend: str, folder: Path) -> Warehouse:
    """A fresh, empty warehouse of ``backend`` (a new folder, or a new server database)."""
    if backend == "embedded":
        return EmbeddedWarehouse(folder / "chdb", database="hub_test")
    if backend == "connect-chdb":
        return ServerWarehouse(f"chdb://{folder / 'chdb'}", database="hub_test")
    assert SERVER_URL
    return ServerWarehouse(SERVER_URL, database=f"hub_test_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=WAREHOUSE_BACKENDS)
def any_warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """An empty warehouse of each adapter in turn; a server database is dropped afterwards."""
    warehouse = open_backend(request.param, tmp_path)
    try:
        yield warehouse
    finally:
        if request.param == "server":
            database = warehouse.query("SELECT currentDatabase() AS db")[0]["db"]
            warehouse.command(f"DROP DATABASE IF EXISTS `{database}`")
        warehouse.close()


@pytest.fixture
def migrated_warehouse(any_warehouse: Warehouse) -> Warehouse:
    """:func:`any_warehouse` with every migration applied."""
    migrate(any_warehouse)
    return any_warehouse


# --- every service a test uses is declared by its marker ---------------------------------

#: Fixtures that start a service, and the marker a test using them must carry.
SERVICE_FIXTURES = {
    "kafka_bootstrap": "kafka",
    "any_warehouse": "clickhouse",
    "kafka_storage_template": "kafka",
    "apache_kafka_broker": "kafka",
    "fresh_apache_kafka": "kafka",
}


def _guard(owner: type, method: str, marker: str) -> Callable[[pytest.FixtureRequest], None]:
    """Wrap ``owner.method`` so that calling it fails the test unless it has ``marker``."""
    original = getattr(owner, method)

    def check(request: pytest.FixtureRequest) -> None:
        def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            if request.node.get_closest_marker(marker) is None:
                pytest.fail(
                    f"{request.node.nodeid} starts {owner.__name__} without the "
                    f"@pytest.mark.{marker} marker",
                    pytrace=False,
                )
            return original(self, *args, **kwargs)

        setattr(owner, method, guarded)

    return check


@pytest.fixture(autouse=True)
def _services_are_declared(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that uses a broker or the embedded warehouse without the matching marker."""
    for fixture, marker in SERVICE_FIXTURES.items():
        if fixture in request.fixturenames and request.node.get_closest_marker(marker) is None:
            pytest.fail(
                f"{request.node.nodeid} uses {fixture} without @pytest.mark.{marker}",
                pytrace=False,
            )
    originals = {
        (LocalBroker, "start"): LocalBroker.start,
        (EmbeddedWarehouse, "__init__"): EmbeddedWarehouse.__init__,
    }
    _guard(LocalBroker, "start", "kafka")(request)
    _guard(EmbeddedWarehouse, "__init__", "clickhouse")(request)
    try:
        yield
    finally:
        for (owner, method), original in originals.items():
            setattr(owner, method, original)


@pytest.fixture(autouse=True)
def _leaks_fail_their_own_test() -> Iterator[None]:
    """Collect garbage once a test's fixtures are torn down, so that an unclosed socket or
    file it left in a reference cycle fails *that* test (pytest turns the ResourceWarning
    into an error), not whichever test happens to run when the collector next passes. Costs
    nothing measurable: the suite took 14 min 40 s with it against 15 min 1 s without."""
    yield
    gc.collect()


# --- Apache Kafka (tests/brokers.py) --------------------------------------------------------

from tests.brokers import (  # noqa: E402  (fixtures, re-exported for every test)
    apache_kafka,
    apache_kafka_broker,
    fresh_apache_kafka,
    in_ci,
    is_kafka_skip,
    kafka_storage_template,
)

__all__ = ["apache_kafka", "apache_kafka_broker", "fresh_apache_kafka", "kafka_storage_template"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a collection in which two tests share a node id: pytest-xdist would run one of
    them and drop the others silently (it happened to the schemathesis tests)."""
    ids = Counter(item.nodeid for item in items)
    twice = sorted(nodeid for nodeid, n in ids.items() if n > 1)
    if twice:
        raise pytest.UsageError(f"{len(twice)} node ids name more than one test: {twice[:5]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI (``CI=true``) a test skipped for want of Apache Kafka fails: CI has Java and
    Maven, so such a skip means the broker tests silently did not run."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if in_ci() and is_kafka_skip(report):
        report.outcome = "failed"
        report.longrepr = f"CI=true and {report.longrepr[2]}"  # type: ignore[index]
