"""A dead letter always fits the broker's limit, and says what was cut."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from schemas.reasons import Reason
from streams.deadletter import BROKER_LIMIT, MAX_VALUE, deadletter_message, record_size
from streams.transform import Meta, deadletter_row, published_at, reasons_json

NOW = datetime(2007, 1, 1, tzinfo=UTC)
META = Meta("partners.kzlegal.assistance.v1", 1, 42, NOW)


def row(raw: bytes, reasons: int = 1) -> dict[str, object]:
    many = tuple(
        Reason(field=f"f{i}", code="out_of_range", message="x" * 200) for i in range(reasons)
    )
    return deadletter_row(raw, META, many, NOW)


@pytest.mark.parametrize("size", [0, 10, MAX_VALUE, MAX_VALUE + 1, 600_000, 5_000_000])
@pytest.mark.parametrize("reasons", [1, 5000])
def test_every_dead_letter_fits_the_broker_limit(size: int, reasons: int) -> None:
    raw = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    key, value, headers = deadletter_message(row(raw, reasons))
    assert record_size(key, value, headers) < BROKER_LIMIT
    found = dict(headers)
    assert value == raw[:MAX_VALUE]
    if size > MAX_VALUE:
        assert found["x-hub-original-size"] == str(size).encode()
        assert found["x-hub-original-sha256"] == hashlib.sha256(raw).hexdigest().encode()
        assert found["x-hub-truncated"] == b"1"
    else:
        assert "x-hub-truncated" not in found
    kept = json.loads(found["x-hub-reasons"])
    assert kept == json.loads(reasons_json(tuple(Reason(**r) for r in kept)))
    if reasons > len(kept):
        assert found["x-hub-reasons-count"] == str(reasons).encode()
    else:
        assert len(kept) == reasons
    assert (found["x-hub-topic"], found["x-hub-offset"]) == (META.topic.encode(), b"42")


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (1_165_000_000.5, datetime.fromtimestamp(1_165_000_000.5, UTC)),
        (None, datetime.fromtimestamp(0, UTC)),
        (-5.0, datetime.fromtimestamp(0, UTC)),
        (2.0**62, datetime.fromtimestamp(0, UTC)),
    ],
)
def test_a_broker_timestamp_the_warehouse_cannot_hold_is_the_epoch(
    timestamp: float | None, expected: datetime
) -> None:
    assert published_at(timestamp) == expected
