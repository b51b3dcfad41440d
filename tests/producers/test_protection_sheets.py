"""Sheets for protection training and RSD casework: the yes/no curriculum column, the RSD
population rule in the template, and clear problems for bad cells."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from producers import sheet_files, sheets
from producers.sheet_layout import RowInvalid, cell_value, example_row, layout, row_to_draft
from schemas import refdata
from schemas.vocabulary import Kind

NOW = datetime(2006, 12, 1, 9, 0, tzinfo=UTC)


def column(kind: Kind, name: str) -> object:
    return next(c for c in layout(kind) if c.name == name)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("yes", True), ("No", False), ("TRUE", True), ("0", False), (True, True), (1, True)],
)
def test_curriculum_cells(cell: str | int | bool, expected: bool) -> None:
    assert cell_value(cell, column(Kind.PROTECTION_TRAINING, "curriculum")) is expected  # type: ignore[arg-type]


def test_a_curriculum_cell_that_is_not_yes_or_no() -> None:
    row = {**example_row(Kind.PROTECTION_TRAINING), "curriculum": "sometimes"}
    with pytest.raises(RowInvalid) as refused:
        row_to_draft(row)
    assert [(p.column, p.code) for p in refused.value.problems] == [("curriculum", "wrong_type")]
    assert "expected yes or no, got 'sometimes'" in refused.value.problems[0].message


def test_templates_say_what_the_new_kinds_allow() -> None:
    rsd = {c.name: c.allowed for c in layout(Kind.RSD_CASEWORK)}
    assert rsd["population_type"] == "asylum_seeker | refugee"
    assert rsd["procedure"] == "state | unhcr_mandate"
    assert "beneficiary_refs" not in rsd
    assert "registration_ids" not in rsd
    training = {c.name: c.allowed for c in layout(Kind.PROTECTION_TRAINING)}
    assert training["curriculum"] == "optional: yes | no"
    assert training["audience"].startswith("government | parliament | judiciary")


def test_a_curriculum_module_for_border_guards_is_refused_naming_the_row(tmp_path: Path) -> None:
    path = sheet_files.write_template(Kind.PROTECTION_TRAINING, "csv", tmp_path / "t.csv")
    text = path.read_text(encoding="utf-8").replace("university_lecturers", "border_guards")
    text = text.replace(",EXAMPLE,", ",,")  # a row of one's own: the example is never published
    path.write_text(text, encoding="utf-8")
    loaded = sheets.load((path,), "uni_network", refdata.partners(), refs_key=None, now=NOW)
    assert [str(p) for p in loaded.problems] == [
        f"{path}:3: curriculum: curriculum_not_allowed: a curriculum module is for university"
        " lecturers, school teachers or students, not border_guards"
    ]
