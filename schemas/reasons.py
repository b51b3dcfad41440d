"""Machine-readable reasons an event is rejected: the list the dead-letter topic carries.

A reason is ``(field, code, message)``. ``field`` is a dotted path into the event
(``payload.incident_type``, ``beneficiaries.female.0-4``) or ``""`` for the whole message;
``code`` is one of :data:`CODES` and never changes meaning; ``message`` is for people.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from schemas.vocabulary import Kind

_KINDS = frozenset(k.value for k in Kind)

#: Every reason code, with what it means. Codes are part of the contract: add, never rename.
CODES: dict[str, str] = {
    "invalid_json": "the message is not valid UTF-8 JSON",
    "not_an_object": "the message (or a nested part) is not a JSON object where one is required",
    "missing": "a required field is absent",
    "unknown_field": "a field the contract does not define (also the guard against free text)",
    "wrong_type": "a value of the wrong JSON type (string for number, float for integer, ...)",
    "invalid_value": "a value outside the field's closed vocabulary",
    "out_of_range": "a number or list outside its allowed bounds",
    "bad_format": "a string in the wrong format (UUID, date, timestamp with offset, hash)",
    "future_date": "occurred_on is after today",
    "reported_before_occurred": "reported_at is earlier than the day the activity occurred",
    "empty_beneficiaries": "the sex/age cells add up to zero",
    "origin_required": "origin is required for every population type except host_community",
    "unknown_region": "region is not an ISO 3166-2:KZ code of the reference list",
    "unknown_origin": "origin is not a country of the reference list",
    "duplicate_value": "a list that must hold distinct values repeats one",
    "refs_not_allowed": "beneficiary_refs is only allowed on assistance events",
    "incident_type_required": "an SGBV case_response must name its incident_type",
    "incident_type_forbidden": "incident_type is only allowed on an SGBV case_response",
    "curriculum_not_allowed": "a curriculum module is only for university lecturers, school"
    " teachers or students",
    "population_not_allowed": "the kind does not concern this population type (rsd_casework:"
    " asylum_seeker or refugee only)",
    "bad_topic": "the topic is not of the form partners.<partner>.<kind>.v1",
    "unknown_partner": "the partner is not in the registry",
    "partner_mismatch": "the event's partner_id differs from its topic's partner (spoofing)",
    "kind_mismatch": "the event's kind differs from its topic's kind",
    "kind_not_mandated": "the partner is not mandated for this kind of activity",
    "implausible_date": "occurred_on is before 1990-01-01, older than the operation's records",
    "future_timestamp": "reported_at is more than a year after today",
    "duplicate_key": "a JSON object names the same key twice (which one counts is ambiguous)",
    "unstorable": "the warehouse refused to store the message; the reason names its error code",
    "region_not_mandated": "the partner's registry entry does not list the event's region",
    "bulk_bad_header": "the hub-bulk header has a value other than 1 (a format this hub does not"
    " know)",
    "bulk_not_array": "a bulk message (header hub-bulk: 1) is JSON but not an array",
    "bulk_empty": "a bulk message holds no event",
    "bulk_too_many": "a bulk message holds more than 500 events",
    "bulk_too_large": "a bulk message is over 512 KiB (524,288 bytes)",
}

#: The codes of a bulk message refused as a whole (schemas.bulk); its events are not read.
BULK_CODES = frozenset(
    {"bulk_bad_header", "bulk_not_array", "bulk_empty", "bulk_too_many", "bulk_too_large"}
)

#: Longest field path or message a reason carries; longer ones are cut and say their length,
#: so a reason never echoes unbounded input (a 600 KB region code, a 5 MB field name).
MAX_REASON_TEXT = 200


def bounded(text: str, limit: int = MAX_REASON_TEXT) -> str:
    """``text``, or its first ``limit`` characters and its original length when longer."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


_BY_PYDANTIC_TYPE: dict[str, str] = {
    "json_invalid": "invalid_json",
    "json_type": "invalid_json",
    "missing": "missing",
    "union_tag_not_found": "missing",
    "extra_forbidden": "unknown_field",
    "enum": "invalid_value",
    "literal_error": "invalid_value",
    "union_tag_invalid": "invalid_value",
    "model_type": "not_an_object",
    "model_attributes_type": "not_an_object",
    "dict_type": "not_an_object",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "too_short": "out_of_range",
    "too_long": "out_of_range",
    "finite_number": "out_of_range",
    "string_pattern_mismatch": "bad_format",
    "date_parsing": "bad_format",
    "date_from_datetime_parsing": "bad_format",
    "date_from_datetime_inexact": "bad_format",
    "datetime_parsing": "bad_format",
    "datetime_from_date_parsing": "bad_format",
    "timezone_aware": "bad_format",
    "uuid_parsing": "bad_format",
}


#: The field a whole-event rule is about, for rules that pydantic reports on the event itself.
_FIELD_OF_RULE = {
    "future_date": "occurred_on",
    "implausible_date": "occurred_on",
    "future_timestamp": "reported_at",
    "reported_before_occurred": "reported_at",
    "origin_required": "origin",
}


class Reason(BaseModel):
    """One thing wrong with one message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    code: str
    message: str


class InvalidEvent(ValueError):
    """An event that breaks the contract; ``reasons`` says how. Dead-letter it, never retry."""

    def __init__(self, reasons: Sequence[Reason]) -> None:
        self.reasons: tuple[Reason, ...] = tuple(reasons)
        super().__init__("; ".join(f"{r.field or '<message>'}: {r.code}" for r in self.reasons))


def _field_path(detail: ErrorDetails, drop: frozenset[str]) -> str:
    """Dotted field path of a pydantic error location, without discriminator tags.

    A missing or unknown discriminator is reported by pydantic on the union (the event, or
    ``payload``); the path then names the discriminating field (``kind``, ``payload.activity``).
    """
    loc = detail["loc"]
    if loc and loc[0] in _KINDS:
        loc = loc[1:]  # the event-kind tag of the discriminated union
    if detail["type"] in {"union_tag_invalid", "union_tag_not_found"}:
        discriminator = str(detail.get("ctx", {}).get("discriminator", "")).strip("'")
        loc = (*loc, discriminator) if discriminator else loc
    parts: list[str] = []
    previous: int | str | None = None
    for item in loc:
        if previous == "payload" and isinstance(item, str) and item in drop:
            previous = None
            continue
        parts.append(str(item))
        previous = item
    return ".".join(parts)


def reasons_from_error(
    error: ValidationError, *, tags: frozenset[str] = frozenset()
) -> list[Reason]:
    """Translate a pydantic ValidationError into contract reasons, in a stable order.

    ``tags`` are discriminator values that pydantic inserts into locations after ``payload``
    (the SGBV activities); they are dropped so that fields read as they are written.
    """
    reasons = [_reason(detail, tags) for detail in error.errors(include_url=False)]
    return sorted(set(reasons), key=lambda r: (r.field, r.code))


def _reason(detail: ErrorDetails, tags: frozenset[str]) -> Reason:
    field = _field_path(detail, tags)
    kind = detail["type"]
    if kind == "extra_forbidden" and field.endswith("beneficiary_refs"):
        code = "refs_not_allowed"
    elif kind == "extra_forbidden" and field == "payload.incident_type":
        code = "incident_type_forbidden"
    elif kind == "missing" and field == "payload.incident_type":
        code = "incident_type_required"
    elif kind in CODES:  # a PydanticCustomError raised with one of our own codes
        code = kind
        field = field or _FIELD_OF_RULE.get(code, "")
    else:
        code = _BY_PYDANTIC_TYPE.get(kind, "wrong_type")
    return Reason(field=bounded(field), code=code, message=bounded(detail["msg"]))
