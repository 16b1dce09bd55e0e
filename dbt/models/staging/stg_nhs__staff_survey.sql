-- NHS Staff Survey: % of staff happy with the standard of care for a friend or relative.
select
    organisation_code as provider_code,
    financial_year,
    survey_year,
    recommend_care as recommend_care_pct,
    source_file
from {{ source('raw', 'staff_survey') }}
qualify row_number() over (
    partition by organisation_code, survey_year order by source_file desc, row_number desc
) = 1
