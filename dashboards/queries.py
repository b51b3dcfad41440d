"""Running dashboards' queries on a warehouse as Grafana would: the variables' options (what
"All" means), the SQL after variables and macros, and the field names a panel refers to.

The tests use it to run every panel on the real engine; it also lets an operator try the
dashboards' SQL against the embedded warehouse, where no Grafana runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from dashboards.macros import QueryContext, VariableValue, render_sql
from dashboards.model import Dashboard, Panel, Variable
from dashboards.sql import literal
from warehouse.client import Warehouse


def variable_values(wh: Warehouse, variable: Variable, ctx: QueryContext) -> VariableValue:
    """What a variable holds when a dashboard opens: its default, or "All" (every option:
    the first column of a query variable's rows, the items of a custom one)."""
    if variable.default is not None:
        return variable.default
    if variable.kind == "query":
        rows = wh.query(render_sql(variable.query, ctx, {}))
        options = [str(next(iter(row.values()))) for row in rows]
    else:
        options = [item.strip() for item in variable.query.split(",")]
    if not options:
        raise ValueError(f"variable {variable.name} has no options")
    return options if variable.multi else options[0]


def dashboard_variables(
    wh: Warehouse, dashboard: Dashboard, ctx: QueryContext
) -> dict[str, VariableValue]:
    return {v.name: variable_values(wh, v, ctx) for v in dashboard.variables}


def panels(dashboard: Dashboard) -> Iterator[Panel]:
    yield from (p for p in dashboard.panels if isinstance(p, Panel))


def referenced_fields(panel: Panel) -> set[str]:
    """Field names the panel's options and overrides name: those must be query columns."""
    names = {o["matcher"]["options"] for o in panel.overrides if o["matcher"]["id"] == "byName"}
    if "xField" in panel.options:
        names.add(panel.options["xField"])
    for layer in panel.options.get("layers", []):
        names.update({layer["location"]["latitude"], layer["location"]["longitude"]})
        style = layer["config"]["style"]
        names.update(style[part]["field"] for part in ("size", "text") if "field" in style[part])
    return names


def with_row_filters(sql: str, filters: Mapping[str, str]) -> str:
    """``sql`` reading each table named in ``filters`` only where its filter holds, as the row
    policies of a database user make it read (ClickHouse's ``additional_table_filters``)."""
    if not filters:
        return sql
    pairs = ", ".join(f"{literal(table)}: {literal(f)}" for table, f in sorted(filters.items()))
    return f"SELECT * FROM ({sql}) SETTINGS additional_table_filters = {{{pairs}}}"


def run_panel(
    wh: Warehouse,
    panel: Panel,
    ctx: QueryContext,
    variables: dict[str, VariableValue],
    row_filters: Mapping[str, str] | None = None,
) -> list[list[dict[str, Any]]]:
    """Each query's rows, as the data source would return them (its database user's row
    filters, table -> SQL condition, applied when given)."""
    return [
        wh.query(with_row_filters(render_sql(q.sql, ctx, variables), row_filters or {}))
        for q in panel.queries
    ]


def year_context(year: int, months: int = 15) -> QueryContext:
    """A dashboard time range from 1 January of ``year`` over ``months`` months."""
    start = datetime.fromisoformat(f"{year}-01-01T00:00:00+00:00")
    return QueryContext(start, start + timedelta(days=30.5 * months), timedelta(hours=12))


def small_numbers(
    wh: Warehouse,
    dashboard: Dashboard,
    ctx: QueryContext,
    variables: dict[str, VariableValue],
    threshold: int,
) -> tuple[list[str], int]:
    """Every numeric cell of every panel between 1 and ``threshold - 1`` (in absolute value),
    described; and how many cells came back suppressed (NULL)."""
    found: list[str] = []
    hidden = 0
    for panel in panels(dashboard):
        for rows in run_panel(wh, panel, ctx, variables):
            for row in rows:
                for column, value in row.items():
                    numeric = isinstance(value, int | float) and not isinstance(value, bool)
                    if value is None:
                        hidden += 1
                    elif numeric and 0 < abs(value) < threshold:
                        found.append(f"{panel.title}: {column}={value} in {row}")
    return found, hidden
