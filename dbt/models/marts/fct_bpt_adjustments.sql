-- Best practice tariff income per financial year, provider and tariff, in pounds.
--   * Primary hip and knee (provider-year): if every criterion of the year is met, all
--     eligible spells are paid at the BPT price (base + top-up), else all at the base price.
--     compliant_spells is then every eligible spell, or none.
--   * Fragility hip fracture (spell): the top-up is paid for each spell meeting every
--     criterion; adjustment is the sum of the spells' top-ups (fct_bpt_hip_fracture_spells).
--     The base price depends on each spell's HRG, which the feed does not carry, so base and
--     BPT income are NULL.
-- adjustment = bpt_income - base_income = compliant spells x top-up; forgone = what meeting
-- every criterion would have added = (eligible - compliant spells) x top-up. Where PartLink
-- suppresses eligible spells (1 to 5) the spells and income are NULL.
with units as (
    select * from {{ ref('int_bpt__units') }}
),

criteria as (
    select * from {{ ref('fct_bpt_criteria') }}
),

judged as (
    select
        financial_year,
        provider_code,
        bpt_code,
        bool_and(met) as meets_all,
        count(*) as criteria_assessed,
        count(*) filter (where met) as criteria_met,
        string_agg(criterion_code, ', ' order by criterion_order) filter (where not met)
            as criteria_not_met
    from criteria
    group by all
),

spells as (
    select
        financial_year,
        provider_code,
        count(*) filter (where is_compliant) as compliant_spells,
        sum(top_up_earned) as top_up_earned,
        sum(top_up_forgone) as top_up_forgone
    from {{ ref('fct_bpt_hip_fracture_spells') }}
    group by all
),

combined as (
    select
        u.financial_year,
        u.provider_code,
        u.bpt_code,
        u.unit,
        u.eligible_spells,
        u.eligible_spells_suppressed,
        case
            when u.unit = 'spell' then s.compliant_spells
            when j.meets_all then u.eligible_spells
            when u.eligible_spells is not null then 0
        end as compliant_spells,
        u.base_price,
        u.top_up,
        j.meets_all,
        j.criteria_assessed,
        j.criteria_met,
        j.criteria_not_met,
        s.top_up_earned,
        s.top_up_forgone
    from units as u
    inner join judged as j
        on u.financial_year = j.financial_year
        and u.provider_code = j.provider_code
        and u.bpt_code = j.bpt_code
    left join spells as s
        on u.unit = 'spell'
        and u.financial_year = s.financial_year
        and u.provider_code = s.provider_code
)

select
    financial_year,
    provider_code,
    bpt_code,
    cast(eligible_spells as integer) as eligible_spells,
    eligible_spells_suppressed,
    cast(compliant_spells as integer) as compliant_spells,
    meets_all,
    cast(criteria_assessed as integer) as criteria_assessed,
    cast(criteria_met as integer) as criteria_met,
    criteria_not_met,
    base_price,
    cast(base_price + top_up as decimal(18, 2)) as bpt_price,
    top_up,
    cast(eligible_spells * base_price as decimal(18, 2)) as base_income,
    cast(eligible_spells * base_price + compliant_spells * top_up as decimal(18, 2))
        as bpt_income,
    cast(case when unit = 'spell' then top_up_earned else compliant_spells * top_up end
        as decimal(18, 2)) as adjustment,
    cast(case when unit = 'spell' then top_up_forgone
        else (eligible_spells - compliant_spells) * top_up end as decimal(18, 2)) as forgone
from combined
