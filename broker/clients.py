"""The one place kafka-python clients are built: producer, consumer, admin.

Every other module asks for its clients here, so there is one producer configuration (durable,
lz4-compressed, large batches) and one way credentials reach a client. Callers may override an
option for a reason they state (a benchmark's linger, a consumer's fetch size), never the
connection or the durability settings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.net.compat import KafkaNetClient
from kafka.net.inet import KafkaNetSocket
from kafka.net.selector import NetworkSelector

from broker.settings import KafkaSettings

#: The hub's producer configuration (SDK, publish, simulator, gateway). Durability: every
#: in-sync replica acknowledges, and idempotence keeps retries from writing a record twice.
#: Throughput: the kafka-python client is CPU-bound, so larger lz4-compressed batches (few
#: requests, each cheap to build) beat everything else; ``benchmarks/producer.py`` measures it.
PRODUCER_OPTIONS: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,
    "max_in_flight_requests_per_connection": 5,  # the most idempotence allows
    "compression_type": "lz4",
    "linger_ms": 20,
    "batch_size": 256 * 1024,
    # Partners never create topics (``partnerhub partners sync`` does); Tansu ignores this.
    "allow_auto_create_topics": False,
    # How long one publish may block waiting for a topic's metadata.
    "max_block_ms": 20_000,
}

#: Options a caller may not change: they are what "durable" and "authenticated" mean.
_FIXED = frozenset(
    {"acks", "enable_idempotence", "bootstrap_servers", "security_protocol", "sasl_mechanism"}
)


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``overrides``; ValueError if an override changes a fixed option."""
    changed = sorted(k for k in _FIXED & overrides.keys() if overrides[k] != base.get(k))
    if changed:
        raise ValueError(f"these client options are fixed by the hub: {', '.join(changed)}")
    return {**base, **overrides}


def _closing_sock_connect(connect: Callable[..., Any]) -> Callable[..., Any]:
    """kafka-python 3.0's ``KafkaNetSocket.sock_connect``, closing the socket when the connect
    fails (refused, timed out) or the connecting task is cancelled by a client's ``close()``.

    Upstream drops the socket unclosed on every such path; the ResourceWarning then fires in
    whatever code the garbage collector interrupts. The wrapper adds nothing else.
    """

    async def sock_connect(self: Any, net: Any, sock: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await connect(self, net, sock, *args, **kwargs)
        except BaseException:  # GeneratorExit too: the task was cancelled
            sock.close()
            raise

    return sock_connect


# Applied when this module is imported, which every process that builds a kafka-python client
# does (tests/broker/test_clients.py checks that a refused connection leaves no socket).
KafkaNetSocket.sock_connect = _closing_sock_connect(KafkaNetSocket.sock_connect)


Client = TypeVar("Client")


def _built(make: Callable[..., Client], *args: Any, **options: Any) -> Client:
    """``make(*args, **options)``, with the network client it started closed when it raises.

    A kafka-python 3.0 client makes its network client (a wakeup socket pair and, for the
    admin and the consumer, an I/O thread) in its constructor and then bootstraps. When the
    bootstrap times out the constructor raises and nothing ever closes what it made: the thread
    runs on, and its sockets are garbage-collected later, unclosed, in whatever code runs then.
    The network client is made through the documented ``kafka_client`` option so that it can
    be closed; the constructor's own error is the one raised, whatever the closing meets.
    (A connection that fails or is cancelled closes its socket: :func:`_closing_sock_connect`.)
    """
    started: list[Any] = []

    def network_client(**configs: Any) -> KafkaNetClient:
        started.append(net := NetworkSelector(**configs))  # closed even if the rest fails
        started.append(client := KafkaNetClient(net=net, **configs))
        return client

    try:
        return make(*args, **options, kafka_client=network_client)
    except BaseException:
        for made in reversed(started):  # the client (its connections), then its selector
            with contextlib.suppress(Exception):
                made.close()
        raise


def producer(settings: KafkaSettings, **overrides: Any) -> KafkaProducer:
    """A durable producer (acks=all, idempotent) connected with ``settings``' credentials."""
    options = _merged({**settings.client_kwargs(), **PRODUCER_OPTIONS}, overrides)
    return _built(KafkaProducer, **options)


def consumer(settings: KafkaSettings, *topics: str, **options: Any) -> KafkaConsumer:
    """A consumer of ``topics`` (none: assign partitions yourself); auto-commit off by default."""
    base = {**settings.client_kwargs(), "enable_auto_commit": False}
    return _built(KafkaConsumer, *topics, **_merged(base, options))


def admin(settings: KafkaSettings, *, timeout: float | None = None) -> KafkaAdminClient:
    """An admin client; ``timeout`` (s) bounds its requests and its wait for the bootstrap."""
    options: dict[str, Any] = {}
    if timeout is not None:
        ms = int(timeout * 1000)
        options = {"request_timeout_ms": ms, "bootstrap_timeout_ms": ms}
    return _built(KafkaAdminClient, **settings.client_kwargs(), **options)
