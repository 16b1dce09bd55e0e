-- UKHSA mandatory surveillance counts, one row per organism, organisation, month and metric.
-- Each publication repeats the previous March (and may revise it, or list trusts that have
-- since merged), so a month published in two files is taken whole from the later
-- publication: the file whose data runs later wins for every organisation in that month.
with counts as (
    select * from {{ source('raw', 'hcai_counts') }}
),

files as (
    select source_file, max(month) as last_month
    from counts
    group by source_file
),

chosen as (
    select organism, month, source_file
    from (
        select distinct counts.organism, counts.month, counts.source_file, files.last_month
        from counts
        inner join files on counts.source_file = files.source_file
    )
    qualify row_number() over (
        partition by organism, month order by last_month desc, source_file desc
    ) = 1
)

select
    counts.organism,
    counts.organisation_type,
    case when counts.organisation_type = 'national' then 'ENG' else counts.organisation_code end
        as organisation_code,
    counts.organisation_name,
    cast(counts.month as date) as month,
    counts.metric,
    counts.figure as cases,
    counts.source_file,
    counts.row_number
from counts
inner join chosen
    on counts.organism = chosen.organism
    and counts.month = chosen.month
    and counts.source_file = chosen.source_file
