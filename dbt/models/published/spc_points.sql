-- Every point of every provider's SPC chart (Making Data Count), with the series' mean,
-- process limits and the special cause the point is part of, read as improvement or
-- concern by the direction that is better for the series.
select
    p.provider_code,
    coalesce(d.region_code, 'UNKNOWN') as region_code,
    p.series_code,
    p.financial_year,
    s.series_name,
    s.domain,
    s.unit,
    p.month,
    p.value,
    p.mean,
    p.lower_process_limit,
    p.upper_process_limit,
    p.special_cause,
    case
        when p.special_cause is null then null
        when p.special_cause_direction = 0 then 'common cause'
        when (p.special_cause_direction > 0) = s.higher_is_better then 'improvement'
        else 'concern'
    end as variation,
    s.target
from {{ ref('int_spc__points') }} as p
inner join {{ ref('spc_series') }} as s on p.series_code = s.series_code
left join {{ ref('dim_providers') }} as d on p.provider_code = d.provider_code
