"""The simulator: deterministic, valid where it means to be, wrong in exactly the way it says,
realistic, and with a ground truth that an independent recount of its messages reproduces.
"""

from __future__ import annotations

import json
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from broker import clients
from broker.settings import KafkaSettings
from producers.simulation.calendar import LATE_DELAY, PUNCTUAL_DELAY, month_end
from schemas import refdata
from schemas.contract import Event, parse_event
from schemas.reasons import InvalidEvent
from schemas.topics import check_attribution
from schemas.vocabulary import CELLS

with warnings.catch_warnings():
    # Importing kafka-python 3.0 calls importlib.resources.read_text/open_text (deprecated);
    # until pyproject's filterwarnings ignores those, keep them from failing collection.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import TopicPartition
    from kafka.admin import NewTopic

    from partnerhub.cli import app
    from partnerhub.cli.common import CliError
    from producers.simulator import (
        FAULTS,
        INVALID_CODES,
        Message,
        Pacer,
        Simulation,
        SimulationSpec,
        publish,
        simulate,
    )

REGISTRY = refdata.partners()
REGISTRY_TOPICS = {topic for partner in REGISTRY.values() for topic in partner.topics()}
FAULTY = SimulationSpec(
    start="2006-01",
    end="2006-12",
    events=3_000,
    seed=11,
    duplicates=0.03,
    corrections=0.05,
    retractions=0.03,
    invalid=0.02,
    late=0.03,
)
#: Messages of a simulation that are valid, with their index and parsed event.
Parsed = list[tuple[int, Message, Event]]
FULL = SimulationSpec(start="2006-01", end="2006-12", events=20_000, seed=2006)


@pytest.fixture(scope="module")
def faulty() -> Simulation:
    return simulate(FAULTY)


@pytest.fixture(scope="module")
def full() -> Simulation:
    """A fault-free year at the scale where budgeted streams reach the 2006 targets."""
    return simulate(FULL)


@pytest.fixture(scope="module")
def full_events(full: Simulation) -> Parsed:
    """The fault-free year's messages, parsed once."""
    return list(valid_events(full))


def codes_of(message: Message, today: date | None) -> list[str]:
    """Reason codes the hub would give ``message``: parsing, then attribution to its topic."""
    try:
        event = parse_event(message.value, today=today)
    except InvalidEvent as error:
        return [reason.code for reason in error.reasons]
    return [reason.code for reason in check_attribution(event, message.topic, REGISTRY)]


def valid_events(sim: Simulation) -> Iterator[tuple[int, Message, Event]]:
    for index, message in enumerate(sim.messages):
        if index not in sim.rejections:
            yield index, message, parse_event(message.value, today=sim.spec.today)


# --- determinism --------------------------------------------------------------------------


def test_same_seed_gives_the_same_bytes(faulty: Simulation) -> None:
    again = simulate(FAULTY.model_copy())
    assert again.messages == faulty.messages
    assert again.rejections == faulty.rejections
    assert again.truth.to_json() == faulty.truth.to_json()


def test_another_seed_gives_other_events(faulty: Simulation) -> None:
    other = simulate(FAULTY.model_copy(update={"seed": 12}))
    assert other.messages != faulty.messages
    ids = {event.key for _, _, event in valid_events(faulty)}
    assert not ids & {event.key for _, _, event in valid_events(other)}


# --- validity -------------------------------------------------------------------------------


def test_every_valid_message_parses_and_belongs_to_its_topic(faulty: Simulation) -> None:
    valid = 0
    for index, message in enumerate(faulty.messages):
        if index in faulty.rejections:
            continue
        for today in (FAULTY.today, None):  # the injected clock, and the hub's real one
            assert codes_of(message, today) == [], (index, message)
        assert message.key == json.loads(message.value)["event_id"].encode()
        valid += 1
    assert valid == faulty.truth.messages - len(faulty.rejections)


def test_every_invalid_message_yields_exactly_its_code(faulty: Simulation) -> None:
    assert set(faulty.rejections.values()) == set(INVALID_CODES)
    for index, code in faulty.rejections.items():
        message = faulty.messages[index]
        assert codes_of(message, FAULTY.today) == [code], (code, message)
        assert codes_of(message, None) == [code], (code, message)
    assert faulty.truth.deadletters == Counter(faulty.rejections.values())
    assert sum(faulty.truth.deadletters.values()) == round(FAULTY.invalid * FAULTY.events)


def test_messages_go_only_to_registry_topics(faulty: Simulation) -> None:
    assert {m.topic for m in faulty.messages} <= REGISTRY_TOPICS


def test_partners_report_only_mandated_kinds_in_their_regions(full_events: Parsed) -> None:
    seen: set[tuple[str, str]] = set()
    for _, message, event in full_events:
        partner = REGISTRY[event.partner_id]
        assert event.kind in partner.kinds
        assert event.region in partner.regions
        assert message.topic == partner.topic(event.kind)
        seen.add((event.partner_id, event.kind.value))
    mandated = {(p.code, k.value) for p in REGISTRY.values() for k in p.kinds}
    assert seen == mandated  # and every mandate is used


# --- ground truth, recounted from the messages alone ----------------------------------------


def recount(sim: Simulation) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Counter[str]]:
    """Totals, overlaps and dead letters from the bytes: parse, keep the newest revision of
    each event, drop retracted ones, group.
    """
    newest: dict[tuple[str, str], Event] = {}
    rejected: Counter[str] = Counter()
    for message in sim.messages:
        try:
            event = parse_event(message.value, today=sim.spec.today)
        except InvalidEvent as error:
            rejected.update(r.code for r in error.reasons)
            continue
        reasons = check_attribution(event, message.topic, REGISTRY)
        if reasons:
            rejected.update(r.code for r in reasons)
            continue
        key = (event.partner_id, event.key)
        if key not in newest or event.revision > newest[key].revision:
            newest[key] = event
    groups: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    shared: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for event in newest.values():
        if event.status.value == "retracted":
            continue
        key = (
            event.occurred_on.strftime("%Y-%m"),
            event.partner_id,
            event.kind.value,
            event.region,
            event.population_type.value,
        )
        groups[key]["events"] += 1
        groups[key].update(event.beneficiaries.cells())
        for ref in getattr(event, "beneficiary_refs", ()):
            where = (key[0], event.indicator)
            shared[where][ref].add(event.partner_id)
    totals = [
        {
            "month": key[0],
            "partner_id": key[1],
            "kind": key[2],
            "region": key[3],
            "population_type": key[4],
            "events": sums["events"],
            **{cell: sums[cell] for cell in CELLS},
        }
        for key, sums in sorted(groups.items())
    ]
    overlaps = []
    for (month, category), by_ref in sorted(shared.items()):
        multi = [partners for partners in by_ref.values() if len(partners) > 1]
        if multi:
            partners = sorted({p for ps in multi for p in ps})
            overlaps.append(
                {"month": month, "category": category, "partners": partners, "refs": len(multi)}
            )
    return totals, overlaps, rejected


def test_truth_equals_an_independent_recount(faulty: Simulation) -> None:
    totals, overlaps, rejected = recount(faulty)
    truth = json.loads(faulty.truth.to_json())
    assert truth["totals"] == totals
    assert truth["overlaps"] == overlaps
    assert truth["deadletters"] == dict(rejected)
    assert truth["messages"] == len(faulty.messages)
    assert truth["spec"]["seed"] == FAULTY.seed
    assert truth["spec"]["partners"] == sorted(REGISTRY)
    assert json.loads(faulty.truth.to_json()) == faulty.truth.to_dict()


def test_overlaps_are_real_and_reported(full: Simulation) -> None:
    _, overlaps, _ = recount(full)
    assert overlaps == [dict(row) for row in full.truth.overlaps]
    assert len(overlaps) >= 12  # about one a month in some category
    assert all(len(row["partners"]) >= 2 and row["refs"] >= 1 for row in overlaps)


# --- faults, seen in the stream -------------------------------------------------------------


def test_fault_counts_show_in_the_stream(faulty: Simulation) -> None:
    faults = faulty.truth.faults
    per_fault = {name: round(getattr(FAULTY, name) * FAULTY.events) for name in FAULTS}
    assert {name: faults[name] for name in per_fault} == per_fault
    pairs = Counter((m.topic, m.value) for m in faulty.messages)
    assert sum(n - 1 for n in pairs.values()) == faults["duplicates"]
    first: dict[tuple[str, str, int], int] = {}
    for index, _, event in valid_events(faulty):
        first.setdefault((event.partner_id, event.key, event.revision), index)
    revised = [key for key in first if key[2] == 2]
    retracted = [
        key
        for key in revised
        if json.loads(faulty.messages[first[key]].value)["status"] == "retracted"
    ]
    assert len(retracted) == faults["retractions"]
    assert len(revised) - len(retracted) == faults["corrections"]
    overtaking = [k for k in revised if first[k] < first[(k[0], k[1], 1)]]
    assert len(overtaking) == faults["corrections_reordered"] == -(-faults["corrections"] // 3)
    assert faulty.truth.events == {
        "distinct": FAULTY.events,
        "active": FAULTY.events - faults["retractions"],
        "retracted": faults["retractions"],
    }


def test_corrections_change_cells_and_stay_in_their_month(faulty: Simulation) -> None:
    versions: dict[tuple[str, str], dict[int, Event]] = defaultdict(dict)
    for _, _, event in valid_events(faulty):
        versions[(event.partner_id, event.key)][event.revision] = event
    moved_region = moved_day = 0
    for revisions in versions.values():
        if 2 not in revisions or revisions[2].status.value == "retracted":
            continue
        one, two = revisions[1], revisions[2]
        assert two.beneficiaries != one.beneficiaries
        assert two.occurred_on.strftime("%Y-%m") == one.occurred_on.strftime("%Y-%m")
        assert two.reported_at > one.reported_at
        moved_region += two.region != one.region
        moved_day += two.occurred_on != one.occurred_on
    assert moved_region > 0
    assert moved_day > 0


def test_late_events_come_after_the_following_month(faulty: Simulation) -> None:
    firsts = {}
    for index, _, event in valid_events(faulty):
        if event.revision == 1:
            firsts.setdefault((event.partner_id, event.key), (index, event))
    late_after = timedelta(days=LATE_DELAY[1])
    late, last_on_time = [], defaultdict(int)
    for index, event in firsts.values():
        month = event.occurred_on.strftime("%Y-%m")
        if event.reported_at.date() - month_end(month) > late_after:
            late.append((index, event))
        else:
            last_on_time[month] = max(last_on_time[month], index)
    assert len(late) == faulty.truth.faults["late"]
    for index, event in late:
        following = (month_end(event.occurred_on.strftime("%Y-%m")) + timedelta(days=1)).strftime(
            "%Y-%m"
        )
        assert index > last_on_time.get(following, -1)


# --- realism --------------------------------------------------------------------------------


def persons(event: Event) -> int:
    return event.beneficiaries.total


def test_durable_solutions_reach_the_2006_targets(
    full_events: Parsed,
) -> None:
    reached: Counter[tuple[str, str, str | None, str]] = Counter()
    for _, _, event in full_events:
        if event.kind.value == "durable_solutions":
            key = (event.indicator, event.population_type.value, event.origin)
            reached[(*key, "persons")] += persons(event)
            reached[(*key, "cases")] += event.payload.cases  # type: ignore[union-attr]
    for target in refdata.targets():
        if target.kind.value != "durable_solutions" or target.measure not in ("persons", "cases"):
            continue
        got = sum(
            n
            for (indicator, ptype, origin, measure), n in reached.items()
            if indicator == target.indicator
            and ptype == target.population_type
            and (target.origin is None or origin == target.origin)
            and measure == target.measure
        )
        assert got == target.target, target  # FULL is at full scale: targets exactly


def test_seasons_shape_assistance(full_events: Parsed) -> None:
    by_month: Counter[int] = Counter()
    winterization: Counter[int] = Counter()
    for _, _, event in full_events:
        if event.kind.value == "assistance":
            by_month[event.occurred_on.month] += 1
            if event.indicator == "winterization":
                winterization[event.occurred_on.month] += 1
    assert set(winterization) == {1, 2, 3, 10, 11, 12}
    assert min(by_month[12], by_month[1]) > 1.4 * by_month[7]


def test_groups_live_where_the_2006_plan_says(
    full_events: Parsed,
) -> None:
    chechens: Counter[str] = Counter()
    returnee_regions: set[str] = set()
    for _, _, event in full_events:
        if event.origin == "RUS" and event.population_type.value in ("refugee", "asylum_seeker"):
            chechens[event.region] += 1
        if event.population_type.value in ("returnee", "stateless"):
            returnee_regions.add(event.region)
        if event.population_type.value == "host_community":
            assert event.origin is None
    almaty = chechens["KZ-75"] + chechens["KZ-19"]
    assert almaty > 0.7 * sum(chechens.values())
    assert set(chechens) <= {"KZ-75", "KZ-19", "KZ-71", "KZ-61", "KZ-79"}
    south_and_east = {"KZ-61", "KZ-79", "KZ-31", "KZ-19", "KZ-63", "KZ-10", "KZ-47", "KZ-43"}
    assert returnee_regions <= south_and_east


def test_sgbv_counts_are_small_and_sex_age_splits_plausible(full_events: Parsed) -> None:
    female = everyone = 0
    for _, _, event in full_events:
        cells = event.beneficiaries.cells()
        female += sum(n for cell, n in cells.items() if cell.startswith("female"))
        everyone += persons(event)
        if event.kind.value == "sgbv" and event.indicator.startswith("case_response"):
            assert persons(event) == 1
        if event.kind.value == "hiv_training":
            payload = event.payload
            assert payload.sessions >= 1  # type: ignore[union-attr]
            assert payload.hours >= payload.sessions  # type: ignore[union-attr]
    assert 0.48 < female / everyone < 0.6


def test_partners_keep_their_reporting_rhythm(full: Simulation, full_events: Parsed) -> None:
    late = set(full.truth.habitually_late)
    assert 1 <= len(late) < len(REGISTRY) / 2
    for _, _, event in full_events:
        delay = (event.reported_at.date() - month_end(event.occurred_on.strftime("%Y-%m"))).days
        low, high = LATE_DELAY if event.partner_id in late else PUNCTUAL_DELAY
        assert low <= delay <= high + 1, event  # + 1: a report started at 17:59 runs past midnight


def test_assistance_carries_keyed_refs(full_events: Parsed) -> None:
    registered = with_refs = 0
    for _, _, event in full_events:
        refs = getattr(event, "beneficiary_refs", ())
        if event.kind.value == "assistance" and event.population_type.value != "host_community":
            registered += 1
            with_refs += bool(refs)
        else:
            assert not refs
    assert with_refs > 0.9 * registered


# --- the spec and other registries ----------------------------------------------------------


def test_today_defaults_to_the_day_after_the_period_but_never_after_the_real_today() -> None:
    assert SimulationSpec(start="2006-01", end="2006-03", events=1).today == date(2006, 4, 1)
    now = datetime.now(UTC).date()
    spec = SimulationSpec(start=now.strftime("%Y-%m"), end=now.strftime("%Y-%m"), events=50)
    assert spec.today == now
    assert all(codes_of(m, None) == [] for m in simulate(spec).messages)
    with pytest.raises(ValidationError, match="after the real today"):
        SimulationSpec(start="2006-01", end="2006-03", events=1, today=now + timedelta(days=1))
    with pytest.raises(ValidationError, match="before start"):
        SimulationSpec(start="2006-05", end="2006-03", events=1)


def test_a_smaller_registry_gets_only_what_it_can_carry() -> None:
    registry = {code: REGISTRY[code] for code in ("kzlegal", "redcres")}
    sim = simulate(
        SimulationSpec(
            start="2006-10", end="2006-12", events=400, seed=5, invalid=0.1, partners=registry
        )
    )
    topics = {topic for partner in registry.values() for topic in partner.topics()}
    assert {m.topic for m in sim.messages} <= topics
    assert "incident_type_required" not in sim.rejections.values()  # no SGBV partner
    assert "partner_mismatch" in sim.rejections.values()  # both do assistance
    for index, code in sim.rejections.items():
        assert codes_of(sim.messages[index], sim.spec.today) == [code]


# --- publishing -----------------------------------------------------------------------------


class FakeClock:
    """Time that moves only when slept through or advanced by hand."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_keeps_the_schedule_without_drift() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    for index in range(5):
        pacer.wait(index)
        clock.now += 0.03  # the send itself takes time
    assert clock.now == pytest.approx(100.0 + 0.4 + 0.03)  # due at 0.4 s, not 0.4 + 4 x 0.03
    pacer.wait(5)
    clock.now += 0.35  # one slow send, past the due times of 6 and 7...
    pacer.wait(6)
    pacer.wait(7)
    assert clock.now == pytest.approx(100.85)  # ...is caught up by not waiting
    pacer.wait(8)
    assert clock.now == pytest.approx(100.85)
    pacer.wait(9)
    assert clock.now == pytest.approx(100.9)  # 9 is due at 0.9 s: the schedule did not shift
    with pytest.raises(ValueError, match="rate"):
        Pacer(0)


def create_topics(bootstrap: str, topics: set[str]) -> None:
    admin = clients.admin(KafkaSettings(bootstrap=bootstrap))
    try:
        admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=1) for t in topics])
    finally:
        admin.close()


def read_back(
    bootstrap: str, topics: set[str], expected: int
) -> dict[str, list[tuple[bytes, bytes]]]:
    """Every record of ``topics`` in offset order, once ``expected`` have been read."""
    consumer = clients.consumer(KafkaSettings(bootstrap=bootstrap))
    got: dict[str, list[tuple[bytes, bytes]]] = defaultdict(list)
    try:
        partitions = [TopicPartition(t, 0) for t in sorted(topics)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + 30
        while sum(map(len, got.values())) < expected and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500).items():
                got[tp.topic].extend((r.key, r.value) for r in records)
    finally:
        consumer.close()
    return got


@pytest.mark.kafka
def test_publish_delivers_every_message_in_order(kafka_bootstrap: str) -> None:
    sim = simulate(FAULTY.model_copy(update={"events": 300}))
    topics = {m.topic for m in sim.messages}
    create_topics(kafka_bootstrap, topics)
    advanced: list[int] = []
    sent = publish(sim.messages, KafkaSettings(bootstrap=kafka_bootstrap), progress=advanced.append)
    assert sent == sum(advanced) == len(sim.messages)
    got = read_back(kafka_bootstrap, topics, len(sim.messages))
    expected: dict[str, list[tuple[bytes, bytes]]] = defaultdict(list)
    for m in sim.messages:
        expected[m.topic].append((m.key, m.value))
    assert got == expected

    paced = sim.messages[:40]
    began = time.monotonic()
    publish(paced, KafkaSettings(bootstrap=kafka_bootstrap), rate=200.0)
    assert time.monotonic() - began >= 39 / 200


@pytest.mark.kafka
def test_cli_publishes_to_existing_topics_only(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERHUB_KAFKA__BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("PARTNERHUB_DATA_DIR", str(tmp_path))
    args = ["simulate", "--from", "2006-11", "--to", "2006-12", "--events", "150", "--faults"]
    args += ["--bulk", "1"]  # one Kafka message per event, to count them (bulk: test_bulk.py)
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, CliError)
    assert "partners sync" in str(result.exception)

    create_topics(kafka_bootstrap, REGISTRY_TOPICS)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    truth = json.loads((tmp_path / "simulation-truth.json").read_text())
    got = read_back(kafka_bootstrap, REGISTRY_TOPICS, truth["messages"])
    assert sum(map(len, got.values())) == truth["messages"]
    assert "published" in result.output
    assert "invalid 3" in result.output


def test_cli_dry_run_writes_the_truth_and_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERHUB_KAFKA__BOOTSTRAP", "127.0.0.1:9")  # nothing listens there
    path = tmp_path / "truth.json"
    args = ["simulate", "--events", "200", "--seed", "3", "--faults", "--late", "0.1"]
    result = CliRunner().invoke(app, [*args, "--dry-run", "--truth", str(path)])
    assert result.exit_code == 0, result.output
    preset = dict.fromkeys(FAULTS, 0.02)
    spec = SimulationSpec(
        start="2006-01", end="2006-12", events=200, seed=3, **{**preset, "late": 0.1}
    )
    assert path.read_text() == simulate(spec).truth.to_json()
    assert "would publish" in result.output

    result = CliRunner().invoke(app, ["simulate", "--from", "2006-13", "--dry-run"])
    assert isinstance(result.exception, CliError)
    assert str(result.exception) == "--from: '2006-13' is not a month written YYYY-MM"
