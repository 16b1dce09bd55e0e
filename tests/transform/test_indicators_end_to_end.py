"""Every feed through Dagster on the synthetic region: the indicators find exactly what was planted.

The synthetic region records, outside its landing folder, the value of every
indicator it wrote for every provider (worked out from the files it wrote, not
by the pipeline) and which providers carry a planted effect. The pipeline's
published tables must agree with those values and flag the planted providers,
and no null provider.
"""

from __future__ import annotations

import json

import duckdb
import pytest

pytestmark = pytest.mark.slow

# Synthetic truth's indicator -> (published indicator_code, factor from truth to published unit)
TRUTH_INDICATORS = {
    "cdi_trust_apportioned_per_100000_bed_days": ("cdi_rate", 1.0),
    "fft_inpatient_positive_share": ("fft_inpatient_positive_pct", 100.0),
    "inpatient_survey_responsiveness": ("responsiveness", 1.0),
    "staff_recommend_care": ("staff_recommend_care_pct", 1.0),
    "incidents_per_1000_bed_days": ("incident_rate", 1.0),
    "incidents_severe_or_death_share": ("severe_harm_pct", 100.0),
    "vte_risk_assessed_share": ("vte_assessed_pct", 100.0),
    "readmissions_30_days_standardised_0-15": ("readmission_30d_0_15_pct", 100.0),
    "readmissions_30_days_standardised_16+": ("readmission_30d_16plus_pct", 100.0),
}
DIRECTION = {"higher": "higher than expected", "lower": "lower than expected"}
# Compared with funnel limits, so a null provider must never be flagged on them.
FUNNEL_INDICATORS = [code for code, _ in TRUTH_INDICATORS.values()]


@pytest.fixture(scope="module")
def published(published_connection):
    return published_connection


def _values(con, indicator: str) -> dict[tuple[str, str], tuple]:
    rows = con.execute(
        "select financial_year, provider_code, value, comparison from indicator_values "
        "where indicator_code = ?",
        [indicator],
    ).fetchall()
    return {(year, code): (value, comparison) for year, code, value, comparison in rows}


def test_every_indicator_equals_the_value_worked_out_from_the_files(synthetic_run, published):
    effects = synthetic_run.truth["effects"]
    compared = 0
    for name, (code, factor) in TRUTH_INDICATORS.items():
        values = _values(published, code)
        for year, providers in effects["indicators"][name]["providers"].items():
            for provider, expected in providers.items():
                value, _ = values[(year, provider)]
                assert value == pytest.approx(expected * factor, rel=1e-5, abs=1e-4), (
                    code,
                    year,
                    provider,
                )
                compared += 1
    assert compared >= len(TRUTH_INDICATORS) * 24 * 2


def test_planted_effects_are_found(synthetic_run, published):
    by_truth = {name: code for name, (code, _) in TRUTH_INDICATORS.items()}
    planted = [p for p in synthetic_run.truth["effects"]["planted"] if p["indicator"] in by_truth]
    assert {p["role"] for p in planted} >= {"high_cdi", "high_severe_harm", "poor_experience"}
    for effect in planted:
        code = by_truth[effect["indicator"]]
        values = _values(published, code)
        for year in synthetic_run.truth["years"]:
            _, comparison = values[(year, effect["provider"])]
            assert comparison == DIRECTION[effect["direction"]], (effect, year)


def test_high_shmi_provider_is_higher_than_expected(synthetic_run, published):
    planted = synthetic_run.truth["shmi"]["planted_high"]
    rows = published.execute(
        "select financial_year, comparison from indicator_values "
        "where indicator_code = 'shmi' and provider_code = ?",
        [planted],
    ).fetchall()
    assert {year for year, _ in rows} == set(synthetic_run.truth["years"])
    assert {comparison for _, comparison in rows} == {"higher than expected"}


def test_null_providers_are_never_flagged(synthetic_run, published):
    effects = synthetic_run.truth["effects"]
    planted = {(p["provider"], p["indicator"]) for p in effects["planted"]}
    checked = 0
    for name, (code, _) in TRUTH_INDICATORS.items():
        for (year, provider), (_, comparison) in _values(published, code).items():
            if provider in effects["null_providers"] and (provider, name) not in planted:
                assert comparison in ("as expected", "insufficient data"), (code, year, provider)
                checked += 1
    assert checked > 0


def test_core_indicators_follow_the_statutory_comparison(published):
    rows = published.execute(
        "select c.financial_year, c.provider_code, c.indicator_code, c.value, c.previous_value, "
        "c.national_value, c.highest_value, c.lowest_value, c.comparator_group, c.period_label, "
        "v.national_value, p.value "
        "from core_indicators c "
        "join indicator_values v using (financial_year, provider_code, indicator_code) "
        "left join indicator_values p on p.provider_code = c.provider_code "
        "and p.indicator_code = c.indicator_code "
        "and cast(left(p.financial_year, 4) as integer) "
        "= cast(left(c.financial_year, 4) as integer) - 1"
    ).fetchall()
    assert rows
    codes = {r[2] for r in rows}
    assert {"shmi", "cdi_rate", "incident_rate", "severe_harm_pct", "vte_assessed_pct"} <= codes
    assert {"responsiveness", "staff_recommend_care_pct", "readmission_30d_16plus_pct"} <= codes
    for (
        year,
        provider,
        code,
        value,
        previous,
        national,
        high,
        low,
        group,
        period,
        v_nat,
        p_val,
    ) in rows:
        assert period, (year, provider, code)
        assert group in ("NHS trusts", "Independent sector providers")
        assert national == pytest.approx(v_nat)
        assert previous == (pytest.approx(p_val) if p_val is not None else None)
        if value is not None:
            assert low <= value <= high, (year, provider, code)


def test_every_published_table_carries_a_region(published):
    for table in (
        "indicator_values",
        "core_indicators",
        "hcai_counts",
        "shmi_values",
        "fft_responses",
    ):
        nulls, total = published.execute(
            f"select count(*) filter (where region_code is null), count(*) from {table}"
        ).fetchone()
        assert total > 0, table
        assert nulls == 0, table
    domains = dict(
        published.execute(
            "select domain, count(*) from indicator_catalogue group by domain"
        ).fetchall()
    )
    assert set(domains) == {"safety", "experience", "outcomes"}


def test_published_fft_rows_follow_nhs_englands_disclosure_control(published):
    # Every row of 1 to 4 responses is primary: no answer count, no percentage.
    small = published.execute(
        "select count(*), count(*) filter (where suppression = 'primary' and very_good is null "
        "and percentage_positive is null) from fft_responses where total_responses between 1 and 4"
    ).fetchone()
    assert small[0] > 0 and small[0] == small[1]
    # Each primary row has its next-lowest sibling suppressed, unless that one is primary too.
    held = published.execute(
        "select count(*) from fft_responses where suppression is not null"
    ).fetchone()[0]
    logged = published.execute(
        "select count(*) from suppression_log where table_name = 'fft_responses'"
    ).fetchone()[0]
    assert held == logged >= small[0]
    shown = published.execute(
        "select count(*) from fft_responses where suppression is not null "
        "and (very_good is not null or total_responses is null)"
    ).fetchone()[0]
    assert shown == 0  # counts withheld, totals always shown


def test_every_input_row_reaches_the_warehouse_or_quarantine(synthetic_run):
    home = synthetic_run.home
    checked = 0
    con = duckdb.connect()
    for sidecar in home.raw.glob("*/*.json"):
        if sidecar.parent == home.incoming:
            continue  # the feeds' manifests, not validation results
        outcome = json.loads(sidecar.read_text())
        raw_rows = con.execute(
            "select count(*) from read_parquet(?)", [str(sidecar.with_suffix(".parquet"))]
        ).fetchone()[0]
        assert raw_rows == outcome["rows_valid"], sidecar.name
        assert outcome["rows_in"] == (
            outcome["rows_valid"] + outcome["records_quarantined"] + outcome["rows_superseded"]
        )
        checked += 1
    assert checked >= 10


NJR_CRITERIA = {
    "Compliance": "njr_compliance",
    "Consent not recorded": "njr_consent_not_recorded",
    "Cemented or hybrid over 70": "cemented_over_70",
}


def test_best_practice_tariffs_find_the_planted_failures(synthetic_run, published):
    bpt = synthetic_run.truth["effects"]["bpt"]
    for role in ("fail_one", "fail_several"):
        planted = bpt["njr"][role]
        expected = {NJR_CRITERIA[name] for name in planted["fails"]}
        for year in synthetic_run.truth["years"]:
            failed = {
                code
                for (code,) in published.execute(
                    "select criterion_code from bpt_criteria where provider_code = ? "
                    "and financial_year = ? and bpt_code = 'primary_hip' and not met "
                    "and criterion_code not like 'proms%'",
                    [planted["provider"], year],
                ).fetchall()
            }
            assert failed == expected, (role, year)
            adjustment, forgone = published.execute(
                "select adjustment, forgone from bpt_adjustments where provider_code = ? "
                "and financial_year = ? and bpt_code = 'primary_hip'",
                [planted["provider"], year],
            ).fetchone()
            assert adjustment == 0 and forgone > 0, (role, year)
    waits = bpt["hip_fracture"]["long_waits"]
    for year in synthetic_run.truth["years"]:
        met, reason = published.execute(
            "select met, reason from bpt_criteria where provider_code = ? and financial_year = ? "
            "and criterion_code = 'surgery_within_36h'",
            [waits, year],
        ).fetchone()
        assert not met and "spells waited longer" in reason, (year, reason)
        truth = bpt["hip_fracture"]["providers"][year][waits]
        compliant = published.execute(
            "select compliant_spells from bpt_adjustments where provider_code = ? "
            "and financial_year = ? and bpt_code = 'hip_fracture'",
            [waits, year],
        ).fetchone()[0]
        assert compliant == truth["bpt_compliant"], year
