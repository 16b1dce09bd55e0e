-- Providers' structured returns: one row per provider, financial year and item the return
-- gives a value for (a blank value is an item not yet answered, so it is left out). Item ids
-- are the seed provider_return_items' (a per-audit or per-quarter item carries its qualifier
-- after a dot, `audit_eligible.NHFD`, `deaths.Q1`); validation has already typed each value
-- by its item's kind. A later return for the same provider and year has superseded the
-- earlier one whole before validation.
select
    organisation_code as provider_code,
    financial_year,
    item,
    trim(value) as value,
    source_file,
    row_number
from {{ source('raw', 'provider_returns') }}
where nullif(trim(value), '') is not null
