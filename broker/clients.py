"""The one place kafka-python clients are built: producer, consumer, admin.

Every other module asks for its clients here, so there is one producer configuration (durable,
lz4-compressed, large batches) and one way credentials reach a client. Callers may override an
option for a reason they state (a benchmark's linger, a consumer's fetch size), never the
connection or the durability settings.
"""

from __future__ import annotations

from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

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


def producer(settings: KafkaSettings, **overrides: Any) -> KafkaProducer:
    """A durable producer (acks=all, idempotent) connected with ``settings``' credentials."""
    return KafkaProducer(**_merged({**settings.client_kwargs(), **PRODUCER_OPTIONS}, overrides))


def consumer(settings: KafkaSettings, *topics: str, **options: Any) -> KafkaConsumer:
    """A consumer of ``topics`` (none: assign partitions yourself); auto-commit off by default."""
    base = {**settings.client_kwargs(), "enable_auto_commit": False}
    return KafkaConsumer(*topics, **_merged(base, options))


def admin(settings: KafkaSettings, *, timeout: float | None = None) -> KafkaAdminClient:
    """An admin client; ``timeout`` (s) bounds its requests and its wait for the bootstrap."""
    options: dict[str, Any] = {}
    if timeout is not None:
        ms = int(timeout * 1000)
        options = {"request_timeout_ms": ms, "bootstrap_timeout_ms": ms}
    return KafkaAdminClient(**settings.client_kwargs(), **options)
