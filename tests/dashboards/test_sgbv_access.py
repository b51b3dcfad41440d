"""Grafana cannot get round the disclosure engine:

- a crafted template-variable value stays inside its string literal (statically, for every
  variable of every panel) and reads no SGBV row (on chdb, with SGBV rows present);
- the ``sgbv_figures`` view returns each month's latest published figures, withheld ones as
  NULL (chdb), and is ``SQL SECURITY DEFINER``;
- the SGBV data source's user reaches nothing but that view: checked against a ClickHouse
  server when ``CLICKHOUSE_URL`` (the writer) and ``CLICKHOUSE_SGBV_URL`` (the SGBV user) are
  set; the grants are checked statically in tests/dashboards/test_dashboards_access.py otherwise.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from dashboards.catalog import dashboards
from dashboards.macros import FORMATS, interpolate_variables, render_sql
from dashboards.queries import dashboard_variables, panels, run_panel, year_context
from dashboards.sgbv import UID as SGBV_UID
from disclosure.engine import publish_sgbv
from disclosure.grain import Record
from partnerhub.settings import HubSettings
from producers.simulator import SimulationSpec, simulate
from rollups.published import published_months, store_publication
from rollups.suppress import Publication
from tests.support import load_simulation
from warehouse.client import ServerWarehouse, Warehouse
from warehouse.migrate import load_migrations, migrate

CONTEXT = HubSettings(_env_file=None).dashboard_context()  # type: ignore[call-arg]
PERIOD = year_context(2006, months=12)

#: Values a viewer could put in the URL (``var-region=...``) to break out of the SQL.
CRAFTED: tuple[str, ...] = (
    "KZ-75') UNION ALL SELECT 'x', sum(events) FROM daily_aggregates WHERE kind = 'sgbv' --",
    "\\",
    "\\') OR kind = 'sgbv' OR ('",
    "'; SELECT * FROM facts --",
    "{KZ-75,KZ-19}') OR 1 --",
    "%27) OR 1 --",
    "$__timeFilter(day) OR 1",
)

_LITERAL = re.compile(r"'(?:\\.|[^'\\])*'")


def structure(sql: str) -> str:
    """The SQL with every string literal blanked: what a value inside a literal cannot change."""
    return _LITERAL.sub("''", sql)


_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::\w+)?\]\]|\$\{(\w+)(?:\.[^:}]+)*(?::[^}]+)?\}")


def _variable_names(sql: str) -> set[str]:
    found = {m.group(1) or m.group(2) or m.group(3) for m in _VARIABLE.finditer(sql)}
    return {name for name in found if not name.startswith("__")}


def test_a_crafted_variable_stays_inside_its_string_literal() -> None:
    checked = 0
    for dashboard in dashboards(CONTEXT):
        for _, query in dashboard.queries():
            names = _variable_names(query.sql)
            if not names:
                continue
            benign = render_sql(query.sql, PERIOD, {name: ["KZ-75"] for name in names})
            for value in CRAFTED:
                for as_list in ([value], ["KZ-75", value], value):
                    crafted = render_sql(query.sql, PERIOD, {name: as_list for name in names})
                    assert structure(crafted) == structure(benign), (dashboard.uid, value)
                    checked += 1
    assert checked > 100


def test_the_old_quoting_let_a_crafted_value_out() -> None:
    """The check above bites: ``${var:singlequote}`` (what the dashboards used before) lets a
    backslash end the literal and the next value run as SQL."""
    sql = "SELECT 1 WHERE region IN (${region:singlequote})"
    benign = interpolate_variables(sql, {"region": ["KZ-75", "KZ-19"]})
    crafted = interpolate_variables(sql, {"region": ["\\", ") OR 1 OR region IN ("]})
    assert structure(crafted) != structure(benign)
    assert "percentencode" in FORMATS


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    spec = SimulationSpec(start="2006-01", end="2006-06", events=600, seed=5)
    wh = load_simulation(tmp_path_factory.mktemp("warehouse"), simulate(spec))
    try:
        yield wh
    finally:
        wh.close()


@pytest.mark.clickhouse
def test_a_crafted_variable_reads_no_sgbv_row(warehouse: Warehouse) -> None:
    """Each panel of the dashboards with variables, run on chdb (no row policy here: nothing
    but the SQL stands between a crafted value and the SGBV rows), gives exactly what a value
    that matches nothing gives."""
    assert warehouse.query("SELECT count() AS n FROM facts WHERE kind = 'sgbv'")[0]["n"] > 0
    ran = 0
    for dashboard in dashboards(CONTEXT):
        if dashboard.uid == SGBV_UID or not dashboard.variables:
            continue
        variables = dashboard_variables(warehouse, dashboard, PERIOD)
        for panel in panels(dashboard):
            for name in variables:
                for value in CRAFTED[:3]:
                    nothing = run_panel(warehouse, panel, PERIOD, {**variables, name: ["ZZ"]})
                    crafted = run_panel(warehouse, panel, PERIOD, {**variables, name: [value]})
                    assert crafted == nothing, (dashboard.uid, panel.title, name, value)
                    ran += 1
    assert ran > 50


# --- the view -----------------------------------------------------------------------------


def _publication(month: str, people: int) -> Publication:
    """A publication whose SGBV part is one region's prevention sessions of ``people``."""
    cells = (0, 0, 0, people, 0, 0, 0, 0, 0, 0)
    sgbv = publish_sgbv(
        [Record("KZ-75", "prevention_session", "refugee", 2, cells),
         Record("KZ-19", "case_response.rape", "refugee", 1, (0, 0, 0, 1, 0, 0, 0, 0, 0, 0))],
        5, month=month,
    )  # fmt: skip
    return Publication(month, 5, (), {}, {}, {}, (), 0, sgbv)


@pytest.mark.clickhouse
def test_the_view_returns_each_months_latest_published_figures(warehouse: Warehouse) -> None:
    empty = warehouse  # no roll-up was made of it: its view is empty until these
    assert published_months(empty) == {}
    stored = {
        ("2006-01", 1): _publication("2006-01", 10),
        ("2006-01", 2): _publication("2006-01", 30),
        ("2006-02", 1): _publication("2006-02", 12),
    }
    for (_, version), publication in stored.items():
        store_publication(empty, publication, version)
    months = published_months(empty)
    assert sorted(months) == ["2006-01", "2006-02"]
    for month, version in (("2006-01", 2), ("2006-02", 1)):  # the latest version wins
        expected = stored[(month, version)].sgbv
        assert expected is not None
        assert months[month].figures == expected.figures
    v1, v2 = (stored[("2006-01", v)].sgbv for v in (1, 2))
    assert v1 is not None
    assert v2 is not None
    assert v1.published() != v2.published()
    # The lone case response is withheld: NULL in the view, never its number.
    rows = empty.query(
        "SELECT value FROM sgbv_figures WHERE month = {m:Date} AND grain_table = 'region'"
        " AND region = 'KZ-19' AND measure = 'persons'",
        {"m": date(2006, 2, 1)},
    )
    assert rows == [{"value": None}]
    values = [r["value"] for r in empty.query("SELECT value FROM sgbv_figures")]
    assert not [v for v in values if v is not None and 0 < v < 5]


def test_the_view_runs_with_its_definers_rights_over_published_figures_only() -> None:
    (migration,) = [m for m in load_migrations() if m.name == "0030_sgbv_published"]
    (view,) = [s for s in migration.statements() if s.startswith("CREATE VIEW")]
    assert "SQL SECURITY DEFINER" in view
    assert set(re.findall(r"\bFROM\s+(\w+)", view)) == {"sgbv_published"}


# --- the grants, on a server ----------------------------------------------------------------

WRITER_URL = os.environ.get("CLICKHOUSE_URL")


def _sgbv_url() -> str | None:
    """The SGBV user's URL: ``CLICKHOUSE_SGBV_URL``, or ``CLICKHOUSE_URL`` with the user
    ``partnerhub_sgbv`` and the password compose gives it (``CLICKHOUSE_SGBV_PASSWORD``)."""
    if os.environ.get("CLICKHOUSE_SGBV_URL"):
        return os.environ["CLICKHOUSE_SGBV_URL"]
    password = os.environ.get("CLICKHOUSE_SGBV_PASSWORD")
    if not WRITER_URL or password is None:
        return None
    parts = urlsplit(WRITER_URL)
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"partnerhub_sgbv:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


SGBV_URL = _sgbv_url()


@pytest.mark.skipif(
    not (WRITER_URL and SGBV_URL),
    reason="CLICKHOUSE_URL (the writer) and CLICKHOUSE_SGBV_PASSWORD or CLICKHOUSE_SGBV_URL"
    " are not set: no ClickHouse server here (the grants are checked statically)",
)
def test_the_sgbv_user_reaches_only_the_view_on_a_server() -> None:
    import clickhouse_connect

    assert WRITER_URL
    with ServerWarehouse(WRITER_URL) as hub:
        migrate(hub)  # the view exists once the hub's migrations ran
    writer = clickhouse_connect.get_client(dsn=WRITER_URL)
    user = clickhouse_connect.get_client(dsn=SGBV_URL)
    try:
        grants = [r[0] for r in user.query("SHOW GRANTS").result_rows]
        me = user.query("SELECT currentUser()").result_rows[0][0]
        assert grants == [f"GRANT SELECT ON partnerhub.sgbv_figures TO {me}"]
        user.query("SELECT count() FROM partnerhub.sgbv_figures")
        for table in ("facts", "daily_aggregates", "sgbv_published", "rollup_rows"):
            with pytest.raises(Exception, match=r"(?i)not enough privileges|ACCESS_DENIED"):
                user.query(f"SELECT count() FROM partnerhub.{table}")
        created = writer.query(
            "SELECT create_table_query FROM system.tables"
            " WHERE database = 'partnerhub' AND name = 'sgbv_figures'"
        ).result_rows
        assert created
        assert "SQL SECURITY DEFINER" in created[0][0]
    finally:
        user.close()
        writer.close()
