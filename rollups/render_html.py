"""The roll-up as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.

The page is a Jinja2 template (``rollups/templates/rollup.html.j2`` and ``rollup.css``), so
an office can change its layout, add its logo or fix its language without touching code:
copy both files into ``<data_dir>/templates/`` and edit them; the hub uses them from then on
(Jinja2's loaders look there first). Jinja2 autoescapes every value; only the charts, built
here as SVG from published figures, are marked safe.

Sections: headline figures, activity by kind, who does what where (3W: partner x region x
activity), people by population group and country of origin, coverage by region, the
sex/age pyramid, protection training by audience and the RSD pipeline
(:mod:`rollups.protection_render`), progress against targets (with its legend), the partner
data-quality scorecard, the reconciliation, and the version with its changes. Labels come from
the one vocabulary (:mod:`schemas.labels`, English and Russian); regions carry the names in force in
the reported year. Every number comes from the report's publication (SGBV suppression
applied), through :func:`rollups.charts.show`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from rollups import charts
from rollups.charts import show
from rollups.protection_render import protection_html
from rollups.report import PartnerScore, Report, describe_key
from rollups.suppress import SUPPRESSED_MARK, PublishedProgress, total
from rollups.views import population_by_origin, regions_in_force, three_w
from schemas import labels
from schemas.labels import LANGUAGES, Language
from schemas.refdata import Target
from schemas.vocabulary import AGE_BRACKETS, Kind, cell_name

#: Changes listed in full before the rest are only counted.
MAX_CHANGES_SHOWN = 200
TEMPLATE = "rollup.html.j2"


def environment(template_dirs: Sequence[Path] = ()) -> Environment:
    """Jinja2 with the office's template folders first, then the packaged templates."""
    loaders: list[Any] = [FileSystemLoader([str(d) for d in template_dirs if d.is_dir()])]
    loaders.append(PackageLoader("rollups", "templates"))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        keep_trailing_newline=True,
    )


def _percent(share: float | None) -> str:
    return SUPPRESSED_MARK if share is None else f"{share * 100:.0f}%"


def _rate(partner: PartnerScore, rate: float | None) -> str:
    if partner.rates_withheld:
        return SUPPRESSED_MARK
    return "-" if rate is None else _percent(rate)


def _fields(fields: Mapping[str, Any], language: Language) -> str:
    parts = []
    for name, pair in fields.items():
        if pair is None:
            parts.append(f"{name} ({labels.text('values_withheld', language)})")
        else:
            old, new = ("-" if v is None else v for v in pair)
            parts.append(f"{name}: {old} → {new}")
    return "; ".join(parts)


def _charts(report: Report, language: Language, names: Mapping[str, str]) -> dict[str, Markup]:
    """The page's SVG charts in ``language`` (labels only differ)."""
    pub = report.publication
    kinds = [k.value for k in Kind]
    kind_labels = [(k, labels.label(k, language)) for k in kinds]
    by_kind = charts.stacked_bars(
        labels.text("by_kind", language),
        kind_labels,
        kinds,
        {(k, k): pub.by_kind[k]["persons"] for k in kinds},
        {k: pub.by_kind[k]["persons"] for k in kinds},
        series_labels=dict(kind_labels),
    )
    values = regions_in_force(pub, names)
    regions = sorted({region for region, _ in values})
    coverage = ""
    if regions:
        totals = {r: total(v for (q, _), v in values.items() if q == r) for r in regions}
        coverage = charts.stacked_bars(
            labels.text("coverage", language),
            [(r, r) for r in regions],
            kinds,
            values,
            totals,
            series_labels=dict(kind_labels),
        )
    female = [pub.kind_total(cell_name("female", b)) for b in AGE_BRACKETS]
    male = [pub.kind_total(cell_name("male", b)) for b in AGE_BRACKETS]
    pyramid = charts.pyramid(
        labels.text("pyramid", language),
        AGE_BRACKETS,
        female,
        male,
        sexes=(labels.label("male", language), labels.label("female", language)),
    )
    return {"by_kind": Markup(by_kind), "coverage": Markup(coverage), "pyramid": Markup(pyramid)}


def _legend_kinds(language: Language) -> Markup:
    items = "".join(
        f'<span><i style="background:{charts.KIND_COLOURS[k.value]}"></i>'
        f"{escape(labels.label(k.value, language))}</span>"
        for k in Kind
    )
    withheld = escape(labels.text("withheld", language))
    return Markup(
        f'<p class="legend">{items}<span><i class="hatch"></i>{SUPPRESSED_MARK}: '
        f"{withheld}</span></p>"
    )


def _target_for(target: Target, language: Language, names: Mapping[str, str]) -> str:
    parts = [
        labels.label(target.population_type.value, language) if target.population_type else "",
        labels.label(target.origin, language) if target.origin else "",
        names.get(target.region, target.region) if target.region else "",
    ]
    return ", ".join(p for p in parts if p) or labels.label("*", language)


def _activities(indicators: Iterable[str], language: Language) -> str:
    """The activities of a 3W line, without their stages: ``Naturalization; Resettlement``."""
    heads = sorted({indicator.split(".")[0] for indicator in indicators})
    return "; ".join(labels.label(head, language) for head in heads)


def _kinds_text(kinds: Iterable[str], language: Language) -> str:
    return ", ".join(labels.label(k, language) for k in kinds) or "-"


def context(report: Report, language: Language = "en") -> dict[str, Any]:
    """What the template sees: the report, its cross-tables and charts, and the helpers that
    turn codes into labels and published figures into text."""
    year = int(report.month[:4])
    names = {lang: labels.region_names(year, lang) for lang in LANGUAGES}
    pub = report.publication
    facts = report.facts_through.strftime("%Y-%m-%d %H:%M UTC") if report.facts_through else "-"
    return {
        "report": report,
        "lang": language,
        "year": year,
        "regions_year_note": year < labels.TODAY_REGIONS_FROM,
        "created": f"{report.created_at:%Y-%m-%d %H:%M}",
        "facts": facts,
        "deadline": f"{report.deadline:%Y-%m-%d %H:%M}",
        "mark": SUPPRESSED_MARK,
        "pattern": Markup(charts.PATTERN_SVG),
        "kinds": [k.value for k in Kind],
        "reporting": sum(1 for p in report.partners if p.reported),
        "partial": pub.kind_total("persons").partial or pub.kind_total("events").partial,
        "threew": three_w(pub, names["en"]),
        "population": population_by_origin(pub),
        "protection": Markup(protection_html(report)),
        "charts": {lang: _charts(report, lang, names[lang]) for lang in LANGUAGES},
        "changes_shown": list(report.changes)[:MAX_CHANGES_SHOWN],
        "changes_more": max(0, len(report.changes) - MAX_CHANGES_SHOWN),
        # helpers
        "L": labels.label,
        "T": labels.text,
        "ind": labels.indicator_label,
        "show": show,
        "pct": _percent,
        "rate": _rate,
        "fields": _fields,
        "describe_key": describe_key,
        "region_name": lambda code, lang: names[lang].get(code, code),
        "target_for": lambda target, lang: _target_for(target, lang, names[lang]),
        "kinds_text": _kinds_text,
        "activities": _activities,
        "legend_kinds": _legend_kinds,
        "bar": lambda p: Markup(_bar(p)),
    }


def _bar(progress: PublishedProgress) -> str:
    return charts.progress_bar(progress.share, progress.pace)


def render_html(
    report: Report, *, language: Language = "en", template_dirs: Sequence[Path] = ()
) -> str:
    """The report as one HTML document (UTF-8 text), from the office's template if it has
    one in ``template_dirs``, else the packaged one."""
    template = environment(template_dirs).get_template(TEMPLATE)
    return template.render(context(report, language))
