-- Emergency readmissions within 28 days of discharge, per provider, year and age group.
select
    organisation_code as provider_code,
    financial_year,
    age_group,
    discharges,
    readmissions_28d,
    source_file
from {{ source('raw', 'readmissions') }}
qualify row_number() over (
    partition by organisation_code, financial_year, age_group
    order by source_file desc, row_number desc
) = 1
