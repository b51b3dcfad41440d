"""Batch building: outcomes of the transform become rows by table, in message order."""

from __future__ import annotations

from disclosure.keys import rekey_ref
from streams.batch import Batch
from tests.streams.builders import NOW, REF_KEY, assistance, mixed_batch, outcome


def test_a_batch_holds_facts_with_their_refs_and_dead_letters_in_message_order() -> None:
    batch = mixed_batch()

    assert [f["offset"] for f in batch.facts] == [0, 2]
    refs = [(r["event_id"][-1], r["ref"]) for r in batch.refs]
    a, b = (rekey_ref(REF_KEY, c * 64) for c in "ab")  # re-keyed at intake with the hub secret
    assert refs == [("1", a), ("1", b), ("2", a)]
    assert [(d["offset"], d["codes"]) for d in batch.deadletters] == [
        (1, ["invalid_json"]),
        (3, ["unknown_region"]),
    ]
    assert len(batch) == 4  # messages, not rows: refs do not count


def test_an_empty_batch_has_nothing_to_write() -> None:
    batch = Batch.of([])

    assert (batch.facts, batch.refs, batch.deadletters, len(batch)) == ([], [], [], 0)


def test_assistance_events_are_the_partner_and_event_of_each_assistance_fact() -> None:
    batch = Batch.of(
        [
            outcome(assistance(1), 0),
            outcome(assistance(1, revision=2), 1),  # a correction: the same event
            outcome(assistance(7, partner="redcres"), 2, partner="redcres"),
        ]
    )

    assert batch.assistance_events() == {
        ("kzlegal", "00000000-0000-4000-8000-000000000001"),
        ("redcres", "00000000-0000-4000-8000-000000000007"),
    }
    assert mixed_batch().assistance_events() == {
        ("kzlegal", "00000000-0000-4000-8000-000000000001"),
        ("kzlegal", "00000000-0000-4000-8000-000000000002"),
    }


def test_latencies_run_from_each_messages_broker_time_to_the_write() -> None:
    batch = mixed_batch()

    assert list(batch.latencies(NOW)) == [2.0] * 4  # facts and dead letters alike
