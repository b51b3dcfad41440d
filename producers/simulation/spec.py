"""What to simulate: the period, how many events, the seed, the faults, registry and clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from producers.simulation.calendar import next_month, parse_month
from schemas import refdata
from schemas.refdata import Partner

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
#: The fault fields, each a fraction of the base events.
FAULTS: tuple[str, ...] = ("duplicates", "corrections", "retractions", "invalid", "late")


def _real_today() -> date:
    return datetime.now(UTC).date()


def _fraction(description: str) -> Any:
    return Field(0.0, ge=0.0, le=1.0, allow_inf_nan=False, description=description)


class SimulationSpec(BaseModel):
    """A simulation request. ``today`` is the clock events are checked against: by default the
    day after ``end``, and never later than the real today (so the hub accepts every event).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: str = Field(pattern=MONTH_PATTERN, description="first month, YYYY-MM")
    end: str = Field(pattern=MONTH_PATTERN, description="last month, YYYY-MM")
    events: int = Field(ge=1, description="valid base events, spread over the months")
    seed: int = 0
    duplicates: float = _fraction("re-sends of identical bytes later in the stream")
    corrections: float = _fraction("events that get a revision 2 with changed cells")
    retractions: float = _fraction("events that get a later retracting revision")
    invalid: float = _fraction("extra messages that break the contract in one known way")
    late: float = _fraction("events reported weeks late, after the following month's")
    partners: dict[str, Partner] = Field(default_factory=lambda: dict(refdata.partners()))
    today: date

    @model_validator(mode="before")
    @classmethod
    def _default_today(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("today") is None:
            try:
                after = next_month(parse_month(str(data.get("end"))))
            except ValueError:
                return data  # the field check reports the bad month
            data = {**data, "today": min(after, _real_today())}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> SimulationSpec:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.today > _real_today():
            raise ValueError(f"today {self.today} is after the real today")
        if self.today < parse_month(self.end):
            raise ValueError(f"today {self.today} is before the last month {self.end} begins")
        if self.corrections + self.retractions > 1:
            raise ValueError("corrections and retractions together exceed the base events")
        if not self.partners:
            raise ValueError("the partner registry is empty")
        return self

    def describe(self) -> dict[str, Any]:
        """The spec as JSON-ready values, with the registry reduced to its partner codes."""
        out = self.model_dump(mode="json", exclude={"partners"})
        out["partners"] = sorted(self.partners)
        return out
