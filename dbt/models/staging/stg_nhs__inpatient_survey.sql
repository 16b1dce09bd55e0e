-- National Inpatient Survey: responsiveness to inpatients' personal needs is the mean of the
-- five question scores (0-100). Survey year N is reported in financial year N to N+1.
select
    organisation_code as provider_code,
    financial_year,
    survey_year,
    q1,
    q2,
    q3,
    q4,
    q5,
    case when set_aside is null then (q1 + q2 + q3 + q4 + q5) / 5 end as responsiveness,
    source_file
from {{ source('raw', 'inpatient_survey') }}
qualify row_number() over (
    partition by organisation_code, survey_year order by source_file desc, row_number desc
) = 1
