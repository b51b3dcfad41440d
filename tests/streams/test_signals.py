"""Coordination signals: duplicate assistance across partners and silent partners."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from producers.simulator import SimulationSpec, simulate
from streams.signals import (
    DUPLICATE_ASSISTANCE,
    SILENT_PARTNER,
    alert_id,
    check_duplicate_assistance,
    check_silent_partners,
    duplicate_alerts,
    silent_alerts,
)
from tests.support import load_simulation
from warehouse.facts import write_alerts

NOW = datetime(2007, 1, 15, tzinfo=UTC)
JAN = date(2006, 1, 1)


def test_duplicate_alerts_name_partners_and_counts_and_skip_unchanged() -> None:
    shared = [
        {"month": JAN, "category": "food", "partners": ["a", "b"], "refs": 3},
        {"month": JAN, "category": "food", "partners": ["a", "b", "c"], "refs": 1},
    ]
    places = [(JAN, "food"), (JAN, "cash")]

    alerts = duplicate_alerts(shared, places, {}, NOW)

    assert len(alerts) == 1  # cash has no overlap and no earlier alert: nothing to say
    alert = alerts[0]
    assert alert["alert_id"] == alert_id(DUPLICATE_ASSISTANCE, "2006-01-01", "food")
    assert (alert["partners"], alert["overlap"], alert["month"]) == (["a", "b", "c"], 4, JAN)
    assert json.loads(alert["details"]) == {"pairs": {"a+b": 4, "a+c": 1, "b+c": 1}}
    assert duplicate_alerts(shared, places, {alert["alert_id"]: 4}, NOW) == []
    resolved = duplicate_alerts([], places[:1], {alert["alert_id"]: 4}, NOW)
    assert [(a["alert_id"], a["overlap"]) for a in resolved] == [(alert["alert_id"], 0)]


def test_silent_alerts_count_days_and_include_partners_that_never_reported() -> None:
    last = {"a": NOW - timedelta(days=10), "b": NOW - timedelta(days=60)}

    alerts = silent_alerts(["a", "b", "c"], last, NOW, silent_days=45)

    assert [a["partners"] for a in alerts] == [["b"], ["c"]]
    assert {a["alert_type"] for a in alerts} == {SILENT_PARTNER}
    assert json.loads(alerts[0]["details"])["days_silent"] == 60
    assert json.loads(alerts[1]["details"]) == {"days_silent": None, "last_reported_at": None}
    again = silent_alerts(["b"], {"b": NOW}, NOW + timedelta(days=50), silent_days=45)
    assert again[0]["alert_id"] != alerts[0]["alert_id"]  # a new silence is a new alert


@pytest.mark.clickhouse
def test_overlaps_found_in_the_warehouse_equal_the_simulators(tmp_path: Path) -> None:
    sim = simulate(
        SimulationSpec(
            start="2006-01",
            end="2006-03",
            events=3000,
            seed=5,
            corrections=0.05,
            retractions=0.05,
            duplicates=0.02,
        )
    )
    assert sim.truth.overlaps  # the simulator served some refs twice on purpose
    wh = load_simulation(tmp_path / "chdb", sim)
    try:
        events = wh.query(
            "SELECT DISTINCT partner_id, event_id FROM facts WHERE kind = 'assistance'"
        )
        alerts = check_duplicate_assistance(
            wh, [(r["partner_id"], r["event_id"]) for r in events], NOW
        )
        write_alerts(wh, alerts)
        again = check_duplicate_assistance(
            wh, [(r["partner_id"], r["event_id"]) for r in events], NOW
        )
        silent = check_silent_partners(wh, sim.spec.partners, NOW, silent_days=14)
    finally:
        wh.close()

    found = [
        {
            "month": a["month"].isoformat()[:7],
            "category": a["category"],
            "partners": a["partners"],
            "refs": a["overlap"],
        }
        for a in sorted(alerts, key=lambda a: (a["month"], a["category"]))
    ]
    assert found == [dict(o) for o in sim.truth.overlaps]
    assert again == []  # stored and unchanged: not raised twice
    # 2006-03 data, judged on 2007-01-15: every partner has been silent for months
    assert sorted(p for a in silent for p in a["partners"]) == sorted(sim.spec.partners)
