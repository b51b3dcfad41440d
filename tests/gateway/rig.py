"""A gateway around a real broker for one test: registry, tokens, clock, app, client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from kafka import TopicPartition

from broker import clients
from broker.settings import KafkaSettings
from broker.topics import sync_topics
from producers.gateway.app import Gateway, create_app
from producers.gateway.kobo import Lineage, load_forms
from producers.gateway.publishing import Sender
from producers.gateway.settings import GatewayLimits
from producers.gateway.tokens import Scope, TokenStore
from schemas import refdata
from schemas.vocabulary import Kind

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT / "schemas" / "examples" / "valid"
KOBO_FORMS = ROOT / "schemas" / "reference" / "kobo"
KOBO_SAMPLES = ROOT / "docs" / "examples" / "kobo"
#: The examples are judged on the operation's clock (see schemas/examples/README.md).
START = datetime(2006, 12, 31, 12, 0, tzinfo=UTC)


def example(kind: Kind, n: int = 1) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VALID / f"{kind.value}_{n}.json").read_bytes())
    return data


@dataclass
class Clock:
    """A clock the test moves."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    kafka: KafkaSettings
    gateway: Gateway
    app: FastAPI
    clock: Clock
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, partner: str, **options: Any) -> str:
        token, _ = self.gateway.tokens.create(partner, now=self.clock(), **options)
        return token

    def auth(self, partner: str) -> dict[str, str]:
        if partner not in self.tokens:
            self.tokens[partner] = self.token(partner)
        return {"Authorization": f"Bearer {self.tokens[partner]}"}

    def client(self) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=True)


def make_rig(bootstrap: str, folder: Path, *, sync: bool = True, **limits: Any) -> Rig:
    """A gateway on ``bootstrap`` (its topics created unless not ``sync``), tokens in ``folder``."""
    kafka = KafkaSettings(bootstrap=bootstrap, partitions=2)
    if sync:
        sync_topics(kafka, refdata.partners())
    gateway_limits = GatewayLimits(**{"ack_seconds": 10.0, **limits})
    clock = Clock()
    gateway = Gateway(
        registry=refdata.partners(),
        tokens=TokenStore(folder / "tokens.sqlite"),
        sender=Sender(kafka, gateway_limits),
        limits=gateway_limits,
        clock=clock,
        forms=load_forms(KOBO_FORMS),
        lineage=Lineage(folder / "kobo.sqlite"),
    )
    return Rig(kafka, gateway, create_app(gateway), clock)


def rig_of(bootstrap: str, folder: Path, **limits: Any) -> Iterator[Rig]:
    rig = make_rig(bootstrap, folder, **limits)
    try:
        yield rig
    finally:
        rig.gateway.sender.close()


def records(kafka: KafkaSettings, *topics: str, settle: float = 1.0) -> list[Any]:
    """Every record on ``topics`` now: read until each partition reaches its end offset."""
    consumer = clients.consumer(kafka, auto_offset_reset="earliest")
    try:
        tps = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(tps)
        out: list[Any] = []
        empty_polls = 0
        while empty_polls < max(1, int(settle / 0.2)):
            batch = consumer.poll(timeout_ms=200)
            empty_polls = 0 if batch else empty_polls + 1
            for rows in batch.values():
                out.extend(rows)
        return out
    finally:
        consumer.close()


__all__ = [
    "START",
    "Clock",
    "Rig",
    "Scope",
    "example",
    "make_rig",
    "records",
    "rig_of",
    "timedelta",
]
