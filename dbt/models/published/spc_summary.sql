-- One line per provider and SPC series, as boards read an integrated performance report:
-- the latest month's value, the variation icon (special cause improving or concerning at
-- the latest point, else common cause) and, where the series has a target, the assurance
-- icon (the target outside the process limits on the good side: consistently passes; on
-- the bad side: consistently fails; between them: hit and miss).
with latest as (
    select *
    from {{ ref('spc_points') }}
    qualify row_number() over (
        partition by provider_code, series_code, financial_year order by month desc
    ) = 1
),

spans as (
    select provider_code, series_code, financial_year, min(month) as first_month, count(*) as points
    from {{ ref('spc_points') }}
    group by all
)

select
    l.provider_code,
    l.region_code,
    l.series_code,
    l.financial_year,
    l.series_name,
    l.domain,
    l.unit,
    s.higher_is_better,
    sp.first_month,
    l.month as latest_month,
    cast(sp.points as integer) as points,
    l.value as latest_value,
    l.mean,
    l.lower_process_limit,
    l.upper_process_limit,
    s.target,
    s.target_source,
    coalesce(l.variation, 'too few points') as variation,
    case
        when s.target is null then 'no target'
        when l.lower_process_limit is null then 'too few points'
        when s.higher_is_better and l.lower_process_limit >= s.target then 'consistently passes'
        when s.higher_is_better and l.upper_process_limit < s.target then 'consistently fails'
        when not s.higher_is_better and l.upper_process_limit <= s.target
            then 'consistently passes'
        when not s.higher_is_better and l.lower_process_limit > s.target
            then 'consistently fails'
        else 'hit and miss'
    end as assurance
from latest as l
inner join spans as sp using (provider_code, series_code, financial_year)
inner join {{ ref('spc_series') }} as s on l.series_code = s.series_code
