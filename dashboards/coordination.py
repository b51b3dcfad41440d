"""The coordination overview and the dashboards of the kinds without special rules
(assistance, income generation, HIV training). SGBV figures never appear here: they leave the
warehouse only through the SGBV dashboard, suppressed."""

from __future__ import annotations

from dashboards.common import Context, aggregate_filter, population_variable
from dashboards.model import Dashboard, Panel, Text, Variable
from dashboards.panels import bars, by_name, geomap, stat, table, timeseries
from dashboards.sql import (
    AGGREGATES,
    GROUPS,
    NOT_SGBV,
    PEOPLE,
    TOTALS,
    age_order,
    cell_sums,
    cells_long,
    indicator_part,
    literal,
    sum_people,
)
from schemas.vocabulary import (
    AssistanceCategory,
    HivAudience,
    HivTopic,
    IncomeActivity,
    IncomeStage,
    Kind,
)

#: The kinds shown outside the SGBV dashboard.
OPEN_KINDS: tuple[Kind, ...] = tuple(k for k in Kind if k is not Kind.SGBV)


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _kind(kind: Kind) -> str:
    return f"kind = {literal(kind.value)}"


def _variables(ctx: Context) -> list[Variable]:
    return [ctx.region_variable(), ctx.partner_variable(), population_variable()]


def overview(ctx: Context) -> Dashboard:
    """Who does what, where, for whom: the coordination overview."""
    f = aggregate_filter(NOT_SGBV)
    kinds = ", ".join(f"sumIf(events, {_kind(k)}) AS {k.value}" for k in OPEN_KINDS)
    panels: list[Panel | Text] = [
        Text(
            "People reached are the beneficiaries partners reported, summed over their "
            "reports (a person served twice counts twice). SGBV activity is shown only on "
            "the SGBV dashboard, where small numbers are suppressed.",
            height=2,
        ),
        stat(
            "At a glance",
            f"SELECT {sum_people()} AS people, sum(events) AS activities,"
            " uniqExactIf(partner_id, events > 0) AS partners,"
            " uniqExactIf(region, events > 0) AS regions"
            f" FROM {TOTALS} WHERE {f}",
            {
                "people": "People reached",
                "activities": "Activities reported",
                "partners": "Partners reporting",
                "regions": "Regions covered",
            },
        ),
        table(
            "Who does what where (3W)",
            f"SELECT {ctx.partner()} AS partner, {ctx.region()} AS region_name, {kinds},"
            f" {sum_people()} AS people FROM {TOTALS} WHERE {f}"
            " GROUP BY partner_id, region HAVING sum(events) > 0 ORDER BY partner, region_name",
            {
                "partner": "Partner",
                "region_name": "Region",
                **{k.value: f"{_label(k.value)} (activities)" for k in OPEN_KINDS},
                "people": "People reached",
            },
            width=14,
            height=12,
            description="Activities reported per partner, region and kind in the period.",
        ),
        geomap(
            "People reached by region",
            "SELECT r.code AS region_code, r.name AS region_name, r.latitude AS latitude,"
            " r.longitude AS longitude, t.people AS people"
            f" FROM (SELECT region, {sum_people()} AS people FROM {TOTALS} WHERE {f}"
            " GROUP BY region) AS t"
            f" INNER JOIN {ctx.regions_table()} AS r ON r.code = t.region"
            " WHERE t.people > 0 ORDER BY people DESC",
            size="people",
            label="region_name",
            width=10,
            height=12,
            description="Circles at each region's centre (reference data), sized by people.",
        ),
        bars(
            "People reached by population type",
            f"SELECT population_type, {sum_people()} AS people FROM {TOTALS} WHERE {f}"
            " GROUP BY population_type HAVING people > 0 ORDER BY people DESC",
            "population_type",
            {"people": "People reached"},
            width=8,
        ),
        bars(
            "People reached by country of origin",
            f"SELECT {ctx.origin()} AS origin_name, {sum_people()} AS people"
            f" FROM {TOTALS} WHERE {f} GROUP BY origin HAVING people > 0"
            " ORDER BY people DESC",
            "origin_name",
            {"people": "People reached"},
            width=8,
        ),
        bars(
            "Sex and age (UNHCR brackets)",
            "SELECT age, -sumIf(people, sex = 'female') AS female,"
            " sumIf(people, sex = 'male') AS male"
            f" FROM ({cells_long(cell_sums(TOTALS, f))})"
            f" GROUP BY age ORDER BY {age_order()} DESC",
            "age",
            {"female": "Female (left)", "male": "Male"},
            width=8,
            stacked=True,
            description="A pyramid: women and girls to the left, men and boys to the right.",
            overrides=[by_name("female", color={"fixedColor": "purple", "mode": "fixed"})],
        ),
        timeseries(
            "People reached by month and kind",
            "SELECT toStartOfMonth(day) AS time, "
            + ", ".join(f"{sum_people(_kind(k))} AS {k.value}" for k in OPEN_KINDS)
            + f" FROM {TOTALS} WHERE {f} GROUP BY time ORDER BY time",
            {k.value: _label(k.value) for k in OPEN_KINDS},
            bars_style=True,
        ),
    ]
    return Dashboard(
        uid="partnerhub-overview",
        title="Partner Hub: coordination overview",
        description="Who does what, where, for whom: partners x regions x kinds, people "
        "reached by region, population type, origin, sex and age, and the trend.",
        panels=panels,
        variables=_variables(ctx),
        tags=("coordination",),
    )


def assistance(ctx: Context) -> Dashboard:
    """Material assistance: what was given, where, by whom, at what value."""
    f = aggregate_filter(_kind(Kind.ASSISTANCE))
    categories = [c.value for c in AssistanceCategory]
    panels: list[Panel | Text] = [
        stat(
            "Assistance at a glance",
            f"SELECT {sum_people()} AS people, sum(value_usd) AS value,"
            " sum(events) AS distributions, uniqExactIf(partner_id, events > 0) AS partners"
            f" FROM {AGGREGATES} WHERE {f}",
            {
                "people": "People assisted",
                "value": "Value (USD)",
                "distributions": "Distributions",
                "partners": "Partners",
            },
        ),
        bars(
            "People assisted by category",
            f"SELECT indicator AS category, {sum_people()} AS people FROM {AGGREGATES}"
            f" WHERE {f} GROUP BY indicator HAVING people > 0 ORDER BY people DESC",
            "category",
            {"people": "People assisted"},
        ),
        bars(
            "Value by category (USD)",
            f"SELECT indicator AS category, sum(value_usd) AS value FROM {AGGREGATES}"
            f" WHERE {f} GROUP BY indicator HAVING value > 0 ORDER BY value DESC",
            "category",
            {"value": "Value (USD)"},
            unit="currencyUSD",
        ),
        timeseries(
            "Value by month and category (USD)",
            "SELECT toStartOfMonth(day) AS time, "
            + ", ".join(f"sumIf(value_usd, indicator = {literal(c)}) AS {c}" for c in categories)
            + f" FROM {AGGREGATES} WHERE {f} GROUP BY time ORDER BY time",
            {c: _label(c) for c in categories},
            unit="currencyUSD",
            bars_style=True,
        ),
        table(
            "By region",
            f"SELECT {ctx.region()} AS region_name, {sum_people()} AS people,"
            f" sum(value_usd) AS value, sum(events) AS distributions FROM {AGGREGATES}"
            f" WHERE {f} GROUP BY region HAVING distributions > 0 ORDER BY people DESC",
            {
                "region_name": "Region",
                "people": "People assisted",
                "value": "Value (USD)",
                "distributions": "Distributions",
            },
            width=12,
            overrides=[by_name("value", unit="currencyUSD")],
        ),
        table(
            "By partner",
            f"SELECT {ctx.partner()} AS partner, {sum_people()} AS people,"
            " sum(value_usd) AS value, sum(events) AS distributions,"
            " arrayStringConcat(arraySort(groupUniqArrayIf(indicator, events > 0)), ', ')"
            f" AS categories FROM {AGGREGATES} WHERE {f}"
            " GROUP BY partner_id HAVING distributions > 0 ORDER BY people DESC",
            {
                "partner": "Partner",
                "people": "People assisted",
                "value": "Value (USD)",
                "distributions": "Distributions",
                "categories": "Categories",
            },
            width=12,
            overrides=[by_name("value", unit="currencyUSD")],
        ),
    ]
    return Dashboard(
        uid="partnerhub-assistance",
        title="Partner Hub: material assistance",
        description="Assistance by category, value, region and partner.",
        panels=panels,
        variables=_variables(ctx),
        tags=("activity",),
    )


def income_generation(ctx: Context) -> Dashboard:
    """Income generation as a funnel: enrolled, completed, granted, employed."""
    f = aggregate_filter(_kind(Kind.INCOME_GENERATION))
    stages = [s.value for s in IncomeStage]
    stage_list = "[" + ", ".join(literal(s) for s in stages) + "]"
    by_stage = ", ".join(
        f"{sum_people(f'{indicator_part(2)} = {literal(s)}')} AS {s}" for s in stages
    )
    panels: list[Panel | Text] = [
        stat(
            "Income generation at a glance",
            f"SELECT {by_stage}, sumIf(value_usd, {indicator_part(2)} = 'granted') AS grants_usd"
            f" FROM {AGGREGATES} WHERE {f}",
            {**{s: f"People {s}" for s in stages}, "grants_usd": "Grants (USD)"},
        ),
        bars(
            "Funnel: people by stage",
            "SELECT stage, coalesce(t.people, 0) AS people"
            f" FROM (SELECT arrayJoin({stage_list}) AS stage) AS s LEFT JOIN"
            f" (SELECT {indicator_part(2)} AS stage, {sum_people()} AS people FROM {AGGREGATES}"
            f" WHERE {f} GROUP BY stage) AS t USING (stage)"
            f" ORDER BY indexOf({stage_list}, stage)",
            "stage",
            {"people": "People"},
            description="Each stage counts the people partners reported at that stage.",
        ),
        table(
            "Activities by stage",
            f"SELECT {indicator_part(1)} AS activity, {by_stage} FROM {AGGREGATES} WHERE {f}"
            " GROUP BY activity HAVING sum(events) > 0 ORDER BY activity",
            {"activity": "Activity", **{s: _label(s) for s in stages}},
            width=12,
            height=8,
            description="Activities: " + ", ".join(_label(a.value) for a in IncomeActivity),
        ),
        timeseries(
            "People by month and stage",
            f"SELECT toStartOfMonth(day) AS time, {by_stage} FROM {AGGREGATES} WHERE {f}"
            " GROUP BY time ORDER BY time",
            {s: _label(s) for s in stages},
            bars_style=True,
        ),
        table(
            "By region and partner",
            f"SELECT {ctx.region()} AS region_name, {ctx.partner()} AS partner, {by_stage}"
            f" FROM {AGGREGATES} WHERE {f} GROUP BY region, partner_id"
            " HAVING sum(events) > 0 ORDER BY region_name, partner",
            {"region_name": "Region", "partner": "Partner", **{s: _label(s) for s in stages}},
        ),
    ]
    return Dashboard(
        uid="partnerhub-income-generation",
        title="Partner Hub: income generation",
        description="Vocational and business training, language courses, micro-grants and "
        "job placements as a funnel from enrolment to employment.",
        panels=panels,
        variables=_variables(ctx),
        tags=("activity",),
    )


def hiv_training(ctx: Context) -> Dashboard:
    """HIV training: sessions and participants by audience and topic."""
    f = aggregate_filter(_kind(Kind.HIV_TRAINING))
    topics = [t.value for t in HivTopic]
    panels: list[Panel | Text] = [
        stat(
            "HIV training at a glance",
            f"SELECT sum(sessions) AS sessions_held, sum(hours) AS hours_taught,"
            f" {sum_people()} AS participants, sum(events) AS trainings"
            f" FROM {AGGREGATES} WHERE {f}",
            {
                "sessions_held": "Sessions",
                "hours_taught": "Hours",
                "participants": "Participants",
                "trainings": "Trainings",
            },
        ),
        bars(
            "By audience",
            "SELECT indicator_group AS audience, sum(sessions) AS sessions_held,"
            f" {sum_people()} AS participants FROM {GROUPS} WHERE {f}"
            " GROUP BY audience HAVING sum(events) > 0 ORDER BY participants DESC",
            "audience",
            {"sessions_held": "Sessions", "participants": "Participants"},
            description="Audiences: " + ", ".join(_label(a.value) for a in HivAudience),
        ),
        bars(
            "By topic",
            f"SELECT {indicator_part(2)} AS topic, sum(sessions) AS sessions_held,"
            f" {sum_people()} AS participants FROM {AGGREGATES} WHERE {f}"
            " GROUP BY topic HAVING sum(events) > 0 ORDER BY participants DESC",
            "topic",
            {"sessions_held": "Sessions", "participants": "Participants"},
        ),
        table(
            "Sessions by audience and topic",
            f"SELECT {indicator_part(1)} AS audience, "
            + ", ".join(
                f"sumIf(sessions, {indicator_part(2)} = {literal(t)}) AS {t}" for t in topics
            )
            + f", sum(sessions) AS all_topics FROM {AGGREGATES} WHERE {f}"
            " GROUP BY audience HAVING sum(events) > 0 ORDER BY audience",
            {"audience": "Audience", **{t: _label(t) for t in topics}, "all_topics": "Total"},
            width=12,
            height=8,
        ),
        timeseries(
            "Sessions and participants by month",
            f"SELECT toStartOfMonth(day) AS time, sum(sessions) AS sessions_held,"
            f" sum({PEOPLE}) AS participants FROM {AGGREGATES} WHERE {f}"
            " GROUP BY time ORDER BY time",
            {"sessions_held": "Sessions", "participants": "Participants"},
            width=12,
            bars_style=True,
        ),
    ]
    return Dashboard(
        uid="partnerhub-hiv-training",
        title="Partner Hub: HIV training",
        description="HIV training sessions, hours and participants by audience and topic.",
        panels=panels,
        variables=_variables(ctx),
        tags=("activity",),
    )
