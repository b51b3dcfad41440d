"""Protection: refugee-law training by audience and region, and the RSD pipeline by stage and
origin, with the year's targets of both kinds."""

from __future__ import annotations

from dashboards.common import Context, aggregate_filter, population_variable
from dashboards.model import Dashboard, Panel, Text, Variable
from dashboards.panels import bars, by_name, stat, table, timeseries
from dashboards.solutions import progress_sql
from dashboards.sql import (
    AGGREGATES,
    GROUPS,
    PEOPLE,
    TOTALS,
    indicator_part,
    literal,
    sum_people,
)
from schemas.vocabulary import (
    RSD_DECISIONS,
    Kind,
    ProtectionAudience,
    RsdInstance,
    RsdProcedure,
    RsdStage,
)

UID = "partnerhub-protection"
_TRAINING = aggregate_filter(f"kind = {literal(Kind.PROTECTION_TRAINING.value)}")
_RSD = aggregate_filter(f"kind = {literal(Kind.RSD_CASEWORK.value)}")
_STAGES = [s.value for s in RsdStage]


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _stage_order(column: str) -> str:
    """SQL: the pipeline position of a stage (counselled first, closed last)."""
    stages = ", ".join(literal(s) for s in _STAGES)
    return f"indexOf([{stages}], {column})"


def _training_panels(ctx: Context) -> list[Panel | Text]:
    return [
        stat(
            "Protection training at a glance",
            f"SELECT sum(events) AS trainings, sum(sessions) AS sessions_held,"
            f" sum(curriculum_sessions) AS in_curricula, sum(hours) AS hours_taught,"
            f" {sum_people()} AS participants, uniqExactIf(region, events > 0) AS regions"
            f" FROM {TOTALS} WHERE {_TRAINING}",
            {
                "trainings": "Trainings",
                "sessions_held": "Sessions",
                "in_curricula": "Sessions in curricula",
                "hours_taught": "Hours",
                "participants": "Participants",
                "regions": "Regions",
            },
        ),
        bars(
            "Participants by audience",
            "SELECT indicator_group AS audience, sum(sessions) AS sessions_held,"
            f" {sum_people()} AS participants FROM {GROUPS} WHERE {_TRAINING}"
            " GROUP BY audience HAVING sum(events) > 0 ORDER BY participants DESC",
            "audience",
            {"sessions_held": "Sessions", "participants": "Participants"},
            description="Audiences: " + ", ".join(_label(a.value) for a in ProtectionAudience),
        ),
        table(
            "Trainings by audience and region",
            f"SELECT indicator_group AS audience, {ctx.region()} AS region_name,"
            " sum(events) AS trainings, sum(sessions) AS sessions_held,"
            f" sum(curriculum_sessions) AS in_curricula, {sum_people()} AS participants"
            f" FROM {GROUPS} WHERE {_TRAINING}"
            " GROUP BY audience, region_name HAVING sum(events) > 0"
            " ORDER BY audience, participants DESC",
            {
                "audience": "Audience",
                "region_name": "Region",
                "trainings": "Trainings",
                "sessions_held": "Sessions",
                "in_curricula": "In curricula",
                "participants": "Participants",
            },
            width=12,
            height=9,
        ),
    ]


def _rsd_panels(ctx: Context) -> list[Panel | Text]:
    columns = [(p.value, i.value) for p in RsdProcedure for i in RsdInstance]
    by_column = ", ".join(
        f"sumIf(cases, {indicator_part(1)} = {literal(p)}"
        f" AND {indicator_part(2)} = {literal(i)}) AS {p}_{i}"
        for p, i in columns
    )
    by_stage = ", ".join(
        f"sumIf(cases, {indicator_part(3)} = {literal(s)}) AS {s}" for s in _STAGES
    )
    merits = ", ".join(literal(s.value) for s in RSD_DECISIONS if s is not RsdStage.CLOSED)
    decided = ", ".join(literal(s.value) for s in RSD_DECISIONS)
    return [
        table(
            "RSD pipeline by stage",
            f"SELECT {indicator_part(3)} AS stage, {by_column}, sum(cases) AS all_cases,"
            f" sum({PEOPLE}) AS persons FROM {AGGREGATES} WHERE {_RSD}"
            f" GROUP BY stage HAVING sum(events) > 0 ORDER BY {_stage_order('stage')}",
            {
                "stage": "Stage",
                **{f"{p}_{i}": _label(f"{p} {i}") for p, i in columns},
                "all_cases": "Cases",
                "persons": "Persons",
            },
            width=12,
            height=9,
            description="Cases at each stage, by procedure (state or UNHCR mandate) and"
            " instance (first instance or appeal).",
        ),
        table(
            "RSD pipeline by origin",
            f"SELECT {ctx.origin()} AS origin_name, {by_stage}, sum(cases) AS all_cases,"
            f" round(100 * sumIf(cases, {indicator_part(3)} = 'recognized')"
            f" / nullIf(sumIf(cases, {indicator_part(3)} IN ({merits})), 0), 1) AS recognition_rate"
            f" FROM {AGGREGATES} WHERE {_RSD}"
            " GROUP BY origin_name HAVING sum(events) > 0 ORDER BY all_cases DESC",
            {
                "origin_name": "Origin",
                **{s: _label(s) for s in _STAGES},
                "all_cases": "Cases",
                "recognition_rate": "Recognition rate (%)",
            },
            height=8,
            description="Cases by country of origin and stage. Recognition rate: recognized"
            " over decisions on the merits (recognized, complementary protection, rejected),"
            " as UNHCR computes it; closed files are not decisions on the merits.",
            overrides=[by_name("recognition_rate", unit="percent")],
        ),
        timeseries(
            "RSD cases submitted and decided, by month",
            f"SELECT toStartOfMonth(day) AS time,"
            f" sumIf(cases, {indicator_part(3)} = 'submitted') AS submitted,"
            f" sumIf(cases, {indicator_part(3)} IN ({decided})) AS decided"
            f" FROM {AGGREGATES} WHERE {_RSD} GROUP BY time ORDER BY time",
            {"submitted": "Submitted", "decided": "Decided or closed"},
            bars_style=True,
        ),
    ]


def _progress_panel(ctx: Context) -> Panel:
    progress = " UNION ALL ".join(
        f"SELECT {literal(k.value)} AS kind, * FROM ({progress_sql(ctx, ctx.targets, k)})"
        for k in (Kind.PROTECTION_TRAINING, Kind.RSD_CASEWORK)
    )
    return table(
        "Targets and achievements",
        f"SELECT * FROM ({progress}) ORDER BY kind, target_name",
        {
            "kind": "Kind",
            "target_name": "Target",
            "measure": "Measure",
            "target": "Target",
            "achieved": "Achieved",
            "progress": "Achieved (%)",
        },
        height=7,
        overrides=[by_name("progress", unit="percent")],
    )


def protection(ctx: Context) -> Dashboard:
    """Protection training and RSD casework: the plan's protection goals for 2006."""
    kinds = (Kind.PROTECTION_TRAINING, Kind.RSD_CASEWORK)
    years = sorted({t.year for t in ctx.targets if t.kind in kinds})
    panels: list[Panel | Text] = [
        Text(
            "Protection training counts sessions and participants (officials, lecturers,"
            " students, refugees), not beneficiaries of concern. RSD casework counts cases"
            " and the persons in them. Targets are the plan year's chosen above.",
            height=2,
        ),
        *_training_panels(ctx),
        *_rsd_panels(ctx),
        _progress_panel(ctx),
    ]
    year = Variable(
        name="year",
        label="Plan year",
        kind="custom",
        query=",".join(str(y) for y in years),
        multi=False,
        include_all=False,
        default=str(years[-1]) if years else None,
    )
    return Dashboard(
        uid=UID,
        title="Partner Hub: protection",
        description="Refugee-law training by audience and region; the RSD pipeline by stage,"
        " procedure and origin.",
        panels=panels,
        variables=[year, ctx.region_variable(), ctx.partner_variable(), population_variable()],
        tags=("activity", "protection", "targets"),
    )
