"""The contract's closed vocabularies (v1). Extend them here, never loosen them elsewhere."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """The activity kinds a partner can be mandated for; each has its own topic and payload."""

    ASSISTANCE = "assistance"
    INCOME_GENERATION = "income_generation"
    SGBV = "sgbv"
    HIV_TRAINING = "hiv_training"
    DURABLE_SOLUTIONS = "durable_solutions"


class Status(StrEnum):
    ACTIVE = "active"
    RETRACTED = "retracted"


class PopulationType(StrEnum):
    REFUGEE = "refugee"
    ASYLUM_SEEKER = "asylum_seeker"
    STATELESS = "stateless"
    RETURNEE = "returnee"
    HOST_COMMUNITY = "host_community"
    OTHER_OF_CONCERN = "other_of_concern"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


#: UNHCR's standard age brackets, in order, as they appear on the wire.
AGE_BRACKETS: tuple[str, ...] = ("0-4", "5-11", "12-17", "18-59", "60+")


def cell_name(sex: Sex | str, bracket: str) -> str:
    """Column name of one sex/age cell, e.g. ``female_0_4`` or ``male_60_plus``."""
    return f"{Sex(sex).value}_{bracket.replace('-', '_').replace('+', '_plus')}"


#: The ten sex/age cells as flat column names, female first, youngest first.
CELLS: tuple[str, ...] = tuple(cell_name(s, b) for s in Sex for b in AGE_BRACKETS)


class AssistanceCategory(StrEnum):
    CASH = "cash"
    FOOD = "food"
    NON_FOOD_ITEMS = "non_food_items"
    SHELTER = "shelter"
    HEALTH = "health"
    EDUCATION = "education"
    LEGAL_AID = "legal_aid"
    WINTERIZATION = "winterization"


class AssistanceUnit(StrEnum):
    KZT = "KZT"
    USD = "USD"
    KIT = "kit"
    KG = "kg"
    SESSION = "session"
    HOUSEHOLD = "household"


class IncomeActivity(StrEnum):
    VOCATIONAL_TRAINING = "vocational_training"
    BUSINESS_TRAINING = "business_training"
    LANGUAGE_COURSE = "language_course"
    MICRO_GRANT = "micro_grant"
    JOB_PLACEMENT = "job_placement"


class IncomeStage(StrEnum):
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    GRANTED = "granted"
    EMPLOYED = "employed"


class SgbvActivity(StrEnum):
    CASE_RESPONSE = "case_response"
    REFERRAL = "referral"
    PREVENTION_SESSION = "prevention_session"
    TRAINING = "training"


class IncidentType(StrEnum):
    """The six GBVIMS core incident types."""

    RAPE = "rape"
    SEXUAL_ASSAULT = "sexual_assault"
    PHYSICAL_ASSAULT = "physical_assault"
    FORCED_MARRIAGE = "forced_marriage"
    DENIAL_OF_RESOURCES = "denial_of_resources"
    PSYCHOLOGICAL_ABUSE = "psychological_abuse"


class SgbvService(StrEnum):
    MEDICAL = "medical"
    PSYCHOSOCIAL = "psychosocial"
    LEGAL = "legal"
    SAFETY = "safety"
    LIVELIHOOD = "livelihood"


class HivAudience(StrEnum):
    REFUGEES = "refugees"
    PARTNER_STAFF = "partner_staff"
    GOVERNMENT = "government"
    HEALTH_WORKERS = "health_workers"
    YOUTH = "youth"
    TEACHERS = "teachers"


class HivTopic(StrEnum):
    PREVENTION = "prevention"
    AWARENESS = "awareness"
    TESTING_REFERRAL = "testing_referral"
    STIGMA = "stigma"


class Solution(StrEnum):
    VOLUNTARY_REPATRIATION = "voluntary_repatriation"
    RESETTLEMENT = "resettlement"
    LOCAL_INTEGRATION = "local_integration"
    NATURALIZATION = "naturalization"


class SolutionStage(StrEnum):
    INTEREST = "interest"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DEPARTED = "departed"
    COMPLETED = "completed"
