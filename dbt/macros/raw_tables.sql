{#- Generated from dagster_project/feeds by `python -m dagster_project.feeds.dbt_sources`.
    Every raw table as (feed, table, organisation-code column). -#}
{% macro raw_tables() -%}
    {{ return([
        ("proms", "proms_records", "provider_code"),
        ("proms", "proms_participation", "provider_code"),
        ("organisations", "organisations", "organisation_code"),
        ("shmi", "shmi", "provider_code"),
        ("shmi", "shmi_contextual", "provider_code"),
        ("hcai", "hcai_counts", "organisation_code"),
        ("hcai_objectives", "hcai_objectives", "organisation_code"),
        ("kh03", "kh03_beds", "organisation_code"),
        ("fft", "fft_responses", "organisation_code"),
        ("inpatient_survey", "inpatient_survey", "organisation_code"),
        ("staff_survey", "staff_survey", "organisation_code"),
        ("incidents", "incidents", "organisation_code"),
        ("incident_clusters", "incident_clusters", "organisation_code"),
        ("vte", "vte_assessments", "organisation_code"),
        ("readmissions", "readmissions", "organisation_code"),
        ("njr", "njr_compliance", "organisation_code"),
        ("hip_fracture", "hip_fracture_spells", "organisation_code"),
        ("provider_returns", "provider_returns", "organisation_code"),
    ]) }}
{%- endmacro %}
