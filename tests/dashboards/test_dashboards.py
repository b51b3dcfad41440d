"""Dashboards as code without the engine: macros and variables as Grafana expands them, the
suppression rule, the generated files and ``partnerhub dashboards build --check``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from dashboards.catalog import dashboards
from dashboards.common import Context
from dashboards.files import JSON_DIR, compare, render, write
from dashboards.macros import (
    MacroError,
    QueryContext,
    expand_macros,
    interpolate_variables,
    render_sql,
)
from dashboards.model import Panel, Text, layout
from dashboards.settings import GrafanaSettings
from dashboards.sgbv import UID as SGBV_UID
from dashboards.sql import NOT_SGBV
from partnerhub.settings import HubSettings
from streams.settings import WorkerSettings

# The plugin's own test vectors (grafana/clickhouse-datasource v4.11.2,
# pkg/macros/macros_test.go): 2014-11-12T11:45:26.123Z to 2015-11-12T11:45:26.456Z.
FROM = datetime(2014, 11, 12, 11, 45, 26, 123000, tzinfo=UTC)
TO = datetime(2015, 11, 12, 11, 45, 26, 456000, tzinfo=UTC)
PLUGIN = QueryContext(FROM, TO, timedelta(seconds=20))


def default_context() -> Context:
    return HubSettings(_env_file=None).dashboard_context()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("sql", "expanded"),
    [
        (
            "select * from foo where $__timeFilter(cast(sth as timestamp))",
            "select * from foo where cast(sth as timestamp) >= toDateTime(1415792726)"
            " AND cast(sth as timestamp) <= toDateTime(1447328726)",
        ),
        (
            "select * from foo where $__timeFilter(cast(sth as timestamp) )",
            "select * from foo where cast(sth as timestamp) >= toDateTime(1415792726)"
            " AND cast(sth as timestamp) <= toDateTime(1447328726)",
        ),
        (
            "select * from foo where $__timeFilter_ms(cast(sth as timestamp))",
            "select * from foo where cast(sth as timestamp) >= "
            "fromUnixTimestamp64Milli(1415792726123) AND cast(sth as timestamp) <= "
            "fromUnixTimestamp64Milli(1447328726456)",
        ),
        (
            "select * from foo where ( date >= $__fromTime and date <= $__toTime ) limit 100",
            "select * from foo where ( date >= toDateTime(1415792726) and date <= "
            "toDateTime(1447328726) ) limit 100",
        ),
        (
            "select * from foo where ( date >= $__fromTime_ms ) and ( date <= $__toTime_ms )",
            "select * from foo where ( date >= fromUnixTimestamp64Milli(1415792726123) ) and "
            "( date <= fromUnixTimestamp64Milli(1447328726456) )",
        ),
        (
            "select $__timeInterval(col) from foo",
            "select toStartOfInterval(toDateTime(col), INTERVAL 20 second) from foo",
        ),
        (
            "select $__timeInterval_ms(col) from foo",
            "select toStartOfInterval(toDateTime64(col, 3), INTERVAL 20000 millisecond) from foo",
        ),
        ("INTERVAL $__interval_s second", "INTERVAL 20 second"),
        (
            "where $__dateFilter(dateCol)",
            "where dateCol >= toDate('2014-11-12') AND dateCol <= toDate('2015-11-12')",
        ),
        (
            "where $__dateTimeFilter(dateCol, timeCol)",
            "where (dateCol >= toDate('2014-11-12') AND dateCol <= toDate('2015-11-12')) AND "
            "(timeCol >= toDateTime(1415792726) AND timeCol <= toDateTime(1447328726))",
        ),
        # The SDK's defaults the plugin keeps.
        ("$__interval / $__interval_ms", "20s / 20000"),
        ("$__timeFrom(t)", "t >= '2014-11-12T11:45:26Z'"),
        # Nested brackets stay inside one argument; text that is no macro is left alone.
        (
            "$__timeFilter(toDate(a, 'UTC'))",
            "toDate(a, 'UTC') >= toDateTime(1415792726) AND "
            "toDate(a, 'UTC') <= toDateTime(1447328726)",
        ),
        ("$__fromTimeX and $unknown", "$__fromTimeX and $unknown"),
    ],
)
def test_macros_expand_as_the_plugin_does(sql: str, expanded: str) -> None:
    assert expand_macros(sql, PLUGIN) == expanded


def test_the_interval_is_at_least_a_second() -> None:
    ctx = QueryContext(FROM, TO, timedelta(milliseconds=200))
    assert expand_macros("$__interval_s|$__interval", ctx) == "1|200ms"


@pytest.mark.parametrize(
    "sql", ["$__timeFilter(a, b)", "$__timeFilter", "$__timeFilter(a", "$__timeGroup(t, 1h)"]
)
def test_bad_macros_are_errors(sql: str) -> None:
    with pytest.raises(MacroError):
        expand_macros(sql, PLUGIN)


def test_variables_are_formatted_as_grafana_does() -> None:
    values = {"region": ["KZ-75", "KZ-19"], "year": "2006", "odd": ["it's"]}
    assert interpolate_variables("IN (${region:singlequote})", values) == "IN ('KZ-75','KZ-19')"
    assert interpolate_variables("IN ($region)", values) == "IN ('KZ-75','KZ-19')"
    assert interpolate_variables("IN ([[region]])", values) == "IN ('KZ-75','KZ-19')"
    assert interpolate_variables("= $year", values) == "= 2006"
    assert interpolate_variables("${region:csv}|${year:singlequote}", values) == (
        "KZ-75,KZ-19|'2006'"
    )
    assert interpolate_variables("${odd:singlequote} ${odd:sqlstring}", values) == (
        "'it\\'s' 'it''s'"
    )
    # Not a variable: left as written (macros, built-ins Grafana knows are not ours).
    assert interpolate_variables("$__timeFilter(day) $other", values) == (
        "$__timeFilter(day) $other"
    )
    with pytest.raises(ValueError, match="not supported"):
        interpolate_variables("${year:lucene}", values)


def test_render_runs_variables_before_macros() -> None:
    sql = "WHERE $__timeFilter(day) AND region IN (${region:singlequote})"
    assert render_sql(sql, PLUGIN, {"region": ["KZ-75"]}) == (
        "WHERE day >= toDateTime(1415792726) AND day <= toDateTime(1447328726)"
        " AND region IN ('KZ-75')"
    )


# --- the dashboards and their files ---------------------------------------------------------


def test_dashboards_have_stable_unique_uids_and_titles() -> None:
    built = dashboards(default_context())
    assert [d.uid for d in built] == [
        "partnerhub-overview",
        "partnerhub-assistance",
        "partnerhub-income-generation",
        "partnerhub-sgbv",
        "partnerhub-hiv-training",
        "partnerhub-durable-solutions",
        "partnerhub-protection",
        "partnerhub-data-quality",
        "partnerhub-pipeline",
    ]
    assert len({d.title for d in built}) == len(built)
    for d in built:
        assert all(len(p.queries) for p in d.panels if isinstance(p, Panel)), d.uid


def test_panels_never_read_what_must_not_leave_the_warehouse() -> None:
    for d in dashboards(default_context()):
        texts = [q.sql for _, q in d.queries()] + [v.query for v in d.variables]
        for sql in texts:
            assert "assistance_refs" not in sql, d.uid
            # The dashboard user may not read dead letters' bytes or reason texts.
            assert not re.search(r"\b(raw|reasons)\b", sql), (d.uid, sql)


def test_sgbv_appears_only_on_its_dashboard_and_only_suppressed() -> None:
    """Outside the SGBV dashboard every read of a table holding SGBV rows says, in its own
    SQL, what the dashboard user's row filters enforce
    (tests/dashboards/test_dashboards_access.py)."""
    for d in dashboards(default_context()):
        for title, query in d.queries():
            if d.uid == SGBV_UID:
                # The engine's published figures only: no table that holds exact rows.
                assert "sgbv_figures" in query.sql, title
                assert not re.search(
                    r"\b(daily_aggregates|monthly_aggregates|monthly_groups|monthly_totals|month_group_days|partner_activity|facts|rollup_rows)\b",
                    query.sql,
                ), title
                continue
            assert "sgbv_figures" not in query.sql
            assert "sgbv_published" not in query.sql
            assert not re.search(r"kind\s*=\s*'sgbv'", query.sql), (d.uid, title)
            if re.search(
                r"\b(daily_aggregates|monthly_aggregates|monthly_groups|monthly_totals|month_group_days|partner_activity|facts)\b",
                query.sql,
            ):
                one_other_kind = re.search(r"kind = '(?!sgbv)", query.sql)
                assert NOT_SGBV in query.sql or one_other_kind, (d.uid, title)
            if re.search(r"\bdeadletters\b", query.sql):
                assert NOT_SGBV in query.sql, (d.uid, title)


def test_the_sgbv_dashboard_has_its_own_data_source_and_no_variables() -> None:
    """Grafana pastes variable values into the SQL as text (a URL can set any value), so the
    SGBV dashboard has none: only the time range, which the plugin renders from parsed times,
    reaches its SQL. And it reads through the data source that alone may see SGBV rows."""
    hub = HubSettings(_env_file=None)  # type: ignore[call-arg]
    files = render(dashboards(hub.dashboard_context()), hub.grafana.datasource_uid)
    sgbv_uid = hub.grafana.sgbv_datasource_uid
    model = json.loads(files[f"{SGBV_UID}.json"])
    assert model["templating"]["list"] == []
    assert model["links"]
    assert all(not link["includeVars"] for link in model["links"])
    queried = [p for p in model["panels"] if p["type"] != "text"]
    assert queried
    for panel in queried:
        assert panel["datasource"]["uid"] == sgbv_uid, panel["title"]
        assert panel["targets"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == sgbv_uid, panel["title"]
            sql = target["rawSql"]
            # No variable of any form: $name, ${name}, [[name]]; only the plugin's $__ macros.
            assert not re.search(r"\$(?!__)|\[\[", sql), (panel["title"], sql)
            # Only the published-figures view, and no table function (its user has no grant
            # for one).
            assert set(re.findall(r"\b(?:FROM|JOIN)\s+([A-Za-z_][\w.]*)", sql)) == {
                "sgbv_figures"
            }, panel["title"]
            assert not re.search(r"\b(?:FROM|JOIN)\s+[A-Za-z_]\w*\s*\(", sql), panel["title"]


def test_no_other_dashboard_uses_the_sgbv_data_source() -> None:
    hub = HubSettings(_env_file=None)  # type: ignore[call-arg]
    files = render(dashboards(hub.dashboard_context()), hub.grafana.datasource_uid)
    for name, text in files.items():
        if name == f"{SGBV_UID}.json":
            continue
        model = json.loads(text)
        uids = {
            node["uid"] for node in _nodes(model) if isinstance(node, dict) and "uid" in node
        } - {model["uid"]}
        assert uids == {hub.grafana.datasource_uid}, name


def _nodes(node: object) -> Iterator[object]:
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        yield from _nodes(child)


def test_the_two_data_sources_must_differ() -> None:
    with pytest.raises(ValidationError, match="must differ"):
        GrafanaSettings(datasource_uid="one", sgbv_datasource_uid="one")


def test_every_filtered_panel_uses_the_period() -> None:
    for d in dashboards(default_context()):
        for title, query in d.queries():
            if re.search(
                r"\b(daily_aggregates|monthly_aggregates|monthly_groups|monthly_totals|deadletters)\b",
                query.sql,
            ):
                assert "$__timeFilter(" in query.sql or "${year" in query.sql, (d.uid, title)


def test_the_threshold_and_data_sources_come_from_the_settings() -> None:
    hub = HubSettings(  # type: ignore[call-arg]
        _env_file=None,
        sgbv_threshold=11,
        worker=WorkerSettings(silent_days=3),
        grafana=GrafanaSettings(sgbv_datasource_uid="my-sgbv"),
    )
    files = render(dashboards(hub.dashboard_context()), "my-clickhouse")
    sgbv = files["partnerhub-sgbv.json"]
    assert "below 11" in sgbv
    assert "below 5" not in sgbv
    assert '"uid": "my-sgbv"' in sgbv
    assert "my-clickhouse" not in sgbv
    assert '"uid": "my-clickhouse"' in files["partnerhub-overview.json"]
    assert "partnerhub-clickhouse" not in "".join(files.values())
    assert "> 3, 'silent'" in files["partnerhub-data-quality.json"]


def test_layout_wraps_at_the_grid_width() -> None:
    items = [Text("a", width=12), Text("b", width=12, height=5), Text("c", width=6)]
    assert layout(items) == [
        {"h": 3, "w": 12, "x": 0, "y": 0},
        {"h": 5, "w": 12, "x": 12, "y": 0},
        {"h": 3, "w": 6, "x": 0, "y": 5},
    ]
    with pytest.raises(ValueError, match="outside"):
        layout([Text("wide", width=25)])


def test_rendering_is_deterministic_and_valid_json() -> None:
    ctx = default_context()
    first = render(dashboards(ctx), "partnerhub-clickhouse")
    assert first == render(dashboards(ctx), "partnerhub-clickhouse")
    for name, text in first.items():
        model = json.loads(text)
        assert name == f"{model['uid']}.json"
        assert text == json.dumps(model, indent=2, sort_keys=True) + "\n"
        ids = [p["id"] for p in model["panels"]]
        assert ids == list(range(1, len(ids) + 1))


def test_the_committed_files_match_the_code() -> None:
    files = render(
        dashboards(default_context()), HubSettings(_env_file=None).grafana.datasource_uid
    )  # type: ignore[call-arg]
    stale = compare(files, JSON_DIR)
    assert not stale, stale.describe()


def test_write_updates_only_what_changed(tmp_path: Path) -> None:
    files = {"a.json": "{}\n", "b.json": "[]\n"}
    (tmp_path / "old.json").write_text("{}")
    assert write(files, tmp_path) == ["a.json", "b.json", "old.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]
    assert write(files, tmp_path) == []


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    return subprocess.run(
        [sys.executable, "-m", "partnerhub", "dashboards", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_build_check_passes_on_the_committed_json() -> None:
    result = _cli("build", "--check")
    assert result.returncode == 0, result.stderr
    assert "match the code" in result.stdout


def test_build_check_fails_with_one_line_naming_stale_files(tmp_path: Path) -> None:
    folder = tmp_path / "json"
    shutil.copytree(JSON_DIR, folder)
    (folder / "partnerhub-sgbv.json").write_text("{}\n")
    (folder / "partnerhub-pipeline.json").unlink()
    result = _cli("build", "--check", "--out", str(folder))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "partnerhub-sgbv.json" in lines[0]
    assert "partnerhub-pipeline.json" in lines[0]
    # build then repairs the folder
    assert _cli("build", "--out", str(folder)).returncode == 0
    assert _cli("build", "--check", "--out", str(folder)).returncode == 0
