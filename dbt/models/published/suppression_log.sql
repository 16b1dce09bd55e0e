-- Each row or cell withheld from the publication and why.
--   fft_responses: a row suppressed as NHS England does: primary (1 to 4 responses),
--   secondary (the next-lowest under the same parent) or cascade (one of the two lowest
--   trusts of a suppressed ICB); its answer counts, and for primary its percentages.
--   proms_provider_outcomes: a procedure group NHS Digital suppresses in PartLink
--   (`publisher`): every figure of the group, for every measure.
-- Figures built from these (indicator_values, core_indicators) are withheld with them.
select
    'fft_responses' as table_name,
    financial_year,
    setting,
    cast(null as varchar) as procedure,
    region_code,
    provider_code,
    month,
    suppression,
    case suppression
        when 'primary' then '1 to 4 responses'
        when 'secondary' then 'the next-lowest row under the same parent as a suppressed row'
        else 'one of the two lowest trusts of a suppressed ICB'
    end as reason
from {{ ref('fft_responses') }}
where suppression is not null
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
    'publisher',
    p.reason
from {{ ref('int_proms__disclosure') }} as p
left join {{ ref('dim_providers') }} as d on p.provider_code = d.provider_code
