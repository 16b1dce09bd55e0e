-- Best practice tariffs per financial year, NHS England region and tariff: the sums of the
-- region's providers in bpt_adjustments, and England (region ENG) as the sum of every
-- provider. Providers whose eligible spells PartLink suppresses count as providers but add
-- no spells or pounds.
with adjustments as (
    select a.*, coalesce(d.region_code, 'UNKNOWN') as region_code
    from {{ ref('fct_bpt_adjustments') }} as a
    left join {{ ref('dim_providers') }} as d on a.provider_code = d.provider_code
),

regions as (
    select
        financial_year,
        region_code,
        bpt_code,
        count(*) as providers,
        count(*) filter (where meets_all) as providers_meeting_all,
        sum(eligible_spells) as eligible_spells,
        sum(adjustment) as adjustment,
        sum(forgone) as forgone
    from adjustments
    group by all
    union all
    select
        financial_year,
        'ENG',
        bpt_code,
        count(*),
        count(*) filter (where meets_all),
        sum(eligible_spells),
        sum(adjustment),
        sum(forgone)
    from adjustments
    group by all
)

select
    financial_year,
    region_code,
    bpt_code,
    cast(providers as integer) as providers,
    cast(providers_meeting_all as integer) as providers_meeting_all,
    cast(eligible_spells as integer) as eligible_spells,
    cast(adjustment as decimal(18, 2)) as adjustment,
    cast(forgone as decimal(18, 2)) as forgone
from regions
