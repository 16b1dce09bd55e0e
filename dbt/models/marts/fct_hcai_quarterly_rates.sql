-- Bacteraemia and infection counts per organism, acute trust and quarter, with the rate of
-- hospital-onset cases per 100,000 occupied general and acute bed days (KH03). A quarter
-- counts only when all three of its months are published, and the onset split and the rate
-- only when all three months carry it (from the 2018-19 data-capture exports; a quarter
-- mixing an archive table's totals with an export's split has totals and no rate).
with counts as (
    select * from {{ ref('int_hcai__monthly_counts') }}
),

quarterly as (
    select
        organism,
        provider_code,
        date_trunc('quarter', month) as period_start,
        count(distinct month) filter (where metric = 'total') as months_published,
        count(distinct month) filter (where metric = 'hospital_onset') as onset_months,
        sum(cases) filter (where metric = 'total') as total_cases,
        sum(cases) filter (where metric = 'hospital_onset') as hospital_onset_cases,
        sum(cases) filter (where metric = 'community_onset') as community_onset_cases
    from counts
    group by all
),

beds as (
    select * from {{ ref('stg_nhse__kh03_beds') }}
)

select
    q.organism,
    q.provider_code,
    q.period_start,
    beds.quarter_label,
    case when month(q.period_start) >= 4
        then year(q.period_start) || '-' || lpad(cast((year(q.period_start) + 1) % 100 as varchar), 2, '0')
        else (year(q.period_start) - 1) || '-' || lpad(cast(year(q.period_start) % 100 as varchar), 2, '0')
    end as financial_year,
    cast(q.total_cases as integer) as total_cases,
    cast(case when q.onset_months = 3 then q.hospital_onset_cases end as integer)
        as hospital_onset_cases,
    cast(case when q.onset_months = 3 then q.community_onset_cases end as integer)
        as community_onset_cases,
    beds.occupied_bed_days,
    case when beds.occupied_bed_days > 0 and q.onset_months = 3
        then q.hospital_onset_cases / beds.occupied_bed_days * 100000
    end as hospital_onset_per_100000_bed_days
from quarterly as q
left join beds
    on q.provider_code = beds.organisation_code
    and q.period_start = beds.period_start
where q.months_published = 3
