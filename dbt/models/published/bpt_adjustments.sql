-- Best practice tariff income per financial year, provider and tariff, in pounds (method in
-- fct_bpt_adjustments and docs/bpt.md), with the tariff's name and the source of the year's
-- prices: a price the seed marks illustrative (not the year's published price) is flagged,
-- so every figure that uses it can say so.
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
    a.forgone,
    s.bpt as tariff,
    t.price_source,
    coalesce(t.price_source like 'illustrative%', true) as price_illustrative
from {{ ref('fct_bpt_adjustments') }} as a
left join {{ ref('dim_providers') }} as d on a.provider_code = d.provider_code
left join {{ ref('bpt_schemes') }} as s on a.bpt_code = s.bpt_code
left join {{ ref('bpt_tariffs') }} as t
    on a.financial_year = t.financial_year and a.bpt_code = t.bpt_code
