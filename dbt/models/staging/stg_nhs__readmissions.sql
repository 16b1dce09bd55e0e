-- NHS Digital's emergency readmissions within 30 days of discharge (Compendium I02040), per
-- organisation (ENG for England, from the file's own England row), year and age band: the
-- indirectly standardised percentage and its 95% confidence interval, as published.
select
    organisation_code as provider_code,
    financial_year,
    age_group,
    indicator_value,
    lower_ci,
    upper_ci,
    numerator,
    denominator,
    source_file
from {{ source('raw', 'readmissions') }}
qualify row_number() over (
    partition by organisation_code, financial_year, age_group
    order by source_file desc, row_number desc
) = 1
