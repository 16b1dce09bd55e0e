-- Every best practice tariff criterion per financial year, provider and tariff: threshold,
-- observed value, met or not, and the reason in words.
--   * Primary hip and knee: from int_bpt__joint_criteria (provider-level thresholds).
--   * Fragility hip fracture: each criterion must be met spell by spell, so observed is the
--     share of the provider's spells that met it, met means every spell did, threshold is
--     NULL (the hours are in the criterion's name), and the reason counts the spells that
--     did not, by why: "Surgery within 36 hours: 71.2% of 212 spells; 61 spells waited
--     longer". Percentages by the documents' one rule (macro percent_text: one decimal
--     place, half away from zero, and never 100.0% while a spell failed: 1,999 of 2,000
--     is 99.95%); the spells that failed are counted beside it.
with joint as (
    select * from {{ ref('int_bpt__joint_criteria') }}
),

spell_criteria as (
    select * from {{ ref('int_bpt__hip_fracture_spell_criteria') }}
),

outcomes as (
    select
        financial_year,
        provider_code,
        criterion_code,
        outcome,
        count(*) as spells
    from spell_criteria
    group by all
),

clauses as (
    select
        financial_year,
        provider_code,
        criterion_code,
        string_agg(
            format('{:,}', spells) || case when spells = 1 then ' spell ' else ' spells ' end
            || case
                when outcome = 'late' then 'waited longer'
                when outcome = 'before arrival' then 'had a time recorded before arrival'
                when outcome = 'not done' then case criterion_code
                    when 'joint_care' then 'not admitted under joint care'
                    when 'geriatrician_rehabilitation'
                        then 'without geriatrician-directed rehabilitation'
                    when 'falls_assessment' then 'without a falls assessment'
                    when 'bone_health_assessment' then 'without a bone health assessment'
                    when 'amts_pre_op' then 'without a test before surgery'
                    when 'amts_post_op' then 'without a test after surgery'
                end
                when outcome = 'not recorded' then case criterion_code
                    when 'surgery_within_36h' then 'had no surgery recorded'
                    when 'orthogeriatric_within_72h'
                        then 'had no orthogeriatric assessment recorded'
                    else 'not recorded'
                end
                when outcome = 'set aside' then 'set aside by validation (see quarantine)'
            end,
            '; '
            order by case outcome
                when 'late' then 1
                when 'before arrival' then 2
                when 'not done' then 3
                when 'not recorded' then 4
                else 5
            end
        ) as failures
    from outcomes
    where outcome <> 'met'
    group by all
),

hip_fracture as (
    select
        financial_year,
        provider_code,
        criterion_code,
        criterion_order,
        criterion,
        count(*) as spells,
        count(*) filter (where outcome = 'met') as met_spells
    from spell_criteria
    group by all
),

hip_fracture_rows as (
    select
        h.financial_year,
        h.provider_code,
        'hip_fracture' as bpt_code,
        h.criterion_code,
        h.criterion_order,
        h.criterion,
        cast(null as double) as threshold,
        h.met_spells / h.spells as observed,
        h.met_spells = h.spells as met,
        h.criterion || ': '
            || {{ percent_text('h.met_spells / h.spells', '1.0') }}
            || ' of ' || format('{:,}', h.spells)
            || case when h.spells = 1 then ' spell' else ' spells' end
            || coalesce('; ' || c.failures, '') as reason,
        cast(h.spells as integer) as spells_assessed,
        cast(h.met_spells as integer) as spells_met
    from hip_fracture as h
    left join clauses as c
        on h.financial_year = c.financial_year
        and h.provider_code = c.provider_code
        and h.criterion_code = c.criterion_code
)

select
    financial_year,
    provider_code,
    bpt_code,
    criterion_code,
    criterion_order,
    criterion,
    threshold,
    observed,
    met,
    reason,
    cast(null as integer) as spells_assessed,
    cast(null as integer) as spells_met
from joint
union all
select * from hip_fracture_rows
