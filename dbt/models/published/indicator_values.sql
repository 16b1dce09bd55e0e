-- Indicator values as they may be published: a figure disclosure control withholds
-- (int_indicators__withheld: FFT counts NHS England suppresses, PROMs groups NHS Digital
-- suppresses) is NULL with everything that would reveal it (counts, value, limits); the
-- comparison, a category, stays.
with values as (
    select * from {{ ref('fct_indicator_values') }}
),

withheld as (
    select * from {{ ref('int_indicators__withheld') }}
)

select
    v.financial_year,
    v.provider_code,
    coalesce(d.region_code, 'UNKNOWN') as region_code,
    v.indicator_code,
    case when w.indicator_code is null then v.numerator end as numerator,
    case when w.indicator_code is null then v.denominator end as denominator,
    case when w.indicator_code is null then v.value end as value,
    v.national_value,
    case when w.indicator_code is null then v.lower_95 end as lower_95,
    case when w.indicator_code is null then v.upper_95 end as upper_95,
    case when w.indicator_code is null then v.lower_998 end as lower_998,
    case when w.indicator_code is null then v.upper_998 end as upper_998,
    v.comparison,
    v.comparator,
    case when w.indicator_code is null then v.comparator_value end as comparator_value,
    v.objective,
    v.note,
    w.reason as withheld
from values as v
left join withheld as w
    on v.financial_year = w.financial_year
    and v.provider_code = w.provider_code
    and v.indicator_code = w.indicator_code
left join {{ ref('dim_providers') }} as d on v.provider_code = d.provider_code
