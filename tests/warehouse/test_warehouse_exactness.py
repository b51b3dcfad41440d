"""Exactly-once totals from at-least-once, out-of-order writes.

Fact rows with revisions, retractions, exact duplicates, redeliveries and corrections that move
an event to another region, day or month are written in shuffled order, in several batches,
with ``refresh_aggregates`` after each. The aggregates, a recomputation from the facts, and an
independent pure-Python recomputation must agree exactly.
"""

from __future__ import annotations

import os
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from schemas.vocabulary import CELLS
from warehouse.bench import INDICATORS, random_fact
from warehouse.client import Warehouse
from warehouse.facts import (
    refresh_aggregates,
    refresh_partner_activity,
    totals_by_month,
    totals_from_facts,
    write_facts,
)
from warehouse.tables import AGGREGATE_KEY, GROUPS_KEY, MONTH_KEY, TOTALS_KEY

pytestmark = pytest.mark.clickhouse

Row = dict[str, Any]
SERVER_URL = os.environ.get("CLICKHOUSE_URL")
PARTNERS = ("alpha", "bravo", "charlie", "delta")
T0 = datetime(2006, 4, 1, tzinfo=UTC)


@pytest.fixture
def wh(migrated_warehouse: Warehouse) -> Warehouse:
    """A migrated warehouse of each adapter (tests/conftest.py)."""
    return migrated_warehouse


# --- the story, generated ----------------------------------------------------------------


REGIONS = ("KZ-ALA", "KZ-AST", "KZ-MAN")
ORIGINS = ("RUS", "TJK")
POPULATIONS = ("refugee", "returnee")


def _revise(rng: random.Random, previous: Row, revision: int) -> Row:
    """The next revision of an event: sometimes retracted, often moved, new counts."""
    row = dict(previous, revision=revision, status="active", offset=rng.getrandbits(32))
    if rng.random() < 0.2:
        row["status"] = "retracted"
    move = rng.random()
    if move < 0.25:
        row["region"] = rng.choice(REGIONS)
    elif move < 0.5:  # across a month boundary about half the time
        row["occurred_on"] = previous["occurred_on"] + timedelta(days=rng.randint(-20, 20))
    elif move < 0.6:
        row["population_type"] = rng.choice(POPULATIONS)
    for cell in rng.sample(CELLS, 3):
        row[cell] = rng.randint(0, 9)
    row[CELLS[0]] += 1
    return row


def event_histories(rng: random.Random, events: int) -> list[Row]:
    """Every revision row of ``events`` events, plus exact duplicates. Few regions, origins
    and days, so that many events share an aggregate key; some event ids are reused by
    another partner (a different event: ids are scoped per partner)."""
    rows: list[Row] = []
    ids: list[tuple[str, str]] = []
    for n in range(events):
        first = random_fact(rng, partners=PARTNERS, first_day=date(2006, 1, 20), days=40, now=T0)
        first.update(
            region=rng.choice(REGIONS),
            origin=rng.choice(ORIGINS),
            population_type=rng.choice(POPULATIONS),
            indicator=INDICATORS[first["kind"]][rng.randrange(2)],
        )
        mine = {eid for partner, eid in ids if partner == first["partner_id"]}
        # Another partner's id, never one this partner already used: one (partner, id) is
        # one event, whose revisions are numbered once each.
        others = [eid for partner, eid in ids if partner != first["partner_id"] and eid not in mine]
        if others and n % 25 == 0:
            first["event_id"] = rng.choice(others)
        ids.append((first["partner_id"], first["event_id"]))
        history = [first]
        for revision in range(2, rng.choice((1, 1, 2, 3, 4)) + 1):
            history.append(_revise(rng, history[-1], revision))
        for row in history:
            rows.append(row)
            if rng.random() < 0.3:
                rows.append(dict(row))  # at-least-once: the same message again
    return rows


def in_batches(rng: random.Random, rows: list[Row], batches: int) -> list[list[Row]]:
    """``rows`` shuffled and cut into ``batches`` batches of uneven size; each batch gets the
    time it is written as ``ingested_at``."""
    shuffled = rows[:]
    rng.shuffle(shuffled)
    cuts = sorted(rng.sample(range(1, len(shuffled)), batches - 1))
    out = []
    for i, (start, end) in enumerate(zip([0, *cuts], [*cuts, len(shuffled)], strict=True)):
        written = T0 + timedelta(minutes=i)
        out.append([dict(row, ingested_at=written) for row in shuffled[start:end]])
    return out


# --- the truth, recomputed in Python -----------------------------------------------------


def winners(rows: list[Row]) -> dict[tuple[str, str], Row]:
    """Per (partner_id, event_id), the row with the highest (revision, ingested_at, offset)."""
    best: dict[tuple[str, str], Row] = {}

    def order(row: Row) -> tuple[int, datetime, int]:
        return row["revision"], row["ingested_at"], row["offset"]

    for row in rows:
        key = (row["partner_id"], row["event_id"])
        if key not in best or order(row) > order(best[key]):
            best[key] = row
    return best


def expected_monthly(rows: list[Row]) -> list[dict[str, Any]]:
    sums: dict[tuple[str, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in winners(rows).values():
        if row["status"] != "active":
            continue
        group = (
            row["occurred_on"].strftime("%Y-%m"),
            row["partner_id"],
            row["kind"],
            row["region"],
            row["population_type"],
        )
        sums[group]["events"] += 1
        for cell in CELLS:
            sums[group][cell] += row[cell]
    names = ("month", "partner_id", "kind", "region", "population_type")
    return [
        {**dict(zip(names, group, strict=True)), "events": s["events"], **{c: s[c] for c in CELLS}}
        for group, s in sorted(sums.items())
    ]


def expected_daily(rows: list[Row]) -> dict[tuple[Any, ...], dict[str, Any]]:
    sums: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for row in winners(rows).values():
        if row["status"] == "active":
            key = tuple(row["occurred_on" if k == "day" else k] for k in AGGREGATE_KEY)
            sums[key]["events"] += 1
            for name in (*CELLS, "sessions", "cases", "curriculum_sessions"):
                sums[key][name] += row[name]
            for name in ("quantity", "value_usd", "hours"):
                sums[key][name] += row[name]
    return {key: dict(s) for key, s in sums.items()}


def daily_in_warehouse(wh: Warehouse) -> dict[tuple[Any, ...], dict[str, Any]]:
    rows = wh.query("SELECT * FROM daily_aggregates FINAL")
    return {
        tuple(r[k] for k in AGGREGATE_KEY): {
            k: v for k, v in r.items() if k not in AGGREGATE_KEY and k != "updated_at"
        }
        for r in rows
    }


def expected_month_grain(rows: list[Row]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The daily truth summed per month key, SGBV left out (what ``monthly_aggregates``
    holds)."""
    sums: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for key, totals in expected_daily(rows).items():
        if key[AGGREGATE_KEY.index("kind")] != "sgbv":
            for name, value in totals.items():
                sums[(key[0].replace(day=1), *key[1:])][name] += value
    return {key: dict(s) for key, s in sums.items()}


def assert_month_grain_exact(wh: Warehouse, rows: list[Row]) -> None:
    """``monthly_aggregates`` equals the truth per month key, ``monthly_groups`` and
    ``monthly_totals`` per their keys; a key nothing counts towards any more is all zeros,
    and no row is SGBV."""
    truth = expected_month_grain(rows)
    assert all(key[MONTH_KEY.index("kind")] != "sgbv" for key in truth)
    indicator = MONTH_KEY.index("indicator")

    def total(key: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(key[MONTH_KEY.index(k)] for k in TOTALS_KEY)

    def group(key: tuple[Any, ...]) -> tuple[Any, ...]:
        # The grain's own key, computed here in Python: the indicator up to its first '.'.
        return (*total(key), key[indicator].split(".")[0])

    for table, grain_key, of in (
        ("monthly_aggregates", MONTH_KEY, None),
        ("monthly_groups", GROUPS_KEY, group),
        ("monthly_totals", TOTALS_KEY, total),
    ):
        coarse: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
        for key, totals in truth.items():
            for name, value in totals.items():
                coarse[key if of is None else of(key)][name] += value
        stored = {
            tuple(r[k] for k in grain_key): {
                k: v for k, v in r.items() if k not in grain_key and k != "updated_at"
            }
            for r in wh.query(f"SELECT * FROM {table} FINAL")
        }
        assert all(key[grain_key.index("kind")] != "sgbv" for key in stored), table
        _assert_grain(stored, {key: dict(t) for key, t in coarse.items()})


def _assert_grain(
    stored: dict[tuple[Any, ...], dict[str, Any]], truth: dict[tuple[Any, ...], dict[str, Any]]
) -> None:
    """Stored rows equal the truth; a row nothing counts towards any more is all zeros."""
    live = {key: totals for key, totals in stored.items() if totals["events"] > 0}
    assert all(not any(t.values()) for key, t in stored.items() if key not in live)
    assert live.keys() == truth.keys()
    for key, totals in truth.items():
        assert live[key] == pytest.approx(totals), key


# --- the property --------------------------------------------------------------------------


def test_totals_are_exact_whatever_the_order_duplicates_and_corrections(
    wh: Warehouse,
) -> None:
    rng = random.Random(2006)
    rows = event_histories(rng, 1200)
    assert len(rows) > 2500
    batches = in_batches(rng, rows, 8)
    written: list[Row] = []
    for batch in batches:
        write_facts(wh, batch)
        refresh_aggregates(wh, {(r["partner_id"], r["event_id"]) for r in batch})
        refresh_partner_activity(wh, {r["partner_id"] for r in batch})
        written.extend(batch)
        # Exact after every batch, not only at the end.
        assert totals_by_month(wh) == expected_monthly(written)
        assert_month_grain_exact(wh, written)

    expected = expected_monthly(written)
    assert totals_from_facts(wh) == expected
    assert totals_by_month(wh) == expected

    daily = daily_in_warehouse(wh)
    truth = expected_daily(written)
    emptied = {key for key, totals in daily.items() if totals["events"] == 0}
    assert emptied, "the story should move or retract some events out of a key"
    assert all(not any(daily[key].values()) for key in emptied), "an emptied key is all zeros"
    live = {key: totals for key, totals in daily.items() if key not in emptied}
    assert live.keys() == truth.keys()
    for key, totals in truth.items():
        assert live[key] == pytest.approx(totals), key

    # Redelivering a whole batch, and background merges, change nothing.
    write_facts(wh, batches[3])
    refresh_aggregates(wh, {(r["partner_id"], r["event_id"]) for r in batches[3]})
    wh.command("OPTIMIZE TABLE facts FINAL")
    wh.command("OPTIMIZE TABLE daily_aggregates FINAL")
    wh.command("OPTIMIZE TABLE monthly_aggregates FINAL")
    wh.command("OPTIMIZE TABLE monthly_groups FINAL")
    wh.command("OPTIMIZE TABLE monthly_totals FINAL")
    assert totals_by_month(wh) == expected
    assert totals_from_facts(wh) == expected
    assert_month_grain_exact(wh, written)


def test_partner_activity_follows_the_deduplicated_facts(wh: Warehouse) -> None:
    rng = random.Random(7)
    written: list[Row] = []
    for batch in in_batches(rng, event_histories(rng, 300), 4):
        write_facts(wh, batch)
        refresh_aggregates(wh, {(r["partner_id"], r["event_id"]) for r in batch})
        refresh_partner_activity(wh, {r["partner_id"] for r in batch})
        written.extend(batch)
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for row in written:  # any revision is a sign of life
        entry = expected.setdefault(
            (row["partner_id"], row["kind"]),
            {
                "events": 0,
                "last_occurred_on": date(1970, 1, 1),
                "last_reported_at": row["reported_at"],
                "last_ingested_at": row["ingested_at"],
            },
        )
        entry["last_reported_at"] = max(entry["last_reported_at"], row["reported_at"])
        entry["last_ingested_at"] = max(entry["last_ingested_at"], row["ingested_at"])
    for (partner, _), row in winners(written).items():  # only counted events count
        if row["status"] == "active":
            entry = expected[(partner, row["kind"])]
            entry["events"] += 1
            entry["last_occurred_on"] = max(entry["last_occurred_on"], row["occurred_on"])
    actual = {
        (r["partner_id"], r["kind"]): {k: r[k] for k in next(iter(expected.values()))}
        for r in wh.query("SELECT * FROM partner_activity FINAL")
    }
    assert actual == expected


def test_a_small_story_reads_as_expected(wh: Warehouse) -> None:
    """One event corrected out of order, moved and retracted; another partner reuses its id."""
    rng = random.Random(1)
    base = random_fact(rng, partners=("alpha",), first_day=date(2006, 2, 27), days=1, now=T0)
    base.update({c: 0 for c in CELLS}, female_18_59=4, region="KZ-ALA")
    moved = dict(base, revision=2, occurred_on=date(2006, 3, 2), region="KZ-AST")
    retracted = dict(moved, revision=3, status="retracted")
    other = dict(base, partner_id="bravo", female_18_59=9)

    def write(*rows: Row) -> None:
        write_facts(wh, list(rows))
        refresh_aggregates(wh, {(r["partner_id"], r["event_id"]) for r in rows})

    write(moved)  # revision 2 arrives first
    write(base, other)  # then revision 1 (must not win) and bravo's own event
    months = {
        (t["month"], t["partner_id"], t["region"]): t["female_18_59"] for t in totals_by_month(wh)
    }
    assert months == {("2006-03", "alpha", "KZ-AST"): 4, ("2006-02", "bravo", "KZ-ALA"): 9}
    write(retracted, moved)  # the retraction, and a duplicate of revision 2
    months = {
        (t["month"], t["partner_id"], t["region"]): t["female_18_59"] for t in totals_by_month(wh)
    }
    assert months == {("2006-02", "bravo", "KZ-ALA"): 9}
    assert totals_from_facts(wh) == totals_by_month(wh)
    assert_month_grain_exact(wh, [base, other, moved, retracted])


def test_a_revision_rewritten_with_other_content_keeps_the_last_write(wh: Warehouse) -> None:
    """A producer bug, made deterministic: the same (partner, event, revision) with other
    counts. Across batches the later write wins; within one, the later message (offset)."""
    rng = random.Random(5)
    first = random_fact(rng, partners=("alpha",), now=T0)
    first.update(dict.fromkeys(CELLS, 0), male_0_4=1, offset=10)
    later = dict(first, male_0_4=2, offset=11, ingested_at=T0 + timedelta(seconds=1))
    last_message = dict(later, male_0_4=3, offset=12)
    for batch in ([first], [later, last_message]):
        write_facts(wh, batch)
        refresh_aggregates(wh, {("alpha", first["event_id"])})
    (total,) = totals_by_month(wh)
    assert total["male_0_4"] == 3
    assert totals_from_facts(wh) == totals_by_month(wh)
