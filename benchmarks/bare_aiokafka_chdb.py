"""Reference: a bare aiokafka consumer that json-decodes and bulk-inserts into chdb.

    python benchmarks/bare_aiokafka_chdb.py GROUP EXPECTED RESULT_FILE [--batch N]

Settings come from the environment like the hub worker's (``partnerhub.stack.child_env``): the
broker, the partner topics of the registry, the consumer-group timings of the profile, and a
chdb folder in ``<data_dir>/bare-warehouse``. Each batch of up to ``--batch`` messages is
decoded, flattened to columns (envelope fields and the ten sex/age cells), sent to chdb as one
Arrow stream (``INSERT ... FORMAT ArrowStream``, the hub's embedded insert path) and its
offsets committed after the insert. No validation, no aggregates: the cost of moving bytes.

Once ``EXPECTED`` messages are inserted it writes ``{"events", "first_batch", "seconds",
"peak_rss_mb"}`` as JSON to ``RESULT_FILE`` and exits. The seconds run from the first batch
written to the last.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
from aiokafka import AIOKafkaConsumer
from chdb.session import Session
from procstat import memory_mb  # a sibling module: scripts run from benchmarks/

from partnerhub.settings import HubSettings
from schemas.vocabulary import AGE_BRACKETS, CELLS, Sex, cell_name
from streams.app import partner_topics

TEXT = ("event_id", "partner_id", "kind", "region", "population_type", "origin")
DDL = (
    "CREATE TABLE IF NOT EXISTS bare_facts ("
    + ", ".join(f"{name} String" for name in TEXT)
    + ", occurred_on Date, "
    + ", ".join(f"{cell} UInt32" for cell in CELLS)
    + ") ENGINE = ReplacingMergeTree ORDER BY (partner_id, event_id)"
)
INSERT = "INSERT INTO bare_facts (" + ", ".join((*TEXT, "occurred_on", *CELLS)) + ")"


def columns_of(values: list[bytes]) -> dict[str, list[Any]]:
    """Decoded events as columns: envelope fields, the day and the ten cells."""
    cols: dict[str, list[Any]] = {name: [] for name in (*TEXT, "occurred_on", *CELLS)}
    pairs = [(cell_name(sex, b), sex.value, b) for sex in Sex for b in AGE_BRACKETS]
    for value in values:
        event = json.loads(value)
        for name in TEXT:
            cols[name].append(event.get(name) or "")
        cols["occurred_on"].append(date.fromisoformat(event["occurred_on"]))
        people = event["beneficiaries"]
        for cell, sex, bracket in pairs:
            cols[cell].append(people.get(sex, {}).get(bracket, 0))
    return cols


def arrow_stream(cols: dict[str, list[Any]]) -> bytes:
    """Columns as Arrow IPC stream bytes."""
    table = pa.table({name: pa.array(values) for name, values in cols.items()})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def insert(session: Any, values: list[bytes]) -> None:
    with session.send_insert(INSERT, "ArrowStream") as inserter:
        inserter.append(arrow_stream(columns_of(values)))
        inserter.finish()


async def consume(
    settings: HubSettings, group: str, expected: int, batch: int, session: Any
) -> dict[str, Any]:
    timings = settings.kafka.timings
    kafka = settings.kafka
    sasl: dict[str, Any] = {}
    if kafka.security_protocol.startswith("SASL"):  # Apache Kafka with SCRAM (--broker kafka)
        sasl = {
            "security_protocol": kafka.security_protocol,
            "sasl_mechanism": kafka.sasl_mechanism,
            "sasl_plain_username": kafka.username,
            "sasl_plain_password": kafka.password.get_secret_value() if kafka.password else None,
        }
    consumer = AIOKafkaConsumer(
        *partner_topics(settings.registry()),
        **sasl,
        bootstrap_servers=settings.kafka.bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=int(timings.session_timeout * 1000),
        heartbeat_interval_ms=int(timings.heartbeat_interval * 1000),
        rebalance_timeout_ms=int(timings.rebalance_timeout * 1000),
    )
    await consumer.start()
    n, first, first_batch = 0, 0.0, 0
    try:
        while n < expected:
            got = await consumer.getmany(timeout_ms=500, max_records=batch)
            values = [record.value for records in got.values() for record in records]
            if not values:
                continue
            await asyncio.to_thread(insert, session, values)
            await consumer.commit()
            n += len(values)
            if not first:
                first, first_batch = time.perf_counter(), len(values)
        seconds = time.perf_counter() - first
    finally:
        await consumer.stop()
    return {"events": n, "first_batch": first_batch, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("group", help="consumer group (use a fresh one)")
    parser.add_argument("expected", type=int, help="messages to insert before stopping")
    parser.add_argument("result_file", type=Path)
    parser.add_argument("--batch", type=int, default=5000, help="messages per insert")
    args = parser.parse_args()
    settings = HubSettings()
    folder = settings.data_dir / "bare-warehouse"
    folder.mkdir(parents=True, exist_ok=True)
    session: Any = Session(str(folder))  # type: ignore[no-untyped-call]
    try:
        session.query(DDL)
        result = asyncio.run(consume(settings, args.group, args.expected, args.batch, session))
        stored = int(session.query("SELECT count() FROM bare_facts", "CSV").bytes())
    finally:
        session.close()
    if stored < args.expected:
        raise SystemExit(f"only {stored} of {args.expected} rows are in bare_facts")
    result["peak_rss_mb"] = memory_mb()[1]
    args.result_file.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
