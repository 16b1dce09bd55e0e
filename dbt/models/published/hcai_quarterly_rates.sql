-- Infection counts per acute trust, organism and quarter with the hospital-onset rate per
-- 100,000 occupied bed days (UKHSA counts, NHS England KH03 beds: both published in full,
-- so nothing here is suppressed).
select
    r.organism,
    r.provider_code,
    coalesce(d.region_code, case when r.provider_code = 'ENG' then 'ENG' end, 'UNKNOWN')
        as region_code,
    cast(r.period_start as date) as period_start,
    r.quarter_label,
    r.financial_year,
    r.total_cases,
    r.hospital_onset_cases,
    r.community_onset_cases,
    r.occupied_bed_days,
    r.hospital_onset_per_100000_bed_days
from {{ ref('fct_hcai_quarterly_rates') }} as r
left join {{ ref('dim_providers') }} as d on r.provider_code = d.provider_code
