"""Funnel limits per provider for every indicator compared on a funnel, as NHS-R FunnelPlotR
computes them (dagster_project.transform.funnels): proportions on the arcsine scale, rates
as standardised ratios with NHS Digital's trimming, survey scores by the spread between
providers. Parameters from seed funnel_parameters; the method and minimum denominator of
each indicator from seed indicator_definitions. Providers below the minimum denominator are
not compared and get no limits; the target (the national value) is pooled over every
provider with a denominator.
"""

METHODS = ("proportion_funnel", "rate_funnel", "score_spread")


def model(dbt, session):
    import numpy as np
    import pandas as pd

    from dagster_project.transform import funnels

    dbt.config(materialized="table")
    observations = dbt.ref("int_indicators__observations").df()
    catalogue = dbt.ref("indicator_definitions").df()
    parameters = dbt.ref("funnel_parameters").df().set_index("parameter")["value"]
    z95, z998 = float(parameters["z_95"]), float(parameters["z_998"])
    trim = float(parameters["winsor_fraction"])
    lowest, highest = float(parameters["score_min"]), float(parameters["score_max"])

    rows = observations.merge(
        catalogue[["indicator_code", "method", "multiplier", "min_denominator"]],
        on="indicator_code",
    )
    rows = rows[rows["method"].isin(METHODS) & rows["value"].notna()]
    out = []
    for (year, code), group in rows.groupby(["financial_year", "indicator_code"], sort=True):
        group = group.sort_values("provider_code")
        method = group["method"].iloc[0]
        multiplier = float(group["multiplier"].iloc[0])
        least = group["min_denominator"].iloc[0]
        if method == "score_spread":
            result = funnels.score_limits(group["value"], lowest, highest, trim, z95, z998)
            compared, scale = group, 1.0
        else:
            counted = group[group["denominator"] > 0]
            target = counted["numerator"].sum() / counted["denominator"].sum()
            compared = counted
            if pd.notna(least):
                compared = counted[counted["denominator"] >= least]
            if compared.empty:
                continue
            limits = (
                funnels.proportion_limits if method == "proportion_funnel" else funnels.rate_limits
            )
            result = limits(compared["numerator"], compared["denominator"], target, trim, z95, z998)
            scale = multiplier
        out.append(
            pd.DataFrame(
                {
                    "financial_year": year,
                    "indicator_code": code,
                    "provider_code": compared["provider_code"].to_numpy(),
                    "target": result.target * scale,
                    "lower_95": np.asarray(result.lower_95) * scale,
                    "upper_95": np.asarray(result.upper_95) * scale,
                    "lower_998": np.asarray(result.lower_998) * scale,
                    "upper_998": np.asarray(result.upper_998) * scale,
                    "phi": result.phi,
                    "tau2": result.tau2,
                    "adjusted": result.adjusted,
                }
            )
        )
    if not out:
        columns = {"financial_year": "string", "indicator_code": "string",
                   "provider_code": "string", "adjusted": "bool"}  # fmt: skip
        frame = pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
        for c in ("target", "lower_95", "upper_95", "lower_998", "upper_998", "phi", "tau2"):
            frame[c] = pd.Series(dtype="float64")
        return frame
    return pd.concat(out, ignore_index=True)
