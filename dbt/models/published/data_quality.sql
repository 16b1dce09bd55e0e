-- Rows received per feed, source file and provider, and rows quarantined by rule, from the
-- validation stage's own output: raw/ holds the rows that passed (with measures set aside
-- blanked), quarantine/ one entry per rule broken, naming the file, line and reason.
-- A row with rule NULL is the file's total for the provider; a row with a rule counts what
-- that rule caught. The provider code of a quarantined row is read from the record as
-- delivered, so a record whose code itself broke a rule has provider_code NULL.
{#- Every raw table, its feed and its organisation-code column: dagster_project/feeds. -#}
{% set feeds = raw_tables() %}

with valid as (
    {% for feed, table, code in feeds %}
    select
        '{{ feed }}' as feed,
        '{{ table }}' as source_table,
        source_file,
        sha256,
        nullif(trim(cast({{ code }} as varchar)), '') as provider_code,
        count(*) as valid_rows
    from {{ source('raw', table) }}
    group by all
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

entries as (
    {% for feed, table, code in feeds %}
    select
        '{{ feed }}' as feed,
        '{{ table }}' as source_table,
        source_file,
        sha256,
        nullif(trim(json_extract_string(record, '$.{{ code }}')), '') as provider_code,
        row_number,
        rule,
        reason,
        action = 'record quarantined' as whole_record
    from {{ quarantine_parquet(table) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

quarantined as (
    select
        feed, source_table, source_file, sha256, provider_code,
        count(distinct row_number) filter (where whole_record) as rows_quarantined,
        count(*) filter (where not whole_record) as measures_set_aside
    from entries
    group by all
),

files as (
    select
        feed, source_table, source_file, sha256, provider_code,
        coalesce(v.valid_rows, 0) + coalesce(q.rows_quarantined, 0) as rows_received,
        coalesce(q.rows_quarantined, 0) as rows_quarantined,
        coalesce(q.measures_set_aside, 0) as measures_set_aside
    from valid as v
    full outer join quarantined as q using (feed, source_table, source_file, sha256, provider_code)
),

by_rule as (
    select
        feed, source_table, source_file, sha256, provider_code, rule,
        min(reason) as reason,
        count(distinct row_number) filter (where whole_record) as rows_quarantined,
        count(*) filter (where not whole_record) as measures_set_aside
    from entries
    group by all
),

combined as (
    select
        feed, source_table, source_file, sha256, provider_code,
        cast(null as varchar) as rule, cast(null as varchar) as reason,
        rows_received, rows_quarantined, measures_set_aside
    from files
    union all
    select
        feed, source_table, source_file, sha256, provider_code, rule, reason,
        cast(null as bigint) as rows_received, rows_quarantined, measures_set_aside
    from by_rule
)

select
    c.feed,
    c.source_table,
    c.source_file,
    c.sha256,
    c.provider_code,
    coalesce(p.region_code, 'UNKNOWN') as region_code,
    c.rule,
    c.reason,
    cast(c.rows_received as bigint) as rows_received,
    cast(c.rows_quarantined as bigint) as rows_quarantined,
    cast(c.measures_set_aside as bigint) as measures_set_aside
from combined as c
left join {{ ref('providers') }} as p using (provider_code)
