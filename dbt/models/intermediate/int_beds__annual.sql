-- Occupied general and acute bed days per provider and financial year: the sum of its KH03
-- quarters. A year counts as a denominator only when all four quarters are published.
select
    organisation_code as provider_code,
    {{ financial_year_of('period_start') }} as financial_year,
    count(distinct period_start) as quarters,
    sum(occupied_bed_days) as occupied_bed_days
from {{ ref('stg_nhse__kh03_beds') }}
where organisation_code <> 'ENG'
group by all
