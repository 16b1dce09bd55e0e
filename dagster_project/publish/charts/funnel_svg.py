"""Inline SVG funnel plot of providers' adjusted health gain against modelled records.

Drawn by hand rather than with a plotting library so the markup is byte-identical
between runs (fixed element ids, coordinates rounded to 2 dp, points in a fixed
order, no timestamps) and carries its own text alternative (`<title>`, `<desc>`)
saying where the highlighted provider lies, for readers who cannot see the chart.
Line style and marker shape, not only colour, tell the series apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from markupsafe import Markup, escape

from dagster_project.publish.figures import format_number

# Funnel-plot multipliers used by NHS Digital for PROMs outlier status.
Z_95 = 1.959964
Z_998 = 3.090232

WIDTH, HEIGHT = 680, 480
LEFT, RIGHT, TOP, BOTTOM = 76, 24, 16, 110  # margins around the plotting area
PLOT_X0, PLOT_X1 = LEFT, WIDTH - RIGHT
PLOT_Y0, PLOT_Y1 = TOP, HEIGHT - BOTTOM  # y0 is the top edge
CURVE_SAMPLES = 80

BLUE = "#005EB8"
GREY = "#768692"
DARK = "#212B32"
LIMIT_95 = "#425563"
HIGHLIGHT = "#AE2573"


def control_limits(centre: float, sd: float, records: int, z: float) -> tuple[float, float]:
    """Lower and upper funnel limit at `records`: centre +- z * sd / sqrt(n)."""
    half = z * sd / math.sqrt(records)
    return centre - half, centre + half


def _c(value: float) -> str:
    """Coordinate with exactly 2 decimals, never "-0.00", so output is stable."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


@dataclass(frozen=True)
class FunnelPoint:
    code: str
    records: int
    value: float


@dataclass(frozen=True)
class Highlight:
    """The provider whose page the plot is on; `status` is its outlier status in words,
    or the reason it has no plotted value."""

    code: str
    name: str
    status: str


@dataclass(frozen=True)
class _Axis:
    lo: float
    hi: float
    step: float
    px_lo: float  # pixel position of `lo`
    px_hi: float

    def __call__(self, value: float) -> float:
        return self.px_lo + (value - self.lo) / (self.hi - self.lo) * (self.px_hi - self.px_lo)

    def ticks(self) -> list[float]:
        count = round((self.hi - self.lo) / self.step)
        return [self.lo + i * self.step for i in range(count + 1)]

    @property
    def decimals(self) -> int:
        return max(0, -math.floor(math.log10(self.step) + 1e-9))


def padded_floor(lo: float, pad: float) -> float:
    """The axis's lower end: `lo - pad`, but never below zero when nothing plotted is,
    so a percentage, rate or count (which cannot be negative) never gets a negative
    tick; a measure with negative values (a health gain can fall) keeps its padding."""
    return lo - pad if lo < 0 else max(0.0, lo - pad)


def _nice_axis(lo: float, hi: float, px_lo: float, px_hi: float, target: int = 5) -> _Axis:
    """Round the range out to a 1-2-5 step so tick labels are short and readable."""
    if hi <= lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = padded_floor(lo, pad), hi + pad
    raw = (hi - lo) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude * (1 + 1e-9))
    start = math.floor(lo / step + 1e-9) * step
    stop = math.ceil(hi / step - 1e-9) * step
    return _Axis(start, stop, step, px_lo, px_hi)


@dataclass(frozen=True)
class FunnelPlot:
    """All providers for one year, procedure group and measure.

    `slug` must be unique within a page: it prefixes the element ids that
    `aria-labelledby` points at. Build with `FunnelPlot.build` so points are sorted.
    """

    slug: str
    subject: str  # e.g. "primary hip replacement, 2017-18" (used mid-sentence)
    measure: str
    points: tuple[FunnelPoint, ...]
    centre: float
    sd: float | None
    decimals: int
    # What the centre line is, in the legend: England's figure unless it is not.
    centre_label: str = "England"

    @classmethod
    def build(
        cls,
        *,
        slug: str,
        subject: str,
        measure: str,
        points: Iterable[FunnelPoint],
        centre: float,
        sd: float | None,
        decimals: int,
    ) -> FunnelPlot:
        ordered = tuple(sorted(points, key=lambda p: (p.records, p.value, p.code)))
        usable_sd = sd if sd is not None and sd > 0 else None
        return cls(slug, subject, measure, ordered, centre, usable_sd, decimals)

    # -- labels a subclass for another kind of indicator changes ---------------------------

    @property
    def x_label(self) -> str:
        return "Modelled records"

    @property
    def y_label(self) -> str:
        return f"Adjusted health gain ({self.measure})"

    @property
    def has_limits(self) -> bool:
        return self.sd is not None

    @property
    def has_998(self) -> bool:
        return self.has_limits

    # -- geometry ------------------------------------------------------------------------

    @cached_property
    def _min_records(self) -> int:
        return max(1, min((p.records for p in self.points), default=30))

    @cached_property
    def _x(self) -> _Axis:
        top = max((p.records for p in self.points), default=100)
        return _nice_axis(0, top * 1.05, PLOT_X0, PLOT_X1)

    @cached_property
    def _y(self) -> _Axis:
        values = [p.value for p in self.points] + [self.centre]
        if self.sd is not None:
            values += control_limits(self.centre, self.sd, self._min_records, Z_998)
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.05
        return _nice_axis(padded_floor(lo, pad), hi + pad, PLOT_Y1, PLOT_Y0, target=6)

    def _limit_path(self, z: float, side: int) -> str:
        """Limit curve from the smallest plotted provider to the right edge (log spaced)."""
        n0, n1 = self._min_records, max(self._x.hi, self._min_records + 1)
        parts = []
        for i in range(CURVE_SAMPLES + 1):
            n = n0 * (n1 / n0) ** (i / CURVE_SAMPLES)
            value = self.centre + side * z * self.sd / math.sqrt(n)
            parts.append(f"{'M' if i == 0 else 'L'}{_c(self._x(n))} {_c(self._y(value))}")
        return " ".join(parts)

    @cached_property
    def _background(self) -> str:
        """Everything except the highlighted provider: shared by every page of the year."""
        x, y = self._x, self._y
        out = ['<g class="funnel-axes" font-size="12" fill="' + DARK + '">']
        for tick in y.ticks():
            py = _c(y(tick))
            out.append(
                f'<line x1="{_c(PLOT_X0)}" y1="{py}" x2="{_c(PLOT_X1)}" y2="{py}" '
                'stroke="#D8DDE0" stroke-width="1"/>'
                f'<text x="{_c(PLOT_X0 - 6)}" y="{py}" text-anchor="end" '
                f'dominant-baseline="middle">{format_number(tick, y.decimals)}</text>'
            )
        for tick in x.ticks():
            px = _c(x(tick))
            out.append(
                f'<line x1="{px}" y1="{_c(PLOT_Y1)}" x2="{px}" y2="{_c(PLOT_Y1 + 5)}" '
                f'stroke="{DARK}" stroke-width="1"/>'
                f'<text x="{px}" y="{_c(PLOT_Y1 + 18)}" text-anchor="middle">'
                f"{format_number(tick, x.decimals)}</text>"
            )
        out.append(
            f'<path d="M{_c(PLOT_X0)} {_c(PLOT_Y0)} L{_c(PLOT_X0)} {_c(PLOT_Y1)} '
            f'L{_c(PLOT_X1)} {_c(PLOT_Y1)}" fill="none" stroke="{DARK}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{_c((PLOT_X0 + PLOT_X1) / 2)}" y="{_c(PLOT_Y1 + 40)}" '
            'text-anchor="middle" font-size="13">'
            f"{escape(self.x_label)}</text>"
        )
        mid_y = _c((PLOT_Y0 + PLOT_Y1) / 2)
        out.append(
            f'<text x="16.00" y="{mid_y}" transform="rotate(-90 16.00 {mid_y})" '
            f'text-anchor="middle" font-size="13">{escape(self.y_label)}</text>'
        )
        out.append("</g>")
        if self.has_limits:
            for z, colour, dash in ((Z_95, LIMIT_95, "6 4"), (Z_998, DARK, "2 3")):
                if z == Z_998 and not self.has_998:
                    continue
                for side in (-1, 1):
                    out.append(
                        f'<path d="{self._limit_path(z, side)}" fill="none" stroke="{colour}" '
                        f'stroke-width="1.5" stroke-dasharray="{dash}"/>'
                    )
        cy = _c(y(self.centre))
        out.append(
            f'<line x1="{_c(PLOT_X0)}" y1="{cy}" x2="{_c(PLOT_X1)}" y2="{cy}" '
            f'stroke="{BLUE}" stroke-width="2"/>'
        )
        out.append(f'<g class="funnel-points" fill="{GREY}" stroke="#FFFFFF" stroke-width="0.5">')
        out.extend(
            f'<circle cx="{_c(x(p.records))}" cy="{_c(y(p.value))}" r="3.5"/>' for p in self.points
        )
        out.append("</g>")
        out.append(self._legend())
        return "".join(out)

    def _legend(self) -> str:
        row = _c(PLOT_Y1 + 68)
        text_y = _c(PLOT_Y1 + 72)
        items = [
            f'<circle cx="{_c(LEFT + 6)}" cy="{row}" r="3.5" fill="{GREY}"/>'
            f'<text x="{_c(LEFT + 16)}" y="{text_y}">Other providers</text>'
        ]
        # Each key starts where it always has, or further right after a longer label than
        # "England (centre line)" (about 6.6 pixels a character at 12 pixels).
        x0 = LEFT + 140.0
        for start, colour, dash, label in (
            (LEFT + 140, BLUE, "", f"{self.centre_label} (centre line)"),
            (LEFT + 330, LIMIT_95, "6 4", "95% limits"),
            (LEFT + 450, DARK, "2 3", "99.8% limits"),
        ):
            if dash and not (self.has_998 if dash == "2 3" else self.has_limits):
                continue
            x0 = max(float(start), x0)
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            items.append(
                f'<line x1="{_c(x0)}" y1="{row}" x2="{_c(x0 + 28)}" y2="{row}" '
                f'stroke="{colour}" stroke-width="2"{dash_attr}/>'
                f'<text x="{_c(x0 + 34)}" y="{text_y}">{label}</text>'
            )
            x0 += 34 + len(label) * 6.6 + 16
        return f'<g class="funnel-legend" font-size="12" fill="{DARK}">{"".join(items)}</g>'

    # -- the highlighted provider and the text alternative ------------------------------

    def point(self, code: str) -> FunnelPoint | None:
        return next((p for p in self.points if p.code == code), None)

    def _number(self, value: float) -> str:
        return format_number(value, self.decimals)

    def position(self, point: FunnelPoint) -> str:
        """Where a point lies relative to the control limits, in words.

        Limits get one more decimal than the table shows, as does the value in
        `description`, so that rounding never seems to put the provider on the line.
        """
        if self.sd is None:
            relation = "above" if point.value > self.centre else "at or below"
            return f"{relation} England's value (control limits not available)"
        lo95, hi95 = control_limits(self.centre, self.sd, point.records, Z_95)
        lo998, hi998 = control_limits(self.centre, self.sd, point.records, Z_998)

        def f(value: float) -> str:
            return format_number(value, self.decimals + 1)

        if point.value < lo998:
            return f"below the lower 99.8% limit of {f(lo998)}"
        if point.value < lo95:
            return f"below the lower 95% limit of {f(lo95)} but not the 99.8% limit of {f(lo998)}"
        if point.value <= hi95:
            return f"within the 95% limits of {f(lo95)} to {f(hi95)}"
        if point.value <= hi998:
            return f"above the upper 95% limit of {f(hi95)} but not the 99.8% limit of {f(hi998)}"
        return f"above the upper 99.8% limit of {f(hi998)}"

    def title(self, highlight: Highlight) -> str:
        return f"Funnel plot: {self.measure}, {self.subject}, {highlight.name} highlighted"

    def description(self, highlight: Highlight) -> str:
        count = len(self.points)
        text = [
            f"Adjusted health gain in the {self.measure} (vertical axis) against modelled "
            f"records (horizontal axis) for {count:,} provider{'s' if count != 1 else ''}, "
            f"{self.subject}. The solid centre line is England's adjusted health gain, "
            f"{self._number(self.centre)}"
        ]
        if self.sd is not None:
            text.append("; dashed curves are the 95% limits and dotted curves the 99.8% limits.")
        else:
            text.append("; control limits are not shown as England's spread is not published.")
        point = self.point(highlight.code)
        if point is None:
            text.append(f" {highlight.name} is not plotted: {highlight.status}.")
        else:
            text.append(
                f" {highlight.name} ({highlight.code}), the diamond, has {point.records:,} "
                f"modelled records and an adjusted health gain of "
                f"{format_number(point.value, self.decimals + 1)}, "
                f"{self.position(point)}. Outlier status: {highlight.status}."
            )
        return "".join(text)

    def _marker(self, highlight: Highlight) -> str:
        point = self.point(highlight.code)
        if point is None:
            return ""
        px, py = self._x(point.records), self._y(point.value)
        size = 8
        diamond = " ".join(
            f"{_c(dx)},{_c(dy)}"
            for dx, dy in ((px, py - size), (px + size, py), (px, py + size), (px - size, py))
        )
        right_half = px > (PLOT_X0 + PLOT_X1) / 2
        label_x = px - 12 if right_half else px + 12
        label_y = py - 10 if py - 10 > PLOT_Y0 + 12 else py + 20
        return (
            f'<g class="funnel-highlight"><polygon points="{diamond}" fill="{HIGHLIGHT}" '
            f'stroke="{DARK}" stroke-width="1.5"/>'
            f'<text x="{_c(label_x)}" y="{_c(label_y)}" '
            f'text-anchor="{"end" if right_half else "start"}" font-size="13" '
            f'font-weight="bold" fill="{DARK}" stroke="#FFFFFF" stroke-width="3" '
            f'paint-order="stroke">{escape(highlight.code)}</text></g>'
        )

    def _highlight_legend(self, highlight: Highlight) -> str:
        row = PLOT_Y1 + 92
        x = LEFT + 6
        if self.point(highlight.code) is None:
            label = f"{highlight.name} ({highlight.code}): not plotted"
            marker = ""
        else:
            label = f"{highlight.name} ({highlight.code})"
            corners = ((x, row - 6), (x + 6, row), (x, row + 6), (x - 6, row))
            points = " ".join(f"{_c(a)},{_c(b)}" for a, b in corners)
            marker = (
                f'<polygon points="{points}" fill="{HIGHLIGHT}" stroke="{DARK}" stroke-width="1"/>'
            )
        return (
            f'<g class="funnel-legend" font-size="12" fill="{DARK}">{marker}'
            f'<text x="{_c(LEFT + 16)}" y="{_c(row + 4)}" font-weight="bold">{escape(label)}</text>'
            "</g>"
        )

    def svg(self, highlight: Highlight) -> Markup:
        """The complete `<svg>` element, safe to place in an HTML page unescaped."""
        title_id, desc_id = f"funnel-{self.slug}-title", f"funnel-{self.slug}-desc"
        return Markup(
            f'<svg xmlns="http://www.w3.org/2000/svg" class="funnel" role="img" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
            f'aria-labelledby="{title_id}" aria-describedby="{desc_id}" '
            'font-family="Frutiger, Arial, Helvetica, sans-serif">'
            f'<title id="{title_id}">{escape(self.title(highlight))}</title>'
            f'<desc id="{desc_id}">{escape(self.description(highlight))}</desc>'
            f"{self._background}{self._marker(highlight)}{self._highlight_legend(highlight)}"
            "</svg>"
        )
