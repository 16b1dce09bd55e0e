-- SHMI per publication and trust, with the palliative care coding rates (NHS Digital's
-- contextual indicators) of the same publication where delivered.
select
    s.publication,
    s.period_end_month as period_end,
    s.provider_code,
    coalesce(d.region_code, 'UNKNOWN') as region_code,
    cast(s.spells as integer) as spells,
    cast(s.observed as integer) as observed_deaths,
    s.expected as expected_deaths,
    s.shmi,
    s.lower_limit_95,
    s.upper_limit_95,
    s.banding,
    cast(s.trusts_in_model as integer) as trusts_in_model,
    s.tau2 as overdispersion_tau2,
    s.palliative_care_deaths_pct,
    s.palliative_care_spells_pct
from {{ ref('fct_shmi') }} as s
left join {{ ref('dim_providers') }} as d on s.provider_code = d.provider_code
