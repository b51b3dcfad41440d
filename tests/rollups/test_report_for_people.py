"""The roll-up a UNHCR office can hand on: human labels (English and Russian), the 3W and
population x origin tables, the region names of the reported year, print CSS, templates an
office adapts, a CSV Excel reads, an XLSX with names, widths and filters; and, rendered in
headless Chromium, the page a reporting officer sees."""

from __future__ import annotations

import csv
import functools
import html
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import openpyxl
import pytest

from partnerhub.settings import HubSettings
from producers.simulator import SimulationSpec, simulate
from rollups import screenshot
from rollups.produce import RollupRun, run_rollup
from rollups.render_xlsx import XLSX_COLUMNS
from rollups.views import population_by_origin, three_w
from schemas import labels, refdata, vocabulary
from tests.support import load_simulation
from warehouse.client import Warehouse

pytestmark = pytest.mark.clickhouse

CLOSED = datetime(2006, 4, 10, tzinfo=UTC)
#: Regions that did not exist in 2006 (created 2018 and 2022), by their names of today.
NOT_IN_2006 = ("Abai", "Jetisu", "Ulytau", "Turkistan", "Shymkent")


@functools.cache
def simulation() -> object:
    return simulate(SimulationSpec(start="2006-02", end="2006-03", events=1500, seed=17))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    folder = tmp_path_factory.mktemp("hub") / "warehouse"
    wh = load_simulation(folder, simulation())  # type: ignore[arg-type]
    yield wh
    wh.close()


def make(wh: Warehouse, out: Path, language: labels.Language = "en") -> RollupRun:
    hub = HubSettings(data_dir=out / "hub").rollups()
    return run_rollup(
        wh, hub, "2006-03", clock=lambda: CLOSED, created_by="test", out_dir=out, language=language
    )


@pytest.fixture(scope="module")
def english(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> RollupRun:
    run = make(warehouse, tmp_path_factory.mktemp("en"))
    assert run.report.publication.withheld > 0  # the month has withheld SGBV numbers
    return run


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def table(page: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S)
    assert body, f"no table {table_id}"
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    ]


def test_labels_cover_every_code_of_the_contract() -> None:
    enums = [
        value
        for value in vars(vocabulary).values()
        if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum
    ]
    assert len(enums) >= 15
    codes = {m.value for enum in enums if enum is not vocabulary.Status for m in enum}
    codes |= set(refdata.origins())
    missing = sorted(code for code in codes if code not in labels.vocabulary())
    assert missing == []
    assert all(set(entry) == {"en", "ru"} for entry in labels.vocabulary().values())


def test_2006_data_gets_2006_region_names() -> None:
    names = labels.region_names(2006)
    assert names["KZ-33"] == names["KZ-19"] == "Almaty Oblast"  # Jetisu was part of it
    assert names["KZ-79"] == names["KZ-61"] == "South Kazakhstan Oblast"
    assert names["KZ-75"] == "Almaty City"
    assert not any(old in name for name in names.values() for old in NOT_IN_2006)
    assert labels.region_names(2024)["KZ-79"] == "Shymkent (city)"
    assert labels.region_names(2006, "ru")["KZ-19"] == "Алматинская область"
    assert set(names) == set(refdata.regions())


def test_the_html_has_3w_and_population_tables_with_labels_not_codes(english: RollupRun) -> None:
    page = english.files["html"].read_text(encoding="utf-8")
    threew = table(page, "threew-table")
    assert threew[0][:4] == [
        "Partner",
        "Region",
        "Kind of activity",
        "Activities (by stage in the XLSX)",
    ]
    expected = three_w(english.report.publication, labels.region_names(2006))
    assert len(threew) - 1 == len(expected) > 10
    partners = set(english.report.partner_names.values())
    assert {row[0] for row in threew[1:]} <= partners
    kinds = {labels.label(k) for k in ("assistance", "durable_solutions")}
    assert kinds <= {row[2] for row in threew[1:]}
    # SGBV is published by region and activity only, never by partner (docs/sgbv.md).
    assert labels.label("sgbv") not in {row[2] for row in threew[1:]}
    population = table(page, "population-table")
    assert population[0][1:3] == ["Refugees", "Asylum-seekers"]
    assert "Russian Federation" in {row[0] for row in population}
    cross = population_by_origin(english.report.publication)
    assert len(population) == len(cross.columns) + 2  # header, origins, total
    words = text_of(page)
    for machine in ("income_generation", "partner_staff", "durable_solutions", "asylum_seeker"):
        assert machine not in words, machine
    assert "where its event count is withheld or only partly published" in words
    assert "on pace or ahead" in words  # the progress bars' legend


def test_the_html_names_the_regions_of_2006(english: RollupRun) -> None:
    page = english.files["html"].read_text(encoding="utf-8")
    regions = {row[1] for row in table(page, "threew-table")[1:]}
    in_2006 = {r.name_2006_en for r in refdata.regions_2006()}
    assert regions <= in_2006
    assert len(regions) >= 5
    assert not any(old in text_of(page) for old in NOT_IN_2006)
    assert "Regions are named as they were in 2006" in text_of(page)


def test_no_withheld_number_shows_in_the_cross_tables(english: RollupRun) -> None:
    page = english.files["html"].read_text(encoding="utf-8")
    threshold = english.report.threshold
    sgbv = labels.label("sgbv")
    for row in table(page, "threew-table")[1:]:
        if row[2] == sgbv:
            for cell in row[4:]:
                number = cell.lstrip("≥").replace(",", "")
                assert cell == "x" or not (number.isdigit() and 0 < int(number) < threshold), row


def test_print_css_and_russian(warehouse: Warehouse, english: RollupRun, tmp_path: Path) -> None:
    page = english.files["html"].read_text(encoding="utf-8")
    assert "@media print" in page
    assert "@page" in page
    russian = make(warehouse, tmp_path / "ru", "ru").files["html"].read_text(encoding="utf-8")
    assert '<html lang="ru">' in russian
    assert "Кто, что и где (3W)" in russian
    assert "Алматинская область" in russian
    assert "Беженцы" in russian


def test_an_office_template_replaces_the_packaged_one(warehouse: Warehouse, tmp_path: Path) -> None:
    templates = tmp_path / "hub" / "templates"
    templates.mkdir(parents=True)
    (templates / "rollup.html.j2").write_text(
        "<p>Office of Almaty: {{ report.month }} {{ T('threew', lang) }}"
        " {{ show(report.publication.kind_total('events')) }}</p>",
        encoding="utf-8",
    )
    run = make(warehouse, tmp_path)
    page = run.files["html"].read_text(encoding="utf-8")
    events = run.report.publication.kind_total("events").value
    threew = labels.text("threew")
    assert page == f"<p>Office of Almaty: 2006-03 {threew} {events:,}</p>"


def test_the_csv_opens_in_excel_and_the_xlsx_names_its_codes(english: RollupRun) -> None:
    raw = english.files["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))[0] == "month"
    assert english.version.checksum != ""  # the checksum is of the exact CSV, BOM or not
    book = openpyxl.load_workbook(english.files["xlsx"])
    sheet = book["assistance"]
    header = [c.value for c in sheet[1]]
    assert header == list(XLSX_COLUMNS)
    row = dict(zip(header, (c.value for c in sheet[2]), strict=True))
    assert row["partner_id_name"] == english.report.partner_names[row["partner_id"]]
    assert row["region_name"] == labels.region_names(2006)[row["region"]]
    assert row["population_type_name"] == labels.label(row["population_type"])
    assert sheet.auto_filter.ref == sheet.dimensions
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["C"].width > 12  # partner names are not cut at 8 characters
    summary = {r[0]: r for r in book["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert summary["sgbv"][1] == labels.label("sgbv")


@pytest.mark.skipif(screenshot.chromium() is None, reason="chromium is not installed")
def test_chromium_renders_the_tables_and_the_2006_regions(
    english: RollupRun, tmp_path: Path
) -> None:
    """The screenshot a reviewer looks at, and the DOM Chromium laid out, checked."""
    png = screenshot.screenshot(english.files["html"], tmp_path / "rollup.png", height=5000)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 5000)
    assert len(data) > 100_000  # a page of tables and charts, not a blank one
    dom = screenshot.rendered_dom(english.files["html"])
    assert 'id="threew-table"' in dom
    assert 'id="population-table"' in dom
    assert "South Kazakhstan Oblast" in dom or "Almaty Oblast" in dom
    assert not any(old in text_of(dom) for old in NOT_IN_2006)
