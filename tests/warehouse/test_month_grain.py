"""The dashboards' month grain (``monthly_aggregates``) under two writers racing, and its
bounds: a batch rewrites only the month keys it touched, and no SGBV row reaches it.

The exactness under duplicates, out-of-order revisions, retractions and retried batches is
checked with the daily aggregates in ``test_warehouse_exactness.py``.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from schemas.vocabulary import CELLS
from tests.support import race_writers
from warehouse.bench import correction, random_fact
from warehouse.client import EmbeddedWarehouse, Warehouse
from warehouse.facts import refresh_aggregates, write_facts
from warehouse.migrate import load_migrations, migrate
from warehouse.monthly import _SUMMED, grain_columns
from warehouse.reconcile import month_grain_differing
from warehouse.tables import AGGREGATE_COLUMNS, AGGREGATE_KEY, MEASURES, MONTH_KEY, TOTALS_KEY

pytestmark = pytest.mark.clickhouse
T0 = datetime(2006, 7, 1, tzinfo=UTC)
Row = dict[str, Any]


def _facts(rng: random.Random, count: int) -> list[Row]:
    """Facts over two months, few partners, regions and origins: month keys are shared."""
    rows = []
    for _ in range(count):
        row = random_fact(rng, partners=("alpha", "bravo"), first_day=date(2006, 5, 20), days=20)
        row.update(region=rng.choice(("KZ-75", "KZ-71")), origin="RUS", population_type="refugee")
        rows.append(row)
    return rows


def _sink(wh: Warehouse, rows: list[Row]) -> None:
    write_facts(wh, rows)
    refresh_aggregates(wh, {(r["partner_id"], r["event_id"]) for r in rows})


def test_two_writers_racing_leave_the_month_grain_equal_to_the_daily_rows(
    tmp_path: Path,
) -> None:
    """Two sessions (two workers' worth of refreshes) write and correct events at the same
    month keys at the same time; afterwards every month row is its daily rows summed."""
    folder = tmp_path / "chdb"
    writers = [EmbeddedWarehouse(folder), EmbeddedWarehouse(folder)]
    try:
        migrate(writers[0])
        stories = []
        for seed in (1, 2):
            rng = random.Random(seed)
            facts = _facts(rng, 300)
            later = T0 + timedelta(minutes=seed)
            batches = [facts[i : i + 30] for i in range(0, len(facts), 30)]
            batches += [[correction(rng, f, later) for f in facts[i : i + 30]] for i in (0, 90)]
            stories.append(batches)
        race_writers(writers, stories, _sink)
        wh = writers[0]
        assert month_grain_differing(wh) == 0
        months = wh.query(
            "SELECT count() AS n, sum(events) AS events FROM monthly_aggregates FINAL"
        )
        assert months[0]["n"] > 0
        daily = wh.query(
            "SELECT sum(events) AS events FROM daily_aggregates FINAL WHERE kind != 'sgbv'"
        )
        assert months[0]["events"] == daily[0]["events"] > 0
    finally:
        for writer in writers:
            writer.close()


def test_a_batch_rewrites_only_the_month_keys_of_the_totals_groups_it_touched(
    migrated_warehouse: Warehouse,
) -> None:
    wh = migrated_warehouse
    rng = random.Random(3)
    facts = [f for f in _facts(rng, 200) if f["kind"] != "sgbv"]
    _sink(wh, facts)
    before = {
        tuple(r[k] for k in MONTH_KEY): r["updated_at"]
        for r in wh.query("SELECT * FROM monthly_aggregates FINAL")
    }
    moved = dict(facts[0], revision=2, occurred_on=date(2006, 3, 3), ingested_at=T0)
    _sink(wh, [moved])
    after = {
        tuple(r[k] for k in MONTH_KEY): r
        for r in wh.query("SELECT * FROM monthly_aggregates FINAL")
    }
    old_key = (facts[0]["occurred_on"].replace(day=1), *(facts[0][k] for k in MONTH_KEY[1:]))
    new_key = (date(2006, 3, 1), *old_key[1:])
    rewritten = {key for key, row in after.items() if before.get(key) != row["updated_at"]}
    # A totals group's month keys are recomputed together, from one read of its daily rows.
    groups = {totals_group(old_key), totals_group(new_key)}
    assert rewritten == {key for key in after if totals_group(key) in groups}
    assert {old_key, new_key} <= rewritten
    assert len(rewritten) < len(after) / 10
    assert after[new_key]["events"] == 1
    assert sum(after[new_key][c] for c in CELLS) == sum(moved[c] for c in CELLS)
    assert month_grain_differing(wh) == 0


def totals_group(month_key: tuple[Any, ...]) -> tuple[Any, ...]:
    """The monthly-totals group of a month key (in ``MONTH_KEY`` order)."""
    return tuple(month_key[MONTH_KEY.index(k)] for k in TOTALS_KEY)


def test_sgbv_rows_never_reach_the_month_grain(migrated_warehouse: Warehouse) -> None:
    wh = migrated_warehouse
    rng = random.Random(4)
    facts = _facts(rng, 120)
    assert any(f["kind"] == "sgbv" for f in facts)
    _sink(wh, facts)
    kinds = wh.query("SELECT groupUniqArray(kind) AS k FROM monthly_aggregates")[0]["k"]
    assert "sgbv" not in kinds
    assert len(kinds) > 1
    sgbv_days = wh.query("SELECT count() AS n FROM month_group_days WHERE kind = 'sgbv'")[0]["n"]
    assert sgbv_days == 0
    assert month_grain_differing(wh) == 0


def test_a_warehouse_migrated_before_the_month_grains_gets_them_filled(
    any_warehouse: Warehouse,
) -> None:
    """0015, 0016 and 0024 applied after 0020 (which added a measure to the daily rows, as on
    a warehouse that already held data) fill the grains from the daily aggregates, and 0083
    their access path; the refresh then keeps them exact."""
    wh = any_warehouse
    grains = (
        "0015_monthly_aggregates",
        "0016_monthly_totals",
        "0024_monthly_groups",
        "0083_month_group_days",
    )
    earlier = [m for m in load_migrations() if m.name not in grains]
    migrate(wh, earlier)
    rng = random.Random(5)
    facts = _facts(rng, 150)
    for fact in facts:
        fact["curriculum_sessions"] = 2 if fact["kind"] == "protection_training" else 0
    _sink_without_grains(wh, facts)
    assert migrate(wh) == list(grains)
    assert month_grain_differing(wh) == 0
    days = "SELECT count() AS n, sum(events) AS events FROM {} FINAL WHERE kind != 'sgbv'"
    assert wh.query(days.format("month_group_days")) == wh.query(days.format("daily_aggregates"))
    _sink(wh, [correction(rng, fact, T0 + timedelta(days=1)) for fact in facts[:40]])
    assert month_grain_differing(wh) == 0
    open_facts = [f for f in facts if f["kind"] != "sgbv"]
    for table in ("monthly_groups", "monthly_totals"):
        summed = wh.query(
            "SELECT sum(events) AS events, sum(curriculum_sessions) AS curriculum"
            f" FROM {table} FINAL"
        )[0]
        assert summed["events"] == len(open_facts), table
        assert summed["curriculum"] == sum(f["curriculum_sessions"] for f in open_facts)


def _sink_without_grains(wh: Warehouse, rows: list[Row]) -> None:
    """What a sink batch wrote before the month grains existed: facts and daily rows."""
    write_facts(wh, rows)
    key = ", ".join("occurred_on" if k == "day" else k for k in AGGREGATE_KEY)
    sums = ", ".join(f"sum({c})" for c in (*CELLS, *MEASURES))
    wh.command(
        f"INSERT INTO daily_aggregates ({', '.join(AGGREGATE_COLUMNS)})"
        f" SELECT {key}, count(), {sums}, now64(6) FROM facts GROUP BY {key}"
    )


def test_grain_columns_sums_the_groups_rows_per_key() -> None:
    """The totals of ``monthly_totals`` are the groups' sums summed again per totals key."""

    def group(region: str, audience: str, events: int, value: float) -> Row:
        sums = {f"total_{c}": 0 for c in _SUMMED}
        return {
            "region": region,
            "group": audience,
            **sums,
            "total_events": events,
            "total_value_usd": value,
        }

    rows = [group("KZ-75", "a", 2, 0.5), group("KZ-71", "a", 1, 1.0), group("KZ-75", "b", 3, 0.25)]
    stamp = datetime(2006, 8, 1, tzinfo=UTC)
    totals = grain_columns(rows, ("region",), stamp)
    assert totals["region"] == ["KZ-71", "KZ-75"]
    assert totals["events"] == [1, 5]
    assert totals["value_usd"] == [1.0, 0.75]
    assert totals["updated_at"] == [stamp, stamp]
    assert list(totals) == ["region", *_SUMMED, "updated_at"]
    groups = grain_columns(rows, ("region", "group"), stamp)
    assert groups["events"] == [1, 2, 3]
