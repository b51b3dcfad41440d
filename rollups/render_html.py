"""The roll-up as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.

Sections: headline figures, activity by kind, coverage by region, the sex/age pyramid,
protection training by audience, the RSD pipeline (by stage, and decisions by origin),
progress against targets, the partner data-quality scorecard, the reconciliation with the
streaming aggregates, and the version with its changes. Every number comes from the report's
publication (SGBV suppression applied).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from rollups import charts
from rollups.charts import show
from rollups.protection_render import protection_html
from rollups.report import Change, PartnerScore, Report, describe_key
from rollups.suppress import SUPPRESSED_MARK
from schemas.refdata import Target
from schemas.vocabulary import AGE_BRACKETS, Kind, cell_name

#: Changes listed in full before the rest are only counted.
MAX_CHANGES_SHOWN = 200

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #1a202c;
       padding: 0 1rem; }
h1 { margin-bottom: .2rem; } h2 { border-bottom: 2px solid #e2e8f0; padding-bottom: .3rem;
       margin-top: 2.2rem; }
.meta { color: #4a5568; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; }
.card { border: 1px solid #e2e8f0; border-radius: 6px; padding: .7rem 1rem; min-width: 150px; }
.card b { display: block; font-size: 1.6rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; }
th, td { border-bottom: 1px solid #e2e8f0; padding: .25rem .6rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #2f855a; font-weight: bold; } .bad { color: #c53030; font-weight: bold; }
.legend span { display: inline-block; margin-right: 1rem; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
       vertical-align: middle; }
.note { color: #4a5568; font-size: .9rem; }
"""


def _percent(share: float | None) -> str:
    return SUPPRESSED_MARK if share is None else f"{share * 100:.0f}%"


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            if isinstance(value, _Raw):
                cells.append(f"<td>{value.html}</td>")
            elif index in numeric:
                cells.append(f'<td class="n">{escape(str(value))}</td>')
            else:
                cells.append(f"<td>{escape(str(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class _Raw:
    """HTML to put in a table cell as is (a chart)."""

    def __init__(self, html: str) -> None:
        self.html = html


def _legend(kinds: Iterable[str]) -> str:
    items = "".join(
        f'<span><i style="background:{charts.KIND_COLOURS[k]}"></i>{escape(k)}</span>'
        for k in kinds
    )
    return (
        f'<p class="legend">{items}<span><i style="background:#ccc"></i>'
        f"{SUPPRESSED_MARK}: withheld (SGBV)</span></p>"
    )


def _header(report: Report) -> str:
    facts = report.facts_through.strftime("%Y-%m-%d %H:%M UTC") if report.facts_through else "-"
    return (
        f"<h1>Monthly roll-up {escape(report.month)}</h1>"
        f'<p class="meta">Version {report.version}, made {report.created_at:%Y-%m-%d %H:%M} UTC'
        f" ({escape(report.created_by)}); newest fact arrived {facts}; checksum"
        f" <code>{report.checksum[:16]}</code>. SGBV numbers below {report.threshold} are"
        f" withheld ({SUPPRESSED_MARK}).</p>"
    )


def _headline(report: Report) -> str:
    pub = report.publication
    reporting = sum(1 for p in report.partners if p.reported)
    cards = [
        ("events", show(pub.kind_total("events"))),
        ("people reached", show(pub.kind_total("persons"))),
        ("partners reporting", f"{reporting} of {len(report.partners)}"),
        ("value (USD)", show(pub.kind_total("value_usd"))),
    ]
    items = "".join(f'<div class="card"><b>{escape(v)}</b>{escape(k)}</div>' for k, v in cards)
    partial = pub.kind_total("persons").partial or pub.kind_total("events").partial
    note = (
        '<p class="note">≥: a total of the published figures; some SGBV figures are withheld.</p>'
        if partial
        else ""
    )
    return f'<div class="cards">{items}</div>{note}'


def _by_kind(report: Report) -> str:
    pub = report.publication
    kinds = [k.value for k in Kind]
    chart = charts.stacked_bars(
        "people reached by kind",
        [(k, k) for k in kinds],
        kinds,
        {(k, k): pub.by_kind[k]["persons"] for k in kinds},
        {k: pub.by_kind[k]["persons"] for k in kinds},
    )
    rows = [
        (
            k,
            show(pub.by_kind[k]["events"]),
            show(pub.by_kind[k]["persons"]),
            show(pub.by_kind[k]["value_usd"]),
            show(pub.by_kind[k]["sessions"]),
            show(pub.by_kind[k]["cases"]),
        )
        for k in kinds
    ]
    table = _table(
        ["kind", "events", "people", "value (USD)", "sessions", "cases"], rows, [1, 2, 3, 4, 5]
    )
    return f"<h2>Activity by kind</h2>{chart}{table}"


def _coverage(report: Report) -> str:
    pub = report.publication
    regions = pub.regions()
    if not regions:
        return "<h2>Coverage by region</h2><p>No activity this month.</p>"
    kinds = [k.value for k in Kind]
    labels = [(r, f"{r} {report.region_names.get(r, '')}".strip()) for r in regions]
    values = {(r, k): v["persons"] for (r, k), v in pub.by_region.items()}
    totals = {r: pub.region_total(r, "persons") for r in regions}
    chart = charts.stacked_bars("people reached by region", labels, kinds, values, totals)
    return f"<h2>Coverage by region</h2><p>People reached, by kind.</p>{_legend(kinds)}{chart}"


def _pyramid(report: Report) -> str:
    pub = report.publication
    female = [pub.kind_total(cell_name("female", b)) for b in AGE_BRACKETS]
    male = [pub.kind_total(cell_name("male", b)) for b in AGE_BRACKETS]
    chart = charts.pyramid("people reached by sex and age", AGE_BRACKETS, female, male)
    return f"<h2>Sex and age</h2><p>People reached, all kinds (UNHCR age brackets).</p>{chart}"


def _filters(target: Target) -> str:
    population = target.population_type.value if target.population_type else None
    parts = [population, target.origin, target.region]
    return ", ".join(p for p in parts if p) or "all"


def _progress(report: Report) -> str:
    items = report.publication.progress
    if not items:
        return "<h2>Progress against targets</h2><p>No targets for this year.</p>"
    rows = [
        (
            p.target.kind.value,
            p.target.indicator,
            _filters(p.target),
            p.target.measure,
            show(p.month),
            show(p.year_to_date),
            f"{p.target.target:,}",
            _percent(p.share),
            _Raw(charts.progress_bar(p.share, p.pace)),
        )
        for p in items
    ]
    table = _table(
        [
            "kind",
            "indicator",
            "for",
            "measure",
            "month",
            "year to date",
            "annual target",
            "share",
            "progress (tick: expected by now)",
        ],
        rows,
        [4, 5, 6, 7],
    )
    return f"<h2>Progress against targets</h2>{table}"


def _rate(partner: PartnerScore, rate: float | None) -> str:
    if partner.rates_withheld:
        return SUPPRESSED_MARK
    return "-" if rate is None else _percent(rate)


def _scorecard(report: Report) -> str:
    rows = [
        (
            f"{p.name} ({p.partner_id})",
            ", ".join(p.mandated) or "-",
            ", ".join(p.reported) or "-",
            _percent(p.completeness),
            show(p.events),
            _rate(p, p.timeliness),
            _rate(p, p.reject_rate),
            f"{p.rejected:,}",
        )
        for p in report.partners
    ]
    table = _table(
        [
            "partner",
            "mandated for",
            "reported",
            "completeness",
            "events",
            "timeliness",
            "reject rate",
            "dead letters",
        ],
        rows,
        [3, 4, 5, 6, 7],
    )
    kinds = _table(
        ["kind", "partners reporting", "of those mandated"],
        [(k.kind, ", ".join(k.reported) or "-", _percent(k.completeness)) for k in report.kinds],
        [2],
    )
    unattributed = (
        f"<p>{report.unattributed_rejects:,} dead letters came on topics of no partner.</p>"
        if report.unattributed_rejects
        else ""
    )
    return (
        "<h2>Partner data quality</h2>"
        f'<p class="note">Timeliness: share of the month\'s events first reported within'
        f" {report.timely_days} days after the month ended (before"
        f" {report.deadline:%Y-%m-%d %H:%M} UTC). Completeness: kinds reported of kinds"
        " mandated. Reject rate: dead letters / (accepted revisions + dead letters), over"
        " messages about the month or received in it. A partner's rates are withheld (x)"
        " where its event count is.</p>"
        f"{table}{kinds}{unattributed}"
    )


def _fields(fields: Any) -> str:
    parts = []
    for name, pair in fields.items():
        if pair is None:
            parts.append(f"{name} (values withheld)")
        else:
            old, new = ("-" if v is None else v for v in pair)
            parts.append(f"{name}: {old} → {new}")
    return "; ".join(parts)


def _reconciliation(report: Report) -> str:
    if not report.differences:
        return (
            "<h2>Reconciliation</h2>"
            f'<p class="ok">The streaming aggregates match the facts for all'
            f" {report.reconciled_keys:,} keys.</p>"
        )
    rows = [(describe_key(d.key), _fields(d.fields)) for d in report.differences]
    return (
        "<h2>Reconciliation</h2>"
        f'<p class="bad">The streaming aggregates differ from the facts for {len(rows)} of'
        f" {report.reconciled_keys:,} keys. This roll-up is computed from the facts;"
        " dashboards reading the aggregates show other numbers for these keys.</p>"
        + _table(["key", "field: facts → aggregates"], rows, [])
    )


def _changes(changes: Sequence[Change]) -> str:
    shown = list(changes)[:MAX_CHANGES_SHOWN]
    rows = [(c.status, describe_key(c.key), _fields(c.fields)) for c in shown]
    more = len(changes) - len(shown)
    tail = f"<p>… and {more:,} more (the XLSX and the warehouse hold them all).</p>" if more else ""
    return _table(["change", "key", "fields: old → new"], rows, []) + tail


def _version(report: Report) -> str:
    if report.previous is None:
        body = "<p>Version 1: the month as it stood at its first roll-up.</p>"
    elif not report.changes:
        body = f"<p>No key changed since version {report.previous}.</p>"
    else:
        body = (
            f"<p>Changes since version {report.previous} (late reports and corrections):"
            f" {len(report.changes):,} keys.</p>{_changes(report.changes)}"
        )
    return f"<h2>Version {report.version}</h2>{body}"


def _notes(report: Report) -> str:
    return (
        "<h2>Notes</h2>"
        '<p class="note">Totals count each event once, at its newest revision; retracted'
        " events are left out. SGBV figures follow GBVIMS information-sharing practice: a"
        f" number from 1 to {report.threshold - 1} is withheld ({SUPPRESSED_MARK}), and so is"
        " any other number or total from which a withheld one could be worked out. Targets are"
        " annual; the year to date runs to the end of this month.</p>"
    )


def render_html(report: Report) -> str:
    """The report as one HTML document (UTF-8 text)."""
    body = "".join(
        (
            charts.PATTERN_SVG,
            _header(report),
            _headline(report),
            _by_kind(report),
            _coverage(report),
            _pyramid(report),
            protection_html(report),
            _progress(report),
            _scorecard(report),
            _reconciliation(report),
            _version(report),
            _notes(report),
        )
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Partner Hub roll-up {escape(report.month)} v{report.version}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>\n"
    )
