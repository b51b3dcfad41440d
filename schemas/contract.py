"""Event contract v1: the pydantic models partner systems and the hub agree on.

Every model forbids unknown fields (the guard against free text and personal data) and is
strict: a number written as a string, or an integer written with a fraction, is an error, just
as in the exported JSON Schema. Parse with :func:`parse_event`; it returns a typed event or
raises :class:`~schemas.reasons.InvalidEvent` with machine-readable reasons.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from schemas import refdata
from schemas.reasons import InvalidEvent, Reason, bounded, reasons_from_error
from schemas.vocabulary import (
    AGE_BRACKETS,
    CELLS,
    CURRICULUM_AUDIENCES,
    AssistanceCategory,
    AssistanceUnit,
    HivAudience,
    HivTopic,
    IncidentType,
    IncomeActivity,
    IncomeStage,
    Kind,
    PopulationType,
    ProtectionAudience,
    ProtectionTopic,
    RsdInstance,
    RsdProcedure,
    RsdStage,
    Sex,
    SgbvActivity,
    SgbvService,
    Solution,
    SolutionStage,
    Status,
)

SCHEMA_VERSION = 1
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
REF_PATTERN = r"^[0-9a-f]{64}$"
#: RFC 3339 ``date-time`` syntax (section 5.6); the values themselves are checked by parsing.
RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
PARTNER_PATTERN = r"^[a-z0-9][a-z0-9_]{1,30}$"
#: Upper bound on refs in one event: keeps a message small and a batch bounded.
MAX_REFS = 5000

# Bounds that match the storage (docs/contract.md, "Bounds"): every value the contract accepts
# is stored exactly, and every sum the hub forms stays exact and finite.
#: People in one sex/age cell of one event (the column is UInt32; a million is no operation's
#: single activity, and ten cells times a million events still sum exactly in UInt64).
MAX_COUNT = 1_000_000
#: A revision is UInt32 in the warehouse: this is its maximum (Unix seconds fit until 2106).
MAX_REVISION = 2**32 - 1
#: Sessions of one training event, and cases of one durable-solutions event (UInt32 columns).
MAX_SESSIONS = 100_000
MAX_CASES = 1_000_000
#: Floats: far below where a Float64 sum of a year of events loses whole units, and inside
#: the roll-ups' Decimal(38, 6).
MAX_HOURS = 1_000_000.0
MAX_QUANTITY = 1e12
MAX_USD = 1e10
#: The earliest ``occurred_on``: the ``Date`` column holds 1970-01-01 to 2149-06-06, and the
#: operation reports nothing older than this.
EARLIEST_DAY = date(1990, 1, 1)
#: How far after today a ``reported_at`` may be (a partner clock set wrong, a late export);
#: year 9999 is refused. ``DateTime64(3)`` holds up to 2299.
MAX_REPORT_AHEAD = timedelta(days=366)
#: JSON Schema for "year 1990 or later" (a schema has no date comparison; the year's digits do).
_FROM_1990 = r"^(199[0-9]|[2-9][0-9]{3})-"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _known_region(code: str) -> str:
    if code not in refdata.regions():
        raise PydanticCustomError(
            "unknown_region", "region {code} is not in the reference list", {"code": code}
        )
    return code


def _known_origin(code: str) -> str:
    if code not in refdata.origins():
        raise PydanticCustomError(
            "unknown_origin", "origin {code} is not in the reference list", {"code": code}
        )
    return code


def _distinct(values: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(set(values)) != len(values):
        raise PydanticCustomError("duplicate_value", "values must be distinct")
    return values


RegionCode = Annotated[
    str,
    AfterValidator(_known_region),
    Field(json_schema_extra={"enum": sorted(refdata.regions())}),
]
OriginCode = Annotated[
    str,
    AfterValidator(_known_origin),
    Field(json_schema_extra={"enum": sorted(refdata.origins())}),
]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


def _rfc3339(value: object) -> object:
    """Pass a datetime, or a string in RFC 3339 syntax (as JSON Schema's ``date-time``).

    Pydantic's own parser also takes ``' '`` for ``T``, no seconds, ``+0600``, ``,5`` fractions
    and (lax) Unix numbers; this check keeps the model as strict as the exported schema.
    """
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("wrong_type", "a timestamp must be a JSON string")
    if not RFC3339.fullmatch(value):
        raise PydanticCustomError(
            "bad_format",
            "{value} is not an RFC 3339 timestamp with offset, e.g. 2006-11-21T10:00:00+06:00",
            {"value": value[:40]},
        )
    return value


#: An RFC 3339 timestamp with a UTC offset. Strict(False) lets the checked string be parsed:
#: after a before-validator pydantic validates in Python mode, where strict wants a datetime.
#: The same syntax for validators whose ``date-time`` is looser (ajv-formats takes a space for
#: ``T``); ``[0-9]``, not ``\d``, so that every regex dialect reads it alike.
RFC3339_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
Timestamp = Annotated[
    AwareDatetime,
    Strict(False),
    BeforeValidator(_rfc3339),
    Field(json_schema_extra={"pattern": RFC3339_PATTERN}),
]


class AgeCells(_Strict):
    """People of one sex by UNHCR age bracket; an absent bracket counts as zero."""

    a0_4: Count = Field(0, alias="0-4")
    a5_11: Count = Field(0, alias="5-11")
    a12_17: Count = Field(0, alias="12-17")
    a18_59: Count = Field(0, alias="18-59")
    a60_plus: Count = Field(0, alias="60+")

    def counts(self) -> tuple[int, ...]:
        """The five counts, youngest first."""
        return (self.a0_4, self.a5_11, self.a12_17, self.a18_59, self.a60_plus)


def _some_cell_positive() -> dict[str, Any]:
    """JSON Schema for 'total > 0': at least one sex/age cell is >= 1."""
    return {
        "anyOf": [
            {
                "required": [sex.value],
                # Types spelled out in each branch: ajv's strict mode (strictTypes) wants them.
                "properties": {
                    sex.value: {
                        "type": "object",
                        "required": [b],
                        "properties": {b: {"type": "integer", "minimum": 1}},
                    }
                },
            }
            for sex in Sex
            for b in AGE_BRACKETS
        ]
    }


class Beneficiaries(_Strict):
    """People reached, by sex and age bracket. The total must be above zero."""

    model_config = ConfigDict(json_schema_extra=_some_cell_positive())

    female: AgeCells = AgeCells()
    male: AgeCells = AgeCells()

    @model_validator(mode="after")
    def _not_empty(self) -> Beneficiaries:
        if self.total == 0:
            raise PydanticCustomError("empty_beneficiaries", "the sex/age cells add up to zero")
        return self

    @property
    def total(self) -> int:
        return sum(self.female.counts()) + sum(self.male.counts())

    def cells(self) -> dict[str, int]:
        """The ten cells as flat columns (``female_0_4`` ... ``male_60_plus``)."""
        # CELLS is female then male, youngest first: the order of the two counts() (a hot
        # path: once per event, and cell_name's enum and string work ten times cost more).
        return dict(zip(CELLS, (*self.female.counts(), *self.male.counts()), strict=True))


# --- payloads ------------------------------------------------------------------------------


class AssistancePayload(_Strict):
    category: AssistanceCategory
    quantity: float = Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False)
    unit: AssistanceUnit
    value_usd: float | None = Field(None, ge=0, le=MAX_USD, allow_inf_nan=False)


class IncomeGenerationPayload(_Strict):
    activity: IncomeActivity
    stage: IncomeStage
    amount_usd: float | None = Field(None, ge=0, le=MAX_USD, allow_inf_nan=False)


SgbvServices = Annotated[
    tuple[SgbvService, ...],
    AfterValidator(_distinct),
    Field(json_schema_extra={"uniqueItems": True}),
]


class SgbvCaseResponsePayload(_Strict):
    """A response to one reported incident: the GBVIMS incident type is required."""

    activity: Literal[SgbvActivity.CASE_RESPONSE]
    incident_type: IncidentType
    services: SgbvServices = ()


class SgbvOtherPayload(_Strict):
    """Referral, prevention or training: no incident type."""

    activity: Literal[SgbvActivity.REFERRAL, SgbvActivity.PREVENTION_SESSION, SgbvActivity.TRAINING]
    services: SgbvServices = ()


SgbvPayload = Annotated[SgbvCaseResponsePayload | SgbvOtherPayload, Field(discriminator="activity")]


class HivTrainingPayload(_Strict):
    audience: HivAudience
    topic: HivTopic
    sessions: int = Field(ge=1, le=MAX_SESSIONS)
    hours: float = Field(gt=0, le=MAX_HOURS, allow_inf_nan=False)


class DurableSolutionsPayload(_Strict):
    solution: Solution
    stage: SolutionStage
    cases: int = Field(ge=1, le=MAX_CASES)


def _curriculum_rule() -> dict[str, Any]:
    """JSON Schema for 'a curriculum module is for university or school audiences only'."""
    return {
        "if": {"required": ["curriculum"], "properties": {"curriculum": {"const": True}}},
        "then": {"properties": {"audience": {"enum": [a.value for a in CURRICULUM_AUDIENCES]}}},
    }


class ProtectionTrainingPayload(_Strict):
    """Training and awareness on refugee law and protection, counted in sessions and
    participants (the envelope's sex/age cells), not in beneficiaries of concern."""

    model_config = ConfigDict(json_schema_extra=_curriculum_rule())

    audience: ProtectionAudience
    topic: ProtectionTopic
    sessions: int = Field(ge=1, le=MAX_SESSIONS)
    hours: float = Field(gt=0, le=MAX_HOURS, allow_inf_nan=False)
    #: The module is part of a university's or school's curriculum (taught every term).
    curriculum: bool = False

    @field_validator("curriculum")
    @classmethod
    def _curriculum_audience(cls, value: bool, info: ValidationInfo) -> bool:
        audience = info.data.get("audience")
        if value and audience is not None and audience not in CURRICULUM_AUDIENCES:
            raise PydanticCustomError(
                "curriculum_not_allowed",
                "a curriculum module is for university lecturers, school teachers or students,"
                " not {audience}",
                {"audience": str(audience)},
            )
        return value


class RsdCaseworkPayload(_Strict):
    """Refugee status determination casework: where a partner's cases stand in a procedure."""

    procedure: RsdProcedure
    instance: RsdInstance
    stage: RsdStage
    cases: int = Field(ge=1, le=MAX_CASES)


# --- envelope ------------------------------------------------------------------------------


def _origin_rule() -> dict[str, Any]:
    """JSON Schema for 'origin required unless host community'."""
    return {
        "if": {
            "required": ["population_type"],
            "properties": {"population_type": {"not": {"const": "host_community"}}},
        },
        # present and not null (pydantic reads an explicit null as absent)
        "then": {"required": ["origin"], "properties": {"origin": {"type": "string"}}},
    }


class Envelope(_Strict):
    """Fields every event carries, whatever its kind."""

    model_config = ConfigDict(json_schema_extra=_origin_rule())

    # maxLength: Python's re (jsonschema) lets "$" match before a trailing newline.
    event_id: Annotated[str, Field(pattern=UUID_PATTERN, json_schema_extra={"maxLength": 36})]
    revision: int = Field(1, ge=1, le=MAX_REVISION)
    status: Status = Status.ACTIVE
    partner_id: Annotated[str, Field(pattern=PARTNER_PATTERN)]
    occurred_on: Annotated[date, Field(json_schema_extra={"pattern": _FROM_1990})]
    reported_at: Timestamp
    region: RegionCode
    population_type: PopulationType
    origin: OriginCode | None = None
    beneficiaries: Beneficiaries

    @model_validator(mode="after")
    def _cross_field_rules(self, info: ValidationInfo) -> Envelope:
        today = _today(info)
        if self.occurred_on < EARLIEST_DAY:
            raise PydanticCustomError(
                "implausible_date",
                "occurred_on {day} is before {earliest}",
                {"day": self.occurred_on.isoformat(), "earliest": EARLIEST_DAY.isoformat()},
            )
        if self.occurred_on > today:
            raise PydanticCustomError(
                "future_date",
                "occurred_on {day} is after today ({today})",
                {"day": self.occurred_on.isoformat(), "today": today.isoformat()},
            )
        if self.reported_at.date() > today + MAX_REPORT_AHEAD:
            raise PydanticCustomError(
                "future_timestamp",
                "reported_at is more than {days} days after today ({today})",
                {"days": MAX_REPORT_AHEAD.days, "today": today.isoformat()},
            )
        if self.reported_at.date() < self.occurred_on:
            raise PydanticCustomError(
                "reported_before_occurred", "reported_at is before occurred_on"
            )
        if self.origin is None and self.population_type is not PopulationType.HOST_COMMUNITY:
            raise PydanticCustomError(
                "origin_required", "origin is required unless population_type is host_community"
            )
        return self

    @property
    def key(self) -> str:
        """The idempotency key: the event id, lower-cased."""
        return self.event_id.lower()


#: A day has begun somewhere on Earth this many hours before it begins in UTC (UTC+14).
EARLIEST_OFFSET = timedelta(hours=14)


def latest_day(now: datetime) -> date:
    """The latest ``occurred_on`` allowed at instant ``now``: today somewhere on Earth.

    Judging "not in the future" in UTC would refuse same-day reports made before 05:00 in
    Kazakhstan (UTC+5); the rule is about fabricated dates, not hours.
    """
    return (now.astimezone(UTC) + EARLIEST_OFFSET).date()


def _today(info: ValidationInfo) -> date:
    context = info.context if isinstance(info.context, Mapping) else {}
    today = context.get("today")
    return today if isinstance(today, date) else latest_day(datetime.now(UTC))


def _ref_list_schema(schema: dict[str, Any]) -> None:
    """Pydantic writes a tuple's ``max_length`` as ``maxLength``, a string keyword that JSON
    Schema ignores on arrays (and ajv's strict mode refuses): say ``maxItems``."""
    schema["maxItems"] = schema.pop("maxLength", MAX_REFS)
    schema["uniqueItems"] = True


RefList = Annotated[
    tuple[Annotated[str, Field(pattern=REF_PATTERN, json_schema_extra={"maxLength": 64})], ...],
    AfterValidator(_distinct),
    Field(max_length=MAX_REFS, json_schema_extra=_ref_list_schema),
]


class AssistanceEvent(Envelope):
    kind: Literal[Kind.ASSISTANCE]
    payload: AssistancePayload
    beneficiary_refs: RefList = ()

    @property
    def indicator(self) -> str:
        return self.payload.category.value


class IncomeGenerationEvent(Envelope):
    kind: Literal[Kind.INCOME_GENERATION]
    payload: IncomeGenerationPayload

    @property
    def indicator(self) -> str:
        return f"{self.payload.activity.value}.{self.payload.stage.value}"


class SgbvEvent(Envelope):
    kind: Literal[Kind.SGBV]
    payload: SgbvPayload

    @property
    def indicator(self) -> str:
        p = self.payload
        if isinstance(p, SgbvCaseResponsePayload):
            return f"{p.activity.value}.{p.incident_type.value}"
        return p.activity.value


class HivTrainingEvent(Envelope):
    kind: Literal[Kind.HIV_TRAINING]
    payload: HivTrainingPayload

    @property
    def indicator(self) -> str:
        return f"{self.payload.audience.value}.{self.payload.topic.value}"


class DurableSolutionsEvent(Envelope):
    kind: Literal[Kind.DURABLE_SOLUTIONS]
    payload: DurableSolutionsPayload

    @property
    def indicator(self) -> str:
        return f"{self.payload.solution.value}.{self.payload.stage.value}"


class ProtectionTrainingEvent(Envelope):
    kind: Literal[Kind.PROTECTION_TRAINING]
    payload: ProtectionTrainingPayload

    @property
    def indicator(self) -> str:
        return f"{self.payload.audience.value}.{self.payload.topic.value}"


#: The people an RSD case concerns: asylum-seekers, and refugees (a mandate refugee's claim
#: before the state, a review of status). Never host communities, returnees or stateless people.
RSD_POPULATIONS: tuple[PopulationType, ...] = (PopulationType.ASYLUM_SEEKER, PopulationType.REFUGEE)


def _rsd_population(value: PopulationType) -> PopulationType:
    if value not in RSD_POPULATIONS:
        raise PydanticCustomError(
            "population_not_allowed",
            "rsd_casework concerns asylum_seeker or refugee, not {value}",
            {"value": value.value},
        )
    return value


RsdPopulation = Annotated[
    PopulationType,
    AfterValidator(_rsd_population),
    Field(json_schema_extra={"enum": [p.value for p in RSD_POPULATIONS]}),
]


class RsdCaseworkEvent(Envelope):
    kind: Literal[Kind.RSD_CASEWORK]
    population_type: RsdPopulation
    payload: RsdCaseworkPayload

    @property
    def indicator(self) -> str:
        p = self.payload
        return f"{p.procedure.value}.{p.instance.value}.{p.stage.value}"


Event = (
    AssistanceEvent
    | IncomeGenerationEvent
    | SgbvEvent
    | HivTrainingEvent
    | DurableSolutionsEvent
    | ProtectionTrainingEvent
    | RsdCaseworkEvent
)

#: The event model of each kind.
MODELS: dict[Kind, type[Event]] = {
    Kind.ASSISTANCE: AssistanceEvent,
    Kind.INCOME_GENERATION: IncomeGenerationEvent,
    Kind.SGBV: SgbvEvent,
    Kind.HIV_TRAINING: HivTrainingEvent,
    Kind.DURABLE_SOLUTIONS: DurableSolutionsEvent,
    Kind.PROTECTION_TRAINING: ProtectionTrainingEvent,
    Kind.RSD_CASEWORK: RsdCaseworkEvent,
}

AnyEvent = Annotated[Event, Field(discriminator="kind")]
_ANY: TypeAdapter[Event] = TypeAdapter(AnyEvent)
_TAGS = frozenset(a.value for a in SgbvActivity)


def parse_event(raw: bytes | str | Mapping[str, Any], *, today: date | None = None) -> Event:
    """Validate one event against contract v1 and return it typed.

    ``raw`` is the message value (UTF-8 JSON) or an already-decoded object. ``today`` is the
    latest allowed ``occurred_on`` (default: :func:`latest_day` of now).
    Raises :class:`InvalidEvent`.
    """
    if isinstance(raw, Mapping):
        raw = json.dumps(raw)
    else:
        repeated = duplicate_keys(raw)
        if repeated:
            raise InvalidEvent(repeated)
    try:
        return _ANY.validate_json(raw, context={"today": today} if today else None)
    except ValidationError as error:
        raise InvalidEvent(reasons_from_error(error, tags=_TAGS)) from None


class _Repeats(dict[str, Any]):
    """A decoded JSON object that repeated some of its keys (``repeated``)."""

    repeated: tuple[str, ...] = ()


def _pairs_hook(found: list[bool]) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        found.append(True)
        counts = Counter(key for key, _ in pairs)
        marked = _Repeats(obj)
        marked.repeated = tuple(key for key, n in counts.items() if n > 1)
        return marked

    return hook


def _repeats_in(value: Any, path: tuple[str, ...]) -> list[Reason]:
    out: list[Reason] = []
    if isinstance(value, dict):
        for key in getattr(value, "repeated", ()):
            out.append(
                Reason(
                    field=bounded(".".join((*path, key))),
                    code="duplicate_key",
                    message="a JSON object names this key more than once",
                )
            )
        for key, item in value.items():
            out += _repeats_in(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _repeats_in(item, (*path, str(index)))
    return out


def duplicate_keys(raw: bytes | str) -> list[Reason]:
    """A ``duplicate_key`` reason for every key a JSON object of ``raw`` repeats.

    JSON parsers disagree on a repeated key (first wins, last wins, error), so a message that
    repeats ``partner_id`` or ``kind`` could mean one thing to its sender and another to the hub
    (RFC 8259 section 4; I-JSON, RFC 7493, forbids it). The standard library's decoder reports
    every object's pairs through ``object_pairs_hook``; pydantic's parser keeps the last value
    silently. Not JSON at all: no reasons here (the contract's parser says why).
    """
    found: list[bool] = []
    try:
        tree = json.loads(raw, object_pairs_hook=_pairs_hook(found))
    except (ValueError, RecursionError, TypeError):
        return []
    return sorted(_repeats_in(tree, ()), key=lambda r: r.field) if found else []
