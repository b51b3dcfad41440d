"""The touched events' revisions, read once for both refreshes (``warehouse/revisions.py``):
the keys and first-report copies derived from them in Python are what the engine's own
expressions give."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from schemas.vocabulary import CELLS
from warehouse.bench import correction, random_fact
from warehouse.client import Warehouse
from warehouse.facts import sum_by_key, write_facts
from warehouse.revisions import (
    LAST_DELAY,
    delay_days,
    first_copies,
    read_revisions,
    touched_keys,
    winners,
)
from warehouse.tables import AGGREGATE_KEY, MEASURES

T0 = datetime(2006, 7, 1, tzinfo=UTC)

#: The engine's delay, as the first reports' recomputation from the facts computes it.
ENGINE_DELAY = (
    "least(greatest(dateDiff('day', {day:Date}, toDate({at:DateTime64(3, 'UTC')})), 0), "
    f"{LAST_DELAY}) AS d"
)


@pytest.mark.clickhouse
@pytest.mark.parametrize(
    ("day", "reported_at"),
    [
        (date(2006, 7, 1), datetime(2006, 7, 1, 0, 0, tzinfo=UTC)),
        (date(2006, 7, 1), datetime(2006, 7, 1, 23, 59, 59, 999000, tzinfo=UTC)),
        (date(2006, 7, 1), datetime(2006, 7, 2, 0, 0, tzinfo=UTC)),
        (date(2006, 7, 10), datetime(2006, 7, 1, 12, 0, tzinfo=UTC)),  # before the day: 0
        (date(2008, 2, 28), datetime(2008, 3, 1, 1, 0, tzinfo=UTC)),  # a leap day between
        (date(2006, 1, 1), datetime(2007, 1, 1, 0, 0, tzinfo=UTC)),  # 365 days
        (date(2006, 1, 1), datetime(2007, 1, 2, 0, 0, tzinfo=UTC)),  # 366: the last slot
        (date(2006, 1, 1), datetime(2009, 6, 1, 0, 0, tzinfo=UTC)),  # years late: last slot
        # 04:30 on 2 July in Almaty (UTC+6) is 22:30 on 1 July in UTC: the engine's day
        (date(2006, 7, 1), datetime(2006, 7, 2, 4, 30, tzinfo=timezone(timedelta(hours=6)))),
    ],
)
def test_the_delay_is_the_engines(
    migrated_warehouse: Warehouse, day: date, reported_at: datetime
) -> None:
    at = reported_at.astimezone(UTC)  # the same instant, as the warehouse stores it
    (row,) = migrated_warehouse.query(f"SELECT {ENGINE_DELAY}", {"day": day, "at": at})
    assert delay_days(day, reported_at) == int(row["d"])


def _revision(event: str, revision: int, ingested: int, offset: int, **key: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "partner_id": "alpha",
        "event_id": event,
        "revision": revision,
        "ingested_at": T0 + timedelta(seconds=ingested),
        "offset": offset,
        "day": date(2006, 6, 1),
        "region": "KZ-ALA",
        "kind": "assistance",
        "population_type": "refugee",
        "origin": "AFG",
        "indicator": "food",
        "reported_at": T0 + timedelta(seconds=ingested),
        "status": "active",
        **{cell: 0 for cell in CELLS},
        CELLS[0]: 1 + offset,
        **{measure: 0.5 * offset for measure in MEASURES},
    }
    row.update(key)
    return row


def test_the_last_written_copy_of_revision_1_wins_and_every_copy_is_named() -> None:
    revisions = [
        _revision("e1", 1, 10, 5, day=date(2006, 6, 3)),
        _revision("e1", 1, 10, 7, day=date(2006, 6, 2)),  # same time, later message: wins
        _revision("e1", 1, 9, 9, day=date(2006, 6, 1), kind="hiv_training"),
        _revision("e1", 1, 10, 5, day=date(2006, 6, 3)),  # a duplicate, not yet merged away
        _revision("e1", 2, 20, 1, day=date(2006, 6, 9)),  # a correction: not a first report
        _revision("e2", 1, 1, 1),  # not asked for
    ]
    (copy,) = first_copies(revisions, [("alpha", "e1")])
    assert (copy["kind"], copy["day"]) == ("assistance", date(2006, 6, 2))
    assert copy["named"] == [
        ("assistance", date(2006, 6, 2)),
        ("assistance", date(2006, 6, 3)),
        ("hiv_training", date(2006, 6, 1)),
    ]
    assert copy["delay_days"] == delay_days(date(2006, 6, 2), revisions[1]["reported_at"])
    assert first_copies(revisions, [("alpha", "e3")]) == []


def test_every_key_a_revision_names_once_with_its_latest_times() -> None:
    revisions = [
        _revision("e1", 1, 10, 1),
        _revision("e1", 2, 30, 2, region="KZ-AST"),
        _revision("e2", 1, 20, 3),  # the same key as e1's first revision
    ]
    keys = touched_keys(revisions)
    assert [k["region"] for k in keys] == ["KZ-ALA", "KZ-AST"]
    ala = keys[0]
    assert set(ala) == {*AGGREGATE_KEY, "last_reported_at", "last_ingested_at"}
    assert ala["last_ingested_at"] == T0 + timedelta(seconds=20)
    assert ala["last_reported_at"] == T0 + timedelta(seconds=20)


@pytest.mark.clickhouse
def test_the_read_holds_every_stored_copy_of_the_touched_events_only(
    migrated_warehouse: Warehouse,
) -> None:
    wh = migrated_warehouse
    rng = random.Random(3)
    firsts = [random_fact(rng, now=T0) for _ in range(50)]
    later = [correction(rng, f, T0 + timedelta(minutes=1)) for f in firsts[:20]]
    write_facts(wh, firsts + later)
    write_facts(wh, firsts[:5])  # written again: a second copy of the same rows
    touched = {(f["partner_id"], f["event_id"]) for f in firsts[:30]}
    revisions = read_revisions(wh, touched)
    assert {(r["partner_id"], r["event_id"]) for r in revisions} == touched
    # 30 first revisions, 20 corrections, 5 copies written again (until a merge removes them)
    assert 50 <= len(revisions) <= 55
    assert read_revisions(wh, set()) == []


def test_the_winner_is_the_highest_revision_then_the_last_copy() -> None:
    first = _revision("e1", 1, 10, 1)
    second = _revision("e1", 2, 5, 9)  # written earlier, but the higher revision
    copy = dict(second, ingested_at=T0 + timedelta(seconds=30))  # the same revision, later
    other = _revision("e2", 1, 40, 2)
    won = winners([first, copy, second, other])
    assert won == {("alpha", "e1"): copy, ("alpha", "e2"): other}


def test_sums_by_key_count_active_winners_at_the_keys_asked_for_only() -> None:
    at_a = _revision("e1", 1, 10, 1)
    at_b = _revision("e2", 1, 20, 2, region="KZ-AST")
    retracted = dict(_revision("e3", 2, 30, 3), status="retracted")
    elsewhere = _revision("e4", 1, 40, 4, region="KZ-MAN")
    key_a = tuple(at_a[k] for k in AGGREGATE_KEY)
    key_b = tuple(at_b[k] for k in AGGREGATE_KEY)
    empty = (*key_a[:2], "KZ-KAR", *key_a[3:])
    rows = sum_by_key(
        [at_a, at_b, retracted, elsewhere, dict(at_a, event_id="e5")], [key_a, key_b, empty]
    )
    by_region = {row["region"]: row for row in rows}
    assert [row["region"] for row in rows] == ["KZ-ALA", "KZ-AST", "KZ-KAR"]
    assert by_region["KZ-ALA"]["events"] == 2  # e1 and e5; e3 is retracted, e4 elsewhere
    assert by_region["KZ-ALA"][CELLS[0]] == 2 * at_a[CELLS[0]]
    assert by_region["KZ-AST"]["events"] == 1
    assert by_region["KZ-KAR"]["events"] == 0
    assert all(by_region["KZ-KAR"][c] == 0 for c in (*CELLS, *MEASURES))
    assert by_region["KZ-AST"][MEASURES[0]] == 0.5 * 2
