"""The gateway's response bodies, as pydantic models (FastAPI writes them into the OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from schemas.reasons import Reason


class Problem(BaseModel):
    """Why a request was refused as a whole."""

    code: str = Field(description="A stable, machine-readable code (docs/gateway.md lists them).")
    message: str = Field(description="For people.")


class EventResult(BaseModel):
    """What became of one event, at its position in the request."""

    index: int = Field(ge=0, description="Position of the event in the request (0-based).")
    status: Literal["accepted", "rejected", "not_published", "failed"] = Field(
        description="accepted: stored by the broker. rejected: breaks the contract (reasons). "
        "not_published: valid, but held back because the atomic request had a rejected event "
        "or the broker was down. failed: the broker did not acknowledge it; re-send it."
    )
    event_id: str | None = None
    revision: int | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    reasons: list[Reason] = Field(
        default_factory=list, description="The contract's reason codes and field paths."
    )


class EventsResponse(BaseModel):
    """One result per event, in request order."""

    partner_id: str
    atomic: bool
    accepted: int = Field(ge=0)
    rejected: int = Field(ge=0)
    results: list[EventResult]


class Me(BaseModel):
    """The token's partner and mandate."""

    partner_id: str
    name: str
    kinds: list[str]
    regions: list[str]
    token_id: str
    scopes: list[str]
    expires_at: datetime | None


class Contract(BaseModel):
    """Contract v1: a JSON Schema per kind (and the envelope) and every reason code."""

    version: Literal["v1"]
    schemas: dict[str, dict[str, Any]]
    reasons: dict[str, str]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    broker: str | None = None


class KoboResult(BaseModel):
    """What a KoboToolbox submission became."""

    form: str
    instance_id: str
    status: Literal["accepted", "rejected"]
    event_id: str | None = None
    revision: int | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    reasons: list[Reason] = Field(default_factory=list)
    deadletter_offset: int | None = Field(
        None, description="Where the rejected submission was kept (hub.deadletter.v1)."
    )
