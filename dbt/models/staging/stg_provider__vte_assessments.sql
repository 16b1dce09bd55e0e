-- VTE risk assessment per provider and quarter (`2024-25 Q1`: the financial year is its first
-- seven characters). A quarter delivered twice keeps the later file's figures.
select
    organisation_code as provider_code,
    quarter,
    left(quarter, 7) as financial_year,
    admitted,
    risk_assessed,
    source_file
from {{ source('raw', 'vte_assessments') }}
qualify row_number() over (
    partition by organisation_code, quarter order by source_file desc, row_number desc
) = 1
