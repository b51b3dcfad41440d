"""What the gateway can be told; the composition root nests it as ``gateway``."""

from __future__ import annotations

from pydantic import BaseModel, Field


class GatewayLimits(BaseModel):
    """Abuse limits of one request and one token (docs/gateway.md lists them for partners)."""

    #: Largest request body, in bytes (413 above it). 1,000 typical events are about 0.5 MiB.
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    #: Most events in one request (413 above it).
    max_events: int = Field(1000, ge=1)
    #: Deepest nesting of JSON arrays and objects in one event (an event needs 3).
    max_depth: int = Field(8, ge=3)
    #: Seconds a client may take to send its body (408 after it): slow clients hold a worker.
    body_seconds: float = Field(30.0, gt=0)
    #: Per token: requests a second on average, and the burst allowed above it (429 past it).
    rate_per_second: float = Field(20.0, gt=0)
    rate_burst: int = Field(40, ge=1)
    #: Seconds to wait for the broker's acknowledgements before answering 503.
    ack_seconds: float = Field(30.0, gt=0)
    #: Seconds a client is told to wait after a 503 (``Retry-After``).
    retry_after_seconds: int = Field(10, ge=1)
    #: Most events of one topic sent in one Kafka message (a bulk message, ``schemas.bulk``;
    #: 1: one message per event).
    bulk_events: int = Field(500, ge=1, le=500)


class GatewaySettings(BaseModel):
    """Where the gateway listens and how strict it is."""

    host: str = "127.0.0.1"
    #: 0: any free port (the embedded stack prints the one it got).
    port: int = Field(8088, ge=0, le=65535)
    limits: GatewayLimits = GatewayLimits()
    #: Seconds uvicorn keeps an idle keep-alive connection open.
    keep_alive_seconds: float = Field(5.0, gt=0)
    #: Connections uvicorn serves at once; past it it answers 503 at once.
    max_connections: int = Field(200, ge=1)
