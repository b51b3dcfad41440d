"""KoboToolbox submissions as contract events: per-form mappings and edit lineage.

A KoboToolbox REST Service POSTs each submission as one flat JSON object: questions by their
path (``group/question``), ``select_one`` answers as the choice's name, ``select_multiple`` as
names separated by spaces, numbers often as strings, and metadata such as ``meta/instanceID``
(``uuid:...``), ``meta/deprecatedID`` (the instance an edit replaces) and ``_submission_time``
(UTC, without offset).

A mapping file (YAML, one per form, in the registry's ``kobo/`` folder) says which answers fill
which contract field and which sex x age cell (:class:`FormMapping`). :func:`to_event` turns a
submission into a decoded event, or raises :class:`InvalidEvent` with reasons naming the
question. The event id is ``uuid5`` of the form and the submission's first instance, so a
resent submission is the same event, and an edit (``meta/deprecatedID``) is a higher revision
of the same event (:class:`Lineage` remembers which instance an edit continues).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.reasons import InvalidEvent, Reason
from schemas.refdata import PARTNER_CODE
from schemas.vocabulary import AGE_BRACKETS, Kind, Sex

#: Namespace of the event ids made from KoboToolbox instance ids (fixed forever).
NAMESPACE = uuid.UUID("8a3e6c52-1f0d-5b7a-9c4e-2d6f0b1a7e93")
CELLS = frozenset(f"{s.value}.{b}" for s in Sex for b in AGE_BRACKETS)


class Source(BaseModel):
    """Where one contract field's value comes from: a question (with choices) or a constant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str | None = Field(None, description="The question's path, e.g. group/question.")
    value: str | int | float | None = Field(None, description="A constant instead.")
    #: Choice name in the form -> value in the contract; a choice not listed is refused.
    choices: dict[str, str] | None = None
    type: Literal["string", "integer", "number", "date", "datetime"] = "string"
    required: bool = True

    @model_validator(mode="after")
    def _one_source(self) -> Source:
        if (self.question is None) == (self.value is None):
            raise ValueError("give exactly one of question and value")
        return self


class FormMapping(BaseModel):
    """How one KoboToolbox form's submissions become events of one partner and kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    form: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Its name in the URL.")
    partner: str = Field(pattern=PARTNER_CODE.pattern)
    kind: Kind
    #: Contract field (dotted: ``payload.category``) -> its source.
    fields: dict[str, Source]
    #: Sex x age cell (``female.0-4``) -> the question holding the count.
    beneficiaries: dict[str, str] = Field(min_length=1)

    @field_validator("beneficiaries")
    @classmethod
    def _known_cells(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - CELLS)
        if unknown:
            raise ValueError(f"{unknown} are not cells like female.0-4")
        return value

    @field_validator("fields")
    @classmethod
    def _not_set_by_the_gateway(cls, value: dict[str, Source]) -> dict[str, Source]:
        for name in ("partner_id", "kind", "event_id", "revision", "beneficiaries"):
            if name in value:
                raise ValueError(f"{name} is set by the gateway, not the mapping")
        return value


def load_mapping(path: Path) -> FormMapping:
    """One mapping file; ``ValueError`` naming the file and the field when it is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return FormMapping.model_validate(data)
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not YAML: {error}") from None
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "<file>"
        raise ValueError(f"{path}: {where}: {first['msg']}") from None


def load_forms(folder: Path) -> dict[str, FormMapping]:
    """Every ``*.yaml`` mapping of ``folder`` by form name (none if the folder is absent)."""
    forms: dict[str, FormMapping] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else ():
        mapping = load_mapping(path)
        if mapping.form in forms:
            raise ValueError(f"{path}: form {mapping.form!r} is mapped twice in {folder}")
        forms[mapping.form] = mapping
    return forms


class Identity(NamedTuple):
    """The event a submission is (or revises)."""

    instance_id: str
    event_id: str
    revision: int


def event_id_for(form: str, first_instance: str) -> str:
    """The deterministic event id of a form's submission, from its first instance id."""
    return str(uuid.uuid5(NAMESPACE, f"kobo:{form}:{first_instance}"))


def instance_ids(submission: Mapping[str, Any]) -> tuple[str, str | None]:
    """``(meta/instanceID, meta/deprecatedID or None)``; InvalidEvent when the first is absent."""
    instance = submission.get("meta/instanceID")
    if not isinstance(instance, str) or not instance.strip():
        raise InvalidEvent(
            [Reason(field="meta/instanceID", code="missing", message="no meta/instanceID")]
        )
    deprecated = submission.get("meta/deprecatedID")
    return instance.strip(), deprecated.strip() if isinstance(deprecated, str) else None


class Lineage:
    """Which first instance and revision each instance id is (SQLite in the data folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS instances (form TEXT, instance_id TEXT, "
                "first_instance TEXT NOT NULL, revision INTEGER NOT NULL, "
                "PRIMARY KEY (form, instance_id))"
            )
            yield db

    def identify(self, form: str, submission: Mapping[str, Any]) -> Identity:
        """The submission's event id and revision, remembered for later edits of it."""
        instance, deprecated = instance_ids(submission)
        with self._db() as db:
            known = db.execute(
                "SELECT first_instance, revision FROM instances WHERE form = ? AND instance_id = ?",
                (form, instance),
            ).fetchone()
            if known is None:
                first, revision = identify_alone(instance, deprecated)
                if deprecated is not None:
                    earlier = db.execute(
                        "SELECT first_instance, revision FROM instances "
                        "WHERE form = ? AND instance_id = ?",
                        (form, deprecated),
                    ).fetchone()
                    if earlier is not None:
                        first, revision = earlier[0], earlier[1] + 1
                db.execute(
                    "INSERT INTO instances VALUES (?, ?, ?, ?)", (form, instance, first, revision)
                )
                known = (first, revision)
        return Identity(instance, event_id_for(form, known[0]), int(known[1]))


def identify_alone(instance: str, deprecated: str | None) -> tuple[str, int]:
    """``(first instance, revision)`` without history: an edit of an unknown instance is
    taken as the first edit of it (revision 2)."""
    return (instance, 1) if deprecated is None else (deprecated, 2)


def _convert(value: Any, source: Source, where: str) -> Any:
    """An answer as the contract wants it; ValueError (reason code, message) when it cannot."""
    if source.choices is not None:
        if str(value) not in source.choices:
            raise _Bad("invalid_value", f"choice {value!r} is not in the mapping of {where}")
        value = source.choices[str(value)]
    try:
        if source.type == "integer":
            return int(str(value).strip())
        if source.type == "number":
            return float(str(value).strip())
        if source.type == "date":
            return date.fromisoformat(str(value).strip()[:10]).isoformat()
        if source.type == "datetime":
            moment = datetime.fromisoformat(str(value).strip())
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    except ValueError:
        code = "wrong_type" if source.type in {"integer", "number"} else "bad_format"
        raise _Bad(code, f"{where}: {value!r} is not a {source.type}") from None
    return value


class _Bad(ValueError):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def _set(event: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    target = event
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def to_event(
    mapping: FormMapping, submission: Mapping[str, Any], identity: Identity
) -> dict[str, Any]:
    """The event a submission becomes; :class:`InvalidEvent` with every answer it cannot map.

    The event is not validated here: the gateway validates it as any other event.
    """
    event: dict[str, Any] = {
        "event_id": identity.event_id,
        "revision": identity.revision,
        "partner_id": mapping.partner,
        "kind": mapping.kind.value,
    }
    reasons: list[Reason] = []
    for name, source in mapping.fields.items():
        where = source.question or name
        raw = source.value if source.question is None else submission.get(source.question)
        if raw is None or raw == "":
            if source.required:
                reasons.append(Reason(field=where, code="missing", message=f"{where} is empty"))
            continue
        try:
            _set(event, name, _convert(raw, source, where))
        except _Bad as bad:
            reasons.append(Reason(field=where, code=bad.code, message=str(bad)))
    cells: dict[str, dict[str, int]] = {}
    count = Source(question="cell", type="integer")
    for cell, question in mapping.beneficiaries.items():
        raw = submission.get(question)
        if raw is None or raw == "":
            continue  # an unanswered count is nobody
        try:
            n = _convert(raw, count, question)
        except _Bad as bad:
            reasons.append(Reason(field=question, code=bad.code, message=str(bad)))
            continue
        if n:
            sex, bracket = cell.split(".")
            cells.setdefault(sex, {})[bracket] = n
    event["beneficiaries"] = cells
    if reasons:
        raise InvalidEvent(sorted(reasons, key=lambda r: (r.field, r.code)))
    return event
