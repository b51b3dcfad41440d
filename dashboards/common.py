"""What every dashboard definition shares: the build context (settings and reference data),
the template variables and the filters that use them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dashboards.model import Variable
from dashboards.sql import (
    in_variable,
    literal,
    mandates_table,
    name_of,
    partner_names,
    regions_table,
    where,
)
from schemas.refdata import Origin, Partner, Region, Target
from schemas.vocabulary import PopulationType


@dataclass(frozen=True)
class Context:
    """Everything a dashboard definition may depend on; the same context gives the same JSON."""

    sgbv_threshold: int
    silent_days: int
    partners: Mapping[str, Partner]
    regions: Mapping[str, Region]
    origins: Mapping[str, Origin]
    targets: Sequence[Target]
    #: The Grafana data source that alone may read SGBV rows (the SGBV dashboard's).
    sgbv_datasource_uid: str

    def partner(self, column: str = "partner_id") -> str:
        """SQL: the partner's name (its code when it is not in the registry)."""
        return name_of(column, partner_names(self.partners))

    def region(self, column: str = "region") -> str:
        """SQL: the region's English name."""
        return name_of(column, {code: r.name_en for code, r in self.regions.items()})

    def origin(self, column: str = "origin") -> str:
        """SQL: the country of origin's name; none for host communities."""
        names = name_of(column, {code: o.name_en for code, o in self.origins.items()})
        return f"if({column} = '', 'none (host community)', {names})"

    def regions_table(self) -> str:
        return regions_table(self.regions)

    def mandates_table(self) -> str:
        return mandates_table(self.partners)

    def known_partners(self) -> str:
        """SQL: every partner code of the registry and every one the warehouse has heard of."""
        codes = ", ".join(literal(code) for code in sorted(self.partners))
        return (
            f"SELECT arrayJoin([{codes}]) AS partner_id"
            " UNION DISTINCT SELECT partner_id FROM partner_activity FINAL"
            " UNION DISTINCT SELECT partner_id FROM deadletters FINAL WHERE partner_id != ''"
        )

    # --- template variables --------------------------------------------------------------

    def region_variable(self) -> Variable:
        return Variable(
            name="region",
            label="Region",
            kind="query",
            query=f"SELECT code, name FROM {self.regions_table()} ORDER BY name",
        )

    def partner_variable(self) -> Variable:
        return Variable(
            name="partner",
            label="Partner",
            kind="query",
            query=(
                f"SELECT partner_id, {self.partner()} AS name FROM ({self.known_partners()})"
                " ORDER BY name"
            ),
        )


def population_variable() -> Variable:
    return Variable(
        name="population_type",
        label="Population type",
        kind="custom",
        query=",".join(p.value for p in PopulationType),
    )


def aggregate_filter(*more: str, day: str = "day") -> str:
    """SQL: the period and the region, partner and population type selections, for
    ``daily_aggregates``."""
    return where(
        f"$__timeFilter({day})",
        in_variable("region", "region"),
        in_variable("partner_id", "partner"),
        in_variable("population_type", "population_type"),
        *more,
    )
