"""Faults a real stream has: re-sends, corrections (some overtaking their original),
retractions and reports that arrive weeks late. Each works on drafts of valid base events.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from producers.simulation.calendar import next_month, parse_month, timestamp
from producers.simulation.generate import Generator, beneficiaries, cells_of
from producers.simulation.records import Draft, Outgoing, position

#: A late report comes 6-10 weeks after its original time: later than any habitually late
#: partner reports (42 days after the month at most), and after the following month's reports.
LATE_DAYS = (42, 70)
#: Share of corrections whose revision 2 is published before revision 1: one in three.
REORDER_EVERY = 3


def make_late(
    rng: random.Random, bases: Sequence[Draft], count: int, seq: Callable[[], int]
) -> int:
    """Move ``count`` base events' reports weeks later, past the next month's reports."""
    latest: dict[str, datetime] = {}
    for draft in bases:
        month = str(draft.body["occurred_on"])[:7]
        if month not in latest or draft.reported > latest[month]:
            latest[month] = draft.reported
    chosen = sorted(rng.sample(range(len(bases)), min(count, len(bases))))
    for index in chosen:
        draft = bases[index]
        month = str(draft.body["occurred_on"])[:7]
        following = next_month(parse_month(month)).strftime("%Y-%m")
        moment = draft.reported + timedelta(
            days=rng.randint(*LATE_DAYS), minutes=rng.randint(0, 600)
        )
        if following in latest and moment <= latest[following]:
            moment = latest[following] + timedelta(minutes=rng.randint(30, 48 * 60))
        draft.move_report(moment, seq())
    return len(chosen)


def _change_cells(rng: random.Random, cells: list[int]) -> list[int]:
    """Cells as a partner corrects them: a person moved to a neighbouring cell (age bracket
    or sex mistyped), people added (late registrations) or removed (double entries).
    """
    out = list(cells)
    total = sum(out)
    choice = rng.random()
    if choice < 0.5 or total == 1:
        source = rng.choice([i for i, n in enumerate(out) if n > 0])
        moves = min(out[source], rng.randint(1, 2))
        sex, age = divmod(source, 5)
        neighbours = [sex * 5 + a for a in (age - 1, age + 1) if 0 <= a < 5]
        target = rng.choice([*neighbours, (1 - sex) * 5 + age])
        out[source] -= moves
        out[target] += moves
    elif choice < 0.8:
        out[rng.choice([i for i, n in enumerate(out) if n > 0])] += rng.randint(1, 3)
    else:
        removable = [i for i, n in enumerate(out) if n > 0]
        for _ in range(min(total - 1, rng.randint(1, 2))):
            cell = rng.choice(removable)
            out[cell] -= 1
            removable = [i for i, n in enumerate(out) if n > 0]
    return out


def _move(rng: random.Random, draft: Draft, body: dict[str, object], gen: Generator) -> None:
    """Sometimes move a corrected event to another region of its partner where its group
    lives, or to another day of the same month; otherwise leave place and day alone.
    """
    choice = rng.random()
    if choice < 0.25:
        partner = gen.spec.partners[str(body["partner_id"])]
        lives = gen.tables.group_regions[draft.group]
        regions = [r for r in partner.regions if r in lives and r != body["region"]]
        if regions:
            body["region"] = rng.choice(regions)
            return
    if choice < 0.5:
        day = date.fromisoformat(str(body["occurred_on"]))
        month = gen.months.index(day.strftime("%Y-%m"))
        days = [d for d in gen.days.days(month) if d != day]
        if days:
            body["occurred_on"] = rng.choice(days).isoformat()


def correct(
    rng: random.Random, bases: Sequence[Draft], chosen: Sequence[int], gen: Generator
) -> tuple[list[Draft], int]:
    """Revision 2 of each chosen base event, with changed cells and sometimes a new region or
    day; every third is published before its revision 1. Returns the drafts and that count.
    """
    out: list[Draft] = []
    reordered = 0
    for n, index in enumerate(chosen):
        base = bases[index]
        body = copy.deepcopy(base.body)
        body["revision"] = 2
        body["beneficiaries"] = beneficiaries(_change_cells(rng, cells_of(body)))
        _move(rng, base, body, gen)
        moment = base.reported + timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
        body["reported_at"] = timestamp(moment)
        draft = Draft(body, base.topic, moment, position(moment, gen.next_seq()), base.group)
        if n % REORDER_EVERY == 0:
            # The original sat in the partner's outbox and went out after its correction.
            draft.at = (base.at[0], base.at[1] - 0.5)
            reordered += 1
        out.append(draft)
    return out, reordered


def retract(
    rng: random.Random, bases: Sequence[Draft], chosen: Sequence[int], seq: Callable[[], int]
) -> list[Draft]:
    """A later revision with status ``retracted`` for each chosen base event."""
    out: list[Draft] = []
    for index in chosen:
        base = bases[index]
        body = copy.deepcopy(base.body)
        body["revision"] = 2
        body["status"] = "retracted"
        moment = base.reported + timedelta(days=rng.randint(1, 30), minutes=rng.randint(0, 600))
        body["reported_at"] = timestamp(moment)
        out.append(Draft(body, base.topic, moment, position(moment, seq()), base.group))
    return out


def duplicate(
    rng: random.Random, bases: Sequence[Draft], count: int, seq: Callable[[], int]
) -> list[Outgoing]:
    """``count`` re-sends of base events' exact bytes, minutes (a retry after a timeout) or
    days (the month's file uploaded again) after the original.
    """
    if not bases or count <= 0:
        return []
    if count <= len(bases):
        chosen = rng.sample(range(len(bases)), count)
    else:
        chosen = rng.choices(range(len(bases)), k=count)
    out: list[Outgoing] = []
    for index in chosen:
        original = Outgoing.of(bases[index])
        if rng.random() < 0.5:
            delay = timedelta(minutes=rng.randint(1, 30))
        else:
            delay = timedelta(days=rng.randint(1, 10), minutes=rng.randint(0, 600))
        at = position(bases[index].reported + delay, seq())
        out.append(Outgoing(at, original.message))
    return out
