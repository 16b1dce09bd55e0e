-- Best practice tariff income per financial year, provider and tariff, in pounds (method in
-- fct_bpt_adjustments and docs/bpt.md).
select
    a.financial_year,
    a.provider_code,
    coalesce(d.region_code, 'UNKNOWN') as region_code,
    a.bpt_code,
    a.eligible_spells,
    a.compliant_spells,
    a.base_income,
    a.bpt_income,
    a.adjustment,
    a.forgone
from {{ ref('fct_bpt_adjustments') }} as a
left join {{ ref('dim_providers') }} as d on a.provider_code = d.provider_code
