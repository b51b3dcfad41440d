"""The hub's reference data: regions, origins, the partner registry and planning targets.

The data lives in ``schemas/reference/`` (CSV and JSON, packaged with ``schemas``); this module
loads it into frozen pydantic models and checks every cross-reference on load, so a bad edit to
a data file fails loudly at import of the first caller instead of skewing a dashboard.

- ``regions()``: today's ISO 3166-2:KZ subdivisions (17 regions + 3 cities), by code.
- ``regions_2006()``: the 16 regions of 2006 and the codes of today that cover each one.
- ``origins()``: countries of origin (ISO 3166-1 alpha-3), plus ``XXA`` for stateless persons.
- ``partners()``: the packaged demo registry; ``load_partners(path)`` loads an operation's own.
- ``targets()``: planning targets, with indicators in the payload vocabulary of their kind.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from collections.abc import Iterator
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.vocabulary import (
    AssistanceCategory,
    HivAudience,
    HivTopic,
    IncomeActivity,
    IncomeStage,
    Kind,
    PopulationType,
    ProtectionAudience,
    ProtectionTopic,
    RsdInstance,
    RsdProcedure,
    RsdStage,
    SgbvActivity,
    Solution,
    SolutionStage,
)

__all__ = [
    "INDICATOR_GRAMMAR",
    "Measure",
    "Origin",
    "Partner",
    "PartnerType",
    "Region",
    "Region2006",
    "Target",
    "check_indicator",
    "load_partners",
    "origins",
    "partners",
    "regions",
    "regions_2006",
    "targets",
]

REGION_CODE = re.compile(r"^KZ-\d{2}$")
ORIGIN_CODE = re.compile(r"^[A-Z]{3}$")
#: Same shape as the partner part of a topic name (see ``schemas.topics``).
PARTNER_CODE = re.compile(r"^[a-z0-9][a-z0-9_]{1,30}$")

PartnerType = Literal["ngo", "government", "un"]
Measure = Literal["persons", "cases", "sessions", "events"]

#: For each kind, the vocabulary of each part of an indicator, in order: ``<category>``,
#: ``<activity>.<stage>``, ``<activity>``, ``<audience>.<topic>``, ``<solution>.<stage>``,
#: ``<audience>.<topic>``, ``<procedure>.<instance>.<stage>``. ``*`` alone is a kind's total;
#: a part after the first may be ``*`` (all stages / topics / instances).
INDICATOR_GRAMMAR: dict[Kind, tuple[type[StrEnum], ...]] = {
    Kind.ASSISTANCE: (AssistanceCategory,),
    Kind.INCOME_GENERATION: (IncomeActivity, IncomeStage),
    Kind.SGBV: (SgbvActivity,),
    Kind.HIV_TRAINING: (HivAudience, HivTopic),
    Kind.DURABLE_SOLUTIONS: (Solution, SolutionStage),
    Kind.PROTECTION_TRAINING: (ProtectionAudience, ProtectionTopic),
    Kind.RSD_CASEWORK: (RsdProcedure, RsdInstance, RsdStage),
}


def _values(enum: type[StrEnum]) -> set[str]:
    return {member.value for member in enum}


def check_indicator(kind: Kind | str, indicator: str) -> None:
    """Raise ``ValueError`` unless ``indicator`` is in the payload vocabulary of ``kind``."""
    kind = Kind(kind)
    if indicator == "*":
        return
    grammar = INDICATOR_GRAMMAR[kind]
    parts = indicator.split(".")
    if parts[0] not in _values(grammar[0]):
        raise ValueError(
            f"indicator {indicator!r}: {parts[0]!r} is not a {kind.value} {grammar[0].__name__}"
        )
    if len(parts) != len(grammar):
        shape = ".".join(f"<{chr(ord('a') + n)}>" for n in range(len(grammar)))
        raise ValueError(
            f"indicator {indicator!r}: {kind.value} takes one part"
            if len(grammar) == 1
            else f"indicator {indicator!r}: {kind.value} takes {len(grammar)} parts '{shape}'"
        )
    for part, enum in zip(parts[1:], grammar[1:], strict=True):
        if part != "*" and part not in _values(enum):
            raise ValueError(
                f"indicator {indicator!r}: {part!r} is not a {kind.value} {enum.__name__}"
            )


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Region(_Frozen):
    """One ISO 3166-2:KZ subdivision of today, with an approximate centroid for map panels."""

    code: str = Field(pattern=REGION_CODE.pattern)
    name_en: str = Field(min_length=1)
    name_kk: str = Field(min_length=1)
    name_ru: str = Field(min_length=1)
    lat: float = Field(ge=40.0, le=56.0)  # Kazakhstan's bounding box
    lon: float = Field(ge=46.0, le=88.0)
    admin_center_en: str = Field(min_length=1)


class Region2006(_Frozen):
    """One of the 16 regions of 2006 and today's codes that cover its territory."""

    name_2006_en: str = Field(min_length=1)
    name_2006_ru: str = Field(min_length=1)
    today_codes: tuple[str, ...] = Field(min_length=1)
    #: Today's code holding most of the 2006 region; 2006 figures are placed there.
    primary_code: str

    @field_validator("today_codes", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return tuple(value.split()) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _primary_is_covering(self) -> Region2006:
        if self.primary_code not in self.today_codes:
            raise ValueError(f"primary_code {self.primary_code} is not among today_codes")
        if len(set(self.today_codes)) != len(self.today_codes):
            raise ValueError("today_codes repeat a code")
        return self


class Origin(_Frozen):
    """A country of origin (ISO 3166-1 alpha-3), or ``XXA`` for a stateless person."""

    code: str = Field(pattern=ORIGIN_CODE.pattern)
    name_en: str = Field(min_length=1)
    note: str = ""


class Partner(_Frozen):
    """A registry entry: who the partner is, what it is mandated for, and where it works."""

    code: str = Field(pattern=PARTNER_CODE.pattern)
    name: str = Field(min_length=1)
    type: PartnerType
    kinds: tuple[Kind, ...] = Field(min_length=1)
    regions: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _no_repeats(self) -> Partner:
        if len(set(self.kinds)) != len(self.kinds):
            raise ValueError("kinds repeat a kind")
        if len(set(self.regions)) != len(self.regions):
            raise ValueError("regions repeat a region")
        return self

    def topic(self, kind: Kind | str) -> str:
        """The topic this partner publishes ``kind`` to (whether or not it is mandated for it)."""
        return f"partners.{self.code}.{Kind(kind).value}.v1"

    def topics(self) -> list[str]:
        """The topics of the kinds this partner is mandated for, in registry order."""
        return [self.topic(kind) for kind in self.kinds]


class Target(_Frozen):
    """A planning target: ``target`` ``measure`` of ``indicator`` for a year, group and place.

    An empty ``population_type``, ``origin`` or ``region`` means "all" (``region`` empty = the
    whole operation).
    """

    year: int = Field(ge=2000, le=2100)
    kind: Kind
    indicator: str = Field(min_length=1)
    population_type: PopulationType | None = None
    origin: str | None = Field(default=None, pattern=ORIGIN_CODE.pattern)
    region: str | None = Field(default=None, pattern=REGION_CODE.pattern)
    measure: Measure
    target: int = Field(gt=0)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _indicator_fits_kind(self) -> Target:
        check_indicator(self.kind, self.indicator)
        return self


# ---------------------------------------------------------------------------------------------
# loading


def _resource_text(name: str) -> str:
    return (files("schemas") / "reference" / name).read_text(encoding="utf-8")


def _error(where: str, exc: Exception) -> ValueError:
    if isinstance(exc, ValidationError):
        detail = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(entry)'}: {err['msg']}"
            for err in exc.errors()
        )
    else:
        detail = str(exc)
    return ValueError(f"{where}: {detail}")


def _csv_rows(name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Rows of a packaged CSV as dicts (empty cells -> None), each with a 'file:line' label."""
    reader = csv.DictReader(io.StringIO(_resource_text(name)))
    for row in reader:
        where = f"reference/{name}:{reader.line_num}"
        if None in row or any(value is None for value in row.values()):
            raise ValueError(f"{where}: wrong number of cells")
        yield where, {key: (value.strip() or None) for key, value in row.items()}


_M = TypeVar("_M", bound=BaseModel)
_Coded = TypeVar("_Coded", Region, Origin)


def _load_csv(name: str, model: type[_M]) -> list[tuple[str, _M]]:
    loaded: list[tuple[str, _M]] = []
    for where, row in _csv_rows(name):
        present = {key: value for key, value in row.items() if value is not None}
        try:
            loaded.append((where, model.model_validate(present)))
        except (ValidationError, ValueError) as exc:
            raise _error(where, exc) from exc
    return loaded


def _by_code(rows: list[tuple[str, _Coded]]) -> dict[str, _Coded]:
    out: dict[str, _Coded] = {}
    for where, item in rows:
        if item.code in out:
            raise ValueError(f"{where}: duplicate code {item.code}")
        out[item.code] = item
    return out


@functools.cache
def regions() -> dict[str, Region]:
    """Today's ISO 3166-2:KZ subdivisions, by code."""
    return _by_code(_load_csv("regions.csv", Region))


@functools.cache
def regions_2006() -> list[Region2006]:
    """The 16 regions of 2006, in file order, each with the codes of today that cover it."""
    known = regions()
    out: list[Region2006] = []
    for where, item in _load_csv("regions_2006.csv", Region2006):
        unknown = [code for code in item.today_codes if code not in known]
        if unknown:
            raise ValueError(f"{where}: unknown region code(s) {' '.join(unknown)}")
        out.append(item)
    return out


@functools.cache
def origins() -> dict[str, Origin]:
    """Countries of origin seen in the operation, by ISO 3166-1 alpha-3 code."""
    return _by_code(_load_csv("origins.csv", Origin))


def _parse_partners(text: str, source: str) -> dict[str, Partner]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON: {exc}") from exc
    if not isinstance(data, list):
        raise ValueError(f"{source}: expected a JSON list of partner entries")
    known = regions()
    out: dict[str, Partner] = {}
    for index, entry in enumerate(data):
        code = entry.get("code") if isinstance(entry, dict) else None
        where = f"{source}: entry {index}" + (f" ({code!r})" if code is not None else "")
        try:
            partner = Partner.model_validate(entry)
        except ValidationError as exc:
            raise _error(where, exc) from exc
        unknown = [region for region in partner.regions if region not in known]
        if unknown:
            raise ValueError(f"{where}: unknown region code(s) {' '.join(unknown)}")
        if partner.code in out:
            raise ValueError(f"{where}: duplicate partner code {partner.code!r}")
        out[partner.code] = partner
    return out


def load_partners(path: Path) -> dict[str, Partner]:
    """Load a partner registry (a JSON list of entries) from ``path``, by partner code.

    Raises ``ValueError`` naming the file and the entry when anything is invalid.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{path}: cannot read partner registry: {exc}") from exc
    return _parse_partners(text, str(path))


@functools.cache
def partners() -> dict[str, Partner]:
    """The packaged demo partner registry, by partner code."""
    return _parse_partners(_resource_text("partners.json"), "reference/partners.json")


@functools.cache
def targets() -> list[Target]:
    """Planning targets, in file order; origins and regions are checked against the lists."""
    known_regions, known_origins = regions(), origins()
    out: list[Target] = []
    for where, item in _load_csv("targets.csv", Target):
        if item.origin is not None and item.origin not in known_origins:
            raise ValueError(f"{where}: unknown origin {item.origin}")
        if item.region is not None and item.region not in known_regions:
            raise ValueError(f"{where}: unknown region {item.region}")
        out.append(item)
    return out
