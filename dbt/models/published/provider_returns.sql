-- What each provider's board states in Part 2 of its Quality Account, as its return gives it:
-- one row per provider, financial year and item, with the file and line it came from.
select
    r.provider_code,
    coalesce(p.region_code, 'UNKNOWN') as region_code,
    r.financial_year,
    r.item,
    r.value,
    r.source_file,
    cast(r.row_number as bigint) as row_number
from {{ ref('stg_provider__returns') }} as r
left join {{ ref('providers') }} as p using (provider_code)
