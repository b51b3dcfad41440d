"""The Kafka part of the hub's settings, owned by the Kafka seam.

The composition root (``partnerhub.settings.HubSettings``) nests it as ``kafka``, so its fields
are read from ``PARTNERHUB_KAFKA__<FIELD>``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr


class KafkaTimings(BaseModel):
    """Consumer-group timings, in seconds."""

    session_timeout: float
    heartbeat_interval: float
    rebalance_timeout: float
    commit_interval: float


#: The local broker (Tansu) lets a group join after about half the session timeout, so short
#: timings make tests and the demo start in seconds. Production keeps Kafka-sane values.
TIMINGS: dict[str, KafkaTimings] = {
    "local": KafkaTimings(
        session_timeout=2.0, heartbeat_interval=0.2, rebalance_timeout=1.0, commit_interval=0.5
    ),
    "production": KafkaTimings(
        session_timeout=30.0, heartbeat_interval=3.0, rebalance_timeout=60.0, commit_interval=2.8
    ),
    # Apache Kafka in the tests that kill a worker: production's commit interval, the shortest
    # session Apache Kafka accepts (its group.min.session.timeout.ms is 6 s), so a killed
    # member's partitions move in seconds rather than half a minute.
    "test": KafkaTimings(
        session_timeout=6.0, heartbeat_interval=1.0, rebalance_timeout=10.0, commit_interval=2.8
    ),
}


class KafkaSettings(BaseModel):
    bootstrap: str = "localhost:9092"
    security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = None
    #: Partitions of each partner topic created by ``partners sync``: 6 divides evenly among
    #: 1, 2, 3 or 6 workers (Faust hands out partition numbers; docs/contract.md says why).
    partitions: int = Field(6, ge=1)
    replication_factor: int = Field(1, ge=1)
    #: ``local`` for Tansu and tests; ``production`` for Apache Kafka; ``test`` for Apache Kafka
    #: in tests that kill workers.
    profile: Literal["local", "production", "test"] = "local"

    @property
    def timings(self) -> KafkaTimings:
        return TIMINGS[self.profile]

    def client_kwargs(self) -> dict[str, Any]:
        """Connection keyword arguments for kafka-python clients (producer, consumer, admin)."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap.split(","),
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol.startswith("SASL"):
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.username
            kwargs["sasl_plain_password"] = (
                self.password.get_secret_value() if self.password else None
            )
        return kwargs
