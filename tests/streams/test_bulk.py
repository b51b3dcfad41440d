"""Bulk messages through the worker's own steps (transform, batch, writer, dead-letter topic,
ingest loop), without a broker: each element on its own, a bad frame as one dead letter.

The same on a real broker with the Faust worker: tests/streams/test_bulk_pipeline.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from schemas.bulk import MAX_BYTES, join
from schemas.refdata import partners
from streams.batch import Batch
from streams.deadletter import BROKER_LIMIT, MAX_VALUE, deadletter_message, record_size
from streams.ingest import Ingest
from streams.metrics import ACCEPTED, SGBV_RECEIVED, WorkerMetrics
from streams.transform import Meta, Outcome, process_message
from streams.unstorable import unstorable_alert
from streams.window import BatchWindow
from streams.writer import write_isolated
from tests.streams.builders import NOW, PUBLISHED, REF_KEY, assistance
from warehouse.client import EmbeddedWarehouse
from warehouse.migrate import migrate

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "valid"
TOPIC = "partners.kzlegal.assistance.v1"
BULK = [("hub-bulk", b"1")]


def encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def outcomes(
    value: bytes, headers: Any = BULK, topic: str = TOPIC, offset: int = 41
) -> list[Outcome]:
    meta = Meta(topic, 1, offset, PUBLISHED)
    return process_message(value, headers, meta, partners(), now=NOW, ref_key=REF_KEY)


def example(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return body


def test_element_3_of_5_invalid_the_other_four_count_and_its_dead_letter_names_it() -> None:
    events = [encoded(assistance(n)) for n in range(5)]
    events[3] = encoded(assistance(3, region="XX-00"))
    out = outcomes(join(events))

    assert [o.accepted for o in out] == [True, True, True, False, True]
    assert [o.fact["event_id"][-1] for o in out if o.fact] == ["0", "1", "2", "4"]
    letter = out[3].deadletter
    assert letter is not None
    assert (letter["topic"], letter["partition"], letter["offset"]) == (TOPIC, 1, 41)
    assert letter["event_index"] == 3
    assert letter["codes"] == ["unknown_region"]
    assert letter["raw"] == events[3]  # the element's own bytes, as sent
    _, _, headers = deadletter_message(letter)
    assert dict(headers)["x-hub-offset"] == b"41"
    assert dict(headers)["x-hub-event-index"] == b"3"


def test_each_element_is_checked_exactly_as_a_single_message() -> None:
    repeated = b'{"event_id":"x","event_id":"y"}'
    elements = [
        encoded(assistance(1)),
        repeated,  # a repeated key in one element only
        b'[{"a":1}]',  # a nested array
        b'{"a":"\xff"}',  # not UTF-8, in one element
        encoded({**example("sgbv_1.json"), "partner_id": "kzlegal"}),  # SGBV, assistance topic
        encoded(assistance(2, partner_id="redcres")),  # another partner's event
    ]
    bulk = [o.reasons for o in outcomes(join(elements))]
    alone = [outcomes(e, headers=None)[0].reasons for e in elements]
    assert bulk == alone
    assert [r[0].code if r else None for r in bulk] == [
        None,
        "duplicate_key",
        "not_an_object",
        "invalid_json",
        "kind_mismatch",
        "partner_mismatch",
    ]


def test_without_the_header_an_array_is_one_message_that_is_not_an_event() -> None:
    (out,) = outcomes(join([encoded(assistance(1))]), headers=None)
    assert out.deadletter is not None
    assert out.deadletter["codes"] == ["not_an_object"]
    assert out.deadletter["event_index"] == -1


@pytest.mark.parametrize(
    ("value", "headers", "code"),
    [
        (encoded(assistance(1)), BULK, "bulk_not_array"),
        (b"[]", BULK, "bulk_empty"),
        (join([encoded(assistance(n)) for n in range(501)]), BULK, "bulk_too_many"),
        (
            join([encoded(assistance(n, origin="RUS" + " " * 2000)) for n in range(300)]),
            BULK,
            "bulk_too_large",
        ),
        (b'[{"a":1}, oops]', BULK, "invalid_json"),
        (join([encoded(assistance(1))]), [("hub-bulk", b"2")], "bulk_bad_header"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_bad_frame_is_one_dead_letter_for_the_message(
    value: bytes, headers: Any, code: str
) -> None:
    (out,) = outcomes(value, headers)
    letter = out.deadletter
    assert letter is not None
    assert letter["codes"] == [code]
    assert (letter["offset"], letter["event_index"]) == (41, -1)
    assert letter["raw"] == value  # the whole message
    key, kept, headers_out = deadletter_message(letter)
    assert record_size(key, kept, headers_out) < BROKER_LIMIT
    assert dict(headers_out)["x-hub-event-index"] == b"-1"


def test_an_oversized_bulk_message_is_cut_on_the_dead_letter_topic_but_kept_whole() -> None:
    value = b"[" + b" " * (3 * MAX_BYTES) + b"]"
    (out,) = outcomes(value)
    assert out.deadletter is not None
    assert out.deadletter["raw"] == value
    key, kept, headers = deadletter_message(out.deadletter)
    assert len(kept) == MAX_VALUE
    assert dict(headers)["x-hub-original-size"] == str(len(value)).encode()
    assert record_size(key, kept, headers) < BROKER_LIMIT


def test_an_element_that_is_itself_huge_is_refused_alone_and_its_letter_fits() -> None:
    huge = encoded(assistance(2, region="K" * (MAX_BYTES - 2000)))
    value = join([encoded(assistance(1)), huge, encoded(assistance(3))])
    assert len(value) <= MAX_BYTES
    out = outcomes(value)
    assert [o.accepted for o in out] == [True, False, True]
    letter = out[1].deadletter
    assert letter is not None
    assert letter["raw"] == huge
    reasons = json.loads(letter["reasons"])
    assert all(len(r["message"]) < 300 and len(r["field"]) < 300 for r in reasons)
    key, kept, headers = deadletter_message(letter)
    assert record_size(key, kept, headers) < BROKER_LIMIT


def test_sgbv_elements_follow_the_sgbv_rules_one_by_one() -> None:
    topic = "partners.wcc_almaty.sgbv.v1"
    good = example("sgbv_1.json")
    bad = {**example("sgbv_3.json"), "payload": {"activity": "case_response"}}  # no incident
    stray = assistance(1, partner="wcc_almaty")  # an open kind on the SGBV topic
    out = outcomes(join([encoded(good), encoded(bad), encoded(stray)]), topic=topic)
    assert [o.accepted for o in out] == [True, False, False]
    assert [o.reasons[0].code for o in out[1:]] == ["incident_type_required", "kind_mismatch"]
    metrics = WorkerMetrics()
    metrics.batch_written(Batch.of(out), 0.1, NOW)
    assert metrics.value(ACCEPTED) == 0  # never a count of SGBV events, accepted or not
    assert metrics.value(SGBV_RECEIVED) == 1


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedWarehouse]:
    """The worker's adapter (as tests/streams/test_isolate.py: the refusals are its own)."""
    wh = EmbeddedWarehouse(tmp_path / "wh")
    migrate(wh)
    yield wh
    wh.close()


@pytest.mark.clickhouse
def test_elements_of_one_message_are_stored_and_refused_one_by_one(
    embedded: EmbeddedWarehouse,
) -> None:
    wh = embedded
    events = [encoded(assistance(n, refs=(f"{n:064x}",))) for n in range(6)]
    events[5] = b'"not an event"'  # JSON, but not an object
    batch = Batch.of(outcomes(join(events)))
    # Two facts the warehouse refuses (a contract bug could let them through): each its own
    # unstorable dead letter, with its own index; the siblings are written.
    batch.facts[1] = {**batch.facts[1], "occurred_on": date(1969, 12, 31)}
    batch.facts[3] = {**batch.facts[3], "female_0_4": 2**64 + 1}
    assert write_isolated(wh, batch, NOW) == 2

    letters = wh.query(
        "SELECT `offset`, event_index, codes, raw FROM deadletters FINAL ORDER BY event_index"
    )
    assert [(r["offset"], r["event_index"], r["codes"]) for r in letters] == [
        (41, 1, ["unstorable"]),
        (41, 3, ["unstorable"]),
        (41, 5, ["not_an_object"]),
    ]
    assert [r["raw"].encode() for r in letters] == [events[1], events[3], events[5]]
    stored = wh.query("SELECT event_id FROM facts FINAL ORDER BY event_id")
    assert [r["event_id"][-1] for r in stored] == ["0", "2", "4"]
    alerts = {unstorable_alert(r, NOW)["alert_id"] for r in batch.deadletters[-2:]}
    assert len(alerts) == 2  # one alert per refused event, not per message


def test_a_messages_events_stay_in_one_batch_and_it_is_acked_after_it() -> None:
    async def body() -> None:
        written: list[int] = []
        acked: list[str] = []

        async def write(batch: Batch) -> None:
            written.append(len(batch))

        async def ack(messages: Sequence[str]) -> None:
            acked.extend(messages)

        window = BatchWindow(max_size=4, max_seconds=30.0, quiet_seconds=30.0)
        three = outcomes(join([encoded(assistance(n)) for n in range(3)]))
        async with Ingest[str](window, write, ack) as ingest:
            await ingest.add("first", three)
            assert written == []  # 3 events of 4: waits for more
            await ingest.add("second", three)  # 6 events: full, one batch, both messages
            await asyncio.wait_for(_until(lambda: acked == ["first", "second"]), 5)
        assert written == [6]

    asyncio.run(body())


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.005)


def test_a_revision_repeated_in_one_message_is_won_by_its_later_copy() -> None:
    first = encoded(assistance(1, beneficiaries={"female": {"18-59": 3}}))
    later = encoded(assistance(1, beneficiaries={"female": {"18-59": 9}}))
    out = outcomes(join([first, encoded(assistance(2)), later, b"7"]))
    facts = [o.fact for o in out if o.fact is not None]
    assert [(f["event_id"][-1], f["female_18_59"]) for f in facts] == [("2", 2), ("1", 9)]
    assert [o.event_index for o in out if o.fact] == [1, 2]
    assert [o.deadletter["event_index"] for o in out if o.deadletter] == [3]
    # without a repeat, every element keeps its outcome
    assert len(outcomes(join([first, encoded(assistance(2))]))) == 2
