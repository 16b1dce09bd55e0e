"""Friends and Family Test cells as they may be published: NHS England's disclosure control.

Every cell of the provider x month x answer table, with its totals (total responses, the
year, the region), keeps its exact count and says whether it is suppressed: counts of 1 to
4 (primary) and the cells that protect them against subtraction from the totals published
beside them (secondary). The method lives in dagster_project.transform.suppression.
"""

ANSWERS = ("very_good", "good", "neither", "poor", "very_poor", "dont_know")


def model(dbt, session):
    import pandas as pd

    from dagster_project.transform.suppression import suppress

    dbt.config(materialized="table")
    months = dbt.ref("stg_nhse__fft_responses").df()
    regions = dbt.ref("dim_providers").df()[["provider_code", "region_code"]]
    complete = months[
        months["set_aside"].isna() | ~months["set_aside"].fillna("").str.contains("responses")
    ]
    wide = complete.merge(regions, on="provider_code", how="left")
    wide["region_code"] = wide["region_code"].fillna("UNKNOWN")
    wide["month"] = pd.to_datetime(wide["month"]).dt.strftime("%Y-%m-%d")
    base = wide.melt(
        id_vars=["setting", "financial_year", "region_code", "provider_code", "month"],
        value_vars=list(ANSWERS),
        var_name="answer",
        value_name="count",
    )
    base["count"] = base["count"].astype("int64")
    if base.empty:
        columns = ["setting", "financial_year", "region_code", "provider_code", "month", "answer"]
        empty = pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
        empty["count"] = pd.Series(dtype="int64")
        empty["published_count"] = pd.Series(dtype="Int64")
        empty["suppressed"] = pd.Series(dtype="bool")
        empty["suppression"] = pd.Series(dtype="string")
        return empty
    return suppress(base, by=["setting", "financial_year"])
