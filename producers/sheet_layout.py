"""The sheet layout: one row per event, one column per field, and the pure row -> event mapping.

Columns of every kind, in template order:

- ``kind`` (pre-filled by the template), ``event_id`` (optional: empty = derived from the row),
  ``revision`` (empty = 1), ``status`` (empty = active), ``occurred_on``, ``reported_at``
  (empty = the time of publishing), ``region``, ``population_type``, ``origin``;
- the ten sex/age cells ``female_0_4`` ... ``male_60_plus`` (empty = 0);
- the payload fields of the kind, named as in the contract (``category``, ``quantity``, ...);
  lists such as SGBV ``services`` are written ``medical; psychosocial``;
- for ``assistance`` only: ``beneficiary_refs`` (already hashed, ``;``-separated) and
  ``registration_ids`` (raw ids, ``;``-separated, hashed on the partner's machine, never sent).

A row whose first non-empty cell starts with ``#`` is a note and is skipped: the templates'
allowed-values row, or an HXL hashtag row. The payload columns are derived from the contract
models, so a field added to the contract appears in the sheets with it.
"""

from __future__ import annotations

import enum
import functools
import json
import math
import re
import types
import typing
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from annotated_types import Ge, Gt
from pydantic.fields import FieldInfo

from producers.refs import beneficiary_ref
from schemas import refdata
from schemas.contract import MODELS, RFC3339
from schemas.vocabulary import AGE_BRACKETS, Kind, PopulationType, Sex, Status, cell_name

#: What a spreadsheet cell can hold once read (openpyxl gives numbers and datetimes).
Cell = str | int | float | date | None
ValueType = Literal["text", "int", "number", "bool", "list", "date", "timestamp"]

#: The first non-empty cell of a note row (skipped) starts with this.
NOTE_MARKER = "#"
#: Separator of list values inside one cell.
LIST_SEPARATOR = ";"
#: Namespace of the event ids derived from rows: ``uuid5(ROW_NAMESPACE, partner + "\n" + content)``.
ROW_NAMESPACE = uuid.UUID("5b1d3c8e-2f4a-5e61-9c0d-7a8b6e4f3d21")
#: How a yes/no cell may be written (any case); Excel's TRUE/FALSE arrive as booleans.
YES, NO = frozenset({"true", "yes", "1"}), frozenset({"false", "no", "0"})
#: How dates and timestamps are written, as problems and templates say it.
DATE_FORM = "YYYY-MM-DD (e.g. 2006-02-28)"
TIMESTAMP_FORM = "YYYY-MM-DDThh:mm:ss+hh:mm (e.g. 2006-11-21T10:00:00+06:00)"
#: The ``event_id`` of every template's example row: a row carrying it is never published.
EXAMPLE_ID = "EXAMPLE"
#: Column name used in problems about the ten sex/age cells together.
CELLS_LABEL = "female_0_4..male_60_plus"
_KINDS = frozenset(kind.value for kind in Kind)
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Column:
    """One sheet column: where its value goes in the event, its type, what it allows, and for
    an enumerated column its codes (a template's dropdown offers :func:`choice_labels`)."""

    name: str
    path: tuple[str, ...]
    type: ValueType
    allowed: str
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row (``column`` empty: the row as a whole)."""

    column: str
    code: str
    message: str


class RowInvalid(ValueError):
    """A row that cannot be turned into an event; ``problems`` say why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.column}: {p.code}" for p in problems))


def _choices(values: typing.Iterable[str]) -> str:
    return " | ".join(values)


def _population_choices(kind: Kind) -> tuple[str, ...]:
    """The population types a ``kind`` event may name (its model's rule, if it has one)."""
    extra = MODELS[kind].model_fields["population_type"].json_schema_extra
    allowed = extra.get("enum") if isinstance(extra, dict) else None
    if isinstance(allowed, list):
        return tuple(str(v) for v in allowed)
    return _values(PopulationType)


def _envelope_columns(kind: Kind) -> list[Column]:
    regions, origins = tuple(sorted(refdata.regions())), tuple(sorted(refdata.origins()))
    return [
        Column("kind", ("kind",), "text", kind.value, (kind.value,), required=True),
        Column("event_id", ("event_id",), "text", "UUID; empty = derived from the row"),
        Column("revision", ("revision",), "int", "whole number >= 1; empty = 1"),
        Column(
            "status", ("status",), "text", _choices(Status) + "; empty = active", _values(Status)
        ),
        Column(
            "occurred_on",
            ("occurred_on",),
            "date",
            f"{DATE_FORM}, not in the future",
            required=True,
        ),
        Column(
            "reported_at",
            ("reported_at",),
            "timestamp",
            f"{TIMESTAMP_FORM}; empty = time of publishing",
        ),
        Column(
            "region",
            ("region",),
            "text",
            "a code, alone or with its name: " + _choices(regions),
            regions,
            required=True,
        ),
        Column(
            "population_type",
            ("population_type",),
            "text",
            _choices(_population_choices(kind)),
            _population_choices(kind),
            required=True,
        ),
        Column(
            "origin",
            ("origin",),
            "text",
            "a code, alone or with its name: "
            + _choices(origins)
            + "; empty only for host_community",
            origins,
        ),
    ]


def _values(values: typing.Iterable[Any]) -> tuple[str, ...]:
    return tuple(str(getattr(v, "value", v)) for v in values)


def choice_labels(column: Column) -> list[str]:
    """What a template's dropdown offers for ``column``: the codes, with the names of regions
    (``KZ-75 Almaty (city)``) and countries (``RUS Russian Federation``); the reader takes a
    label or the bare code."""
    if column.name == "region":
        names = refdata.regions()
        return [f"{code} {_region_name(names[code].name_en)}" for code in column.choices]
    if column.name == "origin":
        countries = refdata.origins()
        return [f"{code} {countries[code].name_en}" for code in column.choices]
    return list(column.choices)


def _region_name(name: str) -> str:
    """A region's English name; the three cities of republican status say so."""
    return name if name.endswith("Region") else f"{name} (city)"


def _cell_columns() -> list[Column]:
    return [
        Column(
            cell_name(sex, age), ("beneficiaries", sex.value, age), "int", "whole number; empty = 0"
        )
        for sex in Sex
        for age in AGE_BRACKETS
    ]


def _bound(info: FieldInfo) -> str:
    for item in info.metadata:
        if isinstance(item, Gt):
            return f" > {item.gt}"
        if isinstance(item, Ge):
            return f" >= {item.ge}"
    return ""


def _plain(annotation: Any) -> Any:
    """The annotation without ``| None``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _vocabulary(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is Literal:
        return [str(getattr(v, "value", v)) for v in typing.get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    return []


def _payload_field(info: FieldInfo) -> tuple[ValueType, str, tuple[str, ...]]:
    annotation = _plain(info.annotation)
    if typing.get_origin(annotation) is tuple:
        values = _vocabulary(typing.get_args(annotation)[0])
        return "list", f"any of {'; '.join(values)} (separated by ;)", ()
    if annotation is bool:
        return "bool", "yes | no", ("yes", "no")
    if annotation is int:
        return "int", "whole number" + _bound(info), ()
    if annotation is float:
        return "number", "number" + _bound(info), ()
    values = _vocabulary(annotation)
    return "text", _choices(values), tuple(values)


def _payload_columns(kind: Kind) -> list[Column]:
    annotation = MODELS[kind].model_fields["payload"].annotation
    models = typing.get_args(annotation) or (annotation,)
    seen: dict[str, list[tuple[Any, FieldInfo]]] = {}
    for model in models:
        for name, info in model.model_fields.items():
            seen.setdefault(name, []).append((model, info))
    columns: list[Column] = []
    for name, where in seen.items():
        value_type, allowed, choices = _payload_field(where[0][1])
        if name == "activity" and len(models) > 1:  # the discriminator: every model's values
            choices = tuple(v for _, info in where for v in _vocabulary(info.annotation))
            allowed = _choices(choices)
        required = len(where) == len(models) and all(info.is_required() for _, info in where)
        if len(where) < len(models):  # only some variants have it
            tags = [v for m, _ in where for v in _vocabulary(m.model_fields["activity"].annotation)]
            allowed = f"only when activity is {_choices(tags)}: {allowed}"
        elif not where[0][1].is_required():
            allowed = f"optional: {allowed}"
        columns.append(Column(name, ("payload", name), value_type, allowed, choices, required))
    return columns


def _refs_columns() -> list[Column]:
    return [
        Column(
            "beneficiary_refs",
            ("beneficiary_refs",),
            "list",
            "optional: 64-hex keyed hashes separated by ;",
        ),
        Column(
            "registration_ids",
            ("registration_ids",),
            "list",
            "optional: raw registration ids separated by ; (hashed here, never sent)",
        ),
    ]


@functools.cache
def layout(kind: Kind | str) -> tuple[Column, ...]:
    """The columns of a ``kind`` sheet, in template order."""
    kind = Kind(kind)
    columns = _envelope_columns(kind) + _cell_columns() + _payload_columns(kind)
    if kind is Kind.ASSISTANCE:
        columns += _refs_columns()
    return tuple(columns)


@functools.cache
def all_columns() -> frozenset[str]:
    """Every column name any kind's sheet may have."""
    return frozenset(column.name for kind in Kind for column in layout(kind))


#: One example row per kind, as a partner would type it; publishing it must validate.
EXAMPLES: dict[Kind, dict[str, str]] = {
    Kind.ASSISTANCE: {
        "region": "KZ-75",
        "population_type": "refugee",
        "origin": "RUS",
        "female_5_11": "2",
        "female_18_59": "3",
        "male_0_4": "1",
        "male_18_59": "1",
        "category": "winterization",
        "quantity": "4",
        "unit": "kit",
        "value_usd": "180",
    },
    Kind.INCOME_GENERATION: {
        "region": "KZ-75",
        "population_type": "refugee",
        "origin": "AFG",
        "female_18_59": "6",
        "male_18_59": "4",
        "activity": "vocational_training",
        "stage": "completed",
    },
    Kind.SGBV: {
        "region": "KZ-75",
        "population_type": "asylum_seeker",
        "origin": "RUS",
        "female_18_59": "1",
        "activity": "case_response",
        "incident_type": "physical_assault",
        "services": "medical; psychosocial",
    },
    Kind.HIV_TRAINING: {
        "region": "KZ-19",
        "population_type": "host_community",
        "female_12_17": "8",
        "male_12_17": "7",
        "audience": "youth",
        "topic": "prevention",
        "sessions": "2",
        "hours": "3.5",
    },
    Kind.DURABLE_SOLUTIONS: {
        "region": "KZ-75",
        "population_type": "refugee",
        "origin": "AFG",
        "female_0_4": "1",
        "female_18_59": "1",
        "male_18_59": "1",
        "solution": "resettlement",
        "stage": "departed",
        "cases": "1",
    },
    Kind.PROTECTION_TRAINING: {
        "region": "KZ-71",
        "population_type": "host_community",
        "female_18_59": "9",
        "male_18_59": "5",
        "audience": "university_lecturers",
        "topic": "refugee_law",
        "sessions": "8",
        "hours": "16",
        "curriculum": "yes",
    },
    Kind.RSD_CASEWORK: {
        "region": "KZ-75",
        "population_type": "asylum_seeker",
        "origin": "AFG",
        "female_18_59": "1",
        "male_0_4": "1",
        "male_18_59": "1",
        "procedure": "state",
        "instance": "first_instance",
        "stage": "submitted",
        "cases": "1",
    },
}


def example_row(kind: Kind | str) -> dict[str, str]:
    """The template's example row of ``kind``: every column, empty where the example has none."""
    kind = Kind(kind)
    values = {
        "kind": kind.value,
        "event_id": EXAMPLE_ID,
        "occurred_on": "2006-11-20",
        "reported_at": "2006-11-21T10:00:00+06:00",
        **EXAMPLES[kind],
    }
    return {column.name: values.get(column.name, "") for column in layout(kind)}


def allowed_row(kind: Kind | str) -> dict[str, str]:
    """The template's note row: what each column of ``kind`` allows, marked as a note."""
    row = {column.name: column.allowed for column in layout(kind)}
    row["kind"] = f"{NOTE_MARKER} allowed values (this row is skipped)"
    return row


def is_empty(value: Cell) -> bool:
    """True for an empty cell: nothing, or only whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def is_note(values: typing.Iterable[Cell]) -> bool:
    """True when the first non-empty cell starts with :data:`NOTE_MARKER`."""
    first = next((value for value in values if not is_empty(value)), None)
    return isinstance(first, str) and first.strip().startswith(NOTE_MARKER)


def is_blank(values: typing.Iterable[Cell]) -> bool:
    """True when every cell is empty."""
    return all(is_empty(value) for value in values)


# --- cell values ---------------------------------------------------------------------------


def _text(value: Cell, *, as_date: bool = False) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if as_date else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(value: Cell, *, whole: bool) -> int | float:
    want = "a whole number" if whole else "a number"
    number: float
    if isinstance(value, bool | date):
        raise ValueError(f"expected {want}, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        number = value
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError(f"expected {want}, got {str(value)[:40]!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"expected {want}, got {value!r}")
    if number.is_integer():
        return int(number)
    if whole:
        raise ValueError(f"expected a whole number, got {value!r}")
    return number


def _yes_no(value: Cell) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in YES or text in NO:
        return text in YES
    raise ValueError(f"expected yes or no, got {str(value)[:40]!r}")


class BadFormat(ValueError):
    """A cell written in the wrong form (a date as ``31/02/2006``)."""


def _date_text(value: Cell, text: str) -> str:
    if isinstance(value, date) or (DATE_RE.fullmatch(text) and _is_day(text)):
        return text
    raise BadFormat(f"{text[:40]!r} is not a date written {DATE_FORM}")


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _timestamp_text(value: Cell, text: str) -> str:
    if isinstance(value, datetime) or RFC3339.fullmatch(text):
        return text
    raise BadFormat(f"{text[:40]!r} is not a timestamp written {TIMESTAMP_FORM}")


def _code(text: str, column: Column) -> str:
    """A label such as ``KZ-75 Almaty (city)`` as its code; other text as it is."""
    first = text.split(" ", 1)[0]
    return first if first in column.choices and first != text else text


def cell_value(value: Cell, column: Column) -> Any:
    """The JSON value of one non-empty cell; ``ValueError`` saying what was expected
    (:class:`BadFormat` for a date or timestamp written in another form)."""
    if column.type == "int":
        return _number(value, whole=True)
    if column.type == "number":
        return _number(value, whole=False)
    if column.type == "bool":
        return _yes_no(value)
    text = _text(value, as_date=column.type == "date")
    if column.type == "date":
        return _date_text(value, text)
    if column.type == "timestamp":
        return _timestamp_text(value, text)
    if column.type == "list":
        return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]
    return _code(text, column) if column.choices else text


def _set(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def row_to_draft(row: Mapping[str, Cell]) -> dict[str, Any]:
    """Map one row (column -> cell) to an event draft: nested as the contract, empty cells absent.

    The draft still lacks ``partner_id`` and maybe ``event_id`` and ``reported_at``, and may
    carry ``registration_ids``: :func:`finish` completes it. Raises :class:`RowInvalid`.
    """
    kind_cell = row.get("kind")
    raw_kind = "" if kind_cell is None else _text(kind_cell)
    if not raw_kind:
        raise RowInvalid([Problem("kind", "missing", "every row needs its kind")])
    if raw_kind not in _KINDS:
        raise RowInvalid(
            [Problem("kind", "invalid_value", f"{raw_kind!r} is not one of {_choices(Kind)}")]
        )
    columns = {column.name: column for column in layout(raw_kind)}
    draft: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, value in row.items():
        if is_empty(value):
            continue
        column = columns.get(name)
        if column is None:
            problems.append(Problem(name, "unknown_field", f"not a column of {raw_kind} rows"))
            continue
        try:
            _set(draft, column.path, cell_value(value, column))
        except BadFormat as error:
            problems.append(Problem(name, "bad_format", str(error)))
        except ValueError as error:
            problems.append(Problem(name, "wrong_type", str(error)))
    if problems:
        raise RowInvalid(problems)
    draft.setdefault("beneficiaries", {})  # empty cells are zeros, not a missing field
    return draft


def canonical_content(draft: Mapping[str, Any]) -> str:
    """The draft as canonical JSON (sorted keys, compact), without ``event_id``."""
    content = {key: value for key, value in draft.items() if key != "event_id"}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def derived_event_id(partner_id: str, draft: Mapping[str, Any]) -> str:
    """The deterministic event id of a row without one: the same content gives the same id."""
    return str(uuid.uuid5(ROW_NAMESPACE, f"{partner_id}\n{canonical_content(draft)}"))


def finish(
    draft: Mapping[str, Any], partner_id: str, *, refs_key: bytes | None, now: datetime
) -> dict[str, Any]:
    """Complete a draft into an event for ``partner_id``; raise :class:`RowInvalid`.

    Raw ``registration_ids`` are replaced by their refs (appended to ``beneficiary_refs``);
    a missing ``partner_id`` is filled; a missing ``event_id`` is derived from the content
    (refs included, raw ids and a defaulted ``reported_at`` not); a missing ``reported_at``
    becomes ``now``.
    """
    event = {"partner_id": partner_id, **draft}
    raw_ids = event.pop("registration_ids", None)
    if raw_ids:
        event["beneficiary_refs"] = [*event.get("beneficiary_refs", ()), *_refs(raw_ids, refs_key)]
    given = "event_id" in event
    event_id = event.pop("event_id") if given else derived_event_id(partner_id, event)
    event.setdefault("reported_at", now.isoformat(timespec="seconds"))
    return {"event_id": event_id, **event}


def _refs(raw_ids: Any, key: bytes | None) -> list[str]:
    column = "registration_ids"
    if not isinstance(raw_ids, list) or not all(isinstance(i, str) for i in raw_ids):
        raise RowInvalid([Problem(column, "wrong_type", "expected a list of strings")])
    if key is None:
        raise RowInvalid(
            [
                Problem(
                    column,
                    "refs_key_missing",
                    "hashing registration ids needs the refs key "
                    "(PARTNERHUB_REFS_KEY or --refs-key-file)",
                )
            ]
        )
    try:
        refs = [beneficiary_ref(raw_id, key) for raw_id in raw_ids]
    except ValueError as error:
        raise RowInvalid([Problem(column, "invalid_value", str(error))]) from None
    if len(set(refs)) != len(refs):
        raise RowInvalid([Problem(column, "duplicate_value", "a registration id is repeated")])
    return refs


def column_for(field: str) -> str:
    """The sheet column a contract reason's field path points at (``""``: the whole row)."""
    parts = field.split(".")
    if parts[0] == "payload" and len(parts) > 1:
        return parts[1]
    if parts[0] == "beneficiaries":
        if len(parts) >= 3 and parts[1] in {sex.value for sex in Sex} and parts[2] in AGE_BRACKETS:
            return cell_name(parts[1], parts[2])
        return CELLS_LABEL
    return parts[0]
