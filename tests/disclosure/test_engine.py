"""The disclosure engine on its own: the grain, the rule, and the attacker's LP on random
months (the outputs' side is tests/disclosure/test_attacker.py)."""

from __future__ import annotations

import random

import pytest

from disclosure.engine import publish_sgbv, tied_activities
from disclosure.grain import (
    EVENTS,
    PERSONS,
    TABLES,
    Domain,
    FigureKey,
    Record,
    figure_keys,
    parent_groups,
)
from disclosure.keys import integrity_hash, published_hash, rekey_ref
from schemas.vocabulary import CELLS
from tests.disclosure import attacker

REGIONS = ("KZ-75", "KZ-19", "KZ-71", "KZ-79")
DOMAIN = Domain(REGIONS)
INDICATORS = (
    "case_response.rape",
    "case_response.physical_assault",
    "case_response.psychological_abuse",
    "referral",
    "prevention_session",
    "training",
)


def random_records(rng: random.Random, events: int) -> list[Record]:
    sums: dict[tuple[str, str, str], tuple[int, list[int]]] = {}
    for _ in range(events):
        indicator = rng.choice(INDICATORS)
        key = (rng.choice(REGIONS), indicator, rng.choice(("refugee", "asylum_seeker", "returnee")))
        people = rng.randint(3, 15) if indicator in ("prevention_session", "training") else 1
        count, cells = sums.get(key, (0, [0] * len(CELLS)))
        for _ in range(people):
            cells[rng.choice((3, 3, 2, 8, 1))] += 1
        sums[key] = (count + 1, cells)
    return [Record(r, i, p, n, tuple(c)) for (r, i, p), (n, c) in sorted(sums.items())]


def as_attacker(key: FigureKey) -> attacker.Figure:
    return attacker.figure(key.table, key.measure, key.region, key.activity, key.incident,
                           key.population, key.cell)  # fmt: skip


def test_the_grain_is_a_full_grid_of_few_tables() -> None:
    keys = figure_keys(DOMAIN)
    tables = {k.table for k in keys}
    assert tables == set(TABLES)
    assert not any(k.table in ("cell", "activity_cell") and k.measure == EVENTS for k in keys)
    # region x activity for both measures, whatever happened: no row's existence says anything.
    assert sum(k.table == "region_activity" for k in keys) == len(REGIONS) * 4 * 2
    groups = parent_groups(keys)
    total = FigureKey("total", PERSONS)
    assert {p.table for p, _ in groups if p == total} == {"total"}
    assert {c[0].table for p, c in groups if p == total} == {
        "region",
        "activity",
        "cell",
        "population",
    }


@pytest.mark.parametrize("seed", range(6))
def test_no_small_figure_is_shown_or_pinned_by_the_rest(seed: int) -> None:
    rng = random.Random(seed)
    threshold = rng.choice((3, 5, 10))
    records = random_records(rng, rng.randint(3, 40))
    publication = publish_sgbv(records, threshold, domain=DOMAIN)
    exact = publish_sgbv(records, 1, domain=DOMAIN)  # threshold 1: nothing is withheld
    assert exact.withheld == 0
    published = {as_attacker(k): v for k, v in publication.published().items()}
    assert not [v for v in published.values() if 0 < v < threshold]
    for key, value in published.items():  # what is shown is exact
        assert exact.figures[FigureKey(*key)] == value
    small = [as_attacker(k) for k, v in exact.figures.items() if 0 < (v or 0) < threshold]
    assert all(publication.figures[FigureKey(*k)] is None for k in small)
    ranges = attacker.feasible_ranges(published, small)
    assert [k for k, b in ranges.items() if not attacker.protected(b, threshold)] == []


def test_zeros_are_published_and_a_month_without_sgbv_shows_only_zeros() -> None:
    empty = publish_sgbv([], 5, domain=DOMAIN)
    assert empty.withheld == 0
    assert set(empty.figures.values()) == {0}


def test_a_lone_case_withholds_its_neighbours_too() -> None:
    records = [
        Record("KZ-75", "prevention_session", "refugee", 3, (0, 0, 0, 20, 0, 0, 0, 0, 9, 0)),
        Record("KZ-19", "case_response.rape", "refugee", 1, (0, 0, 0, 1, 0, 0, 0, 0, 0, 0)),
    ]
    publication = publish_sgbv(records, 5, domain=DOMAIN)
    assert publication.value("region", region="KZ-19") is None
    # Two regions have activity: the total minus one region would give the other away.
    assert publication.value("region", region="KZ-75") is None or publication.value("total") is None
    assert tied_activities(records, DOMAIN) >= {"case_response"}


def test_keyed_hashes_need_the_secret() -> None:
    ref = "ab" * 32
    assert rekey_ref(b"hub", ref) == rekey_ref(b"hub", ref.upper())
    assert rekey_ref(b"hub", ref) != rekey_ref(b"other", ref)
    assert rekey_ref(b"hub", ref) != ref
    assert integrity_hash(b"hub", b"table") != published_hash(b"table")
    with pytest.raises(ValueError, match="empty"):
        rekey_ref(b"", ref)
