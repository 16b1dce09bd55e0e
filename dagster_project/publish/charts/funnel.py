"""Funnel plots: every provider's value against its denominator, inside the control limits
the pipeline has already computed and published.

The limits come with each provider's row of `indicator_values` (Poisson or binomial,
overdispersion-adjusted where the method says so, PROMs from the published spread), so
the plot joins them in order of denominator rather than recomputing them and can never
disagree with the comparison printed in the tables. Only the limits the indicator's
comparison uses are drawn, and the caption and text alternative name exactly those.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import altair as alt
from markupsafe import Markup

from dagster_project.publish.charts import render
from dagster_project.publish.figures import format_number

PLOT_HEIGHT_PX = 340


@dataclass(frozen=True)
class FunnelPoint:
    code: str
    records: int
    value: float


@dataclass(frozen=True)
class LimitPoint:
    """One provider's control limits, at its denominator."""

    code: str
    records: int
    lower_95: float
    upper_95: float
    lower_998: float | None
    upper_998: float | None


@dataclass(frozen=True)
class Highlight:
    """The provider whose document the plot is in; `status` is its comparison in words, or
    the reason it has no plotted value."""

    code: str
    name: str
    status: str


def padded_floor(lo: float, pad: float) -> float:
    """The axis's lower end: `lo - pad`, but never below zero when nothing plotted is, so
    a percentage, rate or count (which cannot be negative) never gets a negative tick; a
    measure with negative values (a health gain can fall) keeps its padding."""
    return lo - pad if lo < 0 else max(0.0, lo - pad)


def value_range(values: list[float], *, least_span: float = 0.0) -> tuple[float, float]:
    """The vertical axis's range: every value with 5% to spare, at least `least_span`
    wide, from zero when the values are closer to zero than to each other, never below
    zero for a measure that cannot be negative."""
    lo, hi = min(values), max(values)
    if lo >= 0 and lo <= hi - lo:
        lo = 0.0  # values near zero are drawn from zero
    if hi - lo < least_span:
        middle = (hi + lo) / 2
        lo, hi = middle - least_span / 2, middle + least_span / 2
        if min(values) >= 0 and lo < 0:
            lo, hi = 0.0, least_span
    pad = (hi - lo) * 0.05 or abs(hi) * 0.1 or 1.0
    return padded_floor(lo, pad) if min(values) >= 0 else lo - pad, hi + pad


@dataclass(frozen=True)
class Funnel:
    """All providers for one indicator and year. Build with `Funnel.build` so points and
    limits are in a fixed order (the same bytes on every run)."""

    slug: str  # unique within a page: it names the chart's title and description
    subject: str  # e.g. the year, used mid-sentence
    name: str  # the indicator
    unit: str
    denominator_noun: str  # what the horizontal axis counts: "occupied bed days"
    points: tuple[FunnelPoint, ...]
    limits: tuple[LimitPoint, ...]
    centre: float
    decimals: int
    centre_label: str = "England"  # in the legend
    centre_words: str = "England's value"  # mid-sentence

    @classmethod
    def build(cls, *, points: Iterable[FunnelPoint], limits: Iterable[LimitPoint],
              **fields) -> Funnel:  # fmt: skip
        return cls(
            points=tuple(sorted(points, key=lambda p: (p.records, p.value, p.code))),
            limits=tuple(sorted(limits, key=lambda p: (p.records, p.code))),
            **fields,
        )

    # -- what is drawn ----------------------------------------------------------------

    @property
    def value_label(self) -> str:
        return f"{self.name} ({self.unit})"

    @property
    def denominator_label(self) -> str:
        noun = self.denominator_noun or "denominator"
        return noun[0].upper() + noun[1:]

    @property
    def has_limits(self) -> bool:
        return len(self.limits) >= 2

    @property
    def has_998(self) -> bool:
        """SHMI, for one, is banded at 95% only."""
        return self.has_limits and all(p.lower_998 is not None for p in self.limits)

    def limits_sentence(self) -> str:
        """What the limit lines are, in words, naming only the lines drawn."""
        if self.has_998:
            return (
                "Points beyond the dashed lines are outside the 95% limits, beyond the dotted "
                "lines outside the 99.8% limits."
            )
        if self.has_limits:
            return (
                "Points beyond the dashed lines are outside the 95% limits; this indicator "
                "is compared at 95% only, so no 99.8% limits are drawn."
            )
        return "Control limits are not available, so none are drawn."

    def point(self, code: str) -> FunnelPoint | None:
        return next((p for p in self.points if p.code == code), None)

    # -- words ------------------------------------------------------------------------

    def _f(self, value: float) -> str:
        # One more decimal than the tables, so rounding never seems to put a provider on
        # the line.
        return format_number(value, self.decimals + 1)

    def position(self, point: FunnelPoint) -> str:
        """Where a point lies relative to its control limits, in words."""
        limit = next((p for p in self.limits if p.code == point.code), None)
        if limit is None:
            relation = "above" if point.value > self.centre else "at or below"
            return f"{relation} {self.centre_words} (no control limits for this provider)"
        f = self._f
        if limit.lower_998 is not None and point.value < limit.lower_998:
            return f"below the lower 99.8% limit of {f(limit.lower_998)}"
        if point.value < limit.lower_95:
            return f"below the lower 95% limit of {f(limit.lower_95)}"
        if point.value <= limit.upper_95:
            return f"within the 95% limits of {f(limit.lower_95)} to {f(limit.upper_95)}"
        if limit.upper_998 is None or point.value <= limit.upper_998:
            return f"above the upper 95% limit of {f(limit.upper_95)}"
        return f"above the upper 99.8% limit of {f(limit.upper_998)}"

    def title(self, highlight: Highlight) -> str:
        return f"Funnel plot: {self.name}, {self.subject}, {highlight.name} highlighted"

    def caption(self, highlight: Highlight) -> str:
        plotted = self.point(highlight.code) is not None
        who = (
            f"{highlight.name} is the labelled diamond."
            if plotted
            else f"{highlight.name} is not plotted: {highlight.status}."
        )
        return f"{self.title(highlight)}. Each grey circle is a provider; {who} " + (
            self.limits_sentence()
        )

    def description(self, highlight: Highlight) -> str:
        count = len(self.points)
        text = [
            f"{self.value_label} (vertical axis) against "
            f"{self.denominator_noun or 'the denominator'} "
            f"(horizontal axis) for {count:,} provider{'s' if count != 1 else ''}, "
            f"{self.subject}. The solid centre line is {self.centre_words}, "
            f"{format_number(self.centre, self.decimals)}. {self.limits_sentence()}"
        ]
        point = self.point(highlight.code)
        if point is None:
            text.append(f" {highlight.name} is not plotted: {highlight.status}.")
        else:
            text.append(
                f" {highlight.name} ({highlight.code}), the diamond, has "
                f"{point.records:,} {self.denominator_noun or 'as its denominator'} and a "
                f"value of {self._f(point.value)}, {self.position(point)}. "
                f"Comparison: {highlight.status}."
            )
        return "".join(text)

    # -- the chart ----------------------------------------------------------------------

    def _series(self, highlight: Highlight) -> tuple[list[str], dict]:
        rows = [("Other providers", render.GREY, "circle", [1, 0])]
        rows.append((f"{self.centre_label} (centre line)", render.BLUE, "stroke", [1, 0]))
        if self.has_limits:
            rows.append(("95% limits", render.MID, "stroke", [6, 4]))
        if self.has_998:
            rows.append(("99.8% limits", render.DARK, "stroke", [2, 3]))
        if self.point(highlight.code) is not None:
            rows.append(
                (f"{highlight.name} ({highlight.code})", render.HIGHLIGHT, "diamond", [1, 0])
            )
        names = [r[0] for r in rows]
        return names, render.series_encodings(
            names, [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]
        )

    def _limit_rows(self) -> list[dict]:
        rows = []
        for p in self.limits:
            sides = [("95% limits", p.lower_95, p.upper_95)]
            if self.has_998:
                sides.append(("99.8% limits", p.lower_998, p.upper_998))
            for series, lower, upper in sides:
                rows.append(
                    {"records": p.records, "level": lower, "series": series, "side": "lower"}
                )
                rows.append(
                    {"records": p.records, "level": upper, "series": series, "side": "upper"}
                )
        return rows if self.has_limits else []

    def chart(self, highlight: Highlight) -> alt.LayerChart:
        names, enc = self._series(highlight)
        levels = [p.value for p in self.points] + [self.centre]
        limit_rows = self._limit_rows()
        levels += [r["level"] for r in limit_rows]
        lo, hi = value_range(levels)
        x = alt.X("records:Q", title=self.denominator_label,
                  scale=alt.Scale(domainMin=0, nice=True),
                  axis=alt.Axis(format=",d", tickCount=6))  # fmt: skip
        y = alt.Scale(domain=[lo, hi], nice=True, zero=False)
        y_axis = alt.Axis(title=None, format=f",.{self.decimals}f", tickMinStep=10**-self.decimals)
        layers = []
        if limit_rows:
            layers.append(
                alt.Chart(alt.Data(values=limit_rows))
                .mark_line(strokeWidth=1.5, interpolate="linear")
                .encode(x=x, y=alt.Y("level:Q", scale=y, axis=y_axis), detail="side:N", **enc)
            )
        layers.append(
            alt.Chart(alt.Data(values=[{"level": self.centre, "series": names[1]}]))
            .mark_rule(strokeWidth=2)
            .encode(y=alt.Y("level:Q", scale=y, axis=y_axis), **enc)
        )
        others = [
            {"records": p.records, "level": p.value, "series": names[0]}
            for p in self.points
            if p.code != highlight.code
        ]
        layers.append(
            alt.Chart(alt.Data(values=others))
            .mark_point(filled=True, size=36, opacity=1, stroke="white", strokeWidth=0.5)
            .encode(x=x, y=alt.Y("level:Q", scale=y, axis=y_axis), **enc)
        )
        point = self.point(highlight.code)
        if point is not None:
            mine = [{"records": point.records, "level": point.value, "series": names[-1],
                     "code": highlight.code}]  # fmt: skip
            right = point.records > self.points[-1].records * 0.6
            layers.append(
                alt.Chart(alt.Data(values=mine))
                .mark_point(filled=True, size=160, opacity=1, stroke=render.DARK, strokeWidth=1.5)
                .encode(x=x, y=alt.Y("level:Q", scale=y, axis=y_axis), **enc)
            )
            # The code twice: a white outline under the black text, so it reads over lines.
            for outline in ({"stroke": "white", "strokeWidth": 3, "strokeOpacity": 0.9}, {}):
                layers.append(
                    alt.Chart(alt.Data(values=mine))
                    .mark_text(
                        align="right" if right else "left",
                        dx=-11 if right else 11,
                        fontWeight="bold",
                        color=render.DARK,
                        **outline,
                    )  # fmt: skip
                    .encode(x=x, y=alt.Y("level:Q", scale=y, axis=y_axis), text="code:N")
                )
        return render.layered(
            *layers,
            heading=self.value_label,
            height=PLOT_HEIGHT_PX,
        )

    def svg(self, highlight: Highlight) -> Markup:
        return render.to_svg(
            lambda: self.chart(highlight),
            element_id=f"funnel-{self.slug}",
            css_class="funnel",
            title=self.title(highlight),
            description=self.description(highlight),
        )
