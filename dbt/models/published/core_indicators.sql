select
    financial_year,
    provider_code,
    region_code,
    indicator_code,
    value,
    previous_value,
    national_value,
    highest_value,
    lowest_value,
    comparator_group,
    period_label
from {{ ref('fct_core_indicators') }}
