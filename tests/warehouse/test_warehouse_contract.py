"""The warehouse interface, its migrations and its tables, on every reachable backend.

Backends: ``embedded`` (chdb sessions, always), ``connect-chdb`` (the clickhouse-connect
adapter over clickhouse-connect's in-process chdb backend, always: the server adapter's code
without a server), ``server`` (a ClickHouse server at ``CLICKHOUSE_URL``, skipped with a
reason when it is not set). chdb allows one data folder per process, so every fixture closes
its warehouse before the next test opens another.
"""

from __future__ import annotations

import hashlib
import socket
import typing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from schemas import contract
from schemas.vocabulary import CELLS
from warehouse.client import (
    EmbeddedWarehouse,
    ServerWarehouse,
    StatementFailed,
    Warehouse,
    WarehouseError,
    WarehouseUnavailable,
    open_warehouse,
)
from warehouse.migrate import Migration, MigrationError, load_migrations, migrate
from warehouse.settings import ClickHouseSettings
from warehouse.tables import MIGRATIONS_TABLE, TABLES

pytestmark = pytest.mark.clickhouse


#: Where each field of the event contract (``schemas.contract``) is stored: columns of
#: ``facts`` unless named ``table.column``; ``<cells>`` is the ten sex/age cell columns. A
#: field the warehouse deliberately drops would read ``not stored: <why>``; none does. Kept
#: in step with the models by the test below.
CONTRACT_FIELDS: dict[str, str] = {
    "event_id": "event_id",
    "revision": "revision",
    "status": "status",
    "partner_id": "partner_id",
    "kind": "kind",
    "occurred_on": "occurred_on",
    "reported_at": "reported_at",
    "region": "region",
    "population_type": "population_type",
    "origin": "origin",
    "beneficiaries.female": "<cells>",
    "beneficiaries.male": "<cells>",
    # Keyed hashes, one row each, for the duplicate-assistance signal; facts keep the count.
    "beneficiary_refs": "assistance_refs.ref, ref_count",
    "payload.assistance.category": "indicator, payload, assistance_refs.category",
    "payload.assistance.quantity": "quantity, payload",
    "payload.assistance.unit": "unit, payload",
    "payload.assistance.value_usd": "value_usd, payload",
    "payload.income_generation.activity": "indicator, payload",
    "payload.income_generation.stage": "indicator, payload",
    "payload.income_generation.amount_usd": "value_usd, payload",
    "payload.sgbv.activity": "indicator, payload",
    "payload.sgbv.incident_type": "indicator, payload",
    "payload.sgbv.services": "services, payload",
    "payload.hiv_training.audience": "indicator, payload",
    "payload.hiv_training.topic": "indicator, payload",
    "payload.hiv_training.sessions": "sessions, payload",
    "payload.hiv_training.hours": "hours, payload",
    "payload.durable_solutions.solution": "indicator, payload",
    "payload.durable_solutions.stage": "indicator, payload",
    "payload.durable_solutions.cases": "cases, payload",
    "payload.protection_training.audience": "indicator, payload",
    "payload.protection_training.topic": "indicator, payload",
    "payload.protection_training.sessions": "sessions, payload",
    "payload.protection_training.hours": "hours, payload",
    "payload.protection_training.curriculum": "curriculum_sessions, payload",
    "payload.rsd_casework.procedure": "indicator, payload",
    "payload.rsd_casework.instance": "indicator, payload",
    "payload.rsd_casework.stage": "indicator, payload",
    "payload.rsd_casework.cases": "cases, payload",
}


@pytest.fixture
def wh(any_warehouse: Warehouse) -> Warehouse:
    """An empty warehouse of each adapter (tests/conftest.py)."""
    return any_warehouse


@pytest.fixture
def migrated(migrated_warehouse: Warehouse) -> Warehouse:
    return migrated_warehouse


SAMPLE_DDL = """
CREATE TABLE sample (
    s String, lc LowCardinality(String), u32 UInt32, u64 UInt64, f Float64, d Date,
    t DateTime64(3, 'UTC'), arr Array(LowCardinality(String)), `offset` UInt64,
    filled String DEFAULT 'default'
) ENGINE = MergeTree ORDER BY s
"""


class TestWarehouseContract:
    """What every adapter promises: types round-trip, parameters bind, errors classify."""

    def test_insert_and_query_round_trip_python_values(self, wh: Warehouse) -> None:
        wh.command(SAMPLE_DDL)
        when = datetime(2006, 5, 17, 9, 30, 1, 250000, tzinfo=UTC)
        wh.insert(
            "sample",
            {
                "s": ["it's \\ a\ttab\nline", "ключ"],
                "lc": ["x", "y"],
                "u32": [4_000_000_000, 0],
                "u64": [2**63 + 5, 1],
                "f": [1.5, 0],
                "d": [date(2006, 1, 31), date(2006, 12, 1)],
                "t": [when, when],
                "arr": [[], ["medical", "legal"]],
                "offset": [7, 8],
            },
        )
        rows = wh.query("SELECT * FROM sample ORDER BY u32 DESC")
        assert rows == [
            {
                "s": "it's \\ a\ttab\nline",
                "lc": "x",
                "u32": 4_000_000_000,
                "u64": 2**63 + 5,
                "f": 1.5,
                "d": date(2006, 1, 31),
                "t": when,
                "arr": [],
                "offset": 7,
                "filled": "default",
            },
            {
                "s": "ключ",
                "lc": "y",
                "u32": 0,
                "u64": 1,
                "f": 0.0,
                "d": date(2006, 12, 1),
                "t": when,
                "arr": ["medical", "legal"],
                "offset": 8,
                "filled": "default",
            },
        ]
        assert rows[0]["t"].utcoffset() is not None

    def test_bytes_go_into_string_columns_unchanged(self, wh: Warehouse) -> None:
        wh.command("CREATE TABLE raw (b String) ENGINE = MergeTree ORDER BY tuple()")
        wh.insert("raw", {"b": [b"\xff\x00{not json", b"ok"]})
        assert wh.query("SELECT hex(b) AS h FROM raw ORDER BY h") == [
            {"h": "6F6B"},
            {"h": "FF007B6E6F74206A736F6E"},
        ]

    def test_parameters_bind_server_side_and_cannot_inject(self, wh: Warehouse) -> None:
        wh.command(SAMPLE_DDL)
        wh.insert("sample", {"s": ["a", "b'; DROP TABLE sample; --"], "u32": [1, 2]})
        hostile = "b'; DROP TABLE sample; --"
        rows = wh.query("SELECT u32 FROM sample WHERE s = {s:String}", {"s": hostile})
        assert rows == [{"u32": 2}]
        rows = wh.query(
            "SELECT {d:Date} AS d, {t:DateTime64(3, 'UTC')} AS t, {n:UInt64} AS n,"
            " {xs:Array(String)} AS xs, {text:String} AS text",
            {
                "d": date(2006, 3, 1),
                "t": datetime(2006, 3, 1, 23, 59, 59, 999000, tzinfo=UTC),
                "n": 2**64 - 1,
                "xs": ["a'b", "c\\d"],
                "text": "line\nnext\ttab 'q'",
            },
        )
        assert rows == [
            {
                "d": date(2006, 3, 1),
                "t": datetime(2006, 3, 1, 23, 59, 59, 999000, tzinfo=UTC),
                "n": 2**64 - 1,
                "xs": ["a'b", "c\\d"],
                "text": "line\nnext\ttab 'q'",
            }
        ]
        assert wh.query("SELECT count() AS n FROM sample") == [{"n": 2}]

    def test_command_with_parameters(self, wh: Warehouse) -> None:
        wh.command(SAMPLE_DDL)
        wh.command("INSERT INTO sample (s, u32) SELECT {s:String}, {n:UInt32}", {"s": "z", "n": 9})
        assert wh.query("SELECT s, u32 FROM sample") == [{"s": "z", "u32": 9}]

    def test_empty_insert_is_a_no_op_and_unequal_columns_are_refused(self, wh: Warehouse) -> None:
        wh.command(SAMPLE_DDL)
        wh.insert("sample", {"s": [], "u32": []})
        with pytest.raises(ValueError, match="unequal length"):
            wh.insert("sample", {"s": ["a", "b"], "u32": [1]})
        with pytest.raises(ValueError, match="identifier"):
            wh.insert("sample; DROP TABLE sample", {"s": ["a"]})
        assert wh.query("SELECT count() AS n FROM sample") == [{"n": 0}]

    def test_a_bad_statement_is_a_bug_not_an_outage(self, wh: Warehouse) -> None:
        with pytest.raises(StatementFailed, match=r"UNKNOWN_TABLE|does not exist"):
            wh.query("SELECT * FROM no_such_table")
        with pytest.raises(StatementFailed):
            wh.command("CREATE TABLE broken (")
        with pytest.raises(StatementFailed):
            wh.insert("no_such_table", {"a": [1]})
        with pytest.raises(StatementFailed):
            wh.query("SELECT {x:String} AS x")  # a placeholder without its value

    def test_close_is_idempotent_and_use_after_close_fails(self, wh: Warehouse) -> None:
        wh.close()
        wh.close()
        with pytest.raises(WarehouseError, match="closed"):
            wh.query("SELECT 1")


# --- migrations --------------------------------------------------------------------------


def test_migrate_applies_in_order_records_checksums_and_is_idempotent(wh: Warehouse) -> None:
    files = load_migrations()
    assert [m.name for m in files] == sorted(m.name for m in files)
    assert migrate(wh) == [m.name for m in files]
    assert migrate(wh) == []
    recorded = wh.query(f"SELECT name, checksum FROM {MIGRATIONS_TABLE} ORDER BY name")
    assert recorded == [
        {"name": m.name, "checksum": hashlib.sha256(m.sql.encode()).hexdigest()} for m in files
    ]
    tables = wh.query("SELECT name FROM system.tables WHERE database = currentDatabase()")
    assert {*TABLES, MIGRATIONS_TABLE} <= {r["name"] for r in tables}


def test_a_new_migration_is_applied_alone_and_an_edited_one_is_refused(
    tmp_path: Path,
) -> None:
    first = Migration("0001_one", "CREATE TABLE IF NOT EXISTS one (a UInt8)\nENGINE = Log;\n")
    second = Migration(
        "0002_two",
        "-- two statements, comments ignored\n"
        "CREATE TABLE IF NOT EXISTS two (a UInt8) ENGINE = Log;\n"
        "-- only a comment;\n"
        "INSERT INTO two VALUES (1);\n",
    )
    with EmbeddedWarehouse(tmp_path / "chdb") as wh:
        assert migrate(wh, [first]) == ["0001_one"]
        assert migrate(wh, [first, second]) == ["0002_two"]
        assert wh.query("SELECT a FROM two") == [{"a": 1}]
        edited = Migration(first.name, first.sql.replace("UInt8", "UInt16"))
        with pytest.raises(MigrationError, match="0001_one was changed"):
            migrate(wh, [edited, second])


def test_migration_files_are_numbered_once(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="number 0001"):
        load_migrations(tmp_path)
    (tmp_path / "0001_b.sql").unlink()
    (tmp_path / "two.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        load_migrations(tmp_path)


# --- the tables agree with the contract and with tables.py -------------------------------

#: The column types the issue specifies, table by table (system.columns spelling).
EXPECTED_TYPES: dict[str, dict[str, str]] = {
    "facts": {
        "event_id": "String",
        "revision": "UInt32",
        "status": "LowCardinality(String)",
        "partner_id": "LowCardinality(String)",
        "kind": "LowCardinality(String)",
        "occurred_on": "Date",
        "reported_at": "DateTime64(3, 'UTC')",
        "region": "LowCardinality(String)",
        "population_type": "LowCardinality(String)",
        "origin": "LowCardinality(String)",
        "indicator": "LowCardinality(String)",
        **dict.fromkeys(CELLS, "UInt32"),
        "quantity": "Float64",
        "unit": "LowCardinality(String)",
        "value_usd": "Float64",
        "sessions": "UInt32",
        "hours": "Float64",
        "cases": "UInt32",
        "curriculum_sessions": "UInt32",
        "services": "Array(LowCardinality(String))",
        "ref_count": "UInt32",
        "payload": "String",
        "topic": "LowCardinality(String)",
        "partition": "UInt32",
        "offset": "UInt64",
        "published_at": "DateTime64(3, 'UTC')",
        "ingested_at": "DateTime64(3, 'UTC')",
    },
    "assistance_refs": {
        "partner_id": "LowCardinality(String)",
        "event_id": "String",
        "revision": "UInt32",
        "month": "Date",
        "category": "LowCardinality(String)",
        "ref": "String",
        "ingested_at": "DateTime64(3, 'UTC')",
    },
    "daily_aggregates": {
        "day": "Date",
        **dict.fromkeys(
            ("partner_id", "region", "kind", "population_type", "origin", "indicator"),
            "LowCardinality(String)",
        ),
        "events": "UInt64",
        **dict.fromkeys(CELLS, "UInt64"),
        "quantity": "Float64",
        "value_usd": "Float64",
        "sessions": "UInt64",
        "hours": "Float64",
        "cases": "UInt64",
        "curriculum_sessions": "UInt64",
        "updated_at": "DateTime64(6, 'UTC')",
    },
    "deadletters": {
        "topic": "LowCardinality(String)",
        "kind": "LowCardinality(String)",
        "partition": "UInt32",
        "offset": "UInt64",
        "event_index": "Int32",
        "partner_id": "LowCardinality(String)",
        "codes": "Array(LowCardinality(String))",
        "reasons": "String",
        "raw": "String",
        "published_at": "DateTime64(3, 'UTC')",
        "received_at": "DateTime64(3, 'UTC')",
    },
    "partner_activity": {
        "partner_id": "LowCardinality(String)",
        "kind": "LowCardinality(String)",
        "events": "UInt64",
        "last_occurred_on": "Date",
        "last_reported_at": "DateTime64(3, 'UTC')",
        "last_ingested_at": "DateTime64(3, 'UTC')",
        "updated_at": "DateTime64(6, 'UTC')",
    },
    "alerts": {
        "alert_id": "String",
        "alert_type": "LowCardinality(String)",
        "raised_at": "DateTime64(3, 'UTC')",
        "month": "Date",
        "category": "String",
        "partners": "Array(String)",
        "overlap": "UInt32",
        "details": "String",
    },
}

EXPECTED_ENGINES = {
    "facts": ("ReplacingMergeTree(ingested_at)", "partner_id, event_id, revision"),
    "assistance_refs": (
        "ReplacingMergeTree(ingested_at)",
        "month, category, ref, partner_id, event_id, revision",
    ),
    "daily_aggregates": (
        "ReplacingMergeTree(updated_at)",
        "day, partner_id, region, kind, population_type, origin, indicator",
    ),
    "monthly_aggregates": (
        "ReplacingMergeTree(updated_at)",
        "kind, month, partner_id, region, population_type, origin, indicator",
    ),
    "monthly_groups": (
        "ReplacingMergeTree(updated_at)",
        "kind, month, partner_id, region, population_type, origin, indicator_group",
    ),
    "monthly_totals": (
        "ReplacingMergeTree(updated_at)",
        "kind, month, partner_id, region, population_type, origin",
    ),
    "month_group_days": (
        "ReplacingMergeTree(updated_at)",
        "kind, toStartOfMonth(day), partner_id, region, population_type, origin, indicator, day",
    ),
    "deadletters": ("ReplacingMergeTree", "topic, partition, offset, event_index"),
    "first_reports": (
        "ReplacingMergeTree(version, is_deleted)",
        "partner_id, kind, occurred_on, event_id",
    ),
    "first_report_days": ("ReplacingMergeTree(updated_at)", "day, partner_id, kind"),
    "partner_activity": ("ReplacingMergeTree(updated_at)", "partner_id, kind"),
    "alerts": ("ReplacingMergeTree(raised_at)", "alert_id"),
}


def test_tables_match_the_column_lists_and_the_specified_types(migrated: Warehouse) -> None:
    rows = migrated.query(
        "SELECT table, name, type FROM system.columns WHERE database = currentDatabase()"
        " ORDER BY table, position"
    )
    actual: dict[str, dict[str, str]] = {}
    for row in rows:
        actual.setdefault(row["table"], {})[row["name"]] = row["type"]
    for table, columns in TABLES.items():
        assert tuple(actual[table]) == columns, table
    for table, types in EXPECTED_TYPES.items():
        assert actual[table] == types, table


def test_tables_use_the_specified_engines_and_sorting_keys(migrated: Warehouse) -> None:
    rows = migrated.query(
        "SELECT name, engine_full, sorting_key FROM system.tables"
        " WHERE database = currentDatabase()"
    )
    found = {r["name"]: r for r in rows}
    for table, (engine, sorting_key) in EXPECTED_ENGINES.items():
        assert found[table]["engine_full"].startswith(engine), table
        assert found[table]["sorting_key"].replace("`", "") == sorting_key, table


def _contract_fields() -> set[str]:
    """Every field path of the contract's event models (``payload.<kind>.<field>`` for
    payloads, ``beneficiaries.<sex>`` for the cells)."""
    paths: set[str] = set()
    for kind, model in contract.MODELS.items():
        for name, info in model.model_fields.items():
            if name == "payload":
                for payload in _payload_models(info.annotation):
                    paths.update(f"payload.{kind.value}.{f}" for f in payload.model_fields)
            elif name == "beneficiaries":
                paths.update(f"beneficiaries.{sex}" for sex in contract.Beneficiaries.model_fields)
            else:
                paths.add(name)
    return paths


def _payload_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _payload_models(arg)]


def test_every_contract_field_is_stored_or_documented_as_not_stored() -> None:
    fields = _contract_fields()
    assert fields - CONTRACT_FIELDS.keys() == set(), "contract fields with no column"
    assert CONTRACT_FIELDS.keys() - fields == set(), "documented fields not in the contract"
    for path, target in CONTRACT_FIELDS.items():
        if target.startswith("not stored"):
            continue
        for ref in target.split(", "):
            table, _, column = ref.rpartition(".")
            table = table or "facts"
            if column == "<cells>":
                assert set(CELLS) <= set(TABLES[table]), path
            else:
                assert column in TABLES[table], f"{path} -> {ref}"


def test_open_warehouse_picks_the_adapter_from_settings(tmp_path: Path) -> None:
    embedded = open_warehouse(ClickHouseSettings(), tmp_path)
    try:
        assert isinstance(embedded, EmbeddedWarehouse)
        assert embedded.data_dir == (tmp_path / "warehouse").resolve()
        assert embedded.query("SELECT currentDatabase() AS db") == [{"db": "partnerhub"}]
    finally:
        embedded.close()
    url = f"chdb://{tmp_path / 'other'}"
    server = open_warehouse(ClickHouseSettings(url=url, database="x"), tmp_path)
    try:
        assert isinstance(server, ServerWarehouse)
        assert server.query("SELECT currentDatabase() AS db") == [{"db": "x"}]
    finally:
        server.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_an_unreachable_server_is_unavailable_not_a_bug() -> None:
    with pytest.raises(WarehouseUnavailable, match="cannot connect"):
        ServerWarehouse(f"http://127.0.0.1:{_free_port()}", connect_timeout=1)


def test_a_server_that_does_not_answer_is_unavailable() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(WarehouseUnavailable):
            ServerWarehouse(f"http://127.0.0.1:{port}", connect_timeout=1, send_receive_timeout=1)
