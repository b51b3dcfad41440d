"""The SGBV dashboard: aggregates only, small numbers suppressed in the SQL itself.

Every number on it is either the grand total of SGBV activity in the period or a cell of a
one-way breakdown of that same total (by activity and incident type, region, month,
population type, sex and age). Each breakdown is suppressed with
:func:`dashboards.sql.suppressed` (primary and complementary suppression), so no panel shows
a number between 1 and the threshold minus one, and no total gives a suppressed cell away.
There is no two-way table: its row and column totals would need a far harder rule.

It reads through a data source of its own (``Context.sgbv_datasource_uid``, ClickHouse user
``partnerhub_sgbv``: SGBV rows of ``daily_aggregates`` only) and has no template variables:
Grafana pastes variable values into the SQL as text, and a value set in the URL could rewrite
a query. Only the time range reaches the SQL, through macros the plugin renders from parsed
times.
"""

from __future__ import annotations

from dashboards.common import Context
from dashboards.model import Dashboard, Panel, Text
from dashboards.panels import bars, stat, suppressed_mapping, table, timeseries
from dashboards.sql import (
    AGGREGATES,
    age_order,
    cell_sums,
    cells_long,
    sum_people,
    suppressed,
    where,
)

SGBV_FILTER = where("$__timeFilter(day)", "kind = 'sgbv'")
UID = "partnerhub-sgbv"


def breakdown_sql(key: str, key_sql: str, threshold: int) -> str:
    """People and events of SGBV activity by ``key_sql`` (named ``key``), suppressed."""
    cells = (
        f"SELECT {key_sql} AS {key}, {sum_people()} AS people, sum(events) AS reports"
        f" FROM {AGGREGATES} WHERE {SGBV_FILTER} GROUP BY {key}"
    )
    return suppressed(cells, [key], ["people", "reports"], threshold)


def total_sql(threshold: int) -> str:
    """The grand total of people and events (one row), suppressed when small."""
    cells = (
        f"SELECT 'all' AS scope, {sum_people()} AS people, sum(events) AS reports"
        f" FROM {AGGREGATES} WHERE {SGBV_FILTER}"
    )
    return suppressed(cells, ["scope"], ["people", "reports"], threshold)


def sex_age_sql(threshold: int) -> str:
    """People by sex and age bracket (female and male columns per bracket), the ten cells
    suppressed together as one breakdown of the total."""
    cells = f"SELECT sex, age, people FROM ({cells_long(cell_sums(AGGREGATES, SGBV_FILTER))})"
    hidden = suppressed(cells, ["sex", "age"], ["people"], threshold)
    return (
        "SELECT age, anyIf(people, sex = 'female') AS female,"
        f" anyIf(people, sex = 'male') AS male FROM ({hidden}) GROUP BY age"
        f" ORDER BY {age_order()}"
    )


def sgbv(ctx: Context) -> Dashboard:
    t = ctx.sgbv_threshold
    hide = suppressed_mapping(t)
    counts = {"people": "People", "reports": "Reports"}
    indicator = "replaceOne(replaceAll(indicator, '_', ' '), '.', ': ')"
    panels: list[Panel | Text] = [
        Text(
            f"Aggregates only. A number below {t} is shown as suppressed, and so are the "
            "smallest other numbers of the same breakdown when needed, so that no total "
            "reveals a suppressed one (GBVIMS information-sharing practice). Case responses "
            "are counted by incident type; prevention sessions and trainings by participants.",
            height=2,
        ),
        stat(
            "SGBV activity in the period",
            f"SELECT people, reports FROM ({total_sql(t)})",
            {"people": "People reached", "reports": "Reports"},
            mappings=hide,
        ),
        table(
            "By activity and incident type",
            breakdown_sql("activity", indicator, t),
            {"activity": "Activity / incident type", **counts},
            width=12,
            mappings=hide,
        ),
        table(
            "By region",
            breakdown_sql("region_name", ctx.region(), t),
            {"region_name": "Region", **counts},
            width=12,
            mappings=hide,
        ),
        timeseries(
            "By month",
            f"SELECT month AS time, people, reports"
            f" FROM ({breakdown_sql('month', 'toStartOfMonth(day)', t)}) ORDER BY time",
            counts,
            width=12,
            bars_style=True,
            description="Months with a suppressed number show no bar for it.",
        ),
        bars(
            "By sex and age",
            sex_age_sql(t),
            "age",
            {"female": "Female", "male": "Male"},
            width=12,
            mappings=hide,
        ),
        table(
            "By population type",
            breakdown_sql("population_type", "population_type", t),
            {"population_type": "Population type", **counts},
            width=12,
            height=8,
            mappings=hide,
        ),
    ]
    return Dashboard(
        uid=UID,
        title="Partner Hub: SGBV prevention and response (suppressed)",
        description=f"SGBV aggregates with cells below {t} suppressed, complementary cells too.",
        panels=panels,
        variables=(),
        tags=("activity", "sgbv"),
        datasource_uid=ctx.sgbv_datasource_uid,
    )
