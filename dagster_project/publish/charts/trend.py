"""An indicator over every year the warehouse holds, the provider beside its comparator.

The provider's line is solid with circles, the comparator's dashed with squares, so the
two are told apart without colour. The vertical axis never zooms in so far that a small
change looks steep: it spans at least `LEAST_SPAN` of the unit (a tenth of the value for
units with no natural scale) and starts at zero for a measure that cannot be negative
when its values sit near zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
from markupsafe import Markup

from dagster_project.publish.charts import render
from dagster_project.publish.charts.funnel import value_range
from dagster_project.publish.figures import format_number

PLOT_HEIGHT_PX = 220
# The narrowest vertical range drawn, by unit: ten points of a percentage, a tenth of a
# ratio's value of one. Other units use a fifth of the largest value.
LEAST_SPAN = {"per cent": 10.0, "ratio": 0.2}
_LINES = ["provider", "comparator"]


@dataclass(frozen=True)
class TrendPoint:
    year: str
    value: float | None
    national: float | None


@dataclass(frozen=True)
class Trend:
    slug: str
    name: str  # the indicator, mid-sentence
    unit: str
    provider_name: str
    points: tuple[TrendPoint, ...]  # in year order
    decimals: int
    # The second line: England's figure, the providers in this publication, or the
    # objective a count is judged against.
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
            f"{self.name} ({self.unit}) by financial year; the solid line with circles is "
            f"{self.provider_name}, the dashed line with squares {self.national_label}. "
            + "; ".join(parts)
            + "."
        )

    def chart(self) -> alt.LayerChart:
        values = self._values()
        least = LEAST_SPAN.get(self.unit, max(abs(v) for v in values) * 0.2)
        lo, hi = value_range(values, least_span=least)
        # Legend entries start with a capital; the label is written for mid-sentence.
        names = [self.provider_name, self.national_label[:1].upper() + self.national_label[1:]]
        enc = render.series_encodings(
            names, [render.BLUE, render.GREY], ["circle", "square"], [[1, 0], [6, 4]]
        )
        # The legend shows the markers; the dash is the lines' alone (a dashed square in the
        # legend reads as a broken one), so it follows a copy of the series with no legend.
        enc.pop("strokeDash")
        # (Its values differ from the series' names: Vega-Lite drops every legend when a
        # legend-less scale has the same domain as one with a legend.)
        dash = alt.StrokeDash(
            "line:N", scale=alt.Scale(domain=_LINES, range=[[1, 0], [6, 4]]), legend=None
        )
        rows = [
            {"year": p.year, "level": v, "series": series, "line": line}
            for p in self.points
            for series, line, v in zip(names, _LINES, (p.value, p.national), strict=True)
            if v is not None
        ]
        years = [p.year for p in self.points]
        x = alt.X("year:O", title="Financial year", sort=years, scale=alt.Scale(domain=years),
                  axis=alt.Axis(labelAngle=0))  # fmt: skip
        axis = alt.Axis(format=f",.{self.decimals}f", tickMinStep=10**-self.decimals)
        y = alt.Y("level:Q", title=None, axis=axis,
                  scale=alt.Scale(domain=[lo, hi], nice=True, zero=False))  # fmt: skip
        lines = (
            alt.Chart(alt.Data(values=rows))
            .mark_line(strokeWidth=2)
            .encode(x=x, y=y, strokeDash=dash, **enc)
        )
        marks = (
            alt.Chart(alt.Data(values=rows))
            .mark_point(filled=True, size=70, opacity=1)
            .encode(x=x, y=y, **enc)
        )
        return render.layered(
            lines,
            marks,
            heading=f"{self.name} ({self.unit})",
            height=PLOT_HEIGHT_PX,
        )

    def svg(self) -> Markup:
        return render.to_svg(
            self.chart,
            element_id=f"trend-{self.slug}",
            css_class="trend",
            title=self.title(),
            description=self.description(),
        )
