-- UKHSA counts per acute trust (and England), month, organism and metric, in the project's
-- codes (given at ingest from seeds hcai_organisms and hcai_metrics). Two published metrics
-- with one code (a metric renamed between years) are summed.
select
    month,
    organisation_code as provider_code,
    organisation_type,
    organism,
    metric,
    {{ financial_year_of('month') }} as financial_year,
    sum(cases) as cases
from {{ ref('stg_ukhsa__hcai_counts') }}
where organisation_type in ('acute_trust', 'national')
group by all
