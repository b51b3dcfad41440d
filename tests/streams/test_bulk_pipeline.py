"""Bulk messages end to end, attacked: a real Tansu broker, the Faust worker, chdb.

One worker reads, in one stream, a bulk message with a bad element, bulk messages whose frame
is wrong (not an array, over 512 KiB, 501 events, a 512 KiB array of tiny events), nested
arrays, an element that is itself huge, an SGBV bulk message mixing good, bad and misrouted
events, duplicates and corrections inside one bulk message and across messages, and good
messages after all of it. The totals must equal an independent sum of the winning revisions,
and every dead letter must name its message's offset and the event's index.

The simulator's faults with bulk messages, a SIGKILL and a warehouse outage: the ``_bulk``
tests of tests/streams/test_pipeline.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from broker import clients
from broker.lag import wait_for_drain
from broker.settings import KafkaSettings
from broker.topics import sync_topics
from partnerhub.settings import HubSettings
from schemas.bulk import MAX_BYTES, join
from schemas.topics import DEADLETTER_TOPIC
from streams.app import APP_ID, partner_topics
from tests.streams.builders import assistance
from tests.support import consume, hub_settings, run_cli, start_worker, stop_worker

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "valid"
OPEN = "partners.kzlegal.assistance.v1"
SGBV = "partners.wcc_almaty.sgbv.v1"
BULK = [("hub-bulk", b"1")]

Message = tuple[str, bytes, list[tuple[str, bytes]]]  # topic, value, headers


def ev(number: int, **changes: Any) -> bytes:
    return json.dumps(assistance(number, **changes), separators=(",", ":")).encode()


def bulk(*events: bytes) -> bytes:
    return join(list(events))


def sgbv(name: str, **changes: Any) -> bytes:
    body = json.loads((EXAMPLES / name).read_text(encoding="utf-8")) | changes
    return json.dumps(body).encode()


def attack() -> dict[str, Message]:
    """The messages, by name, in the order they are sent."""
    female = {"female": {"18-59": 5}}
    return {
        "element_3_bad": (
            OPEN,
            bulk(*(ev(n, region="XX-00") if n == 3 else ev(n) for n in range(5))),
            BULK,
        ),
        "not_an_array": (OPEN, ev(20), BULK),
        "too_large": (OPEN, bulk(*(ev(n) for n in range(100, 1400))), BULK),
        "tiny_512_kib": (OPEN, b"[" + b",".join([b"{}"] * (MAX_BYTES // 3 - 1)) + b"]", BULK),
        "events_501": (OPEN, bulk(*(ev(n) for n in range(2000, 2501))), BULK),
        "nested": (OPEN, bulk(ev(32), bulk(ev(33), ev(34))), BULK),
        "huge_element": (OPEN, bulk(ev(40), ev(41, region="K" * (MAX_BYTES - 2000)), ev(42)), BULK),
        "sgbv_mixed": (
            SGBV,
            bulk(
                sgbv("sgbv_1.json"),
                sgbv("sgbv_3.json", payload={"activity": "case_response"}),  # no incident type
                ev(70, partner="wcc_almaty"),  # an open kind on the SGBV topic
            ),
            BULK,
        ),
        "dups_and_corrections": (
            OPEN,
            bulk(ev(50), ev(50), ev(50, revision=2, beneficiaries=female), ev(51)),
            BULK,
        ),
        "dup_alone": (OPEN, ev(51), []),
        "correction_later": (
            OPEN,
            bulk(ev(51, revision=2, beneficiaries={"female": {"18-59": 7}}), ev(52), ev(50)),
            BULK,
        ),
        "single_after": (OPEN, ev(60), []),
        "bulk_after": (OPEN, bulk(ev(61), ev(62), ev(63)), BULK),
    }


#: The kzlegal events that count, and their winning female 18-59 cells (an independent sum:
#: every builder event has 2 there; e50 and e51 are corrected to 5 and 7).
COUNTED = {0: 2, 1: 2, 2: 2, 4: 2, 32: 2, 40: 2, 42: 2, 50: 5, 51: 7, 52: 2, 60: 2, 61: 2}
COUNTED |= {62: 2, 63: 2}
#: (message, event index, first reason code) of every dead letter.
LETTERS = {
    ("element_3_bad", 3, "unknown_region"),
    ("not_an_array", -1, "bulk_not_array"),
    ("too_large", -1, "bulk_too_large"),
    ("tiny_512_kib", -1, "bulk_too_many"),
    ("events_501", -1, "bulk_too_many"),
    ("nested", 1, "not_an_object"),
    ("huge_element", 1, "unknown_region"),
    ("sgbv_mixed", 1, "incident_type_required"),
    ("sgbv_mixed", 2, "kind_mismatch"),
}


def send(settings: KafkaSettings, messages: dict[str, Message]) -> dict[str, tuple[str, int, int]]:
    """Publish in order; where the broker stored each message."""
    producer = clients.producer(settings, max_request_size=2 * 1024 * 1024)
    try:
        futures = {
            name: producer.send(topic, value=value, key=name.encode(), headers=headers or None)
            for name, (topic, value, headers) in messages.items()
        }
        producer.flush()
        stored = {name: future.get(30) for name, future in futures.items()}
    finally:
        producer.close()
    return {name: (m.topic, m.partition, m.offset) for name, m in stored.items()}


def stored_deadletters(settings: HubSettings) -> list[dict[str, Any]]:
    """The dead-letter table's rows (place, index, codes), read in a subprocess once the
    worker has stopped (chdb: one process per folder)."""
    code = (
        "import json; from warehouse.client import EmbeddedWarehouse; "
        f"wh = EmbeddedWarehouse({str(settings.data_dir / 'warehouse')!r}); "
        "rows = wh.query('SELECT topic, `partition`, `offset`, event_index, codes "
        "FROM deadletters FINAL'); print(json.dumps(rows)); wh.close()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    rows: list[dict[str, Any]] = json.loads(out.stdout)
    return rows


def test_bulk_messages_attacked_count_exactly_and_name_each_bad_event(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = hub_settings(tmp_path / "hub", kafka_bootstrap)
    sync_topics(settings.kafka, settings.registry())
    run_cli(settings, "warehouse", "migrate")
    messages = attack()
    worker = start_worker(settings, tmp_path / "worker.log")
    try:
        places = send(settings.kafka, messages)
        wait_for_drain(
            settings.kafka,
            APP_ID,
            partner_topics(settings.registry()),
            timeout=120,
            expect_messages=len(messages),
        )
    finally:
        assert stop_worker(worker) == 0

    totals = json.loads(run_cli(settings, "warehouse", "totals", "--json", "--unsuppressed"))
    kzlegal = [row for row in totals["totals"] if row["partner_id"] == "kzlegal"]
    assert sum(row["events"] for row in kzlegal) == len(COUNTED)
    assert sum(row["female_18_59"] for row in kzlegal) == sum(COUNTED.values())
    assert totals["totals"] == totals["from_facts"]
    sgbv_rows = [row for row in totals["totals"] if row["kind"] == "sgbv"]
    assert sum(row["events"] for row in sgbv_rows) == 1  # the good SGBV element only

    by_place = {place: name for name, place in places.items()}
    stored = {
        (by_place[(r["topic"], r["partition"], r["offset"])], r["event_index"], r["codes"][0])
        for r in stored_deadletters(settings)
    }
    assert stored == LETTERS

    topic = consume(kafka_bootstrap, DEADLETTER_TOPIC, len(LETTERS))
    published = set()
    for record in topic:
        headers = dict(record.headers)
        place = (
            headers["x-hub-topic"].decode(),
            int(headers["x-hub-partition"]),
            int(headers["x-hub-offset"]),
        )
        code = json.loads(headers["x-hub-reasons"])[0]["code"]
        published.add((by_place[place], int(headers["x-hub-event-index"]), code))
        assert len(record.value) <= 512 * 1024  # what the topic carries is bounded
    assert published == LETTERS
