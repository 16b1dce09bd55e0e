"""The whole pipeline through Dagster on a synthetic region: it finds exactly what was planted."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

FLAGGED = {
    "Positive outlier (99.8%)",
    "Positive outlier (95%)",
    "Negative outlier (95%)",
    "Negative outlier (99.8%)",
}


@pytest.fixture(scope="module")
def published(synthetic_run) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(synthetic_run.home.published_db), read_only=True)
    try:
        return {
            t: con.execute(f"select * from {t}").df()
            for t in (
                "providers",
                "proms_provider_outcomes",
                "proms_participation",
                "publication",
                "indicator_values",
            )
        }
    finally:
        con.close()


def _expected(truth: dict) -> dict[tuple[str, str, str, str], str]:
    return {
        (year, p["code"], group, measure): status
        for p in truth["providers"]
        for year, groups in p["expected_status"].items()
        for group, measures in groups.items()
        for measure, status in measures.items()
    }


def test_run_succeeds_and_only_the_planted_typo_and_bad_return_values_fail_a_check(
    synthetic_run,
):
    outcome = synthetic_run.outcome
    assert outcome.success, outcome.failures
    years = len(synthetic_run.truth["years"])
    bad_returns = len(synthetic_run.truth["returns"]["bad_value"])
    assert sorted(outcome.failed_checks) == [
        "raw/provider_returns rows_pass_suite (WARN): Quarantined by rule: "
        f"value_percent ({bad_returns})",
        "raw/vte_assessments rows_pass_suite (WARN): Quarantined by rule: "
        f"organisation_in_register ({years})",
    ]


def test_outlier_status_matches_what_was_planted(synthetic_run, published):
    expected = _expected(synthetic_run.truth)
    rows = published["proms_provider_outcomes"]
    found = {
        (r.financial_year, r.provider_code, r.procedure, r.measure): r.outlier_status
        for r in rows.itertuples()
        if r.provider_code != "ENG" and not r.procedure.startswith("Total")
    }
    assert set(found) == set(expected), "published groups differ from the synthetic region's"
    wrong = {k: (found[k], v) for k, v in expected.items() if found[k] != v}
    assert not wrong, f"status differs from the planted truth (found, expected): {wrong}"


def test_only_planted_providers_are_flagged(synthetic_run, published):
    rows = published["proms_provider_outcomes"]
    flagged = set(
        rows.loc[rows.outlier_status.isin(FLAGGED), ["provider_code"]].provider_code.unique()
    )
    planted = {p["code"] for p in synthetic_run.truth["providers"] if p["planted"]}
    null_roles = {p["code"] for p in synthetic_run.truth["providers"] if p["role"] == "null"}
    assert flagged, "no provider was flagged at all"
    assert flagged <= planted
    assert not flagged & null_roles


def test_small_provider_with_large_effect_is_insufficient_records(synthetic_run, published):
    rows = published["proms_provider_outcomes"]
    small = [
        p for p in synthetic_run.truth["providers"] if p["role"].endswith("insufficient_records")
    ]
    assert small, "the synthetic region should plant a large effect on few records"
    for provider in small:
        joint = provider["role"].split("_")[0].capitalize()
        mine = rows[
            (rows.provider_code == provider["code"])
            & (rows.procedure == f"{joint} Replacement Primary")
        ]
        planted = mine[mine.measure.str.startswith("Oxford")]
        assert not planted.empty
        assert set(planted.outlier_status) == {"Insufficient records"}
        assert planted.adjusted_health_gain.isna().all()
        assert (planted.modelled_records < 30).all()


def test_adjusted_figures_are_consistent_with_the_limits(published):
    rows = published["proms_provider_outcomes"]
    tested = rows[rows.lower_limit_95.notna()]
    assert not tested.empty
    above = tested.adjusted_health_gain > tested.upper_limit_998
    assert (tested.loc[above, "outlier_status"] == "Positive outlier (99.8%)").all()
    below = tested.adjusted_health_gain < tested.lower_limit_998
    assert (tested.loc[below, "outlier_status"] == "Negative outlier (99.8%)").all()
    inside = (tested.adjusted_health_gain >= tested.lower_limit_95) & (
        tested.adjusted_health_gain <= tested.upper_limit_95
    )
    assert (tested.loc[inside, "outlier_status"] == "Not an outlier").all()


def test_england_adjusted_equals_actual(published):
    rows = published["proms_provider_outcomes"]
    england = rows[(rows.provider_code == "ENG") & ~rows.procedure.str.startswith("Total")]
    assert not england.empty
    assert (england.adjusted_post_op_score - england.average_post_op_score).abs().max() < 1e-9
    assert (england.outlier_status == "Not an outlier").all()


def test_totals_publish_no_adjusted_figures(published):
    rows = published["proms_provider_outcomes"]
    totals = rows[rows.procedure.str.startswith("Total")]
    assert not totals.empty
    assert (
        totals[["adjusted_post_op_score", "adjusted_health_gain", "standard_deviation"]]
        .isna()
        .all()
        .all()
    )
    assert totals.average_pre_op_score.notna().any()


def test_suppressed_provider_shows_no_figures(synthetic_run, published):
    suppressed = [p for p in synthetic_run.truth["providers"] if p["hes_suppressed_groups"]]
    assert suppressed
    rows = published["proms_provider_outcomes"]
    for provider in suppressed:
        hip = rows[(rows.provider_code == provider["code"]) & rows.procedure.str.contains("Hip")]
        assert not hip.empty
        assert hip[["modelled_records", "average_pre_op_score", "health_gain"]].isna().all().all()
    part = published["proms_participation"]
    mine = part[
        part.provider_code.isin([p["code"] for p in suppressed])
        & (part.procedure == "Hip Replacement")
    ]
    assert mine.hes_procedures.isna().all() and mine.participation_rate.isna().all()


def test_providers_named_and_placed_from_data(synthetic_run, published):
    """Named and placed by the ODS register."""
    providers = published["providers"].set_index("provider_code")
    assert providers.loc["ENG", "region_code"] == "ENG"
    for p in synthetic_run.truth["providers"]:
        row = providers.loc[p["code"]]
        assert row.region_code == p["region_code"], p["code"]
        assert row.provider_name == p["name"]


def test_a_mistyped_code_is_quarantined_never_a_provider(synthetic_run, published):
    """The synthetic VTE files carry one row under a code no ODS extract lists."""
    typo = synthetic_run.truth["mistyped_code"]
    assert typo["typed"] not in set(published["providers"].provider_code)
    assert typo["typed"] not in set(published["indicator_values"].provider_code)
    held = pd.concat(
        pd.read_parquet(p)
        for p in (synthetic_run.home.quarantine / "vte_assessments").glob("*.parquet")
    )
    rows = held[held.value == typo["typed"]]
    assert set(rows.rule) == {"organisation_in_register"}
    assert len(rows) == len(synthetic_run.truth["years"])  # one per year's file
    assert rows.row_number.notna().all() and rows.source_file.str.startswith("vte-").all()


def test_every_published_table_has_region_code(published):
    for name, frame in published.items():
        if name in ("publication", "providers"):
            continue
        assert "region_code" in frame.columns, name
        assert frame.region_code.notna().all(), name


def test_publication_records_its_inputs(synthetic_run, published):
    publication = published["publication"]
    counts = dict(zip(publication.table_name, publication.row_count, strict=True))
    assert counts["proms_provider_outcomes"] == len(published["proms_provider_outcomes"])
    parquet_root = synthetic_run.home.published / "parquet"
    current = (parquet_root / "CURRENT").read_text().strip()
    assert current == publication.publication_id.iloc[0]
    from_parquet = pd.read_parquet(parquet_root / current / "proms_provider_outcomes.parquet")
    assert len(from_parquet) == counts["proms_provider_outcomes"]


def test_nothing_else_quarantined_from_clean_synthetic_data(synthetic_run):
    held = [
        p for p in synthetic_run.home.quarantine.rglob("*.parquet") if p.name != "_empty.parquet"
    ]
    assert held, "validation should write a quarantine file per source file"
    rows = pd.concat(pd.read_parquet(p) for p in held)
    # The planted bad values of some providers' returns: one line each, its own rule.
    returns = rows.source_file.str.endswith("-return.csv")
    planted = {f"{key.replace(' ', '-')}-return.csv" for key in
               synthetic_run.truth["returns"]["bad_value"]}  # fmt: skip
    assert set(rows[returns].source_file) == planted
    assert set(rows[returns].rule) == {"value_percent"} and returns.sum() == len(planted)
    assert set(rows[~returns].value) == {synthetic_run.truth["mistyped_code"]["typed"]}


def test_quality_account_pages_written(synthetic_run):
    site = synthetic_run.home.site
    assert (site / "index.html").exists()
    negative = next(
        p for p in synthetic_run.truth["providers"] if p["role"] == "hip_negative_outlier_99.8"
    )
    year = synthetic_run.truth["years"][0]
    page = (site / negative["code"] / year / "quality-account.html").read_text()
    assert negative["name"] in page.upper()
    assert "Negative outlier (99.8%)" in page
    assert "<svg" in page
    # Readmissions are compared by NHS Digital's own intervals: never drawn as a funnel.
    assert "Funnel plot: Emergency readmissions" not in page
    assert "compared with England by the publisher&#39;s own 95% confidence interval" in page


def test_complete_returns_make_final_documents_and_gaps_drafts(synthetic_run):
    """The synthetic providers' returns and narratives: complete ones make a final
    document, a missing item, a bad value or no narrative a draft that says why."""
    site, truth = synthetic_run.home.site, synthetic_run.truth["returns"]

    def page(key: str) -> str:
        code, year = key.split()
        return (site / code / year / "quality-account.html").read_text(encoding="utf-8")

    assert truth["complete"] and truth["missing_items"] and truth["bad_value"]
    for key in truth["complete"]:
        assert '<span class="tag tag--neutral">Final</span>' in page(key), key
    for key in [*truth["missing_items"], *truth["bad_value"], *truth["no_narrative"]]:
        assert '<span class="tag tag--draft">Draft</span>' in page(key), key
    for key in truth["bad_value"]:
        listed = page(key).split('id="input-problems"')[1]
        assert f"{key.replace(' ', '-')}-return.csv" in listed
        assert "Value is not a percentage from 0 to 100" in listed


def test_shmi_banding_and_palliative_coding_match_what_was_planted(synthetic_run):
    con = duckdb.connect(str(synthetic_run.home.published_db), read_only=True)
    try:
        rows = con.execute(
            "select period_end, provider_code, banding, palliative_care_deaths_pct from shmi"
        ).df()
    finally:
        con.close()
    truth = synthetic_run.truth["shmi"]
    for year, bandings in truth["banding"].items():
        publication = rows[rows.period_end == pd.Timestamp(truth["period_end"][year])]
        found = publication.set_index("provider_code")
        assert found.banding.to_dict() == bandings, year
        assert found.banding[truth["planted_high"]] == "higher than expected"
        assert (found.banding.drop(truth["planted_high"]) == "as expected").all()
        palliative = found.palliative_care_deaths_pct.round(2).to_dict()
        assert palliative == truth["palliative_care_deaths_pct"][year], year
