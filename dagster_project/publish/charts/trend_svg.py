"""Inline SVG line chart of one indicator over the years, the provider beside England.

Hand-drawn for the same reasons as the funnel plot: byte-identical markup,
fixed ids, and a `<title>` and `<desc>` that give every plotted value in words.
The provider's line is solid with circles, England's dashed with squares, so the
two are told apart without colour.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from dagster_project.publish.charts.funnel_svg import (
    BLUE,
    DARK,
    GREY,
    _c,
    _nice_axis,
    format_number,
    padded_floor,
)

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 24, 16, 80
X0, X1, Y0, Y1 = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM


@dataclass(frozen=True)
class TrendPoint:
    year: str
    value: float | None
    national: float | None


@dataclass(frozen=True)
class TrendChart:
    slug: str
    name: str  # indicator name with its unit, used mid-sentence
    provider_name: str
    points: tuple[TrendPoint, ...]  # in year order
    decimals: int
    # What the second line is: England's figure, or (where the file carries none) the
    # providers in this publication, or the objective a count is judged against.
    national_label: str = "England"

    def _values(self) -> list[float]:
        return [v for p in self.points for v in (p.value, p.national) if v is not None]

    def title(self) -> str:
        first, last = self.points[0].year, self.points[-1].year
        return (
            f"Trend: {self.name}, {self.provider_name} and {self.national_label}, {first} to {last}"
        )

    def description(self) -> str:
        def f(value: float | None) -> str:
            return "not available" if value is None else format_number(value, self.decimals)

        parts = [
            f"{p.year}: {self.provider_name} {f(p.value)}, {self.national_label} {f(p.national)}"
            for p in self.points
        ]
        return (
            f"{self.name} by financial year; the solid line with circles is "
            f"{self.provider_name}, the dashed line with squares {self.national_label}. "
            + "; ".join(parts)
            + "."
        )

    def _line(self, values: list[float | None], xs: list[float], y, dash: str, colour: str) -> str:
        out, pen = [], "M"
        for x, value in zip(xs, values, strict=True):
            if value is None:
                pen = "M"
                continue
            out.append(f"{pen}{_c(x)} {_c(y(value))}")
            pen = "L"
        if not out:
            return ""
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        return (
            f'<path d="{" ".join(out)}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>'
        )

    def svg(self) -> Markup:
        values = self._values()
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.1 or abs(hi) * 0.1 or 1.0
        y = _nice_axis(padded_floor(lo, pad), hi + pad, Y1, Y0, target=5)
        count = len(self.points)
        step = (X1 - X0) / max(count, 1)
        xs = [X0 + step * (i + 0.5) for i in range(count)]
        out = [f'<g font-size="12" fill="{DARK}">']
        for tick in y.ticks():
            py = _c(y(tick))
            out.append(
                f'<line x1="{_c(X0)}" y1="{py}" x2="{_c(X1)}" y2="{py}" stroke="#D8DDE0"/>'
                f'<text x="{_c(X0 - 6)}" y="{py}" text-anchor="end" dominant-baseline="middle">'
                f"{format_number(tick, y.decimals)}</text>"
            )
        for x, point in zip(xs, self.points, strict=True):
            out.append(
                f'<text x="{_c(x)}" y="{_c(Y1 + 18)}" text-anchor="middle">{point.year}</text>'
            )
        out.append(
            f'<path d="M{_c(X0)} {_c(Y0)} L{_c(X0)} {_c(Y1)} L{_c(X1)} {_c(Y1)}" fill="none" '
            f'stroke="{DARK}"/></g>'
        )
        out.append(self._line([p.national for p in self.points], xs, y, "6 4", GREY))
        out.append(self._line([p.value for p in self.points], xs, y, "", BLUE))
        for x, point in zip(xs, self.points, strict=True):
            if point.national is not None:
                py = y(point.national)
                out.append(
                    f'<rect x="{_c(x - 4)}" y="{_c(py - 4)}" width="8.00" height="8.00" '
                    f'fill="{GREY}"/>'
                )
            if point.value is not None:
                out.append(
                    f'<circle cx="{_c(x)}" cy="{_c(y(point.value))}" r="4.5" fill="{BLUE}"/>'
                )
        legend_y = Y1 + 50
        out.append(
            f'<g font-size="12" fill="{DARK}">'
            f'<line x1="{_c(X0)}" y1="{_c(legend_y)}" x2="{_c(X0 + 28)}" y2="{_c(legend_y)}" '
            f'stroke="{BLUE}" stroke-width="2"/>'
            f'<circle cx="{_c(X0 + 14)}" cy="{_c(legend_y)}" r="4.5" fill="{BLUE}"/>'
            f'<text x="{_c(X0 + 36)}" y="{_c(legend_y + 4)}">{escape(self.provider_name)}</text>'
            f'<line x1="{_c(X0 + 260)}" y1="{_c(legend_y)}" x2="{_c(X0 + 288)}" '
            f'y2="{_c(legend_y)}" stroke="{GREY}" stroke-width="2" stroke-dasharray="6 4"/>'
            f'<rect x="{_c(X0 + 270)}" y="{_c(legend_y - 4)}" width="8.00" height="8.00" '
            f'fill="{GREY}"/>'
            f'<text x="{_c(X0 + 296)}" y="{_c(legend_y + 4)}">'
            f"{escape(self.national_label)}</text></g>"
        )
        title_id, desc_id = f"trend-{self.slug}-title", f"trend-{self.slug}-desc"
        return Markup(
            f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" role="img" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
            f'aria-labelledby="{title_id}" aria-describedby="{desc_id}" '
            'font-family="Frutiger, Arial, Helvetica, sans-serif">'
            f'<title id="{title_id}">{escape(self.title())}</title>'
            f'<desc id="{desc_id}">{escape(self.description())}</desc>{"".join(out)}</svg>'
        )
