"""One vocabulary of human labels, in English and Russian: ``schemas/reference/labels.csv``.

Every output people read (the roll-up report, its XLSX) takes its words from here, so a code
such as ``income_generation`` or ``partner_staff.prevention`` is shown the same way
everywhere, and an office translating or rewording a label changes one file. Keys are the
contract's codes (kinds, population types, payload values, countries of origin), ``col.*``
for column headings and ``ui.*`` for the report's sentences (``str.format`` fields in braces).

Region names depend on the year reported: Kazakhstan's regions changed in 2018 (Shymkent
became a city of republican status, South Kazakhstan became Turkistan) and 2022 (Abai, Jetisu
and Ulytau were created). Data before 2018 is labelled with the 16 regions of 2006
(``regions_2006.csv``), each of today's codes with the 2006 region that held its territory.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Mapping
from importlib.resources import files
from typing import Literal

from schemas import refdata

Language = Literal["en", "ru"]
LANGUAGES: tuple[Language, ...] = ("en", "ru")
#: The first year whose data is named with today's regions (the 2018 reform).
TODAY_REGIONS_FROM = 2018


@functools.cache
def vocabulary() -> Mapping[str, Mapping[Language, str]]:
    """Key -> language -> label; ValueError naming the row for a broken line."""
    text = (files("schemas") / "reference" / "labels.csv").read_text(encoding="utf-8")
    out: dict[str, dict[Language, str]] = {}
    for number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        if None in row or not all(row.get(k) for k in ("key", *LANGUAGES)):
            raise ValueError(f"labels.csv:{number}: expected key,en,ru, all filled")
        if row["key"] in out:
            raise ValueError(f"labels.csv:{number}: {row['key']!r} appears twice")
        out[row["key"]] = {"en": row["en"], "ru": row["ru"]}
    return out


def label(code: str, language: Language = "en") -> str:
    """The label of one code; the code itself when the vocabulary has none."""
    entry = vocabulary().get(code)
    return entry[language] if entry else code


def indicator_label(indicator: str, language: Language = "en") -> str:
    """``vocational_training.completed`` -> ``Vocational training, completed``."""
    return ", ".join(label(part, language) for part in indicator.split("."))


def text(key: str, language: Language = "en", **fields: object) -> str:
    """A sentence of the report (``ui.<key>``) with its fields filled in."""
    return label(f"ui.{key}", language).format(**fields)


@functools.cache
def region_names(year: int, language: Language = "en") -> Mapping[str, str]:
    """Today's region code -> the name of the region that held it in ``year``."""
    if year >= TODAY_REGIONS_FROM:
        return {
            code: region.name_ru if language == "ru" else _today_name(region.name_en)
            for code, region in refdata.regions().items()
        }
    names: dict[str, str] = {}
    for old in refdata.regions_2006():
        name = old.name_2006_ru if language == "ru" else old.name_2006_en
        for code in old.today_codes:
            names[code] = name
    return names


def _today_name(name: str) -> str:
    return name if name.endswith("Region") else f"{name} (city)"
