"""Templates a data officer can fill without the manual, and errors that say what to type."""

from __future__ import annotations

import csv
import warnings
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from producers import sheet_files, sheets
from producers.sheet_layout import EXAMPLE_ID, choice_labels, layout
from schemas import refdata
from schemas.vocabulary import Kind

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # kafka-python, imported by the app
    from partnerhub.cli import app

NOW = datetime(2006, 12, 1, 9, tzinfo=UTC)


def load(path: Path, partner: str = "kzlegal") -> sheets.Loaded:
    return sheets.load([path], partner, refdata.partners(), refs_key=None, now=NOW)


def lines(loaded: sheets.Loaded) -> list[str]:
    return [str(located) for located in loaded.problems]


def example_csv(tmp_path: Path, name: str = "a.csv", **changes: str) -> Path:
    """The assistance template's example as a real row (its EXAMPLE id cleared), changed."""
    template = sheet_files.write_template(Kind.ASSISTANCE, "csv", tmp_path / "template.csv")
    header, _, example = list(csv.reader(template.read_text(encoding="utf-8").splitlines()))
    row = {**dict(zip(header, example, strict=True)), "event_id": "", **changes}
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, list(row))
        writer.writeheader()
        writer.writerow(row)
    return path


@pytest.mark.parametrize("kind", list(Kind))
def test_every_enumerated_column_has_a_dropdown(tmp_path: Path, kind: Kind) -> None:
    path = sheet_files.write_template(kind, "xlsx", tmp_path / "t.xlsx")
    workbook = load_workbook(path)
    assert workbook.sheetnames[0] == "instructions"
    sheet, lists = workbook["events"], workbook["lists"]
    assert lists.sheet_state == "hidden"
    header = [cell.value for cell in sheet[1]]
    dropdowns = {}
    for validation in sheet.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            dropdowns[cell_range.min_col] = (validation, cell_range)
    enumerated = [column for column in layout(kind) if column.choices]
    assert {"kind", "region", "population_type", "origin"} <= {c.name for c in enumerated}
    for column in enumerated:
        index = header.index(column.name) + 1
        validation, cell_range = dropdowns[index]
        assert validation.type == "list", column.name
        assert (cell_range.min_row, cell_range.max_row) == (3, 2002)
        sheet_name, cells = validation.formula1.lstrip("=").split("!")
        offered = [row[0].value for row in workbook[sheet_name][cells.replace("$", "")]]
        assert offered == choice_labels(column), column.name
    counts = [c for c in layout(kind) if c.type == "int"]
    for column in counts:
        assert dropdowns[header.index(column.name) + 1][0].type == "whole", column.name


def test_region_and_origin_labels_carry_name_and_code() -> None:
    region = next(c for c in layout(Kind.ASSISTANCE) if c.name == "region")
    origin = next(c for c in layout(Kind.ASSISTANCE) if c.name == "origin")
    assert "KZ-75 Almaty (city)" in choice_labels(region)
    assert "KZ-19 Almaty Region" in choice_labels(region)
    assert "RUS Russian Federation" in choice_labels(origin)


def test_the_example_row_holds_numbers_and_a_date_and_is_marked(tmp_path: Path) -> None:
    path = sheet_files.write_template(Kind.HIV_TRAINING, "xlsx", tmp_path / "t.xlsx")
    sheet = load_workbook(path)["events"]
    row = {cell.value: value.value for cell, value in zip(sheet[1], sheet[3], strict=True)}
    assert row["event_id"] == EXAMPLE_ID
    assert row["sessions"] == 2
    assert isinstance(row["sessions"], int)
    assert row["hours"] == 3.5
    assert row["female_12_17"] == 8
    assert isinstance(row["occurred_on"], datetime | date)
    assert row["region"] == "KZ-19 Almaty Region"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_untouched_template_publishes_nothing(tmp_path: Path, fmt: str) -> None:
    path = sheet_files.write_template(Kind.SGBV, fmt, tmp_path / f"t.{fmt}")  # type: ignore[arg-type]
    # Not a dry run, and no broker: with nothing to send, publish must not even connect.
    result = CliRunner().invoke(
        app,
        ["publish", "--partner", "wcc_almaty", str(path)],
        env={"PARTNERHUB_KAFKA__BOOTSTRAP": "127.0.0.1:1"},
    )
    assert result.exit_code == 0, result.output
    assert "0 events valid (none); nothing sent" in result.output
    assert "example row, skipped" in result.output


def test_labels_from_the_dropdowns_are_read_as_codes(tmp_path: Path) -> None:
    path = example_csv(tmp_path, region="KZ-75 Almaty (city)", origin="RUS Russian Federation")
    loaded = load(path)
    assert lines(loaded) == []
    event = loaded.events[0][1].event
    assert (event.region, event.origin) == ("KZ-75", "RUS")


@pytest.mark.parametrize(
    ("typed", "column"),
    [("31/02/2006", "occurred_on"), ("2006-02-31", "occurred_on"), ("20.11.2006", "occurred_on")],
)
def test_a_wrong_date_is_echoed_with_the_form_expected(
    tmp_path: Path, typed: str, column: str
) -> None:
    path = example_csv(tmp_path, **{column: typed})
    assert lines(load(path)) == [
        f"{path}:2: {column}: bad_format: '{typed}' is not a date written "
        "YYYY-MM-DD (e.g. 2006-02-28)"
    ]


def test_a_wrong_timestamp_is_echoed_with_the_form_expected(tmp_path: Path) -> None:
    path = example_csv(tmp_path, reported_at="2006-11-21 10:00")
    assert lines(load(path)) == [
        f"{path}:2: reported_at: bad_format: '2006-11-21 10:00' is not a timestamp written "
        "YYYY-MM-DDThh:mm:ss+hh:mm (e.g. 2006-11-21T10:00:00+06:00)"
    ]


def test_a_misspelt_header_gets_a_suggestion_and_the_rows_are_still_checked(
    tmp_path: Path,
) -> None:
    path = example_csv(tmp_path, quantity="four")
    text = path.read_text(encoding="utf-8").replace("female_18_59", "femal_18_59", 1)
    path.write_text(text, encoding="utf-8")
    assert lines(load(path)) == [
        f"{path}:1: femal_18_59: unknown_field: not a column of the sheet layout; "
        "did you mean 'female_18_59'?",
        f"{path}:2: quantity: wrong_type: expected a number, got 'four'",
    ]


def test_a_header_only_sheet_missing_required_columns_fails(tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    short.write_text("kind,region,female_0_4\n", encoding="utf-8")
    assert lines(load(short)) == [
        f"{short}:1: occurred_on: missing_column: a required column is missing",
        f"{short}:1: population_type: missing_column: a required column is missing",
    ]
    whole = sheet_files.write_template(Kind.ASSISTANCE, "csv", tmp_path / "whole.csv")
    whole.write_text(whole.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert lines(load(whole)) == []


def test_problem_counts_are_grammatical(tmp_path: Path) -> None:
    path = example_csv(tmp_path, quantity="four")
    result = CliRunner().invoke(app, ["publish", "--partner", "kzlegal", "--dry-run", str(path)])
    assert result.exit_code == 1
    assert "1 problem in 1 row: nothing was sent" in result.output
