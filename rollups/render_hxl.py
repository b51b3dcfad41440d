"""The roll-up as an HXL-tagged CSV (Humanitarian Exchange Language 1.1), for HDX-style sharing.

A header row, a hashtag row, then one line per key: the published numbers (suppression
applied). HXL numeric columns must hold numbers, so a withheld number is an empty cell, and
``#meta+suppressed`` lists the columns withheld on that line. The mapping is :data:`TAGS`;
age bands use HXL's broad attributes plus a custom band attribute (``+age0_4`` ... ``+age60plus``),
as HXL asks for bands it has no attribute for.
"""

from __future__ import annotations

import csv
import io

from rollups.model import COUNTS, Number
from rollups.render_csv import format_number
from rollups.report import Report
from schemas.vocabulary import AGE_BRACKETS, cell_name

#: HXL's broad age attribute and our exact band attribute, per UNHCR age bracket.
AGE_ATTRIBUTES: dict[str, str] = {
    "0-4": "+children+age0_4",
    "5-11": "+children+age5_11",
    "12-17": "+adolescents+age12_17",
    "18-59": "+adults+age18_59",
    "60+": "+elderly+age60plus",
}

_SEX = {"female": "+f", "male": "+m"}

#: Column -> (header, hashtag), in file order. Roll-up fields by their CSV names; ``org_name``
#: and ``adm1_name`` come from the registry and the region list.
TAGS: dict[str, tuple[str, str]] = {
    "month": ("Month", "#date"),
    "partner_id": ("Partner code", "#org+code"),
    "org_name": ("Partner", "#org+name"),
    "region": ("Region code", "#adm1+code"),
    "adm1_name": ("Region", "#adm1+name"),
    "kind": ("Activity kind", "#sector+code"),
    "indicator": ("Indicator", "#indicator+code"),
    "population_type": ("Population group", "#beneficiary+code"),
    "origin": ("Country of origin", "#country+code+origin"),
    "events": ("Events", "#output+events+num"),
    "persons": ("People reached", "#reached+total"),
    **{
        cell_name(sex, bracket): (
            f"{sex.capitalize()} {bracket}",
            f"#reached{_SEX[sex]}{AGE_ATTRIBUTES[bracket]}",
        )
        for sex in ("female", "male")
        for bracket in AGE_BRACKETS
    },
    "quantity": ("Quantity", "#output+quantity+num"),
    "units": ("Units", "#output+units"),
    "value_usd": ("Value (USD)", "#value+usd"),
    "sessions": ("Sessions", "#output+sessions+num"),
    "hours": ("Hours", "#output+hours+num"),
    "cases": ("Cases", "#output+cases+num"),
    "curriculum_sessions": ("Curriculum sessions", "#output+sessions+curriculum+num"),
    "suppressed": ("Withheld (SGBV)", "#meta+suppressed"),
}


def _number(value: Number | None) -> str:
    return "" if value is None else format_number(value)


def render_hxl(report: Report) -> str:
    """The HXL-tagged CSV text of a report's published rows, lines sorted by key."""
    publication = report.publication
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header for header, _ in TAGS.values())
    writer.writerow(tag for _, tag in TAGS.values())
    for row in sorted(publication.rows, key=lambda r: r.key):
        text = {
            "month": publication.month,
            "org_name": report.partner_names.get(row.field("partner_id"), ""),
            "adm1_name": report.region_names.get(row.field("region"), ""),
            "units": "|".join(row.units),
            "suppressed": " ".join(
                n for n in COUNTS if n not in row.omitted and row.values[n] is None
            ),
        }
        line = []
        for column in TAGS:
            if column in text:
                line.append(text[column])
            elif column in row.omitted:
                line.append("")
            elif column in row.values:
                line.append(_number(row.values[column]))
            else:
                line.append(row.field(column))
        writer.writerow(line)
    return buffer.getvalue()
