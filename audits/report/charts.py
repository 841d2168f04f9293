"""Charts as inline SVG, written in Python: no JavaScript, no network, the report opens offline.

    interval_chart   estimates with their intervals as horizontal error bars, and the contract floor
    trend_chart      one estimate per night with vertical error bars, joined by a line, and the floor
    evalue_chart     the sequential test's e-value night after night against its 1/alpha threshold
    histogram        a distribution of seconds on logarithmic bins, the limit marked, misses apart
    bar_chart        a rate per label as horizontal bars
    lines_chart      several daily series (e.g. a check's failure rate) with a legend

Every text that comes from data is escaped here (the template marks the SVG safe). Each chart has a
<title> and a <desc> for screen readers, and a viewBox so it scales to the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

BLUE, GREEN, RED, ORANGE, GREY, INK, GRID = (
    "#2b6cb0",
    "#2f855a",
    "#c53030",
    "#c05621",
    "#718096",
    "#1a202c",
    "#e2e8f0",
)
PALETTE = (
    "#2b6cb0",
    "#c05621",
    "#2f855a",
    "#805ad5",
    "#c53030",
    "#319795",
    "#b7791f",
    "#d53f8c",
    "#4a5568",
    "#3182ce",
    "#38a169",
)
FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _svg(width: int, height: int, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" {FONT} font-size="12"><title>{_e(title)}</title><desc>{_e(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def _rate_axis(values: Sequence[float]) -> tuple[float, float]:
    """A 0..1 axis zoomed to the data: from a multiple of 10% below the smallest value to 100%."""
    low = min([*values, 1.0])
    start = max(0.0, math.floor(low * 10 - 0.5) / 10)
    return (start, 1.0) if start < 1.0 else (0.9, 1.0)


def interval_chart(
    rows: Sequence[tuple[str, float, float, float]],
    *,
    floor: float | None = None,
    title: str = "Pass rate",
    width: int = 720,
) -> str:
    """Rows of (label, estimate, lower, upper) as horizontal error bars on a pass-rate axis."""
    right, row_h, top = 30, 24, 28
    left = int(min(max(120, 16 + 6.8 * max((len(r[0]) for r in rows), default=0)), width * 0.45))
    height = top + row_h * max(len(rows), 1) + 34
    lo, hi = _rate_axis([r[2] for r in rows] + ([floor] if floor is not None else []))
    span = width - left - right

    def x(v: float) -> float:
        return left + (min(max(v, lo), hi) - lo) / (hi - lo) * span

    body = [f'<text x="{left}" y="16" fill="{INK}" font-weight="600">{_e(title)}</text>']
    step = 0.05 if hi - lo <= 0.3 else 0.1
    tick = lo
    while tick <= hi + 1e-9:
        body.append(
            f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{height - 30}" stroke="{GRID}"/>'
        )
        body.append(
            f'<text x="{x(tick):.1f}" y="{height - 16}" fill="{GREY}" text-anchor="middle">{_pct(tick)}</text>'
        )
        tick += step
    if floor is not None:
        body.append(
            f'<line x1="{x(floor):.1f}" y1="{top - 10}" x2="{x(floor):.1f}" y2="{height - 30}" stroke="{ORANGE}" '
            f'stroke-width="2" stroke-dasharray="5 4"/><text x="{x(floor) + 4:.1f}" y="{top - 12}" fill="{ORANGE}">'
            f"floor {_pct(floor)}</text>"
        )
    for i, (label, est, lower, upper) in enumerate(rows):
        y = top + i * row_h + row_h / 2
        colour = BLUE if floor is None else (GREEN if lower >= floor else RED if upper < floor else BLUE)
        body.append(f'<text x="{left - 8}" y="{y + 4:.1f}" fill="{INK}" text-anchor="end">{_e(label)}</text>')
        body.append(
            f'<line x1="{x(lower):.1f}" y1="{y:.1f}" x2="{x(upper):.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="2"/>'
            f'<line x1="{x(lower):.1f}" y1="{y - 5:.1f}" x2="{x(lower):.1f}" y2="{y + 5:.1f}" stroke="{colour}" stroke-width="2"/>'
            f'<line x1="{x(upper):.1f}" y1="{y - 5:.1f}" x2="{x(upper):.1f}" y2="{y + 5:.1f}" stroke="{colour}" stroke-width="2"/>'
            f'<circle cx="{x(est):.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"><title>{_e(label)}: {est * 100:.1f}% '
            f"({lower * 100:.1f}% to {upper * 100:.1f}%)</title></circle>"
        )
    desc = "; ".join(f"{r[0]} {r[1] * 100:.1f}% ({r[2] * 100:.1f}-{r[3] * 100:.1f}%)" for r in rows)
    return _svg(width, height, title, desc or "no data", body)


def trend_chart(
    points: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    floor: float | None = None,
    title: str = "Pass rate by night",
) -> str:
    """Per night (label, estimate, lower, upper) as vertical error bars joined by a line; None: no sample."""
    width, height, left, right, top, bottom = 720, 260, 52, 20, 30, 40
    have = [p for p in points if p[1] is not None]
    lo, hi = _rate_axis([p[2] for p in have if p[2] is not None] + ([floor] if floor is not None else []))
    n = max(len(points), 1)
    span_x = width - left - right
    span_y = height - top - bottom

    def x(i: int) -> float:
        return left + (i + 0.5) * span_x / n

    def y(v: float) -> float:
        return top + (1 - (min(max(v, lo), hi) - lo) / (hi - lo)) * span_y

    body = [f'<text x="{left}" y="16" fill="{INK}" font-weight="600">{_e(title)}</text>']
    step = 0.05 if hi - lo <= 0.3 else 0.1
    tick = lo
    while tick <= hi + 1e-9:
        body.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" stroke="{GRID}"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" fill="{GREY}" text-anchor="end">{_pct(tick)}</text>'
        )
        tick += step
    if floor is not None:
        body.append(
            f'<line x1="{left}" y1="{y(floor):.1f}" x2="{width - right}" y2="{y(floor):.1f}" stroke="{ORANGE}" '
            f'stroke-width="2" stroke-dasharray="5 4"/><text x="{width - right}" y="{y(floor) - 5:.1f}" '
            f'fill="{ORANGE}" text-anchor="end">floor {_pct(floor)}</text>'
        )
    line = [f"{x(i):.1f},{y(p[1]):.1f}" for i, p in enumerate(points) if p[1] is not None]
    if len(line) > 1:
        body.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="{BLUE}" stroke-opacity="0.5" stroke-width="1.5"/>'
        )
    every = max(1, math.ceil(n / 12))
    for i, (label, est, lower, upper) in enumerate(points):
        if i % every == 0:
            body.append(
                f'<text x="{x(i):.1f}" y="{height - 20}" fill="{GREY}" text-anchor="middle">{_e(label)}</text>'
            )
        if est is None or lower is None or upper is None:
            body.append(
                f'<text x="{x(i):.1f}" y="{top + span_y / 2:.1f}" fill="{GREY}" text-anchor="middle">–</text>'
            )
            continue
        body.append(
            f'<line x1="{x(i):.1f}" y1="{y(lower):.1f}" x2="{x(i):.1f}" y2="{y(upper):.1f}" stroke="{BLUE}" stroke-width="2"/>'
            f'<line x1="{x(i) - 5:.1f}" y1="{y(lower):.1f}" x2="{x(i) + 5:.1f}" y2="{y(lower):.1f}" stroke="{BLUE}" stroke-width="2"/>'
            f'<line x1="{x(i) - 5:.1f}" y1="{y(upper):.1f}" x2="{x(i) + 5:.1f}" y2="{y(upper):.1f}" stroke="{BLUE}" stroke-width="2"/>'
            f'<circle cx="{x(i):.1f}" cy="{y(est):.1f}" r="4.5" fill="{BLUE}"><title>{_e(label)}: {est * 100:.1f}% '
            f"({lower * 100:.1f}% to {upper * 100:.1f}%)</title></circle>"
        )
    desc = "; ".join(f"{p[0]} {p[1] * 100:.1f}%" if p[1] is not None else f"{p[0]} no sample" for p in points)
    return _svg(width, height, title, desc or "no data", body)


def _log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 ticks covering [low, high] (both > 0)."""
    out: list[float] = []
    e = math.floor(math.log10(low))
    while True:
        for m in (1, 2, 5):
            v = m * 10**e
            if v > high * 1.0001:
                return out
            if v >= low / 1.0001:
                out.append(float(v))
        e += 1


def evalue_chart(
    points: Sequence[tuple[str, float]], *, threshold: float, title: str = "Sequential test"
) -> str:
    """Per night (label, log e-value) on a log axis, and the breach threshold 1/alpha."""
    width, height, left, right, top, bottom = 720, 220, 52, 20, 30, 40
    values = [math.exp(v) for _, v in points]
    low = min([*values, 0.5])
    high = max([*values, threshold * 2])
    lo_l, hi_l = math.log10(low), math.log10(high)
    n = max(len(points), 1)

    def x(i: int) -> float:
        return left + (i + 0.5) * (width - left - right) / n

    def y(v: float) -> float:
        return top + (1 - (math.log10(v) - lo_l) / (hi_l - lo_l)) * (height - top - bottom)

    body = [f'<text x="{left}" y="16" fill="{INK}" font-weight="600">{_e(title)}</text>']
    for t in _log_ticks(low, high):
        body.append(
            f'<line x1="{left}" y1="{y(t):.1f}" x2="{width - right}" y2="{y(t):.1f}" stroke="{GRID}"/>'
        )
        body.append(f'<text x="{left - 6}" y="{y(t) + 4:.1f}" fill="{GREY}" text-anchor="end">{t:g}</text>')
    body.append(
        f'<line x1="{left}" y1="{y(threshold):.1f}" x2="{width - right}" y2="{y(threshold):.1f}" stroke="{RED}" '
        f'stroke-width="2" stroke-dasharray="5 4"/><text x="{width - right}" y="{y(threshold) - 5:.1f}" fill="{RED}" '
        f'text-anchor="end">breach at e-value {threshold:g} (1/alpha)</text>'
    )
    pts = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values)]
    if len(pts) > 1:
        body.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    every = max(1, math.ceil(n / 12))
    for i, ((label, _), v) in enumerate(zip(points, values, strict=True)):
        colour = RED if v >= threshold else BLUE
        body.append(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="4" fill="{colour}"><title>{_e(label)}: e-value {v:.3g}</title></circle>'
        )
        if i % every == 0:
            body.append(
                f'<text x="{x(i):.1f}" y="{height - 20}" fill="{GREY}" text-anchor="middle">{_e(label)}</text>'
            )
    desc = "; ".join(f"{label} e-value {v:.3g}" for (label, _), v in zip(points, values, strict=True))
    return _svg(width, height, title, desc or "no data", body)


def _ladder_floor(v: float) -> float:
    """The largest number of the 1-2-5 ladder at or below v (> 0)."""
    e = math.floor(math.log10(v))
    for m in (5, 2, 1):
        if m * 10.0**e <= v * 1.0001:
            return m * 10.0**e
    return 10.0 ** (e - 1) * 5  # pragma: no cover  (v just below a power of ten, rounding)


def _bins(values: Sequence[float]) -> list[float]:
    """Edges on the 1-2-5 logarithmic ladder covering the values (seconds; 0 goes in the first bin)."""
    positive = [v for v in values if v > 0] or [1.0]
    low, high = max(min(positive), 0.1), max(positive)
    edges = [_ladder_floor(low)]
    while edges[-1] <= high:
        mantissa = round(edges[-1] / 10.0 ** math.floor(math.log10(edges[-1]) + 1e-9))
        edges.append(edges[-1] * (2.5 if mantissa == 2 else 2))
    return edges


def histogram(
    values: Sequence[float],
    *,
    limit: float | None = None,
    missed: int = 0,
    title: str = "Distribution",
    unit: str = "s",
    width: int = 720,
) -> str:
    """Counts of `values` in logarithmic bins, the limit as a dashed line, and `missed` as a separate bar."""
    height, left, right, top, bottom = 240, 46, 20, 34, 46
    edges = _bins(list(values) + ([limit] if limit else []))
    counts = [0] * (len(edges) - 1)
    for v in values:  # a channel's escalations, not the population
        for k in range(len(counts)):
            if v < edges[k + 1] or k == len(counts) - 1:
                counts[k] += 1
                break
    bars = len(counts) + (1 if missed else 0)
    span_x = width - left - right
    bar_w = span_x / max(bars, 1)
    peak = max([*counts, missed, 1])
    span_y = height - top - bottom

    def y(c: float) -> float:
        return top + (1 - c / peak) * span_y

    body = [f'<text x="{left}" y="16" fill="{INK}" font-weight="600">{_e(title)}</text>']
    body.append(
        f'<line x1="{left}" y1="{top + span_y}" x2="{width - right}" y2="{top + span_y}" stroke="{GREY}"/>'
    )
    for k, c in enumerate(counts):
        x0 = left + k * bar_w
        over = limit is not None and edges[k] >= limit
        colour = RED if over else BLUE
        body.append(
            f'<rect x="{x0 + 1:.1f}" y="{y(c):.1f}" width="{bar_w - 2:.1f}" height="{top + span_y - y(c):.1f}" '
            f'fill="{colour}" fill-opacity="0.8"><title>{edges[k]:g}-{edges[k + 1]:g} {unit}: {c}</title></rect>'
        )
        if c:
            body.append(
                f'<text x="{x0 + bar_w / 2:.1f}" y="{y(c) - 4:.1f}" fill="{INK}" text-anchor="middle">{c}</text>'
            )
        body.append(
            f'<text x="{x0:.1f}" y="{height - 30}" fill="{GREY}" text-anchor="middle">{edges[k]:g}</text>'
        )
    body.append(
        f'<text x="{left + len(counts) * bar_w:.1f}" y="{height - 30}" fill="{GREY}" text-anchor="middle">{edges[-1]:g}</text>'
    )
    if missed:
        x0 = left + len(counts) * bar_w
        body.append(
            f'<rect x="{x0 + 4:.1f}" y="{y(missed):.1f}" width="{bar_w - 5:.1f}" height="{top + span_y - y(missed):.1f}" '
            f'fill="{RED}" fill-opacity="0.45" stroke="{RED}"><title>never handed off: {missed}</title></rect>'
            f'<text x="{x0 + bar_w / 2:.1f}" y="{y(missed) - 4:.1f}" fill="{RED}" text-anchor="middle">{missed}</text>'
            f'<text x="{x0 + bar_w / 2 + 2:.1f}" y="{height - 30}" fill="{RED}" text-anchor="middle">never</text>'
        )
    if limit is not None:
        # the limit's position on the log axis, within its bin
        for k in range(len(counts)):
            if edges[k] <= limit < edges[k + 1]:
                frac = (math.log(limit) - math.log(edges[k])) / (math.log(edges[k + 1]) - math.log(edges[k]))
                lx = left + (k + frac) * bar_w
                near_end = lx > width - right - 110
                body.append(
                    f'<line x1="{lx:.1f}" y1="{top - 8}" x2="{lx:.1f}" y2="{top + span_y}" stroke="{ORANGE}" '
                    f'stroke-width="2" stroke-dasharray="5 4"/><text x="{lx - 4 if near_end else lx + 4:.1f}" '
                    f'y="{top - 10}" fill="{ORANGE}" text-anchor="{"end" if near_end else "start"}">'
                    f"limit {limit:g} {_e(unit)}</text>"
                )
                break
    body.append(
        f'<text x="{left + span_x / 2:.1f}" y="{height - 8}" fill="{GREY}" text-anchor="middle">{_e(unit)} (logarithmic bins)</text>'
    )
    desc = (
        f"{len(values)} values; "
        + ", ".join(f"{edges[k]:g}-{edges[k + 1]:g}: {c}" for k, c in enumerate(counts) if c)
        + (f"; never: {missed}" if missed else "")
    )
    return _svg(width, height, title, desc, body)


def bar_chart(rows: Sequence[tuple[str, float, str]], *, title: str = "Rates") -> str:
    """Rows of (label, rate in 0..1, text shown at the bar's end) as horizontal bars."""
    left, right, row_h, top = 190, 150, 22, 26
    width = 720
    height = top + row_h * max(len(rows), 1) + 10
    peak = max([r[1] for r in rows] + [0.01])
    span = width - left - right
    body = [f'<text x="{left}" y="16" fill="{INK}" font-weight="600">{_e(title)}</text>']
    for i, (label, rate, text) in enumerate(rows):
        y = top + i * row_h
        w = rate / peak * span
        body.append(
            f'<text x="{left - 8}" y="{y + 15}" fill="{INK}" text-anchor="end">{_e(label)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 6}" fill="{BLUE}" fill-opacity="0.8">'
            f"<title>{_e(label)}: {_e(text)}</title></rect>"
            f'<text x="{left + w + 6:.1f}" y="{y + 15}" fill="{GREY}">{_e(text)}</text>'
        )
    return _svg(width, height, title, "; ".join(f"{r[0]}: {r[2]}" for r in rows) or "no data", body)


def lines_chart(series: dict[str, list[tuple[str, float]]], *, title: str = "Daily rates") -> str:
    """Several series of (day label, rate) on a shared 0..max axis, with a legend."""
    width, left, right, top, bottom = 720, 52, 170, 30, 40
    height = max(220, top + bottom + 18 * len(series))
    days = sorted({d for pts in series.values() for d, _ in pts})
    peak = max([v for pts in series.values() for _, v in pts] + [0.01])
    peak = math.ceil(peak * 20) / 20
    n = max(len(days), 1)
    index = {d: i for i, d in enumerate(days)}

    def x(i: int) -> float:
        return left + (i + 0.5) * (width - left - right) / n

    def y(v: float) -> float:
        return top + (1 - v / peak) * (height - top - bottom)

    body = [f'<text x="{left}" y="16" fill="{INK}" font-weight="600">{_e(title)}</text>']
    for k in range(6):
        v = peak * k / 5
        body.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - right}" y2="{y(v):.1f}" stroke="{GRID}"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" fill="{GREY}" text-anchor="end">{v * 100:.0f}%</text>'
        )
    every = max(1, math.ceil(n / 10))
    for d, i in index.items():
        if i % every == 0:
            body.append(
                f'<text x="{x(i):.1f}" y="{height - 20}" fill="{GREY}" text-anchor="middle">{_e(d[5:])}</text>'
            )
    for s, (name, pts) in enumerate(sorted(series.items())):
        colour = PALETTE[s % len(PALETTE)]
        coords = [f"{x(index[d]):.1f},{y(v):.1f}" for d, v in pts]
        if len(coords) > 1:
            body.append(
                f'<polyline points="{" ".join(coords)}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for d, v in pts:
            body.append(
                f'<circle cx="{x(index[d]):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"><title>{_e(name)} {_e(d)}: {v * 100:.1f}%</title></circle>'
            )
        ly = top + 4 + s * 18
        body.append(
            f'<line x1="{width - right + 12}" y1="{ly}" x2="{width - right + 30}" y2="{ly}" stroke="{colour}" stroke-width="3"/>'
            f'<text x="{width - right + 36}" y="{ly + 4}" fill="{INK}">{_e(name)}</text>'
        )
    desc = "; ".join(
        f"{name}: " + ", ".join(f"{d} {v * 100:.1f}%" for d, v in pts) for name, pts in sorted(series.items())
    )
    return _svg(width, height, title, desc or "no data", body)
