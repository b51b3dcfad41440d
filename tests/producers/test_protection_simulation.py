"""The simulated 2006 operation reports protection training and RSD casework: at the volumes
of the time, by the partners mandated for them, and with faults of their own."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from producers.simulator import Simulation, SimulationSpec, simulate
from schemas import refdata
from schemas.contract import ProtectionTrainingEvent, RsdCaseworkEvent, parse_event
from schemas.reasons import InvalidEvent
from schemas.vocabulary import CURRICULUM_AUDIENCES, Kind, PopulationType, RsdStage

FULL = SimulationSpec(start="2006-01", end="2006-12", events=20_000, seed=2006)
FAULTY = SimulationSpec(
    start="2006-01", end="2006-12", events=4_000, seed=18, invalid=0.03, corrections=0.03
)
REGISTRY = refdata.partners()
NEW_KINDS = {Kind.PROTECTION_TRAINING.value, Kind.RSD_CASEWORK.value}


@pytest.fixture(scope="module")
def full() -> Simulation:
    return simulate(FULL)


@pytest.fixture(scope="module")
def events(full: Simulation) -> list[ProtectionTrainingEvent | RsdCaseworkEvent]:
    out = []
    for message in full.messages:
        event = parse_event(message.value, today=FULL.today)
        if isinstance(event, ProtectionTrainingEvent | RsdCaseworkEvent):
            out.append(event)
    return out


def test_a_year_at_2006_volumes(events: list[ProtectionTrainingEvent | RsdCaseworkEvent]) -> None:
    trainings = [e for e in events if isinstance(e, ProtectionTrainingEvent)]
    cases = [e for e in events if isinstance(e, RsdCaseworkEvent)]
    # ~300 trainings and ~800 casework reports a year (docs/simulator.md).
    assert 200 <= len(trainings) <= 400
    assert 600 <= len(cases) <= 1000
    submitted = Counter(
        e.payload.procedure.value for e in cases if e.indicator.endswith("first_instance.submitted")
    )
    # A few hundred asylum applications a year, most of them to the state procedure.
    assert 100 <= sum(submitted.values()) <= 600
    assert submitted["state"] > submitted["unhcr_mandate"] > 0
    assert {e.payload.audience.value for e in trainings} >= {
        "border_guards",
        "judiciary",
        "students",
    }
    # Kazakhstan's law of 2006 had no complementary protection: every other stage occurs.
    assert {e.payload.stage for e in cases} == set(RsdStage) - {RsdStage.COMPLEMENTARY_PROTECTION}
    assert {e.payload.instance.value for e in cases} == {"first_instance", "appeal"}


def test_rsd_cases_are_asylum_seekers_and_refugees_by_origin(
    events: list[ProtectionTrainingEvent | RsdCaseworkEvent],
) -> None:
    cases = [e for e in events if isinstance(e, RsdCaseworkEvent)]
    assert {e.population_type for e in cases} == {
        PopulationType.ASYLUM_SEEKER,
        PopulationType.REFUGEE,
    }
    state = Counter(e.origin for e in cases if e.payload.procedure.value == "state")
    counselled = Counter(e.origin for e in cases if e.indicator.endswith(".counselled"))
    # Chechens were not admitted to the state procedure in 2006; they were counselled most.
    assert state["RUS"] < 0.05 * sum(state.values())
    assert counselled.most_common(1)[0][0] == "RUS"
    assert all(e.payload.cases <= e.beneficiaries.total for e in cases)


def test_curriculum_modules_are_for_universities_and_schools(
    events: list[ProtectionTrainingEvent | RsdCaseworkEvent],
) -> None:
    trainings = [e for e in events if isinstance(e, ProtectionTrainingEvent)]
    modules = [e for e in trainings if e.payload.curriculum]
    assert modules
    assert {e.payload.audience for e in modules} <= set(CURRICULUM_AUDIENCES)
    assert {e.partner_id for e in trainings} == {"hr_bureau", "uni_network"}
    assert {e.population_type for e in trainings} >= {PopulationType.HOST_COMMUNITY}


def test_the_ground_truth_counts_both_kinds(full: Simulation) -> None:
    rows = [r for r in full.truth.totals if r["kind"] in NEW_KINDS]
    assert {r["kind"] for r in rows} == NEW_KINDS
    assert {r["partner_id"] for r in rows} == {"hr_bureau", "uni_network", "migration"}


def test_faults_of_the_new_kinds_are_dead_lettered_by_reason() -> None:
    sim = simulate(FAULTY)
    on_new_topics = Counter(
        code
        for index, code in sim.rejections.items()
        if sim.messages[index].topic.split(".")[2] in NEW_KINDS
    )
    assert on_new_topics["curriculum_not_allowed"] > 0
    assert on_new_topics["population_not_allowed"] > 0
    assert sum(on_new_topics.values()) > len(on_new_topics)  # other codes on them too
    assert (
        sim.truth.deadletters["curriculum_not_allowed"] == on_new_topics["curriculum_not_allowed"]
    )
    for index, code in sim.rejections.items():
        if code == "curriculum_not_allowed":
            body = json.loads(sim.messages[index].value)
            assert body["payload"]["curriculum"] is True


def test_an_rsd_partner_where_no_asylum_seeker_lives_still_gets_one_code_per_fault() -> None:
    """Invalid messages are valid events broken once; an RSD event is never about hosts."""
    registry = {
        "hr_bureau": REGISTRY["hr_bureau"].model_copy(update={"regions": ("KZ-11",)}),
        "uni_network": REGISTRY["uni_network"],
    }
    sim = simulate(
        SimulationSpec(
            start="2006-01", end="2006-03", events=300, seed=3, invalid=0.2, partners=registry
        )
    )
    rsd = [i for i in sim.rejections if sim.messages[i].topic.endswith(".rsd_casework.v1")]
    assert rsd
    for index, code in sim.rejections.items():
        message = sim.messages[index]
        expected = [] if code in ("partner_mismatch", "kind_mismatch") else [code]
        assert parse_codes(message.value, sim) == expected, (code, message)


def parse_codes(value: bytes, sim: Simulation) -> list[str]:
    """Reason codes of parsing alone (the topic's attribution left out)."""
    try:
        parse_event(value, today=sim.spec.today)
    except InvalidEvent as error:
        return [r.code for r in error.reasons]
    return []
