"""The client builders leave nothing running when a client cannot be made.

kafka-python 3.0 makes a client's network client (a wakeup socket pair; for the admin and the
consumer an I/O thread too) in its constructor; when the bootstrap then times out the
constructor raises and nobody can close it. The thread ran on and the sockets were collected,
unclosed, in whatever test ran later (the likely cause of CI failing exactness tests of
tests/streams/test_pipeline.py on a ResourceWarning that was not theirs). The producer starts
no I/O thread, so its case rests on the ResourceWarning check. A refused connection's socket
was dropped unclosed inside kafka-python too (``broker.clients._closing_sock_connect``).
"""

from __future__ import annotations

import gc
import socket
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError

from broker import clients
from broker.settings import KafkaSettings
from tests.support import wait_until

BUILDERS: dict[str, Callable[[KafkaSettings], Any]] = {
    "admin": lambda settings: clients.admin(settings, timeout=1),
    "consumer": lambda settings: clients.consumer(settings, bootstrap_timeout_ms=1000),
    "producer": lambda settings: clients.producer(settings, bootstrap_timeout_ms=1000),
}


@pytest.fixture(params=["silent", "refused"])
def unready_broker(request: pytest.FixtureRequest) -> Iterator[KafkaSettings]:
    """A port that accepts connections and never answers (a broker still starting up), or one
    that refuses them (a broker not started yet, or gone)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if request.param == "silent":
            listener.listen()
            yield KafkaSettings(bootstrap=f"127.0.0.1:{port}")
            return
    yield KafkaSettings(bootstrap=f"127.0.0.1:{port}")  # closed: nothing listens there now


def _network_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("kafka-io")]


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_a_client_that_cannot_bootstrap_leaves_no_thread_or_socket(
    kind: str, unready_broker: KafkaSettings
) -> None:
    before = _network_threads()
    with pytest.raises(KafkaTimeoutError, match="Unable to bootstrap"):
        BUILDERS[kind](unready_broker)
    wait_until(
        lambda: not [t for t in _network_threads() if t not in before],
        timeout=10,
        what="the failed client's network thread to stop",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
