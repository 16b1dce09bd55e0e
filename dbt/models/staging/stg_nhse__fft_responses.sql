-- Friends and Family Test answer counts per provider, setting and month, without the
-- publisher's own England rows. A month delivered in two files keeps the later file's figures
-- (file names sort by publication in NHS England's naming; the later-listed file wins).
select
    setting,
    organisation_code as provider_code,
    organisation_name as provider_name,
    parent_code as icb_code,
    cast(month as date) as month,
    financial_year,
    very_good,
    good,
    neither,
    poor,
    very_poor,
    dont_know,
    total_responses,
    total_eligible,
    set_aside,
    source_file,
    row_number
from {{ source('raw', 'fft_responses') }}
where organisation_code <> 'ENG'
qualify row_number() over (
    partition by setting, organisation_code, month order by source_file desc, row_number desc
) = 1
