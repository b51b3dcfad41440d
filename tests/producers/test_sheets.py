"""Sheets: the layout, the pure row -> event mapping, and loading CSV, XLSX and JSON Lines files.

Nothing here needs a broker: loading a file checks every row exactly as the SDK would before
sending (``tests/partnerhub/test_publish_cli.py`` covers the sending).
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from producers import sheet_files, sheets
from producers.refs import beneficiary_ref
from producers.sheet_layout import (
    CELLS_LABEL,
    Problem,
    RowInvalid,
    column_for,
    derived_event_id,
    example_row,
    finish,
    layout,
    row_to_draft,
)
from schemas import refdata
from schemas.vocabulary import CELLS, Kind

NOW = datetime(2006, 12, 1, 9, 0, tzinfo=UTC)
KEY = bytes(range(32))
REGISTRY = refdata.partners()
ENVELOPE = [
    "kind",
    "event_id",
    "revision",
    "status",
    "occurred_on",
    "reported_at",
    "region",
    "population_type",
    "origin",
]
PAYLOAD = {
    Kind.ASSISTANCE: ["category", "quantity", "unit", "value_usd"],
    Kind.INCOME_GENERATION: ["activity", "stage", "amount_usd"],
    Kind.SGBV: ["activity", "incident_type", "services"],
    Kind.HIV_TRAINING: ["audience", "topic", "sessions", "hours"],
    Kind.DURABLE_SOLUTIONS: ["solution", "stage", "cases"],
    Kind.PROTECTION_TRAINING: ["audience", "topic", "sessions", "hours", "curriculum"],
    Kind.RSD_CASEWORK: ["procedure", "instance", "stage", "cases"],
}
#: A partner mandated for each kind.
PARTNER = {
    Kind.ASSISTANCE: "kzlegal",
    Kind.INCOME_GENERATION: "vocctr",
    Kind.SGBV: "wcc_almaty",
    Kind.HIV_TRAINING: "aidsctr",
    Kind.DURABLE_SOLUTIONS: "resettle",
    Kind.PROTECTION_TRAINING: "uni_network",
    Kind.RSD_CASEWORK: "hr_bureau",
}


def load(*paths: Path, partner: str = "kzlegal", key: bytes | None = None) -> sheets.Loaded:
    return sheets.load(paths, partner, REGISTRY, refs_key=key, now=NOW)


def lines(loaded: sheets.Loaded) -> list[str]:
    return [str(problem) for problem in loaded.problems]


def write_csv(path: Path, rows: list[dict[str, Any]], delimiter: str = ",") -> Path:
    names = list(dict.fromkeys(name for row in rows for name in row))
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, names, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[dict[str, Any]]) -> Path:
    names = list(dict.fromkeys(name for row in rows for name in row))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(names)
    for row in rows:
        sheet.append([row.get(name) for name in names])
    workbook.save(path)
    return path


def assistance(**changes: Any) -> dict[str, Any]:
    """The assistance example row made a real row (its EXAMPLE event_id cleared), changed."""
    return {**example_row(Kind.ASSISTANCE), "event_id": "", **changes}


# --- layout ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(Kind))
def test_layout_of_each_kind(kind: Kind) -> None:
    refs = ["beneficiary_refs", "registration_ids"] if kind is Kind.ASSISTANCE else []
    names = [column.name for column in layout(kind)]
    assert names == [*ENVELOPE, *CELLS, *PAYLOAD[kind], *refs]


def test_allowed_values_come_from_the_contract() -> None:
    allowed = {column.name: column.allowed for column in layout(Kind.SGBV)}
    assert allowed["activity"] == "case_response | referral | prevention_session | training"
    assert allowed["incident_type"].startswith("only when activity is case_response: rape |")
    assert allowed["services"].startswith("optional: any of medical; psychosocial;")
    assert "KZ-75" in allowed["region"]
    hiv = {column.name: column.allowed for column in layout(Kind.HIV_TRAINING)}
    assert hiv["sessions"] == "whole number >= 1"
    assert hiv["hours"] == "number > 0"


# --- row -> event (pure) -----------------------------------------------------------------------


def test_a_row_maps_to_a_nested_draft_with_empty_cells_absent() -> None:
    row = {
        **{name: "" for name in ENVELOPE + list(CELLS) + PAYLOAD[Kind.SGBV]},
        "kind": "sgbv",
        "occurred_on": "2006-11-20",
        "region": " KZ-75 ",
        "population_type": "refugee",
        "origin": "RUS",
        "female_18_59": "1",
        "male_0_4": "0",
        "activity": "case_response",
        "incident_type": "rape",
        "services": "medical; psychosocial;",
    }
    assert row_to_draft(row) == {
        "kind": "sgbv",
        "occurred_on": "2006-11-20",
        "region": "KZ-75",
        "population_type": "refugee",
        "origin": "RUS",
        "beneficiaries": {"female": {"18-59": 1}, "male": {"0-4": 0}},
        "payload": {
            "activity": "case_response",
            "incident_type": "rape",
            "services": ["medical", "psychosocial"],
        },
    }


def test_cell_values_as_a_spreadsheet_gives_them() -> None:
    row = {
        "kind": "assistance",
        "revision": 2.0,  # XLSX numbers may come as floats
        "occurred_on": datetime(2006, 11, 20),  # a date cell
        "female_5_11": 3,
        "quantity": "2.5",
        "value_usd": 180.0,
        "registration_ids": 12345,  # a numeric id
    }
    draft = row_to_draft(row)
    assert draft["revision"] == 2
    assert draft["occurred_on"] == "2006-11-20"
    assert draft["beneficiaries"] == {"female": {"5-11": 3}}
    assert draft["payload"] == {"quantity": 2.5, "value_usd": 180}
    assert draft["registration_ids"] == ["12345"]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"kind": ""}, Problem("kind", "missing", "every row needs its kind")),
        (
            {"female_0_4": "2.5"},
            Problem("female_0_4", "wrong_type", "expected a whole number, got '2.5'"),
        ),
        ({"quantity": "four"}, Problem("quantity", "wrong_type", "expected a number, got 'four'")),
        ({"quantity": "nan"}, Problem("quantity", "wrong_type", "expected a number, got 'nan'")),
        (
            {"services": "medical"},
            Problem("services", "unknown_field", "not a column of assistance rows"),
        ),
    ],
)
def test_rows_that_cannot_be_mapped(changes: dict[str, str], problem: Problem) -> None:
    with pytest.raises(RowInvalid) as raised:
        row_to_draft(assistance(**changes))
    assert raised.value.problems == [problem]


def test_an_unknown_kind_is_the_only_problem_reported() -> None:
    with pytest.raises(RowInvalid) as raised:
        row_to_draft(assistance(kind="food", quantity="four"))
    assert [(p.column, p.code) for p in raised.value.problems] == [("kind", "invalid_value")]


def test_finish_fills_partner_id_and_reported_at_and_derives_the_id() -> None:
    draft = row_to_draft(assistance(reported_at=""))
    event = finish(draft, "kzlegal", refs_key=None, now=NOW)
    assert event["partner_id"] == "kzlegal"
    assert event["reported_at"] == "2006-12-01T09:00:00+00:00"
    assert event["event_id"] == derived_event_id("kzlegal", {"partner_id": "kzlegal", **draft})
    later = finish(draft, "kzlegal", refs_key=None, now=datetime(2007, 1, 1, tzinfo=UTC))
    assert later["event_id"] == event["event_id"]  # a defaulted reported_at is not content


def test_derived_ids_follow_the_content_and_the_partner() -> None:
    draft = row_to_draft(assistance())
    event_id = finish(draft, "kzlegal", refs_key=None, now=NOW)["event_id"]
    assert finish(dict(draft), "kzlegal", refs_key=None, now=NOW)["event_id"] == event_id
    assert finish(draft, "redcres", refs_key=None, now=NOW)["event_id"] != event_id
    edited = row_to_draft(assistance(quantity="5"))
    assert finish(edited, "kzlegal", refs_key=None, now=NOW)["event_id"] != event_id


def test_a_given_event_id_is_kept() -> None:
    given = "6f1c1f2e-8a51-4d0e-9a39-1d2f3c4b5a69"
    draft = row_to_draft(assistance(event_id=given))
    assert finish(draft, "kzlegal", refs_key=None, now=NOW)["event_id"] == given


def test_registration_ids_are_hashed_and_never_kept() -> None:
    draft = row_to_draft(
        assistance(beneficiary_refs="a" * 64, registration_ids="kz-06-001; KZ-06-002")
    )
    event = finish(draft, "kzlegal", refs_key=KEY, now=NOW)
    assert event["beneficiary_refs"] == [
        "a" * 64,
        beneficiary_ref("KZ-06-001", KEY),
        beneficiary_ref("KZ-06-002", KEY),
    ]
    text = json.dumps(event)
    assert "registration_ids" not in text
    assert "06-001" not in text.upper()
    assert "06-002" not in text.upper()


@pytest.mark.parametrize(
    ("ids", "key", "code"),
    [("KZ-1", None, "refs_key_missing"), ("KZ-1; kz-1", KEY, "duplicate_value")],
)
def test_registration_ids_problems(ids: str, key: bytes | None, code: str) -> None:
    draft = row_to_draft(assistance(registration_ids=ids))
    with pytest.raises(RowInvalid) as raised:
        finish(draft, "kzlegal", refs_key=key, now=NOW)
    assert [(p.column, p.code) for p in raised.value.problems] == [("registration_ids", code)]


@pytest.mark.parametrize(
    ("field", "column"),
    [
        ("payload.incident_type", "incident_type"),
        ("payload.services.1", "services"),
        ("beneficiaries.female.0-4", "female_0_4"),
        ("beneficiaries.male.60+", "male_60_plus"),
        ("beneficiaries", CELLS_LABEL),
        ("beneficiary_refs.3", "beneficiary_refs"),
        ("occurred_on", "occurred_on"),
        ("", ""),
    ],
)
def test_contract_fields_point_at_sheet_columns(field: str, column: str) -> None:
    assert column_for(field) == column


# --- templates ---------------------------------------------------------------------------------


def clear_example_id(path: Path) -> Path:
    """The template with its example row made a real row, as a data officer would."""
    if path.suffix == ".csv":
        rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
        rows[2][rows[0].index("event_id")] = ""
        with path.open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows(rows)
        return path
    workbook = load_workbook(path)
    sheet = workbook["events"]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(row=3, column=header.index("event_id") + 1).value = None
    workbook.save(path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", list(Kind))
def test_an_untouched_template_publishes_nothing(tmp_path: Path, kind: Kind, fmt: str) -> None:
    path = sheet_files.write_template(kind, fmt, tmp_path / f"{kind.value}.{fmt}")  # type: ignore[arg-type]
    loaded = load(path, partner=PARTNER[kind])
    assert lines(loaded) == []
    assert loaded.events == []
    assert loaded.examples == [sheets.Source(path, 3)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", list(Kind))
def test_a_template_example_is_a_valid_event(tmp_path: Path, kind: Kind, fmt: str) -> None:
    path = sheet_files.write_template(kind, fmt, tmp_path / f"{kind.value}.{fmt}")  # type: ignore[arg-type]
    loaded = load(clear_example_id(path), partner=PARTNER[kind])
    assert lines(loaded) == []
    assert len(loaded.events) == 1  # the allowed-values row is skipped
    source, prepared = loaded.events[0]
    assert source.row == 3
    assert prepared.event.kind is kind
    assert loaded.derived_ids == {path: {3: prepared.event.event_id}}


def test_an_edited_row_that_keeps_the_example_id_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [assistance(event_id="EXAMPLE", quantity="9")])
    assert lines(load(path)) == [
        f"{path}:2: event_id: example_row: event_id EXAMPLE marks the template's example row, "
        "which is never published: clear the event_id cell to publish this row"
    ]


def test_templates_in_both_formats_give_the_same_event(tmp_path: Path) -> None:
    csv_path = clear_example_id(sheet_files.write_template(Kind.SGBV, "csv", tmp_path / "t.csv"))
    xlsx_path = sheet_files.write_template(Kind.SGBV, "xlsx", tmp_path / "t.xlsx")
    from_csv = load(csv_path, partner="wcc_almaty").events[0][1]
    from_xlsx = load(clear_example_id(xlsx_path), partner="wcc_almaty").events[0][1]
    assert from_csv.value == from_xlsx.value


def test_the_xlsx_template_explains_each_column(tmp_path: Path) -> None:
    path = sheet_files.write_template(Kind.HIV_TRAINING, "xlsx", tmp_path / "t.xlsx")
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["instructions", "events", "lists"]
    guide, events = workbook["instructions"], workbook["events"]
    assert events["A1"].value == "kind"
    assert events["A2"].value.startswith("#")
    assert events["A3"].value == "hiv_training"
    assert "whole number >= 1" in {cell.comment.text for cell in events[1] if cell.comment}
    names = [row[0] for row in guide.iter_rows(values_only=True)]
    start = names.index("column") + 1
    assert names[start:] == [column.name for column in layout(Kind.HIV_TRAINING)]
    assert any("never published" in str(name) for name in names)


# --- loading files -----------------------------------------------------------------------------


def bad_rows() -> list[dict[str, Any]]:
    return [
        assistance(),
        assistance(region="KZ-99", quantity="four"),
        assistance(category="sgbv", female_5_11="", female_18_59="", male_0_4="", male_18_59=""),
    ]


def test_a_csv_with_errors_reports_file_row_column_code(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "march.csv", bad_rows())
    loaded = load(path)
    assert lines(loaded) == [
        f"{path}:3: quantity: wrong_type: expected a number, got 'four'",
        f"{path}:4: {CELLS_LABEL}: empty_beneficiaries: the sex/age cells add up to zero",
        f"{path}:4: category: invalid_value: Input should be 'cash', 'food', 'non_food_items', "
        "'shelter', 'health', 'education', 'legal_aid' or 'winterization'",
    ]


def test_an_xlsx_with_errors_reports_file_row_column_code(tmp_path: Path) -> None:
    rows = bad_rows()
    rows[1]["quantity"] = 4  # a number cell, so the region is what is wrong
    path = write_xlsx(tmp_path / "march.xlsx", rows)
    loaded = load(path)
    assert (
        lines(loaded)[0]
        == f"{path}:3: region: unknown_region: region KZ-99 is not in the reference list"
    )
    assert [(p.source.row, p.problem.column) for p in loaded.problems] == [
        (3, "region"),
        (4, CELLS_LABEL),
        (4, "category"),
    ]


def test_header_problems_do_not_hide_the_rows_problems(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(
        "kind,region,beneficiary_name,region\nassistance,KZ-75,Aigul,KZ-75\n", encoding="utf-8"
    )
    found = lines(load(path))
    assert found[:2] == [
        f"{path}:1: beneficiary_name: unknown_field: not a column of the sheet layout; "
        "did you mean 'beneficiary_refs'?",
        f"{path}:1: region: duplicate_column: the column appears twice",
    ]
    # the columns the header lacks are said once, on row 1, and not again on row 2
    assert f"{path}:1: occurred_on: missing_column: a required column is missing" in found
    assert [line for line in found if line.startswith(f"{path}:2:")] != []
    assert not any(line.startswith(f"{path}:2: occurred_on") for line in found)
    assert "Aigul" not in " ".join(found)


def test_notes_blank_rows_and_semicolon_csv(tmp_path: Path) -> None:
    rows = [
        {**assistance(), "kind": "#adm1 hxl hashtag row"},
        {name: "" for name in assistance()},
        assistance(),
    ]
    path = write_csv(tmp_path / "semi.csv", rows, delimiter=";")
    loaded = load(path)
    assert lines(loaded) == []
    assert [source.row for source, _ in loaded.events] == [4]


def test_identical_rows_without_ids_are_flagged(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "twice.csv", [assistance(), assistance(quantity="9"), assistance()])
    assert [(p.source.row, p.problem.code) for p in load(path).problems] == [(4, "duplicate_event")]
    assert "same content as" in lines(load(path))[0]


def test_reloading_a_file_gives_the_same_ids(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [assistance(), assistance(quantity="9")])
    first = [prepared.event.event_id for _, prepared in load(path).events]
    again = [prepared.event.event_id for _, prepared in load(path).events]
    assert first == again
    assert len(set(first)) == 2


def test_jsonl_lines_are_events(tmp_path: Path) -> None:
    given = "6f1c1f2e-8a51-4d0e-9a39-1d2f3c4b5a69"
    event = finish(row_to_draft(assistance()), "kzlegal", refs_key=None, now=NOW)
    without = {k: v for k, v in event.items() if k not in ("event_id", "partner_id")}
    path = tmp_path / "e.jsonl"
    path.write_text(
        "\n".join(
            [
                json.dumps({**without, "event_id": given}),
                "",
                json.dumps(without),
                "{not json",
                "[1, 2]",
                json.dumps({**without, "payload": {"category": "food"}}),
            ]
        )
    )
    loaded = load(path)
    assert [(s.row, p.event.event_id) for s, p in loaded.events] == [
        (1, given),
        (3, event["event_id"]),  # the same content as the sheet row: the same id
    ]
    assert [(p.source.row, p.problem.column, p.problem.code) for p in loaded.problems] == [
        (4, "", "invalid_json"),
        (5, "", "not_an_object"),
        (6, "payload.quantity", "missing"),
        (6, "payload.unit", "missing"),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonl"])
def test_write_ids_copies_keep_the_derived_ids(tmp_path: Path, suffix: str) -> None:
    rows = [assistance(), assistance(event_id="6f1c1f2e-8a51-4d0e-9a39-1d2f3c4b5a69")]
    if suffix == ".jsonl":
        path = tmp_path / "e.jsonl"
        drafts = [
            row_to_draft({k: v for k, v in row.items() if k != "event_id" or v}) for row in rows
        ]
        path.write_text("".join(json.dumps(d) + "\n" for d in drafts))
    else:
        rows = [{k: v for k, v in row.items() if k != "event_id"} for row in rows[:1]] + rows[1:]
        path = (write_csv if suffix == ".csv" else write_xlsx)(tmp_path / f"e{suffix}", rows)
    loaded = load(path)
    assert lines(loaded) == []
    ids = [prepared.event.event_id for _, prepared in loaded.events]
    copy = sheet_files.write_with_ids(
        path, loaded.derived_ids[path], sheet_files.ids_copy_path(path)
    )
    assert copy.name == f"e.with-ids{suffix}"
    reloaded = load(copy)
    assert [prepared.event.event_id for _, prepared in reloaded.events] == ids
    assert reloaded.derived_ids == {}


def test_unreadable_files_raise_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a zip")
    with pytest.raises(sheet_files.UnreadableFile, match=r"bad\.xlsx: not a readable XLSX"):
        load(bad)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("kind,region\nassistance,Almat\xfd\n".encode("latin-1"))
    with pytest.raises(sheet_files.UnreadableFile, match=r"latin\.csv: not UTF-8"):
        load(latin)
    with pytest.raises(sheet_files.UnreadableFile, match=r"unsupported file type '\.txt'"):
        load(tmp_path / "notes.txt")


def test_dates_in_xlsx_cells(tmp_path: Path) -> None:
    row = assistance(occurred_on=date(2006, 11, 20), reported_at=datetime(2006, 11, 21, 10))
    loaded = load(write_xlsx(tmp_path / "d.xlsx", [row]))
    # a spreadsheet date-time has no UTC offset: the contract needs one
    assert [(p.problem.column, p.problem.code) for p in loaded.problems] == [
        ("reported_at", "bad_format")
    ]
