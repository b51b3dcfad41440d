"""The payload of one event, by kind and stream, with 2006 prices and typical quantities."""

from __future__ import annotations

import random
from typing import Any

from producers.simulation.operation import Stream
from schemas.vocabulary import (
    CURRICULUM_AUDIENCES,
    HivTopic,
    IncidentType,
    Kind,
    ProtectionAudience,
    ProtectionTopic,
    SgbvService,
)

#: Average 2006 exchange rate, tenge per US dollar.
KZT_PER_USD = 126.1

_INCIDENTS = (
    (IncidentType.PHYSICAL_ASSAULT, 0.30),
    (IncidentType.PSYCHOLOGICAL_ABUSE, 0.22),
    (IncidentType.DENIAL_OF_RESOURCES, 0.15),
    (IncidentType.SEXUAL_ASSAULT, 0.12),
    (IncidentType.RAPE, 0.11),
    (IncidentType.FORCED_MARRIAGE, 0.10),
)
#: Chance of each service in a case response; medical care follows physical and sexual violence.
_SERVICE_CHANCE = {
    SgbvService.MEDICAL: 0.15,
    SgbvService.PSYCHOSOCIAL: 0.9,
    SgbvService.LEGAL: 0.35,
    SgbvService.SAFETY: 0.2,
    SgbvService.LIVELIHOOD: 0.1,
}
_PHYSICAL = {IncidentType.RAPE, IncidentType.SEXUAL_ASSAULT, IncidentType.PHYSICAL_ASSAULT}
_HIV_TOPICS = ((HivTopic.PREVENTION, 0.35), (HivTopic.AWARENESS, 0.30), (HivTopic.STIGMA, 0.2),
               (HivTopic.TESTING_REFERRAL, 0.15))  # fmt: skip


_T = ProtectionTopic
#: What each audience is taught: officials at the border the principle of non-refoulement and
#: access to the procedure, judges and lawyers the procedure, schools the basics.
_OFFICIALS = ((_T.NON_REFOULEMENT, 0.35), (_T.RSD_PROCEDURE, 0.3), (_T.REFUGEE_LAW, 0.25),
              (_T.HUMAN_RIGHTS, 0.1))  # fmt: skip
_LEGAL = ((_T.RSD_PROCEDURE, 0.35), (_T.REFUGEE_LAW, 0.3), (_T.STATELESSNESS, 0.15),
          (_T.NON_REFOULEMENT, 0.1), (_T.DURABLE_SOLUTIONS, 0.1))  # fmt: skip
_CIVIL = ((_T.REFUGEE_LAW, 0.3), (_T.STATELESSNESS, 0.2), (_T.WOMEN_AND_CHILDREN, 0.2),
          (_T.SGBV_PREVENTION, 0.15), (_T.HUMAN_RIGHTS, 0.15))  # fmt: skip
_TEACHING = ((_T.REFUGEE_LAW, 0.45), (_T.HUMAN_RIGHTS, 0.3), (_T.STATELESSNESS, 0.15),
             (_T.NON_REFOULEMENT, 0.1))  # fmt: skip
_RIGHTS = ((_T.RSD_PROCEDURE, 0.4), (_T.REFUGEE_LAW, 0.2), (_T.WOMEN_AND_CHILDREN, 0.2),
           (_T.SGBV_PREVENTION, 0.1), (_T.DURABLE_SOLUTIONS, 0.1))  # fmt: skip
_A = ProtectionAudience
_PROTECTION_TOPICS = {
    **dict.fromkeys((_A.BORDER_GUARDS, _A.POLICE, _A.MIGRATION_OFFICIALS), _OFFICIALS),
    **dict.fromkeys((_A.JUDICIARY, _A.PROSECUTORS, _A.LAWYERS, _A.GOVERNMENT), _LEGAL),
    **dict.fromkeys((_A.PARLIAMENT, _A.NGO_STAFF, _A.MEDIA), _CIVIL),
    **dict.fromkeys(CURRICULUM_AUDIENCES, _TEACHING),
    _A.REFUGEES: _RIGHTS,
}
#: Chance that a university or school module is part of a curriculum (not a one-off seminar).
CURRICULUM_SHARE = 0.6


def _pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def payload(
    stream: Stream, rng: random.Random, persons: int, households: int, cases: int | None = None
) -> dict[str, Any]:
    """The payload of one event of ``stream`` reaching ``persons`` in ``households``."""
    if stream.kind is Kind.ASSISTANCE:
        return _assistance(stream.name, rng, persons, households)
    if stream.kind is Kind.INCOME_GENERATION:
        activity, stage = stream.name.split(".")
        out: dict[str, Any] = {"activity": activity, "stage": stage}
        if activity == "micro_grant":
            out["amount_usd"] = persons * rng.randrange(300, 1501, 50)
        return out
    if stream.kind is Kind.SGBV:
        return _sgbv(stream.name, rng)
    if stream.kind is Kind.HIV_TRAINING:
        sessions = rng.choices((1, 2, 3, 4), weights=(0.5, 0.25, 0.15, 0.1))[0]
        hours = sessions * rng.choice((1.5, 2.0, 2.5, 3.0, 4.0))
        return {
            "audience": stream.name,
            "topic": _pick(rng, _HIV_TOPICS).value,
            "sessions": sessions,
            "hours": hours,
        }
    if stream.kind is Kind.PROTECTION_TRAINING:
        return _protection_training(ProtectionAudience(stream.name), rng)
    if stream.kind is Kind.RSD_CASEWORK:
        procedure, instance, stage = stream.name.split(".")
        return {"procedure": procedure, "instance": instance, "stage": stage, "cases": households}
    solution, stage = stream.name.split(".")
    return {"solution": solution, "stage": stage, "cases": cases or households}


def _assistance(category: str, rng: random.Random, persons: int, households: int) -> dict[str, Any]:
    out: dict[str, Any] = {"category": category}
    if category == "cash":
        amount = households * rng.choice((5_000, 7_500, 10_000, 15_000))
        out.update(quantity=amount, unit="KZT", value_usd=round(amount / KZT_PER_USD, 2))
    elif category == "food":
        kilos = persons * rng.randint(8, 15)
        out.update(quantity=kilos, unit="kg", value_usd=round(kilos * 0.55, 2))
    elif category in ("non_food_items", "winterization"):
        price = 25 if category == "non_food_items" else 60
        out.update(quantity=households, unit="kit", value_usd=households * price)
    elif category == "shelter":
        out.update(
            quantity=households, unit="household", value_usd=households * rng.randint(150, 400)
        )
    elif category == "education":
        out.update(quantity=persons, unit="kit", value_usd=persons * 12)
    else:  # health and legal_aid: consultations
        out.update(quantity=persons + rng.randint(0, persons), unit="session")
    return out


def _protection_training(audience: ProtectionAudience, rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {"audience": audience.value}
    out["topic"] = _pick(rng, _PROTECTION_TOPICS[audience]).value
    if audience in CURRICULUM_AUDIENCES and rng.random() < CURRICULUM_SHARE:
        sessions = rng.choice((4, 6, 8, 12, 16))  # a term's module, weekly or fortnightly
        out.update(sessions=sessions, hours=sessions * 2.0, curriculum=True)
    else:
        sessions = rng.choices((1, 2, 3), weights=(0.55, 0.3, 0.15))[0]
        out.update(sessions=sessions, hours=sessions * rng.choice((3.0, 4.0, 6.0)))
    return out


def _sgbv(activity: str, rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {"activity": activity}
    if activity == "case_response":
        incident = _pick(rng, _INCIDENTS)
        out["incident_type"] = incident.value
        services = [
            s.value
            for s, chance in _SERVICE_CHANCE.items()
            if rng.random()
            < (0.8 if s is SgbvService.MEDICAL and incident in _PHYSICAL else chance)
        ]
        out["services"] = services or [SgbvService.PSYCHOSOCIAL.value]
    elif activity == "referral":
        chosen = set(rng.sample(list(SgbvService), rng.randint(1, 2)))
        out["services"] = [s.value for s in SgbvService if s in chosen]
    return out
