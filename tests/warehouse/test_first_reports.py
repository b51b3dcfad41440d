"""The first-report grain behind the partner scorecard's timeliness
(``warehouse/first_reports.py``): exact under duplicates, a revision 1 sent again with another
day or kind, corrections, retried batches and two writers racing. Checked against a count made
here in Python from the rows written, and against the module's recomputation from the facts.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support import race_writers
from warehouse import first_reports
from warehouse.bench import correction, random_fact
from warehouse.client import EmbeddedWarehouse, Warehouse
from warehouse.facts import write_facts
from warehouse.migrate import migrate

pytestmark = pytest.mark.clickhouse
T0 = datetime(2006, 7, 1, tzinfo=UTC)
Row = dict[str, Any]
Cell = tuple[str, str, date]


def _sink(wh: Warehouse, rows: list[Row]) -> None:
    """What the worker's refresh does for a batch's first reports."""
    write_facts(wh, rows)
    first_reports.refresh_first_reports(
        wh, {(r["partner_id"], r["event_id"]) for r in rows if r["revision"] == 1}
    )


def _expected(written: list[Row]) -> dict[Cell, Counter[int]]:
    """Per partner, kind and day: how many events were first reported d days after the day.
    The winning revision-1 copy of an event is its last written (ingested_at, then offset);
    SGBV is left out."""
    winners: dict[tuple[str, str], Row] = {}
    for row in written:
        if row["revision"] != 1:
            continue
        key = (row["partner_id"], row["event_id"])
        best = winners.get(key)
        if best is None or (row["ingested_at"], row["offset"]) >= (
            best["ingested_at"],
            best["offset"],
        ):
            winners[key] = row
    cells: dict[Cell, Counter[int]] = {}
    for row in winners.values():
        if row["kind"] == "sgbv":
            continue
        delay = (row["reported_at"].date() - row["occurred_on"]).days
        cell = (row["partner_id"], row["kind"], row["occurred_on"])
        cells.setdefault(cell, Counter())[min(max(delay, 0), first_reports.LAST_DELAY)] += 1
    return cells


def _stored(wh: Warehouse) -> dict[Cell, Counter[int]]:
    rows = wh.query(
        "SELECT partner_id, kind, day, events, by_delay FROM first_report_days FINAL"
        " WHERE events > 0"
    )
    out: dict[Cell, Counter[int]] = {}
    for r in rows:
        counts = Counter({d: n for d, n in enumerate(r["by_delay"]) if n})
        assert sum(counts.values()) == r["events"]
        out[(r["partner_id"], r["kind"], r["day"])] = counts
    return out


def _story(rng: random.Random, count: int, start: int) -> list[list[Row]]:
    """Batches of new facts, then: duplicates, revision 1 sent again (later) with another day
    or kind and a later report, corrections, and one batch written twice (a retry)."""
    facts = []
    for i in range(count):
        row = random_fact(rng, partners=("alpha", "bravo"), first_day=date(2006, 5, 1), days=40)
        delay = rng.choice((0, 1, 3, 20, 46, 90, 400))
        row.update(
            reported_at=datetime.combine(row["occurred_on"], datetime.min.time(), UTC)
            + timedelta(days=delay, hours=9),
            ingested_at=T0,
            offset=start + i,
        )
        facts.append(row)
    batches = [facts[i : i + 40] for i in range(0, len(facts), 40)]
    later = T0 + timedelta(minutes=5)
    resent = []
    for n, row in enumerate(rng.sample(facts, count // 5)):
        change = rng.choice(
            (
                {"occurred_on": row["occurred_on"] + timedelta(days=rng.randint(-3, 3))},
                {"kind": rng.choice(("assistance", "sgbv", "hiv_training"))},
                {"reported_at": row["reported_at"] + timedelta(days=30)},
            )
        )
        resent.append(dict(row, **change, ingested_at=later, offset=start + count + n))
    duplicates = [dict(r) for r in rng.sample(facts, count // 10)]
    corrections = [correction(rng, r, later) for r in rng.sample(facts, count // 10)]
    return [*batches, resent, duplicates, corrections, batches[1]]


def test_the_grain_equals_a_count_of_first_reports(tmp_path: Path) -> None:
    rng = random.Random(7)
    with EmbeddedWarehouse(tmp_path / "chdb") as wh:
        migrate(wh)
        written: list[Row] = []
        for batch in _story(rng, 400, 0):
            _sink(wh, batch)
            written += batch
        expected = _expected(written)
        assert len(expected) > 50  # many days, partners and kinds
        assert any(first_reports.LAST_DELAY in c for c in expected.values())  # a year late
        assert _stored(wh) == expected
        assert first_reports.differing(wh) == 0
        # SGBV never reaches either table.
        for table in ("first_reports", "first_report_days"):
            assert wh.query(f"SELECT count() AS n FROM {table} WHERE kind = 'sgbv'")[0]["n"] == 0


def test_a_revision_1_moved_to_another_day_leaves_its_old_day(tmp_path: Path) -> None:
    fact = random_fact(random.Random(1), partners=("alpha",), first_day=date(2006, 3, 1), days=1)
    fact.update(kind="assistance", indicator="kits", ingested_at=T0, offset=1)
    moved = dict(fact, occurred_on=date(2006, 3, 9), ingested_at=T0 + timedelta(1), offset=2)
    with EmbeddedWarehouse(tmp_path / "chdb") as wh:
        migrate(wh)
        _sink(wh, [fact])
        _sink(wh, [moved])
        rows = wh.query("SELECT day, events FROM first_report_days FINAL ORDER BY day")
        assert rows == [
            {"day": date(2006, 3, 1), "events": 0},
            {"day": date(2006, 3, 9), "events": 1},
        ]
        _sink(wh, [fact])  # the older copy again: the later written still wins
        assert _stored(wh) == _expected([fact, moved, fact])
        assert first_reports.differing(wh) == 0


def test_two_writers_racing_leave_the_grain_exact(tmp_path: Path) -> None:
    """Two sessions write the same partners' days at once, each sending the other's events'
    revision 1 again too; nothing fails, and once the events are touched again the grain is
    what a count of everything written says."""
    folder = tmp_path / "chdb"
    writers = [EmbeddedWarehouse(folder), EmbeddedWarehouse(folder)]
    stories = [_story(random.Random(seed), 200, seed * 10_000) for seed in (1, 2)]
    stories[0].append([dict(r, ingested_at=T0 + timedelta(hours=1)) for r in stories[1][0]])
    stories[1].append([dict(r, ingested_at=T0 + timedelta(hours=2)) for r in stories[0][0]])
    try:
        migrate(writers[0])

        race_writers(writers, stories, _sink)
        everything = [row for story in stories for batch in story for row in batch]
        # As for every refreshed table (docs/warehouse.md, "Concurrency"): a refresh that read
        # before the other writer's rows landed may win with older rows until the same events
        # are touched again. Touch them all once more; then the grain must be exact.
        first_reports.refresh_first_reports(
            writers[0], {(r["partner_id"], r["event_id"]) for r in everything}
        )
        assert _stored(writers[0]) == _expected(everything)
        assert first_reports.differing(writers[0]) == 0
    finally:
        for wh in writers:
            wh.close()
