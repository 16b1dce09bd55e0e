-- Every best practice tariff criterion per financial year, provider and tariff, with the
-- reason in words (method in fct_bpt_criteria and docs/bpt.md).
select
    c.financial_year,
    c.provider_code,
    coalesce(d.region_code, 'UNKNOWN') as region_code,
    c.bpt_code,
    c.criterion_code,
    c.criterion,
    c.threshold,
    c.observed,
    c.met,
    c.reason
from {{ ref('fct_bpt_criteria') }} as c
left join {{ ref('dim_providers') }} as d on c.provider_code = d.provider_code
