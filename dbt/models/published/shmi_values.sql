select
    s.publication,
    s.provider_code,
    coalesce(d.region_code, 'UNKNOWN') as region_code,
    cast(s.spells as integer) as spells,
    cast(s.observed as integer) as observed_deaths,
    s.expected as expected_deaths,
    s.shmi as value,
    s.lower_limit_95 as lower_95,
    s.upper_limit_95 as upper_95,
    s.banding
from {{ ref('fct_shmi') }} as s
left join {{ ref('dim_providers') }} as d on s.provider_code = d.provider_code
