"""A batch the warehouse refuses for its content: split until the refused messages stand alone,
dead-letter them as ``unstorable`` with the warehouse's error code, write the rest, alert."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from schemas import refdata
from streams.access import WarehouseAccess
from streams.after_write import AlertUnstorable, PublishDeadletters
from streams.alerts import RaiseAlerts
from streams.batch import Batch, place
from streams.isolate import data_refusal, isolate
from streams.metrics import WorkerMetrics
from streams.sink import Sink
from streams.status import worker_status
from streams.transform import Meta, Row, process
from streams.unstorable import UNSTORABLE_MESSAGE
from streams.writer import WarehouseWriter, write_isolated
from tests.streams.builders import REF_KEY
from warehouse import first_reports
from warehouse.client import EmbeddedWarehouse, StatementFailed, WarehouseUnavailable
from warehouse.facts import totals_by_month, totals_from_facts
from warehouse.migrate import migrate
from warehouse.reconcile import month_grain_differing

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "valid"
NOW = datetime(2007, 1, 1, 6, tzinfo=UTC)
ORIGINALS: dict[tuple[str, int, int], bytes] = {}


def refusing(bad: set[int], log: list[int]) -> object:
    def write(part: Sequence[int]) -> None:
        log.append(len(part))
        if bad & set(part):
            raise StatementFailed("insert failed: Code: 321. DB::Exception: out of range")

    return write


@pytest.mark.parametrize("bad", [set(), {0}, {99}, {3, 4, 5}, {7, 50, 93}, set(range(100))])
def test_every_item_is_written_or_refused_alone(bad: set[int]) -> None:
    calls: list[int] = []
    result = isolate(list(range(100)), refusing(bad, calls))  # type: ignore[arg-type]
    assert result.written == [i for i in range(100) if i not in bad]
    assert sorted(item for item, _ in result.refused) == sorted(bad)
    assert {refusal.code for _, refusal in result.refused} <= {"321"}
    assert result.writes == len(calls)
    # one write when nothing is refused; about 2 k log2(n) when k items are
    assert len(calls) <= 1 + 2 * len(bad) * math.ceil(math.log2(100))


def test_a_transient_error_is_not_isolated_but_raised() -> None:
    def write(part: Sequence[int]) -> None:
        raise WarehouseUnavailable("warehouse folder in use")

    with pytest.raises(WarehouseUnavailable):
        isolate([1, 2, 3], write)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (StatementFailed("Code: 321. DB::Exception: date out of range"), "321"),
        (ValueError("insert into facts, column female_0_4: Python int too large"), "conversion"),
        (StatementFailed("Code: 62. Syntax error"), None),  # a bug: retried, never dead-lettered
        (StatementFailed("Code: 60. Unknown table"), None),
        (WarehouseUnavailable("Code: 241. memory limit"), None),
        (ValueError("facts row 0: missing ['x']"), None),
        (RuntimeError("boom"), None),
    ],
)
def test_only_errors_about_the_data_are_refusals(error: Exception, code: str | None) -> None:
    refusal = data_refusal(error)
    assert (refusal.code if refusal else None) == code


# --- on chdb, through the worker's own writer ----------------------------------------------


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[EmbeddedWarehouse]:
    wh = EmbeddedWarehouse(tmp_path / "wh")
    migrate(wh)
    yield wh
    wh.close()


def batch_of_examples() -> Batch:
    registry = refdata.partners()
    outcomes = []
    for offset, path in enumerate(sorted(EXAMPLES.glob("*.json"))):
        raw = path.read_bytes()
        event = json.loads(raw)
        topic = f"partners.{event['partner_id']}.{event['kind']}.v1"
        outcomes.append(
            process(raw, Meta(topic, 0, offset, NOW), registry, now=NOW, ref_key=REF_KEY)
        )
    assert all(o.accepted for o in outcomes)
    batch = Batch.of(outcomes)
    ORIGINALS.update(
        (place(fact), original.raw)
        for fact, original in zip(batch.facts, batch.originals, strict=True)
    )
    return batch


def poisoned(batch: Batch) -> tuple[Batch, list[Row]]:
    """The batch with two facts a contract bug could let through: a day before 1970 (the Date
    column refuses it) and a count above 2^64 (it does not even convert)."""
    facts = list(batch.facts)
    # Not SGBV facts: the worker's figures never count SGBV messages (docs/sgbv.md).
    open_ = [i for i, fact in enumerate(facts) if fact["kind"] != "sgbv"]
    first, last = open_[1], open_[-2]
    facts[first] = {**facts[first], "occurred_on": date(1969, 12, 31)}
    facts[last] = {**facts[last], "female_0_4": 2**64 + 1}
    return Batch(facts, batch.refs, [], batch.originals), [facts[first], facts[last]]


@pytest.mark.clickhouse
def test_refused_facts_become_unstorable_dead_letters_and_the_rest_is_counted(
    warehouse: EmbeddedWarehouse,
) -> None:
    batch, bad = poisoned(batch_of_examples())
    facts = len(batch.facts)
    refused = write_isolated(warehouse, batch, NOW)

    assert refused == 2
    assert len(batch.facts) == facts - 2  # the batch now says what was written
    letters = warehouse.query("SELECT * FROM deadletters FINAL ORDER BY `offset`")
    assert [(r["offset"], r["codes"]) for r in letters] == [
        (row["offset"], ["unstorable"]) for row in sorted(bad, key=lambda r: r["offset"])
    ]
    assert sorted(r["offset"] for r in batch.deadletters) == sorted(r["offset"] for r in bad)
    messages = sorted(json.loads(r["reasons"])[0]["message"] for r in letters)
    assert messages[0].startswith("warehouse error 321:")
    assert messages[1].startswith("warehouse error conversion:")
    for row in letters:  # the original bytes, kept whole
        assert row["raw"] == ORIGINALS[(row["topic"], 0, row["offset"])].decode()
    stored = warehouse.query("SELECT count() AS n FROM facts FINAL")[0]["n"]
    assert stored == facts - 2
    assert totals_by_month(warehouse) == totals_from_facts(warehouse)
    assert month_grain_differing(warehouse) == 0
    assert first_reports.differing(warehouse) == 0
    people = sum(r["female_0_4"] for r in totals_by_month(warehouse))
    assert people == sum(f["female_0_4"] for f in batch.facts)


@pytest.mark.clickhouse
def test_the_sink_goes_on_and_says_the_refusal_is_data(tmp_path: Path) -> None:
    published: list[Row] = []
    alerts: list[Row] = []
    metrics = WorkerMetrics()

    async def publish(rows: Sequence[Row]) -> None:
        published.extend(rows)

    async def publish_alerts(rows: Sequence[Row]) -> None:
        alerts.extend(rows)

    wh_dir = tmp_path / "wh"
    with EmbeddedWarehouse(wh_dir) as wh:
        migrate(wh)
    access = WarehouseAccess(lambda: EmbeddedWarehouse(wh_dir))
    steps = (
        PublishDeadletters(publish),
        AlertUnstorable(lambda: NOW),
        RaiseAlerts(access, publish_alerts, metrics),
    )
    sink = Sink(WarehouseWriter(access, lambda: NOW), steps, metrics)
    batch, bad = poisoned(batch_of_examples())
    counted = sum(1 for fact in batch.facts if fact["kind"] != "sgbv")  # SGBV is never counted
    try:
        asyncio.run(asyncio.wait_for(sink.write(batch), timeout=60))
    finally:
        access.close()

    status = worker_status(metrics)
    assert status["sink_retries"] == 0  # data is not an outage: no retry, no backoff
    assert not status["warehouse_unavailable"]
    assert status["failing"] == ""
    assert status["unstorable"] == 2
    assert status["accepted"] == counted - 2
    assert status["deadlettered_by_reason"] == {"unstorable": 2}
    assert sorted(r["offset"] for r in published) == sorted(r["offset"] for r in bad)
    assert [a["alert_type"] for a in alerts] == [UNSTORABLE_MESSAGE] * 2
    assert {json.loads(a["details"])["offset"] for a in alerts} == {r["offset"] for r in bad}
    assert "partnerhub_events_unstorable_total 2.0" in metrics.prometheus()
