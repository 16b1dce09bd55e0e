-- The indicator cells disclosure control withholds, and why: the one gate every published
-- indicator figure passes.
--   Friends and Family Test: a numerator built from a suppressed year cell of
--   int_fft__disclosure (positive: very good, good or the total; negative: poor, very poor
--   or the total; response rate: the total).
--   PROMs: a group NHS Digital suppresses in PartLink (int_proms__disclosure) shows no figure.
with fft_year_cells as (
    select financial_year, setting, provider_code, answer
    from {{ ref('int_fft__disclosure') }}
    where suppressed and month = 'ALL' and provider_code <> 'ALL'
),

fft as (
    select financial_year, provider_code, 'fft_' || setting || '_positive_pct' as indicator_code
    from fft_year_cells
    where answer in ('very_good', 'good', 'ALL')
    union
    select financial_year, provider_code, 'fft_' || setting || '_negative_pct'
    from fft_year_cells
    where answer in ('poor', 'very_poor', 'ALL')
    union
    select financial_year, provider_code, 'fft_' || setting || '_response_rate'
    from fft_year_cells
    where answer = 'ALL'
),

proms as (
    select d.financial_year, d.provider_code, c.indicator_code, d.reason
    from {{ ref('int_proms__disclosure') }} as d
    inner join {{ ref('indicator_definitions') }} as c
        on c.indicator_code like 'proms_' || d.joint || '_%'
    where d.subgroup = 'Primary'
)

select financial_year, provider_code, indicator_code,
    'Friends and Family Test count suppressed by NHS England''s disclosure control' as reason
from fft
union all
select financial_year, provider_code, indicator_code, 'PROMs: ' || reason
from proms
