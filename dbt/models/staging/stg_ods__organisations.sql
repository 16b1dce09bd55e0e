-- Organisations from ODS extracts; where a code appears in several extracts the
-- one listed last (by file name, then line) wins.
with ranked as (
    select
        *,
        row_number() over (
            partition by organisation_code order by source_file desc, row_number desc
        ) as recency
    from {{ source('raw', 'organisations') }}
)

select
    organisation_code,
    organisation_name,
    national_grouping,
    high_level_health_geography,
    postcode,
    strptime(open_date, '%Y%m%d')::date as open_date,
    strptime(close_date, '%Y%m%d')::date as close_date,
    source_file
from ranked
where recency = 1
