"""Statistical process control on the synthetic region, through the whole pipeline: what the
observatories' table holds, and what a provider's Quality Account shows of it."""

from __future__ import annotations

import re

import pytest

VARIATIONS = {"improvement", "concern", "common cause", "too few points"}
ASSURANCES = {"consistently passes", "hit and miss", "consistently fails", "no target",
              "too few points"}  # fmt: skip


@pytest.fixture(scope="module")
def summary(published_connection):
    return published_connection.sql(
        "select * from spc_summary order by provider_code, series_code, financial_year"
    ).df()


def test_every_series_has_one_line_a_year_with_its_icons(summary, published_connection):
    assert len(summary) > 100
    assert set(summary["variation"]) <= VARIATIONS
    assert set(summary["assurance"]) <= ASSURANCES
    assert {"fft_inpatient_positive", "cdi_trust_attributed"} <= set(summary["series_code"])
    # MRSA has a target (zero tolerance), so it is judged against it; FFT has none.
    mrsa = summary[summary["series_code"] == "mrsa_trust_assigned"]
    assert not mrsa.empty and "no target" not in set(mrsa["assurance"])
    fft = summary[summary["series_code"].str.startswith("fft_")]
    assert set(fft["assurance"]) <= {"no target", "too few points"}


def test_the_summary_agrees_with_the_points_and_each_year_stops_at_its_march(
    published_connection,
):
    off = published_connection.sql(
        """
        with points as (
            select provider_code, series_code, financial_year, avg(value) as mean,
                   max(month) as last_month, arg_max(value, month) as last_value
            from spc_points group by all
        )
        select s.provider_code, s.series_code, s.financial_year
        from spc_summary as s join points as p using (provider_code, series_code, financial_year)
        where abs(s.mean - p.mean) > 1e-9
           or s.latest_month != p.last_month
           or s.latest_value != p.last_value
           or p.last_month >= make_date(cast(left(s.financial_year, 4) as integer) + 1, 4, 1)
           or (s.lower_process_limit is not null
               and abs((s.upper_process_limit - s.mean) - (s.mean - s.lower_process_limit)) > 1e-9)
        """
    ).fetchall()
    assert off == []


def test_a_quality_account_shows_the_spc_table_and_a_chart_per_series(
    synthetic_run, published_connection
):
    provider, year = published_connection.sql(
        "select provider_code, max(financial_year) from spc_summary "
        "where domain = 'safety' group by 1 order by 1 limit 1"
    ).fetchall()[0]
    charted = published_connection.sql(
        f"select count(*) from spc_summary where provider_code = '{provider}' "
        f"and financial_year = '{year}' and lower_process_limit is not null"
    ).fetchall()[0][0]
    html = (synthetic_run.home.site / provider / year / "quality-account.html").read_text(
        encoding="utf-8"
    )
    assert "month by month: statistical process control" in html
    assert 'data-table="spc-safety"' in html and 'data-table="spc-experience"' in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="spc"') == charted
    table = html[html.index('data-table="spc-safety"') :].split("</table>")[0]
    assert re.search(r"(Common cause|Special cause: (improving|concerning))", table)
    assert (
        "Consistently passes the target" in table
        or "Hit and miss" in table
        or ("Consistently fails the target" in table)
    ), "MRSA is judged against its target in words"
