"""Charts as SVG markup, drawn on the server: the same picture on the page and in the PDF.

Pure functions from numbers to a string. Every chart is readable without colour: each series has a
fill pattern as well as a colour (solid, diagonal hatch, dots, cross-hatch, stripes), lines differ by
marker shape and dash, and values are written on the bars and points. Each <svg> carries role="img",
a <title> and a <desc> giving the figures in words, for screen readers and for the PDF's text layer.
All text is escaped. Values are Decimal or int (None: no value); nothing here touches the database.

    bar_chart(["0-30", "31-60"], [("Patient", [Decimal("120.00"), ...]), ("Insurance", [...])],
              title="AR by bucket", stacked=True)
    bar_chart(payers, [("Balance", amounts)], title="Top payers", horizontal=True)
    line_chart(["Jul", "Aug"], [("Net collection rate", [Decimal("93.1"), Decimal("96.4")])],
               target=Decimal("95"), title="Net collection rate against target")
    sparkline([Decimal("91.2"), ...], title="Collection rate, last 30 nights")
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from html import escape

MONEY, PERCENT, COUNT, DAYS = "money", "percent", "count", "days"

FONT = "'Inter', 'Segoe UI', 'Helvetica Neue', Arial, sans-serif"
TEXT = "#1f2937"
MUTED = "#5b6472"
GRID = "#e3e7ed"
AXIS = "#9aa3af"
TARGET = "#b42318"

# (colour, pattern): each series is told apart by both. Colours from a colour-blind-safe set.
SERIES_STYLES = (
    ("#2f5d8a", "solid"),
    ("#d9822b", "hatch"),
    ("#3f8f5f", "dots"),
    ("#7b5ea7", "cross"),
    ("#a0832a", "stripes"),
    ("#4b5563", "hatch-back"),
)
MARKERS = ("circle", "square", "triangle", "diamond")
DASHES = ("", "6 3", "2 3", "8 3 2 3")


# ---- numbers in words -----------------------------------------------------------------------------


def _num(value) -> float:
    # Geometry only: positions are floats, every number a person reads is formatted from the Decimal.
    return float(value) if value is not None else 0.0


def money_full(value) -> str:
    amount = Decimal(value).quantize(Decimal("0.01"))
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


def money_short(value) -> str:
    """$0, $950, $12.3K, $1.25M: axis ticks and bar labels."""
    amount = Decimal(value)
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    if amount < 1000:
        return f"{sign}${amount.quantize(Decimal('1')):,}"
    if amount < 1_000_000:
        text = f"{(amount / 1000).quantize(Decimal('0.1'))}".removesuffix(".0")
        return f"{sign}${text}K"
    text = f"{(amount / 1_000_000).quantize(Decimal('0.01'))}".rstrip("0").removesuffix(".")
    return f"{sign}${text}M"


def format_value(value, kind: str, *, short: bool = False) -> str:
    if value is None:
        return "no data"
    if kind == MONEY:
        return money_short(value) if short else money_full(value)
    if kind == PERCENT:
        return f"{Decimal(value).quantize(Decimal('0.1'))}%"
    if kind == DAYS:
        return f"{Decimal(value).quantize(Decimal('0.1'))}"
    return f"{int(Decimal(value)):,}"


def _tick_label(value: float, kind: str) -> str:
    if kind == MONEY:
        return money_short(Decimal(str(round(value, 2))))
    if kind == PERCENT:
        return f"{value:g}%"
    return f"{value:,.0f}" if kind == COUNT or float(value).is_integer() else f"{value:g}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 times a power of ten apart)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value < high - 1e-9 * step:
        ticks.append(round(value, 10))
        value += step
    ticks.append(round(value, 10))
    return ticks


# ---- SVG plumbing -------------------------------------------------------------------------------


def _chart_id(*parts) -> str:
    # Deterministic: the page and the PDF get the same markup; ids stay unique between charts.
    return "c" + hashlib.sha256(repr(parts).encode()).hexdigest()[:8]


def _open_svg(cid: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{cid}-t {cid}-d" '
        f'font-family="{escape(FONT)}" font-size="12" fill="{TEXT}">',
        f'<title id="{cid}-t">{escape(title)}</title>',
        f'<desc id="{cid}-d">{escape(desc)}</desc>',
    ]


def _patterns(cid: str, count: int) -> str:
    parts = ["<defs>"]
    for index in range(count):
        colour, kind = SERIES_STYLES[index % len(SERIES_STYLES)]
        pid = f"{cid}-p{index}"
        if kind == "solid":
            continue
        parts.append(f'<pattern id="{pid}" patternUnits="userSpaceOnUse" width="8" height="8">')
        parts.append(f'<rect width="8" height="8" fill="{colour}" fill-opacity="0.28"/>')
        if kind == "hatch":
            parts.append(f'<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="{colour}" stroke-width="2.2"/>')
        elif kind == "hatch-back":
            parts.append(f'<path d="M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4" stroke="{colour}" stroke-width="2.2"/>')
        elif kind == "dots":
            parts.append(
                f'<circle cx="2" cy="2" r="1.6" fill="{colour}"/><circle cx="6" cy="6" r="1.6" fill="{colour}"/>'
            )
        elif kind == "cross":
            parts.append(f'<path d="M0,4 h8 M4,0 v8" stroke="{colour}" stroke-width="1.6"/>')
        elif kind == "stripes":
            parts.append(f'<path d="M0,2 h8 M0,6 h8" stroke="{colour}" stroke-width="1.8"/>')
        parts.append("</pattern>")
    parts.append("</defs>")
    return "".join(parts)


def _fill(cid: str, index: int) -> tuple[str, str]:
    colour, kind = SERIES_STYLES[index % len(SERIES_STYLES)]
    return (colour if kind == "solid" else f"url(#{cid}-p{index})"), colour


def _text(x, y, text, *, anchor="start", size=12, weight="normal", fill=TEXT, extra="") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" font-weight="{weight}" '
        f'fill="{fill}"{extra}>{escape(str(text))}</text>'
    )


def _pill(x, y, text, *, anchor="middle", size=10.5, weight="600", fill=TEXT) -> str:
    """A label on a white rounded backing, readable over bars, patterns and lines (a white text
    stroke would need paint-order, which PDF renderers ignore)."""
    text = str(text)
    width = size * 0.6 * len(text) + 6
    left = x - width / 2 if anchor == "middle" else (x - width if anchor == "end" else x - 3)
    return (
        f'<rect x="{left:.1f}" y="{y - size + 0.5:.1f}" width="{width:.1f}" height="{size + 4:.1f}" rx="3" '
        f'fill="#ffffff" fill-opacity="0.9"/>' + _text(x, y, text, anchor=anchor, size=size, weight=weight, fill=fill)
    )


def _legend(
    cid: str, names: list[str], x: float, y: float, *, lines: bool = False, max_x: float = 10_000
) -> tuple[str, int]:
    """The legend, wrapping onto more rows before `max_x`; returns (markup, rows used)."""
    parts, cursor, rows = [], x, 1
    for index, name in enumerate(names):
        fill, colour = _fill(cid, index)
        item_width = (28 if lines else 20) + 7.2 * len(name) + 18
        if cursor > x and cursor + item_width - 18 > max_x:
            cursor, y, rows = x, y + 20, rows + 1
        if lines:
            dash = DASHES[index % len(DASHES)]
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<line x1="{cursor:.1f}" y1="{y - 4:.1f}" x2="{cursor + 22:.1f}" y2="{y - 4:.1f}" stroke="{colour}" '
                f'stroke-width="2.5"{dash_attr}/>'
            )
            parts.append(_marker(MARKERS[index % len(MARKERS)], cursor + 11, y - 4, colour))
            cursor += 28
        else:
            parts.append(
                f'<rect x="{cursor:.1f}" y="{y - 11:.1f}" width="14" height="14" rx="2" fill="{fill}" '
                f'stroke="{colour}" stroke-width="1.2"/>'
            )
            cursor += 20
        parts.append(_text(cursor, y, name, size=12))
        cursor += 7.2 * len(name) + 18
    return "".join(parts), rows


def _marker(shape: str, x: float, y: float, colour: str, size: float = 4.5) -> str:
    if shape == "square":
        return (
            f'<rect x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size:.1f}" height="{2 * size:.1f}" '
            f'fill="#fff" stroke="{colour}" stroke-width="2"/>'
        )
    if shape == "triangle":
        return (
            f'<path d="M{x:.1f},{y - size - 1:.1f} L{x + size + 1:.1f},{y + size:.1f} L{x - size - 1:.1f},'
            f'{y + size:.1f} Z" fill="#fff" stroke="{colour}" stroke-width="2"/>'
        )
    if shape == "diamond":
        return (
            f'<path d="M{x:.1f},{y - size - 1:.1f} L{x + size + 1:.1f},{y:.1f} L{x:.1f},{y + size + 1:.1f} '
            f'L{x - size - 1:.1f},{y:.1f} Z" fill="#fff" stroke="{colour}" stroke-width="2"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}" fill="#fff" stroke="{colour}" stroke-width="2"/>'


def _describe(categories, series, kind) -> str:
    parts = []
    for name, values in series:
        figures = ", ".join(f"{c}: {format_value(v, kind)}" for c, v in zip(categories, values, strict=False))
        parts.append(f"{name}: {figures}." if len(series) > 1 else f"{figures}.")
    return " ".join(parts)


def _empty(cid, width, height, title, message="Nothing to chart for these choices.") -> str:
    parts = _open_svg(cid, width, height, title, message)
    parts.append(
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="6" fill="#fafbfc" stroke="{GRID}"/>'
    )
    parts.append(_text(width / 2, height / 2 + 4, message, anchor="middle", fill=MUTED, size=13))
    parts.append("</svg>")
    return "".join(parts)


# ---- bar chart ------------------------------------------------------------------------------------


def bar_chart(
    categories: list[str],
    series: list[tuple[str, list]],
    *,
    title: str,
    desc: str = "",
    horizontal: bool = False,
    stacked: bool = False,
    kind: str = MONEY,
    width: int = 680,
    height: int | None = None,
    axis_label: str = "",
    empty_message: str = "Nothing to chart for these choices.",
) -> str:
    """Grouped (side by side) or stacked bars, vertical or horizontal, one pattern per series.
    Grouped bars carry their value; stacked bars carry each segment's value where it fits and the
    total at the end."""
    categories = [str(c) for c in categories]
    cid = _chart_id("bar", title, categories, [(n, [str(v) for v in vs]) for n, vs in series], horizontal, stacked)
    desc = desc or _describe(categories, series, kind)
    if not categories or not series:
        return _empty(cid, width, height or 160, title)
    values = [[_num(v) for v in vs] for _, vs in series]
    if stacked:
        highs = [sum(max(vs[i], 0) for vs in values) for i in range(len(categories))]
        lows = [sum(min(vs[i], 0) for vs in values) for i in range(len(categories))]
    else:
        highs = [max(vs[i] for vs in values) for i in range(len(categories))]
        lows = [min(vs[i] for vs in values) for i in range(len(categories))]
    low, high = min(0.0, min(lows)), max(0.0, max(highs))
    if high == low == 0:
        return _empty(cid, width, height or 160, title, empty_message)
    ticks = nice_ticks(low, high * 1.08 if high > 0 else high)
    if kind == COUNT and len(ticks) > 1 and ticks[1] - ticks[0] < 1:  # no half an account
        ticks = [float(t) for t in range(math.floor(low), math.ceil(high) + 1)]
    low, high = ticks[0], ticks[-1]
    legend_names = [name for name, _ in series]
    show_legend = len(series) > 1
    if horizontal:
        return _horizontal_bars(
            cid, categories, series, values, ticks, title, desc, stacked, kind, width, height, show_legend, axis_label
        )

    height = height or 300
    left, right, bottom = 62, 14, 42
    legend, legend_rows = _legend(cid, legend_names, left, 18, max_x=width - right)
    top = 14 + 20 * legend_rows if show_legend else 14
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = _open_svg(cid, width, height, title, desc)
    parts.append(_patterns(cid, len(series)))

    def y_of(value: float) -> float:
        return top + plot_h - (value - low) / (high - low) * plot_h

    for tick in ticks:
        y = y_of(tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 8, y + 4, _tick_label(tick, kind), anchor="end", size=11, fill=MUTED))
    if axis_label:
        parts.append(
            _text(
                14,
                top + plot_h / 2,
                axis_label,
                anchor="middle",
                size=11,
                fill=MUTED,
                extra=f' transform="rotate(-90 14 {top + plot_h / 2:.1f})"',
            )
        )
    band = plot_w / len(categories)
    group_w = band * (0.62 if stacked or len(series) == 1 else 0.78)
    bar_w = group_w if stacked else group_w / len(series)
    zero_y = y_of(0)
    several = [sum(1 for vs in values if vs[i]) > 1 for i in range(len(categories))]
    for i, category in enumerate(categories):
        x0 = left + band * i + (band - group_w) / 2
        up, down = 0.0, 0.0
        for s, (name, raw) in enumerate(series):
            value = values[s][i]
            fill, colour = _fill(cid, s)
            if stacked:
                base = up if value >= 0 else down
                y_a, y_b = y_of(base), y_of(base + value)
                if value >= 0:
                    up += value
                else:
                    down += value
                x = x0
            else:
                y_a, y_b = zero_y, y_of(value)
                x = x0 + bar_w * s
            y, h = min(y_a, y_b), abs(y_a - y_b)
            label = f"{name}, {category}: {format_value(raw[i], kind)}"
            parts.append(
                # The <title> sits beside the rect in a group: WeasyPrint drops a pattern fill on a
                # rect that has children.
                f'<g class="bar"><rect x="{x:.1f}" y="{y:.1f}" '
                f'width="{max(bar_w - 2, 1):.1f}" height="{max(h, 0):.1f}" '
                f'fill="{fill}" stroke="{colour}" stroke-width="1.2"/><title>{escape(label)}</title></g>'
            )
            if stacked and several[i] and h >= 16 and bar_w >= 40 and value != 0:
                parts.append(_pill(x + bar_w / 2 - 1, y + h / 2 + 4, format_value(raw[i], kind, short=True)))
            if not stacked and raw[i] is not None:
                ly = y - 5 if value >= 0 else y + h + 13
                parts.append(
                    _text(
                        x + bar_w / 2 - 1,
                        ly,
                        format_value(raw[i], kind, short=True),
                        anchor="middle",
                        size=10.5 if len(series) > 1 else 11.5,
                        weight="600",
                    )
                )
        if stacked:
            total = sum((Decimal(str(vs[i])) for _, vs in series if vs[i] is not None), Decimal(0))
            parts.append(
                _text(
                    x0 + group_w / 2 - 1,
                    y_of(up) - 6,
                    format_value(total, kind, short=True),
                    anchor="middle",
                    size=11.5,
                    weight="700",
                )
            )
        parts.append(_text(left + band * i + band / 2, height - bottom + 17, category, anchor="middle", size=12))
    parts.append(f'<line x1="{left}" y1="{zero_y:.1f}" x2="{width - right}" y2="{zero_y:.1f}" stroke="{AXIS}"/>')
    if show_legend:
        parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


def _horizontal_bars(
    cid, categories, series, values, ticks, title, desc, stacked, kind, width, height, show_legend, axis_label
):
    low, high = ticks[0], ticks[-1]
    # DejaVu Sans at 12 px averages about 7.5 px a character in names (capitals wider): room for the
    # longest label as shown (at most 30 characters), plus the gap before the axis.
    label_w = min(max(7.6 * max(min(len(c), 30) for c in categories) + 18, 60), 250)
    row_h = 26 if stacked or len(series) == 1 else 16 * len(series) + 10
    legend, legend_rows = _legend(cid, [name for name, _ in series], 10, 18, max_x=width - 10)
    top = 14 + 20 * legend_rows if show_legend else 10
    bottom = 30
    height = height or top + bottom + row_h * len(categories)
    left, right = label_w, 70
    plot_w = width - left - right
    plot_h = row_h * len(categories)
    parts = _open_svg(cid, width, height, title, desc)
    parts.append(_patterns(cid, len(series)))

    def x_of(value: float) -> float:
        return left + (value - low) / (high - low) * plot_w

    for tick in ticks:
        x = x_of(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{GRID}"/>')
        parts.append(_text(x, top + plot_h + 16, _tick_label(tick, kind), anchor="middle", size=11, fill=MUTED))
    zero_x = x_of(0)
    several = [sum(1 for vs in values if vs[i]) > 1 for i in range(len(categories))]
    for i, category in enumerate(categories):
        y0 = top + row_h * i
        shown = category if len(category) <= 30 else category[:29] + "…"
        parts.append(_text(left - 8, y0 + row_h / 2 + 4, shown, anchor="end", size=12))
        right_end, left_end = 0.0, 0.0
        inner = row_h - 8
        bar_h = inner if stacked else inner / len(series)
        for s, (name, raw) in enumerate(series):
            value = values[s][i]
            fill, colour = _fill(cid, s)
            if stacked:
                base = right_end if value >= 0 else left_end
                x_a, x_b = x_of(base), x_of(base + value)
                if value >= 0:
                    right_end += value
                else:
                    left_end += value
                y = y0 + 4
            else:
                x_a, x_b = zero_x, x_of(value)
                y = y0 + 4 + bar_h * s
            x, w = min(x_a, x_b), abs(x_a - x_b)
            label = f"{name}, {category}: {format_value(raw[i], kind)}"
            parts.append(
                f'<g class="bar"><rect x="{x:.1f}" y="{y:.1f}" '
                f'width="{max(w, 0):.1f}" height="{max(bar_h - 2, 1):.1f}" '
                f'fill="{fill}" stroke="{colour}" stroke-width="1.2"/><title>{escape(label)}</title></g>'
            )
            if not stacked and raw[i] is not None:
                parts.append(
                    _text(x + w + 5, y + bar_h / 2 + 3, format_value(raw[i], kind, short=True), size=10.5, weight="600")
                )
            elif stacked and several[i] and w >= 46 and value != 0:
                parts.append(_pill(x + w / 2, y + bar_h / 2 + 3.5, format_value(raw[i], kind, short=True)))
        if stacked:
            total = sum((Decimal(str(vs[i])) for _, vs in series if vs[i] is not None), Decimal(0))
            parts.append(
                _text(
                    x_of(right_end) + 5,
                    y0 + row_h / 2 + 4,
                    format_value(total, kind, short=True),
                    size=11.5,
                    weight="700",
                )
            )
    parts.append(f'<line x1="{zero_x:.1f}" y1="{top}" x2="{zero_x:.1f}" y2="{top + plot_h}" stroke="{AXIS}"/>')
    if axis_label:
        parts.append(_text(left + plot_w / 2, height - 2, axis_label, anchor="middle", size=11, fill=MUTED))
    if show_legend:
        parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


# ---- line chart -----------------------------------------------------------------------------------


def line_chart(
    labels: list[str],
    series: list[tuple[str, list]],
    *,
    title: str,
    desc: str = "",
    target=None,
    target_label: str = "Target",
    kind: str = PERCENT,
    width: int = 680,
    height: int = 300,
    y_min=None,
    y_max=None,
    gap_unit: str = "pts",
) -> str:
    """Lines by period with a dashed target line (one value, or one per period) and the gap between
    the first series' latest value and its target written beside it ("2.4 pts below target").
    A None value breaks the line (no figure that month)."""
    labels = [str(label) for label in labels]
    targets = target if isinstance(target, list | tuple) else ([target] * len(labels) if target is not None else [])
    cid = _chart_id("line", title, labels, [(n, [str(v) for v in vs]) for n, vs in series], [str(t) for t in targets])
    if not desc:
        desc = _describe(labels, series, kind)
        if targets and targets[-1] is not None:
            desc += f" {target_label}: {format_value(targets[-1], kind)}."
    if not labels or not series:
        return _empty(cid, width, height, title)
    present = [_num(v) for _, vs in series for v in vs if v is not None] + [_num(t) for t in targets if t is not None]
    if not present:
        return _empty(cid, width, height, title)
    low = _num(y_min) if y_min is not None else min(present)
    high = _num(y_max) if y_max is not None else max(present)
    pad = (high - low) * 0.12 or max(abs(high) * 0.05, 1)
    ticks = nice_ticks(low - (pad if y_min is None else 0), high + (pad if y_max is None else 0))
    low, high = ticks[0], ticks[-1]
    left, right, top, bottom = 56, 150, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = _open_svg(cid, width, height, title, desc)

    def x_of(i: int) -> float:
        return left + (plot_w * (i + 0.5) / len(labels))

    def y_of(value: float) -> float:
        return top + plot_h - (value - low) / (high - low) * plot_h

    for tick in ticks:
        y = y_of(tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 8, y + 4, _tick_label(tick, kind), anchor="end", size=11, fill=MUTED))
    step = max(1, math.ceil(len(labels) / 12))
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            parts.append(_text(x_of(i), top + plot_h + 18, label, anchor="middle", size=11.5))
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{AXIS}"/>')

    if targets:
        points = [(x_of(i), y_of(_num(t))) for i, t in enumerate(targets) if t is not None]
        if points:
            if len(set(round(p[1], 2) for p in points)) == 1:
                path = f"M{left:.1f},{points[0][1]:.1f} H{left + plot_w:.1f}"
            else:
                path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<path d="{path}" fill="none" stroke="{TARGET}" stroke-width="1.8" stroke-dasharray="7 5"/>')
            last_target = next(t for t in reversed(targets) if t is not None)
            # The target's key sits top right, beside the legend: the right margin holds the gap.
            key = f"{target_label} {format_value(last_target, kind)}"
            key_x = width - 10 - 7 * len(key)
            parts.append(
                f'<line x1="{key_x - 30:.1f}" y1="14" x2="{key_x - 6:.1f}" y2="14" stroke="{TARGET}" '
                'stroke-width="1.8" stroke-dasharray="7 5"/>'
            )
            parts.append(_text(key_x, 18, key, size=12, weight="600", fill=TARGET))

    end_labels = []
    for s, (name, raw) in enumerate(series):
        colour = SERIES_STYLES[s % len(SERIES_STYLES)][0]
        dash = DASHES[s % len(DASHES)]
        segments, current = [], []
        for i, value in enumerate(raw):
            if value is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append((x_of(i), y_of(_num(value))))
        if current:
            segments.append(current)
        for segment in segments:
            path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in segment)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.6"{dash_attr} '
                'stroke-linejoin="round"/>'
            )
        for i, value in enumerate(raw):
            if value is None:
                continue
            x, y = x_of(i), y_of(_num(value))
            parts.append(
                f"<g>{_marker(MARKERS[s % len(MARKERS)], x, y, colour)}"
                f"<title>{escape(f'{name}, {labels[i]}: {format_value(value, kind)}')}</title></g>"
            )
            if len(labels) <= 12:
                above = s % 2 == 0
                parts.append(
                    _pill(x, y - 10 if above else y + 19, format_value(value, kind, short=True), weight="normal")
                )
        last = next(((i, v) for i, v in reversed(list(enumerate(raw))) if v is not None), None)
        if last is not None and len(series) > 1:
            end_labels.append((y_of(_num(last[1])), name, colour))
        if s == 0 and last is not None and targets and targets[last[0]] is not None:
            parts.append(
                _gap_annotation(
                    x_of(last[0]),
                    y_of(_num(last[1])),
                    y_of(_num(targets[last[0]])),
                    Decimal(str(last[1])) - Decimal(str(targets[last[0]])),
                    kind,
                    gap_unit,
                )
            )
    if len(series) > 1:
        legend, _ = _legend(cid, [name for name, _ in series], left, 18, lines=True)
        parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


def _gap_annotation(x: float, y_value: float, y_target: float, gap: Decimal, kind: str, unit: str) -> str:
    """A bracket from the latest point to the target line, with the gap in words."""
    amount = f"{abs(gap).quantize(Decimal('0.1'))} {unit}" if kind == PERCENT else format_value(abs(gap), kind)
    words = "on target" if gap == 0 else f"{amount} {'below' if gap < 0 else 'above'} target"
    colour = TARGET if gap < 0 else "#1d6b3a"
    bx = x + 12
    parts = []
    if abs(y_value - y_target) >= 4:
        parts.append(
            f'<path d="M{bx - 4:.1f},{y_value:.1f} H{bx:.1f} V{y_target:.1f} H{bx - 4:.1f}" fill="none" '
            f'stroke="{colour}" stroke-width="1.5"/>'
        )
    mid = (y_value + y_target) / 2
    parts.append(_pill(bx + 6, mid + 4, words, anchor="start", size=11.5, weight="700", fill=colour))
    return "".join(parts)


# ---- sparkline ------------------------------------------------------------------------------------


def sparkline(values: list, *, title: str, kind: str = PERCENT, width: int = 120, height: int = 30, target=None) -> str:
    """A small trend line with its last value marked; a dotted target line when given."""
    cid = _chart_id("spark", title, [str(v) for v in values], str(target))
    present = [v for v in values if v is not None]
    if not present:
        return _empty(cid, width, height, title, "No trend yet")
    first, last = present[0], present[-1]
    desc = f"From {format_value(first, kind)} to {format_value(last, kind)} over {len(values)} points."
    if target is not None:
        desc += f" Target {format_value(target, kind)}."
    numbers = [_num(v) for v in present] + ([_num(target)] if target is not None else [])
    low, high = min(numbers), max(numbers)
    span = (high - low) or 1.0
    pad = 3

    def x_of(i: int) -> float:
        return pad + (width - 2 * pad) * (i / max(len(values) - 1, 1))

    def y_of(value: float) -> float:
        return pad + (height - 2 * pad) * (1 - (value - low) / span)

    parts = _open_svg(cid, width, height, title, desc)
    if target is not None:
        ty = y_of(_num(target))
        parts.append(
            f'<line x1="0" y1="{ty:.1f}" x2="{width}" y2="{ty:.1f}" stroke="{TARGET}" stroke-width="1" '
            'stroke-dasharray="3 2"/>'
        )
    points = [(x_of(i), y_of(_num(v))) for i, v in enumerate(values) if v is not None]
    path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)
    parts.append(
        f'<path d="{path}" fill="none" stroke="{SERIES_STYLES[0][0]}" stroke-width="1.8" stroke-linejoin="round"/>'
    )
    x, y = points[-1]
    parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{SERIES_STYLES[0][0]}"/>')
    parts.append("</svg>")
    return "".join(parts)
