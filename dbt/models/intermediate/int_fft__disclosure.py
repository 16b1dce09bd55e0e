"""Friends and Family Test rows as NHS England publishes them: per setting and month, ICB
rows (the sums of their trusts) and trust rows, each with its suppression (primary,
secondary, cascade or none) and the counts and percentages NHS England shows, beside the
exact counts (which stay in the warehouse). The rule lives in
dagster_project.transform.fft_disclosure. A month whose answers do not add up to its total
(set aside by validation) is left out, as it cannot be published.
"""

from dagster_project.transform.fft_disclosure import ANSWERS

KEYS = ("setting", "financial_year", "month")


def model(dbt, session):
    import pandas as pd

    from dagster_project.transform.fft_disclosure import suppress

    dbt.config(materialized="table")
    months = dbt.ref("stg_nhse__fft_responses").df()
    complete = months[~months["set_aside"].fillna("").str.contains("responses")].copy()
    complete["month"] = pd.to_datetime(complete["month"]).dt.strftime("%Y-%m-%d")
    for column in (*ANSWERS, "total_responses"):
        complete[column] = complete[column].astype("int64")
    parts = [
        suppress(group).assign(**dict(zip(KEYS, key, strict=True)))
        for key, group in complete.groupby(list(KEYS), sort=True)
    ]
    columns = [*KEYS, "level", "icb_code", "provider_code", *ANSWERS, "total_responses",
               "total_eligible", "percentage_positive", "percentage_negative",
               *(f"published_{a}" for a in ANSWERS), "suppression"]  # fmt: skip
    if not parts:  # no FFT delivered yet: the same columns, typed, and no rows
        counts = {*ANSWERS, "total_responses", *(f"published_{a}" for a in ANSWERS)}
        types = {c: "Int64" if c in counts or c == "total_eligible" else "string" for c in columns}
        types.update(percentage_positive="float64", percentage_negative="float64")
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in types.items()})
    out = pd.concat(parts, ignore_index=True)[columns]
    out["total_eligible"] = out["total_eligible"].astype("Int64")
    return out
