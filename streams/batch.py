"""A batch of outcomes as the rows to write, by table (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from streams.transform import Outcome, Row


def place(row: Row) -> tuple[str, int, int]:
    """Where a row's message came from: (topic, partition, offset)."""
    return (row["topic"], row["partition"], row["offset"])


@dataclass
class Batch:
    """The rows of one batch of messages, by table."""

    facts: list[Row] = field(default_factory=list)
    refs: list[Row] = field(default_factory=list)
    deadletters: list[Row] = field(default_factory=list)
    #: The bytes of each fact's message, by (topic, partition, offset): for a dead letter
    #: should the warehouse refuse the fact.
    originals: dict[tuple[str, int, int], bytes] = field(default_factory=dict)

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Batch:
        """The rows of ``outcomes``: each accepted one's fact and refs, each rejected one's
        dead letter, in message order."""
        batch = cls()
        for outcome in outcomes:
            if outcome.fact is not None:
                batch.facts.append(outcome.fact)
                batch.refs.extend(outcome.refs)
                batch.originals[place(outcome.fact)] = outcome.raw
            elif outcome.deadletter is not None:
                batch.deadletters.append(outcome.deadletter)
        return batch

    def messages(self) -> list[Batch]:
        """One batch per message: a fact with its refs, or a dead letter (isolation units)."""
        refs: dict[tuple[str, str, int], list[Row]] = {}
        for ref in self.refs:
            refs.setdefault((ref["partner_id"], ref["event_id"], ref["revision"]), []).append(ref)
        units = [
            Batch(
                facts=[fact],
                refs=refs.get((fact["partner_id"], fact["event_id"], fact["revision"]), []),
                originals={place(fact): self.originals.get(place(fact), b"")},
            )
            for fact in self.facts
        ]
        return units + [Batch(deadletters=[row]) for row in self.deadletters]

    @classmethod
    def merged(cls, parts: Sequence[Batch]) -> Batch:
        """One batch of the rows of ``parts``, in order."""
        out = cls()
        for part in parts:
            out.facts += part.facts
            out.refs += part.refs
            out.deadletters += part.deadletters
            out.originals.update(part.originals)
        return out

    def __len__(self) -> int:
        """Messages in the batch (refs are not messages)."""
        return len(self.facts) + len(self.deadletters)

    def assistance_events(self) -> set[tuple[str, str]]:
        """``(partner_id, event_id)`` of the batch's assistance facts (for the duplicate check)."""
        return {(r["partner_id"], r["event_id"]) for r in self.facts if r["kind"] == "assistance"}

    def latencies(self, written_at: datetime) -> Iterator[float]:
        """Seconds from each message's broker timestamp to ``written_at``."""
        for rows in (self.facts, self.deadletters):
            for row in rows:
                yield (written_at - row["published_at"]).total_seconds()
