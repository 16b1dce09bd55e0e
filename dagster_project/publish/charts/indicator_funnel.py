"""Funnel plots for indicators whose control limits the pipeline has already computed.

PROMs limits follow from one standard deviation, but rates and ratios (Poisson,
overdispersion-adjusted) come with each provider's own limits in
`indicator_values`. This plot joins those published limits in order of
denominator instead of recomputing them, so the chart can never disagree with
the comparison printed in the tables. The drawing, ids and rounding are the
PROMs funnel's, so output stays byte-identical between runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from dagster_project.publish.charts.funnel_svg import (
    PLOT_Y0,
    PLOT_Y1,
    Z_95,
    FunnelPlot,
    FunnelPoint,
    Highlight,
    _c,
    _nice_axis,
    format_number,
    padded_floor,
)


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
class IndicatorFunnel(FunnelPlot):
    limits: tuple[LimitPoint, ...] = ()
    value_label: str = ""
    denominator_label: str = "Denominator"
    # The centre line in words, mid-sentence: England's figure from the publisher's file,
    # or the pooled value of the providers in this publication (never called England's).
    centre_words: str = "the national value"

    @classmethod
    def for_indicator(
        cls,
        *,
        slug: str,
        subject: str,
        name: str,
        unit: str,
        points: Iterable[FunnelPoint],
        limits: Iterable[LimitPoint],
        centre: float,
        decimals: int,
        centre_label: str = "England",
        centre_words: str = "the national value",
    ) -> IndicatorFunnel:
        return cls(
            slug=slug,
            subject=subject,
            measure=name,
            points=tuple(sorted(points, key=lambda p: (p.records, p.value, p.code))),
            centre=centre,
            sd=None,
            decimals=decimals,
            limits=tuple(sorted(limits, key=lambda p: (p.records, p.code))),
            value_label=f"{name} ({unit})",
            denominator_label="Denominator (cases, patients or bed days)",
            centre_label=centre_label,
            centre_words=centre_words,
        )

    @property
    def x_label(self) -> str:
        return self.denominator_label

    @property
    def y_label(self) -> str:
        return self.value_label

    @property
    def has_limits(self) -> bool:
        return len(self.limits) >= 2

    @property
    def has_998(self) -> bool:
        """SHMI, for one, is banded at 95% only."""
        return self.has_limits and all(p.lower_998 is not None for p in self.limits)

    @cached_property
    def _y(self):  # type: ignore[override]
        values = [p.value for p in self.points] + [self.centre]
        for limit in self.limits:
            values += [v for v in (limit.lower_95, limit.upper_95) if v is not None]
            values += [v for v in (limit.lower_998, limit.upper_998) if v is not None]
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.05
        return _nice_axis(padded_floor(lo, pad), hi + pad, PLOT_Y1, PLOT_Y0, target=6)

    def _limit_path(self, z: float, side: int) -> str:
        def level(limit: LimitPoint) -> float:
            if z == Z_95:
                return limit.upper_95 if side > 0 else limit.lower_95
            return limit.upper_998 if side > 0 else limit.lower_998

        return " ".join(
            f"{'M' if i == 0 else 'L'}{_c(self._x(p.records))} {_c(self._y(level(p)))}"
            for i, p in enumerate(self.limits)
        )

    def position(self, point: FunnelPoint) -> str:
        limit = next((p for p in self.limits if p.code == point.code), None)
        if limit is None:
            relation = "above" if point.value > self.centre else "at or below"
            return f"{relation} {self.centre_words} (no control limits for this provider)"

        def f(value: float) -> str:
            return format_number(value, self.decimals + 1)

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
        return f"Funnel plot: {self.measure}, {self.subject}, {highlight.name} highlighted"

    def description(self, highlight: Highlight) -> str:
        count = len(self.points)
        text = [
            f"{self.value_label} (vertical axis) against the denominator (horizontal axis) for "
            f"{count:,} provider{'s' if count != 1 else ''}, {self.subject}. The solid centre "
            f"line is {self.centre_words}, {format_number(self.centre, self.decimals)}"
        ]
        if self.has_998:
            text.append("; dashed lines are the 95% limits and dotted lines the 99.8% limits.")
        elif self.has_limits:
            text.append("; dashed lines are the 95% limits.")
        else:
            text.append("; control limits are not available.")
        point = self.point(highlight.code)
        if point is None:
            text.append(f" {highlight.name} is not plotted: {highlight.status}.")
        else:
            text.append(
                f" {highlight.name} ({highlight.code}), the diamond, has a denominator of "
                f"{point.records:,} and a value of {format_number(point.value, self.decimals)}, "
                f"{self.position(point)}. Comparison: {highlight.status}."
            )
        return "".join(text)
