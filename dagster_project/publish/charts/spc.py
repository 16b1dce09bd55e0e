"""A statistical process control (XmR) chart as NHS boards read them (Making Data Count): the
monthly values joined in order, the mean, the process limits and any target, each point
marked by its variation.

The figures are the published `spc_points`; this module only draws them. A point is told
apart by its marker as well as its colour (a circle for common cause, a diamond for special
cause improving, a square for concerning), and the lines by their dash.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
from markupsafe import Markup

from dagster_project.publish.charts import render
from dagster_project.publish.charts.funnel import value_range
from dagster_project.publish.figures import format_number

PLOT_HEIGHT_PX = 220
CONCERN = "#ED8B00"  # NHS orange, as Making Data Count marks concern
VARIATION_WORDS = {
    "common cause": "Common cause",
    "improvement": "Special cause: improving",
    "concern": "Special cause: concerning",
}
_MARKERS = {"common cause": "circle", "improvement": "diamond", "concern": "square"}
_COLOURS = {"common cause": render.GREY, "improvement": render.BLUE, "concern": CONCERN}


@dataclass(frozen=True)
class SpcPoint:
    month: str  # ISO date of the month's first day
    value: float
    variation: str  # common cause, improvement or concern


@dataclass(frozen=True)
class SpcChart:
    slug: str
    name: str  # the series, mid-sentence
    unit: str
    provider_name: str
    points: tuple[SpcPoint, ...]  # in month order
    mean: float
    lower_limit: float | None
    upper_limit: float | None
    target: float | None
    decimals: int

    def _f(self, value: float) -> str:
        return format_number(value, self.decimals + 1)

    def title(self) -> str:
        first, last = month_name(self.points[0].month), month_name(self.points[-1].month)
        return f"SPC chart: {self.name}, {self.provider_name}, {first} to {last}"

    def description(self) -> str:
        special = [p for p in self.points if p.variation != "common cause"]
        limits = (
            f"process limits {self._f(self.lower_limit)} and {self._f(self.upper_limit)}"
            if self.lower_limit is not None and self.upper_limit is not None
            else "no process limits (too few months)"
        )
        target = "" if self.target is None else f", target {self._f(self.target)}"
        text = (
            f"{self.name} ({self.unit}) each month, {len(self.points)} months: mean "
            f"{self._f(self.mean)}, {limits}{target}. "
        )
        if special:
            text += "Special cause: " + "; ".join(
                f"{month_name(p.month)} {format_number(p.value, self.decimals)} "
                f"({'improving' if p.variation == 'improvement' else 'concerning'})"
                for p in special
            )
        else:
            text += "Every month is common cause variation"
        latest = self.points[-1]
        return (
            text + f". Latest, {month_name(latest.month)}: "
            f"{format_number(latest.value, self.decimals)}."
        )

    def caption(self) -> str:
        """What is drawn, naming only the markers and lines this chart has."""
        kinds = [VARIATION_WORDS[k].lower() for k in VARIATION_WORDS
                 if any(p.variation == k for p in self.points)]  # fmt: skip
        markers = {"common cause": "circles", "special cause: improving": "diamonds",
                   "special cause: concerning": "squares"}  # fmt: skip
        parts = [f"{markers[k]} mark {k}" for k in kinds]
        parts[0] = parts[0][:1].upper() + parts[0][1:]
        drawn = "the solid line is the mean"
        if self.upper_limit is not None:
            lower_drawn = self.lower_limit is not None and (
                self.lower_limit >= 0 or min(p.value for p in self.points) < 0
            )
            drawn += (
                "; the dashed lines are the process limits"
                if lower_drawn
                else "; the dashed line is the upper process limit (the lower is below zero)"
            )
        if self.target is not None:
            drawn += "; the dotted line is the target"
        return f"{self.title()}. {'; '.join(parts)}; {drawn}."

    def chart(self) -> alt.LayerChart:
        kinds = [k for k in VARIATION_WORDS if any(p.variation == k for p in self.points)]
        lines = [("Mean", self.mean, [1, 0], render.DARK)]
        if self.lower_limit is not None and self.upper_limit is not None:
            # A lower limit below zero for a measure that cannot be negative is not drawn.
            if self.lower_limit >= 0 or min(p.value for p in self.points) < 0:
                lines.append(("Process limits", self.lower_limit, [6, 4], render.MID))
            lines.append(("Process limits", self.upper_limit, [6, 4], render.MID))
        if self.target is not None:
            lines.append(("Target", self.target, [2, 3], render.HIGHLIGHT))
        values = [p.value for p in self.points] + [level for _, level, _, _ in lines]
        lo, hi = value_range(values)
        y_scale = alt.Scale(domain=[lo, hi], nice=True, zero=False)
        axis = alt.Axis(format=f",.{self.decimals}f", tickMinStep=10**-self.decimals)
        y = alt.Y("value:Q", title=None, scale=y_scale, axis=axis)
        quarterly = alt.TimeIntervalStep(interval="month", step=3)
        x = alt.X("month:T", title="Month",
                  axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount=quarterly))  # fmt: skip
        rows = [{"month": p.month, "value": p.value, "series": VARIATION_WORDS[p.variation]}
                for p in self.points]  # fmt: skip
        names = [VARIATION_WORDS[k] for k in kinds]
        line_names = list(dict.fromkeys(name for name, _, _, _ in lines))
        every = names + line_names
        dashes = {name: dash for name, _, dash, _ in lines}
        colours = {VARIATION_WORDS[k]: _COLOURS[k] for k in kinds}
        colours |= {name: colour for name, _, _, colour in lines}
        enc = render.series_encodings(
            every,
            [colours[n] for n in every],
            [_MARKERS[k] for k in kinds] + ["stroke"] * len(line_names),
            [[1, 0]] * len(names) + [dashes[n] for n in line_names],
        )
        path = (
            alt.Chart(alt.Data(values=rows))
            .mark_line(color=render.GREY, strokeWidth=1.5)
            .encode(x=x, y=y)
        )
        markers = (
            alt.Chart(alt.Data(values=rows))
            .mark_point(filled=True, size=60, opacity=1)
            .encode(x=x, y=y, **enc)
        )
        levels = (
            alt.Chart(alt.Data(values=[{"value": v, "series": n} for n, v, _, _ in lines]))
            .mark_rule(strokeWidth=1.5)
            .encode(y=y, **enc)
        )
        return render.layered(
            levels,
            path,
            markers,
            heading=f"{self.name} ({self.unit})",
            height=PLOT_HEIGHT_PX,
        )

    def svg(self) -> Markup:
        return render.to_svg(
            self.chart,
            element_id=f"spc-{self.slug}",
            css_class="spc",
            title=self.title(),
            description=self.description(),
        )


def month_name(iso: str) -> str:
    """`2024-03-01` as `March 2024`."""
    names = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip
    return f"{names[int(iso[5:7]) - 1]} {iso[:4]}"
