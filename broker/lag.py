"""Consumer-group lag from fetch high watermarks.

Tansu answers ListOffsets ("latest offset") wrongly (DESIGN.md), so end offsets are read from
the high watermark that every fetch response carries: a throw-away consumer (no group) is
assigned the partitions, positioned at the group's committed offsets with tiny fetch sizes, and
polled until each partition has reported its high watermark.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from kafka import TopicPartition

from broker import clients
from broker.settings import KafkaSettings


def partitions_of(consumer: Any, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of ``topics`` that exists on the broker."""
    out: list[TopicPartition] = []
    for topic in topics:
        for partition in sorted(consumer.partitions_for_topic(topic) or ()):
            out.append(TopicPartition(topic, partition))
    return out


def committed_offsets(settings: KafkaSettings, group: str) -> dict[TopicPartition, int]:
    """The group's committed offset per partition (partitions it never committed are absent)."""
    admin = clients.admin(settings)
    try:
        offsets = admin.list_group_offsets({group: None}).get(group, {})
    finally:
        admin.close()
    return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


def high_watermarks(
    settings: KafkaSettings,
    topics: Iterable[str],
    positions: dict[TopicPartition, int] | None = None,
    timeout: float = 10.0,
) -> dict[TopicPartition, int]:
    """The high watermark (end offset) of every partition of ``topics``."""
    consumer = clients.consumer(settings, max_partition_fetch_bytes=1024, fetch_max_wait_ms=50)
    try:
        tps = partitions_of(consumer, topics)
        if not tps:
            return {}
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, (positions or {}).get(tp, 0))
        deadline = time.monotonic() + timeout
        while True:
            consumer.poll(timeout_ms=100)
            marks = {tp: consumer.highwater(tp) for tp in tps}
            if all(mark is not None for mark in marks.values()):
                return {tp: int(mark) for tp, mark in marks.items() if mark is not None}
            if time.monotonic() > deadline:
                missing = sorted(
                    f"{tp.topic}[{tp.partition}]" for tp, m in marks.items() if m is None
                )
                raise TimeoutError(f"no high watermark within {timeout:.0f} s for {missing}")
    finally:
        consumer.close()


def group_lag(
    settings: KafkaSettings, group: str, topics: Iterable[str], timeout: float = 10.0
) -> dict[TopicPartition, int]:
    """Messages per partition that the group has not committed yet."""
    committed = committed_offsets(settings, group)
    marks = high_watermarks(settings, topics, committed, timeout)
    return {tp: max(0, mark - committed.get(tp, 0)) for tp, mark in marks.items()}


def lag_by_topic(lag: dict[TopicPartition, int]) -> dict[str, int]:
    """Partition lags summed per topic."""
    out: dict[str, int] = {}
    for tp, n in lag.items():
        out[tp.topic] = out.get(tp.topic, 0) + n
    return dict(sorted(out.items()))


def wait_for_drain(
    settings: KafkaSettings,
    group: str,
    topics: list[str],
    *,
    timeout: float,
    expect_messages: int | None = None,
    poll: float = 0.5,
) -> dict[TopicPartition, int]:
    """Return once the group's lag is 0 on every partition of ``topics``.

    With ``expect_messages``, also wait until the topics hold at least that many messages, so a
    drain is not declared before the messages have even arrived. TimeoutError otherwise.
    """
    deadline = time.monotonic() + timeout
    last: dict[TopicPartition, int] = {}
    while time.monotonic() < deadline:
        committed = committed_offsets(settings, group)
        marks = high_watermarks(settings, topics, committed)
        last = {tp: max(0, mark - committed.get(tp, 0)) for tp, mark in marks.items()}
        enough = expect_messages is None or sum(marks.values()) >= expect_messages
        if enough and last and not any(last.values()):
            return last
        time.sleep(poll)
    raise TimeoutError(
        f"group {group} still lags {sum(last.values())} messages after {timeout:.0f} s"
    )
