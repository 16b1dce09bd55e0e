-- NHS England's infection objectives: the most cases attributed to a trust that a year
-- allows, per organism (C. difficile: HOHA + COHA from 2019-20).
select
    organisation_code as provider_code,
    financial_year,
    organism,
    objective,
    source_file
from {{ source('raw', 'hcai_objectives') }}
