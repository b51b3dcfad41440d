"""The roll-up's pure rules: months and when a roll-up is due, target matching, reconciliation,
version differences and the canonical CSV's formatting. No warehouse here."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from rollups.diff import diff_rows
from rollups.model import DECIMAL_MEASURES, KEY, NUMBERS, RollupRow
from rollups.months import due_at, month_bounds, months_between, parse_month, previous_month
from rollups.reconcile import COMPARED, reconcile
from rollups.render_csv import COLUMNS, checksum, exact_csv, format_number
from rollups.schedule import changed_months, due_months, latest_due_month
from rollups.store import Version
from rollups.targets import actual, indicator_matches, measure_name, row_matches
from schemas.refdata import Target, targets
from schemas.vocabulary import CELLS


def row(
    indicator: str = "legal_aid",
    *,
    kind: str = "assistance",
    partner: str = "kzlegal",
    region: str = "KZ-75",
    population: str = "refugee",
    origin: str = "RUS",
    events: int = 1,
    cells: tuple[int, ...] = (0, 0, 0, 2, 0, 0, 0, 0, 1, 0),
    **measures: Any,
) -> RollupRow:
    return RollupRow(
        partner, region, kind, population, origin, indicator, events, cells, **measures
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- months and due dates ------------------------------------------------------------------


def test_month_helpers() -> None:
    assert month_bounds("2006-12") == (date(2006, 12, 1), date(2007, 1, 1))
    assert previous_month(date(2006, 1, 1)) == date(2005, 12, 1)
    assert months_between("2005-11", "2006-02") == ["2005-11", "2005-12", "2006-01", "2006-02"]
    assert months_between("2006-03", "2006-02") == []
    assert due_at("2006-03", 5) == at("2006-04-06T00:00:00")
    for bad in ("2006-3", "2006-13", "March", "2006-03-01"):
        with pytest.raises(ValueError, match="expected YYYY-MM"):
            parse_month(bad)


@pytest.mark.parametrize(
    ("now", "after_days", "latest"),
    [
        ("2006-04-05T23:59:59", 5, "2006-02"),  # March is due on 6 April
        ("2006-04-06T00:00:00", 5, "2006-03"),
        ("2006-04-01T00:00:00", 0, "2006-03"),  # no delay: due the moment the month ends
        ("2006-03-31T23:59:59", 0, "2006-02"),
        ("2007-01-10T00:00:00", 14, "2006-11"),  # across the year, December not yet
        ("2007-03-01T00:00:00", 45, "2006-12"),  # a delay longer than a month
    ],
)
def test_latest_due_month(now: str, after_days: int, latest: str) -> None:
    assert latest_due_month(at(now), after_days) == latest


def test_due_months_are_the_due_months_without_a_version_oldest_first() -> None:
    now = at("2006-06-10T00:00:00")  # May is due on 6 June (5 days)
    assert due_months(now, 5, []) == ["2006-05"]
    assert due_months(now, 5, ["2006-05"]) == []
    assert due_months(now, 5, ["2006-03"], since="2006-01") == [
        "2006-01",
        "2006-02",
        "2006-04",
        "2006-05",
    ]
    assert due_months(now, 30, [], since="2006-01") == ["2006-01", "2006-02", "2006-03", "2006-04"]
    assert due_months(now, 5, [], since="2006-07") == []  # facts only in the future so far


def version(month: str, facts_through: datetime | None) -> Version:
    return Version(
        month, 1, at("2006-06-01T00:00:00"), "test", "c", 0, 0, 0, facts_through, {}, {}, 0
    )


def test_changed_months_are_versioned_months_with_later_arrivals() -> None:
    versions = {
        "2006-03": version("2006-03", at("2006-05-01T00:00:00")),
        "2006-04": version("2006-04", at("2006-05-01T00:00:00")),
        "2006-05": version("2006-05", None),  # empty: later than the version (1 June) counts
    }
    touched = {
        "2006-03": at("2006-05-01T00:00:00"),  # nothing after the version's newest fact
        "2006-04": at("2006-05-20T08:00:00"),
        "2006-05": at("2006-06-20T08:00:00"),
        "2006-06": at("2006-07-01T00:00:00"),  # no version yet: the due rule decides
    }
    assert changed_months(versions, touched) == ["2006-04", "2006-05"]
    touched["2006-05"] = at("2006-05-31T23:00:00")  # before the empty version was made
    assert changed_months(versions, touched) == ["2006-04"]


# --- targets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "indicator", "matches"),
    [
        ("*", "case_response.rape", True),
        ("case_response", "case_response.rape", True),
        ("case_response", "case_response", True),
        ("case", "case_response.rape", False),  # whole parts only
        ("case_response.rape", "case_response", False),  # more specific than the event
        ("partner_staff.*", "partner_staff.prevention", True),
        ("partner_staff.*", "refugees.prevention", False),
        ("*.prevention", "refugees.prevention", True),
        ("voluntary_repatriation.departed", "voluntary_repatriation.departed", True),
        ("voluntary_repatriation.departed", "voluntary_repatriation.accepted", False),
    ],
)
def test_indicator_patterns(pattern: str, indicator: str, matches: bool) -> None:
    assert indicator_matches(pattern, indicator) is matches


def target(**fields: object) -> Target:
    base: dict[str, object] = {
        "year": 2006,
        "kind": "sgbv",
        "indicator": "prevention_session",
        "measure": "sessions",
        "target": 24,
        "source": "test",
    }
    return Target.model_validate({**base, **fields})


def test_target_filters_and_measures() -> None:
    session = row("prevention_session", kind="sgbv", events=3, cells=(0, 0, 4, 9, 1, 0, 0, 2, 3, 0))
    elsewhere = row("prevention_session", kind="sgbv", region="KZ-19", events=2)
    case = row("case_response.rape", kind="sgbv", events=1, cells=(0, 0, 0, 1, 0, 0, 0, 0, 0, 0))
    rows = [session, elsewhere, case]
    in_almaty = target(region="KZ-75", population_type="refugee")
    assert [row_matches(in_almaty, r) for r in rows] == [True, False, False]
    assert measure_name(in_almaty) == "events"  # an SGBV session is an event
    assert actual(in_almaty, rows) == 3
    persons = target(indicator="*", measure="persons")
    assert actual(persons, rows) == session.persons + elsewhere.persons + 1
    hiv = target(kind="hiv_training", indicator="refugees.*", measure="sessions")
    training = row("refugees.prevention", kind="hiv_training", events=2, sessions=5)
    assert actual(hiv, [training]) == 5  # HIV trainings count their sessions field
    by_origin = target(indicator="case_response", measure="events", origin="AFG")
    assert actual(by_origin, rows) == 0


def test_every_packaged_target_indicator_can_match_its_vocabulary() -> None:
    for t in targets():
        example = t.indicator.replace("*", "x") if t.indicator != "*" else "anything"
        assert indicator_matches(t.indicator, example)


# --- reconciliation and differences --------------------------------------------------------


def aggregate_of(r: RollupRow, **changes: object) -> dict[str, object]:
    """What the aggregates would hold for ``r`` (decimals as floats), with ``changes``."""
    totals: dict[str, object] = {name: r.number(name) for name in COMPARED}
    totals.update({m: float(r.number(m)) for m in DECIMAL_MEASURES})
    return {**totals, **changes}


def test_reconcile_reports_every_differing_key_and_tolerates_float_rounding() -> None:
    food = row("food", value_usd=Decimal("128.7"), quantity=Decimal("10"))
    cash = row("cash")
    ghost = row("food", partner="ghost")
    aggregates = {
        food.key: aggregate_of(food, value_usd=128.70000000000002),  # a float sum's last bit
        ghost.key: aggregate_of(ghost),  # in the aggregates only
    }  # cash: in the facts only
    result = reconcile([food, cash], aggregates)
    assert result.keys == 3
    assert not result.ok
    assert [d.key for d in result.differences] == sorted([cash.key, ghost.key])
    only_facts = next(d for d in result.differences if d.key == cash.key)
    assert only_facts.fields == {"events": (1, 0), "female_18_59": (2, 0), "male_18_59": (1, 0)}
    assert reconcile([food], {food.key: aggregate_of(food)}).ok
    off = reconcile([food], {food.key: aggregate_of(food, value_usd=128.71)})
    assert off.differences[0].fields == {"value_usd": (Decimal("128.7"), 128.71)}
    zeros = aggregate_of(cash, events=0, **dict.fromkeys(CELLS, 0))
    assert reconcile([], {cash.key: zeros}).ok  # a key nothing counts towards any more


def test_diff_rows_lists_added_removed_and_changed_keys_with_old_and_new_values() -> None:
    kept, moved, gone = row("cash"), row("food"), row("shelter")
    corrected = row("food", cells=(0, 0, 0, 3, 0, 0, 0, 0, 1, 0), units=("kg",))
    new = row("legal_aid", region="KZ-19")
    changes = diff_rows([kept, moved, gone], [kept, corrected, new])
    assert [r.key for r in changes.added] == [new.key]
    assert [r.key for r in changes.removed] == [gone.key]
    assert len(changes.changed) == 1
    assert changes.changed[0].key == moved.key
    assert changes.changed[0].fields == {"female_18_59": (2, 3), "units": ((), ("kg",))}
    assert diff_rows([kept], [kept]).empty


# --- the canonical CSV ---------------------------------------------------------------------


def test_csv_columns_hold_the_key_and_every_number() -> None:
    assert set(COLUMNS) == {"month", "units", *KEY, *NUMBERS}
    assert format_number(Decimal("2.675000")) == "2.68"
    assert format_number(Decimal("2.665000")) == "2.66"  # half to even
    assert format_number(None) == "x"
    assert format_number(12) == "12"


def test_exact_csv_is_sorted_and_its_checksum_ignores_row_order() -> None:
    rows = [row("food", quantity=Decimal("1.5"), units=("kg", "kit")), row("cash")]
    text = exact_csv("2006-03", rows)
    lines = text.splitlines()
    assert lines[0].split(",") == list(COLUMNS)
    assert lines[1].split(",")[6] == "cash"
    assert lines[2].split(",")[6] == "food"
    assert "1.50,kg|kit" in lines[2]
    assert text.endswith("\n")
    assert "\r" not in text
    key = b"hub-secret"
    assert checksum("2006-03", rows, key) == checksum("2006-03", list(reversed(rows)), key)
    assert checksum("2006-03", rows, key) != checksum("2006-04", rows, key)
    # Keyed: without the hub's secret the exact table cannot be tested against it.
    assert checksum("2006-03", rows, key) != checksum("2006-03", rows, b"another")
    assert checksum("2006-03", rows, key) != hashlib.sha256(text.encode()).hexdigest()
