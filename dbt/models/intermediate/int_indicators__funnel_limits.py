"""Funnel limits per provider for every indicator compared on a funnel, as NHS-R FunnelPlotR
computes them, within the indicator's comparator (all providers, or the provider's NRLS
cluster for incident reporting): dagster_project.transform.funnels.compare. Parameters from
seed funnel_parameters; each indicator's method, minimum denominator and comparator from
seed indicator_definitions.
"""


def model(dbt, session):
    from dagster_project.transform import funnels

    dbt.config(materialized="table")
    # Each ref on its own line: dbt finds a Python model's refs by reading its source.
    observations = dbt.ref("int_indicators__observations").df()
    catalogue = dbt.ref("indicator_definitions").df()
    parameters = dbt.ref("funnel_parameters").df()
    clusters = dbt.ref("stg_nrls__clusters").df()
    values = dict(zip(parameters["parameter"], parameters["value"], strict=True))
    return funnels.compare(observations, catalogue, values, clusters)
