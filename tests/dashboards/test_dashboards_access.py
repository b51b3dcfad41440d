"""What Grafana's two ClickHouse users may read (deploy/clickhouse/users.d/partnerhub.xml):
row filters that keep SGBV rows from the main dashboard user, a second user that reads the
disclosure engine's published SGBV figures (the ``sgbv_figures`` view) only, nothing of
``assistance_refs`` for either. Checked as text against
``warehouse.tables`` (so a new table with a ``kind`` column is caught), as SQL on the migrated
tables, and as the ClickHouse engine itself loads the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from warehouse.client import EmbeddedWarehouse, Warehouse
from warehouse.migrate import migrate
from warehouse.tables import TABLES

ROOT = Path(__file__).resolve().parents[2]
USERS_XML = ROOT / "deploy" / "clickhouse" / "users.d" / "partnerhub.xml"
DATABASE = "partnerhub"
DASHBOARD_USER = "partnerhub_dashboard"
SGBV_USER = "partnerhub_sgbv"
NOT_SGBV = "kind != 'sgbv'"


def users() -> ET.Element:
    root = ET.parse(USERS_XML).getroot()
    found = root.find("users")
    assert found is not None
    return found


def user(name: str) -> ET.Element:
    found = users().find(name)
    assert found is not None, f"no user {name} in {USERS_XML}"
    return found


def row_filters(name: str) -> dict[str, str]:
    """Table -> row filter of user ``name`` on the hub's database."""
    database = user(name).find(f"databases/{DATABASE}")
    if database is None:
        return {}
    return {table.tag: (table.findtext("filter") or "").strip() for table in database}


def grants(name: str) -> list[str]:
    return [(q.text or "").strip() for q in user(name).iterfind("grants/query")]


def tables_with_kind() -> set[str]:
    return {table for table, columns in TABLES.items() if "kind" in columns}


# --- the file as text --------------------------------------------------------------------


def test_the_dashboard_user_reads_no_sgbv_row() -> None:
    filters = row_filters(DASHBOARD_USER)
    assert tables_with_kind() <= set(filters), tables_with_kind() - set(filters)
    # Dead letters too: their kind is sgbv when the topic or the bytes name SGBV.
    assert "deadletters" in tables_with_kind()
    for table in tables_with_kind() | {"rollup_rows"}:
        assert filters[table] == NOT_SGBV, table


def test_no_grafana_user_reads_beneficiary_refs_or_dead_letter_bytes() -> None:
    dashboard = grants(DASHBOARD_USER)
    assert dashboard[0] == f"GRANT SELECT ON {DATABASE}.*"
    assert f"REVOKE SELECT ON {DATABASE}.assistance_refs" in dashboard
    assert f"REVOKE SELECT(raw, reasons) ON {DATABASE}.deadletters" in dashboard
    for name in (DASHBOARD_USER, SGBV_USER):
        granted = [g for g in grants(name) if g.startswith("GRANT")]
        assert not any("assistance_refs" in g for g in granted), name
        assert user(name).findtext("access_management") in (None, "0"), name


def test_the_sgbv_user_reads_the_published_figures_view_and_nothing_else() -> None:
    assert grants(SGBV_USER) == [f"GRANT SELECT ON {DATABASE}.sgbv_figures"]
    assert row_filters(SGBV_USER) == {}
    # The main dashboard user cannot read the SGBV figures (only the SGBV data source can).
    dashboard = grants(DASHBOARD_USER)
    assert f"REVOKE SELECT ON {DATABASE}.sgbv_figures" in dashboard
    assert f"REVOKE SELECT ON {DATABASE}.sgbv_published" in dashboard
    root = ET.parse(USERS_XML).getroot()
    profile = root.find(f"profiles/{user(SGBV_USER).findtext('profile')}")
    assert profile is not None
    assert profile.findtext("readonly") == "2"  # the plugin sets max_execution_time


def test_the_writer_has_no_row_filter() -> None:
    for name in (u.tag for u in users() if u.tag not in (DASHBOARD_USER, SGBV_USER)):
        assert row_filters(name) == {}, name


# --- the filters as SQL on the real tables ------------------------------------------------


@pytest.fixture
def migrated(tmp_path: Path) -> Iterator[Warehouse]:
    wh = EmbeddedWarehouse(tmp_path / "warehouse")
    try:
        migrate(wh)
        yield wh
    finally:
        wh.close()


@pytest.mark.clickhouse
def test_every_row_filter_is_valid_sql_on_its_table(migrated: Warehouse) -> None:
    existing = {
        r["name"]
        for r in migrated.query("SELECT name FROM system.tables WHERE database = currentDatabase()")
    }
    checked = 0
    for name in (DASHBOARD_USER, SGBV_USER):
        for table, condition in row_filters(name).items():
            if table not in existing:  # a filter for a table a migration will add
                continue
            assert migrated.query(f"SELECT count() AS n FROM {table} WHERE {condition}") == [
                {"n": 0}
            ]
            checked += 1
    assert checked >= len(tables_with_kind())  # dead letters among them


@pytest.mark.clickhouse
def test_the_filters_keep_sgbv_rows_from_the_dashboard_user_only(migrated: Warehouse) -> None:
    migrated.command(
        "INSERT INTO partner_activity (partner_id, kind, events) VALUES"
        " ('wcc_almaty', 'sgbv', 3), ('wcc_almaty', 'assistance', 9)"
    )
    # Kinds as the worker files them, and rows without one (stored before migration 0081):
    # an SGBV event sent to the assistance topic, or to no partner topic, is SGBV data too.
    migrated.command(
        "INSERT INTO deadletters (topic, kind, partner_id) VALUES"
        " ('partners.wcc_almaty.sgbv.v1', 'sgbv', 'wcc_almaty'),"
        " ('partners.wcc_almaty.assistance.v1', 'sgbv', 'wcc_almaty'),"
        " ('partners.wcc_almaty.assistance.v1', 'assistance', 'wcc_almaty'),"
        " ('not.a.topic', '', '')"
    )
    migrated.command(
        "INSERT INTO deadletters (topic, partner_id, raw) VALUES"
        " ('partners.wcc_almaty.sgbv.v1', 'wcc_almaty', ''),"
        " ('partners.wcc_almaty.assistance.v1', 'wcc_almaty', '{\"kind\": \"SGBV\"}'),"
        " ('partners.wcc_almaty.assistance.v1', 'wcc_almaty', '{\"kind\": \"assistance\"}'),"
        " ('not.a.topic', '', 'sgbv')"
    )
    seen = {
        table: migrated.query(f"SELECT count() AS n FROM {table} WHERE {condition}")[0]["n"]
        for table, condition in row_filters(DASHBOARD_USER).items()
        if table in ("partner_activity", "deadletters")
    }
    assert seen == {"partner_activity": 1, "deadletters": 3}


# --- the file as ClickHouse loads it ------------------------------------------------------

#: Run in a child process: chdb takes its configuration once per process.
_LOAD = """
import json, sys
import chdb
conn = chdb.connect(sys.argv[1])
def rows(sql):
    return [json.loads(line) for line in conn.query(sql, "JSONEachRow").bytes().splitlines()]
print(json.dumps({
    "users": sorted(r["name"] for r in rows("SELECT name FROM system.users")),
    "grants": {u: conn.query(f"SHOW GRANTS FOR {u}", "TSVRaw").bytes().decode().splitlines()
               for u in sys.argv[2:]},
    "policies": rows("SELECT short_name AS user, table, select_filter AS filter"
                     " FROM system.row_policies WHERE database = 'partnerhub'"),
}))
"""


def _load_in_clickhouse(tmp_path: Path) -> dict[str, Any]:
    """The users, grants and row policies ClickHouse makes of the file. The file's removal of
    the image's ``default`` user is left out: chdb runs its queries as ``default``."""
    (tmp_path / "users.d").mkdir()
    (tmp_path / "users.xml").write_text(
        "<clickhouse><profiles><default/></profiles><quotas><default/></quotas><users>"
        "<default><password/><networks><ip>::/0</ip></networks><profile>default</profile>"
        "<quota>default</quota><access_management>1</access_management></default>"
        "</users></clickhouse>",
        encoding="utf-8",
    )
    tree = ET.parse(USERS_XML)
    users_element = tree.getroot().find("users")
    assert users_element is not None
    for removed in users_element.findall("*[@remove]"):
        users_element.remove(removed)
    tree.write(tmp_path / "users.d" / "partnerhub.xml", encoding="utf-8")
    (tmp_path / "config.xml").write_text(
        f"<clickhouse><users_config>{tmp_path / 'users.xml'}</users_config></clickhouse>",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        **{
            element.attrib["from_env"]: "not-a-secret"
            for element in tree.getroot().iter()
            if "from_env" in element.attrib
        },
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _LOAD,
            f"{tmp_path / 'data'}?config-file={tmp_path / 'config.xml'}",
            DASHBOARD_USER,
            SGBV_USER,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.clickhouse
def test_clickhouse_loads_the_users_as_intended(tmp_path: Path) -> None:
    loaded = _load_in_clickhouse(tmp_path)
    assert {DASHBOARD_USER, SGBV_USER, "partnerhub_writer"} <= set(loaded["users"])
    assert loaded["grants"][SGBV_USER] == [
        f"GRANT SELECT ON {DATABASE}.sgbv_figures TO {SGBV_USER}"
    ]
    assert (
        f"REVOKE SELECT ON {DATABASE}.assistance_refs FROM {DASHBOARD_USER}"
        in (loaded["grants"][DASHBOARD_USER])
    )
    policies = {(p["user"], p["table"]): p["filter"] for p in loaded["policies"]}
    for table, condition in row_filters(DASHBOARD_USER).items():
        assert policies[(DASHBOARD_USER, table)] == condition
    # Everyone else reads every row of a filtered table (no policy, or the filter "1"); the
    # SGBV user has no grant on those tables at all.
    for (name, table), condition in policies.items():
        if name != DASHBOARD_USER:
            assert condition == "1", (name, table)
