"""Data quality and reporting (silent and late partners, dead letters, duplicate assistance,
the partner scorecard) and pipeline health, from the warehouse's own tables.

Dead letters are read by their reason codes, partner and arrival time only: their ``raw``
bytes and ``reasons`` texts may hold the very personal data they were rejected for, and the
dashboard user cannot read them.

SGBV is left out of every panel here: the dashboard user cannot read SGBV facts, activity or
dead letters (row filters in ``deploy/clickhouse/users.d/partnerhub.xml``), and the SQL says
so itself, so that the panels show the same on the embedded warehouse as in production.
Silent-partner alerts come from the worker, which counts SGBV reports as signs of life too.
"""

from __future__ import annotations

from dashboards.common import Context
from dashboards.model import Dashboard, Panel, Text, Variable
from dashboards.panels import bars, by_name, stat, table, timeseries
from dashboards.sql import (
    NOT_SGBV,
    TOTALS,
    in_variable,
    variable_text,
    variable_values,
    where,
)

PARTNER = in_variable("partner_id", "partner")
DEADLETTERS = "deadletters FINAL"
#: Facts and dead letters as the dashboard user may read them: no SGBV.
OPEN_FACTS = f"facts WHERE {NOT_SGBV}"
OPEN_DEADLETTERS = f"{DEADLETTERS} WHERE {NOT_SGBV}"
#: Seconds from the broker's timestamp of a message to its fact being written.
LATENCY = "dateDiff('millisecond', published_at, ingested_at) / 1000"
DUE_DAYS = f"toUInt32OrZero({variable_text('due_days')})"
MONTHS_IN_PERIOD = (
    "(dateDiff('month', toStartOfMonth(toDate($__fromTime)), toStartOfMonth(toDate($__toTime)))"
    " + 1)"
)


def activity_sql(ctx: Context) -> str:
    """Per partner and kind (every mandated one, and any reported) but SGBV: events
    counted, the last report and the days since, and whether the partner is silent."""
    return (
        f"SELECT {ctx.partner('k.partner_id')} AS partner, k.kind AS kind,"
        " coalesce(a.events, 0) AS events, a.last_occurred_on AS last_activity,"
        " a.last_reported_at AS last_report,"
        " dateDiff('day', a.last_reported_at, now()) AS days_since_report,"
        " multiIf(a.last_reported_at IS NULL, 'never reported',"
        f" days_since_report > {ctx.silent_days}, 'silent', 'reporting') AS state"
        f" FROM (SELECT partner_id, kind FROM {ctx.mandates_table()}"
        " UNION DISTINCT SELECT partner_id, kind FROM partner_activity FINAL) AS k"
        " LEFT JOIN (SELECT * FROM partner_activity FINAL) AS a"
        " ON a.partner_id = k.partner_id AND a.kind = k.kind"
        f" WHERE k.kind != 'sgbv' AND {in_variable('k.partner_id', 'partner')}"
        " ORDER BY state = 'reporting', days_since_report DESC, partner, kind"
        " SETTINGS join_use_nulls = 1"
    )


def scorecard_sql(ctx: Context) -> str:
    """Per partner over the period, SGBV left out: events, timeliness (share first reported
    within ``$due_days`` of the day they happened), completeness (share of mandated
    kind-months with a report), reject rate (dead letters among all messages that
    arrived)."""
    # first_report_days: per partner, kind and day, events by days to their first report
    # (warehouse/first_reports.py); by_delay[d + 1] counts those reported d days after.
    timely = (
        "SELECT partner_id, sum(events) AS reported,"
        f" arraySum(arraySlice(sumForEach(by_delay), 1, {DUE_DAYS} + 1)) AS on_time"
        f" FROM first_report_days FINAL WHERE {NOT_SGBV} AND $__timeFilter(day)"
        " GROUP BY partner_id"
    )
    mandates = f"(SELECT partner_id, kind FROM {ctx.mandates_table()} WHERE {NOT_SGBV})"
    months = (
        "SELECT partner_id, uniqExact(kind, toStartOfMonth(day)) AS reported_months"
        f" FROM {TOTALS} WHERE events > 0 AND $__timeFilter(day)"
        f" AND (partner_id, kind) IN (SELECT partner_id, kind FROM {mandates})"
        " GROUP BY partner_id"
    )
    expected = (
        f"SELECT partner_id, count() * {MONTHS_IN_PERIOD} AS expected_months FROM {mandates}"
        " GROUP BY partner_id"
    )
    # Arrivals by whole UTC days of the period: facts' projection ``arrivals_by_day``
    # (migration 0022) counts them per partner, kind and day, so a year reads ~30,000 rows
    # rather than every fact.
    received = (
        f"SELECT partner_id, count() AS arrived FROM {OPEN_FACTS}"
        " AND $__dateFilter(toDate(ingested_at)) GROUP BY partner_id"
    )
    rejected = (
        f"SELECT partner_id, count() AS rejected FROM {OPEN_DEADLETTERS}"
        " AND $__dateFilter(toDate(received_at)) GROUP BY partner_id"
    )
    return (
        f"SELECT {ctx.partner('p.partner_id')} AS partner, coalesce(t.reported, 0) AS events,"
        " round(100 * t.on_time / nullIf(t.reported, 0), 1) AS timeliness,"
        " round(100 * coalesce(m.reported_months, 0) / nullIf(e.expected_months, 0), 1)"
        " AS completeness,"
        " coalesce(r.rejected, 0) AS rejected,"
        " round(100 * rejected / nullIf(rejected + coalesce(c.arrived, 0), 0), 1)"
        " AS reject_rate"
        f" FROM ({ctx.known_partners()}) AS p"
        f" LEFT JOIN ({timely}) AS t ON t.partner_id = p.partner_id"
        f" LEFT JOIN ({months}) AS m ON m.partner_id = p.partner_id"
        f" LEFT JOIN ({expected}) AS e ON e.partner_id = p.partner_id"
        f" LEFT JOIN ({received}) AS c ON c.partner_id = p.partner_id"
        f" LEFT JOIN ({rejected}) AS r ON r.partner_id = p.partner_id"
        f" WHERE {in_variable('p.partner_id', 'partner')}"
        " ORDER BY partner SETTINGS join_use_nulls = 1"
    )


def data_quality(ctx: Context) -> Dashboard:
    percent = {"unit": "percent", "decimals": 1}
    panels: list[Panel | Text] = [
        Text(
            "Timeliness: share of a partner's events first reported within the chosen number "
            "of days of the day they happened. Completeness: share of the months in the period "
            "in which the partner reported each kind it is mandated for (a month without "
            "any report counts as missing). Reject rate: dead letters among all of the "
            f"partner's messages that arrived in the period. Silent: no report for more than "
            f"{ctx.silent_days} days. SGBV reporting is not shown here: its figures leave the "
            "warehouse only on the SGBV dashboard.",
            height=3,
        ),
        table(
            "Partner scorecard",
            scorecard_sql(ctx),
            {
                "partner": "Partner",
                "events": "Events (SGBV not counted)",
                "timeliness": "Timeliness (%)",
                "completeness": "Completeness (%)",
                "rejected": "Rejected messages",
                "reject_rate": "Reject rate (%)",
            },
            height=9,
            overrides=[
                by_name("timeliness", **_percent_cell(percent, good_high=True)),
                by_name("completeness", **_percent_cell(percent, good_high=True)),
                by_name("reject_rate", **_percent_cell(percent, good_high=False)),
            ],
        ),
        table(
            "Silent and late partners",
            activity_sql(ctx),
            {
                "partner": "Partner",
                "kind": "Kind",
                "events": "Events",
                "last_activity": "Last activity",
                "last_report": "Last report",
                "days_since_report": "Days since report",
                "state": "State",
            },
            height=10,
        ),
        bars(
            "Dead letters by reason",
            f"SELECT code AS reason, count() AS messages FROM {DEADLETTERS}"
            " ARRAY JOIN codes AS code"
            f" WHERE {where(NOT_SGBV, '$__timeFilter(received_at)', PARTNER)}"
            " GROUP BY reason ORDER BY messages DESC",
            "reason",
            {"messages": "Messages"},
            description="A message rejected for several reasons counts under each.",
        ),
        bars(
            "Dead letters by partner",
            f"SELECT {ctx.partner()} AS partner, count() AS messages FROM {OPEN_DEADLETTERS}"
            f" AND {where('$__timeFilter(received_at)', PARTNER)}"
            " GROUP BY partner_id ORDER BY messages DESC",
            "partner",
            {"messages": "Messages"},
        ),
        table(
            "Duplicate assistance across partners",
            "SELECT month, category, arrayStringConcat(arraySort(partners), ', ')"
            " AS partner_list, overlap, if(overlap = 0, 'resolved', 'open') AS state,"
            " raised_at FROM alerts FINAL"
            " WHERE alert_type = 'duplicate_assistance' AND $__timeFilter(month)"
            f" AND hasAny(partners, {variable_values('partner')})"
            " ORDER BY month DESC, overlap DESC",
            {
                "month": "Month",
                "category": "Category",
                "partner_list": "Partners",
                "overlap": "Households in common",
                "state": "State",
                "raised_at": "Raised",
            },
            width=12,
            description="Households (by keyed reference, never shown) assisted in the same "
            "month and category by more than one partner.",
        ),
        table(
            "Silent-partner alerts",
            "SELECT raised_at, arrayStringConcat(arraySort(partners), ', ') AS partner_list,"
            " JSONExtract(details, 'days_silent', 'Nullable(Int64)') AS days_silent"
            " FROM alerts FINAL WHERE alert_type = 'silent_partner'"
            " AND $__timeFilter(raised_at)"
            f" AND hasAny(partners, {variable_values('partner')})"
            " ORDER BY raised_at DESC",
            {"raised_at": "Raised", "partner_list": "Partner", "days_silent": "Days silent"},
            width=12,
        ),
    ]
    due = Variable(
        name="due_days",
        label="On time within (days)",
        kind="custom",
        query="15,30,45,60,90",
        multi=False,
        include_all=False,
        default="45",
    )
    return Dashboard(
        uid="partnerhub-data-quality",
        title="Partner Hub: data quality and reporting",
        description="Silent and late partners, dead letters by reason and partner, "
        "duplicate-assistance alerts and a partner scorecard.",
        panels=panels,
        variables=[ctx.partner_variable(), due],
        tags=("quality",),
    )


def _percent_cell(percent: dict[str, object], *, good_high: bool) -> dict[str, object]:
    steps = (
        [
            {"color": "red", "value": None},
            {"color": "orange", "value": 60},
            {"color": "green", "value": 90},
        ]
        if good_high
        else [
            {"color": "green", "value": None},
            {"color": "orange", "value": 5},
            {"color": "red", "value": 20},
        ]
    )
    return {
        **percent,
        "custom__cellOptions": {"type": "color-text"},
        "thresholds": {"mode": "absolute", "steps": steps},
    }


def pipeline_health(ctx: Context) -> Dashboard:
    """Throughput, latency, dead-letter rate and sink batches, from what the warehouse holds
    (every sink batch stamps its facts with one ``ingested_at``), SGBV left out."""
    facts = f"{OPEN_FACTS} AND $__timeFilter(ingested_at)"
    dead = f"{OPEN_DEADLETTERS} AND $__timeFilter(received_at)"
    panels: list[Panel | Text] = [
        stat(
            "Now",
            f"SELECT (SELECT count() FROM {OPEN_FACTS}"
            " AND ingested_at >= now() - INTERVAL 5 MINUTE) AS facts_5m,"
            # partner_activity holds each partner's last write: max() over facts reads them all.
            " (SELECT dateDiff('second', max(last_ingested_at), now())"
            f" FROM partner_activity FINAL WHERE {NOT_SGBV}) AS idle_seconds,"
            f" (SELECT quantile(0.95)({LATENCY}) FROM {facts}) AS latency_p95,"
            f" (SELECT count() FROM {dead}) AS deadletters",
            {
                "facts_5m": "Facts written, last 5 min",
                "idle_seconds": "Since the last write",
                "latency_p95": "Latency p95 (period)",
                "deadletters": "Dead letters (period)",
            },
            height=4,
        ),
        timeseries(
            "Throughput (messages per interval)",
            [
                f"SELECT $__timeInterval(ingested_at) AS time, count() AS facts FROM {facts}"
                " GROUP BY time ORDER BY time",
                f"SELECT $__timeInterval(received_at) AS time, count() AS dead_letters"
                f" FROM {dead} GROUP BY time ORDER BY time",
            ],
            {"facts": "Facts written", "dead_letters": "Dead letters"},
            width=12,
        ),
        timeseries(
            "Latency, broker to warehouse (s)",
            f"SELECT $__timeInterval(ingested_at) AS time,"
            f" quantile(0.5)({LATENCY}) AS p50, quantile(0.95)({LATENCY}) AS p95,"
            f" max({LATENCY}) AS slowest FROM {facts} GROUP BY time ORDER BY time",
            {"p50": "Median", "p95": "95th percentile", "slowest": "Slowest"},
            width=12,
            unit="s",
        ),
        timeseries(
            "Dead-letter rate (%)",
            "SELECT time, round(100 * sum(rejected) / (sum(rejected) + sum(accepted)), 2) AS rate"
            f" FROM (SELECT $__timeInterval(ingested_at) AS time, count() AS accepted,"
            f" 0 AS rejected FROM {facts} GROUP BY time"
            f" UNION ALL SELECT $__timeInterval(received_at) AS time, 0 AS accepted,"
            f" count() AS rejected FROM {dead} GROUP BY time)"
            " GROUP BY time HAVING sum(accepted) + sum(rejected) > 0 ORDER BY time",
            {"rate": "Dead letters among messages"},
            width=12,
            unit="percent",
        ),
        timeseries(
            "Sink batches: size and count",
            "SELECT $__timeInterval(ingested_at) AS time, max(size) AS largest,"
            " round(avg(size), 1) AS average, count() AS batches"
            f" FROM (SELECT ingested_at, count() AS size FROM {facts} GROUP BY ingested_at)"
            " GROUP BY time ORDER BY time",
            {"largest": "Largest batch", "average": "Average batch", "batches": "Batches"},
            width=12,
            overrides=[by_name("batches", custom__axisPlacement="right")],
        ),
        table(
            "Reporting delay by partner (days from activity to report)",
            f"SELECT {ctx.partner()} AS partner,"
            " quantile(0.5)(dateDiff('day', occurred_on, toDate(reported_at))) AS median_days,"
            " max(dateDiff('day', occurred_on, toDate(reported_at))) AS longest_days"
            f" FROM {facts} GROUP BY partner_id ORDER BY median_days DESC",
            {
                "partner": "Partner",
                "median_days": "Median delay (days)",
                "longest_days": "Longest delay (days)",
            },
            height=8,
        ),
    ]
    return Dashboard(
        uid="partnerhub-pipeline",
        title="Partner Hub: pipeline health",
        description="Throughput, latency, dead-letter rate and sink batches, from the "
        "warehouse (the worker's /metrics has the live counters).",
        panels=panels,
        tags=("operations",),
        time_from="now-6h",
        refresh="30s",
    )
