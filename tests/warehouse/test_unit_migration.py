"""Migration 0019 gives the revisions written before it their unit, from facts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from warehouse.bench import random_fact
from warehouse.client import EmbeddedWarehouse
from warehouse.migrate import load_migrations, migrate
from warehouse.tables import FACT_COLUMNS, FACT_REVISION_COLUMNS

pytestmark = pytest.mark.clickhouse
UNIT = "0019_fact_revisions_unit"


def test_revisions_written_before_0019_get_their_unit(tmp_path: Path) -> None:
    migrations = load_migrations()
    with EmbeddedWarehouse(tmp_path / "chdb") as wh:
        migrate(wh, [m for m in migrations if m.name != UNIT])
        rng = random.Random(19)
        now = datetime(2006, 9, 1, tzinfo=UTC)
        rows = [random_fact(rng, first_day=date(2006, 1, 1), days=60, now=now) for _ in range(300)]
        # A copy written again later (a retried batch): facts and the lookup hold both.
        rows += [dict(r, ingested_at=now + timedelta(minutes=5)) for r in rows[:40]]
        wh.insert("facts", {c: [r[c] for r in rows] for c in FACT_COLUMNS})
        before = [c for c in FACT_REVISION_COLUMNS if c != "unit"]  # as write_facts wrote
        wh.insert("fact_revisions", {c: [r[c] for r in rows] for c in before})

        assert migrate(wh, migrations) == [UNIT]

        key = "partner_id, event_id, revision, ingested_at, `offset`"
        (counts,) = wh.query(
            f"SELECT count() AS n, uniqExact({key}) AS copies, countIf(unit != '') AS units"
            " FROM fact_revisions"
        )
        assert counts["n"] == counts["copies"] == len(rows)  # no copy left twice
        (facts,) = wh.query("SELECT countIf(unit != '') AS units FROM facts")
        assert counts["units"] == facts["units"] > 0
        # An older copy facts no longer holds keeps no unit: it never wins. Each winner has
        # the unit (and the other columns) of the copy facts keeps.
        winners = (
            "SELECT partner_id, event_id, revision,"
            " argMax(tuple(unit, quantity, curriculum_sessions), (ingested_at, `offset`)) AS w"
            " FROM fact_revisions GROUP BY partner_id, event_id, revision"
        )
        (wrong,) = wh.query(
            f"SELECT count() AS n, countIf(w != tuple(f.unit, f.quantity,"
            f" f.curriculum_sessions)) AS differ FROM ({winners}) AS r"
            " INNER JOIN facts AS f FINAL USING (partner_id, event_id, revision)"
        )
        assert wrong["n"] == len(rows) - 40
        assert wrong["differ"] == 0
