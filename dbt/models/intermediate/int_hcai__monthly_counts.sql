-- UKHSA counts per acute trust (and England), month, organism and metric in the published
-- vocabulary: organisms and metrics mapped through seeds hcai_organisms and hcai_metrics.
-- A metric no seed row names is kept as `unknown`, never dropped.
select
    counts.month,
    counts.organisation_code as provider_code,
    counts.organisation_type,
    organisms.organism,
    coalesce(metrics.metric, 'unknown') as metric,
    counts.metric as source_metric,
    {{ financial_year_of('counts.month') }} as financial_year,
    sum(counts.cases) as cases
from {{ ref('stg_ukhsa__hcai_counts') }} as counts
inner join {{ ref('hcai_organisms') }} as organisms on counts.organism = organisms.organism_name
left join {{ ref('hcai_metrics') }} as metrics on counts.metric = metrics.source_metric
where counts.organisation_type in ('acute_trust', 'national')
group by all
