"""Every chart's look, and the step from a Vega-Altair chart to inline SVG a reader can use.

Vega-Altair describes the chart and vl-convert renders it to SVG with no browser and no
network, the same bytes for the same inputs. One theme serves funnels, trends and SPC: text
sized so that it prints at 8 pt or more when the chart fills the width of an A4 page
(`PRINT_WIDTH_PX`, from the page margins in style.css), legends laid out by Vega outside the
plot, never over it. The root element gets the text alternative the library does not
write: `role="img"` with a `<title>` and `<desc>` that say what the chart shows in words.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import altair as alt
import vl_convert as vlc
from altair.utils.schemapi import debug_mode
from markupsafe import Markup, escape

# A4 (210 mm) less the 16 mm side margins of style.css's @page, in CSS pixels (96 per inch).
PRINT_WIDTH_PX = round((210 - 2 * 16) / 25.4 * 96)
# Charts are drawn this wide, so they print at full size or larger, never shrunk.
CHART_WIDTH_PX = 600
FONT = "Arial, Liberation Sans, Helvetica, sans-serif"
TEXT_PX = 12  # axis labels, legend and point labels: 9 pt at print width
TITLE_PX = 13
TITLE_WRAP = 80  # characters a line of a chart's heading holds at TITLE_PX

BLUE = "#005EB8"
GREY = "#768692"
DARK = "#212B32"
MID = "#425563"
HIGHLIGHT = "#AE2573"
GRID = "#D8DDE0"

_ROOT = re.compile(r"<svg\b[^>]*>")
_SIZE = re.compile(r'width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"')


def _theme() -> dict:
    return {
        "font": FONT,
        "background": "white",
        "view": {"stroke": None},
        "axis": {
            "labelFontSize": TEXT_PX,
            "titleFontSize": TITLE_PX,
            "titleFontWeight": "normal",
            "labelColor": DARK,
            "titleColor": DARK,
            "domainColor": DARK,
            "tickColor": DARK,
            "gridColor": GRID,
            "labelOverlap": "greedy",
            "labelFlush": True,
        },
        "legend": {
            "labelFontSize": TEXT_PX,
            "labelColor": DARK,
            "labelLimit": 0,
            "orient": "bottom",
            "direction": "vertical",
            "title": None,
            "symbolStrokeWidth": 2,
            "symbolSize": 120,
        },
        "text": {"fontSize": TEXT_PX + 1, "font": FONT},
    }


@contextmanager
def unchecked() -> Iterator[None]:
    """Build a chart without Altair checking each part against the schema as it is made:
    the charts are fixed in code and checked whole in the tests, and the checks were a
    third of the drawing time."""
    with debug_mode(False):
        yield


def layered(*layers: alt.Chart, heading: str, height: int) -> alt.LayerChart:
    """The layers as one chart the width every chart is drawn, headed by `heading` (the
    measure and its unit) above the plot, wrapped rather than cut."""
    return alt.layer(
        *layers,
        width=CHART_WIDTH_PX,
        height=height,
        title=alt.Title(
            textwrap.wrap(heading, TITLE_WRAP),
            anchor="start",
            fontSize=TITLE_PX,
            fontWeight="normal",
            color=DARK,
            frame="group",
        ),  # fmt: skip
    )


def to_svg(build: Callable[[], alt.TopLevelMixin], *, element_id: str, css_class: str,
           title: str, description: str) -> Markup:  # fmt: skip
    """The chart `build` makes, as an `<svg>` element safe to place in a page unescaped.

    `element_id` must be unique within a page: the title and description are found by it.
    """
    with unchecked():
        chart = build()
    # The specs are fixed in code and checked against the schema in the tests; checking
    # every one again here costs a third of the drawing time.
    spec = chart.configure(**_theme()).to_dict(validate=False)
    svg = vlc.vegalite_to_svg(spec)
    root = _ROOT.search(svg)
    if root is None:
        raise ValueError(f"the chart {element_id} did not render to SVG")
    size = _SIZE.search(root.group(0))
    if size is None:
        raise ValueError(f"the chart {element_id} has no size")
    width, height = size.groups()
    title_id, desc_id = f"{element_id}-title", f"{element_id}-desc"
    opening = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{title_id}" aria-describedby="{desc_id}">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<desc id="{desc_id}">{escape(description)}</desc>'
    )
    return Markup(opening + svg[root.end() :])


def series_encodings(names: list[str], colours: list[str], shapes: list[str],
                     dashes: list[list[int]]) -> dict:  # fmt: skip
    """Colour, legend symbol and line style by series, in one legend: each series is told
    apart by its symbol and dash as well as its colour, so print in grey still reads."""

    def scale(values: list) -> alt.Scale:
        return alt.Scale(domain=names, range=values)

    return {
        "color": alt.Color("series:N", scale=scale(colours), sort=names),
        "shape": alt.Shape("series:N", scale=scale(shapes), sort=names),
        "strokeDash": alt.StrokeDash("series:N", scale=scale(dashes), sort=names),
    }
