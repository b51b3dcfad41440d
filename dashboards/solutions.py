"""Durable solutions against the plan's targets."""

from __future__ import annotations

from collections.abc import Sequence

from dashboards.common import Context, aggregate_filter, population_variable
from dashboards.model import Dashboard, Panel, Text, Variable
from dashboards.panels import by_name, gauges, table, timeseries
from dashboards.sql import (
    AGGREGATES,
    GROUP_MONTHS,
    MONTHS,
    PEOPLE,
    literal,
    targets_table,
    variable_text,
)
from schemas.refdata import Target
from schemas.vocabulary import Kind, Solution, SolutionStage
from warehouse.tables import first_part

#: What each target measure counts in the aggregates.
MEASURE_SQL = {
    "persons": f"({PEOPLE})",
    "cases": "cases",
    "sessions": "sessions",
    "events": "events",
}


def _matches(target: str, actual: str) -> str:
    """SQL: an aggregate's ``actual`` indicator counts towards a target's ``target``
    indicator, part by part as ``rollups.targets.indicator_matches`` decides (``*`` is every
    indicator of the kind; a ``*`` part matches any value there: ``a.*``, ``a.*.c``)."""
    want, have = f"splitByChar('.', {target})", f"splitByChar('.', {actual})"
    return (
        f"({target} = '*' OR (length({want}) <= length({have})"
        f" AND arrayAll((w, h) -> w = '*' OR w = h, {want},"
        f" arraySlice({have}, 1, length({want})))))"
    )


def _first_part_only(pattern: str) -> bool:
    """Whether a target's indicator ``pattern`` names no part but its first (``*``, ``a``,
    ``a.*``, ``a.*.*``)."""
    return all(part == "*" for part in pattern.split(".")[1:])


#: The columns a target may leave empty ("all"), besides its kind and indicator.
_GROUP_COLUMNS = ("population_type", "origin", "region")


def progress_sql(ctx: Context, targets: Sequence[Target], kind: Kind) -> str:
    """Each target of ``kind`` for the year in ``$year``: its label, measure, target, what
    was achieved in that year (an empty population type, origin or region means all) and
    the share achieved. Every target gets a row, also when nothing counts towards it."""
    measure = (
        "multiIf("
        + ", ".join(f"t.measure = {literal(m)}, a.total_{m}" for m in MEASURE_SQL)
        + ", 0)"
    )
    sums = ", ".join(f"sum({sql}) AS total_{m}" for m, sql in MEASURE_SQL.items())
    zeros = ", ".join(f"0 AS total_{m}" for m in MEASURE_SQL)
    # Targets naming only an indicator's first part ("border_guards.*": a target has every
    # part of its kind's indicators, refdata.check_indicator) are counted from monthly_groups,
    # ~1/6 of the rows for protection training, matched on the target's first part.
    by_group = all(_first_part_only(t.indicator) for t in targets if t.kind is kind)
    source = GROUP_MONTHS if by_group else MONTHS
    indicator = "indicator_group AS indicator" if by_group else "indicator"
    wanted = first_part("t.indicator") if by_group else "t.indicator"
    counted = (
        f"a.kind = t.kind AND {_matches(wanted, 'a.indicator')}"
        " AND (t.population_type = '' OR t.population_type = a.population_type)"
        " AND (t.origin = '' OR t.origin = a.origin) AND (t.region = '' OR t.region = a.region)"
    )
    label = (
        "concat(replaceAll(t.indicator, '_', ' '), ': ',"
        " if(t.population_type = '', 'everyone', replaceAll(t.population_type, '_', ' ')),"
        " if(t.origin = '', '', concat(' from ', t.origin)),"
        f" if(t.region = '', '', concat(' in ', {ctx.region('t.region')})))"
    )
    year = f"toUInt16OrZero({variable_text('year')})"
    # Grouped only by what some target of the kind names: the others read '' (which every
    # such target's "all" matches). Grouping protection training by all five columns at 10 M
    # facts meant ~200,000 groups for three targets.
    named = [c for c in _GROUP_COLUMNS if any(getattr(t, c) for t in targets if t.kind is kind)]
    columns = ", ".join(c if c in named else f"'' AS {c}" for c in _GROUP_COLUMNS)
    actual = (
        f"SELECT kind, {indicator}, {columns}, {sums} FROM {source}"
        f" WHERE kind = {literal(kind.value)} AND toYear(day) = {year}"
        f" GROUP BY {', '.join(('kind', 'indicator', *named))}"
        # One row that counts towards nothing, so the cross join keeps every target.
        f" UNION ALL SELECT '', '', '', '', '', {zeros}"
    )
    return (
        f"SELECT {label} AS target_name, t.measure AS measure, t.target AS target,"
        f" sum(if({counted}, {measure}, 0)) AS achieved,"
        " round(100 * achieved / t.target, 1) AS progress"
        f" FROM {targets_table(targets)} AS t CROSS JOIN ({actual}) AS a"
        f" WHERE t.kind = {literal(kind.value)} AND t.year = {year}"
        " GROUP BY t.kind, t.indicator, t.population_type, t.origin, t.region, t.measure,"
        " t.target ORDER BY target_name"
    )


def durable_solutions(ctx: Context) -> Dashboard:
    f = aggregate_filter("kind = 'durable_solutions'")
    years = sorted({t.year for t in ctx.targets if t.kind is Kind.DURABLE_SOLUTIONS})
    stages = [s.value for s in SolutionStage]
    stage_cases = ", ".join(
        f"sumIf(cases, splitByChar('.', indicator)[2] = {literal(s)}) AS {s}" for s in stages
    )
    departed = ", ".join(
        f"sumIf({PEOPLE}, indicator IN ({literal(s.value + '.departed')},"
        f" {literal(s.value + '.completed')})) AS {s.value}"
        for s in Solution
    )
    progress = progress_sql(ctx, ctx.targets, Kind.DURABLE_SOLUTIONS)
    panels: list[Panel | Text] = [
        Text(
            "Targets are the plan's for the year chosen above, counted over that whole year "
            "and the whole operation unless a target names a group, origin or region; the "
            "other panels follow the period and filters.",
            height=2,
        ),
        gauges(
            "Progress against the plan",
            f"SELECT target_name, progress FROM ({progress})",
            {"progress": "Achieved"},
            maximum=100,
            height=9,
        ),
        table(
            "Targets and achievements",
            progress,
            {
                "target_name": "Target",
                "measure": "Measure",
                "target": "Target",
                "achieved": "Achieved",
                "progress": "Achieved (%)",
            },
            width=12,
            height=9,
            overrides=[by_name("progress", unit="percent")],
        ),
        table(
            "Cases by solution and stage",
            f"SELECT splitByChar('.', indicator)[1] AS solution, {stage_cases}"
            f" FROM {AGGREGATES} WHERE {f} GROUP BY solution HAVING sum(events) > 0"
            " ORDER BY solution",
            {"solution": "Solution", **{s: s.capitalize() for s in stages}},
            height=7,
        ),
        timeseries(
            "People departed or solution completed, by month",
            f"SELECT toStartOfMonth(day) AS time, {departed} FROM {AGGREGATES} WHERE {f}"
            " GROUP BY time ORDER BY time",
            {s.value: s.value.replace("_", " ").capitalize() for s in Solution},
            bars_style=True,
        ),
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
        uid="partnerhub-durable-solutions",
        title="Partner Hub: durable solutions",
        description="Voluntary repatriation, resettlement, local integration and "
        "naturalization against the plan's targets.",
        panels=panels,
        variables=[year, ctx.region_variable(), ctx.partner_variable(), population_variable()],
        tags=("activity", "targets"),
    )
