"""Reconciliation month by month, and only the months that changed."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from warehouse.bench import correction, random_fact
from warehouse.client import Warehouse
from warehouse.facts import (
    columnar,
    refresh_aggregates,
    totals_by_month,
    totals_from_facts,
    write_facts,
)
from warehouse.reconcile import (
    FLOAT_TOTALS,
    GRAINS,
    grain_differing,
    month_from_aggregates,
    month_from_facts,
    month_from_monthly,
    month_summed_daily,
    reconcile,
)
from warehouse.tables import AGGREGATE_COLUMNS, MONTHLY_COLUMNS

pytestmark = pytest.mark.clickhouse
T0 = datetime(2006, 9, 1, tzinfo=UTC)


@pytest.fixture
def wh(migrated_warehouse: Warehouse) -> Warehouse:
    return migrated_warehouse


def _sink(wh: Warehouse, rows: list[dict[str, object]]) -> None:
    write_facts(wh, rows)
    refresh_aggregates(wh, {(str(r["partner_id"]), str(r["event_id"])) for r in rows})


def _month(day: date) -> date:
    return day.replace(day=1)


def test_months_are_checked_once_then_only_when_they_change(wh: Warehouse) -> None:
    rng = random.Random(12)
    facts = [random_fact(rng, first_day=date(2006, 1, 1), days=180, now=T0) for _ in range(900)]
    for start in range(0, len(facts), 300):
        _sink(wh, facts[start : start + 300])

    first = reconcile(wh)
    assert {c.month for c in first} == {_month(f["occurred_on"]) for f in facts}
    assert all(c.ok and c.totals > 0 for c in first)
    assert all(month_from_monthly(wh, c.month) for c in first), "the month grain is filled"
    assert reconcile(wh) == []  # nothing changed since

    corrected = [correction(rng, f, T0 + timedelta(hours=1)) for f in facts[:5]]
    _sink(wh, corrected)
    touched = {_month(f["occurred_on"]) for f in (*facts[:5], *corrected)}
    again = reconcile(wh)
    assert {c.month for c in again} == touched
    assert all(c.ok for c in again)
    # The months together are the whole-history check.
    months = sorted({c.month for c in first})
    per_month = [row for m in months for row in month_from_facts(wh, m)]
    assert per_month == totals_from_facts(wh) == totals_by_month(wh)


def test_a_month_that_differs_from_its_facts_is_reported(wh: Warehouse) -> None:
    rng = random.Random(13)
    facts = [random_fact(rng, first_day=date(2006, 4, 1), days=30, now=T0) for _ in range(50)]
    _sink(wh, facts)
    april = date(2006, 4, 1)
    row = wh.query("SELECT * FROM daily_aggregates FINAL WHERE events > 0 ORDER BY day LIMIT 1")[0]
    row.update(events=row["events"] + 5, updated_at=datetime.now(UTC))
    wh.insert("daily_aggregates", columnar("daily_aggregates", AGGREGATE_COLUMNS, [row]))
    (check,) = reconcile(wh, months=[april])
    assert check.month == april
    # The tampered row, and the true one it hides; each month grain (which holds no SGBV)
    # now differs from the daily rows in the same way.
    assert check.differing - check.monthly_differing == 2
    assert check.monthly_differing == (0 if row["kind"] == "sgbv" else 2 * len(GRAINS))
    assert month_from_aggregates(wh, april) != month_from_facts(wh, april)


def test_a_month_row_that_differs_from_its_daily_aggregates_is_reported(wh: Warehouse) -> None:
    rng = random.Random(14)
    facts = [random_fact(rng, first_day=date(2006, 5, 1), days=30, now=T0) for _ in range(50)]
    _sink(wh, facts)
    may = date(2006, 5, 1)
    (clean,) = reconcile(wh, months=[may])
    assert clean.ok
    assert month_from_monthly(wh, may) == month_summed_daily(wh, may)
    row = wh.query("SELECT * FROM monthly_aggregates FINAL WHERE events > 0 LIMIT 1")[0]
    row.update(male_18_59=row["male_18_59"] + 1, updated_at=datetime.now(UTC))
    wh.insert("monthly_aggregates", columnar("monthly_aggregates", MONTHLY_COLUMNS, [row]))
    (check,) = reconcile(wh, months=[may])
    assert not check.ok
    assert check.differing == check.monthly_differing == 2


def _tamper_month_row(wh: Warehouse, month: date, **changes: object) -> None:
    row = wh.query(
        "SELECT * FROM monthly_aggregates FINAL WHERE month = {m:Date} AND value_usd > 0"
        " ORDER BY partner_id, region, kind, population_type, origin, indicator LIMIT 1",
        {"m": month},
    )[0]
    row.update(changes, updated_at=datetime.now(UTC))
    wh.insert("monthly_aggregates", columnar("monthly_aggregates", MONTHLY_COLUMNS, [row]))


def test_the_grain_comparison_counts_lone_rows_once_and_forgives_only_rounding(
    wh: Warehouse,
) -> None:
    """The engine-side comparison: a month row no daily row explains counts 1, a float off
    in its last bits counts nothing, a float off by a cent counts 2 (the row and its truth)."""
    rng = random.Random(15)
    june = date(2006, 6, 1)
    _sink(wh, [random_fact(rng, first_day=june, days=30, now=T0) for _ in range(60)])
    assert grain_differing(wh, june) == 0
    row = wh.query(
        "SELECT * FROM monthly_aggregates FINAL WHERE month = {m:Date} LIMIT 1", {"m": june}
    )[0]
    row.update(partner_id="nobody", updated_at=datetime.now(UTC))  # a key no daily row has
    wh.insert("monthly_aggregates", columnar("monthly_aggregates", MONTHLY_COLUMNS, [row]))
    assert grain_differing(wh, june) == 1
    assert grain_differing(wh) == 1  # the whole history, without a month
    wh.command("DELETE FROM monthly_aggregates WHERE partner_id = 'nobody'")
    assert grain_differing(wh, june) == 0

    value = wh.query(
        "SELECT value_usd FROM monthly_aggregates FINAL WHERE month = {m:Date} AND value_usd > 0"
        " ORDER BY partner_id, region, kind, population_type, origin, indicator LIMIT 1",
        {"m": june},
    )[0]["value_usd"]
    _tamper_month_row(wh, june, value_usd=value * (1 + 1e-12))
    assert grain_differing(wh, june) == 0
    _tamper_month_row(wh, june, value_usd=value + 0.01)
    assert grain_differing(wh, june) == 2


def test_the_float_totals_are_exactly_the_float_columns(wh: Warehouse) -> None:
    """A measure added as Float64 must be compared within rounding, and only floats may be."""
    rows = wh.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase()"
        " AND table = 'daily_aggregates' AND type = 'Float64'"
    )
    assert sorted(r["name"] for r in rows) == sorted(FLOAT_TOTALS)
