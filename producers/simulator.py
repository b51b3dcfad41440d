"""A realistic simulator of partner reporting, with fault injection and a ground truth.

``simulate(spec)`` is pure: a seeded run of UNHCR's 2006 Kazakhstan operation (who lives where,
which partner does what, when they report) gives an ordered list of Kafka messages, valid and
deliberately faulty, and the :class:`GroundTruth` a correct hub must end up showing. The same
spec always gives the same bytes. ``publish`` sends the messages with a plain kafka-python
producer (the simulator must also send bytes no SDK would let through).

See ``docs/simulator.md`` for what is modelled and from which figures.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from producers.simulation import faults
from producers.simulation.generate import Generator
from producers.simulation.invalid import CODES as INVALID_CODES
from producers.simulation.invalid import invalid_messages
from producers.simulation.publish import Pacer, PublishError, missing_topics, publish
from producers.simulation.records import Message, Outgoing
from producers.simulation.spec import FAULTS, SimulationSpec
from producers.simulation.truth import GroundTruth, build_truth

__all__ = [
    "FAULTS",
    "INVALID_CODES",
    "GroundTruth",
    "Message",
    "Pacer",
    "PublishError",
    "Simulation",
    "SimulationSpec",
    "missing_topics",
    "publish",
    "simulate",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Simulation:
    """The messages in publishing order, the truth, and the reason code each invalid message
    (by index into ``messages``) carries.
    """

    spec: SimulationSpec
    messages: tuple[Message, ...]
    truth: GroundTruth
    rejections: Mapping[int, str]


def simulate(spec: SimulationSpec) -> Simulation:
    """Generate the spec's events and faults, in publishing order, with their ground truth."""
    rng = random.Random(spec.seed)
    gen = Generator(spec, rng)
    bases = gen.base_events()

    def count(fraction: float) -> int:
        return round(fraction * spec.events)

    late = faults.make_late(rng, bases, count(spec.late), gen.next_seq)
    corrections, retractions = count(spec.corrections), count(spec.retractions)
    picked = rng.sample(range(len(bases)), min(len(bases), corrections + retractions))
    corrected, reordered = faults.correct(rng, bases, picked[:corrections], gen)
    retracted = faults.retract(rng, bases, picked[corrections:], gen.next_seq)
    drafts = [*bases, *corrected, *retracted]
    outgoing = [Outgoing.of(draft) for draft in drafts]
    duplicates = faults.duplicate(rng, bases, count(spec.duplicates), gen.next_seq)
    invalid = invalid_messages(rng, gen, count(spec.invalid))
    outgoing = sorted([*outgoing, *duplicates, *invalid], key=lambda o: o.at)

    messages = tuple(o.message for o in outgoing)
    rejections = {i: o.code for i, o in enumerate(outgoing) if o.code is not None}
    truth = build_truth(
        spec.describe(),
        drafts,
        messages=len(messages),
        deadletters=Counter(rejections.values()),
        faults={
            "duplicates": len(duplicates),
            "corrections": len(corrected),
            "corrections_reordered": reordered,
            "retractions": len(retracted),
            "late": late,
            "invalid": len(invalid),
            "overlap_refs_added": gen.ledger.deliberate,
        },
        habitually_late=gen.rhythm.habitually_late,
    )
    log.debug("simulated %d base events as %d messages", len(bases), len(messages))
    return Simulation(spec, messages, truth, rejections)
