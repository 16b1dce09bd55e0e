-- National Joint Registry figures per provider and financial year, as fractions: compliance
-- (procedures submitted to the registry / procedures in HES), consent not recorded, and the
-- share of primary hips in patients over 70 with cemented or hybrid prostheses (blank where
-- the file does not give it). A publisher's own total row (ENG) is left out. Where two files
-- give the same provider and year (a re-issued extract), the row from the later file by name
-- is kept: NJR extracts are rolling and a later one supersedes an earlier.
select
    financial_year,
    organisation_code as provider_code,
    compliance,
    consent_not_recorded,
    cemented_over_70,
    source_file,
    row_number
from {{ source('raw', 'njr_compliance') }}
where organisation_code <> 'ENG'
qualify row_number() over (
    partition by financial_year, organisation_code
    order by source_file desc, row_number desc
) = 1
