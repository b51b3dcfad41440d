"""The gateway's FastAPI application: API v1, authentication, limits and answers.

``create_app(gateway)`` builds it around a :class:`Gateway` (registry, token store, sender,
limits, clock); :mod:`producers.gateway.serve` runs it on uvicorn. Every refusal is a
:class:`~producers.gateway.models.Problem` with a stable code; docs/gateway.md lists them.

(No ``from __future__ import annotations`` here: FastAPI reads the ``Annotated`` dependencies
of the nested route functions at run time, and string annotations would hide them.)
"""

import json
import logging
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from producers.gateway.auth import BASIC, BEARER, Caller, Gateway, Refusal, caller_of
from producers.gateway.body import BadRequest, parse_items, read_limited
from producers.gateway.kobo_intake import kobo_submission, parse_submission
from producers.gateway.models import (
    Contract,
    EventsResponse,
    Health,
    KoboResult,
    Me,
    Problem,
)
from producers.gateway.publishing import BrokerDown, Outcome, publish_items
from producers.gateway.tokens import Scope
from schemas.export import generate
from schemas.reasons import CODES

log = logging.getLogger(__name__)


def _problem(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Any:
    return JSONResponse(
        Problem(code=code, message=message).model_dump(), status_code=status, headers=headers
    )


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    text = {
        400: "Malformed request (not JSON, too deep, no events)",
        401: "Missing, malformed, unknown, expired or revoked credentials",
        403: "A valid token that may not use this endpoint",
        408: "The body arrived too slowly",
        413: "Body too large, or too many events",
        415: "Unsupported Content-Type",
        429: "Rate limit: wait Retry-After seconds",
        503: "The broker is unavailable: retry after Retry-After seconds",
    }
    return {s: {"model": Problem, "description": text[s]} for s in statuses}


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise Refusal(400, "bad_content_length", f"Content-Length {value!r} is not a number")
    return int(value)


def events_body(caller: Caller, atomic: bool, outcomes: list[Outcome]) -> dict[str, Any]:
    """The body answering a request whose events had ``outcomes``: an :class:`EventsResponse`,
    built as plain data (a model per event would cost more than validating the event)."""
    results = [
        {
            "index": index,
            "status": o.status,
            "event_id": o.event_id,
            "revision": o.revision,
            "topic": o.topic,
            "partition": o.partition,
            "offset": o.offset,
            "reasons": [
                {"field": r.field, "code": r.code, "message": r.message} for r in o.reasons
            ],
        }
        for index, o in enumerate(outcomes)
    ]
    return {
        "partner_id": caller.partner.code,
        "atomic": atomic,
        "accepted": sum(o.status == "accepted" for o in outcomes),
        "rejected": sum(o.status == "rejected" for o in outcomes),
        "results": results,
    }


def events_status(body: dict[str, Any]) -> int:
    """200 all accepted, 207 some accepted and some rejected, 422 none accepted."""
    if body["accepted"] == len(body["results"]):
        return 200
    return 207 if body["accepted"] else 422


_EVENTS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"type": "object", "description": "One event (GET /v1/contract)."},
                    {
                        "type": "array",
                        "items": {"type": "object"},
                        "description": "Events; at most the gateway's max_events (1,000).",
                    },
                ]
            }
        },
        "application/x-ndjson": {
            "schema": {"type": "string", "description": "One event per line."}
        },
    },
}


def create_app(gateway: Gateway) -> FastAPI:
    """The gateway application around ``gateway``."""
    app = FastAPI(
        title="Partner Hub gateway",
        version="1",
        description="Partner systems and KoboToolbox forms report activity events over HTTPS.",
        docs_url=None,
        redoc_url=None,
    )
    limits = gateway.limits
    retry = {"Retry-After": str(limits.retry_after_seconds)}

    @app.exception_handler(Refusal)
    async def refused(request: Request, error: Refusal) -> Any:
        return _problem(error.status, error.code, str(error), error.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, error: RequestValidationError) -> Any:
        where = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        return _problem(400, "bad_parameter", where)

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, error: BadRequest) -> Any:
        return _problem(error.status, error.code, str(error))

    def events_caller(
        request: Request,
        _bearer: Annotated[Any, Depends(BEARER)],
        _basic: Annotated[Any, Depends(BASIC)],
    ) -> Caller:
        return caller_of(gateway, request, Scope.EVENTS, "Bearer")

    def any_caller(
        request: Request,
        _bearer: Annotated[Any, Depends(BEARER)],
        _basic: Annotated[Any, Depends(BASIC)],
    ) -> Caller:
        return caller_of(gateway, request, None, "Bearer")

    @app.post(
        "/v1/events",
        response_model=EventsResponse,
        responses={
            207: {"model": EventsResponse, "description": "Some events accepted, some rejected"},
            422: {"model": EventsResponse, "description": "No event accepted (see reasons)"},
            503: {"model": EventsResponse, "description": "Broker unavailable: retry"},
            **_problems(400, 401, 403, 408, 413, 415, 429),
        },
        openapi_extra={"requestBody": _EVENTS_BODY},
        summary="Report events: one JSON object, a JSON array, or NDJSON",
    )
    async def post_events(
        request: Request,
        caller: Annotated[Caller, Depends(events_caller)],
        atomic: Annotated[
            bool, Query(description="All or nothing: publish only if all are valid.")
        ] = False,
    ) -> Any:
        raw = await read_limited(request.stream(), _declared_length(request), limits)
        items = parse_items(raw, request.headers.get("content-type"), limits)
        status = 200
        try:
            outcomes = await run_in_threadpool(
                publish_items,
                items.items,
                caller.partner,
                gateway.registry,
                gateway.sender,
                now=gateway.clock(),
                atomic=atomic,
            )
            body = events_body(caller, atomic, outcomes)
            status = events_status(body)
        except BrokerDown as down:
            log.warning("token %s: broker down: %s", caller.token.token_id, down)
            body, status = events_body(caller, atomic, down.outcomes), 503
        log.info(
            "token %s (%s): %d accepted, %d rejected, status %d",
            caller.token.token_id,
            caller.partner.code,
            body["accepted"],
            body["rejected"],
            status,
        )
        return JSONResponse(
            body,
            status_code=status,
            headers=retry if status == 503 else None,
        )

    @app.get("/v1/me", response_model=Me, responses=_problems(401, 403, 429))
    def me(caller: Annotated[Caller, Depends(any_caller)]) -> Me:
        token, partner = caller.token, caller.partner
        return Me(
            partner_id=partner.code,
            name=partner.name,
            kinds=[k.value for k in partner.kinds],
            regions=list(partner.regions),
            token_id=token.token_id,
            scopes=[s.value for s in token.scopes],
            expires_at=token.expires_at,
        )

    schemas = {
        name.removesuffix(".schema.json"): json.loads(text) for name, text in generate().items()
    }

    @app.get("/v1/contract", response_model=Contract)
    def contract() -> Contract:
        return Contract(version="v1", schemas=schemas, reasons=CODES)

    @app.get("/healthz", response_model=Health)
    def healthz() -> Health:
        return Health(status="ok")

    @app.get(
        "/readyz",
        response_model=Health,
        responses={503: {"model": Health, "description": "The broker does not answer"}},
    )
    async def readyz() -> Any:
        ok = await run_in_threadpool(gateway.sender.ready)
        body = Health(status="ok" if ok else "unavailable", broker=gateway.sender.kafka.bootstrap)
        return JSONResponse(
            body.model_dump(), status_code=200 if ok else 503, headers=None if ok else retry
        )

    def kobo_caller(
        request: Request,
        _bearer: Annotated[Any, Depends(BEARER)],
        _basic: Annotated[Any, Depends(BASIC)],
    ) -> Caller:
        return caller_of(gateway, request, Scope.KOBO, "Basic")

    @app.post(
        "/v1/kobo/{form}",
        response_model=KoboResult,
        responses={
            422: {"model": KoboResult, "description": "Not mappable: kept as a dead letter"},
            404: {"model": Problem, "description": "No mapping for this form"},
            **_problems(400, 401, 403, 408, 413, 429, 503),
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
        summary="A KoboToolbox REST Service submission (HTTP basic auth: partner code, token)",
    )
    async def post_kobo(
        form: str, request: Request, caller: Annotated[Caller, Depends(kobo_caller)]
    ) -> Any:
        mapping = gateway.forms.get(form)
        if mapping is None:
            raise Refusal(404, "unknown_form", f"no mapping for form {form!r}")
        if mapping.partner != caller.partner.code:
            raise Refusal(403, "form_not_yours", f"form {form!r} is {mapping.partner}'s")
        raw = await read_limited(request.stream(), _declared_length(request), limits)
        submission = parse_submission(raw, limits)
        try:
            result = await run_in_threadpool(
                kobo_submission, gateway, mapping, caller, raw, submission
            )
        except BrokerDown as down:
            log.warning("token %s: kobo %s: broker down: %s", caller.token.token_id, form, down)
            return _problem(503, "broker_unavailable", str(down), retry)
        status = 200 if result.status == "accepted" else 422
        log.info(
            "token %s: kobo %s %s: %s",
            caller.token.token_id,
            form,
            result.instance_id,
            result.status,
        )
        return JSONResponse(result.model_dump(mode="json"), status_code=status)

    app.state.gateway = gateway
    return app


__all__ = ["Caller", "Gateway", "Refusal", "create_app"]
