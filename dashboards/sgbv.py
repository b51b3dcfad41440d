"""The SGBV dashboard: the disclosure engine's published figures, and nothing else.

Every number on it is read from the ``sgbv_figures`` view (``warehouse/migrations/
0030_sgbv_published.sql``): the figures each month's roll-up published, NULL where withheld.
No panel computes an SGBV figure: the panels select published figures month by month, so
the dashboard cannot show a figure the roll-up's files do not (a sum over months or regions of
published figures would be a new figure, outside the engine's audit). The data source's
ClickHouse user (``partnerhub_sgbv``) may read that view and nothing else, so neither a panel
nor a viewer sending SQL of their own can reach an unsuppressed row.

It has no template variables; only the time range reaches the SQL, through the plugin's
macros from parsed times. Months appear once their roll-up is made.
"""

from __future__ import annotations

from dashboards.common import Context
from dashboards.model import Dashboard, Panel, Text
from dashboards.panels import bars, stat, suppressed_mapping, table, timeseries
from dashboards.sql import age_order, literal
from schemas.vocabulary import AGE_BRACKETS, CELLS

UID = "partnerhub-sgbv"
#: The one relation the SGBV dashboard reads.
VIEW = "sgbv_figures"
PERIOD = "$__timeFilter(month)"


def figures_sql(grain_table: str, keys: dict[str, str]) -> str:
    """People and reports of one table of the grain, per month and ``keys`` (alias -> SQL)."""
    columns = "".join(f", {sql} AS {alias}" for alias, sql in keys.items())
    order = "".join(f", {alias}" for alias in keys)
    return (
        f"SELECT month{columns},"
        " anyIf(value, measure = 'persons') AS people,"
        " anyIf(value, measure = 'events') AS reports"
        f" FROM {VIEW} WHERE grain_table = {literal(grain_table)} AND {PERIOD}"
        f" GROUP BY month{order} ORDER BY month{order}"
    )


def latest_total_sql() -> str:
    """The latest published month's total people and reports in the period."""
    return (
        "SELECT anyIf(value, measure = 'persons') AS people,"
        " anyIf(value, measure = 'events') AS reports"
        f" FROM {VIEW} WHERE grain_table = 'total' AND month = ("
        f"SELECT max(month) FROM {VIEW} WHERE {PERIOD})"
    )


def sex_age_sql() -> str:
    """The latest published month's people by sex and age bracket."""
    sexes = ", ".join(literal(c.split("_")[0]) for c in CELLS)
    ages = ", ".join(literal(b) for _ in range(2) for b in AGE_BRACKETS)
    names = ", ".join(literal(c) for c in CELLS)
    return (
        "SELECT age, anyIf(value, sex = 'female') AS female, anyIf(value, sex = 'male') AS male"
        f" FROM (SELECT transform(cell, [{names}], [{ages}], '') AS age,"
        f" transform(cell, [{names}], [{sexes}], '') AS sex, value"
        f" FROM {VIEW} WHERE grain_table = 'cell' AND month = ("
        f"SELECT max(month) FROM {VIEW} WHERE {PERIOD}))"
        f" GROUP BY age ORDER BY {age_order()}"
    )


def sgbv(ctx: Context) -> Dashboard:
    t = ctx.sgbv_threshold
    hide = suppressed_mapping(t)
    counts = {"month": "Month", "people": "People", "reports": "Reports"}
    activity = "replaceAll(activity, '_', ' ')"
    incident = "replaceAll(incident, '_', ' ')"
    panels: list[Panel | Text] = [
        Text(
            "The figures each month's roll-up published, by month (GBVIMS information-sharing "
            f"practice): a number below {t} is withheld, and so are other numbers where the "
            "published ones would give it away. Withheld numbers show as withheld. Incident "
            "types are national; no partner, origin or regional incident type is published.",
            height=2,
        ),
        stat(
            "SGBV activity, latest published month in the period",
            latest_total_sql(),
            {"people": "People reached", "reports": "Reports"},
            mappings=hide,
        ),
        timeseries(
            "By month",
            "SELECT month AS time, people, reports"
            f" FROM ({figures_sql('total', {})}) ORDER BY time",
            {"people": "People", "reports": "Reports"},
            width=12,
            bars_style=True,
            description="A month whose total is withheld shows no bar for it.",
        ),
        bars(
            "By sex and age, latest published month",
            sex_age_sql(),
            "age",
            {"female": "Female", "male": "Male"},
            width=12,
            mappings=hide,
        ),
        table(
            "By activity",
            figures_sql("activity", {"activity": activity}),
            {"activity": "Activity", **counts},
            width=12,
            mappings=hide,
        ),
        table(
            "Case responses by incident type (national)",
            figures_sql("incident", {"incident": incident}),
            {"incident": "Incident type", **counts},
            width=12,
            mappings=hide,
        ),
        table(
            "By region",
            figures_sql("region", {"region_name": ctx.region()}),
            {"region_name": "Region", **counts},
            width=12,
            mappings=hide,
        ),
        table(
            "By region and activity",
            figures_sql("region_activity", {"region_name": ctx.region(), "activity": activity}),
            {"region_name": "Region", "activity": "Activity", **counts},
            width=12,
            mappings=hide,
        ),
        table(
            "By population type",
            figures_sql("population", {"population_type": "population_type"}),
            {"population_type": "Population type", **counts},
            width=12,
            height=8,
            mappings=hide,
        ),
    ]
    return Dashboard(
        uid=UID,
        title="Partner Hub: SGBV prevention and response (published figures)",
        description=f"SGBV figures as the roll-ups published them; numbers below {t} withheld.",
        panels=panels,
        variables=(),
        tags=("activity", "sgbv"),
        datasource_uid=ctx.sgbv_datasource_uid,
    )
