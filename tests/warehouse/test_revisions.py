"""The touched events' revisions, read once for both refreshes (``warehouse/revisions.py``):
the keys and first-report copies derived from them in Python are what the engine's own
expressions give."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from warehouse.bench import correction, random_fact
from warehouse.client import Warehouse
from warehouse.facts import write_facts
from warehouse.revisions import (
    LAST_DELAY,
    delay_days,
    first_copies,
    read_revisions,
    touched_keys,
)
from warehouse.tables import AGGREGATE_KEY

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
