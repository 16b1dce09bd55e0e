-- Each cell withheld from the publication and why.
--   fft_responses: suppressed by the pipeline as NHS England does, primary (a count of 1 to
--   4) or secondary (so a primary cell cannot be worked out from the totals beside it).
--   proms_provider_outcomes: a procedure group NHS Digital suppresses in PartLink
--   (`publisher`): every figure of the group, for every measure.
-- Figures built from these cells (indicator_values, core_indicators) are withheld with them.
select
    'fft_responses' as table_name,
    financial_year,
    setting,
    cast(null as varchar) as procedure,
    region_code,
    provider_code,
    month,
    answer,
    suppression,
    case suppression
        when 'primary' then 'count between 1 and 4'
        else 'protects a suppressed cell in the same total'
    end as reason
from {{ ref('int_fft__disclosure') }}
where suppressed
union all
select
    'proms_provider_outcomes',
    p.financial_year,
    null,
    case when p.subgroup = 'Total'
        then 'Total ' || upper(left(p.joint, 1)) || substr(p.joint, 2) || ' Replacement'
        else upper(left(p.joint, 1)) || substr(p.joint, 2) || ' Replacement ' || p.subgroup
    end,
    coalesce(d.region_code, 'UNKNOWN'),
    p.provider_code,
    null,
    null,
    'publisher',
    p.reason
from {{ ref('int_proms__disclosure') }} as p
left join {{ ref('dim_providers') }} as d on p.provider_code = d.provider_code
