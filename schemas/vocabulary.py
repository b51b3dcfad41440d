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
    PROTECTION_TRAINING = "protection_training"
    RSD_CASEWORK = "rsd_casework"


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


class ProtectionAudience(StrEnum):
    """Who a refugee-law or protection training was for (``docs/contract.md`` says why these)."""

    GOVERNMENT = "government"
    PARLIAMENT = "parliament"
    JUDICIARY = "judiciary"
    PROSECUTORS = "prosecutors"
    BORDER_GUARDS = "border_guards"
    POLICE = "police"
    MIGRATION_OFFICIALS = "migration_officials"
    LAWYERS = "lawyers"
    NGO_STAFF = "ngo_staff"
    UNIVERSITY_LECTURERS = "university_lecturers"
    SCHOOL_TEACHERS = "school_teachers"
    STUDENTS = "students"
    MEDIA = "media"
    REFUGEES = "refugees"


#: The audiences of universities and schools: the only ones a curriculum module is for.
CURRICULUM_AUDIENCES: tuple[ProtectionAudience, ...] = (
    ProtectionAudience.UNIVERSITY_LECTURERS,
    ProtectionAudience.SCHOOL_TEACHERS,
    ProtectionAudience.STUDENTS,
)


class ProtectionTopic(StrEnum):
    """The subject of a protection training module."""

    REFUGEE_LAW = "refugee_law"
    RSD_PROCEDURE = "rsd_procedure"
    NON_REFOULEMENT = "non_refoulement"
    STATELESSNESS = "statelessness"
    HUMAN_RIGHTS = "human_rights"
    WOMEN_AND_CHILDREN = "women_and_children"
    SGBV_PREVENTION = "sgbv_prevention"
    DURABLE_SOLUTIONS = "durable_solutions"


class RsdProcedure(StrEnum):
    """Who decides the claim: the state's asylum authority or UNHCR under its mandate."""

    STATE = "state"
    UNHCR_MANDATE = "unhcr_mandate"


class RsdInstance(StrEnum):
    """The level of the procedure: the first decision, or the appeal against it."""

    FIRST_INSTANCE = "first_instance"
    APPEAL = "appeal"


class RsdStage(StrEnum):
    """Where cases stand: the partner's legal help, the procedure's steps, and its outcomes."""

    COUNSELLED = "counselled"
    REPRESENTED = "represented"
    SUBMITTED = "submitted"
    INTERVIEWED = "interviewed"
    RECOGNIZED = "recognized"
    COMPLEMENTARY_PROTECTION = "complementary_protection"
    REJECTED = "rejected"
    CLOSED = "closed"


#: The stages that are decisions (UNHCR's asylum statistics count these four outcomes).
RSD_DECISIONS: tuple[RsdStage, ...] = (
    RsdStage.RECOGNIZED,
    RsdStage.COMPLEMENTARY_PROTECTION,
    RsdStage.REJECTED,
    RsdStage.CLOSED,
)
