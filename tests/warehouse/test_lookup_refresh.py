"""The refresh finds events and keys through the lookup tables' primary keys, and stays exact
when facts' merges drop a rewritten revision's earlier content."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from schemas.vocabulary import CELLS
from warehouse.bench import random_fact
from warehouse.client import Warehouse
from warehouse.facts import (
    refresh_aggregates,
    refresh_partner_activity,
    totals_by_month,
    totals_from_facts,
    tsv,
    write_facts,
)
from warehouse.revisions import revisions_sql

pytestmark = pytest.mark.clickhouse
T0 = datetime(2006, 5, 1, tzinfo=UTC)


def _granules(wh: Warehouse, sql: str, parameters: dict[str, str]) -> tuple[int, int]:
    """(selected, total) granules of the table read, from ``EXPLAIN indexes = 1``."""
    plan = [str(next(iter(r.values()))) for r in wh.query(f"EXPLAIN indexes = 1 {sql}", parameters)]
    line = [p for p in plan if p.strip().startswith("Granules:") and "/" in p][-1]
    selected, total = line.split(":")[1].strip().split("/")
    return int(selected), int(total)


def test_the_touched_events_are_found_by_primary_key_not_by_a_scan(
    migrated_warehouse: Warehouse,
) -> None:
    wh = migrated_warehouse
    rng = random.Random(4)
    rows = [random_fact(rng, now=T0) for _ in range(20_000)]
    write_facts(wh, rows)
    wh.command("OPTIMIZE TABLE fact_revisions FINAL")
    touched = [(r["partner_id"], r["event_id"]) for r in rows[:10]]
    selected, total = _granules(wh, revisions_sql(), {"touched": tsv(touched)})
    assert total >= 20_000 // 256
    assert selected <= len(touched)  # one 256-row granule per event, not the table


def test_a_revision_rewritten_elsewhere_is_exact_after_merges(
    migrated_warehouse: Warehouse,
) -> None:
    """A producer reusing (partner, event, revision) with another region: facts' merge keeps
    only the later row, yet the earlier key must still be emptied."""
    wh = migrated_warehouse
    rng = random.Random(9)
    first = random_fact(rng, partners=("alpha",), first_day=date(2006, 3, 1), days=1, now=T0)
    first.update(dict.fromkeys(CELLS, 0), female_18_59=3, region="KZ-ALA")
    write_facts(wh, [first])
    refresh_aggregates(wh, {("alpha", first["event_id"])})
    elsewhere = dict(first, region="KZ-AST", ingested_at=T0 + timedelta(minutes=1))
    write_facts(wh, [elsewhere])
    for table in ("facts", "fact_revisions", "fact_keys"):
        wh.command(f"OPTIMIZE TABLE {table} FINAL")
    refresh_aggregates(wh, {("alpha", first["event_id"])})
    refresh_partner_activity(wh, {"alpha"})
    (total,) = totals_by_month(wh)
    assert (total["region"], total["female_18_59"], total["events"]) == ("KZ-AST", 3, 1)
    assert totals_from_facts(wh) == totals_by_month(wh)
    activity = wh.query("SELECT events FROM partner_activity FINAL WHERE partner_id = 'alpha'")
    assert activity == [{"events": 1}]
