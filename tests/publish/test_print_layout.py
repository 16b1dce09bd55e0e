"""A Quality Account as a board member reads it on paper: laid out in a real browser with the
print stylesheet at the width of an A4 page's text, every chart's text is at least 8 pt, no
legend entry, axis label, heading or point label overlaps another or the plot, and no word
in a table is broken across lines or runs out of its cell."""

from __future__ import annotations

import pytest
from conftest import document_fixtures
from test_phone_layout import browser  # noqa: F401  (the shared Chromium)

from dagster_project.publish.charts import render

DOCUMENTS = ("RAA/2017-18/quality-account.html", "RBB/2017-18/quality-account.html")

_MEASURE = """() => [...document.querySelectorAll('figure.chart svg')].map(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const box = el => { const r = el.getBoundingClientRect();
                      return {l: r.left, t: r.top, r: r.right, b: r.bottom}; };
  const texts = sel => [...svg.querySelectorAll(sel)].filter(t => t.textContent.trim())
                        .map(t => ({text: t.textContent, ...box(t)}));
  return {
    name: svg.querySelector('title').textContent,
    smallestPx: Math.min(...[...svg.querySelectorAll('text')]
                  .map(t => parseFloat(getComputedStyle(t).fontSize) * scale)),
    labels: [...texts('.role-legend-label text'), ...texts('.role-axis-label text'),
             ...texts('.role-axis-title text'), ...texts('.role-title-text text'),
             ...texts('.role-mark.mark-text text')],
    legend: [...svg.querySelectorAll('.role-legend')].map(box),
    marks: [...svg.querySelectorAll('.role-mark:not(.mark-text)')].map(box),
  };
})"""


# Every word of every table cell (checksums aside: a fingerprint is not a word) laid out on
# more than one line, and every cell whose text runs out of it. A line may end after a
# hyphen or a slash: the parts between are the words.
_CELLS = """() => {
  const broken = [], overflowing = [];
  const cells = 'table:not(.checksums) td, table:not(.checksums) th';
  for (const cell of document.querySelectorAll(cells)) {
    if (cell.scrollWidth > cell.clientWidth + 1) overflowing.push(cell.textContent.trim());
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.textContent.matchAll(/[^\\s\\-\\u2010-\\u2014\\/]+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(match[0]);
      }
    }
  }
  return {broken, overflowing, cells: document.querySelectorAll('td').length};
}"""


def _overlap(a: dict, b: dict, slack: float = 0.5) -> bool:
    return (
        a["l"] < b["r"] - slack
        and b["l"] < a["r"] - slack
        and a["t"] < b["b"] - slack
        and b["t"] < a["b"] - slack
    )


def _halo(a: dict, b: dict) -> bool:
    """A point label drawn twice, white outline under black text, to read over lines."""
    return a["text"] == b["text"] and all(abs(a[k] - b[k]) < 1 for k in "ltrb")


@pytest.fixture(scope="module")
def printed(tmp_path_factory, browser):  # noqa: F811
    site_dir, _ = document_fixtures().render_fixture_site(tmp_path_factory.mktemp("print"))
    seen = {}
    page = browser.new_page(viewport={"width": render.PRINT_WIDTH_PX, "height": 1100})
    page.emulate_media(media="print")
    try:
        for path in DOCUMENTS:
            page.goto((site_dir / path).as_uri())
            seen[path] = {"charts": page.evaluate(_MEASURE), "cells": page.evaluate(_CELLS)}
    finally:
        page.close()
    return seen


@pytest.mark.parametrize("path", DOCUMENTS)
def test_chart_text_prints_at_eight_points_or_more(printed, path):
    charts = printed[path]["charts"]
    assert charts, "the document has charts"
    small = {
        c["name"]: round(c["smallestPx"] * 0.75, 1) for c in charts if c["smallestPx"] < 32 / 3
    }
    assert small == {}, "chart text below 8 pt (values in points)"


@pytest.mark.parametrize("path", DOCUMENTS)
def test_no_chart_label_overlaps_another_or_the_plot(printed, path):
    for chart in printed[path]["charts"]:
        labels = chart["labels"]
        clashes = [
            (a["text"], b["text"])
            for i, a in enumerate(labels)
            for b in labels[i + 1 :]
            if _overlap(a, b) and not _halo(a, b)
        ]
        assert clashes == [], chart["name"]
        for legend in chart["legend"]:
            assert not any(_overlap(legend, mark) for mark in chart["marks"]), (
                f"the legend sits on the plot: {chart['name']}"
            )


@pytest.mark.parametrize("path", DOCUMENTS)
def test_no_word_in_a_table_is_broken_or_runs_out_of_its_cell(printed, path):
    cells = printed[path]["cells"]
    assert cells["cells"] > 100
    assert cells["broken"] == [], "words split across lines"
    assert cells["overflowing"] == [], "text wider than its column"
