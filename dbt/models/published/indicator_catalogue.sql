select
    indicator_code,
    indicator_name,
    domain,
    unit,
    cast(higher_is_better as boolean) as higher_is_better,
    cast(core_indicator as boolean) as core_indicator,
    source,
    method,
    min_denominator,
    nullif(denominator_noun, '') as denominator_noun
from {{ ref('indicator_definitions') }}
