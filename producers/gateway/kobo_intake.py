"""A KoboToolbox submission through the gateway: identified, mapped, checked, and published,
or kept as a dead letter with its reasons (nothing a form sends is lost)."""

import json
from collections.abc import Mapping
from typing import Any

from producers.gateway.auth import Caller, Gateway
from producers.gateway.body import BadRequest, deeper_than
from producers.gateway.kobo import (
    FormMapping,
    Identity,
    Lineage,
    event_id_for,
    identify_alone,
    instance_ids,
    to_event,
)
from producers.gateway.models import KoboResult
from producers.gateway.publishing import BrokerDown, check
from producers.gateway.settings import GatewayLimits
from schemas.reasons import InvalidEvent
from schemas.topics import topic_for


def parse_submission(raw: bytes, limits: GatewayLimits) -> dict[str, Any]:
    """The submission a body holds: one JSON object within the depth limit (else 400)."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BadRequest(400, "too_deep", f"JSON nested deeper than {limits.max_depth}") from None
    except ValueError as error:
        raise BadRequest(400, "invalid_json", f"the body is not UTF-8 JSON: {error}") from None
    if not isinstance(value, dict):
        raise BadRequest(400, "not_an_object", "a KoboToolbox submission is one JSON object")
    if deeper_than(value, limits.max_depth):
        raise BadRequest(400, "too_deep", f"JSON nested deeper than {limits.max_depth}")
    return value


def kobo_submission(
    gateway: Gateway,
    mapping: FormMapping,
    caller: Caller,
    raw: bytes,
    submission: Mapping[str, Any],
) -> KoboResult:
    """Map, check and publish one submission; a rejected one is kept as a dead letter."""
    instance = str(submission.get("meta/instanceID") or "")
    topic = topic_for(mapping.partner, mapping.kind)
    try:
        identity = kobo_identity(gateway.lineage, mapping.form, submission)
        event = to_event(mapping, submission, identity)
        prepared = check(event, caller.partner, gateway.registry, now=gateway.clock())
    except InvalidEvent as invalid:
        reasons = json.dumps([r.model_dump() for r in invalid.reasons], separators=(",", ":"))
        headers = [
            ("x-hub-reasons", reasons.encode()),
            ("x-hub-topic", topic.encode()),
            ("x-hub-partition", b"-1"),
            ("x-hub-offset", b"-1"),
            ("x-hub-event-index", b"-1"),  # as every dead letter: the message as a whole
            ("x-hub-source", f"kobo:{mapping.form}".encode()),
        ]
        offset = gateway.sender.deadletter(raw, mapping.partner.encode(), headers)
        return KoboResult(
            form=mapping.form,
            instance_id=instance,
            status="rejected",
            reasons=list(invalid.reasons),
            deadletter_offset=offset,
        )
    (outcome,) = gateway.sender.send([prepared])
    if outcome.status != "accepted":
        raise BrokerDown("the broker did not acknowledge the event")
    return KoboResult(
        form=mapping.form,
        instance_id=identity.instance_id,
        status="accepted",
        event_id=outcome.event_id,
        revision=outcome.revision,
        topic=outcome.topic,
        partition=outcome.partition,
        offset=outcome.offset,
    )


def kobo_identity(lineage: Lineage | None, form: str, submission: Mapping[str, Any]) -> Identity:
    """The submission's event id and revision: from the lineage store, or from it alone."""
    if lineage is not None:
        return lineage.identify(form, submission)
    instance, deprecated = instance_ids(submission)
    first, revision = identify_alone(instance, deprecated)
    return Identity(instance, event_id_for(form, first), revision)
