-- Every objective a count is judged against: rules that hold for every provider (seed
-- indicator_objectives, `*` for any year or provider: MRSA and Never Events, zero) and the
-- trust objectives NHS England publishes each year (the hcai_objectives feed: C. difficile).
select indicator_code, financial_year, provider_code, objective, source
from {{ ref('indicator_objectives') }}
union all
select
    'cdi_count',
    financial_year,
    provider_code,
    cast(objective as double),
    'NHS England C. difficile objective (' || source_file || ')'
from {{ ref('stg_nhse__hcai_objectives') }}
where organism = 'c_difficile'
