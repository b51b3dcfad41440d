"""Reference data: the files themselves, and the loader that checks them."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from schemas import refdata
from schemas.vocabulary import (
    AssistanceCategory,
    HivAudience,
    IncomeActivity,
    Kind,
    PopulationType,
    ProtectionAudience,
    RsdProcedure,
    SgbvActivity,
    Solution,
)

REFERENCE = files("schemas") / "reference"
ISO_KZ = re.compile(r"^KZ-\d{2}$")


def raw_csv(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((REFERENCE / name).read_text(encoding="utf-8"))))


def raw_partners() -> list[dict[str, Any]]:
    data = json.loads((REFERENCE / "partners.json").read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def raw_region_codes() -> set[str]:
    return {row["code"] for row in raw_csv("regions.csv")}


# --- regions ------------------------------------------------------------------------------------


def test_region_codes_are_unique_iso_codes() -> None:
    codes = [row["code"] for row in raw_csv("regions.csv")]
    assert len(codes) == len(set(codes)), Counter(codes).most_common(3)
    assert all(ISO_KZ.match(code) for code in codes), codes
    # 17 regions (incl. Abai, Jetisu, Ulytau of 2022) + Astana, Almaty, Shymkent.
    assert len(codes) == 20
    assert {"KZ-10", "KZ-33", "KZ-62", "KZ-71", "KZ-75", "KZ-79"} <= set(codes)
    assert set(refdata.regions()) == set(codes)


def test_regions_have_names_and_a_centroid_inside_kazakhstan() -> None:
    for region in refdata.regions().values():
        assert all((region.name_en, region.name_kk, region.name_ru, region.admin_center_en))
        assert 40.5 < region.lat < 55.5, region
        assert 46.5 < region.lon < 87.5, region
    almaty, astana = refdata.regions()["KZ-75"], refdata.regions()["KZ-71"]
    assert (round(almaty.lat), round(almaty.lon)) == (43, 77)
    assert (round(astana.lat), round(astana.lon)) == (51, 71)


def test_regions_2006_partition_today() -> None:
    rows = raw_csv("regions_2006.csv")
    assert len(rows) == 16
    today = raw_region_codes()
    covering = [code for row in rows for code in row["today_codes"].split()]
    assert set(covering) <= today, set(covering) - today
    assert set(covering) == today, today - set(covering)
    assert len(covering) == len(set(covering)), "a code of today is claimed by two 2006 regions"
    for row in rows:
        assert row["primary_code"] in row["today_codes"].split(), row
    loaded = refdata.regions_2006()
    assert [r.name_2006_en for r in loaded] == [row["name_2006_en"] for row in rows]


@pytest.mark.parametrize(
    ("name_2006", "codes", "primary"),
    [
        ("South Kazakhstan Oblast", {"KZ-61", "KZ-79"}, "KZ-61"),
        ("East Kazakhstan Oblast", {"KZ-63", "KZ-10"}, "KZ-63"),
        ("Almaty Oblast", {"KZ-19", "KZ-33"}, "KZ-19"),
        ("Karaganda Oblast", {"KZ-35", "KZ-62"}, "KZ-35"),
        ("Almaty City", {"KZ-75"}, "KZ-75"),
        ("Astana City", {"KZ-71"}, "KZ-71"),
    ],
)
def test_regions_2006_splits(name_2006: str, codes: set[str], primary: str) -> None:
    by_name = {r.name_2006_en: r for r in refdata.regions_2006()}
    assert set(by_name[name_2006].today_codes) == codes
    assert by_name[name_2006].primary_code == primary


# --- origins ------------------------------------------------------------------------------------


def test_origins() -> None:
    codes = [row["code"] for row in raw_csv("origins.csv")]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in codes)
    required = {"RUS", "TJK", "AFG", "CHN", "UZB", "KGZ", "TKM", "MNG", "IRN", "PAK", "IRQ", "SYR"}
    assert required <= set(codes)
    assert "KAZ" not in codes
    assert "XXA" in codes
    assert refdata.origins()["XXA"].note
    assert set(refdata.origins()) == set(codes)


# --- partners -----------------------------------------------------------------------------------


def test_registry_uses_valid_reference_values() -> None:
    entries = raw_partners()
    today = raw_region_codes()
    kinds = {k.value for k in Kind}
    codes = [entry["code"] for entry in entries]
    assert len(codes) == len(set(codes))
    assert 10 <= len(entries) <= 15
    for entry in entries:
        assert set(entry) == {"code", "name", "type", "kinds", "regions"}, entry
        assert re.fullmatch(r"[a-z0-9_]{2,31}", entry["code"]), entry
        assert entry["type"] in {"ngo", "government", "un"}
        assert entry["kinds"], entry
        assert set(entry["kinds"]) <= kinds, entry
        assert entry["regions"], entry
        assert set(entry["regions"]) <= today, entry
    assert set(refdata.partners()) == set(codes)


def test_every_kind_is_covered_by_two_partners() -> None:
    counts = Counter(kind for p in refdata.partners().values() for kind in p.kinds)
    assert {kind: counts[kind] for kind in Kind if counts[kind] < 2} == {}
    assert max(len(p.kinds) for p in refdata.partners().values()) >= 3
    sgbv = [p for p in refdata.partners().values() if Kind.SGBV in p.kinds]
    assert all("crisis centre" in p.name.lower() for p in sgbv), sgbv
    # Where the refugees lived: somebody must work in Almaty city and region.
    worked = {region for p in refdata.partners().values() for region in p.regions}
    assert {"KZ-75", "KZ-19", "KZ-71", "KZ-79", "KZ-61", "KZ-35"} <= worked


def test_partner_topics() -> None:
    partner = refdata.partners()["redcres"]
    assert partner.topic(Kind.SGBV) == "partners.redcres.sgbv.v1"
    assert partner.topic("assistance") == "partners.redcres.assistance.v1"
    assert partner.topics() == [f"partners.redcres.{k.value}.v1" for k in partner.kinds]
    assert isinstance(partner.kinds, tuple)
    assert isinstance(partner.regions, tuple)


def test_load_partners_accepts_a_valid_copy(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(raw_partners()), encoding="utf-8")
    assert refdata.load_partners(path) == refdata.partners()


def _break_unknown_region(e: dict[str, Any]) -> None:
    e["regions"] = [*e["regions"], "KZ-99"]


def _break_unknown_kind(e: dict[str, Any]) -> None:
    e["kinds"] = ["assistance", "food_distribution"]


def _break_extra_field(e: dict[str, Any]) -> None:
    e["contact_email"] = "someone@example.org"


def _break_type(e: dict[str, Any]) -> None:
    e["type"] = "company"


def _break_no_kinds(e: dict[str, Any]) -> None:
    e["kinds"] = []


@pytest.mark.parametrize(
    "breakage",
    [_break_unknown_region, _break_unknown_kind, _break_extra_field, _break_type, _break_no_kinds],
)
def test_broken_registry_names_file_and_entry(tmp_path: Path, breakage: Any) -> None:
    entries = raw_partners()
    breakage(entries[3])
    path = tmp_path / "ops_registry.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(ValueError, match=r"ops_registry\.json") as info:
        refdata.load_partners(path)
    assert "entry 3" in str(info.value)
    assert entries[3]["code"] in str(info.value)


@pytest.mark.parametrize(
    "content",
    [
        '{"code": "x"}',  # not a list
        "[{",  # not JSON
    ],
)
def test_unreadable_registry_names_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.json"):
        refdata.load_partners(path)


def test_duplicate_partner_code_is_rejected(tmp_path: Path) -> None:
    entries = raw_partners()
    entries.append({**entries[0], "name": "Another"})
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(ValueError, match=rf"dup\.json: entry {len(entries) - 1} .*duplicate"):
        refdata.load_partners(path)


# --- targets ------------------------------------------------------------------------------------

FIRST_PART: dict[str, type[StrEnum]] = {
    "assistance": AssistanceCategory,
    "income_generation": IncomeActivity,
    "sgbv": SgbvActivity,
    "hiv_training": HivAudience,
    "durable_solutions": Solution,
    "protection_training": ProtectionAudience,
    "rsd_casework": RsdProcedure,
}


def test_targets_use_valid_reference_values() -> None:
    rows = raw_csv("targets.csv")
    origins = {row["code"] for row in raw_csv("origins.csv")}
    today = raw_region_codes()
    assert len(rows) >= 10
    for row in rows:
        assert row["kind"] in FIRST_PART, row
        if row["indicator"] != "*":
            first = row["indicator"].split(".")[0]
            assert first in {m.value for m in FIRST_PART[row["kind"]]}, row
        assert row["origin"] == "" or row["origin"] in origins, row
        assert row["region"] == "" or row["region"] in today, row
        assert row["population_type"] == "" or row["population_type"] in set(PopulationType)
        assert row["measure"] in {"persons", "cases", "sessions", "events"}, row
        assert int(row["target"]) > 0
    assert len(refdata.targets()) == len(rows)


def test_the_2006_plans_durable_solution_targets() -> None:
    plan = {
        (t.indicator, t.origin, t.measure): t.target
        for t in refdata.targets()
        if t.year == 2006 and t.kind is Kind.DURABLE_SOLUTIONS and t.source != "demo"
    }
    assert plan == {
        ("voluntary_repatriation.departed", "RUS", "persons"): 1500,
        ("voluntary_repatriation.departed", "AFG", "persons"): 50,
        ("resettlement.departed", "AFG", "cases"): 100,
        ("resettlement.departed", "CHN", "cases"): 10,
        ("resettlement.departed", "RUS", "cases"): 15,
    }
    assert all(
        t.population_type is PopulationType.REFUGEE and t.region is None
        for t in refdata.targets()
        if t.source != "demo"
    )


def test_demo_targets_cover_the_other_kinds() -> None:
    kinds = {t.kind for t in refdata.targets() if t.source == "demo"}
    assert {Kind.ASSISTANCE, Kind.INCOME_GENERATION, Kind.HIV_TRAINING} <= kinds
    indicators = {t.indicator for t in refdata.targets()}
    assert {"legal_aid", "winterization", "vocational_training.completed"} <= indicators


@pytest.mark.parametrize(
    ("kind", "indicator"),
    [
        ("assistance", "resettlement"),
        ("assistance", "cash.enrolled"),
        ("durable_solutions", "resettlement"),
        ("durable_solutions", "resettlement.granted"),
        ("hiv_training", "refugees.departed"),
        ("income_generation", "vocational_training"),
        ("sgbv", "rape"),
    ],
)
def test_check_indicator_rejects(kind: str, indicator: str) -> None:
    with pytest.raises(ValueError, match="indicator"):
        refdata.check_indicator(kind, indicator)


@pytest.mark.parametrize(
    ("kind", "indicator"),
    [
        ("assistance", "food"),
        ("durable_solutions", "naturalization.completed"),
        ("hiv_training", "youth.*"),
        ("sgbv", "*"),
    ],
)
def test_check_indicator_accepts(kind: str, indicator: str) -> None:
    refdata.check_indicator(kind, indicator)


def test_loaders_are_cached() -> None:
    assert refdata.regions() is refdata.regions()
    assert refdata.partners() is refdata.partners()
    assert refdata.targets() is refdata.targets()
