"""Every query of every panel, expanded as Grafana and the ClickHouse plugin expand it, run on
the real engine (chdb) over a simulated year of the operation written as the worker writes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboards.catalog import dashboards
from dashboards.macros import QueryContext, VariableValue, render_sql
from dashboards.model import Dashboard, Panel
from dashboards.queries import (
    dashboard_variables,
    panels,
    referenced_fields,
    run_panel,
    small_numbers,
    year_context,
)
from dashboards.sgbv import UID as SGBV_UID
from dashboards.sql import AGGREGATES, GROUP_MONTHS, GROUPS, MONTHS, TOTALS
from partnerhub.settings import HubSettings
from producers.simulator import SimulationSpec, simulate
from rollups.months import month_bounds
from rollups.published import store_publication
from rollups.queries import fact_rows
from rollups.suppress import publish
from streams.signals import check_duplicate_assistance, check_silent_partners
from tests.dashboards.test_dashboards_access import DASHBOARD_USER, row_filters
from tests.support import load_simulation
from warehouse.client import Warehouse
from warehouse.facts import write_alerts
from warehouse.tables import INDICATOR_GROUP, TABLES

pytestmark = pytest.mark.clickhouse

SETTINGS = HubSettings(_env_file=None)  # type: ignore[call-arg]
CONTEXT = SETTINGS.dashboard_context()
DASHBOARDS = dashboards(CONTEXT)
#: The simulated year and a little after it (late reports, alerts raised in 2007).
PERIOD = year_context(2006, months=15)
#: Months whose SGBV figures the fixture publishes, as their roll-ups would.
PUBLISHED_MONTHS = ("2006-01", "2006-02", "2006-03")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """A warehouse holding a simulated 2006 with every fault, and the alerts the worker
    raises from it (duplicate assistance, and silent partners two months later)."""
    spec = SimulationSpec(
        start="2006-01",
        end="2006-12",
        events=3000,
        seed=11,
        duplicates=0.02,
        corrections=0.02,
        retractions=0.01,
        invalid=0.02,
        late=0.02,
    )
    wh = load_simulation(tmp_path_factory.mktemp("warehouse"), simulate(spec))
    try:
        now = datetime(2007, 1, 1, tzinfo=UTC)
        assistance = wh.query(
            "SELECT DISTINCT partner_id, event_id FROM facts WHERE kind = 'assistance'"
        )
        events = {(r["partner_id"], r["event_id"]) for r in assistance}
        write_alerts(wh, check_duplicate_assistance(wh, events, now))
        later = now + timedelta(days=60)
        write_alerts(wh, check_silent_partners(wh, sorted(spec.partners), later, 14))
        for month in PUBLISHED_MONTHS:  # the SGBV dashboard shows what the roll-ups published
            start, end = month_bounds(month)
            store_publication(wh, publish(fact_rows(wh, start, end), 5, month=month), 1)
        yield wh
    finally:
        wh.close()


@pytest.fixture(scope="module")
def variables(warehouse: Warehouse) -> dict[str, dict[str, VariableValue]]:
    return {d.uid: dashboard_variables(warehouse, d, PERIOD) for d in DASHBOARDS}


def _cases() -> list[Any]:
    return [pytest.param(d, p, id=f"{d.uid}/{p.title}") for d in DASHBOARDS for p in panels(d)]


@pytest.mark.parametrize(("dashboard", "panel"), _cases())
def test_panel_returns_rows_with_the_fields_it_uses(
    warehouse: Warehouse,
    variables: dict[str, dict[str, VariableValue]],
    dashboard: Dashboard,
    panel: Panel,
) -> None:
    results = run_panel(warehouse, panel, PERIOD, variables[dashboard.uid])
    for query, rows in zip(panel.queries, results, strict=True):
        assert rows, f"query {query.ref_id} returned no rows"
    columns = set().union(*(set(rows[0]) for rows in results))
    assert referenced_fields(panel) <= columns, referenced_fields(panel) - columns


def test_variables_offer_every_value_the_data_holds(
    warehouse: Warehouse, variables: dict[str, dict[str, VariableValue]]
) -> None:
    overview = variables["partnerhub-overview"]
    held = warehouse.query(
        "SELECT groupUniqArray(region) AS regions, groupUniqArray(partner_id) AS partners,"
        " groupUniqArray(population_type) AS populations FROM daily_aggregates FINAL"
    )[0]
    assert set(held["regions"]) <= set(overview["region"])
    assert set(held["partners"]) <= set(overview["partner"])
    assert set(held["populations"]) <= set(overview["population_type"])
    assert variables["partnerhub-durable-solutions"]["year"] == "2006"


def test_all_selected_counts_everything_and_a_selection_narrows(
    warehouse: Warehouse, variables: dict[str, dict[str, VariableValue]]
) -> None:
    overview = next(d for d in DASHBOARDS if d.uid == "partnerhub-overview")
    glance = next(p for p in panels(overview) if p.title == "At a glance")
    everything = run_panel(warehouse, glance, PERIOD, variables[overview.uid])[0][0]
    truth = warehouse.query(
        "SELECT sum(events) AS n FROM daily_aggregates FINAL WHERE kind != 'sgbv'"
        " AND day >= '2006-01-01' AND day <= '2006-12-31'"
    )[0]
    assert everything["activities"] == truth["n"] > 0
    almaty = {**variables[overview.uid], "region": ["KZ-75"]}
    narrowed = run_panel(warehouse, glance, PERIOD, almaty)[0][0]
    assert 0 < narrowed["activities"] < everything["activities"]
    assert narrowed["regions"] == 1


def test_time_series_bucket_by_the_panel_interval(warehouse: Warehouse) -> None:
    sql = (
        "SELECT count() AS n FROM (SELECT $__timeInterval(ingested_at) AS t FROM facts GROUP BY t)"
    )
    hourly = QueryContext(PERIOD.time_from, PERIOD.time_to, timedelta(hours=1))
    rows = warehouse.query(render_sql(sql, hourly, {}))
    assert rows == [{"n": 1}]  # load_simulation stamps every fact with one arrival time


def test_sgbv_panels_show_no_small_number(
    warehouse: Warehouse, variables: dict[str, dict[str, VariableValue]]
) -> None:
    sgbv = next(d for d in DASHBOARDS if d.uid == SGBV_UID)
    small, hidden = small_numbers(
        warehouse, sgbv, PERIOD, variables[SGBV_UID], SETTINGS.sgbv_threshold
    )
    assert small == []
    assert hidden > 0  # the published months have withheld figures


def test_outside_sgbv_no_sgbv_row_is_shown(
    warehouse: Warehouse, variables: dict[str, dict[str, VariableValue]]
) -> None:
    quality = next(d for d in DASHBOARDS if d.uid == "partnerhub-data-quality")
    silent = next(p for p in panels(quality) if p.title == "Silent and late partners")
    rows = run_panel(warehouse, silent, PERIOD, variables[quality.uid])[0]
    assert {r["kind"] for r in rows} == {
        "assistance",
        "income_generation",
        "hiv_training",
        "durable_solutions",
        "protection_training",
        "rsd_casework",
    }
    held = warehouse.query("SELECT count() AS n FROM partner_activity FINAL WHERE kind = 'sgbv'")
    assert held[0]["n"] > 0  # the warehouse has SGBV activity; the panel leaves it out


#: Columns that depend on the instant a query runs (``now()``), left out of comparisons.
NOW_DEPENDENT = {"idle_seconds", "days_since_report"}


def _rows(results: list[list[dict[str, Any]]]) -> list[list[str]]:
    return [
        sorted(repr(sorted((k, v) for k, v in r.items() if k not in NOW_DEPENDENT)) for r in rows)
        for rows in results
    ]


@pytest.mark.parametrize(("dashboard", "panel"), _cases())
def test_the_data_source_users_row_filters_change_no_panel(
    warehouse: Warehouse,
    variables: dict[str, dict[str, VariableValue]],
    dashboard: Dashboard,
    panel: Panel,
) -> None:
    """Each panel shows the same when its table reads are filtered as its data source's
    ClickHouse user reads them (deploy/clickhouse/users.d/partnerhub.xml): no dashboard but
    the SGBV one needs an SGBV row, and the SGBV one needs nothing but SGBV aggregates."""
    if dashboard.uid == SGBV_UID:
        # Its user reads the published-figures view and no table of exact rows at all.
        filters = {table: "0" for table in TABLES}
    else:
        filters = row_filters(DASHBOARD_USER)
    assert filters
    plain = run_panel(warehouse, panel, PERIOD, variables[dashboard.uid])
    filtered = run_panel(warehouse, panel, PERIOD, variables[dashboard.uid], filters)
    assert _rows(filtered) == _rows(plain)


def test_the_row_filters_do_hide_rows(
    warehouse: Warehouse, variables: dict[str, dict[str, VariableValue]]
) -> None:
    """The comparison above can fail: a filter on a table a panel reads changes the panel."""
    overview = next(d for d in DASHBOARDS if d.uid == "partnerhub-overview")
    first = next(iter(panels(overview)))
    everything = run_panel(warehouse, first, PERIOD, variables[overview.uid])
    grains = ("daily_aggregates", "monthly_aggregates", "monthly_groups", "monthly_totals")
    hidden = {table: "0" for table in grains}
    none = run_panel(warehouse, first, PERIOD, variables[overview.uid], hidden)
    assert none != everything


# --- the month grain gives what the day grain gave ---------------------------------------

#: A period whose both ends fall inside a month: panels read day rows at its edges.
MID_MONTHS = QueryContext(
    datetime(2006, 2, 14, 9, tzinfo=UTC), datetime(2006, 11, 20, 18, tzinfo=UTC), PERIOD.interval
)
#: What every panel read before the month grain: the daily aggregates, de-duplicated.
DAILY = "daily_aggregates FINAL"


#: The same with the indicator's group, computed here (what ``monthly_groups`` holds).
DAILY_GROUPS = f"(SELECT *, {INDICATOR_GROUP} AS indicator_group FROM daily_aggregates FINAL)"
#: Each month grain's source as panels read it, and what it stands for at the day grain.
GRAIN_SOURCES = {
    AGGREGATES: DAILY,
    TOTALS: DAILY,
    MONTHS: DAILY,
    GROUPS: DAILY_GROUPS,
    GROUP_MONTHS: DAILY_GROUPS,
}


def _on_daily_rows(panel: Panel) -> Panel:
    """``panel`` with its aggregates read at the day grain only, as before the month grain."""
    queries = []
    for q in panel.queries:
        sql = q.sql
        for source, daily in GRAIN_SOURCES.items():
            sql = sql.replace(source, daily)
        queries.append(replace(q, sql=sql))
    return replace(panel, queries=queries)


def _rounded(results: list[list[dict[str, Any]]]) -> list[list[str]]:
    """Rows as in :func:`_rows`, floats rounded (sums taken in another order)."""
    return _rows(
        [
            [{k: round(v, 6) if isinstance(v, float) else v for k, v in r.items()} for r in rows]
            for rows in results
        ]
    )


def _aggregate_cases() -> list[Any]:
    return [
        pytest.param(d, p, id=f"{d.uid}/{p.title}")
        for d in DASHBOARDS
        for p in panels(d)
        if any(source in q.sql for q in p.queries for source in GRAIN_SOURCES)
    ]


def test_most_panels_read_the_month_grain() -> None:
    assert len(_aggregate_cases()) >= 35


@pytest.mark.parametrize("period", [PERIOD, MID_MONTHS], ids=["whole-months", "mid-months"])
@pytest.mark.parametrize(("dashboard", "panel"), _aggregate_cases())
def test_the_month_grain_changes_no_panel(
    warehouse: Warehouse,
    variables: dict[str, dict[str, VariableValue]],
    dashboard: Dashboard,
    panel: Panel,
    period: QueryContext,
) -> None:
    """Each panel shows, over whole months and over a period cut inside months, what it
    showed when it read the daily aggregates only."""
    chosen = variables[dashboard.uid]
    assert _rounded(run_panel(warehouse, panel, period, chosen)) == _rounded(
        run_panel(warehouse, _on_daily_rows(panel), period, chosen)
    )


def test_the_comparison_sees_a_month_grain_that_differs(
    warehouse: Warehouse, variables: dict[str, dict[str, VariableValue]]
) -> None:
    """The comparison above can fail: month rows missing from a grain change a panel."""
    for uid, title, table in (
        ("partnerhub-overview", "At a glance", "monthly_totals"),
        ("partnerhub-assistance", "Assistance at a glance", "monthly_aggregates"),
        ("partnerhub-protection", "Participants by audience", "monthly_groups"),
        ("partnerhub-protection", "Targets and achievements", "monthly_groups"),
    ):
        dashboard = next(d for d in DASHBOARDS if d.uid == uid)
        glance = next(p for p in panels(dashboard) if p.title == title)
        chosen = variables[uid]
        without_march = run_panel(
            warehouse, glance, PERIOD, chosen, {table: "month != '2006-03-01'"}
        )
        daily = run_panel(warehouse, _on_daily_rows(glance), PERIOD, chosen)
        assert _rounded(without_march) != _rounded(daily), title
