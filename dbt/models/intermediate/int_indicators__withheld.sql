-- The indicator figures disclosure control withholds, and why: the one gate every published
-- indicator figure passes.
--   PROMs: a group NHS Digital suppresses in PartLink (int_proms__disclosure) shows no figure.
--   Friends and Family Test year figures need no gate: they are built only from months whose
--   figures NHS England publishes (int_indicators__observations), so they reveal nothing
--   NHS England withholds.
with proms as (
    select d.financial_year, d.provider_code, c.indicator_code, d.reason
    from {{ ref('int_proms__disclosure') }} as d
    inner join {{ ref('indicator_definitions') }} as c
        on c.indicator_code like 'proms_' || d.joint || '_%'
    where d.subgroup = 'Primary'
)

select financial_year, provider_code, indicator_code, 'PROMs: ' || reason as reason
from proms
