"""Messages that break the contract in exactly one known way each, as partner systems do.

Every invalid message goes to a topic of the registry (workers subscribe to those only) and
carries one reason code of ``schemas.reasons.CODES``: parsing it yields that code alone, or,
for the two attribution codes, it parses and ``check_attribution`` yields that code alone.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from producers.simulation.generate import Generator
from producers.simulation.records import Message, Outgoing, encode
from schemas.refdata import Partner
from schemas.topics import topic_for
from schemas.vocabulary import (
    AGE_BRACKETS,
    CURRICULUM_AUDIENCES,
    IncidentType,
    Kind,
    ProtectionAudience,
)

#: The codes the simulator produces, in the order it cycles through them.
CODES: tuple[str, ...] = (
    "invalid_json",
    "missing",
    "unknown_field",
    "invalid_value",
    "out_of_range",
    "bad_format",
    "unknown_region",
    "empty_beneficiaries",
    "refs_not_allowed",
    "incident_type_required",
    "incident_type_forbidden",
    "future_date",
    "curriculum_not_allowed",
    "population_not_allowed",
    "partner_mismatch",
    "kind_mismatch",
)

_REQUIRED = (
    "event_id",
    "partner_id",
    "kind",
    "occurred_on",
    "reported_at",
    "region",
    "population_type",
    "beneficiaries",
    "payload",
)
#: Personal data a partner's export should never carry (placeholder values).
_PERSONAL = (
    ("name", "Example Person"),
    ("full_name", "Example Person Examplova"),
    ("phone", "+7 701 000 00 00"),
    ("passport_no", "N00000000"),
    ("date_of_birth", "1970-01-01"),
    ("address", "1 Example Street, Almaty"),
)
#: The ISO 3166-2:KZ letter codes of 2006, which older partner systems still send.
_LEGACY_REGIONS = {
    "KZ-75": "KZ-ALA",
    "KZ-19": "KZ-ALM",
    "KZ-33": "KZ-ALM",
    "KZ-71": "KZ-AST",
    "KZ-61": "KZ-YUZ",
    "KZ-79": "KZ-YUZ",
    "KZ-63": "KZ-VOS",
    "KZ-10": "KZ-VOS",
    "KZ-31": "KZ-ZHA",
    "KZ-47": "KZ-MAN",
    "KZ-35": "KZ-KAR",
    "KZ-62": "KZ-KAR",
    "KZ-55": "KZ-PAV",
    "KZ-11": "KZ-AKM",
    "KZ-59": "KZ-SEV",
    "KZ-43": "KZ-KZY",
}
_WRONG_WORDS: dict[Kind, tuple[tuple[str, Any], ...]] = {
    Kind.ASSISTANCE: (("category", "fuel"), ("unit", "litre")),
    Kind.INCOME_GENERATION: (("stage", "dropped_out"), ("activity", "apprenticeship")),
    Kind.SGBV: (("activity", "awareness_raising"), ("services", ["counselling"])),
    Kind.HIV_TRAINING: (("audience", "prisoners"), ("topic", "condoms")),
    Kind.DURABLE_SOLUTIONS: (("solution", "relocation"), ("stage", "pending")),
    Kind.PROTECTION_TRAINING: (("audience", "military"), ("topic", "hiv_awareness")),
    Kind.RSD_CASEWORK: (("stage", "appealed"), ("procedure", "joint")),
}
_OUT_OF_RANGE: dict[Kind, tuple[tuple[str, Any], ...]] = {
    Kind.ASSISTANCE: (("quantity", 0), ("quantity", -10), ("value_usd", -25.0)),
    Kind.INCOME_GENERATION: (("amount_usd", -250),),
    Kind.SGBV: (),
    Kind.HIV_TRAINING: (("sessions", 0), ("hours", 0)),
    Kind.DURABLE_SOLUTIONS: (("cases", 0),),
    Kind.PROTECTION_TRAINING: (("sessions", 0), ("hours", 0)),
    Kind.RSD_CASEWORK: (("cases", 0),),
}
#: Audiences outside universities and schools: a curriculum module for them is refused.
_NOT_ACADEMIC = tuple(a.value for a in ProtectionAudience if a not in CURRICULUM_AUDIENCES)
#: Population types an RSD case never concerns (that still have an origin).
_NOT_SEEKING_ASYLUM = ("returnee", "stateless", "other_of_concern")


@dataclass(frozen=True)
class Route:
    """Where an invalid message is published and whose event of which kind it carries."""

    partner: str
    kind: Kind
    writes_as: str
    body_kind: Kind


def routes(code: str, partners: Mapping[str, Partner]) -> list[Route]:
    """Every way ``code`` can be produced on the registry's topics (empty: not possible)."""
    mandated = [(c, k) for c, p in sorted(partners.items()) for k in p.kinds]
    if code in ("incident_type_required", "incident_type_forbidden"):
        return [Route(c, k, c, k) for c, k in mandated if k is Kind.SGBV]
    if code == "curriculum_not_allowed":
        return [Route(c, k, c, k) for c, k in mandated if k is Kind.PROTECTION_TRAINING]
    if code == "population_not_allowed":
        return [Route(c, k, c, k) for c, k in mandated if k is Kind.RSD_CASEWORK]
    if code == "refs_not_allowed":
        return [Route(c, k, c, k) for c, k in mandated if k is not Kind.ASSISTANCE]
    if code == "partner_mismatch":  # spoofing: another registered partner's id, same kind
        return [
            Route(a, k, b, k)
            for a, k in mandated
            for b, other in sorted(partners.items())
            if b != a and k in other.kinds
        ]
    if code == "kind_mismatch":  # a kind the partner is not mandated for, on a mandated topic
        return [
            Route(c, k, c, other)
            for c, k in mandated
            for other in Kind
            if other not in partners[c].kinds
        ]
    return [Route(c, k, c, k) for c, k in mandated]


def _future(day: str) -> str:
    """The same day a century later: a year typed 2106 for 2006."""
    parsed = date.fromisoformat(day)
    try:
        return parsed.replace(year=parsed.year + 100).isoformat()
    except ValueError:  # 29 February in a century year that is not a leap year
        return parsed.replace(year=parsed.year + 100, day=28).isoformat()


def _invalid_json(body: dict[str, Any], rng: random.Random) -> bytes:
    raw = encode(body)
    variant = rng.randrange(3)
    if variant == 0:  # cut off in transit or by a field-length limit
        return raw[: rng.randint(len(raw) // 3, len(raw) - 2)]
    if variant == 1:  # a hand-edited file with a trailing comma
        return raw[:-1] + b",}"
    return repr(body).encode()  # a Python dict printed instead of serialised


def corrupt(code: str, body: dict[str, Any], rng: random.Random) -> bytes:
    """The bytes of ``body`` broken so that it fails with ``code`` and nothing else."""
    kind = Kind(body["kind"])
    payload = body["payload"]
    if code == "invalid_json":
        return _invalid_json(body, rng)
    if code == "missing":
        del body[rng.choice(_REQUIRED)]
    elif code == "unknown_field":
        field, value = rng.choice(_PERSONAL)
        body[field] = value
    elif code == "invalid_value":
        options = [("population_type", "migrant"), ("status", "deleted"), *_WRONG_WORDS[kind]]
        field, value = rng.choice(options)
        (body if field in ("population_type", "status") else payload)[field] = value
    elif code == "out_of_range":
        options = [("cell", None), ("revision", 0), *_OUT_OF_RANGE[kind]]
        field, value = rng.choice(options)
        if field == "cell":
            sex = rng.choice(("female", "male"))
            body["beneficiaries"][sex][rng.choice(AGE_BRACKETS)] = -rng.randint(1, 5)
        elif field == "revision":
            body["revision"] = 0
        else:
            payload[field] = value
    elif code == "bad_format":
        variant = rng.randrange(4)
        if variant == 0:
            body["event_id"] = f"EVT-{body['occurred_on'][:4]}-{rng.randint(1, 99_999):05d}"
        elif variant == 1:
            year, month, day = body["occurred_on"].split("-")
            body["occurred_on"] = f"{day}.{month}.{year}"
        elif variant == 2:
            body["reported_at"] = body["reported_at"][:19]  # no UTC offset
        else:
            body["reported_at"] = body["reported_at"].replace("T", " ")
    elif code == "unknown_region":
        body["region"] = _LEGACY_REGIONS.get(body["region"], "KZ-ALA")
    elif code == "empty_beneficiaries":
        body["beneficiaries"] = {sex: dict.fromkeys(AGE_BRACKETS, 0) for sex in ("female", "male")}
    elif code == "refs_not_allowed":
        body["beneficiary_refs"] = [
            f"{rng.getrandbits(256):064x}" for _ in range(rng.randint(1, 3))
        ]
    elif code == "incident_type_required":
        body["payload"] = {"activity": "case_response", "services": ["psychosocial"]}
    elif code == "incident_type_forbidden":
        activity = rng.choice(("referral", "prevention_session"))
        incident = rng.choice(list(IncidentType)).value
        body["payload"] = {"activity": activity, "incident_type": incident}
    elif code == "curriculum_not_allowed":  # a seminar for officials booked as a course
        payload.update(audience=rng.choice(_NOT_ACADEMIC), curriculum=True)
    elif code == "population_not_allowed":  # a returnee's citizenship case filed as RSD
        body["population_type"] = rng.choice(_NOT_SEEKING_ASYLUM)
    elif code == "future_date":
        body["occurred_on"] = _future(body["occurred_on"])
    elif code not in ("partner_mismatch", "kind_mismatch"):
        raise ValueError(f"the simulator cannot produce reason code {code!r}")
    return encode(body)


def invalid_messages(rng: random.Random, gen: Generator, count: int) -> list[Outgoing]:
    """``count`` invalid messages, cycling through the codes the registry makes possible."""
    options = {code: routes(code, gen.spec.partners) for code in CODES}
    usable = [code for code in CODES if options[code]]
    out: list[Outgoing] = []
    for index in range(count):
        code = usable[index % len(usable)]
        route = rng.choice(options[code])
        month = rng.randrange(len(gen.months))
        draft = gen.template(route.partner, route.body_kind, month, writes_as=route.writes_as)
        value = corrupt(code, draft.body, rng)
        topic = topic_for(route.partner, route.kind)
        key = str(draft.body.get("event_id", route.partner))  # the hub never relies on the key
        out.append(Outgoing(draft.at, Message(topic, key.encode(), value), code))
    return out
