"""UKHSA infection counts in both of UKHSA's layouts, and KH03 bed days, through the pipeline.

The referee is the publishers' own arithmetic: in every month the acute trusts' cases add up
to the national figure printed in the same file, and a rate per 100,000 bed days is worked
here from the parsed files, independently of the dbt models.
"""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
from conftest import SHARED_DATA, real_data

from dagster_project.home import resolve_home
from dagster_project.ingest import hcai, kh03
from dagster_project.ingest.landing import LandingCsv
from dagster_project.runner import run_pipeline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def infection_home(tmp_path_factory):
    sources = {feed: real_data(feed) for feed in ("hcai", "kh03")}
    home = resolve_home(tmp_path_factory.mktemp("infection_home")).ensure()
    for feed, folder in sources.items():
        (home.landing / feed).mkdir(parents=True)
        for path in sorted(folder.iterdir()):
            shutil.copy(path, home.landing / feed / path.name)
    outcome = run_pipeline(home, job_name="build_warehouse")
    assert outcome.success, outcome.failures
    assert outcome.failed_checks == [], outcome.failed_checks
    return home


@pytest.fixture(scope="module")
def warehouse(infection_home):
    con = duckdb.connect(str(infection_home.warehouse_db), read_only=True)
    yield con
    con.close()


def test_every_file_lands_without_quarantine(infection_home):
    held = [p for p in infection_home.quarantine.rglob("*.parquet") if p.name != "_empty.parquet"]
    assert len(held) == 7
    assert sum(len(pd.read_parquet(p)) for p in held) == 0


def test_acute_trusts_sum_to_the_national_figure_every_month(warehouse):
    sums = warehouse.execute(
        """
        select month,
            sum(cases) filter (where organisation_type = 'acute_trust') as trusts,
            sum(cases) filter (where organisation_type = 'national') as national
        from staging.stg_ukhsa__hcai_counts
        where metric = 'total'
        group by month order by month
        """
    ).df()
    assert len(sums) >= 60, "five publications cover March 2016 to March 2021"
    assert sums.national.notna().all()
    assert (sums.trusts == sums.national).all(), sums[sums.trusts != sums.national]


def test_a_month_published_twice_keeps_the_later_value(warehouse):
    kept = warehouse.execute(
        """
        select distinct source_file from staging.stg_ukhsa__hcai_counts
        where month = date '2019-03-01'
        """
    ).fetchall()
    assert kept == [("Ecoli_2019-20.csv",)]
    rows = warehouse.execute(
        "select count(*) from staging.stg_ukhsa__hcai_counts "
        "group by organism, organisation_code, month, metric "
        "having count(distinct source_file) > 1"
    ).fetchall()
    assert rows == []


def test_prior_exposure_categories_kept_from_2020_21(warehouse):
    metrics = {
        m
        for (m,) in warehouse.execute(
            "select distinct metric from staging.stg_ukhsa__hcai_counts "
            "where month >= date '2020-04-01'"
        ).fetchall()
    }
    assert {"hoha", "coca", "unknown"} <= metrics


def test_hospital_onset_rate_per_100000_bed_days_april_to_september_2020(warehouse):
    source = SHARED_DATA / "hcai" / "Ecoli_2020-21.csv"
    counts = hcai.parse_hcai(LandingCsv(source, None, source.read_bytes()))
    counts = counts[
        (counts.metric == "hospital_onset") & (counts.organisation_type == "acute_trust")
    ]
    counts = counts.assign(figure=counts.figure.astype(int), month=pd.to_datetime(counts.month))
    rates = warehouse.execute(
        "select * from published.hcai_quarterly_rates where period_start in "
        "(date '2020-04-01', date '2020-07-01') and provider_code <> 'ENG'"
    ).df()
    assert not rates.empty
    checked = 0
    for workbook, start, days in (("Q1", "2020-04-01", 91), ("Q2", "2020-07-01", 92)):
        path = SHARED_DATA / "kh03" / f"Beds-Open-Overnight-Web_File-{workbook}-2020-21.xlsx"
        beds = kh03.parse_kh03(path, path.read_bytes()).set_index("organisation_code")
        quarter = counts[
            (counts.month >= start) & (counts.month < pd.Timestamp(start) + pd.DateOffset(months=3))
        ]
        cases = quarter.groupby("organisation_code").figure.sum()
        mine = rates[rates.period_start == pd.Timestamp(start)].set_index("provider_code")
        for code in sorted(set(cases.index) & set(beds.index) & set(mine.index)):
            bed_days = float(beds.loc[code, "occupied_general_acute"]) * days
            if bed_days == 0:
                continue
            expected = cases[code] / bed_days * 100_000
            assert mine.loc[code, "hospital_onset_per_100000_bed_days"] == pytest.approx(expected)
            checked += 1
    assert checked > 250, "most acute trusts have both counts and beds in both quarters"


def test_kh03_places_trusts_in_regions(warehouse):
    regions = warehouse.execute(
        "select region_code, count(*) from marts.dim_providers group by 1 order by 1"
    ).fetchall()
    codes = {r for r, _ in regions}
    assert {"Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"} <= codes
