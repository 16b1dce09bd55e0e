-- Infection counts per acute trust, financial year and organism, over years with all twelve
-- months published. C. difficile cases attributed to the trust are HOHA + COHA where the year
-- carries that split (from April 2019), else the trust-apportioned (hospital-onset) cases.
-- MRSA cases assigned to the trust are those UKHSA's post infection review assigned to it
-- (`trust_assigned`), where the publication carries the assignment.
with monthly as (
    select * from {{ ref('int_hcai__monthly_counts') }}
    where organisation_type = 'acute_trust'
),

by_metric as (
    select
        provider_code,
        financial_year,
        organism,
        metric,
        count(distinct month) as months,
        sum(cases) as cases
    from monthly
    group by all
),

pivoted as (
    select
        provider_code,
        financial_year,
        organism,
        max(cases) filter (where metric = 'total' and months = 12) as total_cases,
        max(cases) filter (where metric = 'hospital_onset' and months = 12) as hospital_onset,
        max(cases) filter (where metric = 'hoha' and months = 12) as hoha,
        max(cases) filter (where metric = 'coha' and months = 12) as coha,
        max(cases) filter (where metric = 'trust_assigned' and months = 12) as trust_assigned
    from by_metric
    group by all
)

select
    *,
    coalesce(hoha + coha, hospital_onset) as trust_attributed,
    case when hoha is not null and coha is not null then 'HOHA + COHA'
        when hospital_onset is not null then 'hospital onset (trust apportioned)'
    end as attribution
from pivoted
