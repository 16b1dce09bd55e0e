-- Lines of providers' returns that validation quarantined, with the file, line, rule and
-- reason, so each provider's Quality Account can list its own return's problems (and stay a
-- draft) while every other provider's is unaffected.
with entries as (
    select
        nullif(trim(json_extract_string(record, '$.organisation_code')), '') as provider_code,
        nullif(trim(json_extract_string(record, '$.financial_year')), '') as financial_year,
        nullif(trim(json_extract_string(record, '$.item')), '') as item,
        nullif(trim(json_extract_string(record, '$.value')), '') as value,
        source_file,
        cast(row_number as bigint) as row_number,
        rule,
        reason
    from {{ quarantine_parquet('provider_returns') }}
)

select
    e.provider_code,
    coalesce(p.region_code, 'UNKNOWN') as region_code,
    e.financial_year,
    e.item,
    e.value,
    e.source_file,
    e.row_number,
    e.rule,
    e.reason
from entries as e
left join {{ ref('providers') }} as p using (provider_code)
