-- Fragility hip fracture best practice tariff per spell: the waits in real hours, which of the
-- year's criteria the spell met, and the top-up it earned (every criterion met) or forwent.
-- The provider's adjustment in fct_bpt_adjustments is the sum of top_up_earned here.
with spells as (
    select * from {{ ref('stg_nhfd__hip_fracture_spells') }}
),

criteria as (
    select * from {{ ref('int_bpt__hip_fracture_spell_criteria') }}
),

units as (
    select * from {{ ref('int_bpt__units') }}
    where bpt_code = 'hip_fracture'
),

per_spell as (
    select
        financial_year,
        provider_code,
        spell_id,
        count(*) as criteria_assessed,
        count(*) filter (where outcome = 'met') as criteria_met,
        string_agg(criterion_code, ', ' order by criterion_order)
            filter (where outcome <> 'met') as criteria_not_met
    from criteria
    group by all
)

select
    s.financial_year,
    s.provider_code,
    s.spell_id,
    s.arrival_local,
    s.surgery_local,
    s.orthogeriatric_local,
    s.seconds_to_surgery / 3600.0 as hours_to_surgery,
    s.seconds_to_orthogeriatric_assessment / 3600.0 as hours_to_orthogeriatric_assessment,
    s.clock_change_note,
    cast(p.criteria_assessed as integer) as criteria_assessed,
    cast(p.criteria_met as integer) as criteria_met,
    p.criteria_not_met,
    p.criteria_met = p.criteria_assessed as is_compliant,
    u.top_up,
    cast(case when p.criteria_met = p.criteria_assessed then u.top_up else 0 end
        as decimal(18, 2)) as top_up_earned,
    cast(case when p.criteria_met = p.criteria_assessed then 0 else u.top_up end
        as decimal(18, 2)) as top_up_forgone,
    s.set_aside,
    s.source_file,
    s.row_number
from spells as s
inner join per_spell as p
    on s.financial_year = p.financial_year
    and s.provider_code = p.provider_code
    and s.spell_id = p.spell_id
inner join units as u
    on s.financial_year = u.financial_year and s.provider_code = u.provider_code
