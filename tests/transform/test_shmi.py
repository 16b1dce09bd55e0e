"""SHMI: NHS Digital's overdispersion-adjusted limits and banding, recomputed from the counts.

The referee is the six real publications in ../shared/data/shmi/: every trust's limits to 4
decimal places and its banding. Beside them, a hand-worked publication of ten trusts
(worked in the test's docstrings, not by the pipeline) pins each step of the method.
"""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
from conftest import real_data

from dagster_project.home import resolve_home
from dagster_project.runner import run_pipeline

pytestmark = pytest.mark.slow

# Ten trusts, hand-worked: N = 10 drops k = floor(10 x 10%) = 1 at each end (trust T02,
# z = sqrt(1500) ln(1150/1500) = -10.290639, and T10, z = +9.979283). Over the eight kept,
# sum z^2 = 29.397964, phi = 3.674745; sum E = 3150, sum E^2 = 1,612,500, so
# tau^2 = (8 x 3.674745 - 7) / (3150 - 1612500 / 3150) = 0.0084902028.
TOY_E = [100, 1500, 200, 250, 300, 400, 500, 600, 800, 2000]
TOY_O = [130, 1150, 230, 240, 330, 360, 560, 640, 760, 2500]
TOY_LIMITS = [  # exp(-+1.959964 sqrt(1/E + tau^2)), worked to 6 decimal places
    (0.766046, 1.305405), (0.828986, 1.206293), (0.796407, 1.255639), (0.803286, 1.244887),
    (0.808060, 1.237532), (0.814264, 1.228104), (0.818123, 1.222310), (0.820757, 1.218387),
    (0.824124, 1.213409), (0.830409, 1.204226),
]  # fmt: skip
TOY_BANDING = ["as expected", "lower than expected", *["as expected"] * 7, "higher than expected"]


def _historical_csv() -> str:
    """The toy trusts as NHS Digital's historical trust-level file (2019+ headers, one row per
    trust and TIME_PERIOD), two periods in one file."""
    lines = ["TIME_PERIOD,PUBLICATION_MONTH,PROVIDER_CODE,PROVIDER_NAME,SHMI_VALUE,SHMI_BANDING,"
             "SPELLS,OBSERVED,EXPECTED"]  # fmt: skip
    for period, publication in (("JAN28_DEC28", "MAY_29"), ("JAN27_DEC27", "MAY_28")):
        for i, (o, e) in enumerate(zip(TOY_O, TOY_E, strict=True), start=1):
            lines.append(f"{period},{publication},T{i:02d},TOY TRUST {i},,2.0,{e * 20},{o},{e}")
    return "\n".join(lines) + "\n"


def _toy_csv(observed: list[int]) -> str:
    lines = ["INDICATOR_CODE,PROVIDER,PROVIDER_NAME,DENOMINATOR,OBSERVED,EXPECTED"]
    for i, (o, e) in enumerate(zip(observed, TOY_E, strict=True), start=1):
        lines.append(f"I00699,T{i:02d},TOY TRUST {i},{e * 20},{o},{e}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def shmi_home(tmp_path_factory):
    source = real_data("shmi")
    home = resolve_home(tmp_path_factory.mktemp("shmi_home")).ensure()
    landing = home.landing / "shmi"
    landing.mkdir(parents=True)
    for path in sorted(source.glob("*.csv")):
        shutil.copy(path, landing / path.name)
    (landing / "shmi-2030-january.csv").write_text(_toy_csv(TOY_O))
    # The same trusts with the two dropped ones far more extreme: a trim leaves phi alone.
    extreme = list(TOY_O)
    extreme[1], extreme[9] = 900, 3000
    (landing / "shmi-2030-april.csv").write_text(_toy_csv(extreme))
    (landing / "Historical_trust_level_SHMI_data_Jan28-Dec28_csv.csv").write_text(_historical_csv())
    outcome = run_pipeline(home, job_name="build_warehouse")
    assert outcome.success, outcome.failures
    con = duckdb.connect(str(home.warehouse_db), read_only=True)
    try:
        yield con.execute("select * from marts.fct_shmi").df()
    finally:
        con.close()


def test_every_real_publication_reproduces_limits_and_banding(shmi_home):
    real = shmi_home[shmi_home.publication < pd.Timestamp("2028-01-01")]
    assert real.publication.nunique() == 6
    lines = []
    for publication, rows in real.groupby("publication"):
        limits = (rows.lower_limit_95.round(4) == rows.published_lower_limit) & (
            rows.upper_limit_95.round(4) == rows.published_upper_limit
        )
        banding = rows.banding_code == rows.published_banding
        lines.append(
            f"{publication:%Y-%m}: {len(rows)} trusts, limits {limits.mean():.1%}, "
            f"banding {banding.mean():.1%}"
        )
        assert limits.all(), rows.loc[
            ~limits, ["provider_code", "lower_limit_95", "published_lower_limit"]
        ]
        assert banding.all(), rows.loc[
            ~banding, ["provider_code", "banding_code", "published_banding"]
        ]
        assert (rows.shmi == rows.published_shmi).all()
    print("\n".join(lines))


def test_hand_worked_publication(shmi_home):
    toy = shmi_home[shmi_home.publication == pd.Timestamp("2030-01-01")].sort_values(
        "provider_code"
    )
    assert len(toy) == 10
    assert set(toy.trusts_in_model) == {8}
    assert toy.phi.iloc[0] == pytest.approx(3.674745, abs=1e-6)
    assert toy.tau2.iloc[0] == pytest.approx(0.0084902028, abs=1e-9)
    for (lower, upper), row in zip(TOY_LIMITS, toy.itertuples(), strict=True):
        assert row.lower_limit_95 == pytest.approx(lower, abs=1e-6), row.provider_code
        assert row.upper_limit_95 == pytest.approx(upper, abs=1e-6), row.provider_code
    assert list(toy.banding) == TOY_BANDING


def test_extremes_are_trimmed_not_winsorised(shmi_home):
    first = shmi_home[shmi_home.publication == pd.Timestamp("2030-01-01")]
    second = shmi_home[shmi_home.publication == pd.Timestamp("2030-04-01")]
    assert second.tau2.iloc[0] == pytest.approx(first.tau2.iloc[0], abs=1e-12)
    assert second.phi.iloc[0] == pytest.approx(first.phi.iloc[0], abs=1e-12)


def test_each_row_of_the_historical_file_is_placed_by_its_own_period(shmi_home):
    for period_end, publication in (("2028-12-01", "2029-05-01"), ("2027-12-01", "2028-05-01")):
        rows = shmi_home[shmi_home.period_end_month == pd.Timestamp(period_end)]
        rows = rows.sort_values("provider_code")
        assert len(rows) == 10, period_end
        assert set(rows.publication) == {pd.Timestamp(publication)}
        assert list(rows.banding) == TOY_BANDING
        for (lower, upper), row in zip(TOY_LIMITS, rows.itertuples(), strict=True):
            assert row.lower_limit_95 == pytest.approx(lower, abs=1e-6), row.provider_code
            assert row.upper_limit_95 == pytest.approx(upper, abs=1e-6), row.provider_code
