"""The dashboards over a year at scale: every panel's SQL of every dashboard, with its default
variables and a year's time range, timed on a warehouse holding a year built from millions of
facts. Behind ``partnerhub dashboards bench``.

The year is generated in SQL (``numbers(N)``, hash-chosen values), straight into ``facts``,
and its aggregates and partner activity are computed from those facts in one pass each, which
is what the refreshes would leave for facts that are all first revisions (the refreshes
themselves are measured by ``partnerhub warehouse bench``). Each partner works in a few
regions with a few origins, as an operation does; every kind and indicator occurs.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dashboards.catalog import dashboards
from dashboards.common import Context
from dashboards.macros import QueryContext
from dashboards.model import Dashboard
from dashboards.queries import dashboard_variables, panels, run_panel, year_context
from dashboards.sql import literal
from dashboards.timerange import DEFAULT_FROM
from schemas.vocabulary import CELLS, PopulationType
from warehouse import first_reports
from warehouse.bench import CASE_KINDS, INDICATORS, SESSION_KINDS, derive_daily
from warehouse.client import Warehouse, quote_identifier
from warehouse.migrate import migrate
from warehouse.monthly import derive_monthly

YEAR = 2006
#: Regions, origins and population types one partner works with.
REGIONS_PER_PARTNER = 4
ORIGINS_PER_PARTNER = 4
POPULATIONS = tuple(p.value for p in PopulationType)[:3]


def _array(values: Sequence[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


def _hash(salt: int, modulo: int) -> str:
    """SQL: a number in ``[0, modulo)`` chosen by a hash of the row number."""
    return f"(cityHash64(number, {salt}) % {modulo})"


def generate_year_sql(facts: int, context: Context) -> str:
    """``INSERT ... SELECT`` of ``facts`` first-revision facts over the year: partner, kind,
    day and indicator uniform; each partner in its own few regions and origins."""
    partners = sorted(context.partners)
    regions = sorted(context.regions)
    origins = sorted(context.origins)
    kinds = sorted(INDICATORS)
    indicators = "map(" + ", ".join(f"{literal(k)}, {_array(INDICATORS[k])}" for k in kinds) + ")"
    sessions = "(" + ", ".join(literal(k) for k in SESSION_KINDS) + ")"
    cases = "(" + ", ".join(literal(k) for k in CASE_KINDS) + ")"
    region = f"(p * 3 + {_hash(4, REGIONS_PER_PARTNER)}) % {len(regions)}"
    origin = f"(p * 2 + {_hash(5, ORIGINS_PER_PARTNER)}) % {len(origins)}"
    # Reported 0-59 days after the day, at any minute; published within 2 minutes of the
    # report and written 0.2-3.2 s later: the pipeline panels see writes at every hour.
    reported = (
        f"toDateTime64(d, 3, 'UTC') + toIntervalDay({_hash(36, 60)})"
        f" + toIntervalMinute({_hash(37, 24 * 60)})"
    )
    published = f"{reported} + toIntervalSecond({_hash(38, 120)})"
    ingested = f"{published} + toIntervalMillisecond(200 + {_hash(39, 3000)})"
    # Column -> SQL; a column not named here (a measure added later) takes its DEFAULT.
    columns = {
        "event_id": "toString(generateUUIDv4(number))",
        "revision": "1",
        "status": "'active'",
        "partner_id": "partner_id",
        "kind": "k",
        "occurred_on": "d",
        "reported_at": reported,
        "region": f"{_array(regions)}[1 + {region}]",
        "population_type": f"{_array(POPULATIONS)}[1 + {_hash(7, len(POPULATIONS))}]",
        "origin": f"{_array(origins)}[1 + {origin}]",
        "indicator": f"{indicators}[k][1 + cityHash64(number, 3) % length({indicators}[k])]",
        **{cell: f"toUInt32({_hash(10 + i, 4)})" for i, cell in enumerate(CELLS)},
        "quantity": f"if(k = 'assistance', toFloat64(1 + {_hash(30, 50)}), 0)",
        "unit": "if(k = 'assistance', 'kit', '')",
        "value_usd": f"toFloat64({_hash(31, 500)})",
        "sessions": f"toUInt32(if(k IN {sessions}, 1 + {_hash(32, 4)}, 0))",
        "hours": f"toFloat64(if(k IN {sessions}, 1 + {_hash(33, 8)}, 0))",
        "cases": f"toUInt32(if(k IN {cases}, 1 + {_hash(34, 3)}, 0))",
        "curriculum_sessions": f"toUInt32(if(k = 'protection_training', {_hash(35, 2)}, 0))",
        "services": "if(k = 'sgbv', ['medical'], [])",
        "ref_count": "0",
        "payload": "'{}'",
        "topic": "concat('partners.', partner_id, '.', k, '.v1')",
        "partition": "0",
        "offset": "number",
        "published_at": published,
        "ingested_at": ingested,
    }
    return (
        f"INSERT INTO facts ({', '.join(quote_identifier(c) for c in columns)})"
        f" SELECT {', '.join(columns.values())} FROM ("
        f" SELECT number, {_hash(1, len(partners))} AS p, {_array(partners)}[1 + p] AS partner_id,"
        f" {_array(kinds)}[1 + {_hash(2, len(kinds))}] AS k,"
        f" toDate('{YEAR}-01-01') + toIntervalDay({_hash(6, 365)}) AS d"
        f" FROM numbers({facts}))"
    )


def build_year(wh: Warehouse, facts: int, context: Context) -> dict[str, int]:
    """Fill an empty warehouse with a year of ``facts`` facts and what the refreshes derive
    from them; return the stored rows of the tables the panels read."""
    migrate(wh)
    wh.command(generate_year_sql(facts, context))
    derive_daily(wh)
    derive_monthly(wh)
    first_reports.derive(wh)
    wh.command(
        "INSERT INTO partner_activity SELECT partner_id, kind, count(), max(occurred_on),"
        " max(reported_at), max(ingested_at), now64(6) FROM facts GROUP BY partner_id, kind"
    )
    rows = wh.query(
        "SELECT table, sum(rows) AS n FROM system.parts WHERE active"
        " AND database = currentDatabase() AND table IN ('facts', 'daily_aggregates',"
        " 'monthly_aggregates', 'monthly_groups', 'monthly_totals', 'partner_activity',"
        " 'first_report_days')"
        " GROUP BY table"
    )
    return {r["table"]: int(r["n"]) for r in rows}


@dataclass
class PanelTime:
    dashboard: str
    panel: str
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def cut_months() -> QueryContext:
    """A period of the year whose both ends fall inside a month (16 January to 15 December,
    noon), as a period ending now has: the panels read day rows for its edge months."""
    start = datetime(YEAR, 1, 16, 12, tzinfo=UTC)
    return QueryContext(start, datetime(YEAR, 12, 15, 12, tzinfo=UTC), timedelta(hours=12))


_RELATIVE = re.compile(r"now-(\d+)([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def default_period(dashboard: Dashboard, last_write: datetime) -> QueryContext:
    """The range ``dashboard`` opens on, with the generated year as the data: the year for
    those that open on the data's range (``now-1y``, fitted to the data when built), and for
    one with a range of its own (the pipeline's ``now-6h``) that range ending at
    ``last_write``, as if now were just after the last facts were written."""
    year = year_context(YEAR, months=12)
    if dashboard.time_from == DEFAULT_FROM:
        return year
    match = _RELATIVE.fullmatch(dashboard.time_from)
    if match is None or dashboard.time_to != "now":
        raise ValueError(f"{dashboard.uid}: no bench range for {dashboard.time_from!r}")
    end = last_write.replace(microsecond=0) + timedelta(seconds=1)  # just after it
    span = timedelta(**{_UNITS[match[2]]: int(match[1])})
    return QueryContext(end - span, end, max(span / 300, timedelta(seconds=1)))


def time_panels(
    wh: Warehouse,
    context: Context,
    *,
    repeats: int = 3,
    progress: Callable[[int], None] = lambda n: None,
    period: QueryContext | None = None,
) -> list[PanelTime]:
    """Every panel of every dashboard, run ``repeats`` times with the dashboard's default
    variables over ``period``; by default over the range the dashboard opens on
    (:func:`default_period`)."""
    last_write = wh.query("SELECT max(ingested_at) AS at FROM facts")[0]["at"].replace(tzinfo=UTC)
    out = []
    for dashboard in dashboards(context):
        window = period or default_period(dashboard, last_write)
        variables = dashboard_variables(wh, dashboard, window)
        for panel in panels(dashboard):
            timing = PanelTime(dashboard.uid, panel.title)
            for _ in range(repeats):
                started = time.perf_counter()
                run_panel(wh, panel, window, variables)
                timing.seconds.append(time.perf_counter() - started)
            out.append(timing)
            progress(1)
    return out
