"""Inline SVG charts for the HTML report: no script, no fonts or files to fetch.

Every chart takes published :class:`~rollups.suppress.Figure` values: a withheld one is drawn
as a hatched stub marked ``x``, a partial one (a lower bound) with its value prefixed ``≥``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from html import escape

from rollups.suppress import SUPPRESSED_MARK, Figure

#: One colour per kind, shared by every chart and legend.
KIND_COLOURS: dict[str, str] = {
    "assistance": "#2b6cb0",
    "income_generation": "#dd8a1c",
    "sgbv": "#805ad5",
    "hiv_training": "#c53030",
    "durable_solutions": "#2f855a",
    "protection_training": "#d53f8c",
    "rsd_casework": "#319795",
}

WITHHELD_FILL = "url(#withheld)"

#: The hatch pattern withheld stubs are filled with: put once in the page, before any chart.
PATTERN_SVG = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="withheld" width="6" height="6" patternUnits="userSpaceOnUse"'
    ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs></svg>'
)


def show(figure: Figure) -> str:
    """A figure as text: ``x`` when withheld, ``≥n`` when partial, thousands separated."""
    if figure.value is None:
        return SUPPRESSED_MARK
    value = figure.value
    text = f"{value:,.2f}" if isinstance(value, Decimal) else f"{int(value):,}"
    return f"≥{text}" if figure.partial else text


def _number(figure: Figure) -> float:
    return float(figure.value) if figure.value is not None else 0.0


def _svg(width: int, height: int, body: str, title: str) -> str:
    return (
        f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        ' font-family="sans-serif" font-size="12">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def stacked_bars(
    title: str,
    categories: Sequence[tuple[str, str]],
    series: Sequence[str],
    values: Mapping[tuple[str, str], Figure],
    totals: Mapping[str, Figure],
    series_labels: Mapping[str, str] | None = None,
) -> str:
    """Horizontal bars, one per ``(category, label)``, stacked by ``series`` (kinds), with the
    category's total at the end; a withheld part is a hatched stub. ``series_labels`` name
    the series in the tooltips (default: their codes)."""
    names = series_labels or {}
    label_width, bar_width, row_height, stub = 240, 420, 22, 6
    biggest = max(
        (sum(_number(values.get((c, s), Figure(0))) for s in series) for c, _ in categories),
        default=0.0,
    )
    scale = bar_width / biggest if biggest else 0.0
    parts = []
    for index, (category, label) in enumerate(categories):
        y = index * row_height + 4
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
        )
        x = float(label_width)
        for name in series:
            figure = values.get((category, name))
            if figure is None:
                continue
            if figure.value is None:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{stub}" height="16" fill="{WITHHELD_FILL}">'
                    f"<title>{escape(names.get(name, name))}: withheld</title></rect>"
                )
                x += stub
                continue
            width = _number(figure) * scale
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="16"'
                f' fill="{KIND_COLOURS.get(name, "#718096")}">'
                f"<title>{escape(names.get(name, name))}: {escape(show(figure))}</title></rect>"
            )
            x += width
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 13}">{escape(show(totals[category]))}</text>')
    height = len(categories) * row_height + 8
    return _svg(label_width + bar_width + 90, height, "".join(parts), title)


def pyramid(
    title: str,
    brackets: Sequence[str],
    female: Sequence[Figure],
    male: Sequence[Figure],
    sexes: tuple[str, str] = ("Male", "Female"),
) -> str:
    """A population pyramid: males left, females right, youngest at the bottom; ``sexes``
    are the two headings."""
    half, middle, margin, row_height, stub = 240, 60, 70, 26, 6
    biggest = max((_number(f) for f in (*female, *male)), default=0.0)
    scale = half / biggest if biggest else 0.0
    centre = margin + half + middle / 2
    parts = [
        f'<text x="{margin + half / 2:.0f}" y="14" text-anchor="middle" font-weight="bold">'
        f"{escape(sexes[0])}</text>",
        f'<text x="{centre + middle / 2 + half / 2:.0f}" y="14" text-anchor="middle"'
        f' font-weight="bold">{escape(sexes[1])}</text>',
    ]
    count = len(brackets)
    for index, bracket in enumerate(brackets):
        y = 22 + (count - 1 - index) * row_height
        parts.append(
            f'<text x="{centre:.0f}" y="{y + 14}" text-anchor="middle">{escape(bracket)}</text>'
        )
        for figure, side in ((male[index], -1), (female[index], 1)):
            colour = "#3182ce" if side < 0 else "#d53f8c"
            width = stub if figure.value is None else _number(figure) * scale
            fill = WITHHELD_FILL if figure.value is None else colour
            start = centre - middle / 2 - width if side < 0 else centre + middle / 2
            parts.append(
                f'<rect x="{start:.1f}" y="{y}" width="{width:.1f}" height="18" fill="{fill}">'
                f"<title>{escape(show(figure))}</title></rect>"
            )
            anchor, tx = ("end", start - 4) if side < 0 else ("start", start + width + 4)
            parts.append(
                f'<text x="{tx:.1f}" y="{y + 14}" text-anchor="{anchor}">'
                f"{escape(show(figure))}</text>"
            )
    height = 22 + count * row_height + 4
    return _svg(int(2 * (half + margin) + middle), height, "".join(parts), title)


def progress_bar(share: float | None, pace: float) -> str:
    """A bar of a target's share achieved (capped at 100% wide) with a tick at the pace
    expected by the month's end."""
    width, height = 220, 16
    parts = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="#edf2f7"/>']
    if share is None:
        parts.append(f'<rect x="0" y="0" width="6" height="{height}" fill="{WITHHELD_FILL}"/>')
    else:
        colour = "#2f855a" if share >= pace else "#dd6b20"
        parts.append(
            f'<rect x="0" y="0" width="{min(share, 1.0) * width:.1f}" height="{height}"'
            f' fill="{colour}"/>'
        )
    tick = min(pace, 1.0) * width
    parts.append(
        f'<line x1="{tick:.1f}" y1="0" x2="{tick:.1f}" y2="{height}" stroke="#1a202c"'
        ' stroke-width="2"/>'
    )
    return _svg(width, height, "".join(parts), "share of the annual target")
