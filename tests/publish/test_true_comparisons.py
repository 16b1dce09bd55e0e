"""Every comparison and figure a Quality Account prints is true: known answers for ties,
what "England" means, objectives, one rounding rule, funnel axes, best practice tariff
wording and provider names. In-memory rows; no pipeline run."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import jinja2
import pytest

from dagster_project.publish.charts.funnel import Funnel, FunnelPoint, Highlight, LimitPoint
from dagster_project.publish.document.bpt import bpt_section
from dagster_project.publish.document.indicators import (
    Indicators,
    _core_table,
    _others_table,
    against,
    national_label,
)
from dagster_project.publish.document.tables import number, percent
from dagster_project.publish.figures import format_number, format_percent, format_share
from dagster_project.publish.names import readable_name

MACROS = Path(__file__).parents[2] / "dbt" / "macros" / "percent_text.sql"
YEAR = "2024-25"


def _entry(code: str, method: str, *, unit: str = "count", higher: bool = False, **extra):
    return {
        "indicator_code": code, "indicator_name": code.replace("_", " ").capitalize(),
        "domain": "safety", "unit": unit, "higher_is_better": higher, "core_indicator": True,
        "method": method, "min_denominator": None, "denominator_noun": None, **extra,
    }  # fmt: skip


def _value(provider: str, code: str, value: float | None, **extra) -> dict:
    row = {
        "financial_year": YEAR, "provider_code": provider, "indicator_code": code,
        "numerator": None, "denominator": None, "value": value, "national_value": None,
        "lower_95": None, "upper_95": None, "lower_998": None, "upper_998": None,
        "comparison": "as expected", "withheld": None, "objective": None,
    }  # fmt: skip
    row.update(extra)
    return row


def _core(provider: str, code: str, group: str = "NHS trusts", **extra) -> dict:
    row = {
        "financial_year": YEAR, "provider_code": provider, "indicator_code": code,
        "value": None, "previous_value": None, "national_value": None, "highest_value": None,
        "lowest_value": None, "comparator_group": group, "period_label": "April 2024 to March 2025",
    }  # fmt: skip
    row.update(extra)
    return row


def _indicators(entry: dict, values: dict[str, float], groups: dict[str, str] | None = None):
    code = entry["indicator_code"]
    groups = groups or {}
    return Indicators(
        [entry],
        [_value(p, code, v) for p, v in values.items()],
        [_core(p, code, groups.get(p, "NHS trusts"), value=v) for p, v in values.items()],
    )


# -- ties --------------------------------------------------------------------------------


def test_all_equal_values_put_nobody_in_the_lowest_quarter():
    # 24 providers with no Never Events: all share first place.
    entry = _entry("never_events", "objective")
    ind = _indicators(entry, {f"P{i:02d}": 0.0 for i in range(24)})
    assert not any(ind.bottom_quartile(f"P{i:02d}", YEAR, "never_events") for i in range(24))


def test_a_value_equal_to_the_best_is_never_in_the_lowest_quarter():
    # 21 providers at the best value (0), three worse: only the three can be lowest.
    entry = _entry("never_events", "objective")
    values = {f"P{i:02d}": 0.0 for i in range(21)} | {"W1": 1.0, "W2": 1.0, "W3": 2.0}
    ind = _indicators(entry, values)
    lowest = {p for p in values if ind.bottom_quartile(p, YEAR, "never_events")}
    assert lowest == {"W1", "W2", "W3"}


def test_quarters_that_cannot_be_told_apart_place_nobody():
    # 17 at 0 and 7 at 1: the seven share a place only 17 are better than, fewer than
    # three quarters of 24 (18), so no one is placed in the lowest quarter.
    entry = _entry("never_events", "objective")
    values = {f"P{i:02d}": 0.0 for i in range(17)} | {f"W{i}": 1.0 for i in range(7)}
    ind = _indicators(entry, values)
    assert not any(ind.bottom_quartile(p, YEAR, "never_events") for p in values)


def test_distinct_values_place_the_worst_quarter():
    entry = _entry("vte_assessed_pct", "proportion_funnel", unit="per cent", higher=True)
    values = {f"P{i:02d}": 80.0 + i for i in range(24)}  # P00 worst ... P23 best
    ind = _indicators(entry, values)
    lowest = sorted(p for p in values if ind.bottom_quartile(p, YEAR, "vte_assessed_pct"))
    assert lowest == [f"P{i:02d}" for i in range(6)]


def test_quarters_are_within_the_comparator_group():
    # Four independent-sector providers far below eight NHS trusts: each group's quarters
    # are its own, so the best independent provider is not in any lowest quarter.
    entry = _entry("vte_assessed_pct", "proportion_funnel", unit="per cent", higher=True)
    values = {f"T{i}": 95.0 + i * 0.1 for i in range(8)} | {f"I{i}": 60.0 + i for i in range(4)}
    groups = {f"I{i}": "Independent sector providers" for i in range(4)}
    ind = _indicators(entry, values, groups)
    assert ind.bottom_quartile("I0", YEAR, "vte_assessed_pct")
    assert not ind.bottom_quartile("I3", YEAR, "vte_assessed_pct")
    assert [p for p in values if ind.bottom_quartile(p, YEAR, "vte_assessed_pct")] == [
        "T0", "T1", "I0",
    ]  # fmt: skip


# -- what England means ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "label", "words"),
    [
        ("shmi_banding", "England", "against England"),
        ("proms_outlier", "England", "against England"),
        ("published_interval", "England", "against England"),
        ("proportion_funnel", "Providers in this publication",
         "against the providers in this publication"),
        ("rate_funnel", "Providers in this publication",
         "against the providers in this publication"),
        ("objective", "Objective", "against the objective"),
    ],
)  # fmt: skip
def test_the_national_column_says_what_it_is(method, label, words):
    entry = _entry("x", method)
    assert national_label(entry) == label
    assert against(entry) == words


def test_a_region_only_home_prints_englands_figure_from_the_file():
    # Three providers of one region average 23.0 points of Oxford hip gain; England's row
    # in NHS Digital's file says 21.4, and 21.4 is what the table prints, labelled England.
    code = "proms_hip_ohs_gain"
    entry = _entry(code, "proms_outlier", unit="points", higher=True, domain="outcomes")
    gains = {"RA1": 22.0, "RA2": 23.0, "RA3": 24.0}
    ind = Indicators(
        [entry],
        [_value(p, code, g, national_value=21.4) for p, g in gains.items()],
        [_core(p, code, value=g, national_value=21.4, highest_value=24.0, lowest_value=22.0)
         for p, g in gains.items()],
    )  # fmt: skip
    table = _core_table(ind, entry, "RA1", "Alpha NHS Trust", YEAR)
    assert [c.header for c in table.columns][3] == "England"
    assert [c.text for c in table.rows[0]][2:] == ["22.0", "21.4", "24.0", "22.0"]


def test_a_pooled_value_is_never_called_england():
    code = "vte_assessed_pct"
    entry = _entry(code, "proportion_funnel", unit="per cent", higher=True)
    ind = Indicators([entry], [_value("RA1", code, 95.0, national_value=94.0)], [])
    table = _core_table(ind, entry, "RA1", "Alpha NHS Trust", YEAR)
    assert table.columns[3].header == "Providers in this publication"
    assert "England" not in table.caption


def test_a_count_is_judged_against_its_objective_never_england():
    code = "cdi_count"
    entry = _entry(code, "objective", core_indicator=False)
    ind = Indicators(
        [entry],
        [_value("RA1", code, 30.0, national_value=14.6, objective=25.0,
                comparison="higher than expected")],
        [],
    )  # fmt: skip
    others = _others_table(ind, [entry], "RA1", YEAR, "safety")
    cells = [c.text for c in others.rows[0]]
    assert cells[3:] == ["Objective", "25", "higher than expected against the objective (worse)"]
    assert others.rows[0][5].css == "negative" and others.rows[0][5].csv_value == (
        "higher than expected against the objective"
    )
    assert "England" not in " ".join(c.header for c in others.columns)
    suggestions = ind.suggestions("RA1", YEAR, "Alpha NHS Trust")
    assert suggestions == ["Cdi count: higher than expected against the objective"]


# -- one rounding rule -------------------------------------------------------------------


def test_the_same_figure_prints_the_same_digits_everywhere():
    # 248 of 265 is 93.58...%: 93.6% in a table cell, its CSV, a sentence and a reason.
    assert percent(248 / 265).text == "93.6%" and percent(248 / 265).value == "93.6"
    assert number(248 / 265 * 100, 1).text == "93.6"
    assert format_percent(248 / 265) == format_share(248 / 265) == "93.6%"
    # Half away from zero on the figure's decimal form, not the binary value's half-even.
    assert format_number(2.675, 2) == "2.68"
    assert format_number(0.125, 2) == "0.13"
    assert format_number(-0.04, 1) == "0.0"
    assert format_percent(0.285, 0) == "29%"


def _macro_sql(fraction: str, threshold: str | None) -> str:
    env = jinja2.Environment()
    module = env.from_string(MACROS.read_text()).module
    if threshold is None:
        return str(module.percent_text(fraction))
    return str(module.percent_text(fraction, threshold))


@pytest.mark.parametrize(
    ("fraction", "threshold", "shown"),
    [
        (248 / 265, None, "93.6%"),
        (73 / 78, None, "93.6%"),
        (209 / 212, None, "98.6%"),
        (0.5, 0.5, "50.0%"),
        (0.499, 0.5, "49.9%"),
        (0.8499, 0.85, "84.99%"),
        (0.1499, 0.15, "14.99%"),
        (1999 / 2000, 1.0, "99.95%"),
    ],
)
def test_dbt_reasons_round_as_the_documents_do(fraction, threshold, shown):
    sql = _macro_sql("f", None if threshold is None else "t")
    con = duckdb.connect()
    got = con.execute(f"select {sql} from (select ?::double as f, ?::double as t)",
                      [fraction, threshold]).fetchall()[0][0]  # fmt: skip
    assert got == shown == format_share(fraction, threshold)


def test_dbt_and_python_agree_on_every_share_of_up_to_300():
    sql = _macro_sql("f", None)
    shown = (
        duckdb.connect()
        .execute(
            f"select k, n, {sql} from (select k, n, k::double / n as f from range(1, 301) as a(n), "
            "lateral (select range as k from range(0, n + 1)))"
        )
        .fetchall()
    )
    assert len(shown) == sum(n + 1 for n in range(1, 301))
    assert [(k, n, s) for k, n, s in shown if s != format_share(k / n)] == []


# -- funnel axes -------------------------------------------------------------------------


def _funnel(values: list[float], lower: float) -> str:
    points = [FunnelPoint(f"P{i}", 100 * (i + 1), v) for i, v in enumerate(values)]
    limits = [LimitPoint(p.code, p.records, lower, 2.0, lower, 3.0) for p in points]
    plot = Funnel.build(
        slug="x", subject=YEAR, name="Never Events", unit="per cent",
        denominator_noun="admissions", points=points, limits=limits, centre=0.5, decimals=1,
        centre_label="All providers",
        centre_words="the value over all providers in this publication",
    )  # fmt: skip
    return str(plot.svg(Highlight("P0", "Alpha NHS Trust", "as expected")))


def _value_ticks(svg: str) -> list[str]:
    """The vertical axis's labels as drawn (right-aligned, beside the axis)."""
    for group in re.findall(r'role-axis-label"[^>]*>(.*?)</g>', svg):
        anchors = re.findall(r'<text text-anchor="(\w+)"[^>]*>([^<]+)</text>', group)
        if anchors and all(anchor == "end" for anchor, _ in anchors):
            return [text for _, text in anchors]
    return []


def test_a_measure_that_cannot_be_negative_has_no_negative_axis():
    svg = _funnel([0.0, 0.2, 0.4, 1.0], lower=0.0)
    ticks = _value_ticks(svg)
    assert ticks and not any(t.startswith(("\u2212", "-")) for t in ticks), ticks
    assert ticks[0] == "0.0"
    assert "All providers (centre line)" in svg and "England" not in svg
    assert "the value over all providers in this publication, 0.5" in svg
    assert ">Admissions</text>" in svg, "the axis names the indicator's own denominator"


def test_a_health_gain_that_falls_keeps_its_negative_axis():
    svg = _funnel([-1.0, 0.2, 0.4, 1.0], lower=-1.5)
    assert any(t.startswith(("\u2212", "-")) for t in _value_ticks(svg)), _value_ticks(svg)


# -- best practice tariffs ---------------------------------------------------------------


def _criterion(code: str, criterion: str, threshold, observed, met, reason) -> dict:
    return {
        "financial_year": YEAR, "provider_code": "RA1", "region_code": "Y60",
        "bpt_code": "primary_hip", "criterion_code": code, "criterion": criterion,
        "threshold": threshold, "observed": observed, "met": met, "reason": reason,
    }  # fmt: skip


def test_bpt_criterion_that_cannot_be_assessed_never_reads_not_met():
    criteria = [
        _criterion("proms_participation", "PROMs participation", None, None, False,
                   "PROMs participation: participation not published for 2024-25 (PartLink "
                   "suppresses counts of 1 to 5 procedures), so it cannot be assessed"),
        _criterion("njr_compliance", "NJR compliance", 0.85, 0.971963, True,
                   "NJR compliance: 97.2% in 2024-25; at least 85.0% needed"),
        _criterion("proms_not_negative_outlier", "Oxford Hip Score health gain not a "
                   "negative outlier", 18.20397866, 19.70835993, True, "Not an outlier"),
    ]  # fmt: skip
    adjustments = [{
        "financial_year": YEAR, "provider_code": "RA1", "region_code": "Y60",
        "bpt_code": "primary_hip", "eligible_spells": 120, "compliant_spells": 0,
        "base_income": 600000.0, "bpt_income": 600000.0, "adjustment": 0.0,
        "forgone": 66000.0, "tariff": "Primary hip replacement",
        "price_source": "illustrative: an uplift of about GBP 550", "price_illustrative": True,
    }]  # fmt: skip
    section = bpt_section(criteria, adjustments, "RA1", YEAR)
    (tariff,) = section.tariffs
    assert tariff.failed == [] and not tariff.met_all
    assert tariff.unassessed and "cannot be assessed" in tariff.unassessed[0]
    rows = {r[0].text: [c.text for c in r] for r in tariff.criteria.rows}
    assert rows["PROMs participation"][3] == "Cannot be assessed"
    assert rows["NJR compliance"][1:4] == ["85.0%", "97.2%", "Met"]
    assert rows["Oxford Hip Score health gain not a negative outlier"][1:3] == ["18.20", "19.71"]
    assert "0.971963" not in tariff.criteria.to_csv()
    # The tariff by name, and every figure in pounds at an illustrative price says so.
    assert tariff.name == "Primary hip replacement" and "primary_hip" not in tariff.criteria.caption
    income = [c.text for c in section.income.rows[0]]
    assert income[0] == "Primary hip replacement"
    assert all(t.endswith("(illustrative price)") for t in income[3:])
    assert "illustrative" in section.income.notes[0] and "GBP 550" in section.income.notes[0]
    assert section.summary.endswith("(at an illustrative price, not the year's published one)")


# -- provider names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ods", "written"),
    [
        ("ZOBBY HOSPITALS NHS TRUST", "Zobby Hospitals NHS Trust"),
        ("KING'S COLLEGE HOSPITAL NHS FOUNDATION TRUST",
         "King's College Hospital NHS Foundation Trust"),
        ("THE NEWCASTLE UPON TYNE HOSPITALS NHS FOUNDATION TRUST",
         "The Newcastle upon Tyne Hospitals NHS Foundation Trust"),
        ("STOKE-ON-TRENT AND STAFFORDSHIRE ICB", "Stoke-on-Trent and Staffordshire ICB"),
        ("Guy's and St Thomas' NHS Foundation Trust", "Guy's and St Thomas' NHS Foundation Trust"),
    ],
)  # fmt: skip
def test_provider_names_as_providers_write_them(ods, written):
    assert readable_name(ods) == written
