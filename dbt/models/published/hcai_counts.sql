-- UKHSA publishes every count, small ones included, so these are not suppressed.
select
    c.month,
    c.provider_code,
    coalesce(d.region_code, 'UNKNOWN') as region_code,
    c.organism,
    c.metric,
    cast(sum(c.cases) as integer) as cases
from {{ ref('int_hcai__monthly_counts') }} as c
left join {{ ref('dim_providers') }} as d on c.provider_code = d.provider_code
where c.organisation_type = 'acute_trust'
group by all
