-- Friends and Family Test results as NHS England publishes them: per setting and month,
-- each ICB (the sum of its trusts) and each trust, with NHS England's disclosure control:
-- a row with 1 to 4 responses is suppressed (primary), with the next-lowest row under the
-- same parent (secondary) and the two lowest trusts of a suppressed ICB (cascade). A
-- suppressed row's answer counts are NULL; its percentages only where it is primary; total
-- responses and eligible are always shown.
-- An ICB's region is its trusts' region where they all share one.
with rows as (
    select f.*, d.region_code as provider_region
    from {{ ref('int_fft__disclosure') }} as f
    left join {{ ref('dim_providers') }} as d
        on f.level = 'provider' and f.provider_code = d.provider_code
),

icb_regions as (
    select setting, month, icb_code, any_value(provider_region) as region_code
    from rows
    where level = 'provider'
    group by all
    having count(distinct coalesce(provider_region, 'UNKNOWN')) = 1
)

select
    r.financial_year,
    cast(r.month as date) as month,
    r.setting,
    r.level,
    r.icb_code,
    r.provider_code,
    coalesce(case r.level when 'icb' then i.region_code else r.provider_region end, 'UNKNOWN')
        as region_code,
    cast(r.total_responses as integer) as total_responses,
    cast(r.total_eligible as integer) as total_eligible,
    r.percentage_positive,
    r.percentage_negative,
    cast(r.published_very_good as integer) as very_good,
    cast(r.published_good as integer) as good,
    cast(r.published_neither as integer) as neither,
    cast(r.published_poor as integer) as poor,
    cast(r.published_very_poor as integer) as very_poor,
    cast(r.published_dont_know as integer) as dont_know,
    r.suppression
from rows as r
left join icb_regions as i
    on r.level = 'icb'
    and r.setting = i.setting
    and r.month = i.month
    and r.icb_code = i.icb_code
