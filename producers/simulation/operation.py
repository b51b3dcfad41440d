"""UNHCR's 2006 Kazakhstan operation as data: who lives where, and what partners do for them.

Sources of the figures: UNHCR's 2006 country operations plan and Global Report for Kazakhstan
(~13,700 Chechen refugees and asylum-seekers, ~1,500 Tajiks, ~670 Afghans, Chinese Uighurs,
~58,000 stateless or at-risk ethnic Kazakh returnees) and the planning targets in
``schemas/reference/targets.csv``. Regional shares and per-event sizes are modelling choices,
documented in ``docs/simulator.md``. Partner affinities name partners of the demo registry;
a partner not named gets ``Stream.others``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from schemas.vocabulary import Kind, PopulationType

REFUGEE = PopulationType.REFUGEE
ASYLUM = PopulationType.ASYLUM_SEEKER
STATELESS = PopulationType.STATELESS
RETURNEE = PopulationType.RETURNEE
HOST = PopulationType.HOST_COMMUNITY

#: Weights of the ten sex/age cells (``schemas.vocabulary.CELLS`` order: female 0-4 ... 60+,
#: then male). Families follow the age pyramid of the caseload; activities aimed at one audience
#: (adults, children, survivors, staff) have their own.
AGE_PROFILES: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        "refugee_family": (0.075, 0.095, 0.07, 0.235, 0.03, 0.08, 0.10, 0.07, 0.215, 0.03),
        "returnee_family": (0.06, 0.085, 0.07, 0.25, 0.055, 0.065, 0.09, 0.07, 0.215, 0.04),
        "host_family": (0.04, 0.07, 0.06, 0.27, 0.07, 0.04, 0.07, 0.06, 0.26, 0.06),
        "adults": (0, 0, 0.02, 0.44, 0.04, 0, 0, 0.02, 0.44, 0.04),
        "working_age": (0, 0, 0.04, 0.42, 0.01, 0, 0, 0.05, 0.47, 0.01),
        "children": (0.03, 0.22, 0.22, 0, 0, 0.03, 0.25, 0.25, 0, 0),
        "survivors": (0, 0.02, 0.12, 0.78, 0.04, 0, 0, 0.01, 0.03, 0),
        "community": (0, 0, 0.10, 0.50, 0.05, 0, 0, 0.07, 0.25, 0.03),
        "youth": (0, 0, 0.28, 0.22, 0, 0, 0, 0.28, 0.22, 0),
        "staff": (0, 0, 0, 0.58, 0.02, 0, 0, 0, 0.38, 0.02),
    }
)


@dataclass(frozen=True, eq=False)
class Group:
    """A population of concern: its type, origin, size in 2006, and where it lives."""

    name: str
    population_type: PopulationType
    origin: str | None
    size: int
    #: Share of the group living in each region; empty means "wherever partners work".
    regions: Mapping[str, float]
    ages: str
    #: Persons per registered case (household); refs are one per case.
    case_size: float
    #: Whether its people hold registration ids (host communities do not).
    registered: bool = True


_CHECHEN_REGIONS = {"KZ-75": 0.55, "KZ-19": 0.25, "KZ-71": 0.08, "KZ-61": 0.06, "KZ-79": 0.06}

GROUPS: tuple[Group, ...] = (
    # ~15,800 refugees and asylum-seekers, most in Almaty city and region.
    Group("chechen_refugees", REFUGEE, "RUS", 10_000, _CHECHEN_REGIONS, "refugee_family", 4.2),
    Group("chechen_asylum", ASYLUM, "RUS", 3_700, _CHECHEN_REGIONS, "refugee_family", 3.6),
    Group(
        "tajik_refugees",
        REFUGEE,
        "TJK",
        1_500,
        {"KZ-75": 0.65, "KZ-19": 0.25, "KZ-79": 0.10},
        "refugee_family",
        4.5,
    ),
    Group(
        "afghan_refugees",
        REFUGEE,
        "AFG",
        480,
        {"KZ-75": 0.85, "KZ-19": 0.10, "KZ-71": 0.05},
        "refugee_family",
        4.0,
    ),
    Group("afghan_asylum", ASYLUM, "AFG", 190, {"KZ-75": 0.9, "KZ-71": 0.1}, "adults", 2.5),
    Group("uighur_refugees", REFUGEE, "CHN", 60, {"KZ-75": 1.0}, "refugee_family", 2.5),
    Group("uighur_asylum", ASYLUM, "CHN", 150, {"KZ-75": 0.8, "KZ-19": 0.2}, "adults", 2.0),
    Group(
        "uzbek_asylum",
        ASYLUM,
        "UZB",
        120,
        {"KZ-75": 0.5, "KZ-79": 0.3, "KZ-61": 0.2},
        "adults",
        1.8,
    ),
    # ~58,000 ethnic Kazakh returnees (oralmans), stateless or at risk, in the south and east.
    Group(
        "returnees_uzb",
        RETURNEE,
        "UZB",
        17_000,
        {"KZ-61": 0.45, "KZ-79": 0.15, "KZ-31": 0.20, "KZ-19": 0.10, "KZ-43": 0.10},
        "returnee_family",
        5.0,
    ),
    Group(
        "returnees_mng",
        RETURNEE,
        "MNG",
        8_500,
        {"KZ-63": 0.45, "KZ-10": 0.40, "KZ-19": 0.15},
        "returnee_family",
        5.5,
    ),
    Group(
        "returnees_chn",
        RETURNEE,
        "CHN",
        6_500,
        {"KZ-19": 0.50, "KZ-63": 0.25, "KZ-10": 0.25},
        "returnee_family",
        5.0,
    ),
    Group(
        "returnees_tkm",
        RETURNEE,
        "TKM",
        5_000,
        {"KZ-47": 0.7, "KZ-61": 0.3},
        "returnee_family",
        5.5,
    ),
    Group(
        "returnees_irn",
        RETURNEE,
        "IRN",
        1_000,
        {"KZ-47": 0.6, "KZ-61": 0.4},
        "returnee_family",
        5.0,
    ),
    Group(
        "stateless_uzb",
        STATELESS,
        "UZB",
        8_000,
        {"KZ-61": 0.50, "KZ-79": 0.20, "KZ-31": 0.30},
        "returnee_family",
        4.5,
    ),
    Group(
        "stateless_chn",
        STATELESS,
        "CHN",
        3_500,
        {"KZ-19": 0.50, "KZ-63": 0.30, "KZ-10": 0.20},
        "returnee_family",
        4.5,
    ),
    Group(
        "stateless_mng",
        STATELESS,
        "MNG",
        2_500,
        {"KZ-63": 0.5, "KZ-10": 0.5},
        "returnee_family",
        4.5,
    ),
    Group(
        "stateless_tkm",
        STATELESS,
        "TKM",
        2_000,
        {"KZ-47": 0.8, "KZ-61": 0.2},
        "returnee_family",
        4.5,
    ),
    Group(
        "stateless_other",
        STATELESS,
        "XXA",
        4_000,
        {"KZ-61": 0.30, "KZ-31": 0.20, "KZ-19": 0.20, "KZ-63": 0.15, "KZ-47": 0.15},
        "returnee_family",
        4.0,
    ),
    # Host communities: no origin, no registration ids; reached mostly by trainings.
    Group("host_community", HOST, None, 6_000, {}, "host_family", 4.0, registered=False),
)

FLAT = (1.0,) * 12
#: More assistance in winter (heating, warm clothes, higher prices).
WINTER_HEAVY = (1.3, 1.3, 1.2, 1.0, 0.9, 0.85, 0.8, 0.85, 1.0, 1.1, 1.25, 1.35)
#: Winterization runs October to March only.
WINTER_ONLY = (1.0, 1.0, 0.5, 0, 0, 0, 0, 0, 0, 0.6, 1.0, 1.0)
#: School kits before the school year starts on 1 September.
SCHOOL_YEAR = (0.6, 0.6, 0.6, 0.6, 0.5, 0.2, 0.3, 1.6, 2.0, 0.8, 0.6, 0.6)
#: Returns travel in the warm months.
TRAVEL_SEASON = (0.2, 0.3, 0.6, 1.2, 1.6, 1.8, 1.8, 1.6, 1.2, 0.8, 0.3, 0.2)
#: 16 Days of Activism against gender-based violence (25 November - 10 December).
SIXTEEN_DAYS = (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.8, 1.6)
#: World AIDS Day (1 December).
AIDS_DAY = (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.5, 1.7)

#: Share of the non-budgeted base events by kind, and each kind's monthly rhythm.
KIND_WEIGHTS: Mapping[Kind, float] = MappingProxyType(
    {
        Kind.ASSISTANCE: 0.62,
        Kind.INCOME_GENERATION: 0.13,
        Kind.SGBV: 0.06,
        Kind.HIV_TRAINING: 0.07,
        Kind.DURABLE_SOLUTIONS: 0.05,
        # ~300 trainings and ~800 casework reports a year at full scale (docs/simulator.md).
        Kind.PROTECTION_TRAINING: 0.015,
        Kind.RSD_CASEWORK: 0.04,
    }
)
KIND_MONTHS: Mapping[Kind, tuple[float, ...]] = MappingProxyType({Kind.ASSISTANCE: WINTER_HEAVY})

#: The persons-per-event unit of a target measured in cases is a case of this many people.
CASE_PERSONS = (1, 6)


@dataclass(frozen=True, eq=False)
class Stream:
    """One kind of activity a partner reports: an assistance category, an income-generation
    step, an SGBV activity, an HIV-training audience, or a durable-solutions step.

    ``name`` is the payload's category / ``activity.stage`` / activity / audience /
    ``solution.stage``. A stream with a ``target`` (population type, origin or None) is
    budgeted: its events together reach the planning target of that indicator, scaled.
    """

    kind: Kind
    name: str
    weight: float
    persons: tuple[int, int]
    population: Mapping[PopulationType, float]
    ages: str | None = None
    months: tuple[float, ...] = FLAT
    #: Relative propensity by origin; an origin not named counts 1, or 0 when ``only_origins``.
    origins: Mapping[str, float] = field(default_factory=dict)
    only_origins: bool = False
    partners: Mapping[str, float] = field(default_factory=dict)
    others: float = 1.0
    target: tuple[PopulationType, str | None] | None = None
    #: Budgeted streams: mean persons (or cases) per event.
    unit_mean: float = 1.0


_NEEDY = {REFUGEE: 1.0, ASYLUM: 1.3, RETURNEE: 0.12, STATELESS: 0.15, HOST: 0.05}
_RELIEF = {"redcres": 3.0, "kandas_aid": 2.0, "winter_relief": 1.0, "kzlegal": 0.0}

ASSISTANCE: tuple[Stream, ...] = (
    Stream(
        Kind.ASSISTANCE,
        "legal_aid",
        0.20,
        (1, 5),
        {ASYLUM: 2.0, REFUGEE: 1.0, STATELESS: 0.5, RETURNEE: 0.15},
        ages="adults",
        partners={"kzlegal": 6.0, "kandas_aid": 2.0, "redcres": 0.3, "winter_relief": 0.0},
    ),
    Stream(Kind.ASSISTANCE, "food", 0.14, (5, 60), _NEEDY, partners=_RELIEF),
    Stream(
        Kind.ASSISTANCE,
        "cash",
        0.10,
        (3, 25),
        _NEEDY,
        partners={"redcres": 2.0, "kandas_aid": 2.0, "winter_relief": 0.5, "kzlegal": 0.3},
    ),
    Stream(Kind.ASSISTANCE, "non_food_items", 0.10, (4, 40), _NEEDY, partners=_RELIEF),
    Stream(
        Kind.ASSISTANCE,
        "shelter",
        0.05,
        (2, 12),
        {REFUGEE: 1.0, ASYLUM: 1.0, RETURNEE: 0.2, STATELESS: 0.2},
        partners={"redcres": 2.0, "kandas_aid": 2.0, "winter_relief": 0.5, "kzlegal": 0.0},
    ),
    Stream(
        Kind.ASSISTANCE,
        "health",
        0.13,
        (1, 20),
        {REFUGEE: 1.0, ASYLUM: 1.2, RETURNEE: 0.1, STATELESS: 0.15, HOST: 0.08},
        partners={"redcres": 3.0, "kandas_aid": 1.0, "winter_relief": 0.3, "kzlegal": 0.0},
    ),
    Stream(
        Kind.ASSISTANCE,
        "education",
        0.08,
        (5, 40),
        {REFUGEE: 1.0, ASYLUM: 0.8, RETURNEE: 0.1, STATELESS: 0.1},
        ages="children",
        months=SCHOOL_YEAR,
        partners={"redcres": 2.0, "kandas_aid": 1.0, "winter_relief": 0.0, "kzlegal": 0.0},
    ),
    Stream(
        Kind.ASSISTANCE,
        "winterization",
        0.20,
        (8, 60),
        {REFUGEE: 1.0, ASYLUM: 1.0, RETURNEE: 0.2, STATELESS: 0.25, HOST: 0.1},
        months=WINTER_ONLY,
        partners={"winter_relief": 4.0, "redcres": 2.0, "kandas_aid": 1.0, "kzlegal": 0.0},
    ),
)

_LEARNERS = {REFUGEE: 1.0, ASYLUM: 0.2, RETURNEE: 0.25, STATELESS: 0.15}
_TRAINERS = {"vocctr": 4.0, "redcres": 1.0, "kandas_aid": 1.0}
_LANGUAGE = {RETURNEE: 1.0, REFUGEE: 0.5, STATELESS: 0.3}

INCOME: tuple[Stream, ...] = (
    Stream(
        Kind.INCOME_GENERATION,
        "vocational_training.enrolled",
        0.20,
        (3, 15),
        _LEARNERS,
        ages="working_age",
        partners=_TRAINERS,
    ),
    Stream(
        Kind.INCOME_GENERATION,
        "vocational_training.completed",
        0.16,
        (2, 12),
        _LEARNERS,
        ages="working_age",
        partners=_TRAINERS,
    ),
    Stream(
        Kind.INCOME_GENERATION,
        "business_training.enrolled",
        0.07,
        (3, 12),
        _LEARNERS,
        ages="working_age",
        partners=_TRAINERS,
    ),
    Stream(
        Kind.INCOME_GENERATION,
        "business_training.completed",
        0.05,
        (2, 10),
        _LEARNERS,
        ages="working_age",
        partners=_TRAINERS,
    ),
    Stream(
        Kind.INCOME_GENERATION,
        "language_course.enrolled",
        0.10,
        (4, 20),
        _LANGUAGE,
        ages="working_age",
    ),
    Stream(
        Kind.INCOME_GENERATION,
        "language_course.completed",
        0.08,
        (3, 16),
        _LANGUAGE,
        ages="working_age",
    ),
    Stream(
        Kind.INCOME_GENERATION,
        "micro_grant.granted",
        0.14,
        (1, 3),
        {REFUGEE: 1.0, RETURNEE: 0.3, STATELESS: 0.1},
        ages="working_age",
        partners={"redcres": 2.0, "kandas_aid": 3.0, "vocctr": 0.0},
    ),
    Stream(
        Kind.INCOME_GENERATION,
        "job_placement.employed",
        0.10,
        (1, 4),
        {REFUGEE: 1.0, RETURNEE: 0.2, STATELESS: 0.1},
        ages="working_age",
        partners={"vocctr": 2.0, "redcres": 1.0, "kandas_aid": 1.0},
    ),
)

_SURVIVORS = {REFUGEE: 1.0, ASYLUM: 1.0, RETURNEE: 0.15, STATELESS: 0.15, HOST: 0.05}

SGBV: tuple[Stream, ...] = (
    Stream(Kind.SGBV, "case_response", 0.30, (1, 1), _SURVIVORS, ages="survivors"),
    Stream(Kind.SGBV, "referral", 0.25, (1, 2), _SURVIVORS, ages="survivors"),
    Stream(
        Kind.SGBV,
        "prevention_session",
        0.35,
        (8, 35),
        {REFUGEE: 1.0, ASYLUM: 1.0, RETURNEE: 0.1, STATELESS: 0.1, HOST: 0.3},
        ages="community",
        months=SIXTEEN_DAYS,
    ),
    Stream(Kind.SGBV, "training", 0.10, (6, 20), {HOST: 1.0, REFUGEE: 0.05}, ages="staff"),
)

_STAFF = {HOST: 1.0}

HIV: tuple[Stream, ...] = (
    Stream(
        Kind.HIV_TRAINING,
        "refugees",
        0.30,
        (8, 30),
        {REFUGEE: 1.0, ASYLUM: 1.0},
        ages="adults",
        months=AIDS_DAY,
        partners={"redcres": 3.0, "un_hiv": 1.0, "aidsctr": 1.0},
    ),
    Stream(
        Kind.HIV_TRAINING,
        "youth",
        0.20,
        (10, 30),
        {REFUGEE: 1.0, ASYLUM: 0.5, RETURNEE: 0.12, STATELESS: 0.1},
        ages="youth",
        months=AIDS_DAY,
        partners={"redcres": 2.0, "aidsctr": 1.0, "un_hiv": 1.0},
    ),
    Stream(
        Kind.HIV_TRAINING,
        "partner_staff",
        0.14,
        (6, 20),
        _STAFF,
        ages="staff",
        partners={"un_hiv": 3.0, "aidsctr": 1.0, "redcres": 0.5},
    ),
    Stream(
        Kind.HIV_TRAINING,
        "health_workers",
        0.14,
        (8, 25),
        _STAFF,
        ages="staff",
        partners={"aidsctr": 3.0, "un_hiv": 1.0, "redcres": 0.0},
    ),
    Stream(
        Kind.HIV_TRAINING,
        "government",
        0.10,
        (5, 20),
        _STAFF,
        ages="staff",
        partners={"un_hiv": 2.0, "aidsctr": 1.0, "redcres": 0.0},
    ),
    Stream(
        Kind.HIV_TRAINING,
        "teachers",
        0.12,
        (8, 25),
        _STAFF,
        ages="staff",
        partners={"aidsctr": 2.0, "redcres": 1.0, "un_hiv": 0.5},
    ),
)

_REPATRIATION = {"resettle": 2.0, "kzlegal": 2.0, "migration": 0.5, "kandas_aid": 0.0}
_RESETTLEMENT = {"resettle": 4.0, "kzlegal": 1.0, "migration": 0.2, "kandas_aid": 0.0}
_CITIZENSHIP = {"migration": 3.0, "kandas_aid": 2.0, "kzlegal": 1.0, "resettle": 0.0}
#: Afghans, Uighurs and Uzbeks are resettled far more often, per person, than Chechens.
_RESETTLED = {"AFG": 30.0, "CHN": 30.0, "UZB": 20.0, "RUS": 1.0}


def _departures(name: str, origin: str, unit_mean: float, partners: Mapping[str, float]) -> Stream:
    return Stream(
        Kind.DURABLE_SOLUTIONS,
        name,
        0.0,
        (1, 8),
        {REFUGEE: 1.0},
        months=TRAVEL_SEASON if name.startswith("voluntary_repatriation") else FLAT,
        origins={origin: 1.0},
        only_origins=True,
        partners=partners,
        target=(REFUGEE, origin),
        unit_mean=unit_mean,
    )


SOLUTIONS: tuple[Stream, ...] = (
    Stream(
        Kind.DURABLE_SOLUTIONS,
        "voluntary_repatriation.interest",
        0.25,
        (1, 8),
        {REFUGEE: 1.0, ASYLUM: 1.0},
        origins={"RUS": 1.0, "AFG": 1.0},
        only_origins=True,
        partners=_REPATRIATION,
    ),
    Stream(
        Kind.DURABLE_SOLUTIONS,
        "resettlement.submitted",
        0.18,
        (1, 8),
        {REFUGEE: 1.0, ASYLUM: 0.3},
        origins=_RESETTLED,
        only_origins=True,
        partners=_RESETTLEMENT,
    ),
    Stream(
        Kind.DURABLE_SOLUTIONS,
        "resettlement.accepted",
        0.12,
        (1, 8),
        {REFUGEE: 1.0},
        origins=_RESETTLED,
        only_origins=True,
        partners=_RESETTLEMENT,
    ),
    Stream(
        Kind.DURABLE_SOLUTIONS,
        "local_integration.submitted",
        0.12,
        (1, 6),
        {REFUGEE: 1.0},
        origins={"TJK": 1.0, "AFG": 0.5},
        only_origins=True,
        partners={"kzlegal": 2.0, "migration": 1.0, "resettle": 0.0},
    ),
    Stream(
        Kind.DURABLE_SOLUTIONS,
        "local_integration.completed",
        0.08,
        (1, 6),
        {REFUGEE: 1.0},
        origins={"TJK": 1.0},
        only_origins=True,
        partners={"kzlegal": 1.0, "migration": 2.0, "resettle": 0.0},
    ),
    Stream(
        Kind.DURABLE_SOLUTIONS,
        "naturalization.submitted",
        0.25,
        (1, 8),
        {RETURNEE: 1.0, STATELESS: 1.5},
        partners=_CITIZENSHIP,
    ),
    # Budgeted: together they reach the 2006 targets (scaled to the event count).
    _departures("voluntary_repatriation.departed", "RUS", 6.0, _REPATRIATION),
    _departures("voluntary_repatriation.departed", "AFG", 5.0, _REPATRIATION),
    _departures("resettlement.departed", "AFG", 1.4, _RESETTLEMENT),
    _departures("resettlement.departed", "CHN", 1.2, _RESETTLEMENT),
    _departures("resettlement.departed", "RUS", 1.3, _RESETTLEMENT),
    Stream(
        Kind.DURABLE_SOLUTIONS,
        "naturalization.completed",
        0.0,
        (1, 8),
        {RETURNEE: 1.0},
        partners=_CITIZENSHIP,
        target=(RETURNEE, None),
        unit_mean=5.0,
    ),
)

#: University and school modules follow the academic year (September to May).
ACADEMIC_YEAR = (1.2, 1.0, 1.2, 1.1, 0.8, 0.2, 0, 0.1, 1.3, 1.4, 1.3, 0.9)
#: World Refugee Day (20 June) brings awareness events for refugees and the public.
REFUGEE_DAY = (1, 1, 1, 1, 1, 1.8, 1, 1, 1, 1, 1, 1)

_LAWYERS = {"hr_bureau": 4.0, "uni_network": 0.0}
_ACADEMICS = {"uni_network": 4.0, "hr_bureau": 0.5}


def _training(
    audience: str,
    weight: float,
    persons: tuple[int, int],
    partners: Mapping[str, float],
    *,
    population: Mapping[PopulationType, float] | None = None,
    ages: str = "staff",
    months: tuple[float, ...] = FLAT,
) -> Stream:
    return Stream(
        Kind.PROTECTION_TRAINING,
        audience,
        weight,
        persons,
        population or _STAFF,
        ages=ages,
        months=months,
        partners=partners,
    )


PROTECTION_TRAINING: tuple[Stream, ...] = (
    # Officials who meet asylum-seekers first or decide on them: the plan's first audience.
    _training("border_guards", 0.14, (10, 30), _LAWYERS),
    _training("migration_officials", 0.12, (8, 25), _LAWYERS),
    _training("police", 0.10, (10, 30), _LAWYERS),
    _training("judiciary", 0.06, (6, 20), _LAWYERS),
    _training("prosecutors", 0.05, (6, 18), _LAWYERS),
    _training("government", 0.06, (6, 20), _LAWYERS),
    _training("parliament", 0.01, (5, 15), _LAWYERS),
    # Civil society: NGOs, the bar, the press.
    _training("ngo_staff", 0.08, (8, 25), _LAWYERS),
    _training("lawyers", 0.06, (6, 20), _LAWYERS),
    _training("media", 0.03, (6, 15), _LAWYERS, months=REFUGEE_DAY),
    # The network of university lecturers and school teachers, and their students.
    _training("university_lecturers", 0.10, (6, 20), _ACADEMICS, months=ACADEMIC_YEAR),
    _training("school_teachers", 0.07, (10, 30), _ACADEMICS, months=ACADEMIC_YEAR),
    _training(
        "students",
        0.07,
        (15, 45),
        _ACADEMICS,
        population={HOST: 1.0},
        ages="youth",
        months=ACADEMIC_YEAR,
    ),
    # Refugees and asylum-seekers learn their rights and the procedure.
    _training(
        "refugees",
        0.05,
        (8, 30),
        _LAWYERS,
        population={REFUGEE: 1.0, ASYLUM: 2.0},
        ages="adults",
        months=REFUGEE_DAY,
    ),
)

#: The legal NGO counsels and represents; the state's migration authority reports its own
#: procedure's registrations, interviews and decisions.
_COUNSEL = {"hr_bureau": 1.0, "migration": 0.0}
_STATE = {"migration": 1.0, "hr_bureau": 0.0}
_MANDATE = {"hr_bureau": 1.0, "migration": 0.0}
#: Who reaches each procedure: Chechens were not admitted to the state procedure in 2006 and
#: turned to UNHCR; Uzbeks (after Andijan, 2005), Afghans and Uighurs applied to both.
_STATE_ORIGINS = {"AFG": 3.0, "UZB": 4.0, "CHN": 3.0, "RUS": 0.005}
_MANDATE_ORIGINS = {"RUS": 1.0, "AFG": 3.0, "UZB": 4.0, "CHN": 4.0}
_SEEKERS = {ASYLUM: 1.0}


def _rsd(
    name: str,
    weight: float,
    partners: Mapping[str, float],
    origins: Mapping[str, float],
    population: Mapping[PopulationType, float] = _SEEKERS,
) -> Stream:
    return Stream(
        Kind.RSD_CASEWORK,
        name,
        weight,
        (1, 6),
        population,
        origins=origins,
        only_origins=True,
        partners=partners,
    )


RSD: tuple[Stream, ...] = (
    # Counselling reaches every asylum-seeker group, Chechens most.
    _rsd(
        "unhcr_mandate.first_instance.counselled", 0.22, _COUNSEL, {"RUS": 4.0, **_MANDATE_ORIGINS}
    ),
    _rsd("state.first_instance.counselled", 0.10, _COUNSEL, _STATE_ORIGINS),
    _rsd("state.first_instance.represented", 0.07, _COUNSEL, _STATE_ORIGINS),
    _rsd("unhcr_mandate.first_instance.represented", 0.03, _COUNSEL, _MANDATE_ORIGINS),
    # The state procedure, as the migration authority reports it.
    _rsd("state.first_instance.submitted", 0.10, _STATE, _STATE_ORIGINS),
    _rsd("state.first_instance.interviewed", 0.07, _STATE, _STATE_ORIGINS),
    _rsd("state.first_instance.recognized", 0.02, _STATE, {"AFG": 3.0, "CHN": 0.3, "UZB": 0.5}),
    _rsd("state.first_instance.rejected", 0.05, _STATE, _STATE_ORIGINS),
    _rsd("state.first_instance.closed", 0.01, _STATE, _STATE_ORIGINS),
    _rsd("state.appeal.submitted", 0.03, _COUNSEL, _STATE_ORIGINS),
    _rsd("state.appeal.rejected", 0.02, _STATE, _STATE_ORIGINS),
    _rsd("state.appeal.recognized", 0.005, _STATE, {"AFG": 1.0}),
    # UNHCR's mandate procedure, the cases the legal NGO represents in it.
    _rsd("unhcr_mandate.first_instance.submitted", 0.08, _MANDATE, _MANDATE_ORIGINS),
    _rsd("unhcr_mandate.first_instance.interviewed", 0.06, _MANDATE, _MANDATE_ORIGINS),
    _rsd("unhcr_mandate.first_instance.recognized", 0.04, _MANDATE, _MANDATE_ORIGINS),
    _rsd("unhcr_mandate.first_instance.rejected", 0.03, _MANDATE, _MANDATE_ORIGINS),
    _rsd("unhcr_mandate.first_instance.closed", 0.01, _MANDATE, _MANDATE_ORIGINS),
    _rsd("unhcr_mandate.appeal.submitted", 0.015, _MANDATE, _MANDATE_ORIGINS),
    _rsd("unhcr_mandate.appeal.recognized", 0.005, _MANDATE, _MANDATE_ORIGINS),
    # Mandate refugees whose cases the state procedure takes up (Tajiks, Afghans).
    _rsd(
        "state.first_instance.submitted",
        0.02,
        _COUNSEL,
        {"TJK": 1.0, "AFG": 1.0},
        population={REFUGEE: 1.0},
    ),
)

STREAMS: tuple[Stream, ...] = (
    ASSISTANCE + INCOME + SGBV + HIV + SOLUTIONS + PROTECTION_TRAINING + RSD
)

#: At full scale (this many base events) budgeted streams reach the year's targets exactly.
FULL_SCALE_EVENTS = 20_000
#: Budgeted events never take more than this share of the base events.
MAX_BUDGETED_SHARE = 0.5
